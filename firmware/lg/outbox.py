"""Flash-backed outbox: a message is on flash before it is sent, deleted only on PUBACK.

One file per message in `root`, named by a global commit counter so the directory order is
the send order. A file is written as `<name>.tmp` and renamed into place: littlefs (the
ESP32's default filesystem) makes the rename atomic and copy-on-write keeps the old state
until a file is closed, so a power cut leaves either the whole message or nothing visible.
Each file also carries the payload's length and CRC-32, so a torn file on a filesystem
without those guarantees (FAT) is found and set aside at start-up, never sent.

Bounded: at most `max_messages`. A full outbox drops the oldest non-alarm message (telemetry
is a ring); alarms are never evicted. When every slot holds an alarm, a new non-alarm message
is dropped and a new alarm raises OutboxFull, so the caller knows it is not yet durable.
File format: one JSON header line {"ch", "alarm", "len", "crc"}, then the payload bytes.
"""

import json
import os
from binascii import crc32

TYPE_CHECKING = False
if TYPE_CHECKING:  # mypy only; MicroPython has no typing module
    from typing import Any

STATE = "state.json"


class OutboxFull(Exception):
    pass


class Flash:
    """The board's filesystem (littlefs on ESP32); tests pass one that loses power."""

    open = staticmethod(open)
    rename = staticmethod(os.rename)
    remove = staticmethod(os.remove)
    mkdir = staticmethod(os.mkdir)
    listdir = staticmethod(os.listdir)


class Outbox:
    def __init__(self, root: str, max_messages: int = 200, fs=None) -> None:
        self.root, self.max = root, max_messages
        self.fs: Any = fs or Flash()
        fs = self.fs
        self.dropped = self.evicted = self.corrupt = 0
        try:  # noqa: SIM105 - MicroPython has no contextlib
            fs.mkdir(root)
        except OSError:
            pass  # exists
        self.next = 1
        self.seq: dict = {}
        self._load_state()
        self.index: list = []  # [(name, alarm)] in send order
        self._recover()

    def _path(self, name: str) -> str:
        return self.root + "/" + name

    def _load_state(self) -> None:
        try:
            with self.fs.open(self._path(STATE)) as f:
                st = json.loads(f.read())
            self.next, self.seq = int(st["next"]), dict(st["seq"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # first start, or a torn state file: rebuilt from the messages below

    def _recover(self) -> None:
        names = sorted(self.fs.listdir(self.root))
        for name in names:
            if name.endswith(".tmp"):
                self.fs.remove(self._path(name))  # a write that never committed
        for name in names:
            if not name.endswith(".msg"):
                continue
            head = self._read(name)
            if head is None:
                self.corrupt += 1
                self.fs.rename(self._path(name), self._path(name[:-4] + ".bad"))
                continue
            self.index.append((name, head[0]["alarm"]))
            n = int(name[:-4])
            if n >= self.next:
                self.next = n + 1
            ch, seq = head[0]["ch"], head[0].get("seq", 0)
            if seq > self.seq.get(ch, 0):
                self.seq[ch] = seq

    def _read(self, name: str):
        try:
            with self.fs.open(self._path(name), "rb") as f:
                head = json.loads(f.readline())
                payload = f.read()
            if len(payload) != head["len"] or crc32(payload) != head["crc"]:
                return None
            return head, payload
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_atomic(self, name: str, data: bytes) -> None:
        tmp = self._path(name + ".tmp")
        with self.fs.open(tmp, "wb") as f:
            f.write(data)
        self.fs.rename(tmp, self._path(name))

    def __len__(self) -> int:
        return len(self.index)

    def put(self, channel: str, body: dict, alarm: bool = False) -> str:
        """Commit a message; assigns body["seq"]. Returns its name (the handle for remove)."""
        if len(self.index) >= self.max and not self._evict_one():
            if not alarm:
                self.dropped += 1
                return ""
            raise OutboxFull(f"outbox holds {len(self.index)} alarms")
        seq = self.seq.get(channel, 0) + 1
        body["seq"] = seq
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = {"ch": channel, "alarm": alarm, "seq": seq, "len": len(payload),
                "crc": crc32(payload)}
        name = f"{self.next:08d}.msg"  # fixed width: directory order is commit order
        # Counters first: a cut after this only leaves a gap in seq, never a reused one.
        seqs = dict(self.seq)
        seqs[channel] = seq
        self._write_atomic(STATE, json.dumps({"next": self.next + 1, "seq": seqs}).encode())
        self._write_atomic(name, json.dumps(head).encode() + b"\n" + payload)
        self.next += 1
        self.seq[channel] = seq
        self.index.append((name, alarm))
        return name

    def next_seq(self, channel: str) -> int:
        """Next seq of a channel that is not outboxed (the retained state), kept durable."""
        seq = self.seq.get(channel, 0) + 1
        seqs = dict(self.seq)
        seqs[channel] = seq
        self._write_atomic(STATE, json.dumps({"next": self.next, "seq": seqs}).encode())
        self.seq[channel] = seq
        return seq

    def _evict_one(self) -> bool:
        for i, (name, alarm) in enumerate(self.index):
            if not alarm:
                self.fs.remove(self._path(name))
                del self.index[i]
                self.evicted += 1
                return True
        return False

    def pending(self) -> list:
        return [name for name, _ in self.index]

    def get(self, name: str) -> tuple:
        """(channel, payload bytes, alarm) of a committed message."""
        head = self._read(name)
        if head is None:
            raise OSError(f"outbox message {name} is unreadable")
        return head[0]["ch"], head[1], head[0]["alarm"]

    def remove(self, name: str) -> None:
        """Delete a message once the broker acknowledged it (PUBACK)."""
        for i, (n, _) in enumerate(self.index):
            if n == name:
                del self.index[i]
                self.fs.remove(self._path(name))
                return
