"""The RPi.GPIO backend: the only module in liftguard that imports RPi.GPIO.

On a Raspberry Pi 5 the GPIO block moved behind the RP1 chip and the original RPi.GPIO does
not work there; the `rpi-lgpio` package installs a drop-in module of the same name
(`RPi.GPIO`, built on lgpio) so this backend runs unchanged. Install one of the two, not both.
RPi.GPIO keeps process-wide state of its own; this class is the only thing that touches it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from agent.errors import HardwareUnavailable
from drivers.gpio.pins import PinRegistry, Pull


def _import_gpio() -> ModuleType:
    try:
        import RPi.GPIO as GPIO  # noqa: N814 - the library's documented spelling
    except ImportError:
        raise HardwareUnavailable(
            "gpio.backend = 'rpigpio' needs the RPi.GPIO module: pip install RPi.GPIO "
            "(Raspberry Pi 5: pip install rpi-lgpio)"
        ) from None
    except RuntimeError as exc:
        # RPi.GPIO installs anywhere but refuses to import off a Pi ("This module can only
        # be run on a Raspberry Pi!").
        raise HardwareUnavailable(f"gpio.backend = 'rpigpio': RPi.GPIO: {exc}") from None
    return GPIO


class RPiGpioOutputPin:
    def __init__(self, gpio: Any, number: int, initial: bool) -> None:
        self._gpio = gpio
        self._number = number
        self._level = initial
        gpio.setup(number, gpio.OUT, initial=gpio.HIGH if initial else gpio.LOW)

    @property
    def number(self) -> int:
        return self._number

    @property
    def is_on(self) -> bool:
        return self._level

    def on(self) -> None:
        self._gpio.output(self._number, self._gpio.HIGH)
        self._level = True

    def off(self) -> None:
        self._gpio.output(self._number, self._gpio.LOW)
        self._level = False

    def close(self) -> None:
        self.off()
        self._gpio.cleanup(self._number)


class RPiGpioInputPin:
    def __init__(self, gpio: Any, number: int, pull: Pull) -> None:
        self._gpio = gpio
        self._number = number
        pud = {"up": gpio.PUD_UP, "down": gpio.PUD_DOWN, "off": gpio.PUD_OFF}[pull]
        gpio.setup(number, gpio.IN, pull_up_down=pud)

    @property
    def number(self) -> int:
        return self._number

    def read(self) -> bool:
        return bool(self._gpio.input(self._number))

    def close(self) -> None:
        self._gpio.cleanup(self._number)


class RPiGpioPinFactory:
    def __init__(self, gpio: ModuleType | None = None) -> None:
        self._gpio: Any = gpio if gpio is not None else _import_gpio()
        self._gpio.setwarnings(False)
        self._gpio.setmode(self._gpio.BCM)
        self._registry = PinRegistry()
        self._pins: list[RPiGpioOutputPin | RPiGpioInputPin] = []

    def output(self, number: int, *, initial: bool = False) -> RPiGpioOutputPin:
        self._registry.claim(number, "an output")
        pin = RPiGpioOutputPin(self._gpio, number, initial)
        self._pins.append(pin)
        return pin

    def input(self, number: int, *, pull: Pull = "up") -> RPiGpioInputPin:
        self._registry.claim(number, "an input")
        pin = RPiGpioInputPin(self._gpio, number, pull)
        self._pins.append(pin)
        return pin

    def close(self) -> None:
        for pin in self._pins:
            pin.close()
            self._registry.release(pin.number)
        self._pins.clear()
