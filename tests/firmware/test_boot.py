"""main.py boots from a built image in real MicroPython: every file loads and validates, the
parts are built by board.py on the fake machine module, the loop runs and feeds the watchdog,
and with the controller silent and the broker unreachable the comm_lost alarm waits on flash."""

from __future__ import annotations

import json
import shutil

from agent.cli import main as cli
from tests.firmware.mpy import result

BOOT = """
import json, machine, os
from adxl345_model import ADXL345Model
import socket, network
machine.SPI.default_device = ADXL345Model()
machine.WDT.stop_after = STOP
try:
    import main
except machine.Stop:
    pass
from lg.outbox import Outbox
ob = Outbox('outbox')
alarms = [json.loads(ob.get(n)[1]) for n in ob.pending() if ob.get(n)[0] == 'alarm']
print(json.dumps({'feeds': machine.WDT.last.feeds, 'wifi': network.WLAN.joined,
                  'broker_attempts': len(socket.attempts),
                  'alarms': [[a['kind'], a['state']] for a in alarms]}))
"""


def _image(tmp_path, test_pki):
    ident = test_pki.clients["s1.L1"]
    pw = tmp_path / "wifi.pw"
    pw.write_text("s3cret")
    pw.chmod(0o600)
    cfg = tmp_path / "box.toml"
    cfg.write_text(f"""
[device]
site = "s1"
lift = "L1"
[controller]
timeout_s = 0.01
retries = 1
poll_period_s = 0.02
[mqtt]
host = "127.0.0.1"
ca_file = "{test_pki.ca_cert}"
cert_file = "{ident.cert}"
key_file = "{ident.key}"
backoff_min_s = 0.05
[firmware]
wifi_ssid = "machine-room"
wifi_password_file = "{pw}"
""")
    out = tmp_path / "image"
    assert cli(["firmware", "build", "--config", str(cfg), "-o", str(out), "--board", "none"]) == 0
    flash = tmp_path / "flash"
    shutil.copytree(out, flash, ignore=shutil.ignore_patterns("lib", "main.py"))
    return flash


def test_main_boots_runs_and_keeps_the_alarm_on_flash_while_offline(tmp_path, test_pki):
    flash = _image(tmp_path, test_pki)
    got = result("STOP = 60\n" + BOOT, flash=flash)
    assert got["feeds"] == 60
    assert got["wifi"] == ["machine-room", "s3cret"]
    assert got["broker_attempts"] >= 2  # it retried, with backoff, and never gave up
    assert ["comm_lost", "raised"] in got["alarms"]


def test_a_bad_config_stops_the_boot_with_the_key_named_before_the_watchdog_starts(
        tmp_path, test_pki):
    flash = _image(tmp_path, test_pki)
    cfg = json.loads((flash / "config.json").read_text())
    cfg["controller"]["baud"] = "fast"
    (flash / "config.json").write_text(json.dumps(cfg))
    got = result("""
import json, machine
try:
    import main
except Exception as exc:
    print(json.dumps([type(exc).__name__, str(exc), machine.WDT.last is None]))
""", flash=flash)
    assert got == ["SettingsError", "config.json: controller.baud = 'fast' has the wrong type",
                   True]
