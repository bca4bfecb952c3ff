"""Build replay backends from config sections ([accel]/[noise] replay_file, [controller]):
one recording alone, or a session's trace and recordings in step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.errors import ConfigError
from drivers.accel.source import Clock
from drivers.replay.controller_csv import ControllerReplay, read_controller_csv
from drivers.replay.recording import Recording, read_recording
from drivers.replay.session import open_session
from drivers.replay.source import RecordingReplay

SECTION_KIND = {"accel": "accel", "noise": "audio"}


def open_replay(section: Mapping[str, Any], name: str, clock: Clock) -> RecordingReplay:
    return RecordingReplay(_recording(section, name), clock, loop=section["replay_loop"],
                           realtime=section["replay_realtime"])


def _recording(section: Mapping[str, Any], name: str) -> Recording:
    path = section["replay_file"]
    if not path:
        raise ConfigError(f"{name}.replay_file is required for backend = 'replay'")
    rec = read_recording(path)
    want = SECTION_KIND[name]
    if rec.sidecar.kind != want:
        raise ConfigError(
            f"{name}.replay_file = {path}: sidecar kind is {rec.sidecar.kind!r}, [{name}] "
            f"needs kind {want!r}"
        )
    return rec


def open_controller_replay(
    path: str, clock: Clock, *, loop: bool = False, realtime: bool = True
) -> ControllerReplay:
    return ControllerReplay(read_controller_csv(path), clock, loop=loop, realtime=realtime)


def open_replays(controller: Mapping[str, Any], sensors: Mapping[str, Mapping[str, Any]],
                 clock: Clock) -> tuple[ControllerReplay, dict[str, RecordingReplay]]:
    """The controller trace and, when [accel]/[noise] replay session recordings of it, those
    in step on one timeline (drivers/replay/session.py): section name -> sensor replay. A
    sensor recording that is not a session plays on its own (open_replay)."""
    path = controller["replay_file"]
    trace = read_controller_csv(path)
    recs = {name: _recording(s, name) for name, s in sensors.items()
            if s["backend"] == "replay"}
    recs = {name: rec for name, rec in recs.items() if rec.sidecar.is_session}
    realtime = controller["replay_realtime"]
    if not recs:
        return ControllerReplay(trace, clock, loop=controller["replay_loop"],
                                realtime=realtime), {}
    for name in ("controller", *recs):
        s = controller if name == "controller" else sensors[name]
        if s["replay_loop"]:
            raise ConfigError(f"{name}.replay_loop = true: a session recording "
                              f"({recs[next(iter(recs))].path.name}) plays once, in step")
        if s["replay_realtime"] != realtime:
            raise ConfigError(f"{name}.replay_realtime = {str(s['replay_realtime']).lower()} "
                              f"contradicts controller.replay_realtime = {str(realtime).lower()}"
                              " (a session plays in step)")
    session = open_session(trace, path, {SECTION_KIND[n]: r for n, r in recs.items()}, clock,
                           realtime=realtime)
    return session.controller, {n: session.sensors[SECTION_KIND[n]] for n in recs}
