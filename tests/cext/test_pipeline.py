"""FramePipeline: band energies of one frame, equal to Welch of that frame, with no per-call
allocation."""

import tracemalloc

import numpy as np
import pytest

import cext
from cext import spectral
from tests.cext.oracle import TOLERANCE

EDGES = [0.0, 50.0, 120.0, 400.0, 800.0, 1601.0]
FS = 3200.0


def _frame(n, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return (1.0 + rng.normal(size=n)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [64, 256, 1024, 4096, 8192])
@pytest.mark.parametrize(("window", "detrend", "scaling"), [
    ("hann", "constant", "density"),
    ("flattop", "none", "spectrum"),
    ("blackman-harris", "constant", "spectrum"),
])
def test_pipeline_equals_welch_of_one_frame_then_band_energies(n, dtype, window, detrend,
                                                                 scaling):
    frame = _frame(n, dtype, n)
    pipe = cext.FramePipeline(n, window, EDGES, FS, dtype, detrend, scaling)
    f, p = cext.welch(frame, FS, n, 0, window, detrend, scaling)
    expected = cext.band_energies(f, p, EDGES)
    np.testing.assert_allclose(pipe.process(frame), expected,
                               rtol=0, atol=TOLERANCE[np.dtype(dtype)] * expected.max())


def test_pipeline_matches_numpy_pipeline():
    frame = _frame(1024, seed=5)
    pipe = cext.FramePipeline(1024, "hann", EDGES, FS)
    numpy_pipe = spectral.NumpyFramePipeline(1024, "hann", EDGES, FS)
    np.testing.assert_allclose(pipe.process(frame), numpy_pipe.process(frame), rtol=1e-10)


def test_process_returns_the_same_preallocated_array():
    pipe = cext.FramePipeline(256, "hann", EDGES, FS)
    first = pipe.process(_frame(256, seed=1))
    kept = first.copy()
    second = pipe.process(_frame(256, seed=2))
    assert second is first is pipe.out
    assert not np.array_equal(kept, second)


def test_process_allocates_nothing():
    pipe = cext.FramePipeline(1024, "hann", EDGES, FS)
    frame = _frame(1024)
    pipe.process(frame)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for _ in range(200):
            pipe.process(frame)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename") if s.size_diff > 0)
    assert grown < 1024  # a single spectrum would be 8 KiB; numpy allocations are traced


def test_order_pipeline_moves_its_bands_with_the_reference():
    n, fs = 2048, 8000.0
    t = np.arange(n) / fs
    orders = [0.5, 2.5, 3.5, 6.0]
    pipe = cext.FramePipeline(n, "hann", orders, fs, orders=True)
    for shaft_hz in (25.0, 40.0):
        frame = np.sin(2 * np.pi * 3 * shaft_hz * t)
        bands = pipe.process(frame, ref_hz=shaft_hz)
        f, p = cext.welch(frame, fs, n, 0)
        np.testing.assert_allclose(bands, cext.order_band_energies(f, p, orders, shaft_hz),
                                   rtol=1e-10, atol=1e-16)
        assert int(np.argmax(bands)) == 1


def test_pipeline_reports_its_configuration():
    pipe = cext.FramePipeline(512, "hann", EDGES, FS, np.float32)
    assert (pipe.n, pipe.dtype) == (512, np.float32)
    np.testing.assert_array_equal(pipe.freqs, np.fft.rfftfreq(512, 1 / FS))
    np.testing.assert_array_equal(pipe.edges, EDGES)


def test_small_vibration_on_a_large_offset_keeps_its_precision():
    # an accelerometer axis carrying gravity: the mean is removed before windowing, so the
    # 1 mg tone is not lost in the rounding of a 9.81 m/s^2 offset
    n = 1024
    t = np.arange(n) / FS
    frame = 9.81 + 1e-3 * np.sin(2 * np.pi * 200.0 * t)
    pipe = cext.FramePipeline(n, "hann", EDGES, FS)
    numpy_pipe = spectral.NumpyFramePipeline(n, "hann", EDGES, FS)
    expected = numpy_pipe.process(frame)
    np.testing.assert_allclose(pipe.process(frame), expected, rtol=0, atol=1e-10 * expected.max())
    assert int(np.argmax(expected)) == 2  # the 120-400 Hz band
