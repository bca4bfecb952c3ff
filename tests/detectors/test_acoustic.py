"""Drive and fan tones as inverter-wear evidence, judged against a load change (acoustic.py)."""

import numpy as np
import pytest

from agent.detectors.acoustic import tones_per_ampere
from agent.detectors.baseline import learn
from agent.detectors.scoring import wear_scores
from tests.detectors.signals import LIFT

MOTOR, FAN = "inverter.tone_158", "inverter.tone_316"


def _trip(current_a, fan_db=56.0, seed=0):
    """Band levels of a running trip: the motor's torque-ripple band follows the current
    (20 dB per decade), the fan's blade-pass band does not."""
    r = np.random.default_rng(seed)
    tones = {MOTOR: 30.0 + 20 * np.log10(current_a) + r.normal(0, 0.3),
             FAN: fan_db + r.normal(0, 0.3)}
    return {**tones, **tones_per_ampere(tones, current_a)}


@pytest.fixture(scope="module")
def baseline():
    # commissioning trips with a car about half loaded: 9-11 A at cruise
    r = np.random.default_rng(1)
    return learn([(1.75, _trip(r.uniform(9, 11), seed=k)) for k in range(40)], LIFT)


def test_per_ampere_level_is_the_level_less_twenty_log_current():
    got = tones_per_ampere({MOTOR: 50.0, "rope.strand_prom": 3.0}, 10.0)
    assert got == {MOTOR + "_per_a": pytest.approx(30.0)}
    assert tones_per_ampere({MOTOR: 50.0}, 0.2) == {}  # the drive idles


def test_an_empty_car_drawing_more_current_is_not_inverter_wear(baseline):
    z, _ = wear_scores(_trip(18.0, seed=99), 1.75, baseline)["inverter_wear"]
    assert z < 2.0
    # the motor band alone reads ~5 dB up on its level: the load change the rule absorbs
    assert baseline.score(MOTOR, 1.75, _trip(18.0, seed=99)[MOTOR]) > 3.0


def test_a_failing_fan_is_inverter_wear_at_any_load(baseline):
    for current in (10.0, 18.0):
        z, name = wear_scores(_trip(current, fan_db=36.0, seed=7), 1.75, baseline)[
            "inverter_wear"]
        assert name == FAN and z > 10.0


def test_running_bands_without_a_per_ampere_baseline_are_not_scored():
    r = np.random.default_rng(2)
    levels_only = learn([(1.75, {MOTOR: 50 + r.normal(0, 0.3)}) for _ in range(20)], LIFT)
    assert "inverter_wear" not in wear_scores({MOTOR: 60.0}, 1.75, levels_only)


def test_bands_at_standstill_are_scored_as_levels():
    r = np.random.default_rng(3)
    rest = learn([(0.0, {FAN: 56 + r.normal(0, 0.3)}) for _ in range(20)], LIFT)
    z, name = wear_scores({FAN: 36.0}, 0.0, rest)["inverter_wear"]
    assert name == FAN and z > 10.0
