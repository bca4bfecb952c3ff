"""A session recording (controller CSV + accel and sound WAVs on its clock) replayed through
the whole agent gives the findings `liftguard analyze` gives for the same files, for every
detector kind (issue 6 acceptance).

`liftguard sim record --session` writes the worn session (rope wear injected); the baseline is
learned by `liftguard baseline learn` from the session itself (short form) or from a healthy
run of the same lift (full form); analyze runs too, all as subprocesses. The agent runs
in-process with [controller], [accel] and [noise] all `backend = "replay"` on the session,
unpaced (one row per 2 ms, the sensors in step on the trace's clock), until every trip is
scored.

Both cut the trips with the same WearStage (agent/runtime/offline_session.py), so the figures
are the same floats: the agent's are compared with the in-process session run exactly, and
with analyze's printed JSON to its rounding (2 decimals for scores, evidence as printed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent import config
from agent.runtime.agent import Agent
from agent.runtime.offline_session import run_session
from tests.runtime.replay_run import run_to_end
from tests.support.mosquitto import free_port

LIFTGUARD = str(Path(sys.executable).with_name("liftguard"))
SCORE_TOLERANCE = 0.005 + 1e-9  # analyze prints scores rounded to 2 decimals
SESSION_FILES = ("controller.csv", "session_accel.wav", "session_audio.wav")


def liftguard(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([LIFTGUARD, *args], capture_output=True, text=True, timeout=300,
                          check=False)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def record_session(out: Path, duration: str, *inject: str) -> list[str]:
    args = [a for name in inject for a in ("--inject", name)]
    liftguard("sim", "record", "-o", str(out), "--duration", duration, "--seed", "5",
              "--session", *args)
    return [str(out / f) for f in SESSION_FILES]


def analyze(files: list[str], baseline: Path | None) -> dict[str, dict[str, Any]]:
    """analyze --json of the session's files: every finding by kind."""
    extra = ["--baseline", str(baseline)] if baseline is not None else []
    out = liftguard("analyze", "--json", *extra, *files).stdout
    objects = [json.loads(line) for line in out.splitlines()]
    assert [o["file"] for o in objects] == list(SESSION_FILES)
    return {f["kind"]: f for o in objects for f in o["findings"]}


@pytest.fixture(scope="module")
def short_session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A minute and a half of the worn lift, its baseline learned from itself by `baseline
    learn` of the session files: every kind is scored (near 0: the lift does not change)."""
    root = tmp_path_factory.mktemp("short_session")
    files = record_session(root / "worn", "90", "rope_wear=0.6")
    baseline = root / "baseline.json"
    liftguard("baseline", "learn", "-o", str(baseline), "--min-count", "2", *files)
    return {"files": files, "baseline": baseline, "analyzed": analyze(files, baseline)}


@pytest.fixture(scope="module")
def worn_session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two minutes of the worn lift against a baseline learned from a healthy run."""
    root = tmp_path_factory.mktemp("worn_session")
    healthy = root / "healthy"
    liftguard("sim", "record", "-o", str(healthy), "--duration", "200", "--seed", "1")
    baseline = root / "baseline.json"
    liftguard("baseline", "learn", "-o", str(baseline), "--min-count", "3",
              *map(str, sorted(healthy.glob("trip*.wav"))), str(healthy / "controller.csv"))
    files = record_session(root / "worn", "120", "rope_wear=0.6")
    return {"files": files, "baseline": baseline, "analyzed": analyze(files, baseline)}


def session_agent(root: Path, files: list[str], baseline: Path | None) -> Agent:
    trace, accel, audio = files
    replay = {"backend": "replay", "replay_realtime": False}
    cfg = config.from_dict({
        "device": {"site": "bench", "lift": "L1"},
        "controller": {**replay, "replay_file": trace, "poll_period_s": 0.002},
        "accel": {**replay, "replay_file": accel}, "noise": {**replay, "replay_file": audio},
        "gpio": {"backend": "sim"},
        "detectors": {"baseline": str(baseline or root / "baseline.json"),
                      "state": str(root / "agent_state.json")},
        "runtime": {"baseline_trips": 0},  # without a baseline file: wait for one, as analyze
        "mqtt": {"tls": False, "port": free_port()},  # nobody listens: alarms wait in the outbox
        "storage": {"outbox_path": str(root / "outbox.db"), "counter_path": str(root / "c.json"),
                    "trail_path": str(root / "trail.jsonl")},
    }, base_dir=root)
    return Agent(cfg)


def assert_agent_finds_what_analyze_finds(session: dict[str, Any], root: Path) -> None:
    from agent.detectors.baseline import Baseline

    trace, accel, audio = session["files"]
    baseline = Baseline.load(session["baseline"]) if session["baseline"] else None
    offline = run_session(trace, [accel, audio], baseline)
    assert offline.trips >= 3 and offline.skipped == 0
    agent = session_agent(root, session["files"], session["baseline"])
    run_to_end(agent, offline.trips)
    assert agent.wear.trips == agent.wear.absorbed == offline.trips
    assert agent.wear.skipped == 0
    assert agent.wear.last == offline.last  # the same floats, evidence included
    assert set(agent.wear.last) == set(session["analyzed"])
    for kind, want in session["analyzed"].items():
        got = agent.wear.last[kind]
        assert (got.severity != "normal", got.severity) == (want["alarm"], want["severity"])
        assert got.score == pytest.approx(want["score"], abs=SCORE_TOLERANCE)
        assert json.loads(json.dumps(got.evidence)) == want["evidence"]


ALL_KINDS = {"rope_wear", "sheave_wear", "bearing_wear", "inverter_wear", "ride_quality",
             "noise_level"}


def test_replayed_session_cuts_the_trips_analyze_cuts(short_session, tmp_path):
    assert set(short_session["analyzed"]) == ALL_KINDS
    assert_agent_finds_what_analyze_finds(short_session, tmp_path)


# The full form records ~5 simulated minutes (over a minute here): marked slow and run when
# asked (LIFTGUARD_SOAK=1), as the other long forms.
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("LIFTGUARD_SOAK"), reason="full form: LIFTGUARD_SOAK=1")
def test_replayed_session_gives_every_finding_analyze_gives(worn_session, tmp_path):
    found = worn_session["analyzed"]
    # the wear kinds the sensors score, the controller's, and both limit judgements
    assert set(found) == ALL_KINDS
    assert found["rope_wear"]["alarm"]  # the injected wear is found: not a trivial match
    assert_agent_finds_what_analyze_finds(worn_session, tmp_path)
