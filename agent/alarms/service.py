"""AlarmService: the facade the runtime, the event rules and the commands call.

Each call plans a lifecycle transition, commits the alarm's new state and its MQTT message in
one SQLite transaction (synchronous=FULL), and only then applies it in memory and tells the
observers (GPIO relay/LED, maintenance trail). When a call returns, the alarm is on disk and
will reach the broker even if the process dies the next instant.

Thread-safe: the runtime raises and clears from its loop, commands acknowledge and clear from
the uplink thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from agent.alarms.lifecycle import Alarm, AlarmBook, Transition
from agent.outbox import Clock, Outbox, envelope, rfc3339

log = logging.getLogger(__name__)

STATE_PREFIX = "alarm:"
RULE = "rule"


def alarm_message(alarm: Alarm, now: float) -> dict[str, Any]:
    """The `liftguard.alarm/1` payload for the alarm's latest publication (minus `seq`)."""
    return envelope(
        "alarm", now, msg_id=alarm.msg_id, alarm_id=alarm.alarm_id, state=alarm.state,
        kind=alarm.kind, source=alarm.source, severity=alarm.severity,
        evidence=alarm.evidence, raised_ts=rfc3339(alarm.raised_at),
        revision=alarm.revision, resend=alarm.resends, acked=alarm.acked, by=alarm.by)


class AlarmService:
    def __init__(self, outbox: Outbox, clock: Clock, resend_interval_s: float = 300.0,
                 new_id: Callable[[], str] | None = None) -> None:
        self._outbox = outbox
        self._clock = clock
        self._lock = threading.RLock()
        self._book = AlarmBook(resend_interval_s) if new_id is None else AlarmBook(
            resend_interval_s, new_id)
        self._book.restore(Alarm.from_json(v) for v in outbox.state_items(STATE_PREFIX).values())
        self._observers: list[Callable[[Transition], None]] = []

    def add_observer(self, fn: Callable[[Transition], None]) -> None:
        """`fn(transition)` after each committed change (not re-sends); must not block."""
        self._observers.append(fn)

    def raise_(self, kind: str, source: str, severity: str,
               evidence: dict[str, Any] | None = None) -> Alarm:
        """Raise or update the alarm (kind, source); returns it once committed."""
        with self._lock:
            t = self._book.plan_raise(kind, source, severity, evidence or {}, self._clock())
            if t is None:
                alarm = self._book.get(kind, source)
                assert alarm is not None
                return alarm
            self._commit(t)
            return t.alarm

    def clear(self, kind: str, source: str, by: str = RULE) -> Alarm | None:
        """End the alarm (kind, source); None if it was not active."""
        with self._lock:
            t = self._book.plan_clear(kind, source, by, self._clock())
            if t is not None:
                self._commit(t)
            return None if t is None else t.alarm

    def clear_id(self, alarm_id: str, by: str) -> Alarm:
        """End an alarm by its id (a technician or a command); AlarmNotFound if not active."""
        with self._lock:
            a = self._book.by_id(alarm_id)
            t = self._book.plan_clear(a.kind, a.source, by, self._clock())
            assert t is not None
            self._commit(t)
            return t.alarm

    def ack(self, alarm_id: str, by: str) -> Alarm:
        """Acknowledge (stops re-sends); AlarmNotFound if not active."""
        with self._lock:
            t = self._book.plan_ack(alarm_id, by, self._clock())
            if t is None:
                return self._book.by_id(alarm_id)
            self._commit(t)
            return t.alarm

    def tick(self) -> int:
        """Re-send what is due; returns how many were queued. Call about once a second.

        All re-sends of one tick are committed in one transaction: a box with many
        unacknowledged alarms pays one fsync per tick, not one per alarm."""
        with self._lock:
            due = [t for t in self._book.plan_resends(self._clock())
                   # Still queued (broker unreachable): a second copy would only fill the disk.
                   if not self._outbox.is_pending(t.alarm.msg_id)]
            if not due:
                return 0
            now = self._clock()
            self._outbox.enqueue_batch([("alarm", alarm_message(t.alarm, now), self._state(t))
                                        for t in due])
            for t in due:
                self._book.apply(t)
            return len(due)

    def active(self) -> list[Alarm]:
        with self._lock:
            return self._book.active()

    def get(self, alarm_id: str) -> Alarm:
        with self._lock:
            return self._book.by_id(alarm_id)

    def _commit(self, t: Transition) -> None:
        self._outbox.enqueue("alarm", alarm_message(t.alarm, self._clock()), self._state(t))
        self._book.apply(t)
        for fn in self._observers:
            try:
                fn(t)
            except Exception:  # an observer (LED, trail) must not undo a committed alarm
                log.exception("alarm observer %r failed on %s", fn, t.state)

    @staticmethod
    def _state(t: Transition) -> dict[str, str | None]:
        key = f"{STATE_PREFIX}{t.alarm.kind}\x1f{t.alarm.source}"
        return {key: None if t.state == "cleared" else t.alarm.to_json()}
