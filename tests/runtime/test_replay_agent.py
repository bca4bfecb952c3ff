"""A recorded session replayed through the whole agent finds what `liftguard analyze` finds in
the same file (issue 6 acceptance).

The session is written by `liftguard sim record` (the stepping model, rope wear and an ageing
DC-link capacitor injected), the baseline by `liftguard baseline learn` from healthy sessions
of the same lift, and the reference by `liftguard analyze --json`, all as real subprocesses.
The agent runs in-process on `[controller] backend = "replay"` with the session's
controller.csv, unpaced (one row per 5 ms), until the trace is over and every trip is scored.

The file both read in full is the controller trace: analyze segments its trips, scores each
against the baseline and follows the trend (WearTracker) to a final inverter_wear finding;
the agent segments the same rows as they arrive and does the same per trip. The per-trip
WAVs of `sim record` hold only the constant-speed phase of one trip with no start time, so
they cannot be placed on a controller trace for the agent to cut again; they are analysed by
analyze alone (tests/drivers/test_replay_analyze.py). A session recording (`sim record
--session`: whole-run WAVs on the trace's clock) can: tests/runtime/test_replay_session.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent import config
from agent.runtime.agent import Agent
from tests.runtime.replay_run import run_to_end
from tests.support.mosquitto import free_port

# Scores are printed by analyze rounded to 2 decimals; the agent's are kept at full precision.
# Both compute the same floats from the same rows, so the only difference allowed is that
# rounding (half a unit in the last printed place), plus float summation order.
SCORE_TOLERANCE = 0.005 + 1e-9
LIFTGUARD = str(Path(sys.executable).with_name("liftguard"))


def liftguard(*args: str) -> str:
    done = subprocess.run([LIFTGUARD, *args], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("replay_agent")
    healthy = []
    for seed, duration in ((1, "240"), (2, "240")):
        out = root / f"healthy{seed}"
        liftguard("sim", "record", "-o", str(out), "--duration", duration, "--seed", str(seed))
        healthy += [str(p) for p in sorted(out.glob("trip*.wav"))] + [str(out / "controller.csv")]
    baseline = root / "baseline.json"
    liftguard("baseline", "learn", "-o", str(baseline), "--min-count", "3", *healthy)
    worn = root / "worn"
    liftguard("sim", "record", "-o", str(worn), "--duration", "240", "--seed", "5",
              "--inject", "rope_wear=0.6", "--inject", "capacitor_ageing=0.8")
    trace = worn / "controller.csv"
    analyzed = json.loads(liftguard("analyze", "--baseline", str(baseline), "--json",
                                    str(trace)))
    return {"root": root, "baseline": baseline, "trace": trace, "analyzed": analyzed}


def replay_agent(root: Path, trace: str, baseline: Path) -> Agent:
    """The agent on the recorded trace; `root` is this agent's own folder (state, outbox)."""
    cfg = config.from_dict({
        "device": {"site": "bench", "lift": "L1"},
        "controller": {"backend": "replay", "replay_file": trace,
                       "replay_realtime": False, "poll_period_s": 0.005},
        "accel": {"backend": "none"}, "noise": {"backend": "none"},
        "gpio": {"backend": "sim"},
        "detectors": {"baseline": str(baseline), "state": str(root / "agent_state.json")},
        # nothing listens there: alarms wait in the outbox, which is all this test needs
        "mqtt": {"tls": False, "port": free_port()},
        "storage": {"outbox_path": str(root / "outbox.db"),
                    "counter_path": str(root / "c.json"),
                    "trail_path": str(root / "trail.jsonl")},
    }, base_dir=root)
    return Agent(cfg)


def test_replayed_trace_gives_the_inverter_finding_analyze_gives(session, tmp_path):
    analyzed = session["analyzed"]["findings"]
    assert [f["kind"] for f in analyzed] == ["inverter_wear"]
    want = analyzed[0]
    trips = want["evidence"]["trips"]
    assert trips >= 5  # enough trips for the trend to mean something
    agent = replay_agent(tmp_path, str(session["trace"]), session["baseline"])
    run_to_end(agent, trips)
    assert agent.wear.trips == trips
    assert set(agent.wear.last) == {f["kind"] for f in analyzed}
    got = agent.wear.last["inverter_wear"]
    assert (got.kind, got.severity != "normal", got.severity) == \
        (want["kind"], want["alarm"], want["severity"])
    assert got.score == pytest.approx(want["score"], abs=SCORE_TOLERANCE)
    assert got.evidence["drifting"] == want["evidence"]["drifting"]



def test_replay_backend_without_a_file_is_a_one_line_config_error(tmp_path):
    from agent.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^controller\.replay_file is required"):
        replay_agent(tmp_path, "", tmp_path / "no_baseline.json")


@pytest.mark.parametrize(("realtime", "period_s", "out_by"), [
    (True, 0.2, 0.01 + 1e-9),  # paced: each row at most one look (10 ms) after its trace time
    (False, 0.005, None),  # unpaced: one row per poll period, whatever the trace times
])
def test_replay_poller_hands_out_rows_paced_by_trace_time_or_one_per_period(
        realtime, period_s, out_by):
    from agent.runtime.parts import ReplayPoller
    from drivers.replay.controller_csv import ControllerReplay, parse_controller_csv
    from tests.support.clock import FakeClock

    clock = FakeClock()
    trace = parse_controller_csv("t,speed_mps\n10.0,0\n10.5,0.3\n11.7,1.0\n", "mem.csv")
    poller = ReplayPoller(ControllerReplay(trace, clock, realtime=realtime), period_s, realtime)
    poller.sleep = clock.advance
    start = clock()
    got = []
    for sample in poller.samples():
        got.append((round(sample.t - start, 6), clock() - start))
        if len(got) == 3:
            break
    assert [t for t, _ in got] == [0.0, 0.5, 1.7]
    if out_by is not None:
        assert all(t <= handed < t + out_by for t, handed in got)
    else:
        assert [round(h, 6) for _, h in got] == [0.0, 0.005, 0.01]
    assert poller.polls == 3


def test_a_stopped_controller_part_ends_its_thread_after_the_trace_is_over():
    """A replay whose trace is over yields nothing more; stopping its part must still end
    the thread (it spun a core at 100 % for the rest of the process before: its sleeps on the
    set stop event returned at once and it never got back to the stop check)."""
    import time as _time

    from agent.runtime.parts import ControllerPart, ReplayPoller
    from agent.runtime.queues import DropOldestQueue
    from drivers.replay.controller_csv import ControllerReplay, parse_controller_csv

    trace = parse_controller_csv("t,speed_mps\n0.0,0\n0.1,0.2\n", "mem.csv")
    poller = ReplayPoller(ControllerReplay(trace, _time.monotonic, realtime=False), 0.001, False)
    part = ControllerPart(poller, DropOldestQueue(16), _time.monotonic)
    part.start()
    deadline = _time.monotonic() + 10
    while not poller.replay.finished and _time.monotonic() < deadline:
        _time.sleep(0.01)
    assert poller.replay.finished
    part.stop(timeout=5)
    assert not part.alive
