"""Evidence accumulated over recent trips, for slow wear whose per-trip feature is weak.

The DC-link capacitor ages over months. A controller polled at ~10 Hz sees only a dozen bus
readings during an acceleration, so one trip's bus sag (electrical.trip_features) scatters by
12-14 % around its healthy line in the load, while C at 80 % with ESR at 1.8x raises it by
~24 %: under two baseline units on a single trip, not an alarm. The wear is the same on every
trip, though, so the evidence of the last N trips adds up:

    A = sum_k clip(z_k, -CLIP_Z, CLIP_Z) / sqrt(n)      (n = trips held, at most N)

is again in baseline units (unit variance on a healthy lift, trips being independent) and grows
as sqrt(N) x the per-trip shift of 1.2-1.5 units: 7-9 at the goal level with N = 36, where
24 left one goal-level figure in ten under the warning (benchmarks/inverter_detection.py,
2026-12-04: 92 % at C 80 %, healthy maximum 2.45). Trips are not quite independent: a busy
spell carries similar loads for several trips, which is why the sag is judged against its
load (electrical.py) and not per ampere. Clipping each trip's score keeps one odd trip (a
mains dip during the acceleration) from making the sum alone. The per-trip score of an
accumulated feature is replaced by A wherever the agent keeps state (the live wear stage, the
benchmark); a single recording scored without history keeps z_k.

A rolling-element bearing's defect is the same kind of evidence. A spalled race impacts on
every turn of every trip, but one trip's impulsiveness is a statistic of the few impacts its
constant-speed phase holds: about a dozen on a one-floor trip at 1.15 m/s (BPFO ~4.8 sheave
orders), against a few dozen at rated speed. On a car-roof sensor, where the impacts arrive
through the ropes and the car's own ride vibration, such a trip scored 3-7 baseline units at
bearing_wear 0.3 where a rated-speed trip scored 12-16 (benchmarks/detection.py, 2026-12-03:
81.8 % of car-roof trips over the warning, 100 % on the machine bedplate). Eight trips are
minutes to an hour of service, far quicker than a spall grows, and with the clip a fault
needs at least three trips of evidence before it can warn (3 x 3 / sqrt(3) > 5).

The windows are part of the detector state (tracker.py) and survive an agent restart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# feature -> trips accumulated. 36 motoring trips are a few hours of a lift in service: far
# quicker than the capacitor ages, slow enough to average the poll phase scatter away.
# 8 trips for the bearing's impulsiveness and high-band level (see above).
BEARING_TRIPS = 8
ACCUMULATED = {"inverter.dc_sag_v": 36, "bearing.kurtosis": BEARING_TRIPS,
               "bearing.env_q": BEARING_TRIPS, "bearing.hf_level": BEARING_TRIPS}
CLIP_Z = 3.0


@dataclass
class Evidence:
    n: int
    scores: list[float] = field(default_factory=list)

    def add(self, z: float) -> float:
        """Take one trip's score; the accumulated score over the trips held."""
        self.scores.append(max(-CLIP_Z, min(CLIP_Z, z)))
        del self.scores[:-self.n]
        return sum(self.scores) / math.sqrt(len(self.scores))


@dataclass
class EvidenceBook:
    """One window per accumulated feature."""

    windows: dict[str, Evidence] = field(default_factory=dict)

    def accumulate(self, feature: str, z: float) -> float:
        """The feature's accumulated score after this trip, or z itself if it is not one of
        the accumulated features."""
        n = ACCUMULATED.get(feature)
        if n is None:
            return z
        return self.windows.setdefault(feature, Evidence(n)).add(z)

    def standing(self) -> dict[str, float]:
        """The accumulated score of every feature held, as it stands: a trip that cannot
        measure the feature (a regenerating acceleration does not sag the bus) leaves the
        evidence of the trips before it in force."""
        return {k: sum(w.scores) / math.sqrt(len(w.scores))
                for k, w in self.windows.items() if w.scores}

    def to_dict(self) -> dict[str, Any]:
        return {k: {"n": w.n, "scores": list(w.scores)} for k, w in self.windows.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvidenceBook:
        book = cls()
        for k, w in d.items():
            if str(k) not in ACCUMULATED:
                continue  # a feature since retired (its scores meant something else)
            n = ACCUMULATED[str(k)]
            book.windows[str(k)] = Evidence(n, [float(z) for z in w["scores"]][-n:])
        return book
