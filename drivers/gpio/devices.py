"""The box's GPIO devices: alarm relay, status LED, buzzer, maintenance button, door contact.

Every device takes its pin from a factory and its time as an argument (`update(now)`,
`poll(now)`): the runtime calls them from its loop with its clock, tests with a fake one.

Alarm relay fail-safe choice. The relay's contact tells the building's alarm panel (or the
remote alarm unit) that this lift needs attention. With `relay_energised = "healthy"` (the
default) the coil is energised while the box is running and has no active alarm, so an
alarm, a crashed agent, a dead Pi, a blown fuse or a cut wire all open the contact: a box
that cannot speak for itself reads as an alarm, never as "all good". Wire the panel to the
normally-open contact. `relay_energised = "alarm"` energises the coil only on an active alarm
(the panel's input expects a contact that closes on alarm); choose it only where the panel
also supervises the box another way, because a dead box then looks healthy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from drivers.gpio.pins import InputPin, OutputPin, PinFactory, Pull

RelayMode = Literal["healthy", "alarm"]


class AlarmRelay:
    def __init__(self, factory: PinFactory, number: int, energised: RelayMode = "healthy") -> None:
        self._mode = energised
        # The coil starts de-energised, the state it had while the box was off: in "healthy"
        # mode that reads as an alarm until the agent has checked and calls set_alarm(False).
        self._active = energised == "healthy"
        self._pin: OutputPin = factory.output(number, initial=False)

    @property
    def alarm(self) -> bool:
        return self._active

    @property
    def energised(self) -> bool:
        return self._pin.is_on

    def set_alarm(self, active: bool) -> None:
        self._apply(alarm=active)

    def _apply(self, alarm: bool) -> None:
        self._active = alarm
        coil = alarm if self._mode == "alarm" else not alarm
        if coil:
            self._pin.on()
        else:
            self._pin.off()

    def close(self) -> None:
        """De-energise: the state a powered-off box has anyway."""
        self._pin.off()


Pattern = Literal["off", "ok", "degraded", "alarm", "maintenance"]

# On/off durations in seconds, repeated. Each pattern is told apart by rhythm alone, so a
# technician with a single-colour LED (or colour blindness) can read it: a short heartbeat
# means running, an even 1 Hz blink degraded, a fast 5 Hz flicker an active alarm, a double
# blink maintenance mode.
PATTERNS: dict[str, tuple[float, ...]] = {
    "ok": (0.1, 1.9),
    "degraded": (0.5, 0.5),
    "alarm": (0.1, 0.1),
    "maintenance": (0.15, 0.15, 0.15, 1.05),
}


class StatusLed:
    def __init__(self, factory: PinFactory, number: int) -> None:
        self._pin = factory.output(number, initial=False)
        self._pattern: Pattern = "off"
        self._since = 0.0

    @property
    def pattern(self) -> Pattern:
        return self._pattern

    def show(self, pattern: Pattern, now: float) -> None:
        if pattern != "off" and pattern not in PATTERNS:
            raise ValueError(f"unknown LED pattern {pattern!r}")
        if pattern != self._pattern:
            self._pattern = pattern
            self._since = now  # a new pattern starts with its first "on" phase
            self.update(now)

    def update(self, now: float) -> None:
        lit = False if self._pattern == "off" else _lit(PATTERNS[self._pattern], now - self._since)
        if lit != self._pin.is_on:
            if lit:
                self._pin.on()
            else:
                self._pin.off()

    def close(self) -> None:
        self._pin.off()


def _lit(steps: tuple[float, ...], elapsed: float) -> bool:
    # rounded to 1 ns so that 0.7 s into a 0.5 s cycle is 0.2 s, not 0.19999999999999996
    phase = round(elapsed % sum(steps), 9)
    for i, d in enumerate(steps):
        if phase < d:
            return i % 2 == 0
        phase -= d
    return False


class Buzzer:
    """An active buzzer on a transistor: on/off only; beeps are scheduled, not slept."""

    def __init__(self, factory: PinFactory, number: int) -> None:
        self._pin = factory.output(number, initial=False)
        self._start = 0.0
        self._steps: tuple[float, ...] = ()
        self._count = 0

    def beep(self, now: float, *, on_s: float = 0.2, off_s: float = 0.2, count: int = 1) -> None:
        self._start, self._steps, self._count = now, (on_s, off_s), count
        self.update(now)

    def silence(self) -> None:
        self._count = 0
        self._pin.off()

    @property
    def sounding(self) -> bool:
        return self._pin.is_on

    def update(self, now: float) -> None:
        elapsed = now - self._start
        period = sum(self._steps) if self._steps else 0.0
        on = (
            self._count > 0
            and 0 <= elapsed < period * self._count
            and _lit(self._steps, elapsed)
        )
        if on != self._pin.is_on:
            if on:
                self._pin.on()
            else:
                self._pin.off()

    def close(self) -> None:
        self.silence()


class Debouncer:
    """A level that counts only after it has held for `hold_s` (contacts bounce for ms)."""

    def __init__(self, level: bool, hold_s: float) -> None:
        self.stable = level
        self._candidate = level
        self._since = 0.0
        self._hold = hold_s

    def feed(self, level: bool, now: float) -> bool:
        """Feed a raw sample; returns True when the stable level changed."""
        if level != self._candidate:
            self._candidate, self._since = level, now
        # 1 ns of slack: times are floats, and 0.059 - 0.029 must count as 30 ms
        if self._candidate != self.stable and now - self._since >= self._hold - 1e-9:
            self.stable = self._candidate
            return True
        return False


@dataclass(frozen=True)
class ButtonEvent:
    kind: Literal["press", "long_press"]
    t: float


class MaintenanceButton:
    """The technician's button: a short press and a long press (held) are different events.

    Wired between the GPIO and ground with the internal pull-up: pressed reads low.
    """

    def __init__(
        self, factory: PinFactory, number: int, *, debounce_s: float = 0.03,
        long_press_s: float = 3.0, pull: Pull = "up",
    ) -> None:
        self._pin: InputPin = factory.input(number, pull=pull)
        self._active_low = pull == "up"
        self._deb = Debouncer(False, debounce_s)
        self._long_s = long_press_s
        self._pressed_at: float | None = None
        self._long_sent = False

    def _pressed_raw(self) -> bool:
        return self._pin.read() != self._active_low

    @property
    def pressed(self) -> bool:
        return self._deb.stable

    def poll(self, now: float) -> list[ButtonEvent]:
        events: list[ButtonEvent] = []
        if self._deb.feed(self._pressed_raw(), now):
            if self._deb.stable:
                self._pressed_at, self._long_sent = now, False
            else:
                if self._pressed_at is not None and not self._long_sent:
                    events.append(ButtonEvent("press", now))
                self._pressed_at = None
        if (
            self._deb.stable and self._pressed_at is not None and not self._long_sent
            and now - self._pressed_at >= self._long_s - 1e-9
        ):
            self._long_sent = True  # one long press per hold, however long it is held
            events.append(ButtonEvent("long_press", now))
        return events

    def close(self) -> None:
        self._pin.close()


@dataclass(frozen=True)
class DoorEvent:
    open: bool
    t: float


class DoorContact:
    """An optional door contact (reed switch or a volt-free contact from the controller).

    `open_level` is the electrical level that means "door open": a normally-closed contact to
    ground with a pull-up reads high when the door opens, which is also what a cut wire reads,
    so a broken wire shows as an open door rather than a closed one.
    """

    def __init__(
        self, factory: PinFactory, number: int, *, open_level: bool = True,
        debounce_s: float = 0.05, pull: Pull = "up",
    ) -> None:
        self._pin: InputPin = factory.input(number, pull=pull)
        self._open_level = open_level
        self._deb = Debouncer(self._pin.read() == open_level, debounce_s)

    @property
    def is_open(self) -> bool:
        return self._deb.stable

    def poll(self, now: float) -> list[DoorEvent]:
        if self._deb.feed(self._pin.read() == self._open_level, now):
            return [DoorEvent(self._deb.stable, now)]
        return []

    def close(self) -> None:
        self._pin.close()
