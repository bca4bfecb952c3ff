"""The `sim` backend of accel and noise: a client of the virtual elevator's sensor socket.

Protocol: drivers/sim/stream.py (a Unix stream socket carrying `drivers.blocks` frames of
every stream). This client keeps one stream, re-numbers its blocks, and accounts for loss:
a gap in the sim's per-stream `seq` (blocks the sim dropped for us, or blocks sent while we
were disconnected) becomes `dropped` samples on the next block, computed from the time gap
so it is right whatever the block size. The socket is non-blocking; `read()` returns what has
arrived. After EOF or an error it reconnects with capped exponential backoff, timed by the
injected clock.
"""

from __future__ import annotations

import errno
import logging
import socket
from dataclasses import replace

from drivers.accel.source import Clock
from drivers.blocks import BlockDecoder, SampleBlock

log = logging.getLogger("liftguard.sensors")

RECV_CHUNK = 65536
MAX_BYTES_PER_READ = 4 << 20  # bound one read() so a flood cannot starve the runtime loop


class SimStreamSource:
    def __init__(
        self, path: str, stream: str, clock: Clock, *, backoff_min_s: float = 0.1,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.path = path
        self.stream = stream
        self._clock = clock
        self._min, self._max = backoff_min_s, backoff_max_s
        self._wait = backoff_min_s
        self._next_attempt = clock()
        self._sock: socket.socket | None = None
        self._decoder = BlockDecoder()
        self._last_seq: int | None = None
        self._next_t: float | None = None
        self._seq = 0
        self.connects = 0
        self.dropped_total = 0
        self.gaps = 0
        self._last_error = ""

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def fileno(self) -> int:
        return self._sock.fileno() if self._sock is not None else -1

    def read(self) -> list[SampleBlock]:
        if self._sock is None and not self._connect():
            return []
        assert self._sock is not None
        got = bytearray()
        while len(got) < MAX_BYTES_PER_READ:
            try:
                chunk = self._sock.recv(RECV_CHUNK)
            except BlockingIOError:
                break
            except OSError as exc:
                self._disconnect(f"{self.path}: {exc.strerror or exc}")
                break
            if not chunk:
                self._disconnect(f"{self.path}: the virtual elevator closed the stream")
                break
            got += chunk
        return self._accept(self._decoder.feed(bytes(got))) if got else []

    def _accept(self, blocks: list[SampleBlock]) -> list[SampleBlock]:
        out = []
        for b in blocks:
            if b.stream != self.stream:
                continue
            dropped = 0
            gap = self._last_seq is not None and b.seq != self._last_seq + 1
            if (gap or b.dropped) and self._next_t is not None:
                dropped = max(1, round((b.t0 - self._next_t) * b.fs))
                self.gaps += 1
            self._last_seq = b.seq
            self._next_t = b.t0 + b.n / b.fs
            self.dropped_total += dropped
            out.append(replace(b, seq=self._seq, dropped=dropped))
            self._seq += 1
        return out

    def _connect(self) -> bool:
        now = self._clock()
        if now < self._next_attempt:
            return False
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.path)  # a local connect completes or fails at once
        except OSError as exc:
            s.close()
            reason = errno.errorcode.get(exc.errno or 0, str(exc))
            self._schedule(f"{self.path}: cannot connect ({reason})")
            return False
        s.setblocking(False)
        self._sock = s
        self._decoder = BlockDecoder()  # a new connection starts on a frame boundary
        self._wait = self._min
        self.connects += 1
        self._last_error = ""
        return True

    def _disconnect(self, reason: str) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._schedule(reason)

    def _schedule(self, reason: str) -> None:
        if reason != self._last_error:  # a run of identical failures is logged once
            log.warning("%s stream: %s; retrying with backoff", self.stream, reason)
            self._last_error = reason
        self._next_attempt = self._clock() + self._wait
        self._wait = min(self._wait * 2, self._max)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
