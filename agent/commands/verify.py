"""Check a command received on `cmd` before anything acts on it.

Order of checks (the first failure is the reason reported on `cmd/result`): size, JSON,
presence of a signature, shape, known key, signature, addressed device, expiry, counter. The
counter is checked last and advanced only for a command that passed every other check, so a
forged or expired command cannot burn counters.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.commands.counters import CounterStore
from agent.commands.signing import signature_ok
from agent.outbox.envelope import parse_rfc3339

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


class CommandRejected(Exception):
    def __init__(self, reason: str, detail: str, cmd: dict[str, Any] | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        cmd = cmd or {}
        cid = cmd.get("id")
        name = cmd.get("command")
        self.cmd_id = cid if isinstance(cid, str) and _UUID.match(cid) else None
        self.command = name if isinstance(name, str) and _NAME.match(name) else None


@dataclass(frozen=True)
class VerifiedCommand:
    id: str
    command: str
    args: dict[str, Any]
    key_id: str
    counter: int


@dataclass(frozen=True)
class VerifyPolicy:
    device: str
    max_bytes: int = 4096
    max_ttl_s: float = 86_400.0
    """A command valid longer than this is refused: it would be a replay risk for too long."""


class CommandVerifier:
    def __init__(self, policy: VerifyPolicy, trusted: dict[str, Ed25519PublicKey],
                 counters: CounterStore) -> None:
        self.policy = policy
        self.trusted = trusted
        self.counters = counters

    def verify(self, raw: bytes, now: float) -> VerifiedCommand:
        if len(raw) > self.policy.max_bytes:
            raise CommandRejected("oversized",
                                  f"{len(raw)} bytes > limit {self.policy.max_bytes}")
        try:
            cmd = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise CommandRejected("malformed", f"not UTF-8 JSON: {exc}") from None
        if not isinstance(cmd, dict):
            raise CommandRejected("malformed", "not a JSON object")
        if "sig" not in cmd or "key_id" not in cmd:
            raise CommandRejected("unsigned", "no sig/key_id", cmd)
        problem = _shape_problem(cmd)
        if problem:
            raise CommandRejected("malformed", problem, cmd)
        public = self.trusted.get(cmd["key_id"])
        if public is None:
            raise CommandRejected("unknown_key", f"key {cmd['key_id']} is not trusted", cmd)
        if not signature_ok(public, cmd, base64.b64decode(cmd["sig"])):
            raise CommandRejected("bad_signature", "Ed25519 signature does not verify", cmd)
        if cmd["device"] != self.policy.device:
            raise CommandRejected("wrong_device", f"signed for {cmd['device']}, this is "
                                  f"{self.policy.device}", cmd)
        expires = parse_rfc3339(cmd["expires"])
        if expires <= now:
            raise CommandRejected("expired", f"expired at {cmd['expires']}", cmd)
        if expires - now > self.policy.max_ttl_s:
            raise CommandRejected("malformed", f"expires more than {self.policy.max_ttl_s:.0f}"
                                  " s ahead", cmd)
        if not self.counters.advance(cmd["key_id"], cmd["counter"]):
            raise CommandRejected("replayed", f"counter {cmd['counter']} <= last accepted "
                                  f"{self.counters.last(cmd['key_id'])}", cmd)
        return VerifiedCommand(cmd["id"], cmd["command"], cmd["args"], cmd["key_id"],
                               cmd["counter"])


def _shape_problem(cmd: dict[str, Any]) -> str | None:
    checks: list[tuple[str, Any]] = [
        ("schema", lambda v: v == "liftguard.cmd/1"),
        ("id", lambda v: isinstance(v, str) and _UUID.match(v)),
        ("ts", _is_time),
        ("device", lambda v: isinstance(v, str) and 3 <= len(v) <= 200),
        ("command", lambda v: isinstance(v, str) and _NAME.match(v)),
        ("args", lambda v: isinstance(v, dict)),
        ("counter", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1),
        ("seq", lambda v: v == cmd.get("counter")),
        ("expires", _is_time),
        ("key_id", lambda v: isinstance(v, str) and _KEY_ID.match(v)),
        ("sig", _is_sig),
    ]
    for name, ok in checks:
        if name not in cmd:
            return f"missing field {name!r}"
        if not ok(cmd[name]):
            return f"bad field {name!r}"
    extra = set(cmd) - {name for name, _ in checks}
    if extra:
        return f"unknown field(s) {', '.join(sorted(extra))}"
    return None


def _is_time(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        parse_rfc3339(v)
    except ValueError:
        return False
    return True


def _is_sig(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        return len(base64.b64decode(v, validate=True)) == 64
    except (binascii.Error, ValueError):
        return False
