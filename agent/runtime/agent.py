"""The agent: every configured part wired together, and the runtime loop that drives them.

See agent/runtime/__init__.py for the threads and queues. This module builds the parts from
a validated config (`Agent.from_config`) and runs the loop (`Agent.run`) until a stop is
requested; `liftguard run` (agent/run_cli.py) adds signals, logging and systemd.
"""

from __future__ import annotations

import functools
import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.alarms import Transition
from agent.detectors.baseline import Baseline
from agent.detectors.geometry import LiftGeometry
from agent.detectors.settings import settings_from_section
from agent.detectors.severity import Thresholds
from agent.detectors.tracker import WearTracker
from agent.events.engine import EventChange, EventEngine
from agent.events.settings import EventSettings
from agent.runtime.health import HealthBoard, led_pattern
from agent.runtime.parts import AnalysisWorker, ControllerPart, ReplayPoller, SensorPump
from agent.runtime.queues import DropOldestQueue
from agent.runtime.site_calibration import SiteCalibration
from agent.runtime.wear import WearFinding, WearStage
from agent.systemd import SystemdNotifier
from agent.uplink.pipeline import AlarmPipeline
from calibration.loader import CalibrationLoader
from drivers.blocks import SampleBlock
from drivers.controller.sample import ControllerSample

log = logging.getLogger("liftguard.runtime")

LOOP_PERIOD_S = 0.05  # 20 Hz: GPIO LED and buzzer patterns need >= 20 Hz (drivers/gpio/box.py)
HEALTH_PERIOD_S = 1.0
# Rule severities (agent/events/rules.py, profiles' fault tables) onto the alarm vocabulary.
ALARM_SEVERITY = {"critical": "critical", "major": "warning", "minor": "warning",
                  "warning": "warning", "info": "info"}
TELEMETRY_READINGS = ("speed_mps", "floor", "position_m", "load_pct", "current_a", "dc_bus_v",
                      "output_hz", "heatsink_c", "car_state", "mode", "fault_code", "direction",
                      "door_open_limit", "door_close_limit", "door_open_cmd", "door_close_cmd")


class Agent:
    def __init__(self, cfg: Any, *, clock: Callable[[], float] = time.monotonic,
                 notifier: SystemdNotifier | None = None) -> None:
        self.cfg = cfg
        self.rt = cfg["runtime"]
        self.clock = clock
        self.notifier = notifier or SystemdNotifier({})
        self.started_at = clock()
        self.loop_progress = clock()
        self.last_sample: ControllerSample | None = None
        self._offline_since: float | None = None
        self.polls_failed = 0
        self._first_poll_logged = False
        self._closers: list[Callable[[], None]] = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    # -- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        from drivers.accel import open_accel
        from drivers.controller.client import ControllerClient, LinkSettings
        from drivers.controller.poller import Poller
        from drivers.controller.profile import load_profile
        from drivers.gpio import open_pin_factory
        from drivers.gpio.box import BoxGpio
        from drivers.noise import open_noise

        cfg, rt = self.cfg, self.rt
        self.pipeline = AlarmPipeline.from_config(cfg)
        self._closers.append(self.pipeline.stop)
        self.health = HealthBoard(self.pipeline.publish_event, self.clock)

        factory = open_pin_factory(cfg["gpio"], self.clock)
        self.gpio = BoxGpio.from_config(cfg["gpio"], factory) if factory is not None else None
        if self.gpio is not None:
            self._closers.append(self.gpio.close)
        c = cfg["controller"]
        de_pin = None
        if c["direction"] == "gpio" and factory is not None and c["de_pin"] >= 0:
            de_pin = factory.output(c["de_pin"])
        self.profile = load_profile(c["profile"])
        self.client: ControllerClient | None = None
        poller: Poller | ReplayPoller
        in_step: dict[str, Any] = {}  # [accel]/[noise] replays of the controller's session
        if c["backend"] == "replay":
            poller, in_step = self._controller_replay(c)
        else:
            self.client = ControllerClient(LinkSettings.from_config(c), de_pin=de_pin,
                                           clock=self.clock)
            self._closers.append(self.client.close)
            poller = Poller(self.client, self.profile, period_s=c["poll_period_s"],
                            device_id=c["device_id"], clock=self.clock)
        self.samples: DropOldestQueue[ControllerSample] = DropOldestQueue(rt["queue_samples"])
        self.controller = ControllerPart(poller, self.samples, self.clock)
        self._closers.append(self.controller.stop)

        accel = in_step.get("accel") or open_accel(cfg["accel"], self.clock)
        noise = in_step.get("noise") or open_noise(cfg["noise"], self.clock,
                                                   controller_client=self.client)
        sources = [s for s in (accel, noise) if s is not None]
        self.blocks: DropOldestQueue[tuple[float, SampleBlock]] = DropOldestQueue(
            rt["queue_blocks"])
        self.sensors = SensorPump(sources, self.blocks, self.clock)
        self._closers.append(self.sensors.stop)

        ev = EventSettings.from_config(cfg["events"], cfg["lift"])
        self.events = EventEngine(self.profile, ev)
        # Rule alarms restored from the outbox after a restart (or a kill -9) belong to a rule
        # engine that no longer exists. The new engine re-raises those whose cause persists
        # (the same alarm, de-duplicated); the others are cleared once every rule has had its
        # longest timer plus the clear time to raise again.
        self.restored = {a.key for a in self.pipeline.alarms.active()
                         if a.source.startswith("controller")}
        timers = [v for k, v in vars(ev).items() if k.endswith("_s") and isinstance(v, float)]
        self.reconcile_at = self.started_at + max(timers) + ev.clear_s + 1.0
        self._build_wear()
        for src in in_step.values():
            # stamped on the trace's clock like the rows (drivers/replay/timeline.py)
            self.wear.rings[src.stream].pin(0.0, src.ends_at)
        self.analysis = AnalysisWorker(self.clock)
        self._closers.append(self.analysis.stop)

        self.pipeline.alarms.add_observer(self._on_alarm)
        self.pipeline.diagnostics.add_provider("health", self.health.values)
        self.pipeline.diagnostics.add_provider("detectors", self.wear.summary)
        self.pipeline.uplink.add_heartbeat_source(lambda: {"health": self.health.overall})

    def _controller_replay(self, c: Any) -> tuple[ReplayPoller, dict[str, Any]]:
        """A recorded controller trace in place of the bus (a field capture on the bench),
        and the [accel]/[noise] session recordings that play in step with it."""
        from agent.errors import ConfigError
        from drivers.replay.open import open_replays

        if not c["replay_file"]:
            raise ConfigError("controller.replay_file is required for backend = 'replay'")
        replay, in_step = open_replays(c, {n: self.cfg[n] for n in ("accel", "noise")},
                                       self.clock)
        self._closers.append(replay.close)
        return ReplayPoller(replay, c["poll_period_s"], c["replay_realtime"]), in_step

    def _build_wear(self) -> None:
        d, lift = self.cfg["detectors"], self.cfg["lift"]
        settings = settings_from_section(d)
        geometry = LiftGeometry(lift["roping"], lift["sheave_diameter_m"], lift["rope_strands"],
                                lift["rope_lay_length_m"], lift["rated_speed_mps"])
        baseline_path = Path(d["baseline"]) if d["baseline"] else None
        self.calibration = SiteCalibration(CalibrationLoader.from_config(self.cfg), self.pipeline)
        cal = self.calibration.load()
        baseline = cal.baseline if cal is not None else None  # the lift's own, when calibrated
        if baseline is None and baseline_path is not None and baseline_path.exists():
            baseline = Baseline.load(baseline_path)
        state_path = Path(d["state"]) if d["state"] else None
        tracker = (WearTracker.load(state_path, settings.thresholds, d["trend_alpha"])
                   if state_path is not None else
                   WearTracker(settings.thresholds, d["trend_alpha"]))
        self.wear = WearStage(geometry, settings, baseline=baseline, baseline_path=baseline_path,
                              learn_trips=self.rt["baseline_trips"], tracker=tracker,
                              state_path=state_path, keep_s=self.rt["sensor_buffer_s"])
        th = self.pipeline.thresholds
        for name, value in (("warning_score", d["warning_score"]),
                            ("critical_score", d["critical_score"])):
            th.register("wear", name, lo=1.0, hi=100.0, value=value,
                        apply=functools.partial(self._set_wear_threshold, name))
        self.calibration.apply(cal, th)

    def _set_wear_threshold(self, name: str, value: float) -> None:
        """Command thread: a new Thresholds object is swapped in whole (atomic in CPython)."""
        tracker = self.wear.tracker
        old = tracker.thresholds
        new = Thresholds(value if name == "warning_score" else old.warning,
                         value if name == "critical_score" else old.critical,
                         old.release, old.confirm, old.clear)
        tracker.thresholds = new
        for latch in list(tracker.latches.values()):
            latch.thresholds = new

    # -- running -------------------------------------------------------------------------------

    def start(self) -> None:
        self.pipeline.start()
        self.analysis.start()
        self.controller.start()
        self.sensors.start()
        self.health.set("controller", "ok")
        for src in self.sensors.sources:
            self.health.set(src.stream, "ok")
        for part in ("accel", "audio"):
            if part not in self.health.parts:
                self.health.set(part, "off")
        self.health.set("uplink", "ok")
        self.health.set("storage", "ok")

    def run(self, stop: threading.Event) -> None:
        """The runtime loop, until `stop` is set. Also handles start and shutdown."""
        self.start()
        c = self.cfg["controller"]
        self.notifier.ready(f"replaying {c['replay_file']}" if c["backend"] == "replay"
                            else f"polling {c['port']}")
        next_health = next_state = next_tele = self.clock()
        next_ping = self.clock()
        self.loop_progress = self.clock()
        try:
            while not stop.is_set():
                now = self.clock()
                self.step(now)
                if not self._first_poll_logged and self.controller.first_poll_at is not None:
                    self._first_poll_logged = True
                    # wall-clock time, so a supervisor (benchmarks/agent.py) can compare it
                    # with when it spawned the process
                    log.info("first controller poll done at unix time %.3f",
                             time.time() - (self.clock() - self.controller.first_poll_at))
                if now >= next_health:
                    self.check_health(now)
                    self.reload_files()
                    next_health = now + HEALTH_PERIOD_S
                if now >= next_state:
                    self.publish_state()
                    next_state = now + self.rt["state_period_s"]
                if now >= next_tele:
                    self._publish_readings()
                    next_tele = now + self.rt["telemetry_period_s"]
                self.loop_progress = now
                if self.notifier.watchdog_s and now >= next_ping:
                    if self.making_progress(now):
                        self.notifier.watchdog()
                    next_ping = now + self.notifier.watchdog_s / 2
                stop.wait(LOOP_PERIOD_S)
        finally:
            self.notifier.stopping()
            self.close()

    def step(self, now: float) -> None:
        """One turn of the loop: controller samples, sensor blocks, trip results, GPIO."""
        for sample in self.samples.drain():
            self.last_sample = sample
            self.polls_failed += not sample.ok
            for change in self.events.update(sample):
                self._on_event(change)
            for job in self.wear.feed(sample):
                self.analysis.submit(job)
        for received_at, block in self.blocks.drain():
            self.wear.add_block(self.calibration.correct(block), received_at)
        if self.restored and now >= self.reconcile_at and self.events.failed_polls == 0:
            self._reconcile_restored()
        for result in self.analysis.results.drain():
            findings = self.wear.absorb(result)
            self._on_findings(findings, result.trip.end)
        if self.gpio is not None:
            for ev in self.gpio.poll(now):
                self._on_button(ev)
            self.gpio.update(now)

    def reload_files(self) -> None:
        """Take up a baseline or calibration file written since the last look; a refused one
        is reported and the one in use stays."""
        from agent.errors import InputError

        try:
            if self.wear.reload_baseline():
                self.pipeline.publish_event("baseline_loaded", "info", {
                    "path": str(self.wear.baseline_path)})
        except InputError as exc:
            log.warning("baseline not loaded, keeping the one in use: %s", exc)
            self.pipeline.publish_event("baseline_rejected", "warning", {"error": str(exc)})
        cal = self.calibration.refresh(self.pipeline.thresholds)
        if cal is not None and cal.baseline is not None:
            self.wear.use_baseline(cal.baseline)

    def _reconcile_restored(self) -> None:
        active = set()
        for ev in self.events.active.values():
            active.add((ev.code, "controller" if ev.key == ev.code
                        else f"controller:{ev.key.split(':', 1)[1]}"))
        for kind, source in self.restored - active:
            log.info("alarm %s (%s) from before the restart: cause gone, clearing", kind, source)
            self.pipeline.alarms.clear(kind, source)
        self.restored = set()

    def making_progress(self, now: float) -> bool:
        """True while the loop and every producer thread moved within watchdog_stall_s."""
        limit = self.rt["watchdog_stall_s"]
        stamps = [self.loop_progress, self.controller.progress, self.analysis.progress]
        if self.sensors.sources:
            stamps.append(self.sensors.progress)
        return all(now - s <= limit for s in stamps)

    # -- events and findings to alarms -----------------------------------------------------------

    def _on_event(self, change: EventChange) -> None:
        ev = change.event
        source = "controller" if ev.key == ev.code else f"controller:{ev.key.split(':', 1)[1]}"
        alarms = self.pipeline.alarms
        self.restored.discard((ev.code, source))
        if change.edge == "start":
            evidence = {k: v for k, v in ev.details.items() if v is not None}
            alarms.raise_(ev.code, source, ALARM_SEVERITY.get(ev.severity, "warning"), evidence)
        else:
            alarms.clear(ev.code, source)

    def _on_findings(self, findings: list[WearFinding], t: float) -> None:
        alarms = self.pipeline.alarms
        values: dict[str, Any] = {"trips": self.wear.trips, "learning": self.wear.learning,
                                  "excluded_trips": self.wear.excluded}
        for f in findings:
            values[f"{f.kind}.score"] = round(f.score, 2)
            values[f"{f.kind}.severity"] = f.severity
            if f.severity == "normal":
                alarms.clear(f.kind, "detectors")
            else:
                alarms.raise_(f.kind, "detectors", f.severity, f.evidence)
        self.pipeline.publish_telemetry("wear", values)

    def _on_alarm(self, t: Transition) -> None:
        """Alarm observer: the relay follows active critical alarms, the buzzer sounds on a
        new critical alarm unless a technician is on site."""
        if self.gpio is None:
            return
        active = self.pipeline.alarms.active()
        critical = any(a.severity == "critical" for a in active)
        if self.gpio.relay is not None:
            self.gpio.relay.set_alarm(critical)
        if (self.gpio.buzzer is not None and t.state == "raised"
                and t.alarm.severity == "critical" and not self.pipeline.maintenance.active):
            self.gpio.buzzer.beep(self.clock(), count=3)

    def _on_button(self, ev: Any) -> None:
        from agent.trail.maintenance import MaintenanceError

        m = self.pipeline.maintenance
        if getattr(ev, "kind", "") == "long_press":
            try:
                if m.active:
                    m.end(via="button")
                else:
                    m.start("on-site technician", via="button")
            except MaintenanceError as exc:
                log.warning("maintenance button: %s", exc)
        elif getattr(ev, "kind", "") == "press" and self.gpio and self.gpio.buzzer:
            self.gpio.buzzer.silence()

    # -- health ---------------------------------------------------------------------------------

    def check_health(self, now: float) -> None:
        h, rt = self.health, self.rt
        if not self.controller.alive:
            h.set("controller", "degraded", f"poller stopped: {self.controller.failure}")
        elif self.events.comm_lost:
            detail = self.last_sample.detail if self.last_sample is not None else ""
            h.set("controller", "degraded", f"controller lost: {detail}")
        else:
            h.set("controller", "ok")
        for src in self.sensors.sources:
            last = self.sensors.last_block.get(src.stream, self.started_at)
            if not self.sensors.alive:
                h.set(src.stream, "degraded", f"sensor pump stopped: {self.sensors.failure}")
            elif now - last > rt["sensor_silent_s"]:
                h.set(src.stream, "degraded", f"no data for {now - last:.0f} s")
            else:
                h.set(src.stream, "ok")
        up = self.pipeline.uplink
        if up.online:
            self._offline_since = None
            h.set("uplink", "ok")
        else:
            since = self._offline_since if self._offline_since is not None else now
            self._offline_since = since
            if now - since >= rt["broker_grace_s"]:
                h.set("uplink", "degraded", f"broker unreachable for {now - since:.0f} s")
        h.set("storage", *self._storage_state())
        if self.gpio is not None and self.gpio.led is not None:
            pattern = led_pattern(maintenance=self.pipeline.maintenance.active,
                                  alarms=len(self.pipeline.alarms.active()),
                                  degraded=h.overall == "degraded")
            if self.gpio.led.pattern != pattern:
                self.gpio.led.show(pattern, now)  # type: ignore[arg-type]

    def _storage_state(self) -> tuple[str, str]:
        path = Path(self.cfg["storage"]["outbox_path"]).parent
        free_mb = shutil.disk_usage(path).free / (1 << 20)
        if free_mb < self.rt["disk_min_free_mb"]:
            return "degraded", f"{free_mb:.0f} MiB free under {path}"
        if self.pipeline.outbox.stats().degraded:
            return "degraded", "outbox is full"
        return "ok", ""

    def state_values(self) -> dict[str, Any]:
        values = self.health.values()
        values.update({
            "uptime_s": round(self.clock() - self.started_at, 1),
            "active_alarms": len(self.pipeline.alarms.active()),
            "maintenance": self.pipeline.maintenance.active,
            "polls": self.controller.poller.polls, "polls_failed": self.polls_failed,
            "samples_dropped": self.samples.dropped, "blocks_dropped": self.blocks.dropped,
            "trips": self.wear.trips, "baseline": "learning" if self.wear.learning else "ready",
            "accel_samples": self.sensors.samples.get("accel", 0),
            "audio_samples": self.sensors.samples.get("audio", 0),
        })
        return values

    def publish_state(self) -> None:
        self.pipeline.publish_telemetry("state", self.state_values())

    def _publish_readings(self) -> None:
        s = self.last_sample
        if s is None or not s.readings:
            return
        values = {k: s.readings[k] for k in TELEMETRY_READINGS
                  if isinstance(s.readings.get(k), int | float | str | bool)}
        self.pipeline.publish_telemetry("controller", values)

    # -- shutdown -------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop producers first, then save detector state, then flush and close the outbox
        (every alarm and event is already committed with synchronous=FULL; closing the uplink
        says goodbye on `state`)."""
        for close in reversed(self._closers):
            try:
                close()
            except Exception:
                log.exception("shutdown step %r failed", close)
        self._closers.clear()
        wear = getattr(self, "wear", None)
        if wear is not None and wear.state_path is not None and wear.tracker.trends:
            wear.tracker.save(wear.state_path)
