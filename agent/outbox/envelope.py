"""The envelope every liftguard MQTT payload carries (ARCHITECTURE.md, MQTT contract).

`schema` names the payload type and version, `id` is a UUID that stays the same across
re-sends so receivers can de-duplicate, `ts` is RFC 3339 UTC. `seq` is added by the outbox
when the message is committed, because only the outbox knows the per-channel order.
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from collections.abc import Callable
from typing import Any

Clock = Callable[[], float]
"""Wall-clock time in seconds since the epoch; tests pass a fake one."""

SCHEMAS = {
    "state": "liftguard.state/1",
    "alarm": "liftguard.alarm/1",
    "telemetry": "liftguard.telemetry/1",
    "event": "liftguard.event/1",
    "cmd": "liftguard.cmd/1",
    "cmd/result": "liftguard.cmd_result/1",
}

CHANNELS = tuple(SCHEMAS)


def rfc3339(epoch: float) -> str:
    """`2026-11-28T13:47:29.123Z`: UTC, millisecond resolution, `Z` suffix (RFC 3339 5.6)."""
    t = _dt.datetime.fromtimestamp(epoch, tz=_dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_rfc3339(text: str) -> float:
    """Epoch seconds of an RFC 3339 timestamp; ValueError if it is not one."""
    t = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return t.timestamp()


def new_id() -> str:
    return str(uuid.uuid4())


def envelope(channel: str, ts: float, msg_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A payload for `channel` without its `seq` (the outbox assigns it on commit)."""
    body: dict[str, Any] = {"schema": SCHEMAS[channel], "id": msg_id or new_id(),
                            "ts": rfc3339(ts)}
    body.update(fields)
    return body


def encode(body: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, the wire form of every payload."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
