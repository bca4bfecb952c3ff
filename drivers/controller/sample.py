"""`ControllerSample`: what one poll of the controller produced, with its timestamp."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ControllerSample:
    """One poll. `readings` maps canonical names (profile field and bit names) to values.

    `ok` is False when any read of the poll failed; the readings of the reads that succeeded
    are still there, and `error` names the first failure's kind (`timeout`, `crc`, `frame`,
    `exception`, `port_gone`, `echo`) with `detail` its message. `t` is the injected clock's
    time at the start of the poll, `duration_s` how long the poll took.
    """

    t: float
    readings: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    error: str | None = None
    detail: str = ""
    duration_s: float = 0.0

    def get(self, name: str, default: Any = None) -> Any:
        return self.readings.get(name, default)
