"""Detector severity on the board as the Pi decides it (agent/detectors/severity.py,
tracker.py, scoring.noise_finding and runtime/wear.py's limit confirmation).

Wear: per finding kind, an EWMA of the segment scores (the Pi's Trend, weight `alpha`) and a
one-sided CUSUM for drift; the severity latch follows the EWMA with hysteresis: a level is
entered when the level reaches its threshold, left only after `clear` evaluations in a row
below `enter * release`, one level at a time. Going up is quick, coming down deliberate, so
an alarm near a threshold does not flap, but it does clear once the score has fallen back.

Noise: L_Aeq against an absolute limit (running or at rest); the level changes only after
LIMIT_CONFIRM judgements in a row agree (one banging door is not a finding).
"""

import math

LEVELS = ("normal", "warning", "critical")
CUSUM_K = 2.0  # the Pi's Trend defaults: allowance and decision interval, baseline units
CUSUM_H = 12.0
LIMIT_CONFIRM = 3


class Latch:
    __slots__ = ("warning", "critical", "release", "clear", "level", "below")

    def __init__(self, warning: float, critical: float, release: float, clear: int) -> None:
        self.warning, self.critical = warning, critical
        self.release, self.clear = release, clear
        self.level = 0  # index in LEVELS
        self.below = 0

    def _of(self, score: float) -> int:
        return 2 if score >= self.critical else 1 if score >= self.warning else 0

    def update(self, score: float) -> str:
        idx, target = self.level, self._of(score)
        if target > idx:
            # confirm = 1 on the Pi (settings_from_section): a level is entered at once
            self.level, self.below = target, 0
        elif idx > 0 and score < (self.warning if idx == 1 else self.critical) * self.release:
            self.below += 1
            if self.below >= self.clear:
                self.level, self.below = idx - 1, 0  # one level per release
        else:
            self.below = 0
        return LEVELS[self.level]


class Tracker:
    """One EWMA, CUSUM and latch per kind; `update` returns (severity, level, drifting)."""

    def __init__(self, d: dict) -> None:
        self.d = d  # cfg["detectors"]: thresholds may change by command (detector.set_threshold)
        self.kinds: dict = {}

    def update(self, kind: str, score: float) -> tuple:
        d = self.d
        st = self.kinds.get(kind)
        if st is None:
            latch = Latch(d["warning_score"], d["critical_score"], d.get("release", 0.7),
                          d.get("clear_count", 3))
            st = self.kinds[kind] = [score, 0.0, latch]
        else:
            st[0] += d.get("trend_alpha", 0.25) * (score - st[0])
        st[1] = max(0.0, st[1] + score - CUSUM_K)
        latch = st[2]
        latch.warning, latch.critical = d["warning_score"], d["critical_score"]
        return latch.update(st[0]), st[0], st[1] > CUSUM_H


class NoiseJudge:
    """The Pi's noise_level finding and its confirmation over LIMIT_CONFIRM judgements."""

    def __init__(self, d: dict) -> None:
        self.running = d.get("noise_running_dba", 80.0)
        self.rest = d.get("noise_rest_dba", 80.0)
        self.runs = 0
        self.over = False

    def update(self, laeq_dba: float, moving: bool) -> tuple:
        """(severity, score, evidence): score is the amplitude ratio to the limit."""
        limit = self.running if moving else self.rest
        over = laeq_dba - limit
        if (over > 0) == self.over:
            self.runs = 0
        else:
            self.runs += 1
            if self.runs >= LIMIT_CONFIRM:
                self.runs, self.over = 0, over > 0
        ev = {"laeq_dba": round(laeq_dba, 1), "limit_dba": limit,
              "state": "trip" if moving else "rest"}
        return ("warning" if self.over else "normal"), math.pow(10, over / 20), ev
