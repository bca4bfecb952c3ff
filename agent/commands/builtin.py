"""The commands every box understands, installed into a CommandTable.

| command | args | effect |
|---|---|---|
| alarm.ack | alarm_id | stop the alarm's re-sends (it stays active) |
| alarm.clear | alarm_id | end the alarm (a technician's remote reset) |
| diag.snapshot | - | current features/spectrum summary and box health, from providers |
| detector.set_threshold | detector, name, value | change a threshold within its bounds |
| maintenance.start | technician, note? | check-in: open a visit on the trail |
| maintenance.end | work_done? | check-out: close the visit |
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from agent.alarms import AlarmNotFound, AlarmService
from agent.commands.table import CommandContext, CommandFailed, CommandTable, Param, ThresholdTable
from agent.trail import MaintenanceError, MaintenanceMode

log = logging.getLogger(__name__)

PublishEvent = Callable[[str, str, dict[str, Any]], object]


class Diagnostics:
    """Named providers of a diagnostic snapshot; the runtime adds the detectors' summary."""

    def __init__(self) -> None:
        self._providers: dict[str, Callable[[], dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def add_provider(self, name: str, fn: Callable[[], dict[str, Any]]) -> None:
        with self._lock:
            self._providers[name] = fn

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            providers = dict(self._providers)
        out: dict[str, Any] = {}
        for name, fn in providers.items():
            try:
                out[name] = fn()
            except Exception as exc:  # one broken provider must not hide the others
                log.exception("diagnostic provider %s failed", name)
                out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        return out


def install_builtin(table: CommandTable, *, alarms: AlarmService,
                    maintenance: MaintenanceMode, thresholds: ThresholdTable,
                    diagnostics: Diagnostics, publish_event: PublishEvent) -> None:
    def ack(args: dict[str, Any], ctx: CommandContext) -> dict[str, Any]:
        try:
            a = alarms.ack(args["alarm_id"], by=ctx.by)
        except AlarmNotFound as exc:
            raise CommandFailed("failed", str(exc)) from None
        return {"alarm_id": a.alarm_id, "acked": a.acked}

    def clear(args: dict[str, Any], ctx: CommandContext) -> dict[str, Any]:
        try:
            a = alarms.clear_id(args["alarm_id"], by=ctx.by)
        except AlarmNotFound as exc:
            raise CommandFailed("failed", str(exc)) from None
        return {"alarm_id": a.alarm_id, "state": a.state}

    def snapshot(args: dict[str, Any], ctx: CommandContext) -> dict[str, Any]:
        return diagnostics.snapshot()

    def set_threshold(args: dict[str, Any], ctx: CommandContext) -> dict[str, Any]:
        old, new = thresholds.set(args["detector"], args["name"], float(args["value"]))
        detail = {"detector": args["detector"], "name": args["name"], "old": old, "new": new,
                  "by": ctx.by}
        publish_event("threshold_changed", "info", detail)
        return detail

    def start(args: dict[str, Any], ctx: CommandContext) -> dict[str, Any]:
        try:
            rec = maintenance.start(args["technician"], args.get("note", ""),
                                    via=f"command:{ctx.key_id}")
        except MaintenanceError as exc:
            raise CommandFailed("failed", str(exc)) from None
        return {"trail_n": rec["n"], "hash": rec["hash"]}

    def end(args: dict[str, Any], ctx: CommandContext) -> dict[str, Any]:
        try:
            rec = maintenance.end(args.get("work_done", ""), via=f"command:{ctx.key_id}")
        except MaintenanceError as exc:
            raise CommandFailed("failed", str(exc)) from None
        return {"trail_n": rec["n"], "hash": rec["hash"]}

    diagnostics.add_provider("alarms", lambda: {"active": [
        {"alarm_id": a.alarm_id, "kind": a.kind, "source": a.source, "severity": a.severity,
         "acked": a.acked} for a in alarms.active()]})
    diagnostics.add_provider("thresholds", thresholds.snapshot)
    diagnostics.add_provider("maintenance", lambda: {"active": maintenance.active,
                                                     "technician": maintenance.technician})
    table.register("alarm.ack", ack, {"alarm_id": Param(str)})
    table.register("alarm.clear", clear, {"alarm_id": Param(str)})
    table.register("diag.snapshot", snapshot, {})
    table.register("detector.set_threshold", set_threshold, {
        "detector": Param(str), "name": Param(str), "value": Param(float)})
    table.register("maintenance.start", start, {"technician": Param(str),
                                                "note": Param(str, required=False)})
    table.register("maintenance.end", end, {"work_done": Param(str, required=False)})
