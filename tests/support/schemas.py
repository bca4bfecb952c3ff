"""Validate payloads against the JSON Schemas shipped in agent/schemas (docs/schemas links them)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "agent" / "schemas"
BY_CHANNEL = {"state": "state", "alarm": "alarm", "telemetry": "telemetry", "event": "event",
              "cmd": "cmd", "cmd/result": "cmd_result"}


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMA_DIR / f"{name}.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate(channel: str, payload: bytes | dict[str, Any]) -> dict[str, Any]:
    """Parse (if bytes) and validate a payload for `channel`; returns the parsed object."""
    body = json.loads(payload) if isinstance(payload, bytes | bytearray) else payload
    validator(BY_CHANNEL[channel]).validate(body)
    return body


def channel_of(topic: str) -> str:
    """`liftguard/v1/site/lift/cmd/result` -> `cmd/result`."""
    return "/".join(topic.split("/")[4:])
