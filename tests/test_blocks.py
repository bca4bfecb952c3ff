"""Sample block framing: round trip, arbitrary splits, resync after garbage."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from drivers.blocks import BlockDecoder, SampleBlock, encode_block


def block(seq=0, n=64):
    data = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return SampleBlock("accel", seq, 12.5, 3200.0, ("x", "y", "z"), "m/s^2", data, dropped=2)


def test_round_trip_keeps_every_field():
    (got,) = BlockDecoder().feed(encode_block(block()))
    ref = block()
    assert (got.stream, got.seq, got.t0, got.fs, got.channels, got.units, got.dropped) == (
        ref.stream, ref.seq, ref.t0, ref.fs, ref.channels, ref.units, ref.dropped)
    np.testing.assert_array_equal(got.data, ref.data)


@given(st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=50),
       st.binary(max_size=64))
def test_any_split_and_leading_garbage_yields_the_same_blocks(cuts, garbage):
    wire = garbage.replace(b"LGB1", b"") + encode_block(block(1)) + encode_block(block(2))
    dec, got, pos = BlockDecoder(), [], 0
    for c in cuts:
        got += dec.feed(wire[pos : pos + c])
        pos += c
    got += dec.feed(wire[pos:])
    assert [b.seq for b in got] == [1, 2]
