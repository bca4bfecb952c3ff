"""`liftguard sim record`: run the virtual elevator faster than real time and write what a
technician's capture would hold, in the recording format (ARCHITECTURE.md):

    OUT/controller.csv                 the controller trace, one row per poll
    OUT/tripNNN_accel.wav + .json      accelerometer over each trip's constant-speed phase
    OUT/tripNNN_audio.wav + .json      sound over the same phase
    OUT/restNNN_audio.wav + .json      sound while the car stands (speed 0), one per idle spell

and with --session the whole run as a session recording: the trips are cut from the
controller trace by whoever reads it (`liftguard analyze`, the agent's replay backends):

    OUT/session_accel.wav + .json      accelerometer over the whole run
    OUT/session_audio.wav + .json      sound over the whole run

their sidecars giving start_t (the first sample's time on controller.csv's clock, `t`) and
speed_source = "controller.csv".

`TripCapture` is the reusable part: it steps a model, polls its readings like the agent does,
segments trips from the polled speed, and hands back each finished trip with the sensor data of
its constant-speed phase. The detection benchmark uses it too.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from agent.detectors.capture import CapturedTrip, TripBuffer
from agent.errors import InputError
from drivers.blocks import SampleBlock
from drivers.replay.controller_csv import CONTRACT_COLUMNS
from drivers.replay.recording import Sidecar, atomic_write, write_recording

# sensor data of the whole run stays in memory until written (~100 kB per simulated second)
SESSION_MAX_S = 3600.0
CSV_COLUMNS = ("speed_mps", "current_a", "dc_bus_v", "output_hz", "heatsink_c", "ambient_c",
               "load_pct", "floor", "door_open", "fault_code")


class TripCapture:
    """Steps `model` by `poll_s`, polls its readings like the agent, yields finished trips."""

    def __init__(self, model: Any, poll_s: float = 0.1, keep_blocks: bool = False,
                 geometry: Any = None) -> None:
        self.model = model
        self.poll_s = poll_s
        self.rows: list[tuple[float, dict[str, Any]]] = []
        # with the lift's geometry, each trip also carries its sheave orders (CapturedTrip)
        self.buffer = TripBuffer(geometry=geometry)
        # every sensor block of the run, for a session recording
        self.blocks: dict[str, list[SampleBlock]] | None = (
            {"accel": [], "audio": []} if keep_blocks else None)

    def run(self, duration_s: float, keep_rows: bool = True) -> Iterator[CapturedTrip]:
        end = self.model.t + duration_s
        # A real poller is not locked to the mains: each Modbus transaction takes a few ms
        # more or less, so poll instants wander against the drive's 300 Hz DC-bus ripple.
        rng = np.random.default_rng(getattr(self.model, "seed", 0) + 7919)
        while self.model.t < end:
            self.model.advance(self.poll_s + float(rng.uniform(-0.004, 0.004)))
            r = self.polled()
            t = self.model.t
            if keep_rows:
                self.rows.append((t, {k: r[k] for k in CONTRACT_COLUMNS if k in r}))
            for b in self.model.drain_blocks():
                self.buffer.add_block(b)
                if self.blocks is not None and b.stream in self.blocks:
                    self.blocks[b.stream].append(b)
            got = self.buffer.poll(t, r)
            if got is not None:
                yield got

    def polled(self) -> dict[str, Any]:
        """The model's readings as a poll reads them: register fields pass through the
        profile's encoding (scale, saturation), so the recording holds the controller's
        resolution (0.1 V of DC bus on a NICE3000+), not the model's float truth; a baseline
        learned from it then matches what the live agent sees. Keys outside the profile
        (ambient_c, door_open) stay as the model's truth."""
        r = self.model.readings()
        profile = getattr(self.model, "profile", None)
        if profile is None:
            return r
        return {**r, **profile.decode(profile.encode(r))}


def lift_json(model: Any) -> dict[str, float | int]:
    lp = model.params.lift
    return {"rated_speed_mps": lp.rated_speed_mps, "roping": lp.roping,
            "sheave_diameter_m": lp.sheave_diameter_m, "rope_strands": lp.rope_strands,
            "rope_lay_length_m": lp.rope_lay_length_m}


def write_trip(out: Path, k: int, cap: CapturedTrip, model: Any) -> list[Path]:
    fs = model.params.sensor
    lift = lift_json(model)
    paths = []
    if cap.accel is not None and cap.accel.shape[0] >= fs.accel_fs:
        side = Sidecar("accel", "m/s^2", 1.0, ("x", "y", "z"), "z", round(cap.speed_mps, 4), lift)
        paths.append(write_recording(out / f"trip{k:03d}_accel.wav", cap.accel, fs.accel_fs, side))
    if cap.audio is not None and cap.audio.shape[0] >= fs.audio_fs:
        side = Sidecar("audio", "Pa", 1.0, ("p",), None, round(cap.speed_mps, 4), lift)
        paths.append(write_recording(out / f"trip{k:03d}_audio.wav", cap.audio, fs.audio_fs, side))
    if cap.rest_audio is not None and cap.rest_audio.shape[0] >= fs.audio_fs:
        side = Sidecar("audio", "Pa", 1.0, ("p",), None, 0.0, lift)
        paths.append(write_recording(out / f"rest{k:03d}_audio.wav", cap.rest_audio,
                                     fs.audio_fs, side))
    return paths


def write_session(out: Path, blocks: dict[str, list[SampleBlock]], model: Any,
                  csv_name: str = "controller.csv") -> list[Path]:
    """One WAV per stream over the whole run; start_t on the trace's clock (the model's t,
    which the CSV's rows carry too)."""
    paths = []
    lift = lift_json(model)
    for stream, got in blocks.items():  # every stream checked before any file is written
        for a, b in zip(got, got[1:], strict=False):
            if b.dropped or abs(b.t0 - (a.t0 + a.duration)) > 0.5 / a.fs:
                raise InputError(f"sim record --session: {stream} samples missing at "
                                 f"t = {b.t0:.3f} s (a session must be continuous)")
    for stream, got in blocks.items():
        if not got:
            continue
        data = np.concatenate([b.data for b in got])
        side = (Sidecar("accel", "m/s^2", 1.0, got[0].channels, "z", None, lift,
                        got[0].t0, csv_name) if stream == "accel" else
                Sidecar("audio", "Pa", 1.0, got[0].channels, None, None, lift, got[0].t0,
                        csv_name))
        paths.append(write_recording(out / f"session_{stream}.wav", data, int(got[0].fs),
                                     side))
    return paths


def write_csv(path: Path, rows: list[tuple[float, dict[str, Any]]]) -> None:
    cols = [c for c in CSV_COLUMNS if any(c in r for _, r in rows)]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["t", *cols])
    for t, r in rows:
        w.writerow([f"{t:.3f}", *(_cell(r.get(c)) for c in cols)])
    atomic_write(path, buf.getvalue().encode())


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    return f"{v:.6g}" if isinstance(v, float) else str(v)


# --- command line -----------------------------------------------------------------------------


def configure_record(sub: Any) -> None:
    """Add `record` to the `liftguard sim` action parsers."""
    p = sub.add_parser("record", help="run the model faster than real time and write recordings",
                       description="run the virtual elevator faster than real time and write "
                       "recordings (WAV + sidecar per trip, controller CSV)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    p.add_argument("--duration", type=float, default=300.0, help="simulated seconds (300)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--config", metavar="FILE", help="TOML file with model parameters")
    p.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                   help="override a model parameter, e.g. lift.roping=1")
    p.add_argument("--inject", action="append", default=[], metavar="NAME=VALUE",
                   help="inject a fault from the start, e.g. rope_wear=0.3 (repeatable)")
    p.add_argument("--poll", type=float, default=0.1, help="controller poll period, s (0.1)")
    p.add_argument("--session", action="store_true",
                   help="also write the whole run as session_accel.wav and session_audio.wav "
                   "(sidecar start_t on controller.csv's clock); at most "
                   f"{SESSION_MAX_S:.0f} s")


def run_record(args: argparse.Namespace) -> int:
    from drivers.sim.cli import load_params, parse_assignments
    from drivers.sim.model import ElevatorModel

    if not 1.0 <= args.duration <= 7 * 86400:
        raise InputError(f"--duration = {args.duration}: must be 1 s .. 7 days")
    if not 0.01 <= args.poll <= 5.0:
        raise InputError(f"--poll = {args.poll}: must be 0.01 .. 5 s")
    if args.session and args.duration > SESSION_MAX_S:
        raise InputError(f"--duration = {args.duration}: a --session recording is held in "
                         f"memory until written, at most {SESSION_MAX_S:.0f} s")
    model = ElevatorModel(load_params(args.config, args.set, "random"), seed=args.seed)
    for name, value in parse_assignments(args.inject, "--inject").items():
        model.inject(name, value)
    out = Path(args.output)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create: {exc.strerror}") from None
    cap = TripCapture(model, args.poll, keep_blocks=args.session)
    files = 0
    for k, trip in enumerate(cap.run(args.duration), start=1):
        files += len(write_trip(out, k, trip, model))
    write_csv(out / "controller.csv", cap.rows)
    if cap.blocks is not None:
        files += len(write_session(out, cap.blocks, model))
    print(f"sim record: {files} recordings and controller.csv ({len(cap.rows)} rows) in {out}")
    return 0
