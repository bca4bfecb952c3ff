"""The agent assembled from a config: watchdog gating, rule alarms left by a crash, and the
shipped example config."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from agent import config
from agent.runtime.agent import Agent
from tests.support.clock import FakeClock
from tests.support.mosquitto import free_port

ROOT = Path(__file__).resolve().parents[2]


def agent_for(tmp_path: Path, clock: FakeClock) -> Agent:
    cfg = config.from_dict({
        "device": {"site": "t", "lift": "L1"},
        "controller": {"port": "loop://", "parity": "N"},
        "accel": {"backend": "none"}, "noise": {"backend": "none"},
        "gpio": {"backend": "sim"},
        # nothing listens there: the uplink is never started in these tests anyway
        "mqtt": {"tls": False, "port": free_port()},
        "storage": {"outbox_path": str(tmp_path / "outbox.db"),
                    "counter_path": str(tmp_path / "c.json"),
                    "trail_path": str(tmp_path / "trail.jsonl")},
        "events": {"trapped_at_floor_s": 2.0, "stopped_outside_door_zone_s": 3.0,
                   "door_timeout_s": 4.0, "trapped_between_floors_s": 2.0, "clear_s": 0.5},
        "runtime": {"watchdog_stall_s": 5.0},
    }, base_dir=tmp_path)
    return Agent(cfg, clock=clock)


def test_watchdog_is_fed_only_while_every_part_makes_progress(tmp_path):
    clock = FakeClock()
    agent = agent_for(tmp_path, clock)
    try:
        now = clock()
        agent.loop_progress = agent.controller.progress = agent.analysis.progress = now
        assert agent.making_progress(now + 4.9)
        agent.loop_progress = now + 10  # the loop runs, but the poller is stuck in a bus call
        assert not agent.making_progress(now + 10)
    finally:
        agent.close()


def test_rule_alarm_left_by_a_crash_is_cleared_once_its_rule_had_time_to_raise_it(tmp_path):
    clock = FakeClock()
    first = agent_for(tmp_path, clock)
    alarm = first.pipeline.alarms.raise_("trapped_at_floor", "controller", "critical", {})
    first.close()  # as after kill -9: the alarm is on disk, active
    clock.advance(60)
    again = agent_for(tmp_path, clock)
    try:
        assert again.restored == {("trapped_at_floor", "controller")}
        again.step(clock())  # before every rule's longest timer: kept
        assert [a.alarm_id for a in again.pipeline.alarms.active()] == [alarm.alarm_id]
        clock.advance(4.0 + 0.5 + 1.0)  # door_timeout_s + clear_s + margin
        again.step(clock())
        assert again.pipeline.alarms.active() == []
    finally:
        again.close()


def test_example_config_in_deploy_is_valid(tmp_path):
    data = tomllib.loads((ROOT / "deploy" / "liftguard.toml").read_text())
    # the secrets it names live on the box; stand-ins with the right permissions here
    for key in ("ca_file", "cert_file", "key_file"):
        p = tmp_path / key
        p.write_text("x")
        p.chmod(0o600)
        data["mqtt"][key] = str(p)
    (tmp_path / "trusted").write_text("")
    data["commands"]["trusted_keys"] = str(tmp_path / "trusted")
    cfg = config.from_dict(data, base_dir=tmp_path)
    assert cfg["controller"]["port"] == "/dev/ttyAMA0"
    assert cfg["controller"]["direction"] == "kernel"


@pytest.mark.parametrize("key", ["Type=notify", "WatchdogSec=", "User=liftguard",
                                 "NoNewPrivileges=true", "ProtectSystem=strict",
                                 "SupplementaryGroups=dialout gpio spi"])
def test_unit_file_has(key):
    assert key in (ROOT / "deploy" / "liftguard.service").read_text()


def test_long_press_of_the_maintenance_button_opens_and_closes_a_visit(tmp_path):
    clock = FakeClock()
    agent = agent_for(tmp_path, clock)
    try:
        assert agent.gpio is not None
        pins = agent.gpio.factory
        for _visit_edge in ("check_in", "check_out"):
            pins.drive(5, False)  # to ground with the pull-up: pressed reads low
            for _ in range(40):  # 4 s held, polled at 10 Hz
                clock.advance(0.1)
                agent.step(clock())
            pins.drive(5, True)  # released
            for _ in range(3):
                clock.advance(0.1)
                agent.step(clock())
        trail = (tmp_path / "trail.jsonl").read_text().splitlines()
        assert [('"check_in"' in t, '"check_out"' in t) for t in trail] == [
            (True, False), (False, True)]
        assert not agent.pipeline.maintenance.active
    finally:
        agent.close()


def test_led_shows_an_active_alarm_then_maintenance(tmp_path):
    clock = FakeClock()
    agent = agent_for(tmp_path, clock)
    try:
        assert agent.gpio is not None and agent.gpio.led is not None
        agent.check_health(clock())
        assert agent.gpio.led.pattern == "degraded"  # no poller thread runs in this test
        agent.pipeline.alarms.raise_("overspeed", "controller:1", "warning", {})
        agent.check_health(clock())
        assert agent.gpio.led.pattern == "alarm"
        agent.pipeline.maintenance.start("li.wei", via="test")
        agent.check_health(clock())
        assert agent.gpio.led.pattern == "maintenance"
    finally:
        agent.close()
