"""Open the outbox database, check it, and move a corrupt one aside.

A corrupt database is never deleted: it may still hold undelivered alarms that a technician
can recover by hand. It is renamed next to the original (`NAME.corrupt-YYYYmmddTHHMMSSZ`, with
its -wal and -shm files) and a fresh database is started; the caller reports the move as an
event so the platform knows the box lost its queue.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS durable (
    row INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS durable_msg_id ON durable(msg_id);
CREATE TABLE IF NOT EXISTS telemetry (
    row INTEGER PRIMARY KEY AUTOINCREMENT,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Quarantined:
    """A corrupt database that was moved aside: where it went and why."""

    moved_to: str
    reason: str


def connect(path: Path, max_bytes: int) -> tuple[sqlite3.Connection, Quarantined | None]:
    """A checked connection to the outbox at `path`, moving a corrupt file aside first."""
    quarantined = None
    try:
        conn = _open(path, max_bytes)
        problem = _integrity_problem(conn)
    except sqlite3.DatabaseError as exc:
        conn, problem = None, str(exc)
    if problem is not None:
        if conn is not None:
            conn.close()
        quarantined = Quarantined(_move_aside(path), problem)
        conn = _open(path, max_bytes)
    assert conn is not None
    return conn, quarantined


def _open(path: Path, max_bytes: int) -> sqlite3.Connection:
    # isolation_level=None: we write BEGIN IMMEDIATE/COMMIT ourselves, so the moment of the
    # durable commit is explicit. check_same_thread=False: the Outbox serialises access with
    # its own lock (the runtime enqueues, the uplink thread deletes on PUBACK).
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: in WAL mode every commit fsyncs the WAL, so a committed alarm survives a power cut
    # (sqlite.org/pragma.html#pragma_synchronous; REFERENCE.md section 6).
    conn.execute("PRAGMA synchronous=FULL")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={max(16, max_bytes // page_size)}")
    # After a checkpoint the WAL is truncated to this size, so it does not keep its peak size.
    conn.execute(f"PRAGMA journal_size_limit={min(max_bytes, 4 << 20)}")
    conn.executescript(SCHEMA_SQL)
    return conn


def _integrity_problem(conn: sqlite3.Connection) -> str | None:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check(5)").fetchall()]
    return None if rows == ["ok"] else "; ".join(rows)


def _move_aside(path: Path) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            os.replace(src, Path(str(target) + suffix))
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return str(target)
