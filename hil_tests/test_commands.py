"""Signed commands from the platform: bounds on thresholds, and a technician's visit."""

from __future__ import annotations

from typing import Any

from hil_tests.bench import Bench


def result_of(bench: Bench, cmd_id: str) -> dict[str, Any] | None:
    hits = bench.platform.wait_for(lambda: bench.platform.on("cmd/result", cmd_id=cmd_id), 30)
    return hits[0] if hits else None


def snapshot(bench: Bench) -> dict[str, Any]:
    res = result_of(bench, bench.platform.command("diag.snapshot", {}))
    assert res is not None and res["status"] == "ok", res
    return dict(res["result"])


def test_out_of_bounds_threshold_is_rejected_and_the_last_good_value_kept(
        quiet_bench: Bench) -> None:
    bench = quiet_bench
    bench.require("commands")
    good = result_of(bench, bench.platform.command(
        "detector.set_threshold", {"detector": "wear", "name": "warning_score", "value": 6.0}))
    assert good is not None and good["status"] == "ok", good
    bad = result_of(bench, bench.platform.command(
        "detector.set_threshold", {"detector": "wear", "name": "warning_score", "value": 1e6}))
    assert bad is not None and bad["status"] in ("rejected", "failed"), bad
    assert "1000000" in bad["detail"] or "bound" in bad["detail"] or bad["reason"], bad
    snap = snapshot(bench)
    assert snap["thresholds"]["wear.warning_score"]["value"] == 6.0
    assert snap["detectors"]["warning_score"] == 6.0  # what the detectors actually use
    restore = result_of(bench, bench.platform.command(
        "detector.set_threshold", {"detector": "wear", "name": "warning_score", "value": 5.0}))
    assert restore is not None and restore["status"] == "ok"


def test_maintenance_visit_is_checked_in_records_the_remote_reset_and_checks_out(
        quiet_bench: Bench) -> None:
    bench = quiet_bench
    bench.require("commands", "controller_faults")
    mark = bench.mark()
    start = result_of(bench, bench.platform.command("maintenance.start",
                                                    {"technician": "li.wei"}))
    assert start is not None and start["status"] == "ok", start
    assert bench.platform.wait_for(lambda: [
        b for _, c, b in bench.platform.messages[mark:] if c == "telemetry"
        and b["kind"] == "state" and b["values"].get("maintenance") is True], 30)
    bench.sim.inject(trapped="at_floor")
    bench.sim.call(6)
    raised = bench.wait_alarm("trapped_at_floor", "raised", timeout=60, after=mark)
    assert raised is not None
    reset = result_of(bench, bench.platform.command("alarm.clear",
                                                    {"alarm_id": raised["alarm_id"]}))
    assert reset is not None and reset["status"] == "ok", reset
    bench.sim.clear("trapped")
    end = result_of(bench, bench.platform.command("maintenance.end", {"work_done": "freed"}))
    assert end is not None and end["status"] == "ok", end
    def trail() -> list[dict[str, Any]]:
        return [b["detail"] for _, c, b in bench.platform.messages[mark:]
                if c == "event" and b["kind"] == "maintenance"]

    assert bench.platform.wait_for(
        lambda: [t for t in trail() if t.get("kind") == "check_out"], 30), trail()
    trail_seen = trail()
    kinds = [t.get("kind") for t in trail_seen]
    assert kinds[0] == "check_in" and "alarm_cleared" in kinds and kinds[-1] == "check_out"
    cleared = [t for t in trail_seen if t.get("kind") == "alarm_cleared"][0]
    assert cleared["detail"]["alarm_id"] == raised["alarm_id"]
