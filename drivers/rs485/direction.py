"""RS-485 driver-enable (direction) control, chosen by config.

REFERENCE.md section 3, best first:
- ``auto``: a transceiver with automatic direction control; nothing to do in software.
- ``kernel``: the UART driver toggles RTS around each transmission (Linux TIOCSRS485, set
  through pyserial's ``rs485_mode`` with ``serial.rs485.RS485Settings``); the delays are the
  kernel's ``delay_rts_before_send``/``after_send``. Works on the Pi's PL011 and on most
  FTDI/CH34x adapters; ptys refuse it, which we report as `HardwareUnavailable`.
- ``gpio``: a DE/RE pin driven from Python through any object with ``on()``/``off()`` (the
  gpio backend's output pins). The pin is released only after ``flush()`` (tcdrain) returns,
  i.e. after the UART shift register is empty. pyserial's own docs warn that user-space
  toggling has scheduler granularity: the slave's reply may start before we release the bus,
  so this mode suits slaves with a turnaround delay (most drives answer after >= t3.5).
"""

from __future__ import annotations

from typing import Any, Protocol

from agent.errors import ConfigError, HardwareUnavailable

MODES = ("auto", "kernel", "gpio")


class DirectionPin(Protocol):
    """An output that enables the transceiver's driver when on (DE high, /RE high)."""

    def on(self) -> None: ...

    def off(self) -> None: ...


class Direction(Protocol):
    name: str

    def attach(self, port: Any) -> None:
        """Called once after the port is opened (and again after each reconnect)."""

    def before_send(self, port: Any) -> None: ...

    def after_send(self, port: Any) -> None: ...


class AutoDirection:
    name = "auto"

    def attach(self, port: Any) -> None:
        pass

    def before_send(self, port: Any) -> None:
        pass

    def after_send(self, port: Any) -> None:
        pass


class KernelDirection:
    """Linux RS-485 mode: the driver raises RTS for transmit and drops it after the last bit."""

    name = "kernel"

    def __init__(self, delay_before_s: float = 0.0, delay_after_s: float = 0.0) -> None:
        self.delay_before_s = delay_before_s
        self.delay_after_s = delay_after_s

    def attach(self, port: Any) -> None:
        import serial.rs485  # pyserial is the one serial library; lazy keeps `import agent` light

        settings = serial.rs485.RS485Settings(
            rts_level_for_tx=True,
            rts_level_for_rx=False,
            delay_before_tx=self.delay_before_s or None,
            delay_before_rx=self.delay_after_s or None,
        )
        try:
            port.rs485_mode = settings
        except (ValueError, OSError) as exc:
            raise HardwareUnavailable(
                f"port {getattr(port, 'port', port)!s} refuses kernel RS-485 mode "
                f"(TIOCSRS485): {exc}; use direction = \"auto\" or \"gpio\""
            ) from None

    def before_send(self, port: Any) -> None:
        pass

    def after_send(self, port: Any) -> None:
        pass


class GpioDirection:
    """DE/RE on a GPIO output: on before writing, off once the UART has drained."""

    name = "gpio"

    def __init__(self, pin: DirectionPin) -> None:
        self.pin = pin

    def attach(self, port: Any) -> None:
        self.pin.off()  # listen by default so we never hold the bus after a restart

    def before_send(self, port: Any) -> None:
        self.pin.on()

    def after_send(self, port: Any) -> None:
        try:
            port.flush()  # tcdrain: returns when the last stop bit has left the UART
        finally:
            self.pin.off()


def make_direction(
    mode: str,
    *,
    pin: DirectionPin | None = None,
    delay_before_s: float = 0.0,
    delay_after_s: float = 0.0,
) -> Direction:
    if mode == "auto":
        return AutoDirection()
    if mode == "kernel":
        return KernelDirection(delay_before_s, delay_after_s)
    if mode == "gpio":
        if pin is None:
            raise ConfigError('controller.direction = "gpio" needs a DE/RE pin (gpio.de_pin)')
        return GpioDirection(pin)
    raise ConfigError(f"controller.direction = {mode!r} is not one of {', '.join(MODES)}")
