"""A sound calibrator fitted over the box's microphone, for tests on the virtual elevator.

The virtual elevator has no calibrator; in the machine room the technician seals one over
the microphone, after which the microphone hears the calibrator's 1 kHz tone and (almost)
nothing of the room. `FittedCalibrator` models exactly that on the real audio stream: while
`fitted`, each block of the sim's microphone is replaced by the tone at the calibrator's
level, with the same timing. The box's microphone reads `mic_error_db` off nominal, whatever
it hears (calibrator or room): that is what the calibration must find and correct.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from drivers.blocks import SampleBlock

P_REF = 20e-6


class FittedCalibrator:
    def __init__(self, microphone: Any, level_db: float = 94.0, mic_error_db: float = 0.0,
                 frequency_hz: float = 1000.0) -> None:
        self.microphone = microphone
        self.stream = microphone.stream
        self.level_db = level_db
        self.mic_error_db = mic_error_db
        self.frequency_hz = frequency_hz
        self.fitted = False

    def read(self) -> list[SampleBlock]:
        gain = 10 ** (self.mic_error_db / 20)
        blocks = self.microphone.read()
        if not self.fitted:
            return [replace(b, data=(b.data * gain).astype(np.float32)) for b in blocks]
        amp = np.sqrt(2) * P_REF * 10 ** ((self.level_db + self.mic_error_db) / 20)
        out = []
        for b in blocks:
            t = b.t0 + np.arange(b.n) / b.fs
            tone = amp * np.sin(2 * np.pi * self.frequency_hz * t)
            out.append(replace(b, data=tone.astype(np.float32)[:, None]))
        return out

    def close(self) -> None:
        self.microphone.close()
