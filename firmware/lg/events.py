"""The board's event engine: polls in, event starts and ends out (agent/events/engine.py).

`update(t, readings, ok)` returns a list of changes, each a dict
{"edge": "start"|"end", "key", "code", "severity", "started", "t", "details"}; `active` holds
the events in progress by key. Fault codes go through the compact profile's fault table
({"14": [code, severity, event, text, causes]}): every non-zero code is a controller_fault with the
table's severity, and a code whose entry names another event raises that event too.
"""

import json

from lg import rules


class EventEngine:
    def __init__(self, profile=None, settings=None, on_backup=None):
        s: dict = rules.defaults()
        if settings:
            for k in settings:
                if k not in s:
                    raise ValueError(f"events: unknown setting {k!r}")
                s[k] = settings[k]
        self.s = s
        self.profile = profile
        self.on_backup = on_backup or (lambda: False)
        # A list, not a dict: MicroPython's dict does not keep insertion order, and events
        # that change in one poll are reported in this order (as the Pi engine does).
        timers = (
            ("trapped_at_floor", s["trapped_at_floor_s"]),
            ("trapped_between_floors", s["trapped_between_floors_s"]),
            ("stopped_outside_door_zone", s["stopped_outside_door_zone_s"]),
            ("door_open_while_running", s["door_open_while_running_s"]),
            ("overspeed:1", s["overspeed_s"]), ("overspeed:2", s["overspeed_s"]),
            ("top_overrun", s["overrun_s"]), ("bottom_overrun", s["overrun_s"]),
            ("safety_circuit_open", s["safety_circuit_s"]),
            ("door_fault", 0.0), ("power_loss", 0.0),
        )
        self.order = [k for k, _ in timers]
        # Stationary-car timers pause over a poll gap instead of restarting (agent/events/
        # engine.py PAUSE_ON_GAP): what ends them unseen reads False at the next good poll,
        # and restarting would let an intermittent bus hold back a trapped-passenger alarm.
        pause = ("trapped_at_floor", "trapped_between_floors", "stopped_outside_door_zone")
        self.latches = {k: rules.Latch(v, s["clear_s"], s["gap_bridge_s"], k in pause)
                        for k, v in timers}
        self.door_stuck = rules.Latch(s["door_timeout_s"], 0.0, s["gap_bridge_s"])
        self.fault_latches: dict = {}
        self.fault_order: list = []
        self._faults_seen: dict = {}
        self.active: dict = {}
        self.failed = self.good = 0
        self.comm_lost = False

    def update(self, t, r, ok=True, error=None):
        changes: list = []
        self._comm(t, r, ok, error, changes)
        fault_events = self._faults(r, t, changes)

        def fault_says(code):
            return None if fault_events is None else code in fault_events

        s = self.s
        car = rules.Car(r, s)
        rated = float(r.get("rated_speed_mps") or s["rated_speed_mps"])
        opening = rules.all3(car.open_cmd, rules.not3(car.open_limit))
        closing = rules.all3(car.close_cmd, rules.not3(car.close_limit))
        door_stuck = rules.any3(opening, closing)
        self.door_stuck.update(door_stuck, t)
        stuck = None if door_stuck is None else self.door_stuck.active
        conds = rules.conditions(car, r, s, rated, self.latches, fault_says, stuck,
                                 self.comm_lost and self.on_backup())
        for key in self.order:
            self._step(key, self.latches[key], conds[key], t, r, changes)
        return changes

    def _comm(self, t, r, ok, error, changes):
        if r or ok:
            self.good += 1
            self.failed = 0
        else:
            self.failed += 1
            self.good = 0
        if not self.comm_lost and self.failed >= self.s["comm_lost_polls"]:
            self.comm_lost = True
            ev = {"key": "comm_lost", "code": "comm_lost", "severity": "major", "started": t,
                  "details": {"error": error, "failed_polls": self.failed}}
            self.active["comm_lost"] = ev
            changes.append(dict(ev, edge="start", t=t))
        elif self.comm_lost and self.good >= self.s["comm_recover_polls"]:
            self.comm_lost = False
            self._end("comm_lost", t, changes)

    def _faults(self, r, t, changes):
        p = self.profile
        if p is None or not p.get("fault_register"):
            return set()
        raw = r.get(p["fault_register"])
        if raw is None:
            for latch in self.fault_latches.values():
                latch.update(None, t)
            return None
        code = int(raw)
        if code and code not in self.fault_latches:
            self.fault_latches[code] = rules.Latch(self.s["controller_fault_s"], self.s["clear_s"],
                                                   self.s["gap_bridge_s"])
            self.fault_order.append(code)
        for number in self.fault_order:  # first-seen order, as the Pi engine's dict
            latch = self.fault_latches[number]
            info = self._fault(number)
            self._step("controller_fault:" + info[0], latch, number == code, t, r, changes,
                       number, info)
        return {self._fault(code)[2]} if code else set()

    def _fault(self, number):
        """(code, severity, event, text, causes); numbers not in the table are major.
        The table stays on flash (profile["faults_file"]) and only the codes that occur are
        kept in RAM: a fault table with texts is larger than the rest of the profile."""
        info = self._faults_seen.get(number)
        if info is not None:
            return info
        table = self.profile.get("faults")
        if table is None and self.profile.get("faults_file"):
            with open(self.profile["faults_file"]) as f:
                table = json.loads(f.read())
        entry = (table or {}).get(str(number))
        info = tuple(entry) if entry else None
        if info is not None:
            self._faults_seen[number] = info
            return info
        return (f"E{number:02d}", "major", "controller_fault",
                "fault not in this profile's table", "")

    def _step(self, key, latch, cond, t, r, changes, number=None, info=None):
        edge = latch.update(cond, t)
        if edge == "start":
            code = key.split(":")[0]
            severity = "critical" if key == "overspeed:2" else rules.SEVERITY[code]
            details = {k: r[k] for k in rules.SNAPSHOT if k in r}
            if code == "overspeed":
                lvl = "overspeed_level2" if key.endswith("2") else "overspeed_level1"
                details["level"] = self.s[lvl]
            if info is not None:
                severity = info[1]
                details["fault_number"] = number
                details["fault"] = info[0]
                details["text"] = info[3]
                details["causes"] = info[4]
            ev = {"key": key, "code": code, "severity": severity, "started": t,
                  "details": details}
            self.active[key] = ev
            changes.append(dict(ev, edge="start", t=t))
        elif edge == "end":
            self._end(key, t, changes)

    def _end(self, key, t, changes):
        ev = self.active.pop(key, None)
        if ev is not None:
            changes.append(dict(ev, edge="end", t=t))
