"""The virtual controller's RTU receiver (drivers/sim/receiver.py): frames end at t3.5 of
silence, incomplete and CRC-failed frames are dropped silently, and a good request after a
gap is passed on whatever garbage came before it (Modbus over Serial Line V1.02 2.5.1.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.controller.rtu import crc_ok, with_crc
from drivers.sim.receiver import FrameReceiver, request_length
from drivers.sim.wire import LineSettings

LINE = LineSettings(19200, "E")
CT, T35 = LINE.char_time, LINE.t3_5
READ = with_crc(bytes([1, 3, 0x10, 0x10, 0, 4]))
# An FC16 header announcing 200 data bytes: a receiver without a silence timer waits for them.
FC16_HEADER = bytes([1, 0x10, 0, 0, 0, 0x64, 0xC8, 0x12, 0x34])


def send(rx: FrameReceiver, start: float, data: bytes) -> tuple[list[bytes], float]:
    """Characters back to back from `start`, as the wire schedule delivers them, each fed
    with the time the next one ends; the frames passed on and when the last one ended."""
    frames: list[bytes] = []
    ends = [start + (i + 1) * CT for i in range(len(data))]
    for i, byte in enumerate(data):
        frames += rx.feed(ends[i], byte, ends[i + 1] if i + 1 < len(data) else None)
    return frames, ends[-1] if ends else start


@pytest.mark.parametrize(
    ("head", "length"),
    [(bytes([1, 3]), 8), (bytes([1, 4]), 8), (bytes([1, 6]), 8), (bytes([1, 17]), 4),
     (bytes([1, 16, 0, 0, 0, 2, 4]), 13), (bytes([1, 15, 0, 0, 0, 9, 2]), 11),
     (bytes([1, 22]), 10), (bytes([1]), None), (bytes([1, 16, 0, 0, 0, 2]), None),
     (bytes([1, 43, 14, 1, 0]), None)],
)
def test_request_length_follows_the_function_code(head, length):
    assert request_length(head) == length


def test_a_request_is_passed_on_with_its_last_character():
    rx = FrameReceiver(T35)
    frames, _ = send(rx, 0.0, READ)
    assert frames == [READ]
    assert rx.deadline() is None


def test_a_good_request_after_a_garbled_fc16_header_and_a_gap_is_passed_on():
    rx = FrameReceiver(T35)
    frames, end = send(rx, 0.0, FC16_HEADER)
    assert frames == []
    frames, _ = send(rx, end + T35, READ)
    assert frames == [READ]
    assert rx.counters.dropped_incomplete == 1


def test_the_open_frame_ends_when_the_line_has_been_silent_for_t3_5():
    rx = FrameReceiver(T35)
    _, end = send(rx, 0.0, FC16_HEADER)
    assert rx.deadline() == pytest.approx(end + T35)
    assert rx.expire(end + 0.9 * T35) == []
    assert rx.deadline() is not None
    assert rx.expire(end + T35) == []
    assert rx.deadline() is None
    assert rx.counters.dropped_incomplete == 1


def test_a_request_with_a_bad_crc_is_dropped_silently():
    rx = FrameReceiver(T35)
    bad = READ[:-1] + bytes([READ[-1] ^ 0x40])
    frames, end = send(rx, 0.0, bad)
    assert frames == [] and rx.expire(end + T35) == []
    assert rx.counters.dropped_crc == 1 and rx.counters.requests == 0


def test_garbage_glued_to_a_request_spoils_the_whole_frame():
    # No silence between them: one frame to the receiver, whose CRC fails; the master's
    # retry after the gap is read.
    rx = FrameReceiver(T35)
    frames, end = send(rx, 0.0, bytes([0x55, 0x03]) + READ)
    assert frames == [] and rx.expire(end + T35) == []
    frames, _ = send(rx, end + T35, READ)
    assert frames == [READ]


def test_garbage_glued_behind_a_request_spoils_the_whole_frame():
    rx = FrameReceiver(T35)
    frames, end = send(rx, 0.0, READ + bytes([0x12, 0x9A]))
    assert frames == [] and rx.expire(end + T35) == []
    assert rx.counters.dropped_crc == 1


def test_a_request_followed_only_after_t3_5_is_passed_on_at_once():
    rx = FrameReceiver(T35)
    frames: list[bytes] = []
    for i, byte in enumerate(READ):
        at = (i + 1) * CT
        # the next frame on the wire: its first character ends t3.5 + one character later
        frames += rx.feed(at, byte, at + CT if i < 7 else at + T35 + CT)
    assert frames == [READ]


def test_a_function_of_unknown_length_ends_at_the_silence():
    rx = FrameReceiver(T35)
    mei = with_crc(bytes([1, 43, 14, 1, 0]))  # read device identification (MAP 6.21)
    frames, end = send(rx, 0.0, mei)
    assert frames == []
    assert rx.expire(end + T35) == [mei]


def test_frames_separated_by_t3_5_are_read_one_by_one():
    rx = FrameReceiver(T35)
    other = with_crc(bytes([1, 4, 0x10, 0x18, 0, 1]))
    first, end = send(rx, 0.0, READ)
    second, _ = send(rx, end + T35, other)
    assert (first, second) == ([READ], [other])


@given(garbage=st.binary(min_size=1, max_size=300))
def test_after_any_garbage_and_a_gap_the_next_request_is_read_and_no_bad_frame_passes(
        garbage):
    rx = FrameReceiver(T35)
    frames, end = send(rx, 0.0, garbage)
    passed, _ = send(rx, end + T35, READ)  # its first character ends the garbage's frame
    frames += passed
    assert all(crc_ok(f) for f in frames)
    assert frames[-1] == READ
    assert rx.deadline() is None


@given(fields=st.binary(min_size=4, max_size=4), function=st.sampled_from([3, 4]),
       flips=st.integers(1, 255), at=st.sampled_from([0, 2, 3, 4, 5, 6, 7]))
def test_a_read_request_hit_by_noise_is_never_passed_on(fields, function, flips, at):
    bad = bytearray(with_crc(bytes([1, function]) + fields))
    bad[at] ^= flips  # CRC-16 catches every error burst of up to 16 bits (MOSL 6.2.2)
    rx = FrameReceiver(T35)
    frames, end = send(rx, 0.0, bytes(bad))
    assert frames + rx.expire(end + T35) == []
    assert rx.counters.dropped_crc == 1


@given(data=st.binary(min_size=1, max_size=80))
def test_whatever_arrives_only_crc_valid_frames_are_passed_on(data):
    rx = FrameReceiver(T35)
    frames, end = send(rx, 0.0, data)
    assert all(crc_ok(f) for f in frames + rx.expire(end + T35))
