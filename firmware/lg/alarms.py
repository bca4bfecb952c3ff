"""Alarms on the board, with the lifecycle of agent/alarms/lifecycle.py.

One active alarm per (kind, source), with an `alarm_id` that stays the same from raise to
clear. Raising again with the same severity and evidence changes nothing; a new severity or
evidence is an update. An unacknowledged alarm is re-sent every `resend_interval_s` (EN 81-28
/ GB/T 24475: repeated until someone acknowledges it) with the same message `id`, the state
of its latest publication and `resend` = n; `alarm.ack` only stops the repeats, only a clear
ends the alarm, and an escalation after an acknowledgement needs a new one. Event severities
map as the Pi agent maps them: critical -> critical, major and minor -> warning, info -> info.

Durability, in this order for every change: (1) the message is committed to the flash outbox
(alarm=True, never evicted), (2) the book of active alarms is replaced atomically in
`alarms.json`, (3) the book in RAM follows. A power cut between (1) and (2) leaves the file one
change behind; at start-up the alarm messages still pending in the outbox are replayed over it
(newer revisions only), so the book never runs behind what was published. Brokers return
PUBACKs in publish order (MQTT 3.1.1 section 4.6), so a pending message is never older than
an acknowledged one of the same alarm.
"""

import json

from lg import payloads

SEVERITY = {"critical": "critical", "major": "warning", "minor": "warning", "info": "info",
            "warning": "warning"}
RANKS = ("info", "warning", "critical")
PATH = "alarms.json"


class AlarmNotFound(Exception):
    def __init__(self, alarm_id) -> None:
        super().__init__(f"no active alarm {alarm_id}")


class AlarmBook:
    """`active[(kind, source)]` is the alarm as a dict with the fields of the Pi's Alarm:
    alarm_id, kind, source, severity, evidence, raised_at, revision, msg_id, last_sent, state,
    by, acked, acked_by, resends (times in Unix seconds)."""

    def __init__(self, outbox, clock, resend_interval_s: float = 300.0, path: str = PATH,
                 fs=None) -> None:
        self.outbox, self.clock = outbox, clock
        self.resend_s = resend_interval_s
        self.path = path
        self.fs = fs or outbox.fs
        self.active: dict = {}
        self.queued: dict = {}  # alarm_id -> outbox name of its latest publication
        self.observer = None  # fn(state, alarm, by) after each committed change, not re-sends
        self.restored_corrupt = False
        self._restore()

    # -- start-up ----------------------------------------------------------------------------

    def _restore(self) -> None:
        recs = {}
        try:
            with self.fs.open(self.path) as f:
                for a in json.loads(f.read())["alarms"]:
                    recs[a["alarm_id"]] = a
        except OSError:
            pass  # first start
        except (ValueError, KeyError, TypeError):
            # Unreadable (not possible with littlefs's atomic rename, possible on FAT): kept
            # aside for a technician; the outbox replay below still recovers what is pending.
            self.restored_corrupt = True
            self.fs.rename(self.path, self.path + ".bad")
        for name in self.outbox.pending():
            try:
                ch, payload, _ = self.outbox.get(name)
                if ch == "alarm":
                    self._replay(recs, json.loads(payload), name)
            except (OSError, ValueError, KeyError, TypeError):
                continue  # the outbox sets unreadable messages aside itself
        for a in recs.values():
            if a is not None and a["state"] != "cleared":
                old = self.active.get((a["kind"], a["source"]))
                if old is None or a["raised_at"] > old["raised_at"]:
                    self.active[(a["kind"], a["source"])] = a

    def _replay(self, recs: dict, m: dict, name: str) -> None:
        aid = m["alarm_id"]
        cur = recs.get(aid)
        if cur is not None and m["revision"] <= cur["revision"]:
            if m["revision"] == cur["revision"]:
                self.queued[aid] = name  # a copy of the latest state is still queued
            return
        acked_by = m["by"] if m["state"] == "acknowledged" else (
            cur["acked_by"] if cur is not None and m["acked"] else None)
        recs[aid] = {"alarm_id": aid, "kind": m["kind"], "source": m["source"],
                     "severity": m["severity"], "evidence": m["evidence"],
                     "raised_at": payloads.parse_rfc3339(m["raised_ts"]),
                     "revision": m["revision"], "msg_id": m["id"],
                     "last_sent": payloads.parse_rfc3339(m["ts"]), "state": m["state"],
                     "by": m["by"], "acked": m["acked"], "acked_by": acked_by,
                     "resends": m["resend"]}
        self.queued[aid] = name

    # -- changes -----------------------------------------------------------------------------

    def get(self, kind: str, source: str):
        return self.active.get((kind, source))

    def by_id(self, alarm_id: str) -> dict:
        for a in self.active.values():
            if a["alarm_id"] == alarm_id:
                return a
        raise AlarmNotFound(alarm_id)

    def raise_(self, kind: str, source: str, severity: str, evidence: dict):
        """Raise or update the alarm; the published body, or None if nothing changed."""
        sev = SEVERITY.get(severity, "warning")
        now = self.clock.time()
        old = self.active.get((kind, source))
        if old is None:
            a = {"alarm_id": payloads.new_id(), "kind": kind, "source": source,
                 "severity": sev, "evidence": dict(evidence), "raised_at": now, "revision": 1,
                 "msg_id": payloads.new_id(), "last_sent": now, "state": "raised", "by": None,
                 "acked": False, "acked_by": None, "resends": 0}
            return self._commit(a, now)
        if old["severity"] == sev and old["evidence"] == evidence:
            return None
        acked = old["acked"] and RANKS.index(sev) <= RANKS.index(old["severity"])
        a = dict(old)
        a.update(severity=sev, evidence=dict(evidence), revision=old["revision"] + 1,
                 msg_id=payloads.new_id(), last_sent=now, state="updated", by=None,
                 acked=acked, acked_by=old["acked_by"] if acked else None, resends=0)
        return self._commit(a, now)

    def ack(self, alarm_id: str, by: str) -> dict:
        """Acknowledge (stops the re-sends); AlarmNotFound if no such alarm is active."""
        old = self.by_id(alarm_id)
        if old["acked"]:
            return old
        now = self.clock.time()
        a = dict(old)
        a.update(acked=True, acked_by=by, revision=old["revision"] + 1,
                 msg_id=payloads.new_id(), last_sent=now, state="acknowledged", by=by,
                 resends=0)
        self._commit(a, now)
        return a

    def clear(self, kind: str, source: str, evidence=None, by: str = "rule"):
        """End the alarm (kind, source); the published body, or None if it was not active.
        `evidence` is ignored: a clear repeats the alarm's evidence, as the Pi's does."""
        old = self.active.get((kind, source))
        if old is None:
            return None
        now = self.clock.time()
        a = dict(old)
        a.update(revision=old["revision"] + 1, msg_id=payloads.new_id(), last_sent=now,
                 state="cleared", by=by, resends=0)
        return self._commit(a, now)

    def clear_id(self, alarm_id: str, by: str) -> dict:
        """End an alarm by its id (a command); AlarmNotFound if it is not active."""
        a = dict(self.by_id(alarm_id))
        self.clear(a["kind"], a["source"], by=by)
        a["state"] = "cleared"
        return a

    def tick(self) -> int:
        """Re-send every unacknowledged alarm whose last publication is `resend_interval_s`
        old; returns how many were queued. One still waiting in the outbox (broker away) is
        not copied again: a second copy would only fill the flash."""
        now = self.clock.time()
        due = []
        for a in self.active.values():
            if a["acked"] or now - a["last_sent"] < self.resend_s:
                continue
            if self.queued.get(a["alarm_id"]) in self.outbox.pending():
                continue
            due.append(a)
        for old in due:
            a = dict(old)
            a.update(last_sent=now, resends=old["resends"] + 1)
            self._commit(a, now, observe=False)
        return len(due)

    # -- durability ----------------------------------------------------------------------------

    def message(self, a: dict, now: float) -> dict:
        """The liftguard.alarm/1 payload of the alarm's latest publication (minus `seq`)."""
        return payloads.envelope(
            "alarm", now, msg_id=a["msg_id"], alarm_id=a["alarm_id"], state=a["state"],
            kind=a["kind"], source=a["source"], severity=a["severity"], evidence=a["evidence"],
            raised_ts=payloads.rfc3339(a["raised_at"]), revision=a["revision"],
            resend=a["resends"], acked=a["acked"], by=a["by"])

    def _commit(self, a: dict, now: float, observe: bool = True) -> dict:
        body = self.message(a, now)
        name = self.outbox.put("alarm", body, alarm=True)  # 1. on flash, before anything
        key = (a["kind"], a["source"])
        book = dict(self.active)
        if a["state"] == "cleared":
            book.pop(key, None)
        else:
            book[key] = a
        self._save(book)  # 2. the book on flash
        self.active = book  # 3. the book in RAM
        if a["state"] == "cleared":
            self.queued.pop(a["alarm_id"], None)
        else:
            self.queued[a["alarm_id"]] = name
        if observe and self.observer is not None:
            self.observer(a["state"], a, a["by"])
        return body

    def _save(self, book: dict) -> None:
        tmp = self.path + ".tmp"
        with self.fs.open(tmp, "w") as f:
            f.write(json.dumps({"alarms": list(book.values())}))
        self.fs.rename(tmp, self.path)
