"""Sensor blocks placed on the agent's clock, and windows cut from them for a trip phase."""

from __future__ import annotations

import numpy as np

from agent.runtime.sensor_ring import SensorRing
from drivers.blocks import SampleBlock

FS = 100.0
SENSOR_EPOCH = 1_700_000_000.0  # the sensor's own time base (the sim: simulated epoch time)
AGENT_START = 500.0  # the agent's monotonic clock
DELAY = 0.02  # transport delay floor


def block(seq: int, n: int = 50, dropped: int = 0) -> SampleBlock:
    start = seq * n
    data = np.arange(start, start + n, dtype=np.float32)[:, None]
    return SampleBlock("accel", seq, SENSOR_EPOCH + start / FS, FS, ("z",), "m/s^2", data,
                       dropped)


def fill(ring: SensorRing, blocks: int, jitter: list[float] | None = None) -> None:
    for i in range(blocks):
        b = block(i)
        arrival = AGENT_START + (i + 1) * 0.5 + DELAY + (jitter[i] if jitter else 0.0)
        ring.add(b, arrival)


def test_offset_is_the_transport_delay_floor_despite_queueing_jitter():
    ring = SensorRing(keep_s=60)
    fill(ring, 10, jitter=[0.0, 0.3, 0.1, 0.0, 0.25, 0.05, 0.0, 0.4, 0.2, 0.0])
    assert abs(ring.offset - (AGENT_START + DELAY - SENSOR_EPOCH)) < 1e-6


def test_window_in_agent_time_returns_exactly_those_samples():
    ring = SensorRing(keep_s=60)
    fill(ring, 10)
    start = AGENT_START + DELAY + 1.0  # sensor time 1.00 s -> sample 100
    w = ring.window(start, start + 2.0)
    assert w is not None
    assert w.shape == (200, 1)
    assert w[0, 0] == 100 and w[-1, 0] == 299


def test_window_outside_the_kept_history_is_none():
    ring = SensorRing(keep_s=2.0)
    fill(ring, 10)  # 5 s of data, only the last ~2.5 s kept
    assert ring.window(AGENT_START + DELAY, AGENT_START + DELAY + 1.0) is None


def test_window_across_lost_samples_is_none():
    ring = SensorRing(keep_s=60)
    for i in range(6):
        ring.add(block(i, dropped=10 if i == 3 else 0), AGENT_START + (i + 1) * 0.5 + DELAY)
    start = AGENT_START + DELAY
    assert ring.window(start + 0.6, start + 2.5) is None
    assert ring.window(start + 1.6, start + 2.5) is not None  # after the gap: fine
