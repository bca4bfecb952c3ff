"""SPI through the Linux spidev driver: the only module in liftguard that imports spidev."""

from __future__ import annotations

from typing import Any

from agent.errors import HardwareUnavailable


class SpidevBus:
    """/dev/spidev{bus}.{device}. `mode` is the SPI mode (CPOL<<1 | CPHA)."""

    def __init__(
        self, bus: int, device: int, *, max_speed_hz: int, mode: int, three_wire: bool = False
    ) -> None:
        try:
            import spidev
        except ImportError:
            raise HardwareUnavailable(
                "the SPI backend needs the spidev package: pip install spidev"
            ) from None
        dev: Any = spidev.SpiDev()
        try:
            dev.open(bus, device)
        except OSError as exc:
            raise HardwareUnavailable(
                f"/dev/spidev{bus}.{device}: {exc.strerror} (enable SPI: dtparam=spi=on)"
            ) from None
        dev.max_speed_hz = max_speed_hz
        dev.mode = mode
        dev.threewire = three_wire
        self._dev = dev

    def transfer(self, data: bytes) -> bytes:
        # xfer2 keeps chip select asserted across the whole list (spidev documentation).
        return bytes(self._dev.xfer2(list(data)))

    def close(self) -> None:
        self._dev.close()
