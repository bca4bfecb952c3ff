"""Board vibration features in real MicroPython, against the Pi's detectors on the same signal."""

import sys

import numpy as np
import pytest

from agent.detectors.geometry import LiftGeometry
from tests.firmware.mpy import FIRMWARE, result

LIFT = {"rated_speed_mps": 1.75, "roping": 2, "sheave_diameter_m": 0.4, "rope_strands": 8,
        "rope_lay_length_m": 0.065}
FS, N, FRAMES, SPEED = 1600.0, 1024, 8, 1.0


def _segment(seed: int = 3, strand_amp: float = 0.2) -> np.ndarray:
    g = LiftGeometry.from_mapping(LIFT, "test")
    rng = np.random.default_rng(seed)
    t = np.arange(FRAMES * N) / FS
    x = 0.05 * rng.standard_normal((t.size, 3))
    x[:, 2] += strand_amp * np.sin(2 * np.pi * g.strand_hz(SPEED) * t)
    x[:, 2] += 0.05 * np.sin(2 * np.pi * 2 * g.strand_hz(SPEED) * t)
    for k in (1, 2, 3, 4):
        x[:, 0] += 0.02 * np.sin(2 * np.pi * k * g.sheave_hz(SPEED) * t)
    return x.astype(np.float32)


def _board_script() -> str:
    return f"""
import json
from array import array
from lg.features import WelchPSD, vibration_features
w = WelchPSD({N}, {FS}, channels=3)
buf = array('f', bytes(4 * {N}))
with open('accel.f32', 'rb') as f:
    for _ in range({FRAMES} * 3):
        f.readinto(buf)
        w.add(buf)
print(json.dumps(vibration_features(w, {SPEED}, {LIFT!r})))
"""


def _write_frames(path, x):
    with open(path, "wb") as f:
        for i in range(FRAMES):
            for c in range(3):
                f.write(np.ascontiguousarray(x[i * N:(i + 1) * N, c]).tobytes())


@pytest.fixture(scope="module", params=[False, True], ids=["pure", "ulab"])
def board(request, tmp_path_factory):
    flash = tmp_path_factory.mktemp("flash")
    x = _segment()
    _write_frames(flash / "accel.f32", x)
    return x, result(_board_script(), flash=flash, ulab=request.param)


def test_board_features_in_micropython_equal_the_same_code_under_cpython(board, tmp_path):
    x, mp = board
    sys.path.insert(0, str(FIRMWARE))
    try:
        from lg.features import WelchPSD, vibration_features
    finally:
        sys.path.remove(str(FIRMWARE))
    w = WelchPSD(N, FS, channels=3)
    for i in range(FRAMES):
        for c in range(3):
            w.add(x[i * N:(i + 1) * N, c].tolist())
    cp = vibration_features(w, SPEED, LIFT)
    assert set(mp) == set(cp)
    for k in cp:
        assert mp[k] == pytest.approx(cp[k], abs=0.05), k  # float32 (MicroPython) vs float64


def test_rms_and_peak_are_those_of_the_mean_removed_samples(board):
    x, mp = board
    per_frame = x.reshape(FRAMES, N, 3) - x.reshape(FRAMES, N, 3).mean(axis=1, keepdims=True)
    assert mp["rms"] == pytest.approx(float(np.sqrt(np.mean(per_frame**2))), rel=1e-4)
    assert mp["peak"] == pytest.approx(float(np.abs(per_frame).max()), rel=1e-4)


def _pi(x):
    from agent.detectors.vibration import vibration_features as pi_features

    geom = LiftGeometry.from_mapping(LIFT, "t")
    return pi_features(x.astype(np.float64), FS, SPEED, geom).values


@pytest.mark.parametrize(("feature", "tolerance_db"),
                         [("rope.strand_prom", 0.5), ("rope.h2_prom", 0.5),
                          ("bearing.hf_level", 0.3)])
def test_board_features_agree_with_the_pi_detectors_on_the_same_signal(board, feature,
                                                                       tolerance_db):
    x, mp = board
    assert mp[feature] == pytest.approx(_pi(x)[feature], abs=tolerance_db)


def test_strand_prominence_is_the_line_power_over_the_floor_in_1_hz(board):
    # Analytic oracle: a sine of amplitude A carries A^2/2; white noise of variance s^2 on
    # each of 3 channels has a one-sided density of 3 s^2 / (fs / 2) per Hz.
    _, mp = board
    oracle = 10 * np.log10(0.2**2 / 2) - 10 * np.log10(3 * 0.05**2 / (FS / 2))
    assert mp["rope.strand_prom"] == pytest.approx(oracle, abs=0.5)


def test_high_band_level_leaves_out_the_strand_harmonics(board):
    # the segment's 2nd strand harmonic (0.05 amplitude) lies in the high band: the level is
    # the noise's alone, 3 channels x 0.05^2 x the band's share of the spectrum
    _, mp = board
    oracle = 10 * np.log10(3 * 0.05**2 * (0.45 - 0.25) / 0.5)
    assert mp["bearing.hf_level"] == pytest.approx(oracle, abs=0.3)


def test_a_stronger_strand_line_raises_the_strand_prominence(tmp_path):
    quiet, loud = tmp_path / "q", tmp_path / "l"
    for d, amp in ((quiet, 0.05), (loud, 0.4)):
        d.mkdir()
        _write_frames(d / "accel.f32", _segment(strand_amp=amp))
    q = result(_board_script(), flash=quiet)["rope.strand_prom"]
    lo = result(_board_script(), flash=loud)["rope.strand_prom"]
    assert lo - q == pytest.approx(20 * np.log10(0.4 / 0.05), abs=1.5)
