"""sd_notify over a real AF_UNIX datagram socket, as systemd's notify socket receives it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.systemd import SystemdNotifier


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(2)
    yield path, s
    s.close()


def test_ready_watchdog_and_stopping_arrive_as_one_datagram_each(notify_socket):
    path, server = notify_socket
    n = SystemdNotifier({"NOTIFY_SOCKET": path})
    n.ready("polling /dev/ttyAMA0")
    n.watchdog()
    n.stopping()
    got = [server.recv(4096) for _ in range(3)]
    assert got == [b"READY=1\nSTATUS=polling /dev/ttyAMA0", b"WATCHDOG=1", b"STOPPING=1"]
    n.close()


def test_abstract_socket_name_with_at_sign_is_reached():
    name = f"liftguard-test-{os.getpid()}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind("\0" + name)
    server.settimeout(2)
    try:
        SystemdNotifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert server.recv(4096) == b"READY=1"
    finally:
        server.close()


def test_without_notify_socket_every_call_is_a_no_op():
    n = SystemdNotifier({})
    assert not n.enabled
    n.ready()
    n.watchdog()  # nothing to send to, nothing raised


@pytest.mark.parametrize(("env", "period"), [
    ({"WATCHDOG_USEC": "30000000"}, 30.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "abc"}, None),
    ({}, None),
])
def test_watchdog_period_comes_from_the_environment(env, period):
    assert SystemdNotifier(env).watchdog_s == period


def test_a_vanished_notify_socket_is_logged_not_raised(tmp_path, caplog):
    n = SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    n.watchdog()
    n.watchdog()
    assert sum("sd_notify" in r.message for r in caplog.records) == 1
