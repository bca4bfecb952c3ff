"""The payload envelope of every message (ARCHITECTURE.md MQTT contract, agent/outbox/envelope.py).

`schema` names the payload type, `id` is a UUID (version 4, from the board's hardware RNG)
that stays the same on re-sends, `ts` is RFC 3339 UTC with milliseconds; `seq` is assigned by
the outbox when the message is committed. Topics are liftguard/v1/{site}/{lift}/{channel}.
"""

import json
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
    h = hexlify(bytes(b)).decode()
    return "-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))


def civil(days: int) -> tuple:
    """(year, month, day) of a day count since 1970-01-01, proleptic Gregorian (the
    days-from-civil inverse of H. Hinnant's date algorithms), independent of the port's epoch."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


def days_from_civil(y: int, m: int, d: int) -> int:
    y -= 1 if m <= 2 else 0
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def rfc3339(unix: float) -> str:
    """2026-11-28T13:47:29.123Z from Unix time."""
    ms_total = int(unix * 1000 + 0.5)
    secs, ms = divmod(ms_total, 1000)
    days, rem = divmod(secs, 86400)
    y, mo, d = civil(days)
    h, rem = divmod(rem, 3600)
    mi, s = divmod(rem, 60)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}Z"


def parse_rfc3339(text: str) -> float:
    """Unix time of YYYY-MM-DDTHH:MM:SS[.fff]Z (UTC only); ValueError otherwise."""
    if not isinstance(text, str) or len(text) < 20 or text[-1] != "Z" or text[10] != "T":
        raise ValueError(f"not an RFC 3339 UTC time: {text!r}")
    if text[4] != "-" or text[7] != "-" or text[13] != ":" or text[16] != ":":
        raise ValueError(f"not an RFC 3339 UTC time: {text!r}")
    y, mo, d = int(text[0:4]), int(text[5:7]), int(text[8:10])
    h, mi, s = int(text[11:13]), int(text[14:16]), int(text[17:19])
    frac = 0.0
    if len(text) > 20:
        if text[19] != "." or not text[20:-1].isdigit():
            raise ValueError(f"not an RFC 3339 UTC time: {text!r}")
        frac = int(text[20:-1]) / 10 ** len(text[20:-1])
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 61):
        raise ValueError(f"not an RFC 3339 UTC time: {text!r}")
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s + frac


def envelope(channel: str, ts: float, msg_id=None, **fields) -> dict:
    body = {"schema": SCHEMAS[channel], "id": msg_id or new_id(), "ts": rfc3339(ts)}
    body.update(fields)
    return body


def topic(site: str, lift: str, channel: str) -> str:
    return f"{TOPIC_ROOT}/{site}/{lift}/{channel}"


def encode(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
