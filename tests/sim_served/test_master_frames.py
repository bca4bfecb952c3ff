"""The probe master's framing: requests byte for byte, and every way a reply can go wrong."""

import pytest

from drivers.sim.master import (
    BadFrame,
    CrcMismatch,
    ExceptionReply,
    NoResponse,
    frame,
    parse_read_response,
    read_request,
)


def test_read_request_matches_the_spec_example():
    # Modbus Application Protocol V1.1b3 6.3 example body, device 0x11, with its RTU CRC.
    assert read_request(0x11, 0x006B, 3) == bytes.fromhex("1103006b00037687")


def test_a_good_response_gives_the_registers():
    data = frame(bytes([1, 3, 4, 0x06, 0xD6, 0x00, 0x0E]))
    assert parse_read_response(data, 1, 3, 2) == [1750, 14]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (frame(bytes([1, 0x83, 2])), ExceptionReply),
        (frame(bytes([1, 3, 2, 0, 1]))[:-1] + b"\x00", CrcMismatch),
        (frame(bytes([2, 3, 2, 0, 1])), BadFrame),
        (frame(bytes([1, 4, 2, 0, 1])), BadFrame),
        (frame(bytes([1, 3, 2, 0])), NoResponse),
    ],
    ids=["exception", "crc", "other-device", "other-function", "short"],
)
def test_bad_responses_raise_typed_errors(data, error):
    with pytest.raises(error):
        parse_read_response(data, 1, 3, 1)


def test_exception_reply_carries_its_code():
    with pytest.raises(ExceptionReply) as info:
        parse_read_response(frame(bytes([1, 0x83, 2])), 1, 3, 4)
    assert info.value.code == 2
