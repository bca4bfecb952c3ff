"""End to end under CPython: the firmware's modules read the virtual elevator over a pty and
publish to a real mosquitto (TLS, client certificate, per-device ACL); an injected trapped
passenger becomes an alarm that validates against the same schema as the Pi agent's."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.firmware.box_scenario import board_cfg
from tests.firmware.cpython_port import PySerialUart, TlsStream
from tests.firmware.mpy import FIRMWARE, ROOT
from tests.firmware.pi_kinds import pi_telemetry_kinds

sys.path.insert(0, str(FIRMWARE))
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from lg.alarms import AlarmBook  # noqa: E402
from lg.box import Box  # noqa: E402
from lg.clock import SystemClock  # noqa: E402
from lg.commands import Counters, Verifier, key_id, parse_public_line  # noqa: E402
from lg.modbus_rtu import RtuMaster  # noqa: E402
from lg.outbox import Flash, Outbox  # noqa: E402
from lg.settings import check_config  # noqa: E402
from lg.uplink import Uplink  # noqa: E402

from agent.commands.signing import public_line, sign  # noqa: E402
from agent.firmware_build import compact_profile  # noqa: E402
from drivers.controller.profile import load_profile  # noqa: E402

OPERATOR_KEY = Ed25519PrivateKey.generate()


def _inject(control: str, fault: str) -> None:
    subprocess.run([sys.executable, "-m", "agent.cli", "sim", "inject", "--control", control,
                    fault], check=True, cwd=ROOT, capture_output=True, timeout=30)


@pytest.fixture
def board(tmp_path, tls_broker, start_sim, monkeypatch):
    sim = start_sim(baud=19200)
    cfg = board_cfg()
    cfg["controller"].update(baud=19200, bits_per_char=10, poll_s=0.2, timeout_ms=300)
    # short raise timers: the sim's trapped car is held for seconds, not the field's 15-20 s
    cfg["events"].update(trapped_at_floor_s=1.0, trapped_between_floors_s=1.0)
    cfg["mqtt"].update(host=tls_broker.host, port=tls_broker.port, tls=True,
                       backoff_min_s=0.1, backoff_max_s=1.0)
    check_config(cfg)
    monkeypatch.chdir(tmp_path)
    ident = tls_broker.pki.clients["s1.L1"]
    clock = SystemClock()
    uart = PySerialUart(sim.endpoints.link, 19200)
    master = RtuMaster(uart, None, clock, 19200, 10, 300, 1)
    outbox = Outbox(str(tmp_path / "outbox"), 200)
    uplink = Uplink(outbox, lambda: TlsStream(tls_broker.host, tls_broker.port,
                                              tls_broker.pki.ca_cert, ident.cert, ident.key),
                    clock, "s1", "L1", "liftguard-s1-L1", 30, 0.1, 1.0, 10)
    pub = parse_public_line(public_line(OPERATOR_KEY.public_key()))
    verifier = Verifier("s1/L1", {key_id(pub): pub}, Counters("counters.json", Flash()))
    box = Box(cfg, compact_profile(load_profile("nice3000plus"), 1), master, outbox, uplink,
              AlarmBook(outbox, clock), clock, verifier=verifier)
    try:
        yield box, sim
    finally:
        uplink.close()
        uart.close()


def _run_until(box, sub, predicate, timeout=60.0) -> bool:
    deadline = time.monotonic() + timeout  # a safety net: the loop ends on the predicate
    while time.monotonic() < deadline:
        box.step()
        if predicate(sub.on("alarm")):
            return True
        time.sleep(0.01)
    return False


def test_injected_trapped_passenger_becomes_a_schema_valid_alarm_at_the_broker(
        board, subscriber_for, tls_broker):
    box, sim = board
    sub = subscriber_for(tls_broker)
    # the box polls, connects and publishes its retained online state first
    assert _run_until(box, sub, lambda _: any(
        s.get("state") == "online" for s in sub.on("state")), 30)
    assert box.stats["polls"] > 0 and box.stats["poll_errors"] < box.stats["polls"]
    _inject(sim.endpoints.control, "trapped=at_floor")
    assert _run_until(box, sub, lambda alarms: any(
        a["kind"].startswith("trapped") and a["state"] == "raised" for a in alarms))
    alarm = next(a for a in sub.on("alarm") if a["kind"].startswith("trapped"))
    assert alarm["severity"] == "critical" and alarm["source"] == "controller"
    assert sub.invalid == []  # every message validated against agent/schemas
    # delivered means acknowledged: the outbox empties once the broker's PUBACKs are read
    assert _run_until(box, sub, lambda _: len(box.outbox) == 0, 10)


def test_the_board_publishes_the_pis_telemetry_kinds_that_its_sensors_allow(
        board, subscriber_for, tls_broker):
    box, _ = board
    sub = subscriber_for(tls_broker)
    box.telemetry_us = 1000000  # the controller readings each second instead of each 5 s

    def kinds(_):
        return {t["kind"] for t in sub.on("telemetry")}

    # this board has no accelerometer or microphone: no segments, so no `wear` messages,
    # and its `state` says so the way the Pi's does for a missing sensor (part "off")
    want = pi_telemetry_kinds() - {"wear"}
    assert _run_until(box, sub, lambda _: kinds(_) >= want and len(sub.on("telemetry")) >= 5,
                      30), kinds(None)
    assert kinds(None) == want
    state = next(t["values"] for t in sub.on("telemetry") if t["kind"] == "state")
    assert state["accel"] == state["audio"] == "off" and state["baseline"] == "learning"
    controller = next(t["values"] for t in sub.on("telemetry") if t["kind"] == "controller")
    assert isinstance(controller["speed_mps"], float) and "floor" in controller
    beat = next(t["values"] for t in sub.on("telemetry") if t["kind"] == "heartbeat")
    assert beat["protocol"] == "mqtt-3.1.1" and beat["connects"] >= 1
    assert sub.invalid == []  # every message validated against agent/schemas


def test_alarm_written_while_the_broker_is_down_arrives_after_it_returns(
        board, subscriber_for, tls_broker):
    box, sim = board
    sub = subscriber_for(tls_broker)
    assert _run_until(box, sub, lambda _: box.uplink.connected, 30)
    tls_broker.kill()
    _inject(sim.endpoints.control, "trapped=at_floor")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
            k[0].startswith("trapped") for k in box.alarms.active):
        box.step()
        time.sleep(0.01)
    assert len(box.outbox) >= 1  # the alarm is on flash while nothing can be sent
    tls_broker.restart()
    sub2 = subscriber_for(tls_broker)
    assert _run_until(box, sub2, lambda alarms: any(
        a["kind"].startswith("trapped") for a in alarms), 60)
    assert sub2.invalid == []


def test_a_signed_ack_from_the_operators_tooling_stops_the_re_sends(
        board, subscriber_for, tls_broker):
    box, sim = board
    box.alarms.resend_s = 1.0  # EN 81-28 repeats in minutes; seconds here
    sub = subscriber_for(tls_broker)
    assert _run_until(box, sub, lambda _: box.uplink.connected, 30)
    _inject(sim.endpoints.control, "trapped=at_floor")

    def copies(alarms):
        return [a for a in alarms if a["kind"].startswith("trapped") and a["state"] == "raised"]

    assert _run_until(box, sub, lambda alarms: len(copies(alarms)) >= 3)
    first = copies(sub.on("alarm"))
    assert len({a["id"] for a in first}) == 1 and [a["resend"] for a in first[:3]] == [0, 1, 2]
    now = time.time()
    cmd = sign(OPERATOR_KEY, device="s1/L1", command="alarm.ack",
               args={"alarm_id": first[0]["alarm_id"]}, counter=1, expires=now + 600, now=now)
    assert sub.publish("liftguard/v1/s1/L1/cmd", json.dumps(cmd).encode()) == 0

    def acked(alarms):
        return any(a["state"] == "acknowledged" for a in alarms)

    def answered(alarms):  # the answer is its own message, maybe in a later publication
        return acked(alarms) and any(r["cmd_id"] == cmd["id"] for r in sub.on("cmd/result"))

    assert _run_until(box, sub, answered, 30)
    (res,) = [r for r in sub.on("cmd/result") if r["cmd_id"] == cmd["id"]]
    assert (res["status"], res["result"]) == ("ok", {"alarm_id": first[0]["alarm_id"],
                                                     "acked": True})
    seen = len(sub.on("alarm"))
    end = time.monotonic() + 4.0  # four re-send intervals: none may come
    while time.monotonic() < end:
        box.step()
        time.sleep(0.01)
    later = sub.on("alarm")[seen:]
    assert [a for a in later if a["alarm_id"] == first[0]["alarm_id"]] == []
    assert box.alarms.get(first[0]["kind"], "controller")["acked"] is True
    assert sub.invalid == []
