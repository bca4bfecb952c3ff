"""The maintenance trail: an append-only JSON-lines file where each record carries the SHA-256
of the previous one, so no record can be edited, removed or reordered without it showing.

Record: {"n", "ts", "kind", "technician", "detail", "prev", "hash"}; `hash` is SHA-256 over the
canonical JSON (sorted keys, no whitespace) of the record without `hash`; `prev` is the
previous record's `hash` (64 zeros for the first). Each record is written with one write()
and fsynced before it is published.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.outbox.envelope import Clock, rfc3339

GENESIS = "0" * 64
FIELDS = ("n", "ts", "kind", "technician", "detail", "prev", "hash")


def record_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    line: int
    n: Any
    problem: str

    def __str__(self) -> str:
        return f"line {self.line} (record n={self.n}): {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    records: int
    head: str
    breaks: list[ChainBreak]

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify_lines(lines: list[str]) -> ChainReport:
    """Walk the chain and name every record that does not follow from the one before it."""
    breaks: list[ChainBreak] = []
    prev, expected_n, count = GENESIS, 0, 0
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        count += 1
        try:
            rec = json.loads(line)
        except ValueError:
            breaks.append(ChainBreak(i, "?", "not valid JSON (torn or edited line)"))
            continue
        if not isinstance(rec, dict) or set(rec) != set(FIELDS):
            breaks.append(ChainBreak(i, "?", "fields differ from a trail record"))
            continue
        n = rec["n"]
        if rec["hash"] != record_hash(rec):
            breaks.append(ChainBreak(i, n, "content edited (hash does not match)"))
        elif rec["prev"] != prev:
            what = ("a record before it was removed or the order changed"
                    if n != expected_n else "previous record's hash does not match")
            breaks.append(ChainBreak(i, n, f"chain broken: {what} (expected n={expected_n})"))
        elif n != expected_n:
            breaks.append(ChainBreak(i, n, f"numbering broken (expected n={expected_n})"))
        prev = rec["hash"]
        expected_n = n + 1 if isinstance(n, int) else expected_n + 1
    return ChainReport(count, prev, breaks)


def verify_file(path: str | Path) -> ChainReport:
    return verify_lines(Path(path).read_text(encoding="utf-8").splitlines())


class TrailLog:
    """Appends hash-chained records to `path`; thread-safe."""

    def __init__(self, path: str | Path, clock: Clock) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._prev, self._n = GENESIS, 0
        self.report_at_open: ChainReport | None = None
        if self.path.exists():
            report = verify_file(self.path)
            self.report_at_open = report
            last = _last_record(self.path)
            if last is not None:
                self._prev, self._n = last["hash"], int(last["n"]) + 1

    def append(self, kind: str, technician: str, detail: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            rec: dict[str, Any] = {"n": self._n, "ts": rfc3339(self._clock()), "kind": kind,
                                   "technician": technician, "detail": detail,
                                   "prev": self._prev}
            rec["hash"] = record_hash(rec)
            line = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                _ensure_line_start(fd)
                os.write(fd, (line + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            self._prev, self._n = rec["hash"], self._n + 1
            return rec


def _ensure_line_start(fd: int) -> None:
    # After a torn write (power cut mid-line) start a fresh line; verify names the torn one.
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        os.write(fd, b"\n")


def _last_record(path: Path) -> dict[str, Any] | None:
    for line in reversed(path.read_text(encoding="utf-8").splitlines()):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("n"), int) and "hash" in rec:
            return rec
    return None
