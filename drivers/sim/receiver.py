"""The virtual controller's RTU receiver: where the bytes off the wire become request frames.

A real controller's UART hands its Modbus stack characters with their timing; the stack
(Modbus over Serial Line V1.02, MOSL, section 2.5.1.1) ends a frame at 3.5 character times
of silence and discards a frame that is incomplete or whose CRC does not match, silently,
so the next request after a t3.5 gap is read cleanly whatever the noise left before it.

pymodbus's serial server has no silence timer: a garbled header that announces a long frame
(an FC16 byte count of 200) makes it wait for that many bytes, eating the good requests
that follow. So the wire relay (which knows every character's time) feeds this receiver and
hands the slave only whole, CRC-valid frames.

The frame ends at the silence, but the relay need not wait it out to know where it ends: every
character already on the wire is in its queue, so `feed()` is told when the next one ends.
A request whose length its function code gives is passed on with its last character when no
character follows it within t3.5 and its CRC matches (the answer still leaves one t3.5 after
the request: the wire schedule holds it); with characters glued behind it the frame runs on
and fails its CRC as a whole, so it is dropped at the silence, as the spec's receiver does. A
request of a function whose length is not known here is passed on at the silence. Pure:
characters and wire times in, frames out.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.controller.rtu import crc_ok

# Request lengths by function code, Modbus Application Protocol V1.1b3 section 6: address,
# function, fixed fields, CRC. Functions 15/16 (and 23) add a byte count and that many bytes.
_FIXED_REQUEST_LEN = {
    1: 8, 2: 8, 3: 8, 4: 8, 5: 8, 6: 8, 8: 8,  # 2-byte address/sub-function + 2-byte value
    7: 4, 11: 4, 12: 4, 17: 4,  # no data
    22: 10,  # mask write: address, AND mask, OR mask
    24: 6,  # read FIFO queue: pointer address
}
# function -> (index of the byte count, length of the request without the counted bytes)
_COUNTED_REQUEST = {15: (6, 9), 16: (6, 9), 23: (10, 13)}


def request_length(buf: bytes | bytearray) -> int | None:
    """The length of the request that `buf` starts, or None when its first bytes cannot
    tell (too few bytes yet, or a function whose length only the silence ends)."""
    if len(buf) < 2:
        return None
    function = buf[1]
    if function in _FIXED_REQUEST_LEN:
        return _FIXED_REQUEST_LEN[function]
    if function in _COUNTED_REQUEST:
        at, base = _COUNTED_REQUEST[function]
        return base + buf[at] if len(buf) > at else None
    return None


@dataclass
class ReceiverCounters:
    requests: int = 0  # whole, CRC-valid frames handed on
    dropped_crc: int = 0  # complete by length or silence, CRC mismatch
    dropped_incomplete: int = 0  # silence before the announced length was reached


class FrameReceiver:
    """Delimits frames by silence; `feed()` characters with the time their stop bit ended,
    `expire(now)` when the line may have gone quiet. Both return the frames completed."""

    def __init__(self, t3_5: float, counters: ReceiverCounters | None = None) -> None:
        self.t3_5 = t3_5
        self._buf = bytearray()
        self._last = float("-inf")  # when the last character of the open frame ended
        self._broken = False  # the open frame failed its CRC at its announced length
        self.counters = counters if counters is not None else ReceiverCounters()

    def feed(self, at: float, byte: int, next_at: float | None = None) -> list[bytes]:
        """A character whose stop bit ended at `at`; `next_at`: when the next character
        already on the wire ends (None: nothing is on the wire behind it)."""
        frames = self.expire(at)
        self._buf.append(byte)
        self._last = at
        if self._broken:
            return frames
        need = request_length(self._buf)
        if need is None or len(self._buf) < need:
            return frames
        ends_here = next_at is None or next_at - at >= self.t3_5
        if ends_here and crc_ok(self._buf):
            frames.append(bytes(self._buf))
            self.counters.requests += 1
            self._buf.clear()
        else:
            # A receiver cannot resync inside a frame: it waits for the silence and throws
            # the whole frame away (bad CRC, or more characters than the function allows).
            self._broken = True
        return frames

    def expire(self, now: float) -> list[bytes]:
        """End the open frame if the line has been silent for t3.5 by `now`."""
        if not self._buf or now < self._last + self.t3_5:
            return []
        frame, broken = bytes(self._buf), self._broken
        self._buf.clear()
        self._broken = False
        need = request_length(frame)
        if not broken and need is None and crc_ok(frame):
            self.counters.requests += 1
            return [frame]
        if broken or (need is None and len(frame) >= 4):
            self.counters.dropped_crc += 1
        else:
            self.counters.dropped_incomplete += 1
        return []

    def deadline(self) -> float | None:
        """When the open frame ends by silence (None when nothing is open)."""
        return self._last + self.t3_5 if self._buf else None
