"""The last accepted command counter per signing key, kept on disk.

Replays are refused by requiring each key's counter to grow. The file is replaced atomically
(temp file in the same directory, fsync, rename, fsync the directory), so a power cut leaves
either the old or the new counters, never a torn file that would reset them.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from agent.atomic import atomic_write
from agent.errors import LiftguardError


class CounterFileCorrupt(LiftguardError):
    """The counter file cannot be read; accepting commands now would allow replays."""


class CounterStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._counters = self._load()

    def last(self, key_id: str) -> int:
        with self._lock:
            return self._counters.get(key_id, 0)

    def advance(self, key_id: str, counter: int) -> bool:
        """Record `counter` for `key_id` if it is newer; False (nothing written) if not."""
        with self._lock:
            if counter <= self._counters.get(key_id, 0):
                return False
            updated = {**self._counters, key_id: counter}
            self._write(updated)
            self._counters = updated
            return True

    def _load(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise CounterFileCorrupt(f"{self.path}: cannot read command counters: {exc}; "
                                     "move it aside only if you accept replays of old "
                                     "commands") from None
        counters = data.get("counters") if isinstance(data, dict) else None
        if not isinstance(counters, dict) or not all(
                isinstance(k, str) and isinstance(v, int) for k, v in counters.items()):
            raise CounterFileCorrupt(f"{self.path}: malformed command counters")
        return counters

    def _write(self, counters: dict[str, int]) -> None:
        atomic_write(self.path, json.dumps({"counters": counters}, sort_keys=True).encode())
