"""Replay backends: recordings and controller traces played through a fake clock."""

import numpy as np
import pytest

from drivers.replay.controller_csv import ControllerReplay, parse_controller_csv
from drivers.replay.recording import Recording, RecordingError, Sidecar
from drivers.replay.source import RecordingReplay


class Clock:
    def __init__(self, t=100.0):
        self.t = t

    def __call__(self):
        return self.t


def recording(n=1000, fs=1000.0):
    data = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    side = Sidecar("accel", "m/s^2", 1.0, ("x", "y", "z"), "z")
    return Recording(path=None, sidecar=side, fs=fs, data=data)  # type: ignore[arg-type]


def test_paced_replay_hands_out_blocks_only_when_their_time_has_come():
    clock = Clock()
    src = RecordingReplay(recording(), clock, block_s=0.1, realtime=True)
    assert src.read() == []
    clock.t += 0.25
    blocks = src.read()
    assert [b.seq for b in blocks] == [0, 1]
    assert [b.t0 for b in blocks] == [100.0, 100.1]
    assert all(b.n == 100 and b.stream == "accel" and b.units == "m/s^2" for b in blocks)


def test_paced_replay_carries_every_sample_once_in_order():
    clock, rec = Clock(), recording(n=1234)
    src = RecordingReplay(rec, clock, block_s=0.1)
    got = []
    while not src.finished:
        clock.t += 0.037
        got += src.read()
    np.testing.assert_array_equal(np.concatenate([b.data for b in got]), rec.data)
    assert got[-1].n == 34


def test_fast_replay_gives_one_block_per_read_without_the_clock_moving():
    clock = Clock()
    src = RecordingReplay(recording(), clock, block_s=0.1, realtime=False)
    blocks = [b for _ in range(12) for b in src.read()]
    assert len(blocks) == 10 and src.finished
    assert blocks[-1].t0 == pytest.approx(100.9)


def test_looping_replay_restarts_with_time_running_on():
    clock = Clock()
    src = RecordingReplay(recording(n=200), clock, block_s=0.1, loop=True, realtime=False)
    blocks = [src.read()[0] for _ in range(5)]
    assert not src.finished
    assert [b.t0 for b in blocks] == pytest.approx([100.0, 100.1, 100.2, 100.3, 100.4])
    np.testing.assert_array_equal(blocks[2].data, blocks[0].data)
    assert [b.seq for b in blocks] == [0, 1, 2, 3, 4]


CSV = """t,speed_mps,door_open,car_state,vendor_note
0.0,0.0,true,stopped,hello
0.1,0.5,false,running,
0.2,1.0,0,running,x
"""


def test_csv_keeps_known_columns_and_ignores_unknown_ones():
    trace = parse_controller_csv(CSV, "trip.csv")
    assert trace.columns == ("speed_mps", "door_open", "car_state")
    assert trace.ignored == ("vendor_note",)
    assert trace.rows[1] == (0.1, {"speed_mps": 0.5, "door_open": False, "car_state": "running"})


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty file"),
        ("speed_mps\n1\n", "no 't' column"),
        ("t,t\n1,2\n", "'t' appears twice"),
        ("t,speed_mps\n0,fast\n", r"trip.csv:2: column 'speed_mps' = 'fast' is not a number"),
        ("t,speed_mps\n0,1\n1\n", r"trip.csv:3: 1 cells, header has 2"),
        ("t,speed_mps\n1,1\n0.5,1\n", r"trip.csv:3: t = 0.5 goes back"),
        ("t,speed_mps\nnan,1\n", "column 't' must be a number"),
        ("t,car_state\n0,flying\n", "'car_state' = 'flying'"),
    ],
)
def test_bad_csv_is_one_line_naming_file_line_and_column(text, message):
    with pytest.raises(RecordingError, match=message) as err:
        parse_controller_csv(text, "trip.csv")
    assert str(err.value).startswith("trip.csv") and "\n" not in str(err.value)


def test_controller_replay_paced_by_clock():
    clock = Clock(50.0)
    src = ControllerReplay(parse_controller_csv(CSV), clock)
    first = src.read()
    assert [s.t for s in first] == [50.0] and first[0].readings["door_open"] is True
    clock.t = 50.15
    assert [s.get("speed_mps") for s in src.read()] == [0.5]
    clock.t = 51.0
    assert len(src.read()) == 1 and src.finished


def test_controller_replay_loops_one_poll_period_after_the_end():
    clock = Clock(0.0)
    src = ControllerReplay(parse_controller_csv(CSV), clock, loop=True, realtime=False)
    ts = [src.read()[0].t for _ in range(5)]
    assert ts == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_controller_replay_of_header_only_file_is_refused():
    with pytest.raises(RecordingError, match="no rows"):
        ControllerReplay(parse_controller_csv("t,speed_mps\n", "e.csv"), Clock())
