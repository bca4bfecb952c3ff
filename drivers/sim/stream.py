"""Sensor streams of the virtual elevator, pushed to clients over a Unix domain socket.

Protocol, version 1 (the `sim` backends of drivers/accel and drivers/noise are its clients):

- The sim listens on a Unix stream socket. Its path is printed at start as `sensors: PATH`;
  by default it lies in a private directory (mode 0700) and the socket itself is mode 0600.
  Nothing listens on the network.
- A client connects and reads. It never needs to write; whatever it sends is discarded.
- From the moment it connects the client receives every sample block of every stream, each
  framed by `drivers.blocks.encode_block`:
      b"LGB1" | u32 little-endian header length | header JSON (UTF-8) |
      payload float32 little-endian, n x channels, row-major
  `drivers.blocks.BlockDecoder` decodes it from arbitrary chunks.
- Streams: "accel" (channels x, y, z in m/s^2, 3200 Hz by default) and "audio" (channel p in
  Pa, 16 kHz by default); `fs` in each header is authoritative. Blocks come about every
  20 ms of simulated time, in time order within a stream; streams interleave.
- Header fields: `stream`; `seq`, counting blocks of that stream from 0 at sim start (a gap
  means loss); `t0`, the time of the first sample in Unix-epoch seconds of simulated time
  (the sim's wall-clock start + model time, so equal to wall clock at speedup 1); `fs`;
  `channels`; `units`; `n`; `dropped`: blocks of this stream that were not sent to THIS
  client since its previous block because it read too slowly.
- Back-pressure: each client has a bounded send buffer (about 1 s of all streams). When it is
  full, new blocks for that client are dropped and counted in `dropped`; the sim never waits
  for a client, and other clients are not affected.
- A client may disconnect and reconnect at any time; it starts again with the next block.
  When the sim stops, the socket is closed (clients read EOF) and its file removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import replace

from drivers.blocks import SampleBlock, encode_block

# About one second of accel (3200 x 3 x 4 B) and audio (16000 x 4 B) plus headers.
BUFFER_LIMIT = 128 * 1024


class _Client:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.dropped: dict[str, int] = {}
        self.sent = 0


class SensorStreamServer:
    """Serves sample blocks to every connected client; lives in one asyncio loop."""

    def __init__(self, path: str, buffer_limit: int = BUFFER_LIMIT) -> None:
        self.path = path
        self._limit = buffer_limit
        self._clients: set[_Client] = set()
        self._server: asyncio.AbstractServer | None = None

    @property
    def client_count(self) -> int:
        return len(self._clients)

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=self.path)
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for c in list(self._clients):
            c.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1.0)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def publish(self, blocks: list[SampleBlock]) -> None:
        """Send blocks to every client (call in the loop's thread)."""
        for block in blocks:
            encoded = b""
            for c in list(self._clients):
                if c.writer.transport.get_write_buffer_size() > self._limit:
                    c.dropped[block.stream] = c.dropped.get(block.stream, 0) + 1
                    continue
                missed = c.dropped.pop(block.stream, 0)
                if missed:
                    data = encode_block(replace(block, dropped=block.dropped + missed))
                else:
                    encoded = encoded or encode_block(block)
                    data = encoded
                c.writer.write(data)
                c.sent += 1

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        self._clients.add(client)
        try:
            while await reader.read(4096):
                pass  # clients have nothing to say; read only to notice the disconnect
        except (ConnectionError, OSError):
            pass
        finally:
            self._clients.discard(client)
            writer.close()
