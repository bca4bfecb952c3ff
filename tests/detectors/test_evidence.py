"""Slow-wear evidence accumulated over recent trips (agent/detectors/evidence.py)."""

import math

import numpy as np
import pytest

from agent.detectors.baseline import learn
from agent.detectors.evidence import ACCUMULATED, CLIP_Z, Evidence, EvidenceBook
from agent.detectors.scoring import wear_scores
from agent.detectors.tracker import WearTracker
from tests.detectors.signals import LIFT

DIP = "inverter.dc_sag_v"
LOAD = "inverter.load_a_mps"


def test_accumulated_score_of_healthy_trips_has_unit_spread():
    rng = np.random.default_rng(1)
    ev = Evidence(24)
    scores = [ev.add(z) for z in rng.normal(0.0, 1.0, 5000)]
    assert np.std(scores[24:]) == pytest.approx(1.0, rel=0.1)


def test_a_persistent_small_shift_adds_up_over_the_window():
    ev = Evidence(16)
    got = [ev.add(1.5) for _ in range(16)]
    assert got[0] == pytest.approx(1.5)
    assert got[-1] == pytest.approx(1.5 * math.sqrt(16))


def test_one_odd_trip_is_clipped():
    ev = Evidence(16)
    for _ in range(15):
        ev.add(0.0)
    assert ev.add(40.0) == pytest.approx(CLIP_Z / 4)


def test_only_accumulated_features_are_accumulated():
    book = EvidenceBook()
    assert book.accumulate("inverter.thermal_ratio", 7.0) == 7.0
    assert book.accumulate(DIP, 2.0) == 2.0
    assert book.accumulate(DIP, 2.0) == pytest.approx(4.0 / math.sqrt(2))


def test_evidence_stands_on_a_trip_that_cannot_measure_it():
    rng = np.random.default_rng(2)
    base = learn([(1.0, {DIP: 10.0 * math.exp(rng.normal(0, 0.1)), LOAD: 30.0})
                  for _ in range(200)], LIFT)
    book = EvidenceBook()
    for _ in range(ACCUMULATED[DIP]):
        wear_scores({DIP: 12.2, LOAD: 30.0}, 1.0, base, book)  # +2 baseline units a trip
    regenerating = wear_scores({}, 1.0, base, book)  # no motoring acceleration
    assert regenerating["inverter_wear"][1] == DIP
    assert regenerating["inverter_wear"][0] > 5.0
    one = wear_scores({DIP: 12.2, LOAD: 30.0}, 1.0, base)["inverter_wear"][0]
    assert 1.0 < one < 3.0  # one trip alone


def test_evidence_survives_a_restart(tmp_path):
    tr = WearTracker()
    for z in (1.0, 2.0, 3.0):
        tr.evidence.accumulate(DIP, z)
    tr.update("inverter_wear", 0.0, 1.0)
    tr.save(tmp_path / "state.json")
    again = WearTracker.load(tmp_path / "state.json")
    assert again.evidence.standing() == pytest.approx(tr.evidence.standing())
    assert again.evidence.accumulate(DIP, 0.0) == pytest.approx(6.0 / 2.0)


def test_a_new_baseline_starts_the_evidence_afresh():
    from agent.detectors.offline import Settings
    from agent.runtime.wear import WearStage

    rng = np.random.default_rng(4)
    base = learn([(1.0, {DIP: 10.0 + rng.normal(0, 1.0), LOAD: 30.0}) for _ in range(50)],
                 LIFT)
    stage = WearStage(LIFT, Settings(), baseline=base, baseline_path=None, learn_trips=0,
                      tracker=WearTracker(), state_path=None, keep_s=60.0)
    stage.tracker.evidence.accumulate(DIP, 3.0)
    stage.use_baseline(base)  # z against another baseline would not add up
    assert stage.tracker.evidence.standing() == {}


def test_bearing_impulsiveness_is_judged_on_eight_trips_of_evidence():
    # one impulsive trip cannot warn (clipped at 3); three in a row can (3 x 3 / sqrt(3) > 5)
    book = EvidenceBook()
    assert book.accumulate("bearing.kurtosis", 12.0) == pytest.approx(CLIP_Z)
    book.accumulate("bearing.kurtosis", 12.0)
    assert book.accumulate("bearing.kurtosis", 12.0) == pytest.approx(3 * CLIP_Z / math.sqrt(3))
    for _ in range(ACCUMULATED["bearing.kurtosis"]):
        got = book.accumulate("bearing.kurtosis", 0.0)
    assert got == 0.0  # the window holds the last eight trips only
    assert book.accumulate("rope.strand_prom", 12.0) == 12.0  # a rope line: trip by trip


def test_evidence_of_a_retired_feature_is_dropped_on_load():
    # a detector state saved before the DC-link feature was redefined: its scores meant
    # something else, and would otherwise stand for ever (nothing feeds them any more)
    book = EvidenceBook.from_dict({"inverter.dip_per_a": {"n": 24, "scores": [3.0] * 24},
                                   DIP: {"n": 24, "scores": [1.0]}})
    assert book.standing() == {DIP: pytest.approx(1.0)}
