"""Bus seams for sensor chips: an SPI transaction and I2C register access.

Chip drivers take one of these and never open hardware themselves; the spidev and smbus2
adapters (the only modules that import those libraries) and the register-level fakes in the
tests are interchangeable behind them.
"""

from __future__ import annotations

from typing import Protocol


class SpiBus(Protocol):
    def transfer(self, data: bytes) -> bytes:
        """One full-duplex transaction with chip select held low throughout: len(out) ==
        len(data), byte i clocked in while byte i of `data` was clocked out."""
        ...

    def close(self) -> None: ...


class I2cBus(Protocol):
    def read_block(self, address: int, register: int, n: int) -> bytes:
        """Write `register`, repeated start, read `n` bytes (the chip auto-increments)."""
        ...

    def write_byte(self, address: int, register: int, value: int) -> None: ...

    def close(self) -> None: ...


class RegisterAccess(Protocol):
    """What a chip driver needs: read n bytes from a register, write one."""

    def read(self, register: int, n: int = 1) -> bytes: ...

    def write(self, register: int, value: int) -> None: ...
