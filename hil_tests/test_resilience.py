"""Outages: the broker restarts, the agent is killed with SIGKILL. Nothing is lost."""

from __future__ import annotations

import time

from hil_tests.bench import Bench, SimulatedBench

OUTAGE_S = 5.0


def test_alarm_raised_while_the_broker_is_down_arrives_after_it_restarts(
        quiet_bench: Bench) -> None:
    bench = quiet_bench
    bench.require("broker_process", "controller_faults")
    assert isinstance(bench, SimulatedBench)
    mark = bench.mark()
    bench.broker.stop()
    bench.sim.inject(trapped="at_floor")
    bench.sim.call(5)
    # The outage lasts OUTAGE_S: longer than the rule's timer (the alarm is raised while the
    # broker is away) and than [runtime] broker_grace_s (the uplink is reported degraded).
    time.sleep(OUTAGE_S)
    bench.broker.start()
    raised = bench.wait_alarm("trapped_at_floor", "raised", timeout=60, after=mark)
    assert raised is not None, bench.agent_log()
    assert bench.platform.wait_for(
        lambda: [b for _, c, b in bench.platform.messages[mark:] if c == "event"
                 and b["kind"] == "health" and b["detail"]["part"] == "uplink"], 30)
    bench.sim.clear("trapped")
    assert bench.wait_alarm("trapped_at_floor", "cleared", timeout=60, after=mark)


def test_agent_killed_with_sigkill_restarts_and_ends_the_alarm_it_left_behind(
        quiet_bench: Bench) -> None:
    bench = quiet_bench
    bench.require("agent_process", "controller_faults")
    assert isinstance(bench, SimulatedBench)
    mark = bench.mark()
    bench.sim.inject(trapped="at_floor")
    bench.sim.call(4)
    raised = bench.wait_alarm("trapped_at_floor", "raised", timeout=60, after=mark)
    assert raised is not None
    bench.agent.kill()
    # the broker publishes the agent's last will
    assert bench.platform.wait_for(lambda: bench.platform.on(
        "state", state="offline", reason="connection_lost"), 60)
    bench.sim.clear("trapped")  # the passenger is freed while the agent is dead
    restarted = bench.mark()
    bench.restart_agent()
    assert bench.platform.wait_for(lambda: [
        b for _, c, b in bench.platform.messages[restarted:]
        if c == "state" and b["state"] == "online"], 30)
    cleared = bench.wait_alarm("trapped_at_floor", "cleared", timeout=60, after=mark)
    assert cleared is not None and cleared["alarm_id"] == raised["alarm_id"]
    new_ids = {b["alarm_id"] for b in bench.alarms("trapped_at_floor", "raised")
               if b["alarm_id"] != raised["alarm_id"]}
    assert not [i for i in new_ids if i not in _ids_before(bench, mark)]


def _ids_before(bench: Bench, mark: int) -> set[str]:
    return {b["alarm_id"] for _, c, b in bench.platform.messages[:mark] if c == "alarm"}
