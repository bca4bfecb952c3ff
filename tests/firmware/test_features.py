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


def test_high_band_level_is_the_band_mean_square_summed_over_channels(board):
    x, mp = board
    d = x.astype(np.float64) - x.astype(np.float64).mean(axis=0)
    spec = np.abs(np.fft.rfft(d, axis=0)) ** 2
    f = np.fft.rfftfreq(d.shape[0], 1 / FS)
    band = (f >= FS / 4) & (f < 0.45 * FS)
    oracle = 10 * np.log10(2 * spec[band].sum() / d.shape[0] ** 2)  # Parseval, one-sided
    assert mp["bearing.hf_level"] == pytest.approx(oracle, abs=0.3)


def test_strand_prominence_is_line_power_over_the_floor_in_the_reference_band(board):
    # Analytic oracle: a sine of amplitude A carries A^2/2; white noise of variance s^2 on each
    # of 3 channels has a one-sided density 3 s^2 / (fs / 2); the reference band is the one the
    # Pi's analysis uses on a long record (1.5 bins of fs / 2^ceil(log2(4 fs / f_sheave))).
    _, mp = board
    g = LiftGeometry.from_mapping(LIFT, "t")
    seg = 2 ** int(np.ceil(np.log2(FS / (g.sheave_hz(SPEED) / 4))))
    ref_half = max(1.5 * FS / seg, 0.002 * g.strand_hz(SPEED))
    floor = 3 * 0.05**2 / (FS / 2)
    oracle = 10 * np.log10(0.2**2 / 2) - 10 * np.log10(floor * 2 * ref_half)
    assert mp["rope.strand_prom"] == pytest.approx(oracle, abs=1.0)


def test_a_stronger_strand_line_raises_the_strand_prominence(tmp_path):
    quiet, loud = tmp_path / "q", tmp_path / "l"
    for d, amp in ((quiet, 0.05), (loud, 0.4)):
        d.mkdir()
        _write_frames(d / "accel.f32", _segment(strand_amp=amp))
    q = result(_board_script(), flash=quiet)["rope.strand_prom"]
    lo = result(_board_script(), flash=loud)["rope.strand_prom"]
    assert lo - q == pytest.approx(20 * np.log10(0.4 / 0.05), abs=1.5)
