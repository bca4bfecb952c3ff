"""The live side of the detectors: controller polls and sensor blocks in, findings out.

`WearMonitor` is what the agent runtime drives: `add_block()` for every sensor block,
`poll()` for every controller sample. When a trip ends it measures the trip (order-tracked
vibration over the peak-speed stretch, DC-link ratio, thermal ratio over the retained
controller history), scores it against the baseline, updates each kind's trend and severity,
saves the tracker state atomically, and returns the findings. A restart with the same state
file resumes the trends and levels exactly (tracker.py).
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np

from agent.detectors import electrical
from agent.detectors.acoustic import sound_features
from agent.detectors.baseline import Baseline
from agent.detectors.capture import CapturedTrip, TripBuffer
from agent.detectors.offline import Settings
from agent.detectors.ride import ride_metrics
from agent.detectors.scoring import Finding, noise_finding, ride_finding, wear_scores
from agent.detectors.sheave_sync import sync_feature
from agent.detectors.tracker import WearTracker
from agent.detectors.vibration import vibration_features
from drivers.blocks import SampleBlock

HISTORY_S = 4 * 3600.0  # controller history kept for the thermal estimate (several tau)
TRACE_COLUMNS = ("speed_mps", "current_a", "dc_bus_v", "heatsink_c", "ambient_c")


class WearMonitor:
    def __init__(self, baseline: Baseline, settings: Settings | None = None,
                 state_path: str | os.PathLike[str] | None = None,
                 trend_alpha: float = 0.25) -> None:
        self.baseline = baseline
        self.settings = settings or Settings()
        self.state_path = state_path
        th = self.settings.thresholds
        self.tracker = (WearTracker.load(state_path, th, trend_alpha) if state_path
                        else WearTracker(th, trend_alpha))
        self._buffer = TripBuffer(self.settings.trip_rules, baseline.lift)
        self._history: deque[tuple[float, ...]] = deque()

    def add_block(self, block: SampleBlock) -> None:
        self._buffer.add_block(block)

    def poll(self, t: float, readings: Mapping[str, Any]) -> list[Finding]:
        row = tuple([t] + [_num(readings.get(c)) for c in TRACE_COLUMNS])
        if not self._history or t - self._history[-1][0] >= 1.0:  # 1 s is plenty for heat
            self._history.append(row)
        while self._history and t - self._history[0][0] > HISTORY_S:
            self._history.popleft()
        cap = self._buffer.poll(t, readings)
        return self._judge(cap) if cap is not None else []

    def _judge(self, cap: CapturedTrip) -> list[Finding]:
        feats: dict[str, float] = {}
        speed = cap.trip.peak_speed
        if cap.cruise is not None and math.isfinite(cap.cruise_speed):
            fs = self._buffer.fs("accel")
            feats.update(vibration_features(cap.cruise, fs, cap.cruise_speed,
                                            self.baseline.lift).values)
            speed = cap.cruise_speed
        if cap.sync is not None:
            feats.update(sync_feature(self.tracker.sync, *cap.sync))
        trace = self._trace()
        if trace is not None:
            feats.update(electrical.trip_features(trace, cap.trip))
            feats.update(electrical.thermal_features(trace, [cap.trip],
                                                     self.baseline.thermal)[0])
        found = []
        scores = wear_scores(feats, speed, self.baseline, self.tracker.evidence)
        for kind, (score, name) in sorted(scores.items()):
            st = self.tracker.update(kind, cap.trip.end, score)
            ev: dict[str, Any] = {"feature": name, "trend_level": round(st.level, 2),
                                  "drifting": st.drifting}
            if name in feats:  # else it scored from earlier trips' evidence (evidence.py)
                ev["value"] = round(feats[name], 4)
            if st.time_to_warning_s is not None:
                ev["time_to_warning_s"] = round(st.time_to_warning_s)
            found.append(Finding(kind, score, st.severity, ev))
        if self.state_path is not None and found:
            self.tracker.save(self.state_path)
        return found + self._comfort(cap)

    def _comfort(self, cap: CapturedTrip) -> list[Finding]:
        """Ride quality of the trip and noise levels (trip, and the rest before it), judged
        against the configured limits."""
        out: list[Finding] = []
        if cap.ride is not None:
            x, i0, i1 = cap.ride
            m = ride_metrics(x, ("x", "y", "z"), "z", self._buffer.fs("accel"), (i0, i1))
            f = ride_finding(m, self.settings.ride)
            if f is not None:
                out.append(f)
        if cap.audio is not None:
            laeq, _ = sound_features(cap.audio, self._buffer.fs("audio"))
            out.append(noise_finding(laeq, True, self.settings.noise))
        if cap.rest_audio is not None:
            laeq, _ = sound_features(cap.rest_audio, self._buffer.fs("audio"))
            out.append(noise_finding(laeq, False, self.settings.noise))
        return out

    def _trace(self) -> dict[str, np.ndarray] | None:
        if len(self._history) < 4:
            return None
        a = np.array(self._history, dtype=np.float64)
        out = {"t": a[:, 0]}
        for i, c in enumerate(TRACE_COLUMNS, start=1):
            if np.isfinite(a[:, i]).all():
                out[c] = a[:, i]
        return out


def _num(v: Any) -> float:
    if isinstance(v, bool):
        return float(v)
    return float(v) if isinstance(v, int | float) else float("nan")
