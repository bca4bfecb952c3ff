"""Maintenance mode: a technician's visit, from check-in to check-out, on the trail.

Started and ended by a signed command or by the box's maintenance button (the runtime calls
`start`/`end`). Alarms cleared while a visit is open are recorded on the trail as part of it.
Every record is also published as a `maintenance` event, so the platform holds a copy the box
cannot rewrite.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from agent.alarms import Transition
from agent.trail.chain import TrailLog

PublishEvent = Callable[[str, str, dict[str, Any]], object]


class MaintenanceError(Exception):
    pass


class MaintenanceMode:
    def __init__(self, trail: TrailLog, publish_event: PublishEvent) -> None:
        self._trail = trail
        self._publish = publish_event
        self._lock = threading.Lock()
        self.technician: str | None = None

    @property
    def active(self) -> bool:
        return self.technician is not None

    def start(self, technician: str, note: str = "", via: str = "button") -> dict[str, Any]:
        with self._lock:
            if self.technician is not None:
                raise MaintenanceError(f"maintenance already started by {self.technician}")
            rec = self._record("check_in", technician, {"note": note, "via": via})
            self.technician = technician
            return rec

    def end(self, work_done: str = "", via: str = "button") -> dict[str, Any]:
        with self._lock:
            if self.technician is None:
                raise MaintenanceError("maintenance is not active")
            rec = self._record("check_out", self.technician,
                               {"work_done": work_done, "via": via})
            self.technician = None
            return rec

    def note(self, text: str) -> dict[str, Any]:
        with self._lock:
            if self.technician is None:
                raise MaintenanceError("maintenance is not active")
            return self._record("note", self.technician, {"text": text})

    def on_alarm(self, t: Transition) -> None:
        """AlarmService observer: clearing during a visit goes on the trail."""
        if t.state != "cleared" or self.technician is None:
            return
        with self._lock:
            if self.technician is not None:
                self._record("alarm_cleared", self.technician, {
                    "alarm_id": t.alarm.alarm_id, "kind": t.alarm.kind,
                    "source": t.alarm.source, "by": t.by})

    def _record(self, kind: str, technician: str, detail: dict[str, Any]) -> dict[str, Any]:
        rec = self._trail.append(kind, technician, detail)
        self._publish("maintenance", "info", rec)
        return rec
