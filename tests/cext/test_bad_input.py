"""Bad input of every kind raises ValueError with a message naming the problem; nothing
crashes the process."""

import numpy as np
import pytest

import cext

GOOD = np.random.default_rng(0).normal(size=1024)


def _with(value, index=100):
    x = GOOD.copy()
    x[index] = value
    return x


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"x": _with(np.nan)}, "NaN or infinite"),
    ({"x": _with(np.inf)}, "NaN or infinite"),
    ({"x": _with(-np.inf, 1023)}, "NaN or infinite"),  # in the tail no segment covers
    ({"x": GOOD.astype(np.int64)}, "float32 or float64"),
    ({"x": GOOD.astype(np.complex128)}, "float32 or float64"),
    ({"x": GOOD.reshape(2, 512)}, "1-D"),
    ({"x": "abc"}, "float32 or float64"),
    ({"nperseg": 100}, "power of two"),
    ({"nperseg": 32}, "power of two"),
    ({"nperseg": 16384}, "power of two"),
    ({"nperseg": 2048}, "longer than the signal"),
    ({"nperseg": 256.0}, "integer"),
    ({"noverlap": 256}, "noverlap"),
    ({"noverlap": -1}, "noverlap"),
    ({"fs": 0.0}, "fs"),
    ({"fs": float("nan")}, "fs"),
    ({"window": "kaiser"}, "unknown window"),
    ({"window": np.ones(100)}, "256 samples"),
    ({"window": _with(np.nan)[:256]}, "window contains NaN"),
    ({"detrend": "linear"}, "detrend"),
    ({"scaling": "power"}, "scaling"),
])
def test_welch_rejects(kwargs, message):
    args = {"x": GOOD, "fs": 1000.0, "nperseg": 256} | kwargs
    with pytest.raises(ValueError, match=message):
        cext.welch(**args)


@pytest.mark.parametrize(("frame", "message"), [
    (GOOD[:1000], "power of two"),
    (GOOD[:32], "power of two"),
    (_with(np.nan), "NaN or infinite"),
    (GOOD.astype(np.float16), "float32 or float64"),
    (GOOD.reshape(32, 32), "1-D"),
])
def test_rfft_power_rejects(frame, message):
    with pytest.raises(ValueError, match=message):
        cext.rfft_power(frame, "hann")


F = np.fft.rfftfreq(256, 1 / 1000.0)
P = np.ones(129)


@pytest.mark.parametrize(("freqs", "psd", "edges", "message"), [
    (F, P, [100.0, 50.0], "strictly increasing"),
    (F, P, [100.0, 100.0], "strictly increasing"),
    (F, P, [0.0, np.nan], "strictly increasing"),
    (F, P, [100.0], "at least two"),
    (F, P, [[0.0, 1.0]], "1-D"),
    (F, P, ["a", "b"], "sequence of numbers"),
    (F, P[:-1], [0.0, 100.0], "same length"),
    (F[::-1], P, [0.0, 100.0], "evenly spaced"),
    (np.sort(np.random.default_rng(1).uniform(0, 500, 129)), P, [0.0, 100.0], "evenly spaced"),
    (F, np.where(np.arange(129) == 7, np.inf, 1.0), [0.0, 100.0], "psd contains NaN"),
])
def test_band_energies_rejects(freqs, psd, edges, message):
    with pytest.raises(ValueError, match=message):
        cext.band_energies(freqs, psd, edges)


@pytest.mark.parametrize("ref_hz", [0.0, -5.0, float("inf"), float("nan")])
def test_order_band_energies_rejects_bad_reference(ref_hz):
    with pytest.raises(ValueError, match="ref_hz"):
        cext.order_band_energies(F, P, [0.5, 1.5], ref_hz)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n": 1000}, "power of two"),
    ({"n": 16}, "power of two"),
    ({"edges": [10.0, 5.0]}, "strictly increasing"),
    ({"edges": [10.0]}, "at least two"),
    ({"fs": -1.0}, "fs"),
    ({"dtype": np.int32}, "float32 or float64"),
    ({"dtype": "nonsense"}, "float32 or float64"),
    ({"window": "nope"}, "unknown window"),
    ({"detrend": "linear"}, "detrend"),
    ({"scaling": "x"}, "scaling"),
])
def test_pipeline_construction_rejects(kwargs, message):
    args = {"n": 256, "window": "hann", "edges": [0.0, 100.0], "fs": 1000.0} | kwargs
    with pytest.raises(ValueError, match=message):
        cext.FramePipeline(**args)


@pytest.mark.parametrize(("frame", "message"), [
    (GOOD[:256].astype(np.float32), "float64"),
    (GOOD[:255], "256 samples"),
    (GOOD[:512], "256 samples"),
    (GOOD[:512:2], "contiguous"),
    (GOOD[:256].reshape(16, 16), "1-D"),
    (list(GOOD[:256]), "contiguous"),
    (None, "contiguous"),
    (_with(np.nan, 3)[:256], "NaN or infinite"),
    (_with(np.inf, 255)[:256], "NaN or infinite"),
])
def test_pipeline_process_rejects(frame, message):
    pipe = cext.FramePipeline(256, "hann", [0.0, 100.0], 1000.0)
    with pytest.raises(ValueError, match=message):
        pipe.process(frame)


def test_pipeline_keeps_working_after_a_rejected_frame():
    pipe = cext.FramePipeline(256, "hann", [0.0, 100.0], 1000.0)
    expected = pipe.process(GOOD[:256]).copy()
    with pytest.raises(ValueError):
        pipe.process(_with(np.nan, 3)[:256])
    np.testing.assert_array_equal(pipe.process(GOOD[:256]), expected)


@pytest.mark.parametrize(("orders", "ref_hz", "message"), [
    (True, None, "pass ref_hz"),
    (True, 0.0, "ref_hz"),
    (True, float("nan"), "ref_hz"),
    (False, 10.0, "orders=True"),
])
def test_pipeline_reference_frequency_rules(orders, ref_hz, message):
    pipe = cext.FramePipeline(256, "hann", [0.5, 1.5], 1000.0, orders=orders)
    with pytest.raises(ValueError, match=message):
        pipe.process(GOOD[:256], ref_hz)


@pytest.mark.parametrize(("x", "message"), [
    (np.array([]), "at least one sample"),
    (_with(np.nan), "NaN or infinite"),
    (np.array([1, 2, 3]), "float32 or float64"),
])
def test_time_features_rejects(x, message):
    with pytest.raises(ValueError, match=message):
        cext.time_features(x)


def test_core_transform_refuses_a_read_only_output():
    plan = cext.spectral._plan(256, np.dtype(np.float64))
    out = np.zeros(129, dtype=np.complex128)
    out.setflags(write=False)
    with pytest.raises(ValueError, match="writable"):
        plan.spectrum(GOOD[:256], out)


def test_power_spectrum_refuses_a_read_only_output():
    plan = cext.spectral._plan(256, np.dtype(np.float64))
    out = np.zeros(129)
    out.setflags(write=False)
    with pytest.raises(ValueError, match="writable"):
        plan.power_spectrum(GOOD[:256], cext.window("hann", 256), out)


@pytest.mark.parametrize(("x", "window"), [
    (GOOD.astype(np.float32), cext.window("hann", 256)),
    (GOOD, cext.window("hann", 128)),
    (GOOD[:100], cext.window("hann", 256)),
    (GOOD[::2], cext.window("hann", 256)),
])
def test_welch_kernel_guards_its_memory(x, window):
    plan = cext.spectral._plan(256, np.dtype(np.float64))
    with pytest.raises(ValueError):
        cext._backend.dsp.welch_psd(plan, x, window, 128, True, 1.0)
