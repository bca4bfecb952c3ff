"""Detector state over time: one trend and one severity latch per finding kind, persisted
atomically so an agent restart resumes where it stopped (same level, same trend, same
CUSUM), instead of re-learning the wear from zero or re-raising an acknowledged level."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.detectors.evidence import EvidenceBook
from agent.detectors.severity import SeverityLatch, Thresholds
from agent.detectors.sheave_sync import SyncWindow
from agent.detectors.store import read_json, write_json_atomic
from agent.detectors.trend import Trend
from agent.errors import InputError

SCHEMA = "liftguard.detector-state/1"


@dataclass(frozen=True)
class Status:
    kind: str
    score: float
    level: float  # EWMA of the score
    severity: str
    drifting: bool
    time_to_warning_s: float | None


class WearTracker:
    def __init__(self, thresholds: Thresholds | None = None, alpha: float = 0.25) -> None:
        self.thresholds = thresholds or Thresholds()
        self.alpha = alpha
        self.trends: dict[str, Trend] = {}
        self.latches: dict[str, SeverityLatch] = {}
        # per-feature windows of slow-wear evidence over recent trips (evidence.py)
        self.evidence = EvidenceBook()
        # sheave orders averaged over recent trips at the same sheave angle (sheave_sync.py)
        self.sync = SyncWindow()
        # (speed, figure, its standard error) of trips collected while the baseline lacks
        # the synchronous figure (agent/runtime/wear.py learns its healthy level from them)
        self.sync_learning: list[tuple[float, float, float]] = []

    def update(self, kind: str, t: float, score: float) -> Status:
        trend = self.trends.setdefault(kind, Trend(alpha=self.alpha))
        latch = self.latches.setdefault(kind, SeverityLatch(self.thresholds))
        trend.update(t, score)
        assert trend.level is not None
        # The latch follows the smoothed level: one rough trip does not raise a wear finding,
        # a sustained rise does; the raw score is still reported.
        severity = latch.update(trend.level)
        return Status(kind, score, trend.level, severity, trend.drifting,
                      trend.time_to(self.thresholds.warning))

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA,
                "kinds": {k: {"trend": self.trends[k].to_dict(),
                              "severity": self.latches[k].to_dict()} for k in self.trends},
                "evidence": self.evidence.to_dict(), "sync": self.sync.to_dict(),
                "sync_learning": [list(x) for x in self.sync_learning]}

    def save(self, path: str | os.PathLike[str]) -> None:
        write_json_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike[str], thresholds: Thresholds | None = None,
             alpha: float = 0.25) -> WearTracker:
        """Restore saved state; a missing file is a fresh start, a damaged one an error."""
        tr = cls(thresholds, alpha)
        if not Path(path).exists():
            return tr
        d = read_json(path, "detector state")
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise InputError(f"{path}: schema: expected {SCHEMA!r}")
        try:
            for kind, st in d["kinds"].items():
                tr.trends[kind] = Trend.from_dict(st["trend"])
                tr.latches[kind] = SeverityLatch.from_dict(tr.thresholds, st["severity"])
            # absent in state files written before evidence was kept: a fresh window
            tr.evidence = EvidenceBook.from_dict(d.get("evidence", {}))
            if "sync" in d:  # likewise before the synchronous average was kept
                tr.sync = SyncWindow.from_dict(d["sync"])
            for x in d.get("sync_learning", []):
                speed, r, se = (float(v) for v in x)
                tr.sync_learning.append((speed, r, se))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{path}: detector state is malformed: {exc!r}") from None
        return tr
