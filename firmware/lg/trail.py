"""The maintenance trail on the board, record for record as agent/trail/chain.py writes it.

An append-only JSON-lines file; each record {"n", "ts", "kind", "technician", "detail",
"prev", "hash"} carries the SHA-256 of the previous one, `hash` being SHA-256 over the
canonical JSON (sorted keys, no whitespace, UTF-8) of the record without `hash`; the first
record's `prev` is 64 zeros. `liftguard trail verify` checks a copy taken off the board.
Each record is also published as a `maintenance` event, so the platform holds a copy the box
cannot rewrite.
"""

from binascii import hexlify
from hashlib import sha256

from lg import canonical, payloads

TYPE_CHECKING = False
if TYPE_CHECKING:  # mypy only; MicroPython has no typing module
    from typing import Any

GENESIS = "0" * 64


class MaintenanceError(Exception):
    pass


def record_hash(rec: dict) -> str:
    body = {k: v for k, v in rec.items() if k != "hash"}
    return hexlify(sha256(canonical.dumps(body).encode()).digest()).decode()


class Trail:
    def __init__(self, path: str, fs, clock) -> None:
        self.path, self.fs, self.clock = path, fs, clock
        self.prev, self.n = GENESIS, 0
        self.torn = False  # the file does not end on a line: the next record starts a new one
        try:
            f = fs.open(path)
        except OSError:
            return  # no visit yet
        with f:
            while True:
                line = f.readline()
                if not line:
                    break
                self.torn = not line.endswith("\n")
                try:
                    rec = canonical.value(canonical.loads(line.strip()))
                except ValueError:
                    continue  # a torn line; verify names it
                if isinstance(rec, dict) and isinstance(rec.get("n"), int) and "hash" in rec:
                    self.prev, self.n = rec["hash"], rec["n"] + 1

    def append(self, kind: str, technician: str, detail: dict) -> dict:
        rec: dict = {"n": self.n, "ts": payloads.rfc3339(self.clock.time()), "kind": kind,
               "technician": technician, "detail": detail, "prev": self.prev}
        rec["hash"] = record_hash(rec)
        line = canonical.dumps(rec) + "\n"
        with self.fs.open(self.path, "a") as f:  # one write, closed (committed) before use
            f.write(("\n" + line) if self.torn else line)
        self.torn = False
        self.prev, self.n = str(rec["hash"]), self.n + 1
        return rec


class Maintenance:
    """A technician's visit, check-in to check-out (agent/trail/maintenance.py)."""

    def __init__(self, trail: Trail, publish_event) -> None:
        self.trail, self.publish = trail, publish_event
        self.technician: Any = None

    @property
    def active(self) -> bool:
        return self.technician is not None

    def start(self, technician: str, note: str = "", via: str = "button") -> dict:
        if self.technician is not None:
            raise MaintenanceError(f"maintenance already started by {self.technician}")
        rec = self._record("check_in", technician, {"note": note, "via": via})
        self.technician = technician
        return rec

    def end(self, work_done: str = "", via: str = "button") -> dict:
        if self.technician is None:
            raise MaintenanceError("maintenance is not active")
        rec = self._record("check_out", self.technician, {"work_done": work_done, "via": via})
        self.technician = None
        return rec

    def on_alarm(self, state: str, alarm: dict, by) -> None:
        """AlarmBook observer: an alarm cleared during a visit goes on the trail."""
        if state == "cleared" and self.technician is not None:
            self._record("alarm_cleared", self.technician, {
                "alarm_id": alarm["alarm_id"], "kind": alarm["kind"], "source": alarm["source"],
                "by": by})

    def _record(self, kind: str, technician: str, detail: dict) -> dict:
        rec = self.trail.append(kind, technician, detail)
        self.publish("maintenance", "info", rec)
        return rec
