"""Alarms on the board: one active alarm per (kind, source), raised and cleared by the rules
and detectors, each change written to the outbox (alarm=True) before anything is sent.

The payload is liftguard.alarm/1 (agent/schemas/alarm.json): `alarm_id` stays the same from
raise to clear, `id` is new for each change and the same on re-sends, `revision` counts the
changes. Event severities map to alarm severities as the Pi agent does: critical -> critical,
major and minor -> warning, info -> info.
"""

from lg import payloads

SEVERITY = {"critical": "critical", "major": "warning", "minor": "warning", "info": "info",
            "warning": "warning"}


class AlarmBook:
    def __init__(self, outbox, clock) -> None:
        self.outbox, self.clock = outbox, clock
        self.active: dict = {}  # (kind, source) -> [alarm_id, raised_ts, revision, severity]

    def _put(self, a, kind, source, state, severity, evidence, by=None) -> dict:
        now = self.clock.time()
        body = payloads.envelope("alarm", now, alarm_id=a[0], state=state, kind=kind,
                                 source=source, severity=severity, evidence=evidence,
                                 raised_ts=a[1], revision=a[2], resend=0, acked=False, by=by)
        self.outbox.put("alarm", body, alarm=True)
        return body

    def raise_(self, kind: str, source: str, severity: str, evidence: dict):
        """Raise (or update, if the severity changed) the alarm; None if nothing changed."""
        sev = SEVERITY.get(severity, "warning")
        a = self.active.get((kind, source))
        if a is not None and a[3] == sev:
            return None
        if a is None:
            a = [payloads.new_id(), payloads.rfc3339(self.clock.time()), 1, sev]
            state = "raised"
        else:
            a = [a[0], a[1], a[2] + 1, sev]
            state = "updated"
        body = self._put(a, kind, source, state, sev, evidence)  # on flash first ...
        self.active[(kind, source)] = a  # ... then in the book
        return body

    def clear(self, kind: str, source: str, evidence=None):
        a = self.active.get((kind, source))
        if a is None:
            return None
        a = [a[0], a[1], a[2] + 1, a[3]]
        body = self._put(a, kind, source, "cleared", a[3], evidence or {}, by="rule")
        del self.active[(kind, source)]
        return body
