"""Offline analysis of recordings: the glue between the recording format (drivers.replay) and
the detectors, shared by `liftguard analyze`, `liftguard baseline learn` and the benchmark.

A WAV recording is one constant-speed segment (its sidecar's speed_mps, per the recording
contract); a controller CSV is a trace of many trips, segmented here. A session recording (WAVs
with start_t on a CSV's clock) is cut into trips by that CSV, with the agent's own wear stage
(analyze_paths). Missing optional columns disable only the features that need them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.detectors import electrical
from agent.detectors.acoustic import sound_features
from agent.detectors.baseline import Baseline, learn
from agent.detectors.geometry import LiftGeometry
from agent.detectors.ride import ride_metrics
from agent.detectors.scoring import (
    Finding,
    NoiseLimits,
    RideLimits,
    noise_finding,
    ride_finding,
    wear_findings,
)
from agent.detectors.severity import Thresholds
from agent.detectors.trips import Trip, TripRules, segment_trips
from agent.detectors.vibration import vibration_features
from agent.errors import InputError
from drivers.replay.controller_csv import ControllerTrace, read_controller_csv
from drivers.replay.recording import Recording, read_recording, read_sidecar

NUMERIC_COLUMNS = ("speed_mps", "current_a", "dc_bus_v", "heatsink_c", "ambient_c",
                   "door_open", "load_pct")


@dataclass(frozen=True)
class Settings:
    thresholds: Thresholds = Thresholds()
    ride: RideLimits = RideLimits()
    noise: NoiseLimits = NoiseLimits()
    trip_rules: TripRules = TripRules()
    standstill_mps: float = 0.02


@dataclass
class Observation:
    """Features of one segment (a recording, or one trip of a trace)."""
    speed_mps: float
    t: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, dict[str, float]] = field(default_factory=dict)


def geometry_of(rec: Recording, baseline: Baseline | None) -> LiftGeometry:
    where = str(rec.path.with_suffix(".json"))
    if rec.sidecar.lift:
        g = LiftGeometry.from_mapping(rec.sidecar.lift, where)
        if baseline is not None:
            _check_same_lift(g, baseline, where)
        return g
    if baseline is not None:
        return baseline.lift
    raise InputError(f"{where}: lift is missing (needed for order analysis; or give --baseline)")


def _check_same_lift(g: LiftGeometry, baseline: Baseline, where: str) -> None:
    for k in ("roping", "rope_strands", "rope_lay_length_m", "sheave_diameter_m"):
        a, b = getattr(g, k), getattr(baseline.lift, k)
        if not math.isclose(a, b, rel_tol=1e-6):
            raise InputError(f"{where}: lift.{k} = {a} contradicts the baseline's {b}")


def speed_of(rec: Recording) -> float:
    if rec.sidecar.speed_mps is None:
        raise InputError(f"{rec.path.with_suffix('.json')}: speed_mps is missing "
                         "(the car speed of the recorded segment)")
    return rec.sidecar.speed_mps


def accel_observation(rec: Recording, geometry: LiftGeometry) -> Observation:
    speed = speed_of(rec)
    if speed <= 0:
        raise InputError(f"{rec.path.with_suffix('.json')}: speed_mps = {speed}: an accel "
                         "recording must be a segment at speed")
    if rec.duration < 1.0:
        raise InputError(f"{rec.path}: {rec.duration:.2f} s is too short (need >= 1 s)")
    vf = vibration_features(rec.data, rec.fs, speed, geometry)
    return Observation(speed, 0.0, dict(vf.values), dict(vf.evidence))


def audio_observation(rec: Recording) -> tuple[Observation, float]:
    speed = rec.sidecar.speed_mps or 0.0
    laeq, tones = sound_features(rec.data, rec.fs)
    return Observation(speed, 0.0, tones, {}), laeq


def trace_arrays(trace: ControllerTrace) -> dict[str, np.ndarray]:
    """Numeric columns as float arrays; an empty cell (not read in that poll) holds the last
    value read, as the agent would."""
    n = len(trace.rows)
    out: dict[str, np.ndarray] = {"t": np.array([t for t, _ in trace.rows], dtype=np.float64)}
    for col in NUMERIC_COLUMNS:
        if col not in trace.columns:
            continue
        a = np.full(n, np.nan)
        for i, (_, row) in enumerate(trace.rows):
            v = row.get(col)
            if isinstance(v, bool | int | float):
                a[i] = float(v)
            elif v is not None:
                raise InputError(f"{trace.source}: row {i + 2}: column {col!r} = {v!r} "
                                 "is not a number")
        idx = np.where(np.isfinite(a), np.arange(n), 0)
        np.maximum.accumulate(idx, out=idx)
        a = a[idx]
        if np.isfinite(a).any():
            out[col] = np.where(np.isfinite(a), a, a[np.isfinite(a)][0])
    return out


def trace_trips(arrays: dict[str, np.ndarray], source: str, rules: TripRules) -> list[Trip]:
    if "speed_mps" not in arrays:
        raise InputError(f"{source}: column 'speed_mps' is missing (needed to find trips)")
    return segment_trips(arrays["t"], arrays["speed_mps"], arrays.get("door_open"), rules)


def trace_observations(
    arrays: dict[str, np.ndarray], trips: list[Trip], thermal: electrical.ThermalModel | None
) -> list[Observation]:
    th = electrical.thermal_features(arrays, trips, thermal)
    out = []
    for trip, tf in zip(trips, th, strict=True):
        feats = electrical.trip_features(arrays, trip)
        feats.update(tf)
        out.append(Observation(trip.peak_speed, trip.end, feats, {}))
    return out


# --- the two offline jobs ---------------------------------------------------------------------


def learn_baseline(paths: Iterable[str], lift: LiftGeometry | None = None,
                   settings: Settings = Settings()) -> Baseline:
    """Healthy baseline from recordings and traces of one lift."""
    observations: list[Observation] = []
    geometry = lift
    csvs: list[tuple[str, dict[str, np.ndarray]]] = []
    names = []
    sessions: dict[Path, tuple[str, list[str]]] = {}  # resolved trace -> (trace, WAVs)
    for p in paths:
        names.append(Path(p).name)
        if p.lower().endswith(".csv"):
            trace = read_controller_csv(p)
            csvs.append((p, trace_arrays(trace)))
            continue
        side = read_sidecar(p)
        if side.is_session and side.speed_source is not None:
            trace_path = session_trace(p, side.speed_source)
            sessions.setdefault(Path(trace_path).resolve(), (trace_path, []))[1].append(p)
            continue
        rec = read_recording(p)
        if rec.sidecar.kind == "accel":
            g = geometry_of(rec, None)
            if geometry is None:
                geometry = g
            elif g != geometry and g.to_dict() | {"rated_speed_mps": 0} != \
                    geometry.to_dict() | {"rated_speed_mps": 0}:
                raise InputError(f"{rec.path.with_suffix('.json')}: lift differs from the other "
                                 "recordings (a baseline is per lift)")
            observations.append(accel_observation(rec, g))
        else:
            observations.append(audio_observation(rec)[0])
    for trace_path, wavs in sessions.values():
        from agent.runtime.offline_session import session_observations

        got, g = session_observations(trace_path, wavs, geometry, settings)
        geometry = geometry or g
        observations += [Observation(speed, 0.0, feats) for speed, feats in got]
    thermal = None
    if csvs:
        fits = []
        for _, arr in csvs:
            if "current_a" in arr and "heatsink_c" in arr:
                rise = arr["heatsink_c"] - arr.get("ambient_c", np.min(arr["heatsink_c"]))
                m = electrical.fit_thermal(arr["t"], arr["current_a"], rise)
                if m is not None:
                    fits.append((arr["t"][-1] - arr["t"][0], m))
        thermal = max(fits, key=lambda f: f[0])[1] if fits else None
        for p, arr in csvs:
            observations += trace_observations(arr, trace_trips(arr, p, settings.trip_rules),
                                               thermal)
    if not observations:
        raise InputError("baseline learn: the files hold no usable segment or trip")
    return learn(((o.speed_mps, o.features) for o in observations),
                 geometry or LiftGeometry(), thermal=thermal, sources=names)


def session_trace(wav: str, speed_source: str) -> str:
    """The controller trace a session recording's sidecar names, which must exist."""
    trace = str(Path(wav).parent / speed_source)
    if not Path(trace).is_file():
        raise InputError(f"{Path(wav).with_suffix('.json')}: speed_source = {speed_source!r}: "
                         f"{trace} does not exist (the session's controller trace)")
    return trace


def analyze_paths(paths: Sequence[str], baseline: Baseline | None,
                  settings: Settings = Settings(), options: Any = None
                  ) -> Iterator[dict[str, Any]]:
    """The analyze JSON objects of `paths`, in order. Session recordings (sidecar start_t and
    speed_source) are analysed together with their controller trace, trips cut from its rows
    by the agent's own wear stage (agent/runtime/offline_session.py); `options` is its
    SessionOptions (defaults: `settings` and the agent's defaults)."""
    from agent.runtime.offline_session import SessionOptions, session_results

    opts = options if options is not None else SessionOptions(settings)
    sessions: dict[Path, tuple[str, list[str]]] = {}  # resolved trace -> (trace, WAVs given)
    session_of: dict[str, Path] = {}
    for p in paths:
        if p.lower().endswith(".wav"):
            side = read_sidecar(p)
            if side.is_session and side.speed_source is not None:
                trace = session_trace(p, side.speed_source)
                key = Path(trace).resolve()
                sessions.setdefault(key, (trace, []))[1].append(p)
                session_of[p] = key
    for p in paths:
        if p.lower().endswith(".csv") and Path(p).resolve() in sessions:
            session_of[p] = Path(p).resolve()
    done: dict[Path, dict[str, list[Finding]]] = {}
    for p in paths:
        of = session_of.get(p)
        if of is None:
            yield analyze_file(p, baseline, settings, opts)
            continue
        if of not in done:
            trace, wavs = sessions[of]
            given = [q for q in paths if session_of.get(q) == of]
            trace = next((q for q in given if q.lower().endswith(".csv")), trace)
            done[of] = session_results(trace, wavs, given, baseline, opts)
        yield {"file": Path(p).name, "findings": [f.to_json() for f in done[of][p]]}


def analyze_file(path: str, baseline: Baseline | None, settings: Settings = Settings(),
                 options: Any = None) -> dict[str, Any]:
    """The analyze JSON object of one file (ARCHITECTURE.md, analyze contract)."""
    findings: list[Finding] = []
    if path.lower().endswith(".wav") and read_sidecar(path).is_session:
        return next(analyze_paths([path], baseline, settings, options))
    if path.lower().endswith(".csv"):
        findings = _analyze_trace(path, baseline, settings, options)
    else:
        rec = read_recording(path)
        if rec.sidecar.kind == "accel":
            g = geometry_of(rec, baseline)
            obs = accel_observation(rec, g)
            if baseline is not None:
                findings += wear_findings(obs.features, obs.evidence, obs.speed_mps, baseline,
                                          settings.thresholds)
            ride = ride_finding(ride_metrics(rec.data, rec.sidecar.channels,
                                             rec.sidecar.vertical or rec.sidecar.channels[-1],
                                             rec.fs), settings.ride)
            if ride is not None:
                findings.append(ride)
        else:
            obs, laeq = audio_observation(rec)
            if baseline is not None:
                findings += wear_findings(obs.features, {}, obs.speed_mps, baseline,
                                          settings.thresholds)
            findings.append(noise_finding(laeq, obs.speed_mps > settings.standstill_mps,
                                          settings.noise))
    return {"file": Path(path).name, "findings": [f.to_json() for f in findings]}


def _analyze_trace(path: str, baseline: Baseline | None, settings: Settings,
                   options: Any = None) -> list[Finding]:
    """The trips of a controller trace scored by the agent's own wear stage (a session with
    no sensor recording, agent/runtime/offline_session.py), so a trace replayed through the
    agent ends on this finding; the evidence sums up the trips."""
    from agent.runtime.offline_session import SessionOptions, run_session

    # a bad file is a one-line error with or without a baseline
    trips = trace_trips(trace_arrays(read_controller_csv(path)), path, settings.trip_rules)
    if baseline is None or not trips:
        return []
    opts = options if options is not None else SessionOptions(settings)
    scores: list[tuple[float, str]] = []
    last: dict[str, float] = {}

    def on_trip(result: Any, found: list[Any]) -> None:
        for f in found:
            if f.kind == "inverter_wear":
                scores.append((float(f.evidence["score"]), str(f.evidence["feature"])))
                last.clear()
                last.update(result.trace_features)

    stage = run_session(path, [], baseline, opts, on_trip)
    final = stage.last.get("inverter_wear")
    if final is None:
        return []
    worst, worst_feature = max(scores)
    ev: dict[str, Any] = {
        "trips": stage.trips,
        "trips_over_warning": sum(sc >= settings.thresholds.warning for sc, _ in scores),
        "worst_trip_score": round(worst, 2), "worst_feature": worst_feature,
        "trend_level": round(final.score, 2), "drifting": final.evidence["drifting"],
    }
    if "time_to_warning_s" in final.evidence:
        ev["time_to_warning_s"] = final.evidence["time_to_warning_s"]
    ev.update({k.split(".", 1)[1]: round(v, 5) for k, v in last.items()})
    return [Finding("inverter_wear", final.score, final.severity, ev)]
