"""The pin seam: what a GPIO backend provides and what devices use.

Pins are numbered by BCM GPIO number (what the Pi's documentation and `pinout` call GPIOn).
A factory owns its pins; there is no global default factory: the runtime builds one from
config and hands it to every device.
"""

from __future__ import annotations

from typing import Literal, Protocol

from agent.errors import ConfigError

Pull = Literal["up", "down", "off"]

# BCM GPIO numbers usable on the 40-pin header of every Pi since the B+ (GPIO0/1 are the HAT
# EEPROM's I2C bus and are reserved for it by the HAT specification).
HEADER_GPIOS = range(2, 28)


class PinInUse(ConfigError):
    """Two functions were configured on the same GPIO."""


class OutputPin(Protocol):
    """A driven pin. Satisfies the controller link's `DirectionPin` (on/off)."""

    @property
    def number(self) -> int: ...

    @property
    def is_on(self) -> bool: ...

    def on(self) -> None: ...

    def off(self) -> None: ...

    def close(self) -> None: ...


class InputPin(Protocol):
    @property
    def number(self) -> int: ...

    def read(self) -> bool:
        """The electrical level: True = high."""
        ...

    def close(self) -> None: ...


class PinFactory(Protocol):
    def output(self, number: int, *, initial: bool = False) -> OutputPin: ...

    def input(self, number: int, *, pull: Pull = "up") -> InputPin: ...

    def close(self) -> None:
        """Release every pin this factory handed out (outputs go low, then become inputs)."""
        ...


def check_pin(number: int, what: str) -> None:
    if number not in HEADER_GPIOS:
        first, last = HEADER_GPIOS.start, HEADER_GPIOS.stop - 1
        raise ConfigError(f"{what} = {number}: not a header GPIO (BCM {first}-{last})")


class PinRegistry:
    """Refuses a second claim on a pin, so a wiring mistake in config is caught at start."""

    def __init__(self) -> None:
        self._claimed: dict[int, str] = {}

    def claim(self, number: int, what: str) -> None:
        check_pin(number, what)
        if number in self._claimed:
            raise PinInUse(f"GPIO{number} is already used as {self._claimed[number]}")
        self._claimed[number] = what

    def release(self, number: int) -> None:
        self._claimed.pop(number, None)

    @property
    def claimed(self) -> dict[int, str]:
        return dict(self._claimed)
