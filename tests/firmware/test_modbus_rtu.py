"""Modbus RTU master in real MicroPython: frames byte-exact, wire timing, typed errors."""

import pytest
from pymodbus.framer.rtu import FramerRTU

from tests.firmware.mpy import result

SETUP = """
import json
import machine
from fake_clock import FakeClock
from lg.modbus_rtu import RtuMaster, crc16, read_request, parse_read_response, t35_us
from lg import modbus_rtu
"""


@pytest.mark.parametrize(
    ("unit", "address", "count", "frame"),
    [
        (0x01, 0x006B, 3, "01 03 00 6B 00 03 74 17"),
        # Modbus over Serial Line V1.02 / Application Protocol 6.3 example, slave 0x11.
        (0x11, 0x006B, 3, "11 03 00 6B 00 03 76 87"),
        (0x01, 0x1010, 17, "01 03 10 10 00 11 80 C3"),
    ],
)
def test_read_request_frames_are_byte_exact(unit, address, count, frame):
    got = result(SETUP + f"print(json.dumps(read_request({unit}, {address}, {count}).hex()))")
    assert got == frame.replace(" ", "").lower()


def test_crc_of_the_check_string_matches_the_catalogued_modbus_crc():
    # CRC-16/MODBUS check value for "123456789" is 0x4B37 (Greg Cook's CRC catalogue).
    assert result(SETUP + "print(crc16(b'123456789'))") == 0x4B37


def test_response_of_the_spec_example_decodes_to_its_register_values():
    # Application Protocol 6.3: registers 108-110 hold 0x022B, 0x0000, 0x0064.
    script = SETUP + """
from lg.modbus_rtu import with_crc
frame = with_crc(bytes.fromhex('1103'+'06'+'022B00000064'))
print(json.dumps([frame.hex(), parse_read_response(0x11, 3, frame)]))
"""
    frame, regs = result(script)
    body = bytes.fromhex("110306022B00000064")
    assert frame == (body + FramerRTU.compute_CRC(body).to_bytes(2, "big")).hex()  # oracle
    assert regs == [0x022B, 0, 0x0064]


@pytest.mark.parametrize(
    ("frame_hex", "error"),
    [
        ("1103 06 022B00000064 C8BB", "CrcError"),
        ("1183 02 C134", "ExceptionResponse"),
        ("1203 06 022B00000064 0000", "CrcError"),
        ("1103 04 022B0000 0000", "CrcError"),
        ("11 03", "FrameError"),
    ],
)
def test_bad_responses_raise_typed_errors(frame_hex, error):
    script = SETUP + f"""
frame = bytes.fromhex('{frame_hex.replace(' ', '')}')
try:
    parse_read_response(0x11, 3, frame)
    print(json.dumps('no error'))
except modbus_rtu.ModbusError as exc:
    print(json.dumps(type(exc).__name__))
"""
    assert result(script) == error


def test_exception_response_with_valid_crc_carries_its_code():
    script = SETUP + """
from lg.modbus_rtu import with_crc
try:
    parse_read_response(0x11, 3, with_crc(bytes((0x11, 0x83, 0x02))))
except modbus_rtu.ExceptionResponse as exc:
    print(json.dumps(exc.code))
"""
    assert result(script) == 2


MASTER = SETUP + """
from lg.modbus_rtu import with_crc
clock = FakeClock()
uart = machine.UART(1, baudrate=9600, bits=8, parity=0, stop=1)
de = machine.Pin(4, machine.Pin.OUT)
regs = {0x1010 + i: 100 * i for i in range(32)}
log = []
def slave(req):
    log.append(req.hex())
    if behaviour and behaviour.pop(0) == 'silent':
        return None
    addr, n = req[2] << 8 | req[3], req[4] << 8 | req[5]
    body = bytes((req[0], 3, 2 * n)) + b''.join(
        bytes((regs[a] >> 8, regs[a] & 255)) for a in range(addr, addr + n))
    return with_crc(body)
uart.attach(clock, slave)
master = RtuMaster(uart, de, clock, baud=9600, timeout_ms=100, retries=2)
"""


def test_master_reads_registers_through_a_slave_on_the_wire():
    got = result(MASTER + "behaviour = []\nprint(json.dumps(master.read_holding(1, 0x1010, 4)))")
    assert got == [0, 100, 200, 300]


def test_de_pin_is_high_exactly_while_the_request_is_sent():
    script = MASTER + """
behaviour = []
machine.events.clear()
master.read_holding(1, 0x1010, 2)
print(json.dumps([list(e[:2]) + [e[2] if e[0] == 'pin' else e[2].hex()] for e in machine.events]))
"""
    events = result(script)
    assert events == [["pin", 4, 1], ["write", 1, "010310100002c10e"], ["pin", 4, 0]]


def test_silent_slave_is_retried_then_reported_as_timeout():
    script = MASTER + """
behaviour = ['silent', 'silent', 'silent']
try:
    master.read_holding(1, 0x1010, 2)
except modbus_rtu.ModbusTimeout as exc:
    print(json.dumps([len(log), master.stats['timeout'], str(exc)]))
"""
    tries, timeouts, msg = result(script)
    assert (tries, timeouts) == (3, 3) and "100 ms" in msg


def test_one_lost_answer_is_recovered_by_a_retry():
    script = MASTER + """
behaviour = ['silent', 'ok']
print(json.dumps([master.read_holding(1, 0x1011, 1), len(log)]))
"""
    assert result(script) == [[100], 2]


def test_requests_are_separated_by_at_least_t35_of_silence():
    script = MASTER + """
behaviour = []
starts = []
orig = uart.write
def write(data):
    starts.append(clock.ticks_us())
    return orig(data)
uart.write = write
for _ in range(3):
    master.read_holding(1, 0x1010, 1)
print(json.dumps([starts, t35_us(9600), uart.char_us]))
"""
    starts, t35, char_us = result(script)
    # answer to a 1-register read is 7 bytes; request 8 bytes
    for a, b in zip(starts, starts[1:], strict=False):
        assert b - a >= (8 + 7) * char_us + t35
    assert t35 == 4011  # 3.5 x 11 bits at 9600 baud, rounded up


def test_exception_response_is_not_retried():
    script = MASTER + """
def slave(req):
    log.append(req.hex())
    return with_crc(bytes((req[0], 0x83, 0x02)))
uart.attach(clock, slave)
try:
    master.read_holding(1, 0x1010, 2)
except modbus_rtu.ExceptionResponse as exc:
    print(json.dumps([exc.code, len(log)]))
"""
    assert result(script) == [2, 1]


def test_answer_that_stops_midway_is_a_frame_error_not_a_hang():
    script = MASTER + """
def slave(req):
    log.append(req.hex())
    return bytes((1, 3, 4, 0, 1))  # promises 4 data bytes, sends 2, then silence
uart.attach(clock, slave)
master.retries = 0
try:
    master.read_holding(1, 0x1010, 2)
except modbus_rtu.FrameError as exc:
    print(json.dumps(str(exc)))
"""
    assert "5 bytes" in result(script)


def test_local_echo_of_the_request_is_swallowed_when_configured():
    script = MASTER + """
def echoing(req):
    log.append(req.hex())
    addr, n = req[2] << 8 | req[3], req[4] << 8 | req[5]
    body = bytes((req[0], 3, 2 * n)) + b''.join(
        bytes((regs[a] >> 8, regs[a] & 255)) for a in range(addr, addr + n))
    return req + with_crc(body)  # the adapter hears itself first
uart.attach(clock, echoing)
master.echo = True
print(json.dumps(master.read_holding(1, 0x1012, 2)))
"""
    assert result(script) == [200, 300]
