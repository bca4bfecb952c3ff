"""The virtual controller's Modbus slave, on a real pty pair, as a master sees it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import serial

from drivers.controller.profile import load_profile
from drivers.sim.master import ExceptionReply, NoResponse, RegisterProbe, frame
from drivers.sim.slave import ControllerSlave, quiet_pymodbus, register_runs

PROFILE = load_profile("nice3000plus")
ADDRESSES = [a for f in PROFILE.fields for a in range(f.address, f.address + f.words)]


class Image:
    """The register image the slave serves; tests change it between reads."""

    def __init__(self) -> None:
        self.regs = PROFILE.encode({"speed_mps": 0.0, "rated_speed_mps": 1.75, "floor": 3})

    def __call__(self) -> dict[int, int]:
        return self.regs


@pytest.fixture
def served(pty_pair) -> Iterator[tuple[Image, serial.Serial, ControllerSlave]]:
    quiet_pymodbus()
    image = Image()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    slave = ControllerSlave(pty_pair.b, image, ADDRESSES, device_id=5)
    asyncio.run_coroutine_threadsafe(slave.start(), loop).result(5)
    port = serial.serial_for_url(pty_pair.a, timeout=0.3)
    try:
        yield image, port, slave
    finally:
        port.close()
        asyncio.run_coroutine_threadsafe(slave.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_register_runs_group_contiguous_addresses():
    assert register_runs([5, 1, 2, 3, 9, 10]) == [(1, 3), (5, 1), (9, 2)]


def test_reads_return_the_image_at_request_time(served):
    image, port, _ = served
    probe = RegisterProbe(port, device_id=5)
    assert probe.read(0x1011, 1) == [1750]
    image.regs = {**image.regs, 0x1010: 1234}
    assert probe.read(0x1010, 2) == [1234, 1750]


def test_function_04_reads_the_same_registers(served):
    _, port, _ = served
    assert RegisterProbe(port, device_id=5).read(0x1018, 1, function=4) == [3]


@pytest.mark.parametrize(("address", "count"), [(0x1021, 1), (0x2000, 1), (0x1020, 2), (0, 1)])
def test_unmapped_addresses_get_exception_02(served, address, count):
    _, port, _ = served
    with pytest.raises(ExceptionReply) as info:
        RegisterProbe(port, device_id=5).read(address, count)
    assert info.value.code == 2


def test_another_device_id_gets_no_answer(served):
    _, port, _ = served
    with pytest.raises(NoResponse):
        RegisterProbe(port, device_id=6, timeout=0.3).read(0x1011, 1)


def test_writes_to_monitoring_registers_are_refused_with_exception_02(served):
    _, port, _ = served
    port.write(frame(bytes([5, 6, 0x10, 0x11, 0x00, 0x01])))  # FC06 write single register
    reply = port.read(5)
    assert reply[:3] == bytes([5, 0x86, 2])


def test_bit_reads_are_refused_with_exception_01(served):
    _, port, _ = served
    port.write(frame(bytes([5, 1, 0x10, 0x10, 0x00, 0x08])))  # FC01 read coils
    reply = port.read(5)
    assert reply[:3] == bytes([5, 0x81, 1])


def test_served_requests_are_counted(served):
    _, port, slave = served
    RegisterProbe(port, device_id=5).read(0x1010, 4)
    assert slave.requests_served == 1
