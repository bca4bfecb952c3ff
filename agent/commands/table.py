"""The command dispatch table, and the bounds table for detector thresholds.

Other parts of the agent extend both at start-up:

    commands.register("relay.test", handler, {"seconds": Param(float)})
    thresholds.register("rope_wear", "level_db", lo=3.0, hi=30.0, value=9.0, apply=fn)

A handler gets the checked arguments and a CommandContext and returns a JSON-able dict (the
`result` on cmd/result); it raises CommandFailed to report a failure.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class CommandFailed(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Param:
    type: type | tuple[type, ...]
    required: bool = True


@dataclass(frozen=True)
class CommandContext:
    cmd_id: str
    key_id: str

    @property
    def by(self) -> str:
        """Who acted, as recorded in alarms and the maintenance trail."""
        return f"key:{self.key_id}"


Handler = Callable[[dict[str, Any], CommandContext], dict[str, Any]]


@dataclass(frozen=True)
class _Entry:
    handler: Handler
    params: dict[str, Param]


class CommandTable:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def register(self, name: str, handler: Handler, params: dict[str, Param] | None = None
                 ) -> None:
        if name in self._entries:
            raise ValueError(f"command {name!r} is already registered")
        self._entries[name] = _Entry(handler, dict(params or {}))

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def run(self, name: str, args: dict[str, Any], ctx: CommandContext) -> dict[str, Any]:
        entry = self._entries.get(name)
        if entry is None:
            raise CommandFailed("unknown_command", f"unknown command {name!r}; known: "
                                f"{', '.join(self.names())}")
        _check_args(name, args, entry.params)
        return entry.handler(args, ctx)


def _check_args(name: str, args: dict[str, Any], params: dict[str, Param]) -> None:
    extra = set(args) - set(params)
    if extra:
        raise CommandFailed("bad_args", f"{name}: unknown argument(s) {', '.join(sorted(extra))}")
    for arg, p in params.items():
        if arg not in args:
            if p.required:
                raise CommandFailed("bad_args", f"{name}: missing argument {arg!r}")
            continue
        v = args[arg]
        types = p.type if isinstance(p.type, tuple) else (p.type,)
        ok = isinstance(v, types) and not (isinstance(v, bool) and bool not in types)
        if float in types and isinstance(v, int) and not isinstance(v, bool):
            ok = True
        if not ok:
            raise CommandFailed("bad_args", f"{name}: argument {arg!r} = {v!r} has the wrong "
                                "type")


@dataclass
class Threshold:
    detector: str
    name: str
    lo: float
    hi: float
    value: float
    apply: Callable[[float], None] | None = None


@dataclass
class ThresholdTable:
    """Thresholds a command may change, each with the bounds it may never leave."""

    _items: dict[tuple[str, str], Threshold] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, detector: str, name: str, *, lo: float, hi: float, value: float,
                 apply: Callable[[float], None] | None = None) -> None:
        if not lo <= value <= hi:
            raise ValueError(f"{detector}.{name}: default {value} outside [{lo}, {hi}]")
        with self._lock:
            self._items[(detector, name)] = Threshold(detector, name, lo, hi, value, apply)

    def get(self, detector: str, name: str) -> float:
        with self._lock:
            return self._lookup(detector, name).value

    def set(self, detector: str, name: str, value: float) -> tuple[float, float]:
        """Set a threshold within its bounds; returns (old, new). The old value stays on any
        failure: out of bounds, not finite, or the detector refusing it in `apply`."""
        with self._lock:
            t = self._lookup(detector, name)
            if not math.isfinite(value) or not t.lo <= value <= t.hi:
                raise CommandFailed("bad_args", f"{detector}.{name} = {value}: outside bounds "
                                    f"[{t.lo}, {t.hi}]; kept {t.value}")
            if t.apply is not None:
                try:
                    t.apply(float(value))
                except Exception as exc:
                    raise CommandFailed("failed", f"{detector}.{name}: detector refused "
                                        f"{value}: {exc}; kept {t.value}") from None
            old, t.value = t.value, float(value)
            return old, t.value

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {f"{t.detector}.{t.name}": {"value": t.value, "lo": t.lo, "hi": t.hi}
                    for t in self._items.values()}

    def _lookup(self, detector: str, name: str) -> Threshold:
        t = self._items.get((detector, name))
        if t is None:
            raise CommandFailed("bad_args", f"no threshold {detector}.{name}")
        return t
