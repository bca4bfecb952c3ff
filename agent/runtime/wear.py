"""Online wear detection: trips from controller samples, features from the sensor rings.

The offline detectors (agent/detectors) score a recording or a CSV trace; here the same
functions run on the live data of each trip once the car is at standstill again:

    controller samples --TripSegmenter--> Trip --+--> constant/peak phase accel -> vibration
                                                  +--> trace around the trip     -> electrical
                                                  +--> trip audio                -> sound
    features --baseline--> scores --WearTracker (EWMA, hysteresis, persisted)--> severity

`TripJob.analyse()` is the DSP part (pure: arrays in, features out) and runs on the analysis
worker thread; `WearStage.absorb()` updates trends and severity on the runtime loop.

Without a baseline file the stage learns one from the first `learn_trips` trips (the
commissioning period of a new box: the lift is assumed healthy when the box is fitted) and
saves it atomically where [detectors] baseline points, so a restart does not learn again.

The sheave's synchronous figure (sheave_sync.py) is learned apart: it exists only after
MIN_TRIPS trips and its windows overlap, so its healthy level needs SYNC_LEARN figures, more
trips than a commissioning period or a technician's calibration capture holds. Whatever
baseline is in use (learned, from a file, from a calibration) is extended with it once that
many figures from a lift in normal sheave condition are in, and saved again; until then the
sheave is judged trip by trip only.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from agent.detectors import electrical
from agent.detectors.acoustic import sound_features, tones_per_ampere
from agent.detectors.baseline import Baseline, learn, spec_for
from agent.detectors.electrical import ThermalModel
from agent.detectors.evidence import EvidenceBook
from agent.detectors.geometry import LiftGeometry
from agent.detectors.offline import Settings
from agent.detectors.ride import ride_metrics
from agent.detectors.scoring import WEAR_KINDS, noise_finding, ride_finding, wear_scores
from agent.detectors.sheave_sync import (
    FEATURE,
    FEATURE_SE,
    FEATURES,
    SYNC_TRIPS,
    Landings,
    SyncWindow,
    sync_feature,
    trip_orders,
)
from agent.detectors.tracker import Status, WearTracker
from agent.detectors.trips import Trip, TripSegmenter
from agent.detectors.vibration import vibration_features
from agent.events.rules import SERVICE_MODES
from agent.runtime.sensor_ring import SensorRing
from drivers.controller.sample import ControllerSample

log = logging.getLogger("liftguard.detectors")

TRACE_COLUMNS = ("speed_mps", "current_a", "dc_bus_v", "heatsink_c", "ambient_c", "load_pct")
TRACE_PRE_S = 6.0  # electrical.trip_features compares against the 5 s before the trip
# The thermal ratio estimates the heatsink's thermal resistance over the trace so far
# (electrical.thermal_ratios); the longest time constant it fits is ~4.6 h, so 4 h of polls
# are kept (as WearMonitor does). Up to then it sees what `liftguard analyze` sees in a CSV.
THERMAL_HISTORY_S = 4 * 3600.0
MIN_SEGMENT_S = 1.0  # vibration_features needs >= 1 s (as the analyze contract)
LIMIT_CONFIRM = 3  # trips in a row over (or back under) a ride/noise limit to change level
# An ended trip waits at most this long (controller time past its segment) for the sensor
# samples of its segment: live blocks lag the controller by a read period or two.
SENSOR_WAIT_S = 5.0
# Modes in which a run is not the lift's own service: the technician's (a slow inspection
# run, a shaft-learning run), a fire-service run, the drive's fault mode.
NOT_IN_SERVICE_MODES = (*SERVICE_MODES, "fire", "fault")
# Synchronous figures to learn the sheave's healthy level from: two windows' worth, since a
# figure shares most of its trips with its neighbours and a median of one window's
# figures rests on little more than one independent value (the benchmark's car-roof
# baseline holds ~290).
SYNC_LEARN = 2 * SYNC_TRIPS
SYNC_KIND = spec_for(FEATURE).kind  # the finding the figure scores (sheave_wear)


def out_of_service(sample: ControllerSample) -> str | None:
    """Why this poll shows a lift out of normal service (None: in service). A trip near such
    a poll is no wear evidence: an emergency stop, an overspeed or overrun run, a rescue
    run after a fault sag the DC bus and shake the car in ways wear does not, and one such
    trip clipped at +3 in the inverter's evidence window reads as capacitor ageing for the
    next 24 (HIL: a healthy lift scored 3.4 after the fault scenarios)."""
    code = sample.get("fault_code")
    if code not in (None, 0):
        return f"fault code {code}"
    if sample.get("safety_circuit_ok") is False:
        return "safety circuit open"
    mode = sample.get("mode")
    if mode in NOT_IN_SERVICE_MODES:
        return f"{mode} mode"
    return None


@dataclass
class TripJob:
    trip: Trip
    speed_mps: float
    accel: npt.NDArray[np.float64] | None
    accel_fs: float
    accel_channels: tuple[str, ...]
    audio: npt.NDArray[np.float64] | None
    audio_fs: float
    trace: dict[str, npt.NDArray[np.float64]]
    geometry: LiftGeometry
    history: dict[str, npt.NDArray[np.float64]] | None = None  # polls since start, for heat
    thermal: ThermalModel | None = None  # the baseline's healthy thermal model
    # lowest and highest polled speed over the segment (None without a speed register)
    speed_range: tuple[float, float] | None = None
    # why the trip is not scored (a fault or a non-service mode around it), else None
    excluded: str | None = None
    # the landing the trip left (its synchronous-average group) and its direction, +1 up
    landing: tuple[str, int] | None = None

    def analyse(self) -> TripResult:
        if self.excluded is not None:
            return TripResult(self.trip, self.speed_mps, {}, {}, excluded=self.excluded)
        feats: dict[str, float] = {}
        evidence: dict[str, dict[str, float]] = {}
        ride: dict[str, float] = {}
        laeq: float | None = None
        sync = None
        if self.accel is not None and self.accel.shape[0] >= MIN_SEGMENT_S * self.accel_fs:
            vf = vibration_features(self.accel, self.accel_fs, self.speed_mps, self.geometry,
                                    self.speed_range)
            feats.update(vf.values)
            evidence.update(vf.evidence)
            if "z" in self.accel_channels:
                ride = ride_metrics(self.accel, self.accel_channels, "z", self.accel_fs)
            seg = self.trip.phase("constant") or self.trip.phase("peak")
            if seg is not None and "speed_mps" in self.trace:
                sync = trip_orders(self.trip, self.landing, self.accel, self.accel_fs, seg[0],
                                   self.trace["t"], self.trace["speed_mps"], self.geometry)
        if self.audio is not None and self.audio.shape[0] >= MIN_SEGMENT_S * self.audio_fs:
            laeq, tones = sound_features(self.audio, self.audio_fs)
            feats.update(tones)
            # the drive current over the same segment: running bands are judged against a
            # load change too (acoustic.py)
            feats.update(tones_per_ampere(tones, self._segment_current()))
        trace_feats: dict[str, float] = {}
        if "speed_mps" in self.trace and self.trace["t"].size >= 4:
            trace_feats.update(electrical.trip_features(self.trace, self.trip))
        if self.history is not None and self.history["t"].size >= 4:
            trace_feats.update(electrical.thermal_features(self.history, [self.trip],
                                                           self.thermal)[0])
        feats.update(trace_feats)
        return TripResult(self.trip, self.speed_mps, feats, evidence, ride, laeq, trace_feats,
                          sync=sync)

    def _segment_current(self) -> float:
        """Mean |drive current| over the sensor segment; nan without a current column."""
        seg = self.trip.phase("constant") or self.trip.phase("peak")
        cur = self.trace.get("current_a")
        if seg is None or cur is None:
            return math.nan
        inside = (self.trace["t"] >= seg[0]) & (self.trace["t"] <= seg[1])
        return float(np.mean(np.abs(cur[inside]))) if inside.any() else math.nan


@dataclass
class TripResult:
    trip: Trip
    speed_mps: float
    features: dict[str, float]
    evidence: dict[str, dict[str, float]]
    ride: dict[str, float] = field(default_factory=dict)
    laeq_dba: float | None = None
    # `features` holds every feature of the trip; those from the controller trace (also
    # here) belong to the trip as a whole and are learned and scored at its peak speed, as
    # `baseline learn` and `analyze` do with a CSV (offline.py), the sensor features at the
    # speed of the measured segment.
    trace_features: dict[str, float] = field(default_factory=dict)
    excluded: str | None = None  # TripJob.excluded: nothing was computed
    # (landing, sheave order coefficients) for the synchronous average (sheave_sync.py)
    sync: tuple[str, npt.NDArray[np.complex128]] | None = None

    @property
    def observations(self) -> list[tuple[float, dict[str, float]]]:
        """(speed, features) pairs as the baseline learns and scores them."""
        sensor = {k: v for k, v in self.features.items() if k not in self.trace_features}
        out = [(self.speed_mps, sensor)] if sensor else []
        if self.trace_features:
            out.append((self.trip.peak_speed, self.trace_features))
        return out


@dataclass(frozen=True)
class WearFinding:
    """One kind's state after a trip: what the runtime turns into alarms and telemetry."""

    kind: str
    severity: str  # normal, warning, critical
    score: float
    evidence: dict[str, Any]


class WearStage:
    def __init__(self, geometry: LiftGeometry, settings: Settings, *,
                 baseline: Baseline | None, baseline_path: Path | None, learn_trips: int,
                 tracker: WearTracker, state_path: Path | None, keep_s: float,
                 learn_sync: bool = True) -> None:
        self.geometry = geometry
        self.settings = settings
        self.baseline = baseline
        self.baseline_path = baseline_path
        self.learn_trips = learn_trips
        # False for a recording's analysis: the lift it shows is what is judged, never taught
        self.learn_sync = learn_sync
        self.tracker = tracker
        self.state_path = state_path
        self.segmenter = TripSegmenter(settings.trip_rules)
        self.landings = Landings(settings.trip_rules.standstill_mps)
        self.rings = {"accel": SensorRing(keep_s), "audio": SensorRing(keep_s)}
        self._trace = TraceHistory(len(TRACE_COLUMNS) + 1, max(keep_s, THERMAL_HISTORY_S))
        self._keep_s = keep_s
        self._learning: list[list[tuple[float, dict[str, float]]]] = []  # per trip
        self._waiting: deque[Trip] = deque()  # ended trips waiting for their sensor data
        self.trips = 0  # trips ended and handed out for analysis
        self.absorbed = 0  # trip results taken back (trips - absorbed are being analysed)
        self.skipped = 0
        self.excluded = 0  # trips not scored because the lift was out of service around them
        # controller time of the last poll out of service, and why
        self._out_of_service: tuple[float, str] = (-math.inf, "")
        self.last: dict[str, WearFinding] = {}
        self._limit_runs: dict[str, list[Any]] = {}
        # a baseline given at start (the file, or the calibration's) is not reloaded from
        # the file until the file changes
        self._baseline_mtime = (_mtime(baseline_path)
                                if baseline is not None and baseline_path is not None else 0)

    @property
    def learning(self) -> bool:
        return self.baseline is None

    def add_block(self, block: Any, received_at: float) -> None:
        ring = self.rings.get(block.stream)
        if ring is not None:
            ring.add(block, received_at)

    def feed(self, sample: ControllerSample) -> list[TripJob]:
        """Add one poll; returns the analysis jobs of trips whose sensor data is in."""
        speed = sample.get("speed_mps")
        if speed is None:
            return []
        row = (sample.t, *(_num(sample.get(c)) for c in TRACE_COLUMNS))
        self._trace.add(row)
        why = out_of_service(sample)
        if why is not None:
            self._out_of_service = (sample.t, why)
        door = bool(sample.get("door_open_limit") or sample.get("door_open"))
        self.landings.feed(sample.t, float(speed), sample.get("floor"), sample.get("position_m"))
        trip = self.segmenter.feed(sample.t, float(speed), door)
        if trip is not None:
            self._waiting.append(trip)
        return self._ready(sample.t)

    def _ready(self, now: float) -> list[TripJob]:
        """Jobs of the ended trips whose sensor samples are in (sensor blocks travel on their
        own thread and may arrive after the controller row that ends the trip)."""
        out = []
        while self._waiting:
            seg = self._waiting[0].phase("constant") or self._waiting[0].phase("peak")
            if seg is not None and any(self._waits_for(r, seg[1], now)
                                       for r in self.rings.values()):
                break
            out.append(self._job(self._waiting.popleft()))
        return out

    @staticmethod
    def _waits_for(ring: SensorRing, seg_end: float, now: float) -> bool:
        """A live stream is waited for SENSOR_WAIT_S past the segment at most (a silent
        sensor costs only its features); a replayed session stream until it holds the
        segment or its recording ends: its blocks will come, however late the thread."""
        if ring.pinned is None:
            return bool(ring.fs) and now < seg_end + SENSOR_WAIT_S and not ring.covers(seg_end)
        return not ring.covers(seg_end)

    def _job(self, trip: Trip) -> TripJob:
        self.trips += 1
        # any poll from the trace's pre-trip window on, up to now (the trip has ended and
        # its sensor data is in): a fault latched as the car stopped counts too. Such a trip
        # is not analysed, so its sensor windows and heat history are not copied out.
        last_t, why = self._out_of_service
        excluded = why if last_t >= trip.start - TRACE_PRE_S else None
        seg = None if excluded else trip.phase("constant") or trip.phase("peak")
        trace = self._trace_arrays(trip.start - TRACE_PRE_S, trip.end)
        speed = trip.peak_speed
        speed_range = None
        accel = audio = None
        if seg is not None:
            accel = self.rings["accel"].window(*seg)
            audio = self.rings["audio"].window(*seg)
            if "speed_mps" in trace:
                t = trace["t"]
                inside = (t >= seg[0]) & (t <= seg[1])
                if inside.any():
                    # the mean, as TripBuffer gives a recording's sidecar speed_mps: the
                    # baseline learned from recordings is indexed by that figure
                    v = np.abs(trace["speed_mps"][inside])
                    speed = float(np.mean(v))
                    # even a constant phase (within 3 % of peak) may hold the end of a
                    # ramp: a 20 dB rope harmonic gliding 2 % read as bearing impacts
                    speed_range = (float(v.min()), float(v.max()))
        thermal = self.baseline.thermal if self.baseline is not None else None
        # the polls up to the trip's end: what the trip had when it ended, however long
        # it waited for its sensor data
        history = (self._trace_arrays(-math.inf, trip.end)
                   if thermal is not None and excluded is None else None)
        return TripJob(trip, speed, accel, self.rings["accel"].fs, self.rings["accel"].channels,
                       audio, self.rings["audio"].fs, trace, self.geometry, history, thermal,
                       speed_range, excluded, self.landings.reference(trip.start, trip.end))

    def _trace_arrays(self, start: float, end: float) -> dict[str, npt.NDArray[np.float64]]:
        a = self._trace.between(start, end)
        if not a.shape[0]:
            return {"t": np.zeros(0)}
        out = {"t": a[:, 0]}
        for i, name in enumerate(TRACE_COLUMNS, start=1):
            col = a[:, i]
            if np.isfinite(col).all():
                out[name] = col
        return out

    def absorb(self, result: TripResult) -> list[WearFinding]:
        """Score a trip's features; during commissioning, collect them instead."""
        out: list[WearFinding] = []
        if result.excluded is not None:
            # neither learned, scored nor judged against ride and noise limits
            self.excluded += 1
            self.absorbed += 1
            log.info("trip %d not scored: lift out of service around it (%s)", self.trips,
                     result.excluded)
            return out
        if result.sync is not None:
            # the window is detector state, on this thread: trips join it in order
            result.features.update(sync_feature(self.tracker.sync, *result.sync))
            self._learn_sync(result)
        observations = result.observations
        if not observations:
            self.skipped += 1
        elif self.baseline is None:
            # learn_trips = 0: waiting for a baseline file (see reload_baseline); ride and
            # noise limits need none and are judged below all the same
            if self.learn_trips > 0:
                self._learning.append(observations)
                if len(self._learning) >= self.learn_trips:
                    self._finish_learning()
        else:
            scores: dict[str, tuple[float, str]] = {}
            for speed, feats in observations:
                for kind, got in wear_scores(feats, speed, self.baseline,
                                             self.tracker.evidence).items():
                    if kind not in scores or got[0] > scores[kind][0]:
                        scores[kind] = got
            for kind in WEAR_KINDS:
                if kind not in scores:
                    continue
                score, feature = scores[kind]
                # which feature set the kind's score: what a technician reads in the log
                log.info("trip %d %s: %.2f from %s = %.4g", self.trips, kind, score, feature,
                         result.features.get(feature, math.nan))
                st: Status = self.tracker.update(kind, result.trip.end, score)
                ev = {"feature": feature, "score": round(score, 2), "level": round(st.level, 2),
                      "drifting": st.drifting, "speed_mps": round(result.speed_mps, 3)}
                ev.update(result.evidence.get(feature, {}))
                if st.time_to_warning_s is not None and math.isfinite(st.time_to_warning_s):
                    ev["time_to_warning_s"] = round(st.time_to_warning_s, 1)
                out.append(WearFinding(kind, st.severity, st.level, ev))
            if self.state_path is not None:
                self.tracker.save(self.state_path)
        limit_findings = []
        if result.ride:
            ride = ride_finding(result.ride, self.settings.ride)
            if ride is not None:
                limit_findings.append(ride)
        if result.laeq_dba is not None:
            limit_findings.append(noise_finding(result.laeq_dba, True, self.settings.noise))
        for lf in limit_findings:
            out.append(WearFinding(lf.kind, self._confirmed(lf.kind, lf.alarm), lf.score,
                                   lf.evidence))
        for f in out:
            self.last[f.kind] = f
        self.absorbed += 1  # last: a reader that sees the count sees the findings
        return out

    def reload_baseline(self) -> bool:
        """Pick up a baseline file written since the last look (`liftguard baseline learn` on
        a laptop, copied in by a technician): True when a new one was loaded. A damaged file
        is an InputError for the caller to report; the baseline in use stays."""
        p = self.baseline_path
        if p is None:
            return False
        mtime = _mtime(p)
        if mtime in (0, self._baseline_mtime):
            return False
        self._baseline_mtime = mtime
        self.use_baseline(Baseline.load(p))
        log.info("baseline loaded from %s", p)
        return True

    def use_baseline(self, baseline: Baseline) -> None:
        """Score against `baseline` from the next trip on (a file, or a calibration's)."""
        self.baseline = baseline
        self._learning.clear()
        # accumulated evidence is in units of the old baseline: it does not add to the new
        self.tracker.evidence = EvidenceBook()
        # a new baseline follows a repair, a new sensor or a recalibration as often as not:
        # trips averaged before it would judge (or teach as healthy) the old sheave
        self.tracker.sync = SyncWindow()
        self.tracker.sync_learning.clear()

    def _confirmed(self, kind: str, over: bool) -> str:
        """Ride and noise are judged per trip against absolute limits; one rough trip (a
        passenger jumping, a door banging) is not a finding, so a level changes only after
        LIMIT_CONFIRM trips in a row agree."""
        runs = self._limit_runs.setdefault(kind, [0, False])
        if over == runs[1]:
            runs[0] = 0
        else:
            runs[0] += 1
            if runs[0] >= LIMIT_CONFIRM:
                runs[:] = [0, over]
        return "warning" if runs[1] else "normal"

    def _finish_learning(self) -> None:
        # the synchronous figures of these trips are in tracker.sync_learning: learned there
        # once there are enough (_learn_sync), not from however few commissioning gave
        observations = ((speed, {k: v for k, v in feats.items() if k not in FEATURES})
                        for trip in self._learning for speed, feats in trip)
        self.baseline = learn(observations, self.geometry, min_count=min(8, self.learn_trips),
                              sources=[f"{len(self._learning)} trips learned by liftguard run"])
        self._learning.clear()
        log.info("baseline learned from %d trips", self.learn_trips)
        self._save_baseline()
        self._learn_sync(None)

    def _learn_sync(self, result: TripResult | None) -> None:
        """Collect the trip's synchronous figure while the baseline lacks it (and the sheave
        is not found worn: a worn sheave's level is not a healthy one); with SYNC_LEARN of
        them, learn its healthy level into the baseline in use and save that."""
        if not self.learn_sync:
            return
        pending = self.tracker.sync_learning  # persisted: a restart does not start again
        if self.baseline is not None and FEATURE in self.baseline.stats:
            pending.clear()  # learned, or a baseline that came with it
            return
        latch = self.tracker.latches.get(SYNC_KIND)
        if result is not None and FEATURE in result.features and (
                latch is None or latch.level == "normal"):
            pending.append((result.speed_mps, result.features[FEATURE],
                            result.features[FEATURE_SE]))
        if self.baseline is None or len(pending) < SYNC_LEARN:
            return
        b = self.baseline
        got = learn([(speed, {FEATURE: r, FEATURE_SE: se}) for speed, r, se in pending],
                    self.geometry, speed_bin_mps=b.speed_bin_mps, min_count=b.min_count)
        self.baseline = replace(
            b, stats={**b.stats, **got.stats}, trends={**b.trends, **got.trends},
            sources=[*b.sources, f"sheave synchronous figure learned from {len(pending)} "
                                 "trips by liftguard run"])
        log.info("sheave synchronous figure learned from %d trips", len(pending))
        pending.clear()
        self._save_baseline()

    def _save_baseline(self) -> None:
        if self.baseline is not None and self.baseline_path is not None:
            self.baseline.save(self.baseline_path)
            self._baseline_mtime = self.baseline_path.stat().st_mtime_ns

    def summary(self) -> dict[str, Any]:
        th = self.tracker.thresholds
        return {"trips": self.trips, "learning": self.learning,
                "excluded_trips": self.excluded,
                "warning_score": th.warning, "critical_score": th.critical,
                "learned_trips": len(self._learning),
                "sheave_sync_learned_trips": len(self.tracker.sync_learning),
                "scores": {k: round(f.score, 2) for k, f in self.last.items()}}


class TraceHistory:
    """Controller polls as rows of floats (t first) over the last `keep_s`, in one growing
    array: hours of polls cost 8 bytes a value, and a time window is a slice, not a scan."""

    def __init__(self, width: int, keep_s: float) -> None:
        self.keep_s = keep_s
        self._a = np.empty((1024, width))
        self._i0 = self._n = 0  # live rows are _a[_i0:_n]

    def add(self, row: tuple[float, ...]) -> None:
        if self._n == self._a.shape[0]:
            live = self._a[self._i0:self._n]
            grown = np.empty((max(1024, 2 * live.shape[0]), self._a.shape[1]))
            grown[:live.shape[0]] = live
            self._a, self._i0, self._n = grown, 0, live.shape[0]
        self._a[self._n] = row
        self._n += 1
        t = self._a[self._i0:self._n, 0]
        self._i0 += int(np.searchsorted(t, row[0] - self.keep_s))

    def between(self, start: float, end: float) -> npt.NDArray[np.float64]:
        """A copy of the rows with start <= t <= end (the analysis thread keeps it)."""
        t = self._a[self._i0:self._n, 0]
        lo = self._i0 + int(np.searchsorted(t, start))
        hi = self._i0 + int(np.searchsorted(t, end, side="right"))
        return self._a[lo:hi].copy()


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _num(v: Any) -> float:
    if isinstance(v, bool):
        return float(v)
    return float(v) if isinstance(v, int | float) else math.nan
