"""The commands the board understands: the Pi's set (agent/commands/builtin.py), with the
Pi's argument checks, bounds, result statuses and reasons, and its rate limit on answers to
rejected commands (agent/commands/processor.py).

| command | args | effect |
|---|---|---|
| alarm.ack | alarm_id | stop the alarm's re-sends (it stays active) |
| alarm.clear | alarm_id | end the alarm (a technician's remote reset) |
| diag.snapshot | - | current features and box health |
| detector.set_threshold | detector, name, value | change a threshold within its bounds |
| maintenance.start | technician, note? | check-in: open a visit on the trail |
| maintenance.end | work_done? | check-out: close the visit |

Every command gets one `cmd/result` in the outbox: `ok`, `rejected` (failed verification,
unknown command or bad arguments; nothing was done) or `failed` (accepted, the handler could
not do it; the counter is spent).
"""

import math

from lg import payloads
from lg.alarms import AlarmNotFound
from lg.commands import Rejected
from lg.trail import MaintenanceError

DETAIL_MAX = 500
REJECTIONS_PER_WINDOW = 30  # ETSI EN 303 645 provision 5.9, as the Pi: no flooding the flash
WINDOW_S = 60.0
# name -> {arg: (types, required)}, as agent/commands/builtin.py registers them
PARAMS: dict = {
    "alarm.ack": {"alarm_id": ((str,), True)},
    "alarm.clear": {"alarm_id": ((str,), True)},
    "diag.snapshot": {},
    "detector.set_threshold": {"detector": ((str,), True), "name": ((str,), True),
                               "value": ((float, int), True)},
    "maintenance.start": {"technician": ((str,), True), "note": ((str,), False)},
    "maintenance.end": {"work_done": ((str,), False)},
}


class Failed(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def check_args(name: str, args: dict) -> None:
    params = PARAMS.get(name)
    if params is None:
        raise Failed("unknown_command", f"unknown command {name!r}; known: "
                     + ", ".join(sorted(PARAMS)))
    extra = sorted(a for a in args if a not in params)
    if extra:
        raise Failed("bad_args", f"{name}: unknown argument(s) {', '.join(extra)}")
    for arg, (types, required) in params.items():
        if arg not in args:
            if required:
                raise Failed("bad_args", f"{name}: missing argument {arg!r}")
            continue
        v = args[arg]
        if isinstance(v, bool) or not isinstance(v, types):
            raise Failed("bad_args", f"{name}: argument {arg!r} = {v!r} has the wrong type")


class Thresholds:
    """Thresholds a command may change, each within bounds it may never leave."""

    def __init__(self) -> None:
        self.items: dict = {}  # (detector, name) -> [lo, hi, value, apply]

    def register(self, detector: str, name: str, lo: float, hi: float, value: float,
                 apply=None) -> None:
        self.items[(detector, name)] = [lo, hi, float(value), apply]

    def set(self, detector: str, name: str, value: float) -> tuple:
        t = self.items.get((detector, name))
        if t is None:
            raise Failed("bad_args", f"no threshold {detector}.{name}")
        lo, hi, old, apply = t
        if not math.isfinite(value) or not lo <= value <= hi:
            raise Failed("bad_args", f"{detector}.{name} = {value}: outside bounds "
                         f"[{lo}, {hi}]; kept {old}")
        if apply is not None:
            apply(value)
        t[2] = value
        return old, value

    def snapshot(self) -> dict:
        return {f"{d}.{n}": {"value": t[2], "lo": t[0], "hi": t[1]}
                for (d, n), t in self.items.items()}


class Commands:
    def __init__(self, verifier, alarms, maintenance, thresholds: Thresholds, outbox, clock,
                 diagnostics) -> None:
        self.verifier, self.alarms, self.maintenance = verifier, alarms, maintenance
        self.thresholds, self.outbox, self.clock = thresholds, outbox, clock
        self.diagnostics = diagnostics  # fn() -> dict: the box's snapshot providers
        self.window_start = -1e30
        self.rejections = self.suppressed = 0

    def event(self, kind: str, severity: str, detail: dict) -> None:
        self.outbox.put("event", payloads.envelope("event", self.clock.time(), kind=kind,
                                                   severity=severity, detail=detail))

    def handle(self, raw: bytes) -> dict:
        """One received command -> the result it queued ({} for a rejection left unanswered
        by the rate limit)."""
        try:
            cmd_id, name, args, key_id, _ = self.verifier.verify(raw, self.clock.time())
        except Rejected as rej:
            if not self._may_answer_rejection():
                return {}
            return self._answer(rej.cmd_id, rej.command, "rejected", rej.reason, rej.detail,
                                {})
        try:
            check_args(name, args)
            result = self.run(name, args, key_id)
        except Failed as exc:
            status = "rejected" if exc.reason in ("unknown_command", "bad_args") else "failed"
            return self._answer(cmd_id, name, status, exc.reason, exc.detail, {})
        except Exception as exc:  # a handler bug is a `failed` answer, not a dead loop
            return self._answer(cmd_id, name, "failed", "failed",
                                f"{type(exc).__name__}: {exc}", {})
        return self._answer(cmd_id, name, "ok", "ok", "", result)

    def run(self, name: str, args: dict, key_id: str) -> dict:
        by = "key:" + key_id
        if name in ("alarm.ack", "alarm.clear"):
            try:
                if name == "alarm.ack":
                    a = self.alarms.ack(args["alarm_id"], by)
                    return {"alarm_id": a["alarm_id"], "acked": a["acked"]}
                a = self.alarms.clear_id(args["alarm_id"], by)
                return {"alarm_id": a["alarm_id"], "state": a["state"]}
            except AlarmNotFound as exc:
                raise Failed("failed", str(exc)) from None
        if name == "diag.snapshot":
            return self.diagnostics()
        if name == "detector.set_threshold":
            try:
                old, new = self.thresholds.set(args["detector"], args["name"],
                                               float(args["value"]))
            except Failed:
                raise
            except Exception as exc:
                raise Failed("failed", f"{args['detector']}.{args['name']}: detector refused "
                             f"{args['value']}: {exc}") from None
            detail = {"detector": args["detector"], "name": args["name"], "old": old,
                      "new": new, "by": by}
            self.event("threshold_changed", "info", detail)
            return detail
        try:
            if name == "maintenance.start":
                rec = self.maintenance.start(args["technician"], args.get("note", ""),
                                             "command:" + key_id)
            else:
                rec = self.maintenance.end(args.get("work_done", ""), "command:" + key_id)
        except MaintenanceError as exc:
            raise Failed("failed", str(exc)) from None
        return {"trail_n": rec["n"], "hash": rec["hash"]}

    def _may_answer_rejection(self) -> bool:
        now = self.clock.time()
        if now - self.window_start >= WINDOW_S:
            if self.suppressed:
                self.event("commands_suppressed", "warning",
                           {"rejected_unanswered": self.suppressed, "window_s": WINDOW_S})
            self.window_start, self.rejections, self.suppressed = now, 0, 0
        self.rejections += 1
        if self.rejections > REJECTIONS_PER_WINDOW:
            self.suppressed += 1
            return False
        return True

    def _answer(self, cmd_id, command, status: str, reason: str, detail: str,
                result: dict) -> dict:
        body = payloads.envelope("cmd/result", self.clock.time(), cmd_id=cmd_id,
                                 command=command, status=status, reason=reason,
                                 detail=detail[:DETAIL_MAX], result=result)
        self.outbox.put("cmd/result", body)
        return body
