"""The sim sensor backend against a local Unix-socket server speaking the sim's framing."""

import os
import socket
import tempfile
import time

import numpy as np
import pytest

from drivers.accel.sim_stream import SimStreamSource
from drivers.blocks import SampleBlock, encode_block


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


class Server:
    """One listening socket; the test decides what each accepted client receives."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.sock.settimeout(5)
        self.conn = None

    def accept(self):
        self.conn, _ = self.sock.accept()

    def send(self, data):
        self.conn.sendall(data)

    def drop_client(self):
        self.conn.close()
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
        self.sock.close()


@pytest.fixture
def server():
    d = tempfile.mkdtemp(prefix="lg-sim-")
    srv = Server(os.path.join(d, "sensors.sock"))
    yield srv
    srv.close()
    os.unlink(srv.path)
    os.rmdir(d)


def blk(stream, seq, n=64, fs=3200.0, dropped=0):
    ch = ("x", "y", "z") if stream == "accel" else ("p",)
    data = np.full((n, len(ch)), seq, np.float32)
    return SampleBlock(stream, seq, 100.0 + seq * n / fs, fs, ch,
                       "m/s^2" if stream == "accel" else "Pa", data, dropped)


def collect(src, want, limit_s=5.0):
    """Read until `want` blocks came (I/O wait, bounded; not a timing assertion)."""
    out, end = [], time.monotonic() + limit_s
    while len(out) < want and time.monotonic() < end:
        out += src.read()
        time.sleep(0.001)
    return out


def test_keeps_only_its_stream_and_renumbers(server):
    src = SimStreamSource(server.path, "accel", Clock())
    assert src.read() == [] and src.connected
    server.accept()
    wire = b"".join(encode_block(b) for b in [blk("accel", 0), blk("audio", 0, 320, 16000.0),
                                                blk("accel", 1), blk("audio", 1, 320, 16000.0)])
    server.send(wire[:37])
    server.send(wire[37:])  # frames split anywhere
    got = collect(src, 2)
    assert [(b.stream, b.seq, b.dropped) for b in got] == [("accel", 0, 0), ("accel", 1, 0)]
    assert got[1].t0 == pytest.approx(100.02)
    src.close()


def test_seq_gap_becomes_dropped_samples(server):
    src = SimStreamSource(server.path, "accel", Clock())
    src.read()
    server.accept()
    server.send(encode_block(blk("accel", 0)) + encode_block(blk("accel", 3)))
    got = collect(src, 2)
    assert got[1].dropped == 128 and src.gaps == 1 and src.dropped_total == 128
    src.close()


def test_blocks_the_sim_dropped_for_us_are_counted(server):
    src = SimStreamSource(server.path, "audio", Clock())
    src.read()
    server.accept()
    # the sim keeps seq running for blocks it drops for a slow client and says so in dropped
    server.send(encode_block(blk("audio", 0, 320, 16000.0))
                + encode_block(blk("audio", 2, 320, 16000.0, dropped=1)))
    got = collect(src, 2)
    assert got[1].dropped == 320
    src.close()


def test_reconnects_with_backoff_after_eof(server):
    clock = Clock()
    src = SimStreamSource(server.path, "accel", clock, backoff_min_s=0.5, backoff_max_s=2.0)
    src.read()
    server.accept()
    server.send(encode_block(blk("accel", 0)))
    assert len(collect(src, 1)) == 1
    server.drop_client()
    end = time.monotonic() + 5
    while src.connected and time.monotonic() < end:
        src.read()
    assert not src.connected
    assert src.read() == [] and not src.connected  # backoff not elapsed on the fake clock
    clock.t += 0.5
    src.read()
    assert src.connected and src.connects == 2
    server.accept()
    server.send(encode_block(blk("accel", 5)))  # what was sent while away is lost: counted
    (b,) = collect(src, 1)
    assert b.dropped == 4 * 64
    src.close()


def test_backoff_doubles_up_to_the_cap_while_nothing_listens():
    d = tempfile.mkdtemp(prefix="lg-sim-")
    clock = Clock()
    src = SimStreamSource(os.path.join(d, "absent.sock"), "accel", clock, backoff_min_s=0.1,
                          backoff_max_s=0.4)
    attempts = []
    for step in range(60):
        clock.t = step * 0.05
        before = src._next_attempt
        src.read()
        if src._next_attempt != before:
            attempts.append(round(clock.t, 2))
    os.rmdir(d)
    assert attempts[:5] == [0.0, 0.1, 0.3, 0.7, 1.1]


def test_against_the_virtual_elevators_own_stream_server():
    import asyncio
    import threading

    from drivers.sim.stream import SensorStreamServer

    d = tempfile.mkdtemp(prefix="lg-sim-")
    path = os.path.join(d, "sensors.sock")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = SensorStreamServer(path)
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(5)
        src = SimStreamSource(path, "accel", Clock())
        src.read()
        end = time.monotonic() + 5
        while server.client_count == 0 and time.monotonic() < end:
            time.sleep(0.001)

        def publish(blocks):
            loop.call_soon_threadsafe(server.publish, blocks)

        publish([blk("accel", 0), blk("audio", 0, 320, 16000.0), blk("accel", 1)])
        got = collect(src, 2)
        assert [(b.seq, b.dropped) for b in got] == [(0, 0), (1, 0)]
        np.testing.assert_array_equal(got[1].data, blk("accel", 1).data)
        src.close()
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
        os.rmdir(d)
