"""Benchmark of the cext DSP core against what a user would otherwise write (numpy, scipy).

One process pinned to one core; each case times ours and the reference alternately, batch by
batch, in CPU time of the thread, and reports medians; every ratio is reference time / our
time (higher is better) from the same run. The results are checked against the reference
before anything is timed.

    .venv/bin/python benchmarks/dsp.py [--repeats N]

The last line is `summary: ...` with the worst ratio of each goal (issue 4):
  frame_min_small         fused pipeline vs numpy, worst of N=256/512/1024   (goal >= 2.0)
  frame_4096              fused pipeline vs numpy at N=4096                  (goal >= 1.0)
  welch_vs_numpy_min      Welch + bands over 1 s vs numpy batched, worst of 4 (goal >= 1.2)
  welch_vs_scipy_min      the same vs scipy.signal.welch + bands, worst of 4  (goal >= 5.0)
  fft_core_vs_numpy_1024  core rfft vs numpy's batched rfft per frame        (goal >= 1/1.5)
  fft_core_vs_numpy_4096  the same at N=4096                                 (goal >= 1/1.5)
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cext  # noqa: E402
from cext import spectral  # noqa: E402

BAND_EDGE_FRACTIONS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.01)  # of fs/2
WELCH_CASES = ((3200, 256), (4000, 1024), (26700, 1024), (26700, 4096))
CORE_FRAMES = 32


def keep_freed_memory() -> bool:
    """Stop glibc from handing large freed blocks back to the kernel. By default each numpy
    temporary of a few hundred KiB is mmap'ed and unmapped per call, and the page faults (about
    380 per call in the 26.7 kHz Welch case) would more than double the reference's time: that
    is real cost, but not the arithmetic we claim to beat, so the references get their best
    allocation regime (M_MMAP_THRESHOLD and M_TRIM_THRESHOLD raised, mallopt(3))."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 1 << 30) and libc.mallopt(m_trim_threshold, 1 << 30))


def pin_to_one_core() -> int:
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def per_call(fn: Callable[[], object], number: int) -> float:
    # CPU time of this thread, not wall time: on a shared machine the other processes queued
    # on our core would otherwise land in whichever side happened to be running
    start = time.thread_time_ns()
    for _ in range(number):
        fn()
    return (time.thread_time_ns() - start) / number / 1e3


class Timing(NamedTuple):
    """Per-call microseconds: medians (the goal figures) and minima (the quiet-machine view;
    on a shared, loaded machine the allocation-heavy references suffer most from contention)."""

    ours: float
    ref: float
    ours_min: float
    ref_min: float

    def scaled(self, factor: float) -> Timing:
        return Timing(*(v * factor for v in self))


def compare(ours: Callable[[], object], ref: Callable[[], object], repeats: int) -> Timing:
    """Per-call microseconds of ours and ref, timed in alternating batches of >= 1 ms."""
    number = 1
    while per_call(ref, number) * number < 1000 and number < 1 << 20:
        number *= 2
    ours_t, ref_t = [], []
    for i in range(repeats):
        if i % 2:
            ref_t.append(per_call(ref, number))
            ours_t.append(per_call(ours, number))
        else:
            ours_t.append(per_call(ours, number))
            ref_t.append(per_call(ref, number))
    return Timing(statistics.median(ours_t), statistics.median(ref_t), min(ours_t), min(ref_t))


def band_edges(fs: float) -> np.ndarray:
    return np.array(BAND_EDGE_FRACTIONS) * fs / 2


def numpy_band_sums(p: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    # contiguous bands as bin ranges: the usual numpy idiom (one reduceat over the spectrum)
    return np.add.reduceat(p, bounds[:-1])


def frame_case(n: int, repeats: int) -> Timing:
    fs = 3200.0
    edges = band_edges(fs)
    pipe = cext.FramePipeline(n, "hann", edges, fs)
    w = cext.window("hann", n)
    freqs = np.fft.rfftfreq(n, 1 / fs)
    bounds = np.searchsorted(freqs, edges)
    scale = 1.0 / (fs * np.sum(w * w)) * (fs / n)
    frame = np.random.default_rng(n).normal(size=n) + 0.3

    def numpy_frame() -> np.ndarray:
        spectrum = np.fft.rfft((frame - frame.mean()) * w)
        p = spectrum.real**2 + spectrum.imag**2
        p[1:-1] *= 2
        return numpy_band_sums(p, bounds) * scale

    np.testing.assert_allclose(pipe.process(frame), numpy_frame(), rtol=1e-10)
    return compare(lambda: pipe.process(frame), numpy_frame, repeats)


def welch_cases(fs: int, n: int, repeats: int) -> tuple[Timing, Timing]:
    x = np.random.default_rng(fs + n).normal(size=fs) + 0.3
    edges = band_edges(fs)
    w = cext.window("hann", n)
    step = n // 2
    freqs = np.fft.rfftfreq(n, 1 / fs)
    bounds = np.searchsorted(freqs, edges)
    scale = 1.0 / (fs * np.sum(w * w))
    df = fs / n

    def ours() -> np.ndarray:
        f, p = cext.welch(x, fs, n)
        return cext.band_energies(f, p, edges)

    def numpy_batched() -> np.ndarray:
        segments = sliding_window_view(x, n)[::step]
        segments = segments - segments.mean(axis=-1, keepdims=True)
        spectra = np.fft.rfft(segments * w, axis=-1)
        p = (spectra.real**2 + spectra.imag**2).mean(axis=0) * scale
        p[1:-1] *= 2
        return numpy_band_sums(p, bounds) * df

    def scipy_welch() -> np.ndarray:
        _, p = scipy.signal.welch(x, fs, nperseg=n)
        return numpy_band_sums(p, bounds) * df

    np.testing.assert_allclose(ours(), numpy_batched(), rtol=1e-10)
    np.testing.assert_allclose(ours(), scipy_welch(), rtol=1e-10)
    return compare(ours, numpy_batched, repeats), compare(ours, scipy_welch, repeats)


def core_case(n: int, repeats: int) -> Timing:
    x = np.random.default_rng(n).normal(size=(CORE_FRAMES, n))
    plan = spectral._plan(n, x.dtype)
    out = np.empty((CORE_FRAMES, n // 2 + 1), dtype=np.complex128)
    np.testing.assert_allclose(plan.spectrum(x, out), np.fft.rfft(x, axis=-1),
                               atol=1e-10 * np.abs(np.fft.rfft(x, axis=-1)).max())
    timing = compare(lambda: plan.spectrum(x, out), lambda: np.fft.rfft(x, axis=-1), repeats)
    return timing.scaled(1 / CORE_FRAMES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=31, help="timed batches per side")
    args = parser.parse_args(argv)
    if not cext.COMPILED:
        print("cext extension not built: nothing to benchmark", file=sys.stderr)
        return 1
    cpu = pin_to_one_core()
    regime = "freed memory kept" if keep_freed_memory() else "default malloc"
    print(f"cext DSP benchmark: pinned to cpu {cpu}, median of {args.repeats} batches, "
          f"{regime}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'goal':<14}{'case':<24}{'ours us':>9}{'ref us':>10}{'ratio':>7}{'target':>8}"
          f"{'':5}{'ratio of minima':>16}")

    def row(goal: str, case: str, t: Timing, target: float) -> float:
        ratio = t.ref / t.ours
        mark = "ok" if ratio >= target else "MISS"
        print(f"{goal:<14}{case:<24}{t.ours:>9.2f}{t.ref:>10.2f}{ratio:>7.2f}{target:>8.2f}"
              f" {mark:<4}{t.ref_min / t.ours_min:>16.2f}")
        return ratio

    frame_small = [row("frame", f"N={n} vs numpy", frame_case(n, args.repeats), 2.0)
                   for n in (256, 512, 1024)]
    frame_4096 = row("frame", "N=4096 vs numpy", frame_case(4096, args.repeats), 1.0)
    vs_numpy, vs_scipy = [], []
    for fs, n in WELCH_CASES:
        numpy_t, scipy_t = welch_cases(fs, n, args.repeats)
        label = f"{fs / 1000:g}kHz N={n}"
        vs_numpy.append(row("welch+bands", f"{label} vs numpy", numpy_t, 1.2))
        vs_scipy.append(row("welch+bands", f"{label} vs scipy", scipy_t, 5.0))
    core = {n: row("fft core", f"N={n} per frame", core_case(n, args.repeats), 1 / 1.5)
            for n in (1024, 4096)}
    print(f"summary: frame_min_small={min(frame_small):.2f} frame_4096={frame_4096:.2f} "
          f"welch_vs_numpy_min={min(vs_numpy):.2f} welch_vs_scipy_min={min(vs_scipy):.2f} "
          f"fft_core_vs_numpy_1024={core[1024]:.2f} fft_core_vs_numpy_4096={core[4096]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
