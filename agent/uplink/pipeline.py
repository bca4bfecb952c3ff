"""The alarm pipeline assembled from config: the one object the runtime holds.

    pipeline = AlarmPipeline.from_config(cfg)
    pipeline.start()
    pipeline.alarms.raise_("overspeed", "controller", "critical", {"speed_mps": 2.2})
    pipeline.alarms.clear("overspeed", "controller")
    pipeline.publish_telemetry("controller", {"speed_mps": 1.7})
    pipeline.publish_event("comm_lost", "warning", {"polls": 3})
    pipeline.thresholds.register("rope_wear", "score", lo=1, hi=50, value=5, apply=fn)
    pipeline.diagnostics.add_provider("features", fn)
    pipeline.commands.register("relay.test", handler, {"seconds": Param(float)})
    pipeline.maintenance.start("li.wei", via="button")
    pipeline.stop()
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.alarms import AlarmService
from agent.commands import (
    CommandProcessor,
    CommandTable,
    CommandVerifier,
    CounterStore,
    Diagnostics,
    ThresholdTable,
    VerifyPolicy,
    install_builtin,
    load_trusted_keys,
)
from agent.outbox import Bounds, Clock, Outbox
from agent.trail import MaintenanceMode, TrailLog
from agent.uplink.client import Uplink
from agent.uplink.settings import UplinkSettings


class AlarmPipeline:
    def __init__(self, settings: UplinkSettings, *, outbox_path: Path, bounds: Bounds,
                 counter_path: Path, trail_path: Path, trusted_keys: Path | None,
                 resend_interval_s: float = 300.0, cmd_max_bytes: int = 4096,
                 cmd_max_ttl_s: float = 86_400.0, clock: Clock = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.outbox = Outbox(outbox_path, clock, bounds)
        self.alarms = AlarmService(self.outbox, clock, resend_interval_s)
        self.trail = TrailLog(trail_path, clock)
        self.maintenance = MaintenanceMode(self.trail, self.publish_event)
        self.alarms.add_observer(self.maintenance.on_alarm)
        self.thresholds = ThresholdTable()
        self.diagnostics = Diagnostics()
        self.commands = CommandTable()
        install_builtin(self.commands, alarms=self.alarms, maintenance=self.maintenance,
                        thresholds=self.thresholds, diagnostics=self.diagnostics,
                        publish_event=self.publish_event)
        trusted = load_trusted_keys(trusted_keys) if trusted_keys else {}
        verifier = CommandVerifier(VerifyPolicy(settings.device, cmd_max_bytes, cmd_max_ttl_s),
                                   trusted, CounterStore(counter_path))
        self.processor = CommandProcessor(verifier, self.commands, self.outbox, clock)
        self.uplink = Uplink(settings, self.outbox, clock, on_command=self.processor.handle)
        self.uplink.add_periodic(self.alarms.tick)
        self.uplink.add_heartbeat_source(lambda: {"active_alarms": len(self.alarms.active()),
                                                  "maintenance": self.maintenance.active})
        self.diagnostics.add_provider("outbox", lambda: vars(self.outbox.stats()))
        self.diagnostics.add_provider("uplink", lambda: {
            "online": self.uplink.online, "protocol": self.uplink.protocol,
            "connects": self.uplink.connects})
        report = self.trail.report_at_open
        if report is not None and not report.ok:
            self.publish_event("trail_broken", "warning", {
                "path": str(trail_path), "problems": [str(b) for b in report.breaks[:10]]})

    @classmethod
    def from_config(cls, cfg: Any, clock: Clock = time.time) -> AlarmPipeline:
        base = Path(cfg.path).parent if getattr(cfg, "path", None) else Path.cwd()

        def resolve(value: str) -> Path:
            p = Path(value)
            return p if p.is_absolute() else (base / p).resolve()

        st, cm = cfg["storage"], cfg["commands"]
        return cls(
            UplinkSettings.from_config(cfg),
            outbox_path=resolve(st["outbox_path"]),
            bounds=Bounds(st["max_bytes"], st["telemetry_max_rows"], st["telemetry_share"]),
            counter_path=resolve(st["counter_path"]), trail_path=resolve(st["trail_path"]),
            trusted_keys=resolve(cm["trusted_keys"]) if cm["trusted_keys"] else None,
            resend_interval_s=cfg["alarms"]["resend_interval_s"],
            cmd_max_bytes=cm["max_bytes"], cmd_max_ttl_s=cm["max_ttl_s"], clock=clock)

    def start(self) -> None:
        self.uplink.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.uplink.stop(timeout)
        self.outbox.close()

    @property
    def online(self) -> bool:
        return self.uplink.online

    def publish_event(self, kind: str, severity: str, detail: dict[str, Any]) -> int:
        """Commit an event durably (returns its seq); sent as soon as the broker is reachable."""
        return self.outbox.enqueue_event(kind, severity, detail)

    def publish_telemetry(self, kind: str, values: dict[str, Any]) -> bool:
        return self.uplink.publish_telemetry(kind, values)

    def on_state_change(self, fn: Callable[[bool], None]) -> None:
        self.uplink.add_state_listener(fn)

