"""`ControllerClient`: the one choke point for traffic on the controller's RS-485 bus.

Every read by every driver on this bus (the controller, a Modbus noise meter with another
device id) goes through `read_registers`, which serialises calls, bounds each by a deadline,
retries with capped exponential backoff, reconnects after the adapter vanishes, and logs a
run of identical errors once with a count (as Home Assistant's modbus hub does).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from drivers.controller.errors import ControllerError, ExceptionResponse, PortGone
from drivers.controller.rtu import READ_HOLDING, ReadRequest, char_bits
from drivers.rs485.direction import DirectionPin, make_direction

log = logging.getLogger("liftguard.controller")

PARITIES = ("N", "E", "O")
TRANSPORTS = ("native", "pymodbus")


@dataclass(frozen=True)
class LinkSettings:
    """Serial line and transaction policy; built from the [controller] config section."""

    port: str
    baudrate: int = 19200
    parity: str = "E"  # MOSL 2.5.1: even parity is the default
    stopbits: int = 1
    bytesize: int = 8
    device_id: int = 1
    timeout_s: float = 0.3
    retries: int = 1
    backoff_s: float = 0.02
    backoff_max_s: float = 0.2
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 10.0
    direction: str = "auto"
    rts_delay_before_s: float = 0.0
    rts_delay_after_s: float = 0.0
    echo: bool = False
    transport: str = "native"
    # Bits per character on the wire when they differ from the port's own settings: a pty
    # bench link runs 8N1 (ptys reject PARENB, REFERENCE.md section 3) while the emulated
    # wire carries 8E1, and t3.5 must follow the wire. 0: from parity/stopbits above.
    wire_bits: int = 0

    @property
    def bits_per_char(self) -> int:
        return self.wire_bits or char_bits(self.parity, self.stopbits, self.bytesize)

    @classmethod
    def from_config(cls, section: Any) -> LinkSettings:
        names = cls.__dataclass_fields__
        return cls(**{k: section[k] for k in section if k in names})


class Link(Protocol):
    def transact(self, req: ReadRequest, deadline: float) -> tuple[int, ...]: ...


def _plain_posix_port(port: Any) -> bool:
    """A device path opened by pyserial's POSIX class (not a URL handler such as spy://, which
    must see every read): RtuLink may read its descriptor directly."""
    import serial

    return os.name == "posix" and type(port) is serial.Serial


def open_serial(settings: LinkSettings) -> Any:
    """Open the port by URL or path (a pty, /dev/ttyUSB0, loop://, spy://...)."""
    import serial  # pyserial, imported when a link is opened so `import agent` stays light

    kwargs: dict[str, Any] = dict(
        baudrate=settings.baudrate, parity=settings.parity, stopbits=settings.stopbits,
        bytesize=settings.bytesize, timeout=0, write_timeout=1.0,
    )
    if "://" not in settings.port:
        kwargs["exclusive"] = True  # two masters on one bus corrupt each other's frames
    try:
        return serial.serial_for_url(settings.port, **kwargs)
    except (OSError, ValueError) as exc:
        raise PortGone(f"cannot open the controller port: {exc}") from None


class RepeatedErrorLog:
    """Logs the first of a run of identical errors, then one line with the run's length.

    Errors are identical when their `key` is (by default the message; the client uses the
    error kind and device, so timeouts at three addresses of one silent slave are one run).
    """

    def __init__(self, logger: logging.Logger = log) -> None:
        self.logger = logger
        self.last: str | None = None
        self.last_key: str | None = None
        self.repeats = 0

    def error(self, message: str, key: str | None = None) -> None:
        key = message if key is None else key
        if key == self.last_key:
            self.repeats += 1
            return
        self._flush()
        self.logger.warning("%s", message)
        self.last, self.last_key = message, key

    def ok(self) -> None:
        if self.last is not None:
            self._flush()
            self.logger.info("controller link recovered")
        self.last = self.last_key = None

    def _flush(self) -> None:
        if self.repeats:
            self.logger.warning("last error repeated %d more times: %s", self.repeats, self.last)
        self.repeats = 0


class ControllerClient:
    """Owns the port and the transaction layer; reopens the port after it vanishes."""

    def __init__(
        self,
        settings: LinkSettings,
        *,
        de_pin: DirectionPin | None = None,
        open_port: Callable[[LinkSettings], Any] = open_serial,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        errors: RepeatedErrorLog | None = None,
    ) -> None:
        if settings.transport not in TRANSPORTS:
            raise ValueError(f"transport {settings.transport!r} not in {TRANSPORTS}")
        self.settings = settings
        self.de_pin = de_pin
        self.open_port = open_port
        self.clock = clock
        self.sleep = sleep
        self.errors = errors or RepeatedErrorLog()
        self._lock = threading.Lock()
        self._port: Any = None
        self._link: Link | None = None
        self._next_open = 0.0
        self._gone_reason = ""
        self._reopen_wait = settings.reconnect_min_s
        self.transactions = 0
        self.failures = 0

    def read_registers(
        self,
        address: int,
        count: int,
        *,
        device_id: int | None = None,
        function: int = READ_HOLDING,
        deadline: float | None = None,
    ) -> tuple[int, ...]:
        """Registers `address..address+count-1` of `device_id` (default: the configured one).

        Raises a `ControllerError` subclass on failure; never blocks past `deadline` (an
        absolute `clock()` time; default: now + timeout_s x (retries + 1) + backoff).
        """
        req = ReadRequest(device_id or self.settings.device_id, address, count, function)
        s = self.settings
        with self._lock:
            start = self.clock()
            if deadline is None:
                deadline = start + s.timeout_s * (s.retries + 1) + s.backoff_max_s
            attempt = 0
            while True:
                try:
                    link = self._ensure_link()
                    self.transactions += 1
                    regs = link.transact(req, min(deadline, self.clock() + s.timeout_s))
                except ExceptionResponse as exc:
                    # the slave is alive; retrying changes nothing
                    self.errors.error(str(exc), f"exception {exc.code} @{exc.address:#x}")
                    raise
                except PortGone as exc:
                    self._drop(exc)
                    self.failures += 1
                    raise
                except ControllerError as exc:
                    self.failures += 1
                    pause = min(s.backoff_s * (2**attempt), s.backoff_max_s)
                    attempt += 1
                    if attempt > s.retries or self.clock() + pause >= deadline:
                        self.errors.error(str(exc), f"{exc.kind} device {req.device_id}")
                        raise
                    self.sleep(pause)
                    continue
                self.errors.ok()
                return regs

    def _ensure_link(self) -> Link:
        if self._link is not None:
            return self._link
        now = self.clock()
        if now < self._next_open:
            # same text as the failure that closed it, so the log counts one run of errors
            raise PortGone(self._gone_reason)
        try:
            self._link = self._open()
        except PortGone as exc:
            self._gone_reason = str(exc)  # logged by the caller's _drop
            self._next_open = now + self._reopen_wait
            self._reopen_wait = min(self._reopen_wait * 2, self.settings.reconnect_max_s)
            raise
        self._reopen_wait = self.settings.reconnect_min_s
        return self._link

    def _open(self) -> Link:
        s = self.settings
        if s.transport == "pymodbus":
            from drivers.controller.pymodbus_link import PymodbusLink

            link = PymodbusLink(
                s.port, baudrate=s.baudrate, parity=s.parity, stopbits=s.stopbits,
                bytesize=s.bytesize, clock=self.clock,
            )
            self._port = link
            return link
        from drivers.controller.link import RtuLink

        self._port = self.open_port(s)
        direction = make_direction(
            s.direction, pin=self.de_pin,
            delay_before_s=s.rts_delay_before_s, delay_after_s=s.rts_delay_after_s,
        )
        try:
            return RtuLink(
                self._port, baudrate=s.baudrate, bits_per_char=s.bits_per_char,
                direction=direction, echo=s.echo, clock=self.clock, sleep=self.sleep,
                raw_reads=_plain_posix_port(self._port),
            )
        except Exception:
            self._close_port()
            raise

    def _drop(self, exc: ControllerError) -> None:
        self.errors.error(str(exc), exc.kind)
        self._gone_reason = str(exc)
        self._close_port()
        self._link = None
        if self._next_open <= self.clock():
            self._next_open = self.clock() + self._reopen_wait

    def _close_port(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(OSError):  # already gone; nothing more to release
                port.close()

    def close(self) -> None:
        with self._lock:
            self._close_port()
            self._link = None

    def __enter__(self) -> ControllerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
