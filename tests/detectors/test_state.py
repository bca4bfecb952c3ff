"""Baselines, trends, severity with hysteresis, and state that survives a restart."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.detectors.baseline import Baseline, learn
from agent.detectors.severity import SeverityLatch, Thresholds
from agent.detectors.tracker import WearTracker
from agent.detectors.trend import Trend
from agent.errors import InputError
from tests.detectors.signals import LIFT


def _healthy(n=40, speed=1.75, seed=0):
    r = np.random.default_rng(seed)
    return [(speed, {"rope.strand_prom": 15 + r.normal(0, 1.0)}) for _ in range(n)]


def test_score_is_in_baseline_units():
    b = learn(_healthy(400), LIFT)
    s = b.stat("rope.strand_prom", 1.75)
    widen = (1 + math.pi / (2 * 400)) ** 0.5  # uncertainty of the median of 400
    z = b.score("rope.strand_prom", 1.75, s.median + 2 * 1.4826 * s.mad)
    assert z == pytest.approx(2.0 / widen)
    assert 1.4826 * s.mad == pytest.approx(1.0, rel=0.15)


def test_scale_never_falls_below_the_feature_floor():
    b = learn([(1.75, {"rope.strand_prom": 15.0}) for _ in range(20)], LIFT)
    widen = (1 + math.pi / 40) ** 0.5
    assert b.score("rope.strand_prom", 1.75, 16.0) == pytest.approx(2.0 / widen)  # floor 0.5 dB


def test_sparse_speed_range_falls_back_to_the_speed_trend():
    r = np.random.default_rng(5)
    obs = [(v, {"rope.strand_prom": 10 + 4 * v + r.normal(0, 0.2)})
           for v in np.repeat([1.0, 1.5, 2.0], 20)]
    b = learn(obs, LIFT)
    assert b.stat("rope.strand_prom", 1.75).median == pytest.approx(17.0, abs=0.3)  # no data
    assert b.stat("rope.strand_prom", 1.5) is b.stats["rope.strand_prom"]["6"]


def test_unknown_feature_has_no_score():
    assert learn(_healthy(), LIFT).score("rope.h9_prom", 1.75, 3.0) is None


def test_baseline_round_trips_through_its_file(tmp_path):
    b = learn(_healthy(), LIFT)
    b.save(tmp_path / "b.json")
    again = Baseline.load(tmp_path / "b.json")
    assert again.stats == b.stats and again.lift == b.lift
    assert json.loads((tmp_path / "b.json").read_text())["schema"] == "liftguard.baseline/1"
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]  # no temp file left behind


@pytest.mark.parametrize("content, field", [
    ("{", "not valid JSON"),
    ('{"schema": "other/1"}', "schema"),
    ('{"schema": "liftguard.baseline/1", "lift": {}}', "lift.roping"),
])
def test_malformed_baseline_is_a_one_line_error_naming_the_problem(tmp_path, content, field):
    p = tmp_path / "b.json"
    p.write_text(content)
    with pytest.raises(InputError, match=field) as e:
        Baseline.load(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_severity_does_not_flap_around_the_threshold():
    latch = SeverityLatch(Thresholds(warning=5, critical=10, release=0.7, clear=3))
    levels = [latch.update(s) for s in (5.1, 4.9, 5.2, 4.8, 5.0, 4.7)]
    assert levels == ["warning"] * 6


def test_severity_clears_after_sustained_low_scores_one_level_at_a_time():
    latch = SeverityLatch(Thresholds(warning=5, critical=10, release=0.7, clear=2))
    latch.update(12)
    assert [latch.update(0.0) for _ in range(4)] == ["critical", "warning", "warning", "normal"]


@given(st.lists(st.floats(0, 20), min_size=1, max_size=50))
def test_severity_only_changes_through_its_thresholds(scores):
    latch = SeverityLatch(Thresholds(warning=5, critical=10, release=0.7, clear=1))
    for s in scores:
        before = latch.level
        after = latch.update(s)
        if after == "critical" and before != "critical":
            assert s >= 10
        if after == "normal" and before != "normal":
            assert s < 5 * 0.7


def test_trend_estimates_time_to_threshold_of_a_linear_rise():
    tr = Trend(alpha=1.0)
    for day in range(10):
        tr.update(day * 86400.0, 0.5 * day)  # half a unit a day, from 0 to 4.5
    assert tr.time_to(5.0) == pytest.approx(1 * 86400.0, rel=0.01)


def test_trend_without_rise_has_no_time_to_threshold():
    tr = Trend()
    for k in range(10):
        tr.update(k * 60.0, 1.0)
    assert tr.time_to(5.0) is None and not tr.drifting


def test_cusum_flags_a_persistent_small_excess():
    tr = Trend(cusum_k=2.0, cusum_h=12.0)
    for k in range(6):
        tr.update(float(k), 4.5)
    assert tr.drifting


def test_tracker_state_survives_a_restart(tmp_path):
    path = tmp_path / "state.json"
    a = WearTracker(Thresholds(warning=5))
    for k in range(8):
        a.update("rope_wear", k * 3600.0, 1.0 + k)
    a.save(path)
    b = WearTracker.load(path, Thresholds(warning=5))
    assert b.to_json() == a.to_json()
    assert b.update("rope_wear", 9 * 3600.0, 9.0) == a.update("rope_wear", 9 * 3600.0, 9.0)


def test_missing_state_file_is_a_fresh_start(tmp_path):
    assert WearTracker.load(tmp_path / "none.json").to_json()["kinds"] == {}


def test_damaged_state_file_is_an_error_not_a_silent_reset(tmp_path):
    p = tmp_path / "state.json"
    p.write_text('{"schema": "liftguard.detector-state/1", "kinds": {"rope_wear": {}}}')
    with pytest.raises(InputError, match="state.json"):
        WearTracker.load(p)


def test_standing_still_is_never_pooled_with_running():
    obs = [(1.75, {"inverter.tone_6310": 60.0}) for _ in range(20)]
    obs += [(0.0, {"inverter.tone_6310": 30.0}) for _ in range(3)]
    b = learn(obs, LIFT)
    assert b.stat("inverter.tone_6310", 0.0).median == 30.0
    assert b.stat("inverter.tone_6310", 1.0).median == 60.0


def test_a_baseline_learned_with_retired_features_is_refused_in_one_line(tmp_path):
    doc = {"schema": "liftguard.baseline/1", "lift": {}, "speed_bin_mps": 0.25, "min_count": 8,
           "features": {"sheave.orders_prom": {"7": {"n": 20, "median": 17.0, "mad": 1.0}}}}
    (tmp_path / "old.json").write_text(json.dumps(doc))
    with pytest.raises(InputError) as got:
        Baseline.load(tmp_path / "old.json")
    msg = str(got.value)
    assert "\n" not in msg and "sheave.orders_prom" in msg and "baseline learn" in msg
    assert str(tmp_path / "old.json") in msg


SAG, LOAD = "inverter.dc_sag_v", "inverter.load_a_mps"


def _sag_baseline(n=300, exponent=1.3, seed=5):
    """A healthy DC link: the sag a power law of the load, 12 % scatter, loads 5-60 A m/s."""
    rng = np.random.default_rng(seed)
    loads = rng.uniform(5.0, 60.0, n)
    sags = 0.5 * loads**exponent * np.exp(rng.normal(0.0, 0.12, n))
    pairs = zip(sags, loads, strict=True)
    return learn([(rng.uniform(0.5, 1.75), {SAG: s, LOAD: x}) for s, x in pairs], LIFT)


def test_the_sag_is_judged_against_its_load_not_its_speed_range():
    b = _sag_baseline()
    line = b.lines[SAG]
    assert line.slope == pytest.approx(1.3, abs=0.1)
    # a healthy sag scores near zero at any load; 24 % over the healthy law scores ~1.8 a trip
    for load in (8.0, 30.0, 55.0):
        healthy = 0.5 * load**1.3
        assert abs(b.score(SAG, 1.0, healthy, load=load)) < 0.5
        assert b.score(SAG, 1.0, 1.24 * healthy, load=load) == pytest.approx(1.8, abs=0.35)
    assert b.score(SAG, 1.0, 10.0) is None  # no load, no judgement
    assert b.score(SAG, 1.0, 10.0, load=float("nan")) is None


def test_the_load_line_round_trips_through_the_baseline_file(tmp_path):
    b = _sag_baseline()
    b.save(tmp_path / "b.json")
    again = Baseline.load(tmp_path / "b.json")
    assert again.lines == b.lines
    assert again.score(SAG, 1.0, 40.0, load=30.0) == pytest.approx(b.score(SAG, 1.0, 40.0,
                                                                            load=30.0))


def test_the_load_line_centre_is_where_clipped_healthy_scores_average_zero():
    # the lowest of a dozen polls of a rippling bus is skewed: around the median, healthy
    # evidence (clipped scores summed over 24 trips) would drift below zero
    rng = np.random.default_rng(6)
    loads = rng.uniform(5.0, 60.0, 2000)
    skewed = -rng.gamma(2.0, 0.06, loads.size)  # a long low tail
    pairs = list(zip(loads, skewed, strict=True))
    b = learn([(1.0, {SAG: x * math.exp(e), LOAD: x}) for x, e in pairs], LIFT)
    zs = np.array([b.score(SAG, 1.0, x * math.exp(e), load=x) for x, e in pairs])
    assert np.mean(np.clip(zs, -3, 3)) == pytest.approx(0.0, abs=0.03)
    assert np.median(zs) > 0.1  # the median sits elsewhere


def test_a_baseline_with_the_per_ampere_dip_is_refused(tmp_path):
    doc = {"schema": "liftguard.baseline/1", "lift": {}, "speed_bin_mps": 0.25, "min_count": 8,
           "features": {"inverter.dip_per_a": {"7": {"n": 20, "median": 0.7, "mad": 0.1}}}}
    (tmp_path / "old.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="inverter.dip_per_a"):
        Baseline.load(tmp_path / "old.json")


def test_a_malformed_load_line_is_a_one_line_error(tmp_path):
    doc = _sag_baseline().to_json()
    del doc["load_lines"][SAG]["slope"]
    (tmp_path / "b.json").write_text(json.dumps(doc))
    with pytest.raises(InputError) as got:
        Baseline.load(tmp_path / "b.json")
    assert "\n" not in str(got.value) and "slope" in str(got.value)
