"""GPIO devices on the simulated backend: every transition is asserted from the pin history."""

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.errors import ConfigError, HardwareUnavailable
from drivers.gpio import open_pin_factory
from drivers.gpio.devices import (
    AlarmRelay,
    ButtonEvent,
    Buzzer,
    Debouncer,
    DoorContact,
    DoorEvent,
    MaintenanceButton,
    StatusLed,
)
from drivers.gpio.pins import PinInUse
from drivers.gpio.sim import SimPinFactory


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def pins(clock):
    return SimPinFactory(clock)


# --- alarm relay ------------------------------------------------------------------------

def test_relay_in_healthy_mode_starts_de_energised_and_energises_when_declared_healthy(pins):
    relay = AlarmRelay(pins, 17, energised="healthy")
    assert relay.alarm and not relay.energised
    relay.set_alarm(False)
    assert pins.outputs[17].levels() == [False, True]


def test_relay_in_healthy_mode_opens_on_alarm_and_on_close(pins):
    relay = AlarmRelay(pins, 17)
    relay.set_alarm(False)
    relay.set_alarm(True)
    relay.set_alarm(False)
    relay.close()
    assert pins.outputs[17].levels() == [False, True, False, True, False]


def test_relay_in_alarm_mode_energises_only_on_alarm(pins):
    relay = AlarmRelay(pins, 17, energised="alarm")
    assert not relay.alarm and not relay.energised
    relay.set_alarm(True)
    assert relay.energised
    relay.set_alarm(False)
    assert pins.outputs[17].levels() == [False, True, False]


# --- status LED -----------------------------------------------------------------------------

def edges(pin):
    return [(round(t, 3), lvl) for t, lvl in pin.history]


def run(clock, device, until, step=0.01):
    while clock.t < until - 1e-9:
        clock.t = round(clock.t + step, 6)
        device.update(clock.t)


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("ok", [(0.0, False), (0.0, True), (0.1, False), (2.0, True), (2.1, False)]),
        ("degraded", [(0.0, False), (0.0, True), (0.5, False), (1.0, True), (1.5, False),
                      (2.0, True)]),
        ("maintenance", [(0.0, False), (0.0, True), (0.15, False), (0.3, True), (0.45, False),
                         (1.5, True), (1.65, False), (1.8, True), (1.95, False)]),
    ],
)
def test_led_pattern_has_its_rhythm(pins, clock, pattern, expected):
    led = StatusLed(pins, 27)
    led.show(pattern, clock.t)
    run(clock, led, 2.2)
    assert edges(pins.outputs[27]) == expected


def test_led_alarm_pattern_flickers_at_5_hz(pins, clock):
    led = StatusLed(pins, 27)
    led.show("alarm", 0.0)
    run(clock, led, 1.0)
    rising = [t for t, lvl in pins.outputs[27].history if lvl]
    assert len(rising) == 5


def test_led_pattern_change_restarts_on_the_new_pattern(pins, clock):
    led = StatusLed(pins, 27)
    led.show("ok", 0.0)
    run(clock, led, 0.5)  # off phase of the heartbeat
    led.show("alarm", clock.t)
    assert pins.outputs[27].is_on and led.pattern == "alarm"


def test_led_off_stays_dark(pins, clock):
    led = StatusLed(pins, 27)
    led.show("off", 0.0)
    run(clock, led, 3.0)
    assert pins.outputs[27].levels() == [False]


def test_led_rejects_unknown_pattern(pins):
    with pytest.raises(ValueError, match="sparkle"):
        StatusLed(pins, 27).show("sparkle", 0.0)  # type: ignore[arg-type]


# --- buzzer ---------------------------------------------------------------------------------

def test_buzzer_beeps_count_times_then_stays_quiet(pins, clock):
    bz = Buzzer(pins, 22)
    bz.beep(0.0, on_s=0.2, off_s=0.3, count=3)
    run(clock, bz, 3.0)
    assert edges(pins.outputs[22]) == [
        (0.0, False), (0.0, True), (0.2, False), (0.5, True), (0.7, False), (1.0, True),
        (1.2, False)]


def test_buzzer_silence_stops_a_beep_at_once(pins, clock):
    bz = Buzzer(pins, 22)
    bz.beep(0.0, on_s=5.0, count=1)
    bz.silence()
    run(clock, bz, 1.0)
    assert not bz.sounding and pins.outputs[22].levels() == [False, True, False]


# --- maintenance button ---------------------------------------------------------------------

def press_trace(pins, clock, button, trace, step=0.005):
    """trace: list of (t, level) raw levels on the pin; poll every `step` until the end."""
    events, i = [], 0
    end = trace[-1][0] + 0.5
    while clock.t <= end:
        while i < len(trace) and trace[i][0] <= clock.t + 1e-9:
            pins.drive(5, trace[i][1])
            i += 1
        events += button.poll(clock.t)
        clock.t = round(clock.t + step, 6)
    return events


def test_button_short_press_after_release(pins, clock):
    b = MaintenanceButton(pins, 5, debounce_s=0.03, long_press_s=3.0)
    ev = press_trace(pins, clock, b, [(0.1, False), (0.6, True)])
    assert ev == [ButtonEvent("press", 0.63)]


def test_button_bounce_is_not_a_press(pins, clock):
    b = MaintenanceButton(pins, 5, debounce_s=0.03)
    # contact chatter: low for 10 ms at a time, never 30 ms
    trace = [(0.1 + 0.02 * k, k % 2 == 1) for k in range(10)]
    assert press_trace(pins, clock, b, trace) == []


def test_button_bouncy_press_counts_once(pins, clock):
    b = MaintenanceButton(pins, 5, debounce_s=0.03)
    bounce_in = [(0.100, False), (0.105, True), (0.110, False)]
    bounce_out = [(0.500, True), (0.505, False), (0.510, True)]
    ev = press_trace(pins, clock, b, bounce_in + bounce_out)
    assert [e.kind for e in ev] == ["press"]


def test_button_long_press_fires_once_while_held_and_no_press_on_release(pins, clock):
    b = MaintenanceButton(pins, 5, debounce_s=0.03, long_press_s=3.0)
    ev = press_trace(pins, clock, b, [(0.1, False), (8.0, True)])
    assert ev == [ButtonEvent("long_press", 3.13)]


# --- door contact ---------------------------------------------------------------------------

def test_door_contact_reports_debounced_open_and_close(clock):
    pins = SimPinFactory(clock, wired={6: False})  # the door is closed when the agent starts
    door = DoorContact(pins, 6, open_level=True, debounce_s=0.05)
    pins.drive(6, False)
    assert not door.is_open
    events = []
    for t, level in [(1.0, True), (1.02, False), (1.03, True), (1.2, True), (2.0, False),
                     (2.1, False)]:
        pins.drive(6, level)
        events += door.poll(t)
    assert events == [DoorEvent(True, 1.2), DoorEvent(False, 2.1)]


def test_door_contact_cut_wire_reads_open(pins):
    # pull-up and no contact: the level idles high, which is "open" for a NC contact
    door = DoorContact(pins, 6, open_level=True)
    assert door.is_open


# --- factory --------------------------------------------------------------------------------

def test_two_devices_on_one_pin_are_refused(pins):
    AlarmRelay(pins, 17)
    with pytest.raises(PinInUse, match="GPIO17"):
        StatusLed(pins, 17)


@pytest.mark.parametrize("pin", [0, 1, 28, -1])
def test_non_header_gpio_is_refused(pins, pin):
    with pytest.raises(ConfigError, match=str(pin)):
        pins.output(pin)


def test_factory_close_drives_outputs_low(pins):
    relay = AlarmRelay(pins, 17)
    relay.set_alarm(False)
    pins.close()
    assert pins.outputs[17].levels()[-1] is False


def test_output_pin_satisfies_direction_pin_protocol(pins):
    de = pins.output(18)
    de.on()
    de.off()
    assert pins.outputs[18].levels() == [False, True, False]


def test_config_selects_sim_backend(clock):
    assert isinstance(open_pin_factory({"backend": "sim"}, clock), SimPinFactory)


def test_rpigpio_backend_without_library_names_the_package(monkeypatch, clock):
    monkeypatch.setitem(sys.modules, "RPi", None)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", None)
    with pytest.raises(HardwareUnavailable, match="RPi.GPIO") as err:
        open_pin_factory({"backend": "rpigpio"}, clock)
    assert "\n" not in str(err.value)


def test_rpigpio_backend_off_a_pi_gives_one_line(monkeypatch, clock):
    import types

    pkg = types.ModuleType("RPi")
    pkg.__path__ = []  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "RPi", pkg)
    monkeypatch.delitem(sys.modules, "RPi.GPIO", raising=False)

    class Finder:
        def find_spec(self, name, path=None, target=None):
            if name == "RPi.GPIO":
                raise RuntimeError("This module can only be run on a Raspberry Pi!")
            return None

    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    with pytest.raises(HardwareUnavailable, match="only be run on a Raspberry Pi"):
        open_pin_factory({"backend": "rpigpio"}, clock)


def test_none_backend_has_no_pins(clock):
    assert open_pin_factory({"backend": "none"}, clock) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 29), min_size=1, max_size=30), st.booleans(),
       st.integers(30, 200))
def test_debouncer_ignores_runs_shorter_than_hold_and_follows_longer_ones(runs, start, last):
    """Raw level changes every `runs[i]` ms (all shorter than the 30 ms hold), then settles
    for `last` ms (>= hold): no change until the settled run, then exactly its level."""
    deb = Debouncer(start, 0.030)
    level, t, changes = start, 0, 0
    for r in runs:
        level = not level
        for ms in range(r):
            changes += deb.feed(level, (t + ms) / 1000)
        t += r
    assert changes == 0 and deb.stable == start
    level = not level
    for ms in range(last + 1):
        changes += deb.feed(level, (t + ms) / 1000)
    assert deb.stable == level and changes == (1 if level != start else 0)
