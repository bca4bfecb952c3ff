"""A session recording (controller CSV + WAVs on its clock) analysed by the agent's own wear
stage, on one thread: `liftguard analyze` of a session and `liftguard run` replaying it cut
the same trips into the same sample windows and score them the same way, because it is the
same code (WearStage: TripSegmenter, SensorRing windows, scoring, WearTracker) fed the same
rows and blocks by the same replays (drivers/replay/session.py), stamped on the trace's clock.

What differs is only the order in which rows and blocks arrive: here every block of a row's
time is added before the row, in the agent a trip waits for its blocks (WearStage._ready).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.detectors.baseline import Baseline
from agent.detectors.geometry import LiftGeometry
from agent.detectors.offline import Settings
from agent.detectors.scoring import Finding
from agent.detectors.tracker import WearTracker
from agent.errors import InputError
from agent.runtime.wear import TripResult, WearFinding, WearStage
from drivers.replay.controller_csv import read_controller_csv
from drivers.replay.recording import Recording, read_recording, read_sidecar, sidecar_path
from drivers.replay.session import open_session

SENSOR_BUFFER_S = 40.0  # [runtime] sensor_buffer_s default: the agent's ring length
TREND_ALPHA = 0.25  # [detectors] trend_alpha default
STREAM_FILE = {"accel": "accel", "audio": "audio"}


@dataclass(frozen=True)
class SessionOptions:
    """The agent settings that shape what a session gives (from --config, else defaults)."""
    settings: Settings = Settings()
    keep_s: float = SENSOR_BUFFER_S
    trend_alpha: float = TREND_ALPHA


def run_session(trace_path: str, wav_paths: Sequence[str], baseline: Baseline | None,
                options: SessionOptions = SessionOptions(),
                on_trip: Callable[[TripResult, list[WearFinding]], None] | None = None,
                lift: LiftGeometry | None = None) -> WearStage:
    """Every trip of the session through a WearStage (its `last`: each kind's finding);
    `on_trip` sees each trip's result and findings as the stage absorbs them."""
    trace = read_controller_csv(trace_path)
    recs: dict[str, Recording] = {}
    for p in wav_paths:
        rec = read_recording(p)
        have = recs.get(rec.sidecar.kind)
        if have is not None:
            raise InputError(f"{p}: a second {rec.sidecar.kind} recording of {trace_path} "
                             f"(the first is {have.path.name})")
        recs[rec.sidecar.kind] = rec
    session = open_session(trace, trace_path, recs, lambda: 0.0, realtime=False)
    geometry = _geometry(recs, baseline) if lift is None or any(
        r.sidecar.lift for r in recs.values()) else lift
    if lift is not None and geometry.to_dict() | {"rated_speed_mps": 0} != \
            lift.to_dict() | {"rated_speed_mps": 0}:
        raise InputError(f"{sidecar_path(next(iter(recs.values())).path)}: lift differs from "
                         "the other recordings (a baseline is per lift)")
    stage = WearStage(geometry, options.settings, baseline=baseline,
                      baseline_path=None, learn_trips=0,
                      tracker=WearTracker(options.settings.thresholds, options.trend_alpha),
                      state_path=None, keep_s=options.keep_s, learn_sync=False)
    for src in session.sensors.values():
        stage.rings[src.stream].pin(0.0, src.ends_at)
    controller = session.controller
    while not controller.finished:
        for src in session.sensors.values():
            for block in src.read():
                stage.add_block(block, block.t0 + block.duration)
        for sample in controller.read():
            for job in stage.feed(sample):
                result = job.analyse()
                found = stage.absorb(result)
                if on_trip is not None:
                    on_trip(result, found)
    return stage


def session_observations(trace_path: str, wav_paths: Sequence[str],
                         lift: LiftGeometry | None, settings: Settings
                         ) -> tuple[list[tuple[float, dict[str, float]]], LiftGeometry]:
    """(speed, features) of the sensor segments of every trip of a session, as the agent
    learns them during commissioning (the trace's own features are learned from the CSV
    itself when `baseline learn` is given it), and the lift the recordings are of."""
    got: list[tuple[float, dict[str, float]]] = []

    def on_trip(result: TripResult, _: list[WearFinding]) -> None:
        sensor = {k: v for k, v in result.features.items() if k not in result.trace_features}
        if sensor:
            got.append((result.speed_mps, sensor))

    stage = run_session(trace_path, wav_paths, None, SessionOptions(settings), on_trip,
                        lift=lift)
    return got, stage.geometry


def _geometry(recs: Mapping[str, Recording], baseline: Baseline | None) -> LiftGeometry:
    from agent.detectors.offline import geometry_of

    rec = recs.get("accel") or next(iter(recs.values()), None)
    if rec is None or not rec.sidecar.lift:
        if baseline is not None:
            return baseline.lift
        where = sidecar_path(rec.path) if rec is not None else "the session"
        raise InputError(f"{where}: lift is missing (needed for order analysis; or give "
                         "--baseline)")
    return geometry_of(rec, baseline)


def stream_of(finding: WearFinding) -> str:
    """Which recording of a session a finding comes from: 'accel', 'audio' or 'trace'."""
    if finding.kind == "ride_quality":
        return "accel"
    if finding.kind == "noise_level":
        return "audio"
    feature = str(finding.evidence.get("feature", ""))
    if feature.startswith("inverter.tone_"):
        return "audio"
    return "trace" if feature.startswith("inverter.") else "accel"


def session_results(trace_path: str, wav_paths: Sequence[str], given: Sequence[str],
                    baseline: Baseline | None, options: SessionOptions = SessionOptions()
                    ) -> dict[str, list[Finding]]:
    """Findings by input file (the analyze contract prints one object per file): each under
    the recording its evidence comes from, or the first given file of the session when that
    recording was not given."""
    last = run_session(trace_path, wav_paths, baseline, options).last
    home: dict[str, str] = {"trace": trace_path}
    for p in wav_paths:
        home[STREAM_FILE[read_sidecar(p).kind]] = p
    out: dict[str, list[Finding]] = {p: [] for p in given}
    for f in last.values():
        where = home.get(stream_of(f))
        if where not in out:
            where = given[0]
        out[where].append(Finding(f.kind, f.score, f.severity, f.evidence))
    return out


def same_path(a: str, b: str) -> bool:
    return Path(a).resolve() == Path(b).resolve()
