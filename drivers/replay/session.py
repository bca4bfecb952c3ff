"""A session recording: one controller CSV and the WAVs recorded over the same span beside it.

Each WAV's sidecar names its trace (`speed_source`, relative to the sidecar's folder) and the
time of its first sample on that trace's clock (`start_t`). `liftguard analyze` and the agent's
replay backends both check a session here, with errors naming the file and field, and open
its replays on one `ReplayTimeline`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from drivers.accel.source import Clock
from drivers.replay.controller_csv import ControllerReplay, ControllerTrace
from drivers.replay.recording import Recording, RecordingError, sidecar_path
from drivers.replay.source import RecordingReplay
from drivers.replay.timeline import ReplayTimeline


def speed_source_of(rec: Recording) -> Path:
    """The controller CSV a session recording's sidecar names."""
    if rec.sidecar.speed_source is None:
        raise RecordingError(f"{sidecar_path(rec.path)}: speed_source is missing (not a session "
                             "recording)")
    return rec.path.parent / rec.sidecar.speed_source


def check_in_session(rec: Recording, trace: ControllerTrace,
                     trace_path: str | os.PathLike[str]) -> None:
    """`rec` belongs to `trace`: its sidecar names that file and its span overlaps the rows."""
    side = sidecar_path(rec.path)
    if rec.sidecar.start_t is None:
        raise RecordingError(f"{side}: start_t is missing (needed to play it with {trace.source})")
    named = speed_source_of(rec)
    if _same_file(named, Path(trace_path)) is False:
        raise RecordingError(f"{side}: speed_source = {rec.sidecar.speed_source!r} is not "
                             f"{trace_path} (the trace it is played with)")
    if not trace.rows:
        raise RecordingError(f"{trace.source}: no rows")
    a, b = rec.sidecar.start_t, rec.sidecar.start_t + rec.duration
    c, d = trace.rows[0][0], trace.rows[-1][0]
    if b <= c or a >= d:
        raise RecordingError(f"{side}: start_t = {a}: the recording ({a:.3f} .. {b:.3f} s) does "
                             f"not overlap {trace.source} (t {c:.3f} .. {d:.3f} s)")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


@dataclass
class SessionReplay:
    timeline: ReplayTimeline
    controller: ControllerReplay
    sensors: dict[str, RecordingReplay]  # by stream ("accel", "audio")


def open_session(trace: ControllerTrace, trace_path: str | os.PathLike[str],
                 recordings: Mapping[str, Recording], clock: Clock, *,
                 realtime: bool) -> SessionReplay:
    """The replays of a session on one timeline; `recordings` by stream, each checked."""
    for rec in recordings.values():
        check_in_session(rec, trace, trace_path)
    timeline = ReplayTimeline(clock, trace.rows[0][0] if trace.rows else 0.0, realtime=realtime)
    sensors = {stream: RecordingReplay(rec, clock, realtime=realtime, timeline=timeline)
               for stream, rec in recordings.items()}
    controller = ControllerReplay(trace, clock, realtime=realtime, timeline=timeline)
    return SessionReplay(timeline, controller, sensors)
