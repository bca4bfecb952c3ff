"""The alarm lifecycle as a pure state machine: no I/O, time passed in.

One active alarm per (kind, source), with a UUID that stays the same from raise to clear.
Raising an active alarm again with the same severity and evidence changes nothing (de-dup);
a new severity or new evidence is an update. An unacknowledged alarm is re-sent every
`resend_interval_s` (EN 81-28 / GB/T 24475: the alarm is repeated until someone acknowledges
it); acknowledgement only stops the repeats, and only clearing ends the alarm. An escalation
in severity after an acknowledgement needs a new acknowledgement.

Every change is planned first (`plan_*` returns a `Transition`) and applied to the book only
after the caller has committed it durably, so the book never runs ahead of the disk.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "critical")
STATES = ("raised", "updated", "acknowledged", "cleared", "resent")


class AlarmNotFound(KeyError):
    """No active alarm has this id (already cleared, or never raised)."""

    def __str__(self) -> str:
        return f"no active alarm {self.args[0]}"


@dataclass(frozen=True)
class Alarm:
    alarm_id: str
    kind: str
    source: str
    severity: str
    evidence: dict[str, Any]
    raised_at: float
    revision: int
    msg_id: str
    """Id of the latest publication; re-sends reuse it so receivers de-duplicate."""
    last_sent: float
    state: str = "raised"
    """State of the latest publication (what a re-send repeats)."""
    by: str | None = None
    """Who caused the latest publication (acknowledger, clearer), if not the rule."""
    acked: bool = False
    acked_by: str | None = None
    resends: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.source)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Alarm:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Transition:
    state: str
    alarm: Alarm
    """The alarm after the change (for `cleared`, as it was when cleared)."""
    by: str | None = None


@dataclass
class AlarmBook:
    resend_interval_s: float
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    _active: dict[tuple[str, str], Alarm] = field(default_factory=dict)

    def restore(self, alarms: Iterable[Alarm]) -> None:
        for a in alarms:
            self._active[a.key] = a

    def active(self) -> list[Alarm]:
        return sorted(self._active.values(), key=lambda a: (a.raised_at, a.alarm_id))

    def get(self, kind: str, source: str) -> Alarm | None:
        return self._active.get((kind, source))

    def by_id(self, alarm_id: str) -> Alarm:
        for a in self._active.values():
            if a.alarm_id == alarm_id:
                return a
        raise AlarmNotFound(alarm_id)

    # -- planning (pure) -----------------------------------------------------------------

    def plan_raise(self, kind: str, source: str, severity: str, evidence: dict[str, Any],
                   now: float) -> Transition | None:
        if severity not in SEVERITIES:
            raise ValueError(f"alarm severity {severity!r} is not one of {SEVERITIES}")
        old = self._active.get((kind, source))
        if old is None:
            alarm = Alarm(alarm_id=self.new_id(), kind=kind, source=source, severity=severity,
                          evidence=dict(evidence), raised_at=now, revision=1,
                          msg_id=self.new_id(), last_sent=now)
            return Transition("raised", alarm)
        if old.severity == severity and old.evidence == evidence:
            return None
        escalated = SEVERITIES.index(severity) > SEVERITIES.index(old.severity)
        acked = old.acked and not escalated
        alarm = dataclasses.replace(
            old, severity=severity, evidence=dict(evidence), revision=old.revision + 1,
            msg_id=self.new_id(), last_sent=now, state="updated", by=None, acked=acked,
            acked_by=old.acked_by if acked else None, resends=0)
        return Transition("updated", alarm)

    def plan_ack(self, alarm_id: str, by: str, now: float) -> Transition | None:
        old = self.by_id(alarm_id)
        if old.acked:
            return None
        alarm = dataclasses.replace(old, acked=True, acked_by=by, revision=old.revision + 1,
                                    msg_id=self.new_id(), last_sent=now, state="acknowledged",
                                    by=by, resends=0)
        return Transition("acknowledged", alarm, by)

    def plan_clear(self, kind: str, source: str, by: str, now: float) -> Transition | None:
        old = self._active.get((kind, source))
        if old is None:
            return None
        alarm = dataclasses.replace(old, revision=old.revision + 1, msg_id=self.new_id(),
                                    last_sent=now, state="cleared", by=by, resends=0)
        return Transition("cleared", alarm, by)

    def plan_resends(self, now: float) -> list[Transition]:
        """Unacknowledged alarms whose last publication is `resend_interval_s` old."""
        due = []
        for a in self.active():
            if not a.acked and now - a.last_sent >= self.resend_interval_s:
                due.append(Transition(
                    "resent", dataclasses.replace(a, last_sent=now, resends=a.resends + 1)))
        return due

    # -- applying ------------------------------------------------------------------------

    def apply(self, t: Transition) -> None:
        if t.state == "cleared":
            self._active.pop(t.alarm.key, None)
        else:
            self._active[t.alarm.key] = t.alarm
