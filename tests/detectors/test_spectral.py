"""Spectral features: order tracking, line levels, A-weighting, ISO weightings."""

import math

import numpy as np
import pytest
from scipy import signal

from agent.detectors import spectra
from agent.detectors.geometry import LiftGeometry
from agent.detectors.ride import WD, WK, peak_to_peak_values, ride_metrics, weighting_response
from agent.detectors.vibration import vibration_features
from tests.detectors.signals import FS, LIFT, car_vibration


def test_strand_order_follows_the_formula():
    g = LiftGeometry(roping=1, sheave_diameter_m=0.5, rope_strands=6, rope_lay_length_m=0.04)
    assert g.strand_hz(4.0) == pytest.approx(4.0 * 6 / 0.04)
    assert g.sheave_hz(4.0) == pytest.approx(4.0 / (math.pi * 0.5))
    assert LIFT.strand_hz(1.0) == pytest.approx(2 * 8 / 0.065)


def test_welch_matches_scipy_oracle():
    x = np.random.default_rng(3).normal(size=20000)
    f, p = spectra.welch_psd(x, FS, 1.0)
    fo, po = signal.welch(x, FS, nperseg=(f.size - 1) * 2, noverlap=(f.size - 1))
    np.testing.assert_allclose(f, fo)
    np.testing.assert_allclose(p, po, rtol=1e-9)


@pytest.mark.parametrize("rise", [3.0, 6.0, 10.0])
def test_strand_line_rise_reads_as_the_same_rise_in_db(rise):
    base = np.mean([vibration_features(car_vibration(s), FS, 1.75, LIFT)
                    .values["rope.strand_prom"] for s in range(4)])
    worn = np.mean([vibration_features(car_vibration(s, strand_db=rise), FS, 1.75, LIFT)
                    .values["rope.strand_prom"] for s in range(4)])
    assert worn - base == pytest.approx(rise, abs=0.6)


def test_order_tracking_finds_the_line_when_rope_data_is_off_by_three_percent():
    nominal = LiftGeometry(2, 0.40, 8, 0.065 * 1.03)
    vf = vibration_features(car_vibration(1, strand_db=6), FS, 1.75, nominal)
    assert vf.evidence["rope.strand_prom"]["frequency_hz"] == pytest.approx(
        LIFT.strand_hz(1.75), rel=0.002)


@pytest.mark.parametrize("speed", [1.0, 1.5, 2.0])
def test_strand_prominence_is_comparable_across_speeds(speed):
    vf = vibration_features(car_vibration(2, speed=speed), FS, speed, LIFT)
    ref = vibration_features(car_vibration(2, speed=1.75), FS, 1.75, LIFT)
    assert vf.values["rope.strand_prom"] == pytest.approx(ref.values["rope.strand_prom"], abs=1.5)


def test_sheave_order_lines_raise_the_sheave_feature():
    quiet = vibration_features(car_vibration(4), FS, 1.75, LIFT).values["sheave.order_lines"]
    loud = vibration_features(car_vibration(4, sheave_db=0.0), FS, 1.75, LIFT)
    assert loud.values["sheave.order_lines"] > quiet + 10


@pytest.mark.parametrize("seconds", [3.0, 8.0])
def test_a_6_db_rise_of_the_sheave_lines_reads_as_6_db_over_short_and_long_segments(seconds):
    def level(seed: int, db: float) -> float:
        x = car_vibration(seed, sheave_db=db, seconds=seconds)
        return vibration_features(x, FS, 1.75, LIFT).values["sheave.order_lines"]

    healthy = [level(s, 0.0) for s in range(4)]
    worn = [level(s, 6.0) for s in range(4)]
    assert np.mean(worn) - np.mean(healthy) == pytest.approx(6.0, abs=0.5)
    assert np.std(healthy) < 0.5  # a floor from many bins: a fraction of a dB trip to trip


def test_sheave_lines_read_the_same_over_a_short_and_a_long_segment():
    short = vibration_features(car_vibration(6, sheave_db=0.0, seconds=3.0), FS, 1.75, LIFT)
    long = vibration_features(car_vibration(6, sheave_db=0.0, seconds=10.0), FS, 1.75, LIFT)
    assert short.values["sheave.order_lines"] == pytest.approx(
        long.values["sheave.order_lines"], abs=1.0)


def test_impacts_raise_kurtosis_and_the_envelope_quantile_ratio():
    clean = vibration_features(car_vibration(5), FS, 1.75, LIFT).values
    hit = vibration_features(car_vibration(5, impacts=0.5), FS, 1.75, LIFT).values
    assert hit["bearing.kurtosis"] > clean["bearing.kurtosis"] + 1
    assert hit["bearing.env_q"] > clean["bearing.env_q"] + 1


@pytest.mark.parametrize("impacts", [0.0, 0.1])
def test_bearing_features_do_not_move_when_the_segment_edge_moves_by_two_samples(impacts):
    x = car_vibration(7, impacts=impacts, seconds=3.0)
    a = vibration_features(x[:-2], FS, 1.75, LIFT).values
    b = vibration_features(x[2:], FS, 1.75, LIFT).values
    # well inside the features' baseline floors (0.25 for kurtosis, 0.3 for env_q)
    assert abs(a["bearing.kurtosis"] - b["bearing.kurtosis"]) < 0.1 * max(
        1.0, a["bearing.kurtosis"] / 3)
    assert abs(a["bearing.env_q"] - b["bearing.env_q"]) < 0.1


@pytest.mark.parametrize("f, db", [(31.5, -39.4), (100.0, -19.1), (1000.0, 0.0),
                                   (4000.0, 1.0), (10000.0, -2.5)])
def test_a_weighting_matches_iec_61672_table(f, db):
    gain = spectra.a_weighting_gain(np.array([f]))[0]
    assert 10 * math.log10(gain) == pytest.approx(db, abs=0.15)


@pytest.mark.parametrize("f, wk, wd", [(0.5, 0.418, 0.853), (1.0, 0.482, 1.011),
                                       (2.0, 0.531, 0.890), (4.0, 0.967, 0.512),
                                       (8.0, 1.036, 0.253), (16.0, 0.768, 0.125)])
def test_iso_weightings_match_iso_2631_table(f, wk, wd):
    assert abs(weighting_response(np.array([f]), WK)[0]) == pytest.approx(wk, rel=0.01)
    assert abs(weighting_response(np.array([f]), WD)[0]) == pytest.approx(wd, rel=0.01)


def test_peak_to_peak_of_a_sine_is_twice_its_amplitude():
    t = np.arange(0, 5, 1 / FS)
    pp = peak_to_peak_values(0.3 * np.sin(2 * np.pi * 7 * t))
    assert pp.min() == pytest.approx(0.6, rel=0.01) and pp.max() == pytest.approx(0.6, rel=0.01)


def test_ride_metrics_weight_a_vertical_8hz_sine_by_wk():
    t = np.arange(0, 10, 1 / FS)
    x = np.zeros((t.size, 3))
    x[:, 2] = 0.1 * np.sin(2 * np.pi * 8 * t)
    m = ride_metrics(x, ("x", "y", "z"), "z", FS)
    assert m["vertical_a95"] == pytest.approx(0.2 * 1.036, rel=0.02)


def test_third_octave_centres_are_iec_61260_base_ten():
    c = spectra.third_octave_centres(90, 1100)
    assert [round(x) for x in c] == [100, 126, 158, 200, 251, 316, 398, 501, 631, 794, 1000]


def test_order_resampling_sharpens_a_line_smeared_by_changing_speed():
    from agent.detectors.vibration import order_resample

    t = np.arange(int(2.0 * FS)) / FS
    v = 1.5 + 0.2 * np.sin(np.pi * t / 2.0)  # speed swells 1.5 -> 1.7 -> 1.5 m/s
    pos = np.concatenate([[0.0], np.cumsum((v[1:] + v[:-1]) / 2) / FS])
    cycles = pos * LIFT.roping * LIFT.rope_strands / LIFT.rope_lay_length_m
    x = np.zeros((t.size, 3))
    x[:, 2] = 0.01 * np.sin(2 * np.pi * cycles)
    x += np.random.default_rng(0).normal(0, 0.002, x.shape)
    speed_t = np.arange(0.0, 2.05, 0.1)
    speed_v = 1.5 + 0.2 * np.sin(np.pi * speed_t / 2.0)
    raw = vibration_features(x, FS, float(v.mean()), LIFT).values["rope.strand_prom"]
    y, v_ref = order_resample(x, FS, 0.0, speed_t, speed_v)
    tracked = vibration_features(y, FS, v_ref, LIFT).values["rope.strand_prom"]
    assert v_ref == pytest.approx(v.mean(), rel=0.01)
    assert tracked > raw + 3
