"""Poller: anchored schedule on an injected clock, partial samples, typed failures."""

from __future__ import annotations

import pytest

from drivers.controller.errors import ControllerTimeout, PortGone
from drivers.controller.poller import Poller
from drivers.controller.profile import load_profile

NICE = load_profile("nice3000plus")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, dt: float) -> None:
        assert dt >= 0
        self.now += dt


class RegisterImage:
    """A slave's register image; reads cost `cost_s` of clock time; failures on demand."""

    def __init__(self, clock: FakeClock, regs: dict[int, int], cost_s: float = 0.01) -> None:
        self.clock, self.regs, self.cost_s = clock, regs, cost_s
        self.fail: dict[int, Exception] = {}
        self.deadlines: list[float] = []

    def read_registers(self, address, count, *, device_id=None, function=3, deadline=None):
        self.clock.now += self.cost_s
        self.deadlines.append(deadline)
        if address in self.fail:
            raise self.fail[address]
        return tuple(self.regs.get(a, 0) for a in range(address, address + count))


@pytest.fixture
def bus():
    clock = FakeClock()
    regs = NICE.encode({"speed_mps": 1.5, "floor": 3, "fault_code": 14, "car_state": "running"})
    return clock, RegisterImage(clock, regs)


def test_sample_carries_decoded_readings_and_poll_start_time(bus):
    clock, image = bus
    s = Poller(image, NICE, period_s=0.1, clock=clock, sleep=clock.sleep).poll_once()
    assert s.ok and s.t == 100.0 and s.duration_s == pytest.approx(0.03)
    assert (s.get("speed_mps"), s.get("floor"), s.get("fault_code")) == (1.5, 3, 14)
    assert s.get("car_state") == "running"


def test_samples_follow_the_anchored_period(bus):
    clock, image = bus
    p = Poller(image, NICE, period_s=0.25, clock=clock, sleep=clock.sleep)
    times = [s.t for s in p.samples(5)]
    assert times == pytest.approx([100.0, 100.25, 100.5, 100.75, 101.0])


def test_overrunning_poll_skips_missed_slots_instead_of_bursting(bus):
    clock, image = bus
    image.cost_s = 0.3  # three reads: 0.9 s per poll against a 0.25 s period
    p = Poller(image, NICE, period_s=0.25, clock=clock, sleep=clock.sleep)
    times = [s.t for s in p.samples(3)]
    assert times == pytest.approx([100.0, 101.0, 102.0])


def test_failed_read_fails_the_sample_but_keeps_other_readings(bus):
    clock, image = bus
    image.fail[0x3000] = ControllerTimeout("no response")
    s = Poller(image, NICE, period_s=0.1, clock=clock, sleep=clock.sleep).poll_once()
    assert not s.ok and s.error == "timeout" and "no response" in s.detail
    assert s.get("speed_mps") == 1.5 and s.get("fault_code") == 14 and "direction" not in s.readings


def test_port_gone_ends_the_poll_at_once(bus):
    clock, image = bus
    image.fail[0x1010] = PortGone("adapter removed")
    s = Poller(image, NICE, period_s=0.1, clock=clock, sleep=clock.sleep).poll_once()
    assert (s.ok, s.error, s.readings) == (False, "port_gone", {})
    assert len(image.deadlines) == 1


def test_every_read_gets_the_poll_deadline(bus):
    clock, image = bus
    Poller(image, NICE, period_s=0.5, deadline_s=0.4, clock=clock, sleep=clock.sleep).poll_once()
    assert image.deadlines == [100.4, 100.4, 100.4]
