"""Pty pairs made by socat, and the user's symlink to the agent's end.

A `PtyPair` is one `socat PTY PTY` process: whatever is written to one end is read at the
other. It is started and stopped by PID, and its two pty paths are found through links that
socat makes in a private directory (mode 0700) that this process owns.

`ControllerLink` is the published name of the controller port: `--link PATH` puts a symlink
to the agent's pty at PATH. A PATH that exists is busy (one-line error); a dangling symlink
left by a killed run is not, and is replaced.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from agent.errors import HardwareUnavailable, InputError

START_TIMEOUT = 5.0


class LinkError(InputError):
    """A link path or pty could not be set up; the message names the path."""


class PtyPair:
    """Two ptys joined by socat; `a` and `b` are their /dev/pts paths once started."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.name = name
        self._links = (workdir / f"{name}-a", workdir / f"{name}-b")
        self._proc: subprocess.Popen[bytes] | None = None
        self.a = ""
        self.b = ""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        socat = shutil.which("socat")
        if socat is None:
            raise HardwareUnavailable("socat is not installed (apt-get install socat)")
        # raw,echo=0: the ptys carry binary Modbus frames; no line discipline may touch them.
        ends = [f"PTY,raw,echo=0,link={p}" for p in self._links]
        self._proc = subprocess.Popen(
            [socat, *ends], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not all(p.exists() for p in self._links):
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise HardwareUnavailable(f"socat exited: {err.strip().splitlines()[-1:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise HardwareUnavailable("socat did not create its ptys within 5 s")
            time.sleep(0.01)
        self.a, self.b = (os.path.realpath(p) for p in self._links)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr:
            proc.stderr.close()
        for p in self._links:
            if p.is_symlink():
                p.unlink()


class ControllerLink:
    """The symlink at a user-chosen path that points at the agent's pty."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._target = ""

    def check_free(self) -> None:
        """Fail early, before anything is started, if the path is taken."""
        p = self.path
        if p.is_symlink() and not p.exists():
            return  # dangling: a previous run was killed; it is replaced on create()
        if p.exists():
            raise LinkError(f"link path {p} is busy: it already exists (another sim running?)")
        if not p.parent.is_dir():
            raise LinkError(f"link path {p}: directory {p.parent} does not exist")

    def create(self, target: str) -> None:
        self.check_free()
        if self.path.is_symlink():
            self.path.unlink()
        try:
            os.symlink(target, self.path)
        except FileExistsError:
            raise LinkError(f"link path {self.path} is busy: it already exists") from None
        except OSError as exc:
            raise LinkError(f"link path {self.path}: {exc.strerror}") from None
        self._target = target

    def remove(self) -> None:
        """Remove the link only if it is still ours (someone may have replaced it)."""
        if self._target and self.path.is_symlink() and os.readlink(self.path) == self._target:
            self.path.unlink()
        self._target = ""
