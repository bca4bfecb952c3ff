"""Where the extension cannot be built, cext warns and runs the numpy reference, with the same
results and the same argument checks."""

import subprocess
import sys

import numpy as np
import pytest

import cext
from cext import features, spectral


@pytest.fixture
def numpy_only(monkeypatch):
    monkeypatch.setattr(spectral, "COMPILED", False)
    monkeypatch.setattr(features, "COMPILED", False)


def test_import_without_the_extension_warns_and_reports_it():
    code = (
        "import sys, warnings\n"
        "sys.modules['cext._dsp'] = None\n"  # makes `from cext import _dsp` fail
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import cext\n"
        "assert not cext.COMPILED\n"
        "assert cext.FramePipeline.__name__ == 'NumpyFramePipeline'\n"
        "assert any(w.category is RuntimeWarning and 'numpy reference' in str(w.message)\n"
        "           for w in caught), caught\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def _results(x):
    return cext.welch(x, 4000.0, 512)[1], cext.rfft_power(x[:1024], "hann"), cext.time_features(x)


def test_fallback_results_equal_the_compiled_ones(monkeypatch):
    x = np.random.default_rng(1).normal(size=4000) + 1.0
    compiled = _results(x)
    monkeypatch.setattr(spectral, "COMPILED", False)
    monkeypatch.setattr(features, "COMPILED", False)
    with_numpy = _results(x)
    np.testing.assert_allclose(with_numpy[0], compiled[0], rtol=1e-10)
    np.testing.assert_allclose(with_numpy[1], compiled[1], rtol=0, atol=1e-10 * compiled[1].max())
    assert with_numpy[2] == pytest.approx(compiled[2], rel=1e-12)


def test_fallback_band_energies(numpy_only):
    f = np.fft.rfftfreq(256, 1 / 1000.0)
    p = np.random.default_rng(2).uniform(size=129)
    e = cext.band_energies(f, p, [0.0, 100.0, 600.0])
    assert e[0] == pytest.approx(np.sum(p[f < 100]) * f[1], rel=1e-12)


@pytest.mark.parametrize("call", [
    lambda: cext.welch(np.array([1.0, np.nan] * 512), 1000.0, 256),
    lambda: cext.rfft_power(np.full(256, np.inf), "hann"),
    lambda: cext.band_energies(np.arange(10.0), np.ones(10), [5.0, 1.0]),
    lambda: cext.time_features(np.array([np.nan])),
])
def test_fallback_rejects_bad_input_too(numpy_only, call):
    with pytest.raises(ValueError):
        call()


def test_numpy_pipeline_rejects_a_wrong_frame():
    pipe = spectral.NumpyFramePipeline(256, "hann", [0.0, 100.0], 1000.0)
    with pytest.raises(ValueError, match="256 samples"):
        pipe.process(np.zeros(128))
    with pytest.raises(ValueError, match="NaN or infinite"):
        pipe.process(np.full(256, np.nan))
