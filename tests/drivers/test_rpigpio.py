"""The RPi.GPIO backend against a fake of the RPi.GPIO module's documented semantics:
numbering must be set before setup, output() only on pins set up as outputs, input() reads
the pull level (or what the wiring drives), cleanup(pin) releases a pin."""

import pytest

from drivers.gpio.devices import AlarmRelay, MaintenanceButton
from drivers.gpio.rpigpio import RPiGpioPinFactory


class FakeGPIO:
    BCM, BOARD = 11, 10
    OUT, IN = 0, 1
    HIGH, LOW = 1, 0
    PUD_OFF, PUD_DOWN, PUD_UP = 20, 21, 22

    def __init__(self):
        self.mode = None
        self.pins = {}  # pin -> ("out", level) or ("in", pull)
        self.wired = {}  # pin -> level driven from outside
        self.trace = []

    def setwarnings(self, flag):
        pass

    def setmode(self, mode):
        self.mode = mode

    def setup(self, pin, direction, pull_up_down=PUD_OFF, initial=None):
        if self.mode is None:
            raise RuntimeError("Please set pin numbering mode using GPIO.setmode")
        if direction == self.OUT:
            self.pins[pin] = ("out", initial or 0)
        else:
            self.pins[pin] = ("in", pull_up_down)
        self.trace.append(("setup", pin, direction, initial if direction == self.OUT
                           else pull_up_down))

    def output(self, pin, level):
        if self.pins.get(pin, ("",))[0] != "out":
            raise RuntimeError("The GPIO channel has not been set up as an OUTPUT")
        self.pins[pin] = ("out", level)
        self.trace.append(("output", pin, level))

    def input(self, pin):
        kind, arg = self.pins[pin]
        if kind == "out":
            return arg
        return self.wired.get(pin, 1 if arg == self.PUD_UP else 0)

    def cleanup(self, pin=None):
        self.pins.pop(pin, None)
        self.trace.append(("cleanup", pin))


@pytest.fixture
def gpio():
    return FakeGPIO()


def test_relay_on_real_backend_drives_bcm_pin(gpio):
    pins = RPiGpioPinFactory(gpio)
    relay = AlarmRelay(pins, 17)
    relay.set_alarm(False)
    relay.set_alarm(True)
    assert gpio.mode == gpio.BCM
    assert gpio.trace == [("setup", 17, gpio.OUT, gpio.LOW), ("output", 17, 1),
                          ("output", 17, 0)]


def test_button_input_uses_the_pull_up_and_reads_the_wiring(gpio):
    pins = RPiGpioPinFactory(gpio)
    button = MaintenanceButton(pins, 5, debounce_s=0.03)
    assert gpio.trace == [("setup", 5, gpio.IN, gpio.PUD_UP)]
    gpio.wired[5] = 0
    button.poll(0.0)
    button.poll(0.05)
    gpio.wired[5] = 1
    button.poll(0.10)
    assert [e.kind for e in button.poll(0.14)] == ["press"]


def test_close_drives_outputs_low_and_releases_every_pin(gpio):
    pins = RPiGpioPinFactory(gpio)
    pins.output(17, initial=True)
    pins.input(5)
    pins.close()
    assert gpio.pins == {}
    assert ("output", 17, 0) in gpio.trace
    pins.output(17)  # released pins can be claimed again
