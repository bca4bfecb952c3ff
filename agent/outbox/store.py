"""The durable outbox: every alarm, event and command result is on disk before it is sent.

Rows are deleted only when the broker's PUBACK arrives (REFERENCE.md section 6: paho keeps
unacknowledged messages in memory only). Telemetry lives in a bounded ring in the same file:
it is evicted oldest-first, and always before anything durable, when its row or byte bound or
the database's size bound is reached; every eviction is counted and the count is reported.

Durability per write:
- alarms/events/results: committed with synchronous=FULL (the WAL is fsynced at COMMIT);
- telemetry and deletions: synchronous=NORMAL. Losing one of those on a power cut costs at
  most a lost telemetry sample or a duplicate send, never a lost alarm; skipping their fsync
  keeps the flash card's write budget for what matters.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.outbox.envelope import Clock, encode, envelope
from agent.outbox.recovery import Quarantined, connect

log = logging.getLogger(__name__)

DURABLE = "durable"
TELEMETRY = "telemetry"

# Degraded above this share of max_bytes, recovered below the lower one (hysteresis, so a
# box sitting at the bound does not flood the platform with state changes).
DEGRADED_ABOVE = 0.90
DEGRADED_KEY = "outbox:degraded"
RECOVERED_BELOW = 0.70


class OutboxFull(Exception):
    """Even after evicting all telemetry, the database bound leaves no room for this message."""


@dataclass(frozen=True)
class Bounds:
    max_bytes: int = 64 << 20
    telemetry_max_rows: int = 10_000
    telemetry_share: float = 0.5
    """Telemetry payloads may use at most this share of max_bytes."""


@dataclass(frozen=True)
class Pending:
    table: str
    row: int
    channel: str
    msg_id: str
    payload: bytes


@dataclass(frozen=True)
class OutboxStats:
    durable: int
    telemetry: int
    telemetry_dropped: int
    used_bytes: int
    max_bytes: int
    degraded: bool


class Outbox:
    def __init__(self, path: str | Path, clock: Clock, bounds: Bounds | None = None) -> None:
        self.path = Path(path)
        self.bounds = bounds or Bounds()
        self._clock = clock
        self._lock = threading.RLock()
        self._listeners: list[Callable[[], None]] = []
        self._conn, self.quarantined = connect(self.path, self.bounds.max_bytes)
        self._page_size = self._scalar("PRAGMA page_size")
        self._telemetry_bytes = self._scalar(
            "SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM telemetry")
        self._degraded = self._scalar(
            "SELECT COUNT(*) FROM state WHERE key=?", DEGRADED_KEY) > 0
        if self.quarantined is not None:
            self._report_quarantine(self.quarantined)

    # -- writing -------------------------------------------------------------------------

    def add_listener(self, fn: Callable[[], None]) -> None:
        """`fn()` is called after every commit of a sendable row (the uplink's wake-up)."""
        self._listeners.append(fn)

    def enqueue(self, channel: str, body: dict[str, Any],
                state: Mapping[str, str | None] | None = None) -> int:
        """Commit `body` for `channel` durably and return its `seq`.

        `state` entries (key -> value, None deletes) are written in the same transaction, so
        an alarm's book-keeping and its message are on disk together or not at all.
        """
        return self.enqueue_batch([(channel, body, state or {})])[0]

    def enqueue_batch(self, items: list[tuple[str, dict[str, Any], Mapping[str, str | None]]]
                      ) -> list[int]:
        """Commit several (channel, body, state) messages in one transaction (one fsync)."""
        if not items:
            return []
        with self._lock:
            # On a full database the oldest half of the telemetry goes first, then the rest.
            for evict_all in (False, True, None):
                try:
                    seqs = self._commit_durable(items)
                    break
                except sqlite3.OperationalError as exc:
                    if not _is_full(exc):
                        raise
                    if evict_all is None or self._telemetry_count() == 0:
                        raise OutboxFull(
                            f"outbox {self.path} is full ({self.bounds.max_bytes} bytes) "
                            f"with no telemetry left to evict") from None
                    self._evict_telemetry(all_rows=evict_all)
            self._update_degraded()
        self._notify()
        return seqs

    def enqueue_event(self, kind: str, severity: str, detail: dict[str, Any]) -> int:
        """Commit a `liftguard.event/1` message; returns its seq."""
        return self.enqueue("event", envelope("event", self._clock(), kind=kind,
                                              severity=severity, detail=detail))

    def put_telemetry(self, body: dict[str, Any]) -> bool:
        """Store a telemetry message in the ring; False if it had to be dropped itself."""
        with self._lock:
            stored = self._commit_telemetry(body)
            self._update_degraded()
        if stored:
            self._notify()
        return stored

    def take_seq(self, channel: str) -> int:
        """Next `seq` for a message that is sent directly, not queued (the retained state)."""
        with self._lock:
            c = self._conn
            c.execute("PRAGMA synchronous=NORMAL")
            try:
                c.execute("BEGIN IMMEDIATE")
                seq = self._next_seq(channel)
                c.execute("COMMIT")
            except BaseException:
                _rollback(c)
                raise
            finally:
                c.execute("PRAGMA synchronous=FULL")
            return seq

    def delete(self, table: str, row: int) -> None:
        """The broker acknowledged `row` (PUBACK): forget it."""
        self.delete_many([(table, row)])

    def delete_many(self, rows: list[tuple[str, int]]) -> None:
        """Forget acknowledged rows, (table, row) pairs, in one transaction."""
        if not rows:
            return
        with self._lock:
            c = self._conn
            c.execute("PRAGMA synchronous=NORMAL")
            try:
                c.execute("BEGIN IMMEDIATE")
                try:
                    for table, row in rows:
                        if table == TELEMETRY:
                            n = self._scalar("SELECT LENGTH(payload) FROM telemetry WHERE row=?",
                                             row)
                            c.execute("DELETE FROM telemetry WHERE row=?", (row,))
                            self._telemetry_bytes -= n or 0
                        else:
                            c.execute("DELETE FROM durable WHERE row=?", (row,))
                    c.execute("COMMIT")
                except BaseException:
                    _rollback(c)
                    self._telemetry_bytes = self._scalar(
                        "SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM telemetry")
                    raise
            finally:
                c.execute("PRAGMA synchronous=FULL")
            if self._degraded:
                self._update_degraded()

    # -- reading -------------------------------------------------------------------------

    def pending(self, table: str, after_row: int, limit: int) -> list[Pending]:
        """Up to `limit` rows of `table` after `after_row`, oldest first."""
        with self._lock:
            if table == TELEMETRY:
                rows = self._conn.execute(
                    "SELECT row, payload FROM telemetry WHERE row>? ORDER BY row LIMIT ?",
                    (after_row, limit)).fetchall()
                return [Pending(TELEMETRY, r, "telemetry", "", bytes(p)) for r, p in rows]
            rows = self._conn.execute(
                "SELECT row, channel, msg_id, payload FROM durable WHERE row>? "
                "ORDER BY row LIMIT ?", (after_row, limit)).fetchall()
            return [Pending(DURABLE, r, c, m, bytes(p)) for r, c, m, p in rows]

    def is_pending(self, msg_id: str) -> bool:
        with self._lock:
            return self._scalar("SELECT COUNT(*) FROM durable WHERE msg_id=?", msg_id) > 0

    def state_items(self, prefix: str) -> dict[str, str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, value FROM state WHERE key >= ? AND key < ?",
                (prefix, prefix + "\uffff")).fetchall()
        return dict(rows)

    def stats(self) -> OutboxStats:
        with self._lock:
            return OutboxStats(
                durable=self._scalar("SELECT COUNT(*) FROM durable"),
                telemetry=self._scalar("SELECT COUNT(*) FROM telemetry"),
                telemetry_dropped=self._counter("telemetry_dropped"),
                used_bytes=self._used_bytes(),
                max_bytes=self.bounds.max_bytes,
                degraded=self._degraded,
            )

    def integrity_ok(self) -> bool:
        with self._lock:
            return self._conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- internals -----------------------------------------------------------------------

    def _commit_durable(self, items: list[tuple[str, dict[str, Any],
                                                Mapping[str, str | None]]]) -> list[int]:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            seqs = []
            for channel, body, state in items:
                seq = self._next_seq(channel)
                c.execute("INSERT INTO durable(channel, msg_id, payload) VALUES (?,?,?)",
                          (channel, body["id"], encode({**body, "seq": seq})))
                for key, value in state.items():
                    if value is None:
                        c.execute("DELETE FROM state WHERE key=?", (key,))
                    else:
                        c.execute("INSERT OR REPLACE INTO state(key, value) VALUES (?,?)",
                                  (key, value))
                seqs.append(seq)
            c.execute("COMMIT")
        except BaseException:
            _rollback(c)
            raise
        return seqs

    def _commit_telemetry(self, body: dict[str, Any]) -> bool:
        c = self._conn
        b = self.bounds
        cap_bytes = int(b.max_bytes * b.telemetry_share)
        c.execute("PRAGMA synchronous=NORMAL")
        try:
            for attempt in range(2):
                c.execute("BEGIN IMMEDIATE")
                try:
                    seq = self._next_seq("telemetry")
                    payload = encode({**body, "seq": seq})
                    dropped = self._trim_ring(len(payload), b.telemetry_max_rows - 1,
                                              cap_bytes - len(payload))
                    if len(payload) > cap_bytes:
                        self._bump("telemetry_dropped", 1)
                        c.execute("COMMIT")
                        return False
                    c.execute("INSERT INTO telemetry(payload) VALUES (?)", (payload,))
                    if dropped:
                        self._bump("telemetry_dropped", dropped)
                    c.execute("COMMIT")
                    self._telemetry_bytes += len(payload)
                    return True
                except sqlite3.OperationalError as exc:
                    _rollback(c)
                    self._telemetry_bytes = self._scalar(
                        "SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM telemetry")
                    if not _is_full(exc):
                        raise
                    if attempt == 0:
                        self._evict_telemetry(all_rows=False)
            self._bump_alone("telemetry_dropped", 1)
            return False
        finally:
            c.execute("PRAGMA synchronous=FULL")

    def _trim_ring(self, incoming: int, max_rows: int, max_bytes: int) -> int:
        """Delete oldest telemetry until the ring has room; returns how many went."""
        c = self._conn
        dropped = 0
        count = self._scalar("SELECT COUNT(*) FROM telemetry")
        while count > 0 and (count > max_rows or self._telemetry_bytes > max_bytes):
            row, n = c.execute(
                "SELECT row, LENGTH(payload) FROM telemetry ORDER BY row LIMIT 1").fetchone()
            c.execute("DELETE FROM telemetry WHERE row=?", (row,))
            self._telemetry_bytes -= n
            count -= 1
            dropped += 1
        return dropped

    def _evict_telemetry(self, *, all_rows: bool) -> None:
        """Make room on a full database: all telemetry, or its older half."""
        c = self._conn
        count = self._telemetry_count()
        n = count if all_rows else max(1, count // 2)
        if count == 0:
            return
        c.execute("BEGIN IMMEDIATE")
        c.execute("DELETE FROM telemetry WHERE row IN "
                  "(SELECT row FROM telemetry ORDER BY row LIMIT ?)", (n,))
        self._bump("telemetry_dropped", n)
        c.execute("COMMIT")
        self._telemetry_bytes = self._scalar(
            "SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM telemetry")
        log.warning("outbox %s full: evicted %d telemetry messages", self.path, n)
        self._enter_degraded()

    def _update_degraded(self) -> None:
        used = self._used_bytes()
        if not self._degraded and used >= DEGRADED_ABOVE * self.bounds.max_bytes:
            self._enter_degraded()
        elif self._degraded and used < RECOVERED_BELOW * self.bounds.max_bytes:
            self._set_degraded(False, "storage_recovered", "info")

    def _enter_degraded(self) -> None:
        if not self._degraded:
            self._set_degraded(True, "storage_degraded", "warning")

    def _set_degraded(self, on: bool, kind: str, severity: str) -> None:
        self._degraded = on
        detail = {"used_bytes": self._used_bytes(), "max_bytes": self.bounds.max_bytes,
                  "telemetry_dropped": self._counter("telemetry_dropped")}
        body = envelope("event", self._clock(), kind=kind, severity=severity, detail=detail)
        try:
            # The state change is committed with its event, so a restart resumes it.
            self._commit_durable([("event", body, {DEGRADED_KEY: "1" if on else None})])
        except sqlite3.OperationalError as exc:
            if not _is_full(exc):
                raise
            log.error("outbox %s: no room even for the %s event", self.path, kind)
        log.warning("outbox %s: %s (%s)", self.path, kind, detail)

    def _report_quarantine(self, q: Quarantined) -> None:
        body = envelope("event", self._clock(), kind="outbox_corrupt", severity="warning",
                        detail={"moved_to": q.moved_to, "reason": q.reason[:500]})
        self.enqueue("event", body)
        log.error("outbox %s was corrupt (%s); moved to %s", self.path, q.reason, q.moved_to)

    def _next_seq(self, channel: str) -> int:
        return int(self._conn.execute(
            "INSERT INTO counters(name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            (f"seq:{channel}",)).fetchone()[0])

    def _bump(self, name: str, n: int) -> None:
        self._conn.execute(
            "INSERT INTO counters(name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value", (name, n))

    def _bump_alone(self, name: str, n: int) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._bump(name, n)
            self._conn.execute("COMMIT")
        except sqlite3.OperationalError:
            _rollback(self._conn)

    def _counter(self, name: str) -> int:
        return self._scalar("SELECT COALESCE(MAX(value), 0) FROM counters WHERE name=?", name)

    def _telemetry_count(self) -> int:
        return int(self._scalar("SELECT COUNT(*) FROM telemetry"))

    def _used_bytes(self) -> int:
        pages = self._scalar("PRAGMA page_count") - self._scalar("PRAGMA freelist_count")
        return int(pages * self._page_size)

    def _scalar(self, sql: str, *params: Any) -> Any:
        row = self._conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _notify(self) -> None:
        for fn in self._listeners:
            fn()


def _is_full(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def _rollback(conn: sqlite3.Connection) -> None:
    # SQLite may already have rolled back on SQLITE_FULL (sqlite.org/lang_transaction.html).
    if conn.in_transaction:
        conn.execute("ROLLBACK")
