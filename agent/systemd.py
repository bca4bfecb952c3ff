"""systemd service integration, written against the sd_notify protocol (sd_notify(3)).

The protocol is one datagram per notification to the AF_UNIX socket named by $NOTIFY_SOCKET
(a path, or an abstract name when it starts with "@"), holding newline-separated KEY=VALUE
assignments: READY=1 once start-up is done (Type=notify), WATCHDOG=1 as the keep-alive for
WatchdogSec=, STOPPING=1 at shutdown and STATUS=... as free text for `systemctl status`.
$WATCHDOG_USEC (and $WATCHDOG_PID, when set, must be our PID) give the watchdog period;
sd_watchdog_enabled(3) recommends pinging at half of it.

No dependency on libsystemd or a Python binding: the whole protocol is a sendto().
Outside systemd (no $NOTIFY_SOCKET) every call is a no-op, so `liftguard run` behaves the
same in a terminal, in a test and under the service manager.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("liftguard.systemd")


class SystemdNotifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = env.get("NOTIFY_SOCKET", "")
        self.watchdog_s = _watchdog_period(env)
        self._sock: socket.socket | None = None
        self._failed = False

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def ready(self, status: str = "") -> None:
        self._send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def status(self, text: str) -> None:
        self._send(f"STATUS={text}")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def _send(self, message: str) -> None:
        if not self.address:
            return
        # An abstract socket name is given with a leading "@", which stands for the NUL byte.
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message.encode(), target)
            self._failed = False
        except OSError as exc:
            if not self._failed:  # a run of failures is logged once
                log.warning("sd_notify to %s failed: %s", self.address, exc)
            self._failed = True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _watchdog_period(env: Mapping[str, str]) -> float | None:
    """The watchdog period in seconds, or None when the watchdog is not enabled for us."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None  # meant for another process (sd_watchdog_enabled(3))
    return int(usec) / 1e6
