"""The durable outbox: order, per-channel seq, the telemetry ring, the disk bound, recovery."""

import json
import sqlite3

import pytest

from agent.outbox import DURABLE, TELEMETRY, Bounds, Outbox, OutboxFull, envelope
from tests.support.clock import FakeClock
from tests.support.schemas import validate


@pytest.fixture
def clock():
    return FakeClock()


def event(clock, i=0, pad=0):
    return envelope("event", clock(), kind="test", severity="info",
                    detail={"i": i, "pad": "x" * pad})


def telemetry(clock, i=0, pad=0):
    return envelope("telemetry", clock(), kind="controller", values={"i": i, "pad": "x" * pad})


def test_durable_rows_come_back_in_commit_order_with_per_channel_seq(tmp_path, clock):
    ob = Outbox(tmp_path / "o.db", clock)
    seqs = [ob.enqueue("event", event(clock, i)) for i in range(3)]
    seqs.append(ob.enqueue("alarm", envelope("alarm", clock())))
    assert seqs == [1, 2, 3, 1]
    rows = ob.pending(DURABLE, 0, 10)
    assert [json.loads(p.payload)["seq"] for p in rows] == [1, 2, 3, 1]
    assert [p.channel for p in rows] == ["event"] * 3 + ["alarm"]


def test_committed_rows_survive_reopening_and_deleted_ones_do_not(tmp_path, clock):
    ob = Outbox(tmp_path / "o.db", clock)
    for i in range(3):
        ob.enqueue("event", event(clock, i))
    first = ob.pending(DURABLE, 0, 1)[0]
    ob.delete(DURABLE, first.row)
    ob.close()
    again = Outbox(tmp_path / "o.db", clock)
    assert [json.loads(p.payload)["detail"]["i"] for p in again.pending(DURABLE, 0, 10)] == [1, 2]
    assert again.enqueue("event", event(clock)) == 4


def test_pending_after_a_row_skips_what_is_already_in_flight(tmp_path, clock):
    ob = Outbox(tmp_path / "o.db", clock)
    for i in range(5):
        ob.enqueue("event", event(clock, i))
    head = ob.pending(DURABLE, 0, 2)
    rest = ob.pending(DURABLE, head[-1].row, 10)
    assert [p.row for p in head + rest] == sorted(p.row for p in head + rest)
    assert len(rest) == 3


def test_telemetry_ring_drops_oldest_first_and_counts_drops(tmp_path, clock):
    ob = Outbox(tmp_path / "o.db", clock, Bounds(telemetry_max_rows=5))
    for i in range(12):
        assert ob.put_telemetry(telemetry(clock, i))
    kept = [json.loads(p.payload)["values"]["i"] for p in ob.pending(TELEMETRY, 0, 100)]
    assert kept == [7, 8, 9, 10, 11]
    assert ob.stats().telemetry_dropped == 7


def test_telemetry_ring_respects_its_byte_share(tmp_path, clock):
    bounds = Bounds(max_bytes=1 << 20, telemetry_max_rows=100_000, telemetry_share=0.1)
    ob = Outbox(tmp_path / "o.db", clock, bounds)
    for i in range(200):
        ob.put_telemetry(telemetry(clock, i, pad=2000))
    total = sum(len(p.payload) for p in ob.pending(TELEMETRY, 0, 10_000))
    assert total <= 0.1 * (1 << 20)
    assert ob.stats().telemetry_dropped > 0


def test_every_stored_payload_matches_its_schema(tmp_path, clock):
    ob = Outbox(tmp_path / "o.db", clock)
    ob.enqueue("event", event(clock))
    ob.put_telemetry(telemetry(clock))
    for p in ob.pending(DURABLE, 0, 10):
        validate(p.channel, p.payload)
    for p in ob.pending(TELEMETRY, 0, 10):
        validate("telemetry", p.payload)


def test_full_database_evicts_telemetry_to_accept_alarms_and_raises_degraded_event(tmp_path, clock):
    # The size bound is SQLite's max_page_count (PRAGMA), the same SQLITE_FULL path a full
    # filesystem takes.
    bounds = Bounds(max_bytes=256 << 10, telemetry_max_rows=100_000, telemetry_share=0.6)
    ob = Outbox(tmp_path / "o.db", clock, bounds)
    for i in range(400):
        ob.put_telemetry(telemetry(clock, i, pad=400))
    telemetry_before = ob.stats().telemetry
    alarms = 0
    with pytest.raises(OutboxFull):
        for _ in range(10_000):
            ob.enqueue("alarm", envelope("alarm", clock(), kind="x", pad="y" * 800))
            alarms += 1
    stats = ob.stats()
    # Alarms were refused only once every telemetry message had been evicted for them.
    assert stats.telemetry == 0 and stats.telemetry_dropped >= telemetry_before
    rows = ob.pending(DURABLE, 0, 100_000)
    assert sum(p.channel == "alarm" for p in rows) == alarms
    kinds = [json.loads(p.payload)["kind"] for p in rows if p.channel == "event"]
    assert "storage_degraded" in kinds
    assert ob.integrity_ok()


def test_full_database_with_no_telemetry_left_refuses_with_a_typed_error(tmp_path, clock):
    ob = Outbox(tmp_path / "o.db", clock, Bounds(max_bytes=128 << 10))
    with pytest.raises(OutboxFull, match="no telemetry left"):
        for _ in range(10_000):
            ob.enqueue("alarm", envelope("alarm", clock(), pad="y" * 2000))
    assert ob.integrity_ok()


def test_storage_recovers_when_the_broker_drains_it(tmp_path, clock):
    ob = Outbox(tmp_path / "o.db", clock, Bounds(max_bytes=128 << 10))
    with pytest.raises(OutboxFull):
        for _ in range(10_000):
            ob.enqueue("alarm", envelope("alarm", clock(), pad="y" * 2000))
    for p in ob.pending(DURABLE, 0, 100_000):
        if p.channel == "alarm":
            ob.delete(DURABLE, p.row)
    kinds = [json.loads(p.payload)["kind"] for p in ob.pending(DURABLE, 0, 100)]
    assert kinds[-1] == "storage_recovered" and not ob.stats().degraded


@pytest.mark.parametrize("damage", ["garbage_file", "torn_pages"])
def test_corrupt_database_is_moved_aside_and_reported(tmp_path, clock, damage):
    path = tmp_path / "o.db"
    if damage == "garbage_file":
        path.write_bytes(b"this is not sqlite at all" * 100)
    else:
        ob = Outbox(path, clock)
        for i in range(300):
            ob.enqueue("event", event(clock, i, pad=200))
        ob.close()
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        raw = bytearray(path.read_bytes())
        raw[4096 * 3: 4096 * 3 + 600] = b"\xa5" * 600  # smash the middle of a b-tree page
        path.write_bytes(raw)
    original = path.read_bytes()
    ob = Outbox(path, clock)
    assert ob.quarantined is not None
    moved = tmp_path / ob.quarantined.moved_to.split("/")[-1]
    assert moved.read_bytes() == original
    rows = ob.pending(DURABLE, 0, 10)
    body = validate("event", rows[0].payload)
    assert body["kind"] == "outbox_corrupt" and body["detail"]["moved_to"] == str(moved)
    assert ob.integrity_ok()
