"""RTU framing: CRC, request bytes, response scanning with garbage, split and corrupt frames."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymodbus.framer.rtu import FramerRTU

from drivers.controller.errors import CrcError, ExceptionResponse, FrameError
from drivers.controller.rtu import (
    ReadRequest,
    crc16,
    encode_exception,
    encode_response,
    min_transaction_s,
    parse_request,
    scan_response,
    t35,
    with_crc,
)

REQ = ReadRequest(1, 0x1010, 2)
GOOD = encode_response(REQ, [0x03E8, 0x06D6])


def test_read_request_bytes_match_the_modbus_spec_example():
    # MAP V1.1b3 6.3 example (read 3 registers from 107, i.e. address 0x006B) on device 17
    assert ReadRequest(0x11, 0x006B, 3).encode() == bytes.fromhex("1103006B00037687")


@given(st.binary(max_size=300))
def test_crc_agrees_with_pymodbus(data):
    # pymodbus returns the CRC as the two wire bytes read big-endian (low byte first on wire)
    crc = crc16(data)
    assert ((crc & 0xFF) << 8 | crc >> 8) == FramerRTU.compute_CRC(data)


def test_response_layout_is_address_function_count_data_crc():
    assert GOOD[:3] == bytes((1, 3, 4)) and GOOD[3:7] == bytes.fromhex("03E806D6")
    assert crc16(GOOD) == 0  # a frame with its CRC appended has a zero residue


@pytest.mark.parametrize(
    "wire, expected_skip",
    [
        (GOOD, 0),
        (b"\x00\xff\x13" + GOOD, 3),
        (b"\x01\x03\x99\x01" + GOOD, 4),  # looks like a start, wrong byte count
        (bytes.fromhex("01030400000000") + GOOD[:0] + b"\x00" + GOOD, 8),  # bad CRC first
    ],
)
def test_scan_finds_good_frame_after_garbage(wire, expected_skip):
    scan = scan_response(REQ, wire)
    assert scan.registers == (0x03E8, 0x06D6)
    assert scan.skipped == expected_skip


@pytest.mark.parametrize("cut", range(len(GOOD)))
def test_split_frame_asks_for_the_missing_bytes(cut):
    scan = scan_response(REQ, GOOD[:cut])
    assert scan.registers is None and scan.error is None
    assert scan.need == (len(GOOD) - cut if cut >= 3 else 1)


def test_frame_with_bad_crc_is_counted_not_accepted():
    bad = GOOD[:-1] + bytes([GOOD[-1] ^ 0x01])
    scan = scan_response(REQ, bad)
    assert scan.registers is None and scan.crc_failures == 1


def test_response_from_another_device_is_ignored():
    other = encode_response(ReadRequest(2, 0x1010, 2), [1, 2])
    assert scan_response(REQ, other).registers is None


def test_exception_response_is_typed():
    scan = scan_response(REQ, encode_exception(REQ, 2))
    assert isinstance(scan.error, ExceptionResponse) and scan.error.code == 2


@pytest.mark.parametrize(
    "frame, error",
    [
        (b"\x01\x03", FrameError),
        (with_crc(bytes.fromhex("010310100002")) + b"\x00", FrameError),
        (bytes.fromhex("0103101000020000"), CrcError),
        (with_crc(bytes.fromhex("010310100000")), FrameError),  # count 0
    ],
)
def test_bad_requests_are_rejected_by_the_slave_side(frame, error):
    with pytest.raises(error):
        parse_request(frame)


@pytest.mark.parametrize(
    "baud, bits, expected_ms",
    [(9600, 11, 4.0104), (19200, 11, 2.0052), (115200, 10, 1.75), (38400, 11, 1.75)],
)
def test_t35_follows_mosl_including_fixed_value_above_19200(baud, bits, expected_ms):
    assert t35(baud, bits) * 1e3 == pytest.approx(expected_ms, abs=1e-3)


@pytest.mark.parametrize(
    "baud, bits, n, ms",  # REFERENCE.md section 3 table
    [(9600, 10, 10, 41.7), (9600, 11, 30, 91.7), (19200, 11, 60, 80.2), (115200, 10, 30, 9.84)],
)
def test_min_transaction_time_matches_reference_table(baud, bits, n, ms):
    assert min_transaction_s(n, baud, bits) * 1e3 == pytest.approx(ms, abs=0.05)


def _mutate(frame: bytes, data):
    ops = data.draw(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 255),
                                       st.integers(0, 40)), max_size=4))
    out = bytearray(frame)
    for op, value, pos in ops:
        pos = pos % (len(out) + 1)
        if op == 0 and out:
            out[pos % len(out)] ^= value or 1
        elif op == 1:
            out.insert(pos, value)
        elif out:
            del out[pos % len(out)]
    return bytes(out)


@settings(max_examples=400)
@given(st.data(), st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=20))
def test_fuzzed_frames_never_raise_and_never_accept_a_bad_crc(data, regs):
    req = ReadRequest(1, 0x1000, len(regs))
    good = encode_response(req, regs)
    noise = data.draw(st.binary(max_size=40))
    wire = noise + _mutate(good, data) + data.draw(st.binary(max_size=10))
    scan = scan_response(req, wire)  # must not raise
    if scan.registers is not None:
        start = scan.skipped
        frame = wire[start : start + req.response_len]
        assert crc16(frame) == 0 and frame[0] == 1 and frame[1] == 3
        assert scan.registers == tuple(
            int.from_bytes(frame[3 + 2 * i : 5 + 2 * i], "big") for i in range(len(regs))
        )


@given(st.binary(max_size=200))
def test_random_bytes_never_raise(wire):
    scan_response(REQ, wire)
