"""Capturing a few seconds of one sensor stream, and refusing data that is not a live sensor.

A disconnected sensor shows up three ways, each a one-line `SensorDead` error: no blocks at
all (nothing on the bus or socket), all samples zero (a chip that answers but is not
measuring, an open microphone input), or a channel stuck at one value (a FIFO that is no
longer refilled, a seized ADC). Real sensors always carry their own noise: an ADXL355 at
25 ug/sqrt(Hz) varies by tens of LSB between samples, a microphone by several.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agent.errors import InputError
from calibration.rigs import Rig

SILENCE_S = 3.0  # no block for this long: the sensor is gone
READ_PERIOD_S = 0.05


class SensorDead(InputError):
    """The sensor gives no usable data; nothing is changed."""


def capture(rig: Rig, stream: str, seconds: float, progress: object = None
            ) -> tuple[np.ndarray, float, tuple[str, ...]]:
    """(samples (n, channels), fs, channel names) of `stream` over `seconds` of its time."""
    got: list[np.ndarray] = []
    n_have, fs = 0, 0.0
    channels: tuple[str, ...] = ()
    last_data = rig.now()
    while True:
        for b in rig.blocks():
            if b.stream != stream or b.n == 0:
                continue
            got.append(np.asarray(b.data, dtype=np.float64))
            n_have += b.n
            fs, channels = b.fs, b.channels
            last_data = rig.now()
        if fs and n_have >= seconds * fs:
            break
        if rig.now() - last_data > SILENCE_S:
            raise SensorDead(f"{stream}: no data for {SILENCE_S:g} s from {rig.describe(stream)}"
                             " (sensor disconnected, or its backend not running)")
        if progress is not None and fs:
            progress.update(n_have / fs)  # type: ignore[attr-defined]
        rig.wait(READ_PERIOD_S)
    data = np.concatenate(got)[: int(seconds * fs)]
    check_alive(data, stream, channels)
    return data, fs, channels


def check_alive(data: np.ndarray, stream: str, channels: Sequence[str]) -> None:
    if data.size == 0:
        raise SensorDead(f"{stream}: no samples")
    if not np.isfinite(data).all():
        raise SensorDead(f"{stream}: samples are not finite numbers (sensor fault)")
    if np.all(data == 0):
        raise SensorDead(f"{stream}: every sample is zero (sensor disconnected or not powered)")
    for i, ch in enumerate(channels):
        col = data[:, i]
        if np.all(col == col[0]):
            raise SensorDead(f"{stream}: channel {ch} is stuck at {col[0]:.6g} for "
                             f"{col.size} samples (sensor not updating)")
