"""Detector severity on the board against the Pi's: the EWMA + hysteresis latch
(agent/detectors/tracker.py, severity.py) and the noise_level finding with its confirmation
(scoring.noise_finding, runtime/wear.py), on the same sequences, the board in real MicroPython."""

from __future__ import annotations

import json
import math
import random
from types import SimpleNamespace

import pytest

from agent.config_schema import SCHEMA as CONFIG_SCHEMA
from agent.detectors.scoring import NoiseLimits, noise_finding
from agent.detectors.settings import settings_from_section
from agent.detectors.tracker import WearTracker
from agent.runtime.wear import WearStage
from tests.firmware.box_scenario import SCRIPT, prepare
from tests.firmware.mpy import result

DEFAULTS = {k: v.default for k, v in CONFIG_SCHEMA["detectors"].items()}


def _sequences() -> list[list[float]]:
    rng = random.Random(10)
    ramp = [0.5 * i for i in range(30)] + [15 - 0.5 * i for i in range(31)]
    walk, x = [], 2.0
    for _ in range(150):
        x = max(0.0, x + rng.gauss(0, 1.5))
        walk.append(round(x, 3))
    near = [5.2, 4.9, 5.1, 3.4, 3.3, 5.0, 3.0, 3.0, 3.0, 3.0, 3.4, 9.9, 10.1, 6.9, 7.1, 6.0,
            6.0, 6.0, 6.0, 6.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    return [ramp, walk, near]


def _pi(section: dict, seq: list[float]) -> list[list]:
    th = settings_from_section(section).thresholds
    tr = WearTracker(th, alpha=section["trend_alpha"])
    out = []
    for i, s in enumerate(seq):
        st = tr.update("rope_wear", float(i), s)
        out.append([st.severity, st.level, st.drifting])
    return out


@pytest.mark.parametrize("board_d", [
    # the board's config carries only the scores (agent/firmware_build.py): the rest are
    # the Pi's schema defaults on both sides
    {"warning_score": 5.0, "critical_score": 10.0},
    {"warning_score": 3.0, "critical_score": 6.0, "release": 0.5, "clear_count": 2,
     "trend_alpha": 0.5},
], ids=["defaults", "configured"])
def test_board_severity_latch_follows_the_pis_tracker(board_d):
    seqs = _sequences()
    got = result(f"""
import json
from lg.severity import Tracker
out = []
for seq in {seqs!r}:
    tr = Tracker({board_d!r})
    out.append([list(tr.update('rope_wear', s)) for s in seq])
print(json.dumps(out))
""")
    section = {**DEFAULTS, **board_d}
    for seq, board in zip(seqs, got, strict=True):
        pi = _pi(section, seq)
        assert [b[0] for b in board] == [p[0] for p in pi]
        assert [b[2] for b in board] == [p[2] for p in pi]
        assert [b[1] for b in board] == pytest.approx([p[1] for p in pi], rel=1e-9)
    # the sequences do reach every level and come back: the hysteresis is exercised
    severities = {p[0] for seq in seqs for p in _pi(section, seq)}
    assert severities == {"normal", "warning", "critical"}
    assert _pi(section, seqs[0])[-1][0] == "normal"


def test_board_noise_level_follows_the_pis_finding_and_confirmation():
    rng = random.Random(3)
    cases = [(round(rng.uniform(70.0, 90.0), 2), rng.random() < 0.8) for _ in range(120)]
    cases += [(85.0, True)] * 4 + [(60.0, True)] * 4  # a clear raise and a clear release
    limits = {"noise_running_dba": 78.0, "noise_rest_dba": 72.0}
    got = result(f"""
import json
from lg.severity import NoiseJudge
j = NoiseJudge({limits!r})
print(json.dumps([list(j.update(l, m)) for l, m in {cases!r}]))
""")
    stage = SimpleNamespace(_limit_runs={})  # WearStage._confirmed's only state
    nl = NoiseLimits(limits["noise_running_dba"], limits["noise_rest_dba"])
    for (laeq, moving), (sev, score, ev) in zip(cases, got, strict=True):
        f = noise_finding(laeq, moving, nl)
        assert sev == WearStage._confirmed(stage, f.kind, f.alarm)  # type: ignore[arg-type]
        assert score == pytest.approx(f.score, rel=1e-9)
        # MicroPython's round() scales by ten and may go the other way at a half: 0.1 dB
        assert ev.pop("laeq_dba") == pytest.approx(f.evidence["laeq_dba"], abs=0.1 + 1e-9)
        assert ev == {k: v for k, v in f.evidence.items() if k != "laeq_dba"}
    assert {g[0] for g in got} == {"normal", "warning"}
    assert got[-1][0] == "normal" and got[-5][0] == "warning"


def test_a_wear_alarm_escalates_and_clears_as_the_pis_severity_does(tmp_path):
    # the real Baseline on the board with one rope feature whose score is (x - 0) / scale
    n, mad = 10**9, 1 / 1.4826
    scale = max(1.4826 * mad, 0.0, 1e-12) * math.sqrt(1 + math.pi / 2 / n)
    base = {"schema": "liftguard.baseline/1", "speed_bin_mps": 0.1, "min_count": 5,
            "features": {"rope.strand_prom": {"spec": ["rope_wear", 0.0, False, False],
                                              "bins": {"16": [n, 0.0, mad]}}}}
    scores = [1.0, 8.0, 9.0, 20.0, 25.0, 25.0] + [1.0] * 10
    flash = tmp_path / "flash"
    prepare(flash)
    out = result("USE_ULAB = False\n" + SCRIPT + f"""
from lg.baseline import Baseline
box.baseline = Baseline({base!r})
run(0.05)  # connected, first poll
seen = []
for z in {scores!r}:
    box.features = {{'rope.strand_prom': z * {scale!r}}}
    box.judge(1.6)
    a = box.alarms.get('rope_wear', 'detectors')
    seen.append(a and a['severity'])
run(0.05)  # the uplink sends what is outboxed
print(json.dumps({{'seen': seen, 'published': [[t, p.decode()] for t, p, q, r in
                                             broker.published]}}))
""", flash=flash)
    pi = [p[0] for p in _pi(DEFAULTS, scores)]
    assert out["seen"] == [None if s == "normal" else s for s in pi]
    assert pi[-1] == "normal" and "critical" in pi  # raised, escalated and cleared
    alarms = [json.loads(p) for t, p in out["published"] if t.endswith("/alarm")]
    rope = [(a["state"], a["severity"]) for a in alarms if a["kind"] == "rope_wear"]
    assert rope == [("raised", "warning"), ("updated", "critical"), ("updated", "warning"),
                    ("cleared", "warning")]
    wear = [json.loads(p)["values"] for t, p in out["published"]
            if t.endswith("/telemetry") and json.loads(p)["kind"] == "wear"]
    assert [w["rope_wear.severity"] for w in wear] == pi
