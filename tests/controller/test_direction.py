"""RS-485 direction control: pin sequencing, kernel mode settings, config errors."""

from __future__ import annotations

import pytest
import serial

from agent.errors import ConfigError, HardwareUnavailable
from drivers.controller.client import ControllerClient, LinkSettings
from drivers.rs485.direction import GpioDirection, KernelDirection, make_direction


class RecordingPin:
    """A DirectionPin that keeps its history, as gpiozero's mock pins do."""

    def __init__(self) -> None:
        self.history: list[str] = []

    def on(self) -> None:
        self.history.append("on")

    def off(self) -> None:
        self.history.append("off")


class DrainRecordingPort:
    def __init__(self, pin: RecordingPin) -> None:
        self.pin = pin

    def flush(self) -> None:
        self.pin.history.append("drain")


def test_gpio_direction_releases_the_bus_only_after_the_uart_drained():
    pin = RecordingPin()
    d = GpioDirection(pin)
    port = DrainRecordingPort(pin)
    d.attach(port)
    d.before_send(port)
    d.after_send(port)
    assert pin.history == ["off", "on", "drain", "off"]


def test_gpio_direction_drives_the_pin_around_every_request(pty_pair, slave):
    pin = RecordingPin()
    settings = LinkSettings(port=str(pty_pair.master_link), parity="N", direction="gpio")
    with ControllerClient(settings, de_pin=pin) as c:
        c.read_registers(0x1010, 1)
        c.read_registers(0x1011, 1)
    assert pin.history == ["off", "on", "off", "on", "off"]


def test_kernel_mode_passes_rts_delays_to_pyserial():
    port = serial.serial_for_url("loop://", do_not_open=True)
    KernelDirection(0.001, 0.002).attach(port)
    rs = port.rs485_mode
    assert (rs.rts_level_for_tx, rs.rts_level_for_rx) == (True, False)
    assert (rs.delay_before_tx, rs.delay_before_rx) == (0.001, 0.002)


def test_kernel_mode_on_a_pty_is_a_clear_hardware_error(pty_pair):
    port = serial.serial_for_url(str(pty_pair.master_link))
    try:
        with pytest.raises(HardwareUnavailable, match="TIOCSRS485"):
            KernelDirection().attach(port)
    finally:
        port.close()


@pytest.mark.parametrize(
    "mode, kwargs, message",
    [("gpio", {}, "needs a DE/RE pin"), ("rts", {}, "not one of auto, kernel, gpio")],
)
def test_bad_direction_config_is_one_line(mode, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_direction(mode, **kwargs)


def test_gpio_backend_output_pin_serves_as_the_de_re_pin(pty_pair, slave):
    sim_gpio = pytest.importorskip("drivers.gpio.sim")
    pin = sim_gpio.SimOutputPin(17, False, clock=lambda: 0.0)
    settings = LinkSettings(port=str(pty_pair.master_link), parity="N", direction="gpio")
    with ControllerClient(settings, de_pin=pin) as c:
        assert c.read_registers(0x1010, 1) == (0x1010,)
    # driver enabled once for the request, released afterwards; idle level is "listen"
    assert pin.levels() == [False, True, False]
