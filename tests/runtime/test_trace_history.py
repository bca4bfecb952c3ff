"""The controller history behind the live wear stage: a bounded time window of poll rows."""

from __future__ import annotations

import numpy as np

from agent.runtime.wear import TraceHistory


def test_rows_older_than_keep_s_are_dropped_and_the_rest_kept_in_order():
    h = TraceHistory(2, keep_s=10.0)
    for k in range(5000):  # grows past its first allocation several times
        h.add((k * 0.1, float(k)))
    rows = h.between(-np.inf, np.inf)
    first_kept = next(k for k in range(5000) if k * 0.1 >= 4999 * 0.1 - 10.0)
    assert rows[:, 1].tolist() == [float(k) for k in range(first_kept, 5000)]


def test_between_takes_both_ends_and_returns_a_copy():
    h = TraceHistory(2, keep_s=100.0)
    for k in range(10):
        h.add((float(k), float(k)))
    window = h.between(3.0, 5.0)
    assert window[:, 0].tolist() == [3.0, 4.0, 5.0]
    window[:] = -1.0
    assert h.between(3.0, 3.0)[:, 1].tolist() == [3.0]


def test_an_empty_window_has_no_rows():
    h = TraceHistory(3, keep_s=5.0)
    assert h.between(0.0, 1.0).shape == (0, 3)
    h.add((1.0, 2.0, 3.0))
    assert h.between(2.0, 3.0).shape == (0, 3)
