"""The wire model: character timing, t3.5 gaps and the FC03 wire limit (Modbus over Serial
Line V1.02 2.5.1.1, REFERENCE 3), scheduling of bursts, and bus noise."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.errors import InputError
from drivers.sim.master import crc16
from drivers.sim.wire import TO_MASTER, TO_SLAVE, BusNoise, LineSettings, WireSchedule


@pytest.mark.parametrize(
    ("baud", "parity", "registers", "ms"),
    [  # the REFERENCE 3 table of minimum transaction times
        (9600, "N", 10, 41.7), (9600, "N", 60, 145.8), (9600, "E", 30, 91.7),
        (19200, "N", 10, 20.8), (19200, "E", 60, 80.2), (115200, "N", 10, 6.36),
        (115200, "E", 60, 16.2),
    ],
)
def test_read_transaction_time_matches_reference_table(baud, parity, registers, ms):
    line = LineSettings(baud, parity)
    assert line.read_transaction_time(registers) * 1e3 == pytest.approx(ms, abs=0.06)


@pytest.mark.parametrize(
    ("parity", "stopbits", "bits"), [("N", 1, 10), ("E", 1, 11), ("O", 1, 11), ("N", 2, 11)]
)
def test_parity_and_stop_bits_are_charged_per_character(parity, stopbits, bits):
    assert LineSettings(19200, parity, stopbits).bits_per_char == bits


def test_t3_5_is_fixed_above_19200_baud():
    assert LineSettings(38400).t3_5 == pytest.approx(1.75e-3)
    assert LineSettings(38400).t1_5 == pytest.approx(0.75e-3)
    assert LineSettings(19200).t3_5 == pytest.approx(3.5 * 10 / 19200)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"baud": 12345}, "baud rate 12345"), ({"parity": "X"}, "parity 'X'"),
     ({"stopbits": 3}, "stop bits 3"), ({"bytesize": 7}, "8 data bits")],
)
def test_bad_line_settings_are_input_errors(kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        LineSettings(**kwargs)


def test_a_burst_is_paced_one_character_time_per_byte():
    line = LineSettings(9600, "E")
    due = WireSchedule(line).place(TO_SLAVE, 1.0, 8)
    assert due[0] == pytest.approx(1.0 + line.char_time)
    assert due[-1] - due[0] == pytest.approx(7 * line.char_time)


def test_the_answer_waits_t3_5_after_the_request_ends():
    line = LineSettings(19200)
    sched = WireSchedule(line)
    request = sched.place(TO_SLAVE, 0.0, 8)
    answer = sched.place(TO_MASTER, request[-1] + 0.0001, 21)
    assert answer[0] - line.char_time == pytest.approx(request[-1] + line.t3_5)


def test_back_to_back_transactions_take_the_wire_limit():
    line = LineSettings(19200)
    sched = WireSchedule(line)
    t = 0.0
    starts = []
    for _ in range(5):  # stations that answer instantly
        req = sched.place(TO_SLAVE, t, 8)
        starts.append(req[0] - line.char_time)
        t = sched.place(TO_MASTER, req[-1], 5 + 2 * 8)[-1]
    period = starts[-1] - starts[-2]
    assert period == pytest.approx(line.read_transaction_time(8))


def test_bytes_arriving_while_a_frame_is_sent_continue_it_without_a_gap():
    line = LineSettings(9600)
    sched = WireSchedule(line)
    first = sched.place(TO_SLAVE, 0.0, 4)
    second = sched.place(TO_SLAVE, 0.001, 4)  # the writer split its frame
    assert second[0] == pytest.approx(first[-1] + line.char_time)


def test_unpaced_wire_delivers_on_arrival():
    assert WireSchedule(LineSettings(), paced=False).place(TO_SLAVE, 2.5, 3) == [2.5] * 3


def test_clean_bus_leaves_frames_alone():
    noise = BusNoise(random.Random(1), level=0.0)
    assert noise.corrupt(b"\x01\x03\x00\x00").kind == "clean"
    assert noise.idle_burst(10.0) == b""


@given(st.binary(min_size=4, max_size=40), st.integers(0, 2**32))
def test_a_bit_flip_always_breaks_the_crc(body, seed):
    frame = body + crc16(body).to_bytes(2, "little")
    rng = random.Random(seed)
    while True:
        hit = BusNoise(rng, level=1.0).corrupt(frame)
        if hit.kind == "bitflip":
            break
    data = hit.data
    assert crc16(data[:-2]) != int.from_bytes(data[-2:], "little")


def test_full_noise_hits_every_frame_and_fills_idle_time():
    noise = BusNoise(random.Random(7), level=1.0)
    kinds = {noise.corrupt(b"\x01\x03\x02\x00\x01\x79\x84").kind for _ in range(200)}
    assert kinds == {"bitflip", "garbage_before", "garbage_after", "truncated"}
    bursts = [noise.idle_burst(1.0) for _ in range(50)]
    assert all(bursts)


def test_noise_level_sets_the_share_of_hit_frames():
    noise = BusNoise(random.Random(3), level=0.3)
    hits = sum(noise.corrupt(b"\x01\x03\x00\x10\x00\x08").kind != "clean" for _ in range(4000))
    assert 0.25 < hits / 4000 < 0.35
