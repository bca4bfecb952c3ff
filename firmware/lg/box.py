"""The box's loop on the board: one `step()` polls, analyses, decides and sends.

Every part is injected (main.py builds them from board.py), so the same loop runs on the
board, in tests under MicroPython with the fake machine module, and under CPython against
the virtual elevator and a real broker. Time: `clock.ticks_us()` for scheduling (monotonic),
`clock.time()` for timestamps.
"""

from lg import payloads, registers
from lg.events import EventEngine
from lg.features import WelchPSD, vibration_features
from lg.severity import NoiseJudge, Tracker

# the controller readings the Pi publishes as `controller` telemetry (agent/runtime/agent.py)
TELEMETRY_READINGS = ("speed_mps", "floor", "position_m", "load_pct", "current_a", "dc_bus_v",
                      "output_hz", "heatsink_c", "car_state", "mode", "fault_code", "direction",
                      "door_open_limit", "door_close_limit", "door_open_cmd", "door_close_cmd")

TYPE_CHECKING = False
if TYPE_CHECKING:  # mypy only; MicroPython has no typing module
    from typing import Any


class Box:
    def __init__(self, cfg, profile, master, outbox, uplink, alarms, clock, accel=None,
                 mic=None, baseline=None, verifier=None, wdt=None, use_ulab=True):
        self.cfg, self.profile, self.master = cfg, profile, master
        self.outbox, self.uplink, self.alarms, self.clock = outbox, uplink, alarms, clock
        self.accel, self.mic, self.baseline = accel, mic, baseline
        self.verifier, self.wdt = verifier, wdt
        self.engine = EventEngine(profile, cfg.get("events"))
        a = cfg["accel"]
        n = a["fft_n"]
        self.frames_wanted = a["frames"]
        from array import array

        from lg.adxl345 import SCALE

        self.welch = WelchPSD(n, a["odr_hz"], channels=3, use_ulab=use_ulab, scale=SCALE,
                              counts=True)
        self.xyz = [array("h", bytes(2 * n)) for _ in range(3)]  # raw counts: half of floats
        if mic is not None and mic.fft is None and mic.samples == n:
            mic.fft = self.welch.fft  # one FFT plan (tables, buffers) for both sensors
            if mic.fft.ulab:
                mic.window = self.welch.window  # and one Hann window
        self.fill = 0
        self.poll_us = int(cfg["controller"]["poll_s"] * 1e6)
        self.telemetry_us = int(cfg["telemetry_s"] * 1e6)
        self.state_us = int(cfg.get("state_s", 60.0) * 1e6)  # the Pi's state_period_s
        self.t0 = clock.ticks_us()
        self.heartbeat_us = int(cfg["mqtt"].get("heartbeat_s", 60.0) * 1e6)  # the Pi's uplink
        self.next_poll = self.next_telemetry = self.next_state = self.next_heartbeat = self.t0
        self.beat_connects = 0
        self.tracker = Tracker(cfg["detectors"])
        self.noise = NoiseJudge(cfg["detectors"])
        self.sound_moving = False  # the last sound block was heard with the car at speed
        self.readings = {}
        self.features = {}
        self.sound = None
        self.segment_speeds = []
        self.stats = {"polls": 0, "poll_errors": 0, "segments": 0, "accel_samples": 0,
                      "audio_samples": 0}
        self.next_tick = self.t0
        self.commands = None
        self.maintenance: Any = None
        # Rule alarms restored from flash belong to a rule engine that no longer exists: the
        # new one re-raises those whose cause persists (the same alarm, de-duplicated), the
        # others are cleared once every rule has had its longest timer plus the clear time
        # to raise again (agent/runtime/agent.py does the same).
        self.restored = [k for k in alarms.active if k[1].startswith("controller")]
        ev = self.engine.s
        self.reconcile_at = max(v for k, v in ev.items() if k.endswith("_s")
                                and isinstance(v, (int, float))) + ev["clear_s"] + 1.0
        if verifier is not None:
            self._commands(verifier)

    def _commands(self, verifier) -> None:
        """The Pi's command set (lg/builtin.py): alarms, thresholds, maintenance, snapshot."""
        from lg.builtin import Commands, Thresholds
        from lg.trail import Maintenance, Trail

        th = Thresholds()
        d = self.cfg["detectors"]
        for name in ("warning_score", "critical_score"):  # agent/runtime/agent.py's bounds
            th.register("wear", name, 1.0, 100.0, d[name],
                        lambda v, name=name: d.__setitem__(name, v))
        trail = Trail("trail.jsonl", self.outbox.fs, self.clock)
        self.maintenance = Maintenance(trail, self.event)
        self.alarms.observer = self.maintenance.on_alarm
        self.commands = Commands(verifier, self.alarms, self.maintenance, th, self.outbox,
                                 self.clock, self.snapshot)
        if self.uplink is not None:
            self.uplink.on_command = self.commands.handle

    def now_s(self) -> float:
        return self.clock.ticks_diff(self.clock.ticks_us(), self.t0) / 1e6

    def step(self) -> None:
        for _ in self.work():
            pass

    def work(self):
        """One turn of the loop as a sequence of units (a generator): `step()` runs them all;
        the heap benchmark runs each unit as its own call to measure the heap between them."""
        c = self.clock
        now = c.ticks_us()
        if c.ticks_diff(now, self.next_poll) >= 0:
            self.next_poll = now + self.poll_us
            self.poll()
            yield "poll"
        if self.accel is not None:
            yield from self.sample_vibration()
        if c.ticks_diff(now, self.next_tick) >= 0:
            self.next_tick = now + 1000000  # re-sends are due in minutes: once a second is plenty
            if self.alarms.tick():
                yield "resend"
        if c.ticks_diff(now, self.next_telemetry) >= 0:
            self.next_telemetry = now + self.telemetry_us
            if self.mic is not None:
                got = self.mic.capture()
                self.stats["audio_samples"] += got
                self.sound = self.mic.level_a() if got == self.mic.samples else None
                self.sound_moving = self.moving()
                yield "sound"
            self.telemetry()
            yield "telemetry"
        if c.ticks_diff(now, self.next_state) >= 0:
            self.next_state = now + self.state_us
            self.state()
            yield "state"
        up = self.uplink
        if up is not None and up.connected and (c.ticks_diff(now, self.next_heartbeat) >= 0
                                                or up.stats["connects"] != self.beat_connects):
            # as the Pi's uplink: while online, at once after each connect, then periodically
            self.next_heartbeat = now + self.heartbeat_us
            self.beat_connects = up.stats["connects"]
            self.heartbeat()
            yield "heartbeat"
        if self.uplink is not None:
            self.uplink.step(self.now_s())
            yield "uplink"
        if self.wdt is not None:
            self.wdt.feed()  # only a loop that completed a turn keeps the board alive

    def poll(self) -> None:
        readings, error = registers.poll(self.profile, self.master)
        self.stats["polls"] += 1
        if error is not None:
            self.stats["poll_errors"] += 1
        self.readings = readings
        t = self.now_s()
        for ch in self.engine.update(t, readings, error is None,
                                     getattr(error, "kind", None) if error else None):
            self.on_event(ch)
        if self.restored and t >= self.reconcile_at and self.engine.failed == 0:
            for kind, source in self.restored:
                if self._active_event(kind, source) is None:
                    self.alarms.clear(kind, source)
            self.restored = []

    def _active_event(self, kind: str, source: str):
        for key, ev in self.engine.active.items():
            if ev["code"] == kind and ("controller:" + key.split(":", 1)[1]
                                       if ":" in key else "controller") == source:
                return ev
        return None

    def on_event(self, ch: dict) -> None:
        """An event start/end: an `event` message, and the alarm the Pi agent would raise
        for it (agent/runtime/agent.py: kind = event code, source "controller[:suffix]")."""
        sev = ch["severity"]
        body = payloads.envelope("event", self.clock.time(), kind=ch["code"],
                                 severity={"critical": "critical", "info": "info"}.get(
                                     sev, "warning"),
                                 detail={"edge": ch["edge"], "key": ch["key"],
                                         "details": ch["details"]})
        self.outbox.put("event", body)
        kind = ch["code"]
        key = ch["key"]
        source = "controller:" + key.split(":", 1)[1] if ":" in key else "controller"
        if (kind, source) in self.restored:
            self.restored.remove((kind, source))
        if ch["edge"] == "start":
            evidence = {k: v for k, v in ch["details"].items() if v is not None}
            self.alarms.raise_(kind, source, sev, evidence)
        else:
            self.alarms.clear(kind, source)

    def sample_vibration(self):
        x, y, z = self.xyz
        got = self.accel.drain(x, y, z, self.fill, raw=True)
        self.fill += got
        self.stats["accel_samples"] += got
        yield "drain"
        if self.fill < len(x):
            return
        self.fill = 0
        if not self.moving():
            self.welch.reset()  # features are defined at constant speed (trip cruise)
            self.segment_speeds = []
            return
        for ch in (x, y, z):
            self.welch.add(ch)
            yield "fft"
        self.segment_speeds.append(abs(self.readings["speed_mps"]))  # moving(): present
        if len(self.segment_speeds) >= self.frames_wanted:
            v = sum(self.segment_speeds) / len(self.segment_speeds)
            self.features = vibration_features(self.welch, v, self.cfg["lift"])
            self.stats["segments"] += 1
            self.welch.reset()
            self.segment_speeds = []
            yield "features"
            self.judge(v)

    def moving(self) -> bool:
        """At constant speed, where features are defined (trip cruise)."""
        speed = self.readings.get("speed_mps")
        return speed is not None and abs(speed) >= 0.5 * self.cfg["lift"]["rated_speed_mps"]

    def judge(self, speed: float) -> None:
        """A segment is the board's trip: its wear findings and the noise heard during it
        become alarms and one `wear` telemetry message, as the Pi's WearStage.absorb and
        Agent._on_findings do after a trip."""
        values: dict = {"trips": self.stats["segments"], "learning": self.baseline is None}
        if self.baseline is not None:
            for kind, (z, name) in self.baseline.scores(self.features, speed).items():
                sev, level, drifting = self.tracker.update(kind, z)
                self._finding(values, kind, sev, level, {
                    "feature": name, "score": round(z, 2), "level": round(level, 2),
                    "drifting": drifting, "speed_mps": round(speed, 3)})
        if self.sound is not None and self.sound_moving:
            sev, score, ev = self.noise.update(self.sound, True)
            self.sound = None  # one judgement per block heard
            self._finding(values, "noise_level", sev, score, ev)
        self.outbox.put("telemetry", payloads.envelope("telemetry", self.clock.time(),
                                                       kind="wear", values=values))

    def _finding(self, values: dict, kind: str, sev: str, score: float, ev: dict) -> None:
        values[kind + ".score"] = round(score, 2)
        values[kind + ".severity"] = sev
        if sev == "normal":
            self.alarms.clear(kind, "detectors")
            return
        a = self.alarms.get(kind, "detectors")
        if a is None or a["severity"] != sev:
            # A segment is seconds long, not a trip: an update per new score would wear the
            # flash; the alarm changes when its severity does.
            self.alarms.raise_(kind, "detectors", sev, ev)

    def telemetry(self) -> None:
        """`controller` telemetry: the readings of the last poll, as the Pi's."""
        r = self.readings
        values = {k: r[k] for k in TELEMETRY_READINGS
                  if isinstance(r.get(k), (int, float, str, bool))}
        if values:
            self.outbox.put("telemetry", payloads.envelope("telemetry", self.clock.time(),
                                                           kind="controller", values=values))

    def state(self) -> None:
        """`state` telemetry: the Pi's health summary and counters (Agent.state_values) with
        what the board has; the parts it lacks (no sample queues between threads) are left
        out, the schema allows any values."""
        polls, failed = self.stats["polls"], self.stats["poll_errors"]
        up = self.uplink
        parts = {"controller": "degraded" if self.engine.comm_lost else "ok",
                 "accel": "off" if self.accel is None else "ok",
                 "audio": "off" if self.mic is None else "ok",
                 "uplink": "ok" if up is None or up.connected else "degraded",
                 "storage": "degraded" if len(self.outbox) >= self.outbox.max else "ok"}
        values: dict = {"health": "degraded" if "degraded" in parts.values() else "ok"}
        values.update(parts)
        values.update({
            "uptime_s": round(self.now_s(), 1), "active_alarms": len(self.alarms.active),
            "maintenance": self.maintenance.active if self.maintenance is not None else False,
            "polls": polls, "polls_failed": failed, "trips": self.stats["segments"],
            "baseline": "learning" if self.baseline is None else "ready",
            "accel_samples": self.stats["accel_samples"],
            "audio_samples": self.stats["audio_samples"]})
        self.outbox.put("telemetry", payloads.envelope("telemetry", self.clock.time(),
                                                       kind="state", values=values))

    def heartbeat(self) -> None:
        """`heartbeat` telemetry: the outbox and link health the Pi's uplink reports
        (agent/uplink/client.py); the board counts messages, not bytes, so the storage byte
        figures are left out."""
        ob, up = self.outbox, self.uplink
        assert up is not None  # only composed while online
        durable = sum(1 for _, alarm in ob.index if alarm)
        values = {"uptime_s": round(self.now_s(), 1), "outbox_durable": durable,
                  "telemetry_queued": len(ob) - durable,
                  "telemetry_dropped": ob.dropped + ob.evicted,
                  "degraded": durable >= ob.max,
                  "connects": up.stats["connects"],
                  "protocol": "mqtt-3.1.1"}
        self.outbox.put("telemetry", payloads.envelope("telemetry", self.clock.time(),
                                                       kind="heartbeat", values=values))

    def event(self, kind: str, severity: str, detail: dict) -> None:
        self.outbox.put("event", payloads.envelope("event", self.clock.time(), kind=kind,
                                                   severity=severity, detail=detail))

    def snapshot(self) -> dict:
        """diag.snapshot: the providers the Pi's snapshot has that the board can fill."""
        ob, up = self.outbox, self.uplink
        m = self.maintenance
        return {
            "alarms": {"active": [
                {"alarm_id": a["alarm_id"], "kind": a["kind"], "source": a["source"],
                 "severity": a["severity"], "acked": a["acked"]}
                for a in sorted(self.alarms.active.values(),
                                key=lambda a: (a["raised_at"], a["alarm_id"]))]},
            "thresholds": self.commands.thresholds.snapshot() if self.commands else {},
            "maintenance": {"active": m.active, "technician": m.technician},
            "outbox": {"pending": len(ob), "dropped": ob.dropped, "evicted": ob.evicted,
                       "corrupt": ob.corrupt},
            "uplink": {"online": up is not None and up.connected, "protocol": "mqtt-3.1.1",
                       "connects": up.stats["connects"] if up is not None else 0},
            "features": dict(self.features),
            "controller": {"polls": self.stats["polls"], "poll_errors": self.stats["poll_errors"]},
        }
