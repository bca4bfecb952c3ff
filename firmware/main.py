"""Boot entry of the liftguard ESP32 box: load and check the files, build the parts, loop.

A file that fails validation stops the box with its message on the console (and the watchdog
is not started, so a technician at the REPL is not reset away); a fault inside the loop
resets the board through the watchdog, and the outbox on flash carries the alarms across.
"""

import gc
import random

from lg import board, settings
from lg.adxl345 import ADXL345
from lg.alarms import AlarmBook
from lg.baseline import Baseline
from lg.box import Box
from lg.clock import SystemClock
from lg.commands import Counters, Verifier, key_id, parse_public_line
from lg.mic import Microphone
from lg.modbus_rtu import RtuMaster
from lg.outbox import Flash, Outbox
from lg.registers import check_profile
from lg.uplink import Uplink


def _read(path: str):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def start():
    cfg = settings.check_config(settings.load_json("config.json"))
    profile = check_profile(settings.load_json("profile.json"))
    base = _read("baseline.json")
    baseline = Baseline(settings.load_json("baseline.json")) if base is not None else None
    clock = SystemClock()
    wdt = board.watchdog(cfg["wdt_timeout_ms"])
    board.wifi(cfg["wifi"]["ssid"], (_read("wifi.key") or b"").decode(), wdt)
    board.sync_time()
    c = cfg["controller"]
    uart, de = board.rs485(c)
    master = RtuMaster(uart, de, clock, c["baud"], c["bits_per_char"], c["timeout_ms"],
                       c["retries"], c.get("echo", False))
    spi, cs = board.accel_bus(cfg["accel"])
    accel = ADXL345(spi, cs, cfg["accel"]["odr_hz"], cfg["accel"]["range_g"])
    i2s = board.mic_bus(cfg["mic"])
    mic = (Microphone(i2s, cfg["accel"]["fft_n"], cfg["mic"]["sensitivity_dbfs"],
                      cfg["mic"]["rate_hz"]) if i2s else None)
    outbox = Outbox("outbox", cfg["outbox"]["max_messages"])
    m = cfg["mqtt"]
    ca, cert, key = _read("ca.der"), _read("cert.der"), _read("key.der")

    def transport():
        return board.TlsStream(m["host"], m["port"], m["tls"], ca, cert, key)

    uplink = Uplink(outbox, transport, clock, cfg["device"]["site"], cfg["device"]["lift"],
                    m["client_id"], m["keepalive_s"], m["backoff_min_s"], m["backoff_max_s"],
                    m["inflight"], rand=random.random)
    keys = [parse_public_line(line) for line in cfg["commands"]["trusted_keys"]]
    # No trusted keys: every command is answered `unknown_key`, as the Pi answers it.
    verifier = Verifier(cfg["device"]["site"] + "/" + cfg["device"]["lift"],
                        {key_id(k): k for k in keys}, Counters("counters.json", Flash()),
                        cfg["commands"]["max_bytes"], cfg["commands"]["max_ttl_s"])
    alarms = AlarmBook(outbox, clock, cfg["alarms"]["resend_interval_s"])
    box = Box(cfg, profile, master, outbox, uplink, alarms, clock, accel, mic, baseline,
              verifier, wdt)
    while True:
        box.step()
        gc.collect()  # bounded pauses every turn instead of one long one at a bad moment


start()
