"""Bus fixtures: socat pty pairs and a scripted RTU slave that can misbehave on demand."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

from drivers.controller.errors import ControllerError
from drivers.controller.rtu import encode_exception, encode_response, parse_request
from tests.support.served_sim import served_sim


class SocatPair:
    """`socat PTY PTY` with stable link paths, restartable to emulate an adapter re-plug."""

    def __init__(self, workdir: Path) -> None:
        self.master_link = workdir / "agent"
        self.slave_link = workdir / "ctl"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        socat = shutil.which("socat")
        if socat is None:
            pytest.skip("socat not installed")
        ends = [f"PTY,raw,echo=0,link={p}" for p in (self.master_link, self.slave_link)]
        self.proc = subprocess.Popen([socat, *ends], start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while not (self.master_link.exists() and self.slave_link.exists()):
            assert time.monotonic() < deadline, "socat did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc and proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        for p in (self.master_link, self.slave_link):
            if p.is_symlink():
                p.unlink()


Behaviour = Callable[[bytes, bytes], bytes | None]


class ScriptedSlave:
    """An RTU slave on a pty serving `registers`; `behaviour(request, reply)` may rewrite the
    reply (garbage, bad CRC, silence) so tests can inject every wire failure."""

    def __init__(self, path: str, registers: dict[int, int], device_id: int = 1) -> None:
        self.port = serial.serial_for_url(path, timeout=0.01)
        self.registers = registers
        self.device_id = device_id
        self.behaviour: Behaviour = lambda req, reply: reply
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buf = b""
        while not self._stop.is_set():
            try:
                buf += self.port.read(64)
            except (OSError, serial.SerialException):
                return
            while len(buf) >= 8:
                frame, buf = buf[:8], buf[8:]
                try:
                    req = parse_request(frame)
                except ControllerError:
                    buf = b""  # resync on the next request burst
                    break
                if req.device_id != self.device_id:
                    continue
                self.requests += 1
                span = range(req.address, req.address + req.count)
                if all(a in self.registers for a in span):
                    reply = encode_response(req, [self.registers[a] for a in span])
                else:
                    reply = encode_exception(req, 2)
                out = self.behaviour(frame, reply)
                if out:
                    self.port.write(out)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.port.close()




@pytest.fixture
def sim(tmp_path, request):
    """`liftguard sim run` (idle car unless parametrized with other arguments), stopped by PID."""
    with served_sim(tmp_path, getattr(request, "param", ["--calls", "none"])) as ends:
        yield {"link": str(ends.link), "control": str(ends.control)}


@pytest.fixture
def pty_pair(tmp_path) -> Iterator[SocatPair]:
    pair = SocatPair(tmp_path)
    pair.start()
    yield pair
    pair.stop()


@pytest.fixture
def slave(pty_pair) -> Iterator[ScriptedSlave]:
    s = ScriptedSlave(str(pty_pair.slave_link), {a: a & 0xFFFF for a in range(0x1000, 0x1040)})
    yield s
    s.close()
