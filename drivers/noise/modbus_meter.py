"""An RS-485 Modbus sound level meter sharing the controller's bus.

The common industrial noise transmitters answer Modbus RTU function 03 with the sound level
in dB x 10 in one holding register (address, device id and scale vary by vendor: all from
config). Traffic goes through the controller's `ControllerClient` (its one choke point for the
bus), so polls of the meter and of the controller never interleave on the wire.

Each poll yields a one-sample block on stream "noise_level" (channel "level", units "dB");
a failed poll yields nothing and counts one dropped sample on the next good block, so a
meter that stops answering shows as a gap, never as silence.
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from drivers.accel.source import Clock
from drivers.blocks import SampleBlock
from drivers.controller.errors import ControllerError

log = logging.getLogger("liftguard.noise")

# Plausible sound pressure levels: below 0 dB or above 194 dB (one atmosphere of pressure
# amplitude) a reading is a wiring or scale error, not a sound.
MIN_DB, MAX_DB = 0.0, 194.0


class RegisterReader(Protocol):
    def read_registers(
        self, address: int, count: int, *, device_id: int | None = None,
        function: int = 3, deadline: float | None = None,
    ) -> tuple[int, ...]: ...


class ModbusSoundMeter:
    stream = "noise_level"

    def __init__(
        self, client: RegisterReader, clock: Clock, *, device_id: int, register: int = 0,
        scale: float = 0.1, period_s: float = 1.0, function: int = 3, signed: bool = False,
    ) -> None:
        self._client = client
        self._clock = clock
        self.device_id = device_id
        self.register = register
        self.scale = scale
        self.period = period_s
        self.function = function
        self.signed = signed
        self._due = clock()
        self._seq = 0
        self._missed = 0
        self.failures = 0
        self.out_of_range = 0

    def read(self) -> list[SampleBlock]:
        now = self._clock()
        if now < self._due:
            return []
        # next poll on the period grid; after a stall, skip the missed slots instead of
        # bursting to catch up (the bus is shared with the controller)
        self._due += self.period * max(1, int((now - self._due) / self.period) + 1)
        try:
            (raw,) = self._client.read_registers(
                self.register, 1, device_id=self.device_id, function=self.function
            )
        except ControllerError as exc:
            self.failures += 1
            self._missed += 1
            log.debug("sound meter %d: %s", self.device_id, exc)
            return []
        if self.signed and raw >= 0x8000:
            raw -= 0x10000
        level = raw * self.scale
        if not MIN_DB <= level <= MAX_DB:
            self.out_of_range += 1
            self._missed += 1
            return []
        block = SampleBlock(
            stream=self.stream, seq=self._seq, t0=now, fs=1.0 / self.period, channels=("level",),
            units="dB", data=np.array([[level]], np.float32), dropped=self._missed,
        )
        self._seq += 1
        self._missed = 0
        return [block]

    def close(self) -> None:
        """The client belongs to the controller link; closing the meter leaves it open."""
