"""GPIO: the pin seam, its backends (RPi.GPIO, simulated) and the box's GPIO devices.

`open_pin_factory(section, clock)` picks the backend named by `[gpio] backend`; devices
(`drivers.gpio.devices`) take a factory and never open hardware themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from agent.errors import ConfigError
from drivers.gpio.pins import PinFactory

BACKENDS = ("sim", "rpigpio", "none")


def open_pin_factory(
    section: Mapping[str, Any], clock: Callable[[], float]
) -> PinFactory | None:
    """The pin factory named by `[gpio] backend` (None for "none": a box without GPIO
    devices); the real one is imported only when chosen."""
    backend = section["backend"]
    if backend == "none":
        return None
    if backend == "sim":
        from drivers.gpio.sim import SimPinFactory

        return SimPinFactory(clock)
    if backend == "rpigpio":
        from drivers.gpio.rpigpio import RPiGpioPinFactory

        return RPiGpioPinFactory()
    raise ConfigError(f"gpio.backend = {backend!r}: must be one of {', '.join(BACKENDS)}")
