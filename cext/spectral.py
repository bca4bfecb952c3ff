"""The spectral API of cext: argument checking, then the compiled kernels (or, where the
extension is not built, the numpy reference).

Every bad argument raises ValueError with a one-line message naming the argument and value.
"""

from __future__ import annotations

import math
import threading
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from cext import reference
from cext._backend import COMPILED, dsp
from cext.windows import window as make_window

MIN_SIZE = 64
MAX_SIZE = 8192

# Plans own scratch buffers used without the GIL, so a plan must never run in two threads at
# once: each thread keeps its own.
_local = threading.local()


def check_size(n: Any, what: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise ValueError(f"{what} must be an integer, got {n!r}")
    n = int(n)
    if n < MIN_SIZE or n > MAX_SIZE or n & (n - 1):
        raise ValueError(f"{what} must be a power of two in {MIN_SIZE}..{MAX_SIZE}, got {n}")
    return n


def _float_dtype(dtype: npt.DTypeLike) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def _signal(x: Any, what: str = "x") -> np.ndarray:
    a = np.asarray(x)
    if a.dtype not in (np.float32, np.float64):
        raise ValueError(f"{what} must be a float32 or float64 array, got dtype {a.dtype}")
    if a.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {a.shape}")
    return np.ascontiguousarray(a)


def _positive(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{what} must be a positive finite number, got {value!r}")
    return v


def _detrend(detrend: Any) -> bool:
    if detrend == "constant":
        return True
    if detrend is False or detrend == "none":
        return False
    raise ValueError(f"detrend must be 'constant', 'none' or False, got {detrend!r}")


def _scaling(scaling: Any) -> str:
    if scaling not in ("density", "spectrum"):
        raise ValueError(f"scaling must be 'density' or 'spectrum', got {scaling!r}")
    return str(scaling)


def window_array(window: Any, n: int, dtype: np.dtype) -> np.ndarray:
    """A window given by name (cext.windows) or as n finite samples, in dtype."""
    if isinstance(window, str):
        cache = _local.__dict__.setdefault("windows", {})
        key = (window, n, dtype.str)
        if key not in cache:
            w = make_window(window, n, dtype)
            w.setflags(write=False)
            cache[key] = w
        return cache[key]
    w = np.asarray(window, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"window must be a name or an array of {n} samples, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("window contains NaN or infinite values")
    return np.ascontiguousarray(w, dtype=dtype)


def edges_array(edges: Any, what: str = "edges") -> np.ndarray:
    try:
        e = np.asarray(edges, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a sequence of numbers, got {edges!r}") from None
    if e.ndim != 1 or e.size < 2:
        raise ValueError(f"{what} must be 1-D with at least two values, got shape {e.shape}")
    if not np.all(np.isfinite(e)) or not np.all(np.diff(e) > 0):
        raise ValueError(f"{what} must be finite and strictly increasing, got {e.tolist()}")
    return np.ascontiguousarray(e)


def _plan(n: int, dtype: np.dtype) -> Any:
    cache = _local.__dict__.setdefault("plans", {})
    key = (n, dtype.str)
    if key not in cache:
        cache[key] = dsp.RealFFT(n, dtype)
    return cache[key]


def _require_finite(a: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} contains NaN or infinite samples")


def _frequency_grid(n: int, fs: float, w: np.ndarray, scaling: str,
                    window_key: object) -> tuple[np.ndarray, float]:
    """rfftfreq(n, 1/fs) (read-only, shared) and the PSD scale, cached per thread for named
    windows: at a few segments per block these cost as much as the transforms."""
    cache = _local.__dict__.setdefault("grids", {})
    key = (n, fs, scaling, window_key, w.dtype.str)
    if window_key is None or key not in cache:
        freqs = np.fft.rfftfreq(n, 1.0 / fs)
        freqs.setflags(write=False)
        entry = (freqs, reference.density_scale(w, fs, scaling))
        if window_key is None:
            return entry
        cache[key] = entry
    return cache[key]


def welch(x: Any, fs: float = 1.0, nperseg: int = 256, noverlap: int | None = None,
          window: Any = "hann", detrend: Any = "constant",
          scaling: str = "density") -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD of a 1-D float signal: the defaults and meaning of scipy.signal.welch (one-
    sided, mean of periodograms), with nperseg a power of two in 64..8192 and nperseg longer
    than x an error rather than a silent shortening. Returns (freqs, psd): freqs float64 and
    read-only (shared between calls), psd in x's dtype."""
    a = _signal(x)
    fs = _positive(fs, "fs")
    n = check_size(nperseg, "nperseg")
    if n > a.size:
        raise ValueError(f"nperseg ({n}) is longer than the signal ({a.size} samples)")
    overlap = n // 2 if noverlap is None else noverlap
    if isinstance(overlap, bool) or not isinstance(overlap, int | np.integer) \
            or not 0 <= overlap < n:
        raise ValueError(f"noverlap must be an integer in 0..{n - 1}, got {noverlap!r}")
    w = window_array(window, n, a.dtype)
    trend = _detrend(detrend)
    freqs, scale = _frequency_grid(n, fs, w, _scaling(scaling),
                                   window if isinstance(window, str) else None)
    if COMPILED:
        return freqs, dsp.welch_psd(_plan(n, a.dtype), a, w, n - int(overlap), trend, scale)
    _require_finite(a, "x")
    return reference.welch(a, fs, n, int(overlap), w, trend, scaling)


def rfft_power(frame: Any, window: Any) -> np.ndarray:
    """abs(numpy.fft.rfft(frame * window))**2, in the frame's dtype, for a frame of a power-of-
    two length in 64..8192; window is a name (cext.windows) or an array."""
    a = _signal(frame, "frame")
    n = check_size(a.size, "frame length")
    w = window_array(window, n, a.dtype)
    if COMPILED:
        out = np.empty(n // 2 + 1, dtype=a.dtype)
        return _plan(n, a.dtype).power_spectrum(a, w, out)
    _require_finite(a, "frame")
    return reference.rfft_power(a, w)


def band_energies(freqs: Any, psd: Any, edges: Any) -> np.ndarray:
    """For each consecutive pair of edges, the integral of psd over [lo, hi): the sum of
    psd * df over the bins with lo <= f < hi (df = freqs[1] - freqs[0])."""
    f = _signal(freqs, "freqs").astype(np.float64, copy=False)
    p = _signal(psd, "psd").astype(np.float64, copy=False)
    if COMPILED:
        # the kernel checks lengths, spacing, finiteness and edge order in its own loops
        try:
            e = np.asarray(edges, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"edges must be a sequence of numbers, got {edges!r}") from None
        if e.ndim != 1 or e.size < 2:
            raise ValueError(f"edges must be 1-D with at least two values, got shape {e.shape}")
        return dsp.band_sums(f, p, np.ascontiguousarray(e))
    e = edges_array(edges)
    if f.size < 2 or p.size != f.size:
        raise ValueError(f"freqs and psd must have the same length >= 2, got {f.size}, {p.size}")
    _require_finite(p, "psd")
    return reference.band_energies(f, p, e)


def order_band_energies(freqs: Any, psd: Any, orders: Any, ref_hz: float) -> np.ndarray:
    """Band energies with edges given in orders of ref_hz (e.g. the sheave's rotation rate),
    so the bands follow the machine's speed from block to block."""
    ref = _positive(ref_hz, "ref_hz")
    return band_energies(freqs, psd, edges_array(orders, "orders") * ref)


class PipelineSetup(NamedTuple):
    window: np.ndarray
    freqs: np.ndarray
    edges: np.ndarray
    scale: float
    detrend: bool


def pipeline_setup(n: int, window: Any, edges: Any, fs: float, dtype: npt.DTypeLike,
                   detrend: Any, scaling: Any) -> PipelineSetup:
    """Check a FramePipeline's arguments once; scale folds the PSD scaling and df together."""
    n = check_size(n)
    dt = _float_dtype(dtype)
    fs = _positive(fs, "fs")
    w = window_array(window, n, dt)
    freqs = np.fft.rfftfreq(n, 1.0 / fs)
    scale = reference.density_scale(w, fs, _scaling(scaling)) * float(freqs[1])
    return PipelineSetup(w, freqs, edges_array(edges), scale, _detrend(detrend))


class NumpyFramePipeline:
    """cext.FramePipeline where the extension is not built: same interface, numpy inside."""

    def __init__(self, n: int, window: Any, edges: Any, fs: float,
                 dtype: npt.DTypeLike = np.float64, detrend: Any = "constant",
                 scaling: Any = "density", orders: bool = False) -> None:
        s = pipeline_setup(n, window, edges, fs, dtype, detrend, scaling)
        self.n, self.dtype, self.orders = s.window.size, s.window.dtype, bool(orders)
        self.freqs, self.edges = s.freqs, s.edges
        self._impl = reference.FramePipeline(self.n, s.window, s.freqs, s.edges, s.scale,
                                             s.detrend, self.orders)
        self.out = self._impl.out

    def process(self, frame: Any, ref_hz: float | None = None) -> np.ndarray:
        if self.orders and ref_hz is None:
            raise ValueError("this pipeline's edges are in orders: pass ref_hz")
        if not self.orders and ref_hz is not None:
            raise ValueError("ref_hz is only meaningful for a pipeline built with orders=True")
        ref = _positive(ref_hz, "ref_hz") if self.orders else 1.0
        a = np.asarray(frame)
        if a.dtype != self.dtype or a.shape != (self.n,):
            raise ValueError(f"frame must be a 1-D {self.dtype} array of {self.n} samples, "
                             f"got shape {a.shape} dtype {a.dtype}")
        _require_finite(a, "frame")
        return self._impl.process(a, ref)


FramePipeline: Any = dsp.FramePipeline if COMPILED else NumpyFramePipeline
