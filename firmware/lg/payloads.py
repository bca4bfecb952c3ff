"""The payload envelope of every message (ARCHITECTURE.md MQTT contract, agent/outbox/envelope.py).

`schema` names the payload type, `id` is a UUID (version 4, from the board's hardware RNG)
that stays the same on re-sends, `ts` is RFC 3339 UTC with milliseconds; `seq` is assigned by
the outbox when the message is committed. Topics are liftguard/v1/{site}/{lift}/{channel}.
"""

import json
import time
from binascii import hexlify

SCHEMAS = {
    "state": "liftguard.state/1",
    "alarm": "liftguard.alarm/1",
    "telemetry": "liftguard.telemetry/1",
    "event": "liftguard.event/1",
    "cmd/result": "liftguard.cmd_result/1",
}
TOPIC_ROOT = "liftguard/v1"


def _urandom(n: int) -> bytes:
    try:
        from os import urandom  # ESP32: the hardware RNG (esp_random)

        return urandom(n)
    except ImportError:  # ports without os.urandom (the WebAssembly test port)
        import random

        return bytes(random.getrandbits(8) for _ in range(n))


def new_id(rand=_urandom) -> str:
    b = bytearray(rand(16))
    b[6] = (b[6] & 0x0F) | 0x40  # RFC 4122 4.4: version 4
    b[8] = (b[8] & 0x3F) | 0x80  # variant 10
    h = hexlify(b).decode()
    return "-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))


def rfc3339(epoch: float) -> str:
    """2026-11-28T13:47:29.123Z. time.gmtime interprets the port's own epoch, so the result is
    right on boards whose epoch is 2000 as well as 1970."""
    whole = int(epoch)
    ms = int((epoch - whole) * 1000)
    t = time.gmtime(whole)
    return f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}T{t[3]:02d}:{t[4]:02d}:{t[5]:02d}.{ms:03d}Z"


def envelope(channel: str, ts: float, msg_id=None, **fields) -> dict:
    body = {"schema": SCHEMAS[channel], "id": msg_id or new_id(), "ts": rfc3339(ts)}
    body.update(fields)
    return body


def topic(site: str, lift: str, channel: str) -> str:
    return f"{TOPIC_ROOT}/{site}/{lift}/{channel}"


def encode(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
