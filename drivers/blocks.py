"""Sample blocks: the unit in which sensor data moves from a driver to the DSP.

A block is a run of equally spaced samples of one sensor with the timestamp of its first
sample. Every backend (real chip, virtual elevator, replay) produces the same `SampleBlock`.

The virtual elevator streams blocks over a local socket with a tiny framing, encoded and
decoded here as pure functions:

    b"LGB1" | u32 header length | header (JSON, UTF-8) | payload (float32 little-endian,
    n x channels, row-major)

The header carries stream, seq, t0, fs, channels, units, n and dropped. `BlockDecoder` accepts
arbitrary byte chunks (TCP/Unix streams split frames anywhere) and resynchronises on the magic
after garbage.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MAGIC = b"LGB1"
MAX_HEADER = 4096
MAX_SAMPLES = 1 << 20


class BlockFormatError(ValueError):
    """A block frame is malformed."""


@dataclass(frozen=True)
class SampleBlock:
    stream: str
    seq: int
    t0: float
    fs: float
    channels: tuple[str, ...]
    units: str
    data: npt.NDArray[np.float32]
    dropped: int = 0

    @property
    def n(self) -> int:
        return int(self.data.shape[0])

    @property
    def duration(self) -> float:
        return self.n / self.fs

    def channel(self, name: str) -> npt.NDArray[np.float32]:
        return self.data[:, self.channels.index(name)]


def encode_block(block: SampleBlock) -> bytes:
    data = np.ascontiguousarray(block.data, dtype="<f4")
    if data.ndim != 2 or data.shape[1] != len(block.channels):
        raise BlockFormatError("block data must be (n, channels)")
    header = json.dumps(
        {
            "stream": block.stream, "seq": block.seq, "t0": block.t0, "fs": block.fs,
            "channels": list(block.channels), "units": block.units, "n": int(data.shape[0]),
            "dropped": block.dropped,
        },
        separators=(",", ":"),
    ).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + data.tobytes()


class BlockDecoder:
    """Incremental decoder: feed bytes, get whole blocks; garbage is skipped and counted."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.skipped_bytes = 0

    def feed(self, chunk: bytes) -> list[SampleBlock]:
        self._buf += chunk
        out: list[SampleBlock] = []
        while True:
            block = self._next()
            if block is None:
                return out
            out.append(block)

    def _next(self) -> SampleBlock | None:
        buf = self._buf
        start = buf.find(MAGIC)
        if start < 0:
            keep = len(MAGIC) - 1  # a magic may be split across chunks
            self.skipped_bytes += max(0, len(buf) - keep)
            del buf[: max(0, len(buf) - keep)]
            return None
        if start:
            self.skipped_bytes += start
            del buf[:start]
        if len(buf) < 8:
            return None
        (hlen,) = struct.unpack_from("<I", buf, 4)
        if hlen > MAX_HEADER:
            return self._resync()
        if len(buf) < 8 + hlen:
            return None
        try:
            h = json.loads(bytes(buf[8 : 8 + hlen]))
            n, ch = int(h["n"]), len(h["channels"])
            if not (0 <= n <= MAX_SAMPLES and 1 <= ch <= 8):
                raise BlockFormatError("bad sizes")
        except (ValueError, KeyError, TypeError):
            return self._resync()
        end = 8 + hlen + 4 * n * ch
        if len(buf) < end:
            return None
        data = np.frombuffer(bytes(buf[8 + hlen : end]), dtype="<f4").reshape(n, ch)
        del buf[:end]
        return SampleBlock(
            stream=str(h["stream"]), seq=int(h["seq"]), t0=float(h["t0"]), fs=float(h["fs"]),
            channels=tuple(str(c) for c in h["channels"]), units=str(h["units"]),
            data=data.astype(np.float32), dropped=int(h.get("dropped", 0)),
        )

    def _resync(self) -> SampleBlock | None:
        self.skipped_bytes += 1
        del self._buf[:1]
        return self._next()
