"""I2C through smbus2: the only module in liftguard that imports smbus2."""

from __future__ import annotations

from typing import Any

from agent.errors import HardwareUnavailable

# SMBus block reads carry at most 32 bytes (SMBus 2.0 specification, I2C_SMBUS_BLOCK_MAX).
SMBUS_BLOCK_MAX = 32


class Smbus2Bus:
    def __init__(self, bus: int) -> None:
        try:
            from smbus2 import SMBus
        except ImportError:
            raise HardwareUnavailable(
                "the I2C backend needs the smbus2 package: pip install smbus2"
            ) from None
        try:
            self._bus: Any = SMBus(bus)
        except OSError as exc:
            raise HardwareUnavailable(
                f"/dev/i2c-{bus}: {exc.strerror} (enable I2C: dtparam=i2c_arm=on)"
            ) from None

    def read_block(self, address: int, register: int, n: int) -> bytes:
        if n > SMBUS_BLOCK_MAX:
            raise ValueError(f"SMBus block read of {n} bytes (max {SMBUS_BLOCK_MAX})")
        return bytes(self._bus.read_i2c_block_data(address, register, n))

    def write_byte(self, address: int, register: int, value: int) -> None:
        self._bus.write_byte_data(address, register, value)

    def close(self) -> None:
        self._bus.close()
