"""Session recordings: WAVs on a controller trace's clock, played in step with it, and the
one-line errors for a session that does not hold together (analyze and the agent alike)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent import config
from agent.cli import main
from agent.errors import LiftguardError
from drivers.replay.controller_csv import parse_controller_csv
from drivers.replay.recording import RecordingError, Sidecar, read_recording, write_recording
from drivers.replay.session import open_session
from tests.support.mosquitto import free_port

FS = 400
LIFT = {"rated_speed_mps": 1.0, "roping": 1, "sheave_diameter_m": 0.4, "rope_strands": 8,
        "rope_lay_length_m": 0.065}


def trace_text(seconds: int = 10) -> str:
    return "t,speed_mps\n" + "".join(f"{10 + k / 10:.1f},0\n" for k in range(seconds * 10))


def session(tmp_path: Path, start_t: float = 10.0, seconds: float = 10.0,
            side: dict[str, object] | None = None) -> tuple[Path, Path]:
    """controller.csv (t 10.0 .. 19.9) and session_accel.wav beside it; `side` edits its
    sidecar afterwards (None removes a field)."""
    trace = tmp_path / "controller.csv"
    trace.write_text(trace_text())
    n = int(seconds * FS)
    data = np.column_stack([np.arange(n) / FS, np.zeros(n), np.ones(n)])
    wav = write_recording(tmp_path / "session_accel.wav", data, FS, Sidecar(
        "accel", "m/s^2", 1.0, ("x", "y", "z"), "z", None, LIFT, start_t, "controller.csv"))
    if side:
        p = wav.with_suffix(".json")
        obj = json.loads(p.read_text())
        obj.update(side)
        p.write_text(json.dumps({k: v for k, v in obj.items() if v is not None}))
    return trace, wav


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_session_replays_stamp_rows_and_blocks_on_the_trace_clock(tmp_path):
    trace_path, wav = session(tmp_path, start_t=9.5)
    rec = read_recording(wav)
    s = open_session(parse_controller_csv(trace_path.read_text(), str(trace_path)), trace_path,
                     {"accel": rec}, Clock(), realtime=False)
    assert s.controller.read() == []  # the first row waits for the sensor samples up to it
    blocks = s.sensors["accel"].read()
    # unpaced, the sensor runs SENSOR_LEAD_S (2 s) ahead of the last row (none yet: t 10.0)
    assert blocks[0].t0 == 9.5 and blocks[-1].t0 + blocks[-1].duration <= 12.0
    first = s.controller.read()
    assert [r.t for r in first] == [10.0]
    # the sample at trace time t is x = t - 9.5 (the ramp written above)
    assert float(blocks[2].data[0, 0]) == pytest.approx(blocks[2].t0 - 9.5)


def test_session_rows_wait_for_every_stream_and_stop_waiting_when_it_ends(tmp_path):
    trace_path, wav = session(tmp_path, start_t=10.0, seconds=1.0)
    s = open_session(parse_controller_csv(trace_path.read_text(), str(trace_path)), trace_path,
                     {"accel": read_recording(wav)}, Clock(), realtime=False)
    s.sensors["accel"].read()  # the whole second: the recording is over
    ts = []
    while not s.controller.finished:
        ts += [r.t for r in s.controller.read()]
    assert len(ts) == 100 and ts[-1] == 19.9


@pytest.mark.parametrize(("side", "wav_bytes", "needle"), [
    ({}, b"RIFF\x00\x00\x00\x00JUNK", "session_accel.wav: not a RIFF/WAVE file"),
    ({"start_t": 30.0}, None, "session_accel.json: start_t = 30.0: the recording "
     "(30.000 .. 40.000 s) does not overlap"),
    ({"start_t": None}, None, "session_accel.json: speed_source is given but start_t is missing"),
    ({"speed_mps": 1.0}, None, "session_accel.json: speed_mps = 1.0 contradicts speed_source"),
    ({"start_t": "soon"}, None, "session_accel.json: start_t = 'soon': must be a number"),
    ({"speed_source": "other.csv"}, None, "session_accel.json: speed_source = 'other.csv' is "
     "not"),
    ({"units": "Pa"}, None, "session_accel.json: units = 'Pa' contradicts kind 'accel'"),
])
def test_bad_session_is_one_line_naming_file_and_field_for_analyze_and_the_agent(
        tmp_path, capsys, side, wav_bytes, needle):
    trace, wav = session(tmp_path, side=side)
    if wav_bytes is not None:
        wav.write_bytes(wav_bytes)
    if "speed_source" in side:  # a trace of that name exists, but it is not the one played
        (tmp_path / str(side["speed_source"])).write_text(trace_text())
    rc = main(["analyze", "--json", str(trace), str(wav)])
    err = capsys.readouterr().err
    if "speed_source" in side:
        assert rc == 0  # analyze plays a WAV with the trace its sidecar names: no conflict
    else:
        assert rc != 0 and err.count("\n") == 1 and needle in err, err
    with pytest.raises(LiftguardError) as got:
        replay_agent(tmp_path, trace, wav)
    assert needle in str(got.value) and "\n" not in str(got.value)


def test_missing_sidecar_is_one_line_for_analyze_and_the_agent(tmp_path, capsys):
    trace, wav = session(tmp_path)
    wav.with_suffix(".json").unlink()
    assert main(["analyze", str(trace), str(wav)]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "session_accel.json: sidecar missing" in err
    with pytest.raises(RecordingError, match="session_accel.json: sidecar missing"):
        replay_agent(tmp_path, trace, wav)


def test_session_in_step_refuses_a_looping_replay(tmp_path):
    trace, wav = session(tmp_path)
    with pytest.raises(LiftguardError, match=r"^accel\.replay_loop = true: a session"):
        replay_agent(tmp_path, trace, wav, accel={"replay_loop": True})


def test_session_in_step_refuses_mixed_pacing(tmp_path):
    trace, wav = session(tmp_path)
    with pytest.raises(LiftguardError, match=r"^accel\.replay_realtime = true contradicts "
                       r"controller\.replay_realtime = false"):
        replay_agent(tmp_path, trace, wav, accel={"replay_realtime": True})


def replay_agent(root: Path, trace: Path, wav: Path, accel: dict | None = None) -> object:
    from agent.runtime.agent import Agent

    cfg = config.from_dict({
        "device": {"site": "bench", "lift": "L1"},
        "controller": {"backend": "replay", "replay_file": str(trace),
                       "replay_realtime": False},
        "accel": {"backend": "replay", "replay_file": str(wav), "replay_realtime": False,
                  **(accel or {})},
        "noise": {"backend": "none"}, "gpio": {"backend": "none"},
        "mqtt": {"tls": False, "port": free_port()},
        "storage": {"outbox_path": str(root / "outbox.db"), "counter_path": str(root / "c.json"),
                    "trail_path": str(root / "trail.jsonl")},
    }, base_dir=root)
    agent = Agent(cfg)
    agent.close()
    return agent


def test_paced_session_hands_out_rows_and_blocks_as_trace_time_passes(tmp_path):
    trace_path, wav = session(tmp_path, start_t=9.5)
    clock = Clock()
    s = open_session(parse_controller_csv(trace_path.read_text(), str(trace_path)), trace_path,
                     {"accel": read_recording(wav)}, clock, realtime=True)
    accel = s.sensors["accel"]
    # at start trace time is the first row's: 10.0
    assert [r.t for r in s.controller.read()] == [10.0]
    assert [b.t0 for b in accel.read()] == [9.5, 9.625, 9.75, 9.875]
    clock.t += 0.35  # trace time 10.35
    assert [r.t for r in s.controller.read()] == [10.1, 10.2, 10.3]
    assert [b.t0 for b in accel.read()] == [10.0, 10.125]  # whole blocks ending by 10.35


def sim_blocks(stream: str, fs: float, starts: list[int], n: int = 100) -> list:
    from drivers.blocks import SampleBlock

    ch = ("x", "y", "z") if stream == "accel" else ("p",)
    return [SampleBlock(stream, k, s / fs, fs, ch, "m/s^2" if stream == "accel" else "Pa",
                        np.full((n, len(ch)), k, dtype=np.float32))
            for k, s in enumerate(starts)]


class Model:
    """What write_session reads of the model: the lift geometry."""

    class params:  # noqa: N801
        class lift:  # noqa: N801
            rated_speed_mps, roping, sheave_diameter_m = 1.0, 1, 0.4
            rope_strands, rope_lay_length_m = 8, 0.065


def test_sim_session_is_one_wav_per_stream_from_the_first_block(tmp_path):
    from drivers.sim.record import write_session

    paths = write_session(tmp_path, {"accel": sim_blocks("accel", 400.0, [40, 140, 240]),
                                     "audio": []}, Model)
    [wav] = paths
    rec = read_recording(wav)
    assert rec.sidecar.start_t == 0.1 and rec.sidecar.speed_source == "controller.csv"
    assert rec.data.shape == (300, 3) and list(rec.data[::100, 0]) == [0.0, 1.0, 2.0]


def test_sim_session_with_a_gap_is_refused(tmp_path):
    from agent.errors import InputError
    from drivers.sim.record import write_session

    with pytest.raises(InputError, match=r"accel samples missing at t = 0\.850 s"):
        write_session(tmp_path, {"accel": sim_blocks("accel", 400.0, [40, 140, 340])}, Model)
    assert not list(tmp_path.iterdir())  # nothing half written


def test_session_wav_without_its_trace_is_one_line_naming_speed_source(tmp_path, capsys):
    trace, wav = session(tmp_path)
    trace.unlink()
    assert main(["analyze", str(wav)]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "session_accel.json: speed_source = 'controller.csv'" in err and "does not exist" in err
