"""Garbage on the bus in front of the served virtual controller (`liftguard sim run`, paced
wire, pymodbus slave): like a real controller it resyncs at the next t3.5 silence, so the
first good request after the garbage is answered, by our probe master and by mbpoll."""

from __future__ import annotations

import time

import pytest
import serial

from drivers.controller.rtu import with_crc
from drivers.sim.control import send
from drivers.sim.master import RegisterProbe
from drivers.sim.wire import LineSettings
from tests.sim_served.mbpoll import mbpoll, needs_mbpoll

RATED_SPEED, FLOOR = 0x1011, 0x1018
GAP_S = 20 * LineSettings(19200).t3_5  # comfortably more than t3.5, as a master's pause is
GARBAGE = {
    # An FC16 header whose byte count (200) announces a long frame that never comes.
    "fc16_header": bytes([1, 0x10, 0x10, 0x10, 0x00, 0x64, 0xC8, 0x00, 0x01]),
    "truncated_read": with_crc(bytes([1, 3, 0x10, 0x11, 0, 1]))[:5],
    "bad_crc_read": with_crc(bytes([1, 3, 0x10, 0x11, 0, 1]))[:-1] + b"\x00",
    "noise": bytes([0xFF, 0x00, 0x55, 0xAA, 0x10, 0x01, 0x7E]),
}


@pytest.fixture
def master(start_sim):
    sim = start_sim()
    port = serial.serial_for_url(sim.controller, baudrate=19200)
    try:
        yield sim, port, RegisterProbe(port, timeout=1.0)
    finally:
        port.close()


@pytest.mark.parametrize("garbage", list(GARBAGE.values()), ids=list(GARBAGE))
def test_the_first_good_request_after_garbage_and_a_gap_is_answered(master, garbage):
    _, port, probe = master
    assert probe.read(RATED_SPEED, 1) == [1750]
    port.write(garbage)
    time.sleep(GAP_S)
    assert probe.read(RATED_SPEED, 1) == [1750]


def test_good_frames_after_garbage_read_correctly_and_the_drops_are_counted(master):
    sim, port, probe = master
    for garbage in GARBAGE.values():
        port.write(garbage)
        time.sleep(GAP_S)
        assert probe.read(RATED_SPEED, 1) == [1750]
        assert probe.read(FLOOR, 1) == [1]
    wire = send(sim.endpoints.control, {"cmd": "status"})["status"]["served"]["wire"]
    assert wire["dropped_incomplete"] >= 2 and wire["dropped_crc"] >= 1


@needs_mbpoll
def test_mbpoll_reads_the_sim_right_after_garbage(master):
    sim, port, _ = master
    port.write(GARBAGE["fc16_header"])
    time.sleep(GAP_S)
    poll = mbpoll(sim.controller, RATED_SPEED, timeout=1.0)
    assert poll.returncode == 0, poll.stderr
    assert poll.values == [1750]
