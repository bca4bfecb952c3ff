"""ControllerClient over a real pty: deadlines, t3.5, retries, typed errors, reconnect."""

from __future__ import annotations

import logging
import time

import pytest

from drivers.controller.client import ControllerClient, LinkSettings, RepeatedErrorLog
from drivers.controller.errors import (
    ControllerTimeout,
    CrcError,
    ExceptionResponse,
    FrameError,
    PortGone,
)
from tests.controller.conftest import ScriptedSlave

FAST = dict(baudrate=19200, parity="N", timeout_s=0.15, retries=1, backoff_s=0.005,
            backoff_max_s=0.01, reconnect_min_s=0.05, reconnect_max_s=0.2)


def client_for(pair, **kw) -> ControllerClient:
    return ControllerClient(LinkSettings(port=str(pair.master_link), **{**FAST, **kw}))


def test_reads_registers_from_a_slave(pty_pair, slave):
    with client_for(pty_pair) as c:
        assert c.read_registers(0x1010, 4) == (0x1010, 0x1011, 0x1012, 0x1013)


def test_per_call_device_id_reaches_another_slave_on_the_same_bus(pty_pair, slave):
    slave.device_id = 7
    with client_for(pty_pair, device_id=1) as c:
        assert c.read_registers(0x1000, 1, device_id=7) == (0x1000,)
        with pytest.raises(ControllerTimeout):
            c.read_registers(0x1000, 1)


def test_exception_response_is_typed_and_not_retried(pty_pair, slave):
    with client_for(pty_pair, retries=3) as c, pytest.raises(ExceptionResponse) as info:
        c.read_registers(0x2000, 1)
    assert info.value.code == 2 and slave.requests == 1


@pytest.mark.parametrize(
    "behaviour, error",
    [
        (lambda req, reply: None, ControllerTimeout),
        (lambda req, reply: reply[:-1] + bytes([reply[-1] ^ 0xFF]), CrcError),
        (lambda req, reply: b"\x55" * 40, FrameError),
    ],
    ids=["silent", "bad-crc", "garbage"],
)
def test_failures_are_typed_and_bounded_by_the_deadline(pty_pair, slave, behaviour, error):
    slave.behaviour = behaviour
    with client_for(pty_pair) as c:
        start = time.monotonic()
        deadline = start + 0.4
        with pytest.raises(error):
            c.read_registers(0x1010, 2, deadline=deadline)
        assert time.monotonic() <= deadline + 0.05  # deadline respected (scheduling slack)


def test_trickling_garbage_cannot_stretch_a_transaction(pty_pair, slave):
    def trickle(req, reply):
        for _ in range(200):
            slave.port.write(b"\x01")
            time.sleep(0.002)
        return None

    slave.behaviour = trickle
    with client_for(pty_pair, retries=0) as c:
        start = time.monotonic()
        with pytest.raises((ControllerTimeout, FrameError)):
            c.read_registers(0x1010, 2, deadline=start + 0.1)
        assert time.monotonic() - start < 0.15


def test_good_frame_after_garbage_is_read(pty_pair, slave):
    slave.behaviour = lambda req, reply: b"\x00\x01\x03\xff\x13\x37" + reply
    with client_for(pty_pair) as c:
        assert c.read_registers(0x1010, 3) == (0x1010, 0x1011, 0x1012)


def test_retry_recovers_from_one_corrupted_reply(pty_pair, slave):
    replies = iter([b"\x01\x03\x04\x00\x00\x00\x00\x00\x00"])
    slave.behaviour = lambda req, reply: next(replies, reply)
    with client_for(pty_pair, retries=1) as c:
        assert c.read_registers(0x1010, 2) == (0x1010, 0x1011)
    assert slave.requests == 2


def test_t35_gap_is_kept_between_transactions(pty_pair, slave):
    arrivals: list[float] = []

    def stamp(req, reply):
        arrivals.append(time.monotonic())
        return reply

    slave.behaviour = stamp
    with client_for(pty_pair, baudrate=1200) as c:  # t3.5 = 29 ms at 1200 8N1
        for _ in range(5):
            c.read_registers(0x1010, 1)
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert min(gaps) >= 3.5 * 10 / 1200


def test_port_that_disappears_and_returns_is_reopened(pty_pair, slave):
    c = client_for(pty_pair)
    assert c.read_registers(0x1010, 1) == (0x1010,)
    slave.close()
    pty_pair.stop()
    with pytest.raises(PortGone):
        for _ in range(3):
            c.read_registers(0x1010, 1)
    with pytest.raises(PortGone):
        c.read_registers(0x1010, 1)
    pty_pair.start()
    again = ScriptedSlave(str(pty_pair.slave_link), {0x1010: 42})
    try:
        deadline = time.monotonic() + 3
        while True:
            try:
                assert c.read_registers(0x1010, 1) == (42,)
                break
            except (PortGone, ControllerTimeout):
                assert time.monotonic() < deadline, "client never reconnected"
                time.sleep(0.05)
    finally:
        again.close()
        c.close()


def test_missing_port_is_port_gone_not_a_traceback(tmp_path):
    c = ControllerClient(LinkSettings(port=str(tmp_path / "nope"), **FAST))
    with pytest.raises(PortGone, match="nope"):
        c.read_registers(0, 1)


def test_identical_errors_are_logged_once_with_a_count(caplog):
    log = RepeatedErrorLog(logging.getLogger("t"))
    with caplog.at_level(logging.INFO, logger="t"):
        for _ in range(5):
            log.error("device 1: no response")
        log.ok()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "device 1: no response",
        "last error repeated 4 more times: device 1: no response",
        "controller link recovered",
    ]


def test_loop_url_works_without_a_file_descriptor():
    c = ControllerClient(LinkSettings(port="loop://", **FAST))
    # loop:// hears its own request: never a valid response, so a typed timeout/frame error
    with pytest.raises((ControllerTimeout, FrameError)):
        c.read_registers(0x1010, 1, deadline=time.monotonic() + 0.1)


def test_local_echo_is_swallowed_when_enabled(pty_pair, slave):
    slave.behaviour = lambda req, reply: req + reply  # a half-duplex adapter hearing itself
    with client_for(pty_pair, echo=True) as c:
        assert c.read_registers(0x1010, 2) == (0x1010, 0x1011)


def test_missing_echo_is_an_echo_error(pty_pair, slave):
    from drivers.controller.errors import EchoError

    with client_for(pty_pair, echo=True, retries=0) as c, pytest.raises(EchoError):
        c.read_registers(0x1010, 2)


def test_spy_url_reads_and_logs_the_traffic(pty_pair, slave, tmp_path):
    log = tmp_path / "spy.txt"
    url = f"spy://{pty_pair.master_link}?file={log}"
    with ControllerClient(LinkSettings(port=url, **FAST)) as c:
        assert c.read_registers(0x1010, 2) == (0x1010, 0x1011)
    assert "01 03 10 10 00 02" in log.read_text().upper()


def test_pymodbus_transport_reads_the_same_registers(pty_pair, slave):
    with client_for(pty_pair, transport="pymodbus") as c:
        assert c.read_registers(0x1010, 3) == (0x1010, 0x1011, 0x1012)
        with pytest.raises(ExceptionResponse) as info:
            c.read_registers(0x2000, 1)
    assert info.value.code == 2


def test_no_request_is_sent_once_the_deadline_has_passed(pty_pair, slave):
    with client_for(pty_pair) as c:
        c.read_registers(0x1010, 1)
        with pytest.raises(ControllerTimeout, match="deadline passed"):
            c.read_registers(0x1010, 1, deadline=time.monotonic() - 0.001)
        c.read_registers(0x1010, 1)  # the slave answers in order: a stray request counts first
    assert slave.requests == 2
