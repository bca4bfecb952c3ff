"""The runtime's producer threads: the controller poller and the sensor pump.

Each owns the blocking I/O of one bus, hands its output to the runtime loop through a
`DropOldestQueue`, and stamps `progress` (the injected clock's time) every time round its
loop. The systemd watchdog is fed only while every stamp is fresh, so a bus call that hangs
past its deadline stops the pings and systemd restarts the agent.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from agent.runtime.queues import DropOldestQueue
from drivers.accel.source import BlockSource
from drivers.blocks import SampleBlock
from drivers.controller.poller import Poller
from drivers.controller.sample import ControllerSample
from drivers.replay.controller_csv import ControllerReplay

log = logging.getLogger("liftguard.runtime")

# Sources without a FIFO deadline (sockets, replay, ALSA buffers of ~1 s) are drained at this
# rate: 20 reads a second keeps each read small and costs little CPU.
DEFAULT_DRAIN_PERIOD_S = 0.05
REPLAY_PACED_LOOK_S = 0.01  # a paced trace row comes out at most this late


class _Stopped(Exception):
    """Raised from the poller's sleep once the part is stopped: a poller that yields nothing
    (a replay whose trace is over) never returns to `_run`'s stop check, and with the stop
    event set its sleeps return at once, so it would spin a core until the process exits."""


class ControllerPart:
    """Runs the poller's anchored schedule on its own thread (Modbus calls block)."""

    name = "controller"

    def __init__(self, poller: Poller | ReplayPoller, out: DropOldestQueue[ControllerSample],
                 clock: Callable[[], float]) -> None:
        self.poller = poller
        self.out = out
        self.clock = clock
        self._stop = threading.Event()
        # The poller sleeps on our stop event, so stopping never waits out a poll period.
        poller.sleep = self._sleep
        self._thread = threading.Thread(target=self._run, name="liftguard-poller", daemon=True)
        self.progress = clock()
        self.first_poll_at: float | None = None
        self.failure = ""

    def start(self) -> None:
        self._thread.start()

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Stopped

    def _run(self) -> None:
        try:
            for sample in self.poller.samples():
                if self._stop.is_set():
                    return
                self.out.put(sample)
                self.progress = self.clock()
                if self.first_poll_at is None:
                    self.first_poll_at = self.progress
        except _Stopped:
            return
        except Exception as exc:  # a bug, not a bus error (those are values in the sample)
            self.failure = f"{type(exc).__name__}: {exc}"
            log.exception("controller poller stopped")

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


class ReplayPoller:
    """A controller trace played in place of the poller (`[controller] backend = "replay"`),
    with the poller's interface for `ControllerPart`. Paced, rows come out at their trace
    times; unpaced, one row per `period_s`, so a long trace plays quickly while the runtime
    loop (which drains the sample queue every LOOP_PERIOD_S) keeps up and loses no row."""

    def __init__(self, replay: ControllerReplay, period_s: float, realtime: bool) -> None:
        self.replay = replay
        self.period_s = max(period_s, 0.001)
        self.realtime = realtime
        self.sleep: Callable[[float], None] = lambda s: None
        self.polls = 0

    def samples(self) -> Iterator[ControllerSample]:
        while True:
            got = self.replay.read()
            for sample in got:
                self.polls += 1
                yield sample
            # After the last row the trace is over: the part idles, the agent keeps running.
            # Paced, look again soon: rows are due at their trace times, not on our schedule.
            paced = self.realtime and not self.replay.finished
            self.sleep(REPLAY_PACED_LOOK_S if paced else self.period_s)


class SensorPump:
    """Drains every sensor source into one queue, faster than the slowest FIFO deadline."""

    name = "sensors"

    def __init__(self, sources: Sequence[BlockSource],
                 out: DropOldestQueue[tuple[float, SampleBlock]],
                 clock: Callable[[], float]) -> None:
        self.sources = list(sources)
        self.out = out
        self.clock = clock
        deadlines = [float(s.read_deadline_s) for s in self.sources
                     if hasattr(s, "read_deadline_s")]
        # Chip FIFOs overflow after read_deadline_s; read at twice that rate.
        self.period_s = min([DEFAULT_DRAIN_PERIOD_S, *(d / 2 for d in deadlines)])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liftguard-sensors", daemon=True)
        self.progress = clock()
        self.last_block: dict[str, float] = {}
        self.samples: dict[str, int] = {s.stream: 0 for s in self.sources}
        self.failure = ""

    def start(self) -> None:
        if self.sources:
            self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                for src in self.sources:
                    blocks = src.read()
                    if not blocks:
                        continue
                    now = self.clock()
                    for block in blocks:
                        self.out.put((now, block))  # arrival time places it on our clock
                        self.samples[src.stream] += block.n
                    self.last_block[src.stream] = now
                self.progress = self.clock()
                self._stop.wait(self.period_s)
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"
            log.exception("sensor pump stopped")

    @property
    def alive(self) -> bool:
        return not self.sources or self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        for src in self.sources:
            with contextlib.suppress(OSError):
                src.close()


class AnalysisWorker:
    """Runs the DSP of finished trips off the runtime loop (a trip's features take tens of
    milliseconds; the event rules must not wait for them). At most `maxlen` trips wait; a
    backlog beyond that drops the oldest trip, counted."""

    name = "analysis"

    def __init__(self, clock: Callable[[], float], maxlen: int = 4) -> None:
        self.jobs: DropOldestQueue[Any] = DropOldestQueue(maxlen)
        self.results: DropOldestQueue[Any] = DropOldestQueue(maxlen * 4)
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liftguard-analysis", daemon=True)
        self.progress = clock()
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: Any) -> None:
        self.jobs.put(job)
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            for job in self.jobs.drain():
                try:
                    self.results.put(job.analyse())
                except Exception:  # one bad trip must not end detection for good
                    self.failures += 1
                    log.exception("trip analysis failed")
            self.progress = self.clock()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
