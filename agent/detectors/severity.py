"""Severity levels with hysteresis, so a finding near a threshold does not flap.

A level is entered when the score reaches its `enter` threshold on `confirm` consecutive
evaluations, and left only when the score has stayed below `enter * release` for `clear`
consecutive evaluations, one level at a time. Going up is quick, coming down is deliberate:
a wear finding that
was real rarely heals, and an alarm that toggles trains people to ignore it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LEVELS = ("normal", "warning", "critical")


@dataclass(frozen=True)
class Thresholds:
    warning: float = 5.0
    critical: float = 10.0
    release: float = 0.7
    confirm: int = 1
    clear: int = 3

    def enter(self, level: str) -> float:
        return {"normal": float("-inf"), "warning": self.warning, "critical": self.critical}[level]

    def level_of(self, score: float) -> str:
        """The level a single score stands for, without history (offline analysis)."""
        if score >= self.critical:
            return "critical"
        return "warning" if score >= self.warning else "normal"


@dataclass
class SeverityLatch:
    thresholds: Thresholds
    level: str = "normal"
    above: int = 0
    below: int = 0

    def update(self, score: float) -> str:
        th = self.thresholds
        idx = LEVELS.index(self.level)
        target = LEVELS.index(th.level_of(score))
        if target > idx:
            self.above += 1
            self.below = 0
            if self.above >= th.confirm:
                self.level, self.above = LEVELS[target], 0
        elif idx > 0 and score < th.enter(self.level) * th.release:
            self.below += 1
            self.above = 0
            if self.below >= th.clear:
                self.level, self.below = LEVELS[idx - 1], 0  # one level per release
        else:
            self.above = self.below = 0
        return self.level

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "above": self.above, "below": self.below}

    @classmethod
    def from_dict(cls, thresholds: Thresholds, d: dict[str, Any]) -> SeverityLatch:
        level = str(d["level"])
        if level not in LEVELS:
            raise ValueError(f"unknown severity {level!r}")
        return cls(thresholds, level, int(d["above"]), int(d["below"]))
