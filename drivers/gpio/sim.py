"""The simulated GPIO backend: complete, deterministic, and it remembers every transition.

Outputs keep a history of (time, level) from the injected clock so tests (and the demo's live
view) can assert on what a relay or LED did and when. Inputs are driven from outside with
`drive()`, as a technician's finger or a door would; pulls give the idle level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from drivers.gpio.pins import PinRegistry, Pull


class SimOutputPin:
    def __init__(self, number: int, initial: bool, clock: Callable[[], float]) -> None:
        self._number = number
        self._clock = clock
        self._level = initial
        self.history: list[tuple[float, bool]] = [(clock(), initial)]
        self.closed = False

    @property
    def number(self) -> int:
        return self._number

    @property
    def is_on(self) -> bool:
        return self._level

    def on(self) -> None:
        self._set(True)

    def off(self) -> None:
        self._set(False)

    def _set(self, level: bool) -> None:
        if self.closed:
            raise RuntimeError(f"GPIO{self._number} is closed")
        if level != self._level:  # a real pin shows no edge for a repeated write either
            self._level = level
            self.history.append((self._clock(), level))

    def close(self) -> None:
        if not self.closed:
            self._set(False)
            self.closed = True

    def levels(self) -> list[bool]:
        return [level for _, level in self.history]


class SimInputPin:
    def __init__(self, number: int, pull: Pull, wired: bool | None = None) -> None:
        self._number = number
        # With nothing wired the pull sets the level. A floating input reads low here; on
        # hardware it reads noise, which is why every input the box uses has a pull.
        self._level = (pull == "up") if wired is None else wired
        self.closed = False

    @property
    def number(self) -> int:
        return self._number

    def read(self) -> bool:
        if self.closed:
            raise RuntimeError(f"GPIO{self._number} is closed")
        return self._level

    def drive(self, level: bool) -> None:
        self._level = level

    def close(self) -> None:
        self.closed = True


class SimPinFactory:
    def __init__(
        self, clock: Callable[[], float], wired: Mapping[int, bool] | None = None
    ) -> None:
        """`wired`: levels that external circuits hold on inputs before anything changes."""
        self._clock = clock
        self._wired = dict(wired or {})
        self._registry = PinRegistry()
        self.outputs: dict[int, SimOutputPin] = {}
        self.inputs: dict[int, SimInputPin] = {}

    def output(self, number: int, *, initial: bool = False) -> SimOutputPin:
        self._registry.claim(number, "an output")
        pin = SimOutputPin(number, initial, self._clock)
        self.outputs[number] = pin
        return pin

    def input(self, number: int, *, pull: Pull = "up") -> SimInputPin:
        self._registry.claim(number, "an input")
        pin = SimInputPin(number, pull, self._wired.get(number))
        self.inputs[number] = pin
        return pin

    def drive(self, number: int, level: bool) -> None:
        """Set the electrical level seen on a simulated input."""
        self.inputs[number].drive(level)

    def close(self) -> None:
        for out in self.outputs.values():
            out.close()
        for inp in self.inputs.values():
            inp.close()
        for n in list(self._registry.claimed):
            self._registry.release(n)
