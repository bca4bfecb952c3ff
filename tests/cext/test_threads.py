"""Kernels release the GIL; plans are per thread, so concurrent calls give the same results
as serial ones."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

import cext

EDGES = [0.0, 100.0, 400.0, 1601.0]


def test_concurrent_welch_calls_match_serial_results():
    signals = [np.random.default_rng(i).normal(size=8000) for i in range(8)]
    serial = [cext.welch(x, 3200.0, 1024)[1] for x in signals]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(5):
            concurrent = list(pool.map(lambda x: cext.welch(x, 3200.0, 1024)[1], signals))
            for got, expected in zip(concurrent, serial, strict=True):
                np.testing.assert_array_equal(got, expected)


def test_one_pipeline_per_thread_gives_serial_results():
    frames = [np.random.default_rng(i).normal(size=512) for i in range(4)]
    serial = [cext.FramePipeline(512, "hann", EDGES, 3200.0).process(f).copy() for f in frames]

    def run(frame):
        pipe = cext.FramePipeline(512, "hann", EDGES, 3200.0)
        return [pipe.process(frame).copy() for _ in range(200)]

    with ThreadPoolExecutor(4) as pool:
        for results, expected in zip(pool.map(run, frames), serial, strict=True):
            for got in results:
                np.testing.assert_array_equal(got, expected)
