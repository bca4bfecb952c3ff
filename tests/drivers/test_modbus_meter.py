"""The Modbus sound meter through the real ControllerClient, on a byte-level fake RS-485 bus
where a controller (id 1) and a sound meter (id 2) answer their own requests."""

import numpy as np
import pytest

from drivers.controller.client import ControllerClient, LinkSettings
from drivers.controller.rtu import encode_response, parse_request
from drivers.noise.modbus_meter import ModbusSoundMeter


class FakeBus:
    """A serial port on a two-drop RS-485 bus: each write is a request; the addressed slave
    answers from its register image, others stay silent (MOSL 2.1)."""

    def __init__(self):
        self.slaves = {1: {0x1010: 1500}, 2: {0x0000: 652}}
        self.timeout = None
        self.rx = bytearray()
        self.requests = []

    def write(self, frame):
        req = parse_request(bytes(frame))
        self.requests.append(bytes(frame))
        image = self.slaves.get(req.device_id)
        if image is not None and all(a in image for a in range(req.address,
                                                                 req.address + req.count)):
            regs = [image[a] for a in range(req.address, req.address + req.count)]
            self.rx += encode_response(req, regs)
        return len(frame)

    @property
    def in_waiting(self):
        return len(self.rx)

    def read(self, n):
        out, self.rx = bytes(self.rx[:n]), self.rx[n:]
        return out

    def flush(self):
        pass

    def close(self):
        pass


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


@pytest.fixture
def bus():
    return FakeBus()


@pytest.fixture
def client(bus):
    settings = LinkSettings(port="fake://", baudrate=115200, parity="N", device_id=1,
                            timeout_s=0.05, retries=0)
    return ControllerClient(settings, open_port=lambda s: bus)


def test_meter_reads_db_x10_from_its_own_device_id(bus, client):
    clock = Clock()
    meter = ModbusSoundMeter(client, clock, device_id=2, register=0, scale=0.1, period_s=0.5)
    (block,) = meter.read()
    assert block.stream == "noise_level" and block.units == "dB"
    assert block.data[0, 0] == pytest.approx(65.2)
    # id 2, function 03, register 0, count 1, CRC-16/MODBUS 0x3984 low byte first
    assert bus.requests == [bytes.fromhex("020300000001 8439")]


def test_meter_and_controller_share_the_bus(bus, client):
    meter = ModbusSoundMeter(client, Clock(), device_id=2)
    assert client.read_registers(0x1010, 1) == (1500,)
    (block,) = meter.read()
    assert block.data[0, 0] == pytest.approx(65.2)
    assert [r[0] for r in bus.requests] == [1, 2]


def test_meter_polls_on_its_period(bus, client):
    clock = Clock()
    meter = ModbusSoundMeter(client, clock, device_id=2, period_s=1.0)
    polls = 0
    for step in range(25):
        clock.t = step * 0.2
        polls += len(meter.read())
    assert polls == 5


def test_silent_meter_shows_as_dropped_samples_on_the_next_reading(bus, client):
    clock = Clock()
    meter = ModbusSoundMeter(client, clock, device_id=2, period_s=1.0)
    meter.read()
    del bus.slaves[2]
    for t in (1.0, 2.0):
        clock.t = t
        assert meter.read() == []
    bus.slaves[2] = {0: 700}
    clock.t = 3.0
    (block,) = meter.read()
    assert block.dropped == 2 and meter.failures == 2 and block.data[0, 0] == np.float32(70.0)


def test_implausible_level_is_not_reported_as_sound(bus, client):
    bus.slaves[2] = {0: 0xFFFF}
    meter = ModbusSoundMeter(client, Clock(), device_id=2)
    assert meter.read() == [] and meter.out_of_range == 1
