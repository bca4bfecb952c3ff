"""The whole box loop in real MicroPython on the fakes: controller over the fake RS-485 slave,
ADXL345 model, in-memory broker. Messages are checked against agent/schemas."""

from __future__ import annotations

import json

import pytest

from agent.detectors.baseline import Baseline, learn
from agent.detectors.geometry import LiftGeometry
from agent.firmware_build import compact_baseline
from tests.firmware.box_scenario import CRUISE, SCRIPT, prepare
from tests.firmware.mpy import result
from tests.firmware.pi_kinds import pi_telemetry_kinds
from tests.support.schemas import validate

DUMP = """
print(json.dumps({'published': [[t, p.decode()] for t, p, q, r in broker.published],
                  'stats': box.stats, 'feeds': box.wdt.feeds, 'features': box.features,
                  'pending': len(outbox)}))
"""


def _run(tmp_path, body: str, readings=None, ulab=False, **fw) -> dict:
    flash = tmp_path / "flash"
    prepare(flash, readings, **fw)
    return result(f"USE_ULAB = {ulab}\n" + SCRIPT + body + DUMP, flash=flash, ulab=ulab)


def _on(out: dict, channel: str) -> list[dict]:
    return [json.loads(p) for t, p in out["published"] if t.endswith("/" + channel)]


def test_every_published_message_validates_against_the_agents_schemas(tmp_path):
    out = _run(tmp_path, "run(6)\n")
    assert out["published"], "nothing was published"
    for topic, payload in out["published"]:
        validate(topic.split("/", 4)[4], payload.encode())
    kinds = {}
    for t in _on(out, "telemetry"):
        kinds.setdefault(t["kind"], t["values"])
    assert set(kinds) == pi_telemetry_kinds()  # controller, state, wear, heartbeat
    assert kinds["controller"]["speed_mps"] == 1.6
    assert kinds["state"]["polls"] >= 1 and kinds["state"]["controller"] == "ok"
    # the microphone's 1 kHz tone at 84 dB SPL reads 84 dB(A) (A-weighting is 0 dB at 1 kHz):
    # 4 dB over the 80 dB(A) running limit, the noise_level score is 10^(4/20) as the Pi's
    assert kinds["wear"]["noise_level.score"] == pytest.approx(10 ** (4 / 20), abs=0.02)
    assert kinds["wear"]["learning"] is True and "noise_level.severity" in kinds["wear"]


def test_trapped_passenger_raises_a_critical_alarm_and_an_event(tmp_path):
    trapped = {**CRUISE, "speed_mps": 0.0, "car_state": "stopped", "door_zone_up": True,
               "door_zone_down": True, "load_pct": 30.0}
    out = _run(tmp_path, "run(22)\n", readings=trapped)
    alarms = [a for a in _on(out, "alarm") if a["kind"] == "trapped_at_floor"]
    assert len(alarms) == 1 and alarms[0]["severity"] == "critical"
    assert alarms[0]["state"] == "raised" and alarms[0]["source"] == "controller"
    assert any(e["kind"] == "trapped_at_floor" for e in _on(out, "event"))
    assert out["pending"] == 0  # acknowledged by the broker, deleted from flash


def test_silent_controller_becomes_a_comm_lost_alarm_that_clears_when_it_answers(tmp_path):
    out = _run(tmp_path, """
controller_silent = True
run(10)  # each silent poll costs its deadlines and retries on the clock
controller_silent = False
run(3)
""")
    states = [a["state"] for a in _on(out, "alarm") if a["kind"] == "comm_lost"]
    assert states == ["raised", "cleared"]


def test_the_watchdog_is_fed_once_per_completed_turn(tmp_path):
    out = _run(tmp_path, """
turns = [0]
def count():
    turns[0] += 1
run(1, each=count)
box.stats['turns'] = turns[0]
""")
    assert out["feeds"] == out["stats"]["turns"] > 50


@pytest.mark.parametrize("ulab", [False, True], ids=["pure", "ulab"])
def test_a_grown_strand_line_against_a_learned_baseline_raises_rope_wear(tmp_path, ulab):
    # 1. healthy segments on the board, 2. a baseline learned from them with the Pi's code,
    # 3. the same box with a strong strand line: the rope_wear alarm names the feature.
    healthy = _run(tmp_path / "h", "STRAND_HZ = 393.8\nSTRAND_AMP = 4\nrun(4)\n", ulab=ulab,
                   frames_per_segment=2)
    feats = healthy["features"]
    assert "rope.strand_prom" in feats
    geom = LiftGeometry.from_mapping({"rated_speed_mps": 1.75, "roping": 2,
                                      "sheave_diameter_m": 0.4, "rope_strands": 8,
                                      "rope_lay_length_m": 0.065}, "t")
    jitter = [-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.0, 0.1, -0.1]
    obs = [(1.6, {k: v + j for k, v in feats.items() if "." in k}) for j in jitter]
    base = learn(obs, geom)
    base.save(tmp_path / "baseline.json")
    flash = tmp_path / "worn"
    prepare(flash, frames_per_segment=2)
    (flash / "baseline.json").write_text(json.dumps(compact_baseline(str(tmp_path /
                                                                         "baseline.json"))))
    out = result(f"USE_ULAB = {ulab}\n" + SCRIPT + """
from lg.baseline import Baseline
box.baseline = Baseline(load_json('baseline.json'))
STRAND_HZ = 393.8
STRAND_AMP = 60
run(4)
""" + DUMP, flash=flash, ulab=ulab)
    wear = [a for a in _on(out, "alarm") if a["kind"] == "rope_wear"]
    assert wear and wear[0]["evidence"]["feature"].startswith("rope.")
    assert wear[0]["evidence"]["score"] >= 5.0


def test_board_baseline_scores_equal_the_pi_scores(tmp_path):
    geom = LiftGeometry.from_mapping({"roping": 2, "sheave_diameter_m": 0.4, "rope_strands": 8,
                                      "rope_lay_length_m": 0.065}, "t")
    # bins 4 and 5 well filled; bin 1 empty (the speed trend answers); a sparse bin 0
    # (standing still: answered by its own few values, never by the running speeds)
    obs = [(1.0 + 0.1 * (i % 3), {"rope.strand_prom": 10 + 0.1 * i, "bearing.hf_level":
                                  -20 + 0.05 * i, "rope.h3_prom": 3.0})
           for i in range(30)]
    obs += [(0.0, {"rope.strand_prom": 2.0 + i, "bearing.hf_level": -30.0 - i})
            for i in range(3)]
    base = learn(obs, geom)
    base.save(tmp_path / "b.json")
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "b.json").write_text(json.dumps(compact_baseline(str(tmp_path / "b.json"))))
    cases = [(name, speed, value) for name in ("rope.strand_prom", "bearing.hf_level",
                                               "rope.h3_prom", "rope.h2_prom")
             for speed in (0.0, 0.2, 1.0, 1.1, 1.2) for value in (-30.0, 3.0, 11.0, 25.0)]
    got = result(f"""
import json
from lg.baseline import Baseline
b = Baseline(json.loads(open('b.json').read()))
print(json.dumps([b.score(n, s, v) for n, s, v in {cases!r}]))
""", flash=flash)
    pi = Baseline.load(tmp_path / "b.json")
    want = [pi.score(n, s, v) for n, s, v in cases]
    assert got == pytest.approx(want, rel=1e-9)
