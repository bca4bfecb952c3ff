"""The box's GPIO devices built from `[gpio]`: each is optional (pin -1 = not fitted)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drivers.gpio.devices import (
    AlarmRelay,
    ButtonEvent,
    Buzzer,
    DoorContact,
    DoorEvent,
    MaintenanceButton,
    StatusLed,
)
from drivers.gpio.pins import PinFactory


@dataclass
class BoxGpio:
    factory: PinFactory
    relay: AlarmRelay | None = None
    led: StatusLed | None = None
    buzzer: Buzzer | None = None
    button: MaintenanceButton | None = None
    door: DoorContact | None = None

    @classmethod
    def from_config(cls, section: Mapping[str, Any], factory: PinFactory) -> BoxGpio:
        def pin(key: str) -> int | None:
            n = int(section[key])
            return None if n < 0 else n

        box = cls(factory)
        try:
            if (n := pin("relay_pin")) is not None:
                box.relay = AlarmRelay(factory, n, energised=section["relay_energised"])
            if (n := pin("led_pin")) is not None:
                box.led = StatusLed(factory, n)
            if (n := pin("buzzer_pin")) is not None:
                box.buzzer = Buzzer(factory, n)
            debounce = section["debounce_ms"] / 1000.0
            if (n := pin("button_pin")) is not None:
                box.button = MaintenanceButton(factory, n, debounce_s=debounce,
                                               long_press_s=section["long_press_s"])
            if (n := pin("door_pin")) is not None:
                box.door = DoorContact(factory, n, open_level=section["door_open_level"] == "high",
                                       debounce_s=debounce)
        except Exception:
            factory.close()
            raise
        return box

    def update(self, now: float) -> None:
        """Advance LED and buzzer patterns; call from the runtime loop (>= 20 Hz)."""
        if self.led is not None:
            self.led.update(now)
        if self.buzzer is not None:
            self.buzzer.update(now)

    def poll(self, now: float) -> list[ButtonEvent | DoorEvent]:
        events: list[ButtonEvent | DoorEvent] = []
        if self.button is not None:
            events += self.button.poll(now)
        if self.door is not None:
            events += self.door.poll(now)
        return events

    def close(self) -> None:
        self.factory.close()
