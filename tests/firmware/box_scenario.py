"""A whole box in MicroPython on fakes: the controller (fake UART slave serving a register
image made by the Pi's profile encoder), the ADXL345 model with a rope-like signal, the
in-memory broker. Used by the box tests and by benchmarks/firmware.py.

`prepare(flash, readings)` writes config.json, profile.json and regs.json as the build would;
`SCRIPT` builds the box on the board side and defines `run(seconds)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent import config
from agent.firmware_build import board_config, compact_profile
from drivers.controller.profile import load_profile

CRUISE = {"speed_mps": 1.6, "rated_speed_mps": 1.75, "dc_bus_v": 540.0, "current_a": 12.5,
          "output_hz": 30.0, "floor": 3, "load_pct": 30.0, "mode": "automatic",
          "car_state": "running", "safety_circuit_ok": True, "hall_door_lock_ok": True,
          "car_door_lock_ok": True, "door_zone_up": False, "door_zone_down": False,
          "fault_code": 0, "heatsink_c": 41.0}


def board_cfg(**firmware: Any) -> dict[str, Any]:
    cfg = config.from_dict({
        "device": {"site": "s1", "lift": "L1"},
        "controller": {"baudrate": 115200, "parity": "N", "poll_period_s": 0.2},
        "mqtt": {"tls": False, "port": 1883},
        "firmware": {"wifi_ssid": "bench", "fft_n": 1024, "accel_odr_hz": 1600,
                     "frames_per_segment": 8, "telemetry_s": 5.0, **firmware},
    })
    return board_config(cfg)


def prepare(flash: Path, readings: dict[str, Any] | None = None, **firmware: Any) -> None:
    flash.mkdir(parents=True, exist_ok=True)
    p = load_profile("nice3000plus")
    (flash / "config.json").write_text(json.dumps(board_cfg(**firmware)))
    prof = compact_profile(p, 1)
    (flash / "faults.json").write_text(json.dumps(prof.pop("faults")))  # as the build does
    prof["faults_file"] = "faults.json"
    (flash / "profile.json").write_text(json.dumps(prof))
    regs = p.encode(readings or CRUISE)
    (flash / "regs.json").write_text(json.dumps({str(a): v for a, v in regs.items()}))


SCRIPT = """
import gc, json, math, machine, struct
from array import array
from fake_clock import FakeClock
from adxl345_model import ADXL345Model
from memory_broker import MemoryBroker
from lg.adxl345 import ADXL345
from lg.alarms import AlarmBook
from lg.box import Box
from lg.mic import Microphone
from lg.modbus_rtu import RtuMaster, with_crc
from lg.outbox import Outbox
from lg.registers import check_profile
from lg.settings import check_config, load_json
from lg.uplink import Uplink

cfg = check_config(load_json('config.json'))
profile = check_profile(load_json('profile.json'))
regs = {int(k): v for k, v in load_json('regs.json').items()}
clock = FakeClock()
uart = machine.UART(1, baudrate=cfg['controller']['baud'], bits=8, parity=None, stop=1)
uart.turnaround_us = 2000


def slave(req):
    if controller_silent:
        return None
    addr, n = req[2] << 8 | req[3], req[4] << 8 | req[5]
    body = bytearray((req[0], 3, 2 * n))
    for a in range(addr, addr + n):
        v = regs.get(a, 0)
        body.append(v >> 8)
        body.append(v & 255)
    return with_crc(bytes(body))


controller_silent = False
uart.attach(clock, slave)
c = cfg['controller']
master = RtuMaster(uart, machine.Pin(c['de_pin']), clock, c['baud'], c['bits_per_char'],
                   c['timeout_ms'], c['retries'])
ODR = cfg['accel']['odr_hz']
# vibration in raw counts at 3.9 mg/LSB: 1 g on z, +/-4 counts of hashed noise, and an
# optional strand-like line
STRAND_HZ = STRAND_AMP = 0


def signal(i):
    noise = ((i % 65536) * 40503 >> 7) % 9 - 4
    line = int(STRAND_AMP * math.sin(2 * math.pi * STRAND_HZ * i / ODR)) if STRAND_AMP else 0
    return noise, -noise, 256 + noise + line


model = ADXL345Model(signal)
spi = machine.SPI(2)
spi.device = model
accel = ADXL345(spi, machine.Pin(cfg['accel']['cs']), ODR, cfg['accel']['range_g'])
broker = MemoryBroker()
outbox = Outbox('outbox', cfg['outbox']['max_messages'])
m = cfg['mqtt']
uplink = Uplink(outbox, broker.transport, clock, cfg['device']['site'], cfg['device']['lift'],
                m['client_id'], m['keepalive_s'], m['backoff_min_s'], m['backoff_max_s'],
                m['inflight'])
alarms = AlarmBook(outbox, clock)
# the microphone hears a steady 1 kHz tone at 84 dB SPL (-36 dBFS at -26 dBFS sensitivity)
i2s = machine.I2S(0)
i2s.loop = True
_amp = 8388607 * 10 ** (-36 / 20)  # peak of a -36 dBFS sine (0 dBFS: full-scale sine)
i2s.source = b''.join(struct.pack('<i', int(_amp * math.sin(
    2 * math.pi * 1000 * i / cfg['mic']['rate_hz'])) << 8) for i in range(cfg['accel']['fft_n']))
del _amp
mic = Microphone(i2s, cfg['accel']['fft_n'], cfg['mic']['sensitivity_dbfs'], cfg['mic']['rate_hz'])
box = Box(cfg, profile, master, outbox, uplink, alarms, clock, accel, mic, None, None,
          machine.WDT(timeout=cfg['wdt_timeout_ms']), use_ulab=USE_ULAB)


def run(seconds, step_ms=10, each=None):
    end = clock.us + int(seconds * 1e6)
    while clock.us < end:
        clock.advance_ms(step_ms)
        model.produce(clock.us * ODR // 1000000 - model.t)
        box.step()
        if each is not None:
            each()
"""
