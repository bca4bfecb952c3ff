"""Signed commands on the board, checked exactly as agent/commands/verify.py does.

Order of checks (the first failure is the reason on `cmd/result`): size, JSON, signature
present, shape, known key, Ed25519 signature over the canonical JSON of {id, device, command,
args, counter, expires}, addressed device, expiry, counter. The counter is advanced (on flash,
atomically) only for a command that passed everything else, so a forged or expired command
cannot burn counters; a replay (counter not above the last accepted) is refused.

Trusted keys: {key_id: raw 32-byte public key}; key_id = first 8 bytes of SHA-256 of the key.
"""

import json
from binascii import a2b_base64, hexlify
from hashlib import sha256

from lg import canonical, ed25519
from lg.payloads import parse_rfc3339

SIGNED = ("id", "device", "command", "args", "counter", "expires")
FIELDS = ("schema", "id", "ts", "seq", "device", "command", "args", "counter", "expires",
          "key_id", "sig")
HEX = "0123456789abcdef"


class Rejected(Exception):
    def __init__(self, reason: str, detail: str, cmd=None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail
        cmd = cmd if isinstance(cmd, dict) else {}
        cid, name = cmd.get("id"), cmd.get("command")
        self.cmd_id = cid if _uuid(cid) else None
        self.command = name if _name(name) else None


def key_id(raw: bytes) -> str:
    return hexlify(sha256(raw).digest()[:8]).decode()


def parse_public_line(line: str) -> bytes:
    """`ed25519 BASE64 [comment]` (agent/commands/signing.py) -> raw 32-byte key."""
    parts = line.split()
    if len(parts) < 2 or parts[0] != "ed25519":
        raise ValueError(f"expected 'ed25519 BASE64 [comment]', got {line[:40]!r}")
    raw = a2b_base64(parts[1].encode())
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return raw


def _hexstr(v, n: int) -> bool:
    return isinstance(v, str) and len(v) == n and all(c in HEX for c in v)


def _uuid(v) -> bool:
    if not isinstance(v, str) or len(v) != 36:
        return False
    parts = v.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(_hexstr(p, len(p)) for p in parts)


def _name(v) -> bool:
    if not isinstance(v, str) or not 1 <= len(v) <= 64 or not "a" <= v[0] <= "z":
        return False
    return all("a" <= c <= "z" or "0" <= c <= "9" or c in "_." for c in v)


def _time(v) -> bool:
    try:
        parse_rfc3339(v)
        return True
    except (ValueError, TypeError):
        return False


def _sig(v) -> bool:
    if not isinstance(v, str) or len(v) != 88 or not v.endswith("=="):
        return False
    try:
        return len(a2b_base64(v.encode())) == 64
    except ValueError:
        return False


def _shape_problem(cmd: dict):
    counter = cmd.get("counter")
    checks = (
        ("schema", lambda v: v == "liftguard.cmd/1"),
        ("id", _uuid),
        ("ts", _time),
        ("device", lambda v: isinstance(v, str) and 3 <= len(v) <= 200),
        ("command", _name),
        ("args", lambda v: isinstance(v, dict)),
        ("counter", lambda v: isinstance(v, canonical.Num) and "." not in v.text
         and "e" not in v.text.lower() and v.value() >= 1),
        ("seq", lambda v: isinstance(v, canonical.Num) and isinstance(counter, canonical.Num)
         and v.text == counter.text),
        ("expires", _time),
        ("key_id", lambda v: _hexstr(v, 16)),
        ("sig", _sig),
    )
    for name, ok in checks:
        if name not in cmd:
            return f"missing field {name!r}"
        if not ok(cmd[name]):
            return f"bad field {name!r}"
    extra = sorted(k for k in cmd if k not in FIELDS)
    if extra:
        return "unknown field(s) " + ", ".join(extra)
    return None


class Counters:
    """Last accepted counter per key, in a JSON file replaced atomically (tmp + rename)."""

    def __init__(self, path: str, fs) -> None:
        self.path, self.fs = path, fs
        try:
            with fs.open(path) as f:
                self.last = json.loads(f.read())
        except OSError:
            self.last = {}  # first start
        # A file that exists but does not parse raises ValueError: accepting commands with
        # forgotten counters would allow replays, so the caller must not go on.

    def advance(self, kid: str, counter: int) -> bool:
        if counter <= self.last.get(kid, 0):
            return False
        new = dict(self.last)
        new[kid] = counter
        with self.fs.open(self.path + ".tmp", "w") as f:
            f.write(json.dumps(new))
        self.fs.rename(self.path + ".tmp", self.path)
        self.last = new
        return True


class Verifier:
    def __init__(self, device: str, trusted: dict, counters: Counters,
                 max_bytes: int = 4096, max_ttl_s: float = 86400.0) -> None:
        self.device, self.trusted, self.counters = device, trusted, counters
        self.max_bytes, self.max_ttl_s = max_bytes, max_ttl_s

    def verify(self, raw: bytes, now: float) -> tuple:
        """(id, command, args, key_id, counter) of a valid command; Rejected otherwise."""
        if len(raw) > self.max_bytes:
            raise Rejected("oversized", f"{len(raw)} bytes > limit {self.max_bytes}")
        try:
            cmd = canonical.loads(bytes(raw).decode())
        except (UnicodeError, ValueError) as exc:
            raise Rejected("malformed", f"not UTF-8 JSON: {exc}") from None
        if not isinstance(cmd, dict):
            raise Rejected("malformed", "not a JSON object")
        if "sig" not in cmd or "key_id" not in cmd:
            raise Rejected("unsigned", "no sig/key_id", cmd)
        problem = _shape_problem(cmd)
        if problem:
            raise Rejected("malformed", problem, cmd)
        public = self.trusted.get(cmd["key_id"])
        if public is None:
            raise Rejected("unknown_key", f"key {cmd['key_id']} is not trusted", cmd)
        signed = canonical.dumps({k: cmd[k] for k in SIGNED}).encode()
        if not ed25519.verify(public, signed, a2b_base64(cmd["sig"].encode())):
            raise Rejected("bad_signature", "Ed25519 signature does not verify", cmd)
        if cmd["device"] != self.device:
            raise Rejected("wrong_device", f"signed for {cmd['device']}, this is {self.device}",
                           cmd)
        expires = parse_rfc3339(cmd["expires"])
        if expires <= now:
            raise Rejected("expired", f"expired at {cmd['expires']}", cmd)
        if expires - now > self.max_ttl_s:
            raise Rejected("malformed", f"expires more than {self.max_ttl_s:.0f} s ahead", cmd)
        counter = cmd["counter"].value()
        if not self.counters.advance(cmd["key_id"], counter):
            raise Rejected("replayed", f"counter {counter} <= last accepted "
                           f"{self.counters.last.get(cmd['key_id'], 0)}", cmd)
        return cmd["id"], cmd["command"], canonical.value(cmd["args"]), cmd["key_id"], counter
