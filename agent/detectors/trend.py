"""Slow-wear trend of one detector's scores: EWMA level, one-sided CUSUM and the time left
until the alarm threshold at the present rate.

The EWMA smooths trip-to-trip scatter (a trip with a noisy spectrum should not move the
level much); the CUSUM accumulates small persistent excesses over `k` and signals drift
before any single trip is alarming (Page, 1954). The rate is the least-squares slope of the
EWMA over its recent history, so the time-to-threshold follows the wear, not a single trip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

HISTORY = 64
MIN_LEVEL_FOR_FORECAST = 1.0  # baseline units


@dataclass
class Trend:
    alpha: float = 0.25  # EWMA weight of the newest score
    cusum_k: float = 2.0  # allowance, in baseline units: scores below k do not accumulate
    cusum_h: float = 12.0  # decision interval
    level: float | None = None
    cusum: float = 0.0
    history: list[tuple[float, float]] = field(default_factory=list)  # (t, level)

    def update(self, t: float, score: float) -> None:
        self.level = score if self.level is None else self.level + self.alpha * (score - self.level)
        self.cusum = max(0.0, self.cusum + score - self.cusum_k)
        self.history.append((t, self.level))
        del self.history[:-HISTORY]

    @property
    def drifting(self) -> bool:
        return self.cusum > self.cusum_h

    def rate_per_s(self) -> float:
        """Least-squares slope of the EWMA level over its history (score units per second)."""
        if len(self.history) < 4:
            return 0.0
        ts = [t for t, _ in self.history]
        ys = [y for _, y in self.history]
        tm, ym = sum(ts) / len(ts), sum(ys) / len(ys)
        var = sum((t - tm) ** 2 for t in ts)
        if var <= 0:
            return 0.0
        return sum((t - tm) * (y - ym) for t, y in zip(ts, ys, strict=True)) / var

    def time_to(self, threshold: float) -> float | None:
        """Seconds until the level reaches `threshold` at the present rate; 0 if already there,
        None if it is not rising."""
        if self.level is None:
            return None
        if self.level >= threshold:
            return 0.0
        if self.level < MIN_LEVEL_FOR_FORECAST:
            return None  # within a baseline unit of healthy: a "rate" there is only scatter
        rate = self.rate_per_s()
        if rate <= 0 or not math.isfinite(rate):
            return None
        return (threshold - self.level) / rate

    def to_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "cusum_k": self.cusum_k, "cusum_h": self.cusum_h,
                "level": self.level, "cusum": self.cusum,
                "history": [list(p) for p in self.history]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trend:
        return cls(float(d["alpha"]), float(d["cusum_k"]), float(d["cusum_h"]),
                   None if d["level"] is None else float(d["level"]), float(d["cusum"]),
                   [(float(t), float(y)) for t, y in d["history"]])
