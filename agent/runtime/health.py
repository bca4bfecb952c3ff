"""Health of each part of the agent, its changes as events, and the status LED.

A part is `ok`, `degraded` (working with a problem: a silent sensor, a lost controller, an
unreachable broker, a nearly full disk) or `off` (not configured). Every change is committed
as a `health` event on the durable outbox, so the platform learns about a degraded box even
when the change happened while the broker was away. The `state` telemetry message
(`HealthBoard.values()`) summarises all parts in flat key/values, as the telemetry schema
requires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PublishEvent = Callable[[str, str, dict[str, Any]], object]
STATES = ("ok", "degraded", "off")


@dataclass
class PartHealth:
    state: str
    reason: str
    since: float


class HealthBoard:
    def __init__(self, publish_event: PublishEvent, clock: Callable[[], float]) -> None:
        self._publish = publish_event
        self._clock = clock
        self.parts: dict[str, PartHealth] = {}

    def set(self, part: str, state: str, reason: str = "") -> bool:
        """Record a part's state; True (and a `health` event) when it changed."""
        if state not in STATES:
            raise ValueError(f"unknown health state {state!r}")
        old = self.parts.get(part)
        if old is not None and old.state == state:
            old.reason = reason or old.reason
            return False
        self.parts[part] = PartHealth(state, reason, self._clock())
        if old is None and state in ("ok", "off"):
            return True  # start-up: nothing to tell
        severity = "warning" if state == "degraded" else "info"
        self._publish("health", severity, {
            "part": part, "state": state, "previous": old.state if old else None,
            "reason": reason})
        return True

    @property
    def degraded(self) -> list[str]:
        return sorted(p for p, h in self.parts.items() if h.state == "degraded")

    @property
    def overall(self) -> str:
        return "degraded" if self.degraded else "ok"

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {"health": self.overall}
        for part, h in sorted(self.parts.items()):
            out[part] = h.state
            if h.state == "degraded" and h.reason:
                out[f"{part}_reason"] = h.reason[:200]
        return out


def led_pattern(*, maintenance: bool, alarms: int, degraded: bool) -> str:
    """What the status LED shows, most important first: a technician at work, an active
    alarm, a degraded part, all well (drivers/gpio/devices.py PATTERNS)."""
    if maintenance:
        return "maintenance"
    if alarms:
        return "alarm"
    return "degraded" if degraded else "ok"
