"""Passenger arrivals: a seeded random generator or a script of (time, from, to).

Floors are numbered 1..floors, as the controller's floor register shows them. A call source
is asked for the arrivals due up to a time; it never looks at the clock itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from agent.errors import InputError


@dataclass(frozen=True)
class Arrival:
    t: float
    origin: int
    destination: int


class RandomCalls:
    """Poisson arrivals; a share of trips starts or ends at the main floor (floor 1)."""

    def __init__(self, floors: int, per_minute: float, lobby_fraction: float,
                 rng: np.random.Generator, start: float = 0.0) -> None:
        self.floors = floors
        self.rate = per_minute / 60.0
        self.lobby_fraction = lobby_fraction
        self.rng = rng
        self._next = start + self._gap()

    def _gap(self) -> float:
        return float(self.rng.exponential(1.0 / self.rate)) if self.rate > 0 else float("inf")

    def due(self, t: float) -> list[Arrival]:
        out = []
        while self._next <= t:
            origin, dest = self._pair()
            out.append(Arrival(self._next, origin, dest))
            self._next += self._gap()
        return out

    def _pair(self) -> tuple[int, int]:
        rng, n = self.rng, self.floors
        if rng.random() < self.lobby_fraction:
            other = int(rng.integers(2, n + 1))
            return (1, other) if rng.random() < 0.5 else (other, 1)
        origin = int(rng.integers(1, n + 1))
        dest = int(rng.integers(1, n))
        return origin, dest + 1 if dest >= origin else dest


class ScriptedCalls:
    """Arrivals from a list of (time_s, from_floor, to_floor), validated up front."""

    def __init__(self, script: Iterable[tuple[float, int, int]], floors: int) -> None:
        items = []
        for i, entry in enumerate(script):
            try:
                t, a, b = float(entry[0]), int(entry[1]), int(entry[2])
            except (TypeError, ValueError, IndexError):
                raise InputError(
                    f"call script entry {i}: {entry!r} must be (time, from, to)") from None
            if not (1 <= a <= floors and 1 <= b <= floors) or a == b or t < 0:
                raise InputError(f"call script entry {i}: {entry!r}: floors must be distinct, "
                                 f"within 1..{floors}, time >= 0")
            items.append(Arrival(t, a, b))
        self._items = sorted(items, key=lambda x: x.t)
        self._i = 0

    def due(self, t: float) -> list[Arrival]:
        out = []
        while self._i < len(self._items) and self._items[self._i].t <= t:
            out.append(self._items[self._i])
            self._i += 1
        return out
