"""The wire emulator's moving part: a thread that carries bytes between two ports.

One port faces the agent (the master side of the bus), the other faces the virtual
controller's Modbus slave. Bytes read from either side are scheduled by `WireSchedule`
(drivers/sim/wire.py) and written to the other side when their stop bit would have ended on
a real line. The relay is also where the bus faults act: with the controller unplugged (or
without power) nothing crosses; with bus noise frames are garbled and idle garbage appears.

Towards the controller, the bytes go through the controller's RTU receiver
(drivers/sim/receiver.py), which ends frames at t3.5 of silence and drops incomplete and
CRC-failed ones: the slave's pty carries only whole, valid request frames, as a real
controller's stack passes them on, because the pymodbus server behind it has no timer of its
own and would wait out a garbled length. The receiver is fed with each character's wire time
as soon as the burst is scheduled, so a request is judged (and handed to the slave) before
its last character has ended on the emulated wire. The master cannot tell: the schedule
holds the answer until t3.5 after the request's end, as the line allows. What it gains is
the pymodbus server's own latency (an asyncio loop sharing the GIL with the physics thread,
1-5 ms), hidden behind the request's wire time instead of added to every transaction.

Thread model: the relay owns both ports; other threads only call `set_faults()` (which swaps
two plain attributes) and `stop()`.
"""

from __future__ import annotations

import logging
import random
import select
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from drivers.sim.receiver import FrameReceiver, ReceiverCounters
from drivers.sim.wire import TO_MASTER, TO_SLAVE, BusNoise, LineSettings, WireSchedule

log = logging.getLogger(__name__)

IDLE_POLL = 0.05  # how often an idle relay wakes up to check for stop and idle noise


class Port(Protocol):
    """The part of a pyserial port the relay uses (a pty opened by serial_for_url)."""

    def fileno(self) -> int: ...
    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes) -> int | None: ...


@dataclass
class WireCounters(ReceiverCounters):
    """What crossed the wire, and what the controller's receiver made of the bytes that
    reached it (ReceiverCounters); read by status reports and tests."""

    frames: list[int] = field(default_factory=lambda: [0, 0])  # bursts per direction
    bytes_in: list[int] = field(default_factory=lambda: [0, 0])
    bytes_dropped: int = 0  # unplugged / powered off, or a far side that would not take them
    noise_hits: int = 0
    idle_bursts: int = 0


class WireRelay:
    """Carries bytes between `master_port` and `slave_port` on the emulated wire's schedule."""

    def __init__(
        self,
        master_port: Port,
        slave_port: Port,
        line: LineSettings,
        *,
        paced: bool = True,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ports = (slave_port, master_port)  # indexed by direction: TO_SLAVE, TO_MASTER
        self._schedule = WireSchedule(line, paced)
        self._noise = BusNoise(rng or random.Random(0))
        self._clock = clock
        self._to_master: deque[tuple[float, int]] = deque()  # (when it ends, byte)
        self._silent = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_idle_check = clock()
        self.counters = WireCounters()
        self._receiver = FrameReceiver(line.t3_5, self.counters)
        self._last_error = ""

    def set_faults(self, *, silent: bool, noise: float) -> None:
        """`silent`: the controller is unplugged or unpowered; `noise`: bus noise 0..1."""
        self._silent = silent
        self._noise.level = max(0.0, min(1.0, noise))

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sim-wire", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        fds = {self._ports[TO_MASTER].fileno(): TO_SLAVE, self._ports[TO_SLAVE].fileno(): TO_MASTER}
        while not self._stop.is_set():
            now = self._clock()
            wait = IDLE_POLL
            if self._to_master:
                wait = min(wait, max(0.0, self._to_master[0][0] - now))
            frame_end = self._receiver.deadline()
            if frame_end is not None:
                wait = min(wait, max(0.0, frame_end - now))
            try:
                readable, _, _ = select.select(list(fds), [], [], wait)
            except OSError:  # a port went away under us during shutdown
                return
            now = self._clock()
            for fd in readable:
                direction = fds[fd]
                source = self._ports[1 - direction]
                try:
                    data = source.read(4096)
                except Exception as exc:  # pyserial raises SerialException on a dead pty
                    if self._stop.is_set():
                        return
                    self._log_once(f"wire: read failed: {exc}")
                    time.sleep(IDLE_POLL)
                    continue
                if data:
                    self._accept(direction, now, data)
            self._idle_noise(now)
            self._deliver(self._clock())

    def _log_once(self, message: str) -> None:
        """A failing port fails the same way every poll: say so once (STYLE 7)."""
        if message != self._last_error:
            log.warning("%s", message)
            self._last_error = message

    def _accept(self, direction: int, now: float, data: bytes) -> None:
        c = self.counters
        c.frames[direction] += 1
        c.bytes_in[direction] += len(data)
        if self._silent:
            c.bytes_dropped += len(data)
            return
        hit = self._noise.corrupt(data)
        if hit.kind != "clean":
            c.noise_hits += 1
        due = self._schedule.place(direction, now, len(hit.data))
        if direction == TO_SLAVE:
            self._receive(due, hit.data)
        else:
            self._to_master.extend(zip(due, hit.data, strict=True))

    def _receive(self, due: list[float], data: bytes) -> None:
        """The controller's receiver takes a burst with its wire times; whole frames go on."""
        frames: list[bytes] = []
        last = len(data) - 1
        for i, byte in enumerate(data):
            frames += self._receiver.feed(due[i], byte, due[i + 1] if i < last else None)
        for frame in frames:
            self._write(TO_SLAVE, frame)

    def _idle_noise(self, now: float) -> None:
        quiet = now - self._last_idle_check
        self._last_idle_check = now
        line_busy = self._to_master or now < self._schedule.idle_since()
        if self._silent or line_busy:
            return
        burst = self._noise.idle_burst(quiet)
        if burst:
            self.counters.idle_bursts += 1
            # Garbage on an idle line reaches every station: the master and the controller's
            # receiver (which throws it away at the next t3.5 silence).
            due = self._schedule.place(TO_MASTER, now, len(burst))
            self._to_master.extend(zip(due, burst, strict=True))
            self._receive(due, burst)

    def _deliver(self, now: float) -> None:
        for frame in self._receiver.expire(now):  # a function the receiver has no length for
            self._write(TO_SLAVE, frame)
        q = self._to_master
        out = bytearray()
        while q and q[0][0] <= now:
            out.append(q.popleft()[1])
        if out:
            self._write(TO_MASTER, bytes(out))

    def _write(self, direction: int, data: bytes) -> None:
        try:
            self._ports[direction].write(data)
        except Exception as exc:  # far side full or closed: the bytes are lost
            self.counters.bytes_dropped += len(data)
            log.debug("wire: write failed: %s", exc)
