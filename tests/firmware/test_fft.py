"""FFT and features in real MicroPython against numpy (pure-Python path and the ulab path)."""

import json

import numpy as np
import pytest

from tests.firmware.mpy import result

SIZES = [8, 64, 1024]


def _vector(n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = rng.standard_normal(n) + 3 * np.sin(2 * np.pi * 5.3 * t / n) + 0.5
    return [float(v) for v in x.astype(np.float32)]


@pytest.mark.parametrize("ulab", [False, True], ids=["pure", "ulab"])
@pytest.mark.parametrize("n", SIZES)
def test_power_spectrum_matches_numpy_rfft(n, ulab):
    x = _vector(n, n)
    script = f"""
import json
from array import array
from lg.fft import RealFFT
f = RealFFT({n})
print(json.dumps([f.ulab, list(f.run(array('f', {json.dumps(x)})))]))
"""
    used_ulab, got = result(script, ulab=ulab)
    assert used_ulab == ulab
    ref = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64))) ** 2
    # float32 buffers: errors relative to the spectrum's largest bin
    np.testing.assert_allclose(got, ref, rtol=0, atol=2e-5 * ref.max())


def test_power_of_a_pure_tone_lands_in_its_bin_only():
    script = """
import json, math
from lg.fft import RealFFT
n = 256
f = RealFFT(n)
p = f.run([math.cos(2 * math.pi * 10 * i / n) for i in range(n)])
print(json.dumps([max(range(len(p)), key=lambda k: p[k]), p[10], sum(p) - p[10]]))
"""
    k, peak, rest = result(script)
    assert k == 10 and peak == pytest.approx((256 / 2) ** 2, rel=1e-5) and rest < 1e-3 * peak


def test_non_power_of_two_length_is_refused():
    script = """
import json
from lg.fft import RealFFT
try:
    RealFFT(1000)
except ValueError as exc:
    print(json.dumps(str(exc)))
"""
    assert "power of two" in result(script)


def test_hann_window_matches_scipy_periodic_hann():
    from scipy.signal import get_window

    got = result("import json\nfrom lg.fft import hann\nprint(json.dumps(list(hann(64))))")
    np.testing.assert_allclose(got, get_window("hann", 64), atol=1e-6)
