"""The whole receive path (RtuLink) under fuzzed wire bytes, delivered in random chunks:
only typed ControllerErrors escape, and only a CRC-valid response is ever accepted."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.controller.errors import ControllerError
from drivers.controller.link import RtuLink
from drivers.controller.rtu import ReadRequest, crc16, encode_response


class ScriptedPort:
    """An in-memory port (no file descriptor): once the request is written, the slave's side
    of the wire arrives in the given chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.reply = list(chunks)
        self.chunks: list[bytes] = []
        self.timeout = None
        self.written = b""

    @property
    def in_waiting(self) -> int:
        return len(self.chunks[0]) if self.chunks else 0

    def read(self, size: int = 1) -> bytes:
        if not self.chunks:
            return b""
        head = self.chunks[0]
        out, rest = head[:size], head[size:]
        if rest:
            self.chunks[0] = rest
        else:
            self.chunks.pop(0)
        return out

    def write(self, data: bytes) -> int:
        self.written += data
        self.chunks, self.reply = self.reply, []
        return len(data)


class SteppingClock:
    """Each reading moves time on by 1 ms, so deadlines expire without real waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now

    def sleep(self, dt: float) -> None:
        self.now += max(dt, 0.0)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False) if b > a]


@settings(max_examples=300, deadline=None)
@given(
    regs=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=12),
    prefix=st.binary(max_size=30),
    suffix=st.binary(max_size=10),
    flips=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 255)), max_size=3),
    cuts=st.lists(st.integers(0, 200), max_size=6),
)
def test_fuzzed_wire_never_escapes_untyped_and_never_accepts_bad_crc(regs, prefix, suffix,
                                                                      flips, cuts):
    req = ReadRequest(1, 0x1010, len(regs))
    frame = bytearray(encode_response(req, regs))
    for pos, mask in flips:
        frame[pos % len(frame)] ^= mask
    wire = prefix + bytes(frame) + suffix
    clock = SteppingClock()
    link = RtuLink(ScriptedPort(chunked(wire, cuts)), baudrate=19200, bits_per_char=11,
                   clock=clock, sleep=clock.sleep)
    try:
        got = link.transact(req, deadline=clock.now + 0.5)
    except ControllerError:
        return
    # accepted: some CRC-valid response frame with these registers is in the wire bytes
    body = bytes((1, 3, 2 * len(got))) + b"".join(r.to_bytes(2, "big") for r in got)
    crc = crc16(body)
    assert body + bytes((crc & 0xFF, crc >> 8)) in wire
    assert link.port.written == req.encode()


def test_clean_reply_in_one_byte_chunks_is_read():
    req = ReadRequest(1, 0x1010, 3)
    wire = encode_response(req, [1, 2, 3])
    clock = SteppingClock()
    link = RtuLink(ScriptedPort([bytes([b]) for b in wire]), baudrate=19200, bits_per_char=11,
                   clock=clock, sleep=clock.sleep)
    assert link.transact(req, deadline=clock.now + 0.5) == (1, 2, 3)
