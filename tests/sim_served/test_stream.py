"""The sensor stream socket: every client gets every block; a slow client loses blocks
(counted in `dropped`) without holding up the others."""

from __future__ import annotations

import asyncio
import os
import stat

import numpy as np

from drivers.blocks import BlockDecoder, SampleBlock
from drivers.sim.stream import SensorStreamServer


def block(seq: int, n: int = 64, stream: str = "accel") -> SampleBlock:
    data = np.full((n, 3), seq, dtype=np.float32)
    return SampleBlock(stream, seq, seq * n / 3200, 3200.0, ("x", "y", "z"), "m/s^2", data)


async def read_blocks(reader: asyncio.StreamReader, count: int) -> list[SampleBlock]:
    decoder = BlockDecoder()
    out: list[SampleBlock] = []
    while len(out) < count:
        chunk = await asyncio.wait_for(reader.read(65536), 5)
        assert chunk, "server closed early"
        out += decoder.feed(chunk)
    return out


def test_every_client_receives_every_block_in_order(tmp_path):
    async def main():
        server = SensorStreamServer(str(tmp_path / "s.sock"))
        await server.start()
        clients = [await asyncio.open_unix_connection(server.path) for _ in range(2)]
        while server.client_count < 2:
            await asyncio.sleep(0.01)
        server.publish([block(i) for i in range(5)])
        got = [await read_blocks(r, 5) for r, _ in clients]
        for _, w in clients:
            w.close()
        await server.stop()
        return got

    got = asyncio.run(main())
    for blocks in got:
        assert [b.seq for b in blocks] == [0, 1, 2, 3, 4]
        assert float(blocks[3].data[0, 0]) == 3.0


def test_the_socket_is_private(tmp_path):
    async def main():
        server = SensorStreamServer(str(tmp_path / "s.sock"))
        await server.start()
        mode = stat.S_IMODE(os.stat(server.path).st_mode)
        await server.stop()
        return mode

    assert asyncio.run(main()) == 0o600


def test_a_slow_client_gets_a_count_of_what_it_missed(tmp_path):
    async def main():
        server = SensorStreamServer(str(tmp_path / "s.sock"), buffer_limit=1)
        await server.start()
        reader, writer = await asyncio.open_unix_connection(server.path)
        while server.client_count < 1:
            await asyncio.sleep(0.01)
        # 2.4 MB blocks: the first fills the socket, the next three find the buffer full.
        server.publish([block(i, n=200_000) for i in range(4)])
        first = await read_blocks(reader, 1)
        server.publish([block(4, n=10)])
        second = await read_blocks(reader, 1)
        writer.close()
        await server.stop()
        return first + second

    got = asyncio.run(main())
    assert [b.seq for b in got] == [0, 4]
    assert [b.dropped for b in got] == [0, 3]


def test_stop_removes_the_socket_file(tmp_path):
    async def main():
        server = SensorStreamServer(str(tmp_path / "s.sock"))
        await server.start()
        await server.stop()

    asyncio.run(main())
    assert not (tmp_path / "s.sock").exists()
