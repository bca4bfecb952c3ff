"""The served virtual elevator: the physics model in real time behind real endpoints.

Parts and threads (each part has one owner; they meet only through the hand-offs named here):

- model thread ("sim-model"): the only thread that touches the `ElevatorModel`. Every tick it
  runs queued control commands, advances the model by the elapsed wall time x speedup,
  publishes the register image (a new dict, swapped in as one reference: readers never see
  half an update), hands the new sample blocks to the loop thread and tells the wire relay
  which bus faults are active.
- loop thread ("sim-loop"): one asyncio loop with the pymodbus slave (reads the published
  image at request time), the sensor stream server and the control server. Control requests
  are passed to the model thread as callables and awaited.
- wire thread ("sim-wire"): the relay between the agent's pty and the slave's pty, pacing
  bytes and applying unplugged/noise faults (drivers/sim/relay.py).
- two socat processes: the pty pairs agent <-> wire and wire <-> slave, stopped by PID.

`ServedSim.start()` brings these up in order and, if any part fails, stops what it started;
`stop()` takes them down in reverse order and is safe to call twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import queue
import random
import shutil
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import serial

from agent.errors import InputError
from drivers.blocks import SampleBlock
from drivers.controller.profile import Profile
from drivers.sim.control import ControlServer, Request
from drivers.sim.faults import FAULTS, check_name, validate
from drivers.sim.link import ControllerLink, LinkError, PtyPair
from drivers.sim.relay import WireRelay
from drivers.sim.slave import ControllerSlave, quiet_pymodbus
from drivers.sim.stream import SensorStreamServer
from drivers.sim.wire import LineSettings

TICK = 0.02  # mean model step in wall seconds: ~50 Hz register updates, ~64-sample accel blocks
# Each tick lasts TICK x (1 +- TICK_JITTER). A fixed 20 ms tick is exactly 6 periods of the
# 300 Hz DC-bus ripple of a 50 Hz six-pulse drive (and 6 of 360 Hz at 60 Hz): every published
# image would hold the bus at one ripple phase, and a slowly polling master would see a
# phase-locked bus with no spread. A drive's own register refresh is not locked to the
# mains, so the publishing instants wander over the ripple period instead (+-5 ms is 1.5
# periods at 300 Hz, so the phase of each image is effectively uniform).
TICK_JITTER = 0.25
MAX_STEP = 0.5  # after a stall (swap, debugger) the model catches up in steps of this


def tick_intervals(rng: random.Random) -> Iterator[float]:
    """Wall seconds between model ticks: TICK on average, never locked to a mains period."""
    while True:
        yield TICK * (1.0 + rng.uniform(-TICK_JITTER, TICK_JITTER))


class Model(Protocol):
    """What the served mode needs from drivers.sim.model.ElevatorModel."""

    controller_powered: bool

    @property
    def t(self) -> float: ...
    @property
    def active_faults(self) -> dict[str, Any]: ...
    def advance(self, dt: float) -> None: ...
    def readings(self) -> Mapping[str, Any]: ...
    def drain_blocks(self) -> list[SampleBlock]: ...
    def inject(self, name: str, value: Any) -> Any: ...
    def clear(self, name: str) -> None: ...
    def status(self) -> dict[str, Any]: ...
    def call(self, floor: int) -> None: ...


@dataclass(frozen=True)
class ServedOptions:
    line: LineSettings = LineSettings()
    device_id: int = 1
    link: str | None = None
    wire_emulation: bool = True
    sensors: str | None = None
    control: str | None = None
    speedup: float = 1.0
    seed: int = 0


@dataclass(frozen=True)
class Endpoints:
    controller: str
    link: str | None
    sensors: str
    control: str

    def lines(self) -> list[str]:
        out = [f"controller: {self.controller}"]
        if self.link:
            out.append(f"link: {self.link}")
        return [*out, f"sensors: {self.sensors}", f"control: {self.control}"]


def check_socket_path(path: str, what: str) -> None:
    """A user-chosen socket path must be free: absent, or a dead socket left by a killed run."""
    p = Path(path)
    if not p.parent.is_dir():
        raise LinkError(f"{what} socket {path}: directory {p.parent} does not exist")
    if not (p.exists() or p.is_symlink()):
        return
    if not stat.S_ISSOCK(p.lstat().st_mode):
        raise LinkError(f"{what} socket {path} is busy: a file that is not a socket is there")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            p.unlink()  # stale socket of a dead sim
            return
    raise LinkError(f"{what} socket {path} is busy: another process is listening on it")


def bus_faults(active: Mapping[str, Any], powered: bool) -> tuple[bool, float]:
    """(slave silent, noise level): an unplugged cable or a controller whose supply has
    dropped out (power loss, after the DC bus decays) answers nothing."""
    silent = bool(active.get("controller_unplugged")) or not powered
    return silent, float(active.get("bus_noise", 0.0) or 0.0)


class ServedSim:
    """Runs `model` in real time behind a Modbus slave, sensor and control sockets."""

    def __init__(self, model: Model, profile: Profile, options: ServedOptions) -> None:
        self.model = model
        self.profile = profile
        self.options = options
        self._addresses = [
            a for f in profile.fields for a in range(f.address, f.address + f.words)
        ]
        self._image: Mapping[int, int] = {}
        self._commands: queue.Queue[tuple[Callable[[], Any], concurrent.futures.Future[Any]]]
        self._commands = queue.Queue()
        self._stop = threading.Event()
        self._stopped = False
        self._workdir: Path | None = None
        self._pairs: list[PtyPair] = []
        self._link = ControllerLink(options.link) if options.link else None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._model_thread: threading.Thread | None = None
        self._relay: WireRelay | None = None
        self._ports: list[serial.Serial] = []
        self._slave: ControllerSlave | None = None
        self._streams: SensorStreamServer | None = None
        self._control: ControlServer | None = None
        self._model_error = ""
        self.started_at = 0.0
        self.endpoints: Endpoints | None = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> Endpoints:
        o = self.options
        if not o.speedup > 0:
            raise InputError(f"speedup {o.speedup} must be > 0")
        if self._link:
            self._link.check_free()
        if o.sensors and o.control and os.path.abspath(o.sensors) == os.path.abspath(o.control):
            raise LinkError(f"sensors and control sockets cannot share the path {o.sensors}")
        for path, what in ((o.sensors, "sensors"), (o.control, "control")):
            if path:
                check_socket_path(path, what)
        try:
            return self._start_parts()
        except BaseException:
            self.stop()
            raise

    def _start_parts(self) -> Endpoints:
        o = self.options
        quiet_pymodbus()
        self._workdir = Path(tempfile.mkdtemp(prefix="liftguard-sim-"))  # mode 0700
        bus, slave_pair = PtyPair(self._workdir, "bus"), PtyPair(self._workdir, "slave")
        self._pairs = [bus, slave_pair]
        for pair in self._pairs:
            pair.start()
        self._publish_image()
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self._loop.run_forever, name="sim-loop", daemon=True
        )
        self._loop_thread.start()
        sensors = o.sensors or str(self._workdir / "sensors.sock")
        control = o.control or str(self._workdir / "control.sock")
        self._slave = ControllerSlave(
            slave_pair.b, lambda: self._image, self._addresses, device_id=o.device_id,
            title=self.profile.title,
        )
        self._streams = SensorStreamServer(sensors)
        self._control = ControlServer(control, self._handle)
        self._in_loop(self._slave.start())
        for server, what in ((self._streams, "sensors"), (self._control, "control")):
            try:
                self._in_loop(server.start())
            except OSError as exc:  # e.g. a directory we may not write to
                raise LinkError(f"{what} socket {server.path}: {exc.strerror or exc}") from None
        self._ports = [serial.serial_for_url(p, timeout=0, write_timeout=0)
                       for p in (bus.b, slave_pair.a)]
        self._relay = WireRelay(
            self._ports[0], self._ports[1], o.line, paced=o.wire_emulation,
            rng=random.Random(o.seed ^ 0x5EED),
        )
        self._relay.start()
        self.started_at = time.time() - self.model.t
        self._model_thread = threading.Thread(target=self._run_model, name="sim-model",
                                              daemon=True)
        self._model_thread.start()
        if self._link:
            self._link.create(bus.a)
        self.endpoints = Endpoints(bus.a, o.link, sensors, control)
        return self.endpoints

    def wait(self, timeout: float | None = None) -> bool:
        """Block until `request_stop()` (e.g. from a signal handler); True if stopping."""
        return self._stop.wait(timeout)

    def request_stop(self) -> None:
        self._stop.set()

    def failure(self) -> str:
        """Why the running sim cannot go on ("" while all is well): a part that died."""
        if self._model_error:
            return f"the model failed: {self._model_error}"
        for pair in self._pairs:
            if not pair.alive():
                return f"socat (pid {pair.pid}) for the {pair.name} pty pair exited"
        relay_thread = self._relay.thread if self._relay else None
        threads = [self._model_thread, self._loop_thread, relay_thread]
        for thread in threads:
            if thread is not None and not thread.is_alive():
                return f"thread {thread.name} stopped"
        return ""

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
        if self._link:
            self._link.remove()
        if self._model_thread:
            self._model_thread.join(timeout=5.0)
        if self._relay:
            self._relay.stop()
        if self._loop and self._loop_thread:
            for part in (self._control, self._streams, self._slave):
                if part is not None:
                    with contextlib.suppress(Exception):
                        self._in_loop(part.stop(), timeout=3.0)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join(timeout=3.0)
            if not self._loop_thread.is_alive():
                self._loop.close()
        for port in self._ports:
            with contextlib.suppress(Exception):
                port.close()
        for pair in reversed(self._pairs):
            pair.stop()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def _in_loop(self, coro: Any, timeout: float = 10.0) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # -- model thread -----------------------------------------------------------------------

    def _run_model(self) -> None:
        try:
            self._step_in_real_time()
        except Exception as exc:  # reported by failure(); the CLI exits non-zero
            self._model_error = f"{type(exc).__name__}: {exc}"
            raise

    def _step_in_real_time(self) -> None:
        intervals = tick_intervals(random.Random(self.options.seed ^ 0x71C4))
        last = time.monotonic()
        next_tick = last + next(intervals)
        while not self._stop.is_set():
            self._run_commands(max(0.0, next_tick - time.monotonic()))
            now = time.monotonic()
            if now < next_tick:
                continue
            next_tick = max(next_tick + next(intervals), now)  # do not burst after a stall
            elapsed, last = now - last, now
            step = elapsed * self.options.speedup
            while step > 0:
                self.model.advance(min(step, MAX_STEP))
                step -= MAX_STEP
            self._after_step()

    def _run_commands(self, wait: float) -> None:
        try:
            fn, fut = self._commands.get(timeout=wait) if wait > 0 else self._commands.get_nowait()
        except queue.Empty:
            return
        while True:
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn())
                except BaseException as exc:  # handed to the waiting control client
                    fut.set_exception(exc)
            try:
                fn, fut = self._commands.get_nowait()
            except queue.Empty:
                return

    def _after_step(self) -> None:
        self._publish_image()
        blocks = self.model.drain_blocks()
        if blocks and self._loop and self._streams:
            blocks = [replace(b, t0=self.started_at + b.t0) for b in blocks]
            self._loop.call_soon_threadsafe(self._streams.publish, blocks)
        if self._relay:
            silent, noise = bus_faults(self.model.active_faults, self.model.controller_powered)
            self._relay.set_faults(silent=silent, noise=noise)

    def _publish_image(self) -> None:
        self._image = self.profile.encode(self.model.readings())

    # -- control (runs in the loop thread, work goes to the model thread) -------------------

    async def _on_model(self, fn: Callable[[], Any]) -> Any:
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._commands.put((fn, fut))
        return await asyncio.wrap_future(fut)

    async def _handle(self, req: Request) -> dict[str, Any]:
        if req.cmd == "status":
            return {"status": await self._on_model(self._status)}
        if req.cmd == "inject":
            return {"active": await self._on_model(lambda: self._inject(req.faults))}
        if req.cmd == "clear":
            return {"active": await self._on_model(lambda: self._clear(req.names))}
        if req.cmd == "call":
            await self._on_model(lambda: self.model.call(req.floor))
            return {}
        return {"faults": [
            {"name": s.name, "kind": s.kind, "range": s.range_text, "help": s.help}
            for s in FAULTS.values()
        ]}

    def _inject(self, faults: Mapping[str, Any]) -> dict[str, Any]:
        numbers = list(self.profile.faults)
        checked = {name: validate(name, value, numbers) for name, value in faults.items()}
        for name, value in checked.items():
            self.model.inject(name, value)
        self._after_step()
        return self.model.active_faults

    def _clear(self, names: tuple[str, ...]) -> dict[str, Any]:
        for name in names:
            check_name(name)
        for name in names:
            self.model.clear(name)
        self._after_step()
        return self.model.active_faults

    def _status(self) -> dict[str, Any]:
        status = dict(self.model.status())
        relay = self._relay
        status["served"] = {
            "line": self.options.line.describe(),
            "device_id": self.options.device_id,
            "wire_emulation": self.options.wire_emulation,
            "speedup": self.options.speedup,
            "started_at": self.started_at,
            "modbus_requests": self._slave.requests_served if self._slave else 0,
            "sensor_clients": self._streams.client_count if self._streams else 0,
            "wire": vars(relay.counters) if relay else {},
            "pid": os.getpid(),
        }
        return status
