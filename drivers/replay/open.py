"""Build replay backends from config sections ([accel]/[noise] replay_file, [controller])."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.errors import ConfigError
from drivers.accel.source import Clock
from drivers.replay.controller_csv import ControllerReplay, read_controller_csv
from drivers.replay.recording import read_recording
from drivers.replay.source import RecordingReplay

SECTION_KIND = {"accel": "accel", "noise": "audio"}


def open_replay(section: Mapping[str, Any], name: str, clock: Clock) -> RecordingReplay:
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
    return RecordingReplay(rec, clock, loop=section["replay_loop"],
                           realtime=section["replay_realtime"])


def open_controller_replay(
    path: str, clock: Clock, *, loop: bool = False, realtime: bool = True
) -> ControllerReplay:
    return ControllerReplay(read_controller_csv(path), clock, loop=loop, realtime=realtime)
