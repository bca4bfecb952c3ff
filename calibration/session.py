"""One technician's calibration session: the current file, the result of a workflow, and
committing it (calibration file, commissioning report, maintenance-trail event).

A workflow computes everything first; `commit` is the only place that writes, and it writes
nothing unless the new document validates. The current file must itself be valid before a
workflow builds on it: a calibration edited by hand is reported, never silently replaced.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.detectors.geometry import LiftGeometry
from calibration import document
from calibration.console import Console
from calibration.rigs import Rig
from calibration.trips import TripRecord

log = logging.getLogger("liftguard.calibration")


@dataclass
class Session:
    cfg: Any
    console: Console
    technician: str
    open_rig: Callable[[], Rig]
    path: Path
    report_dir: Path
    signing_key: Any = None
    trusted_keys: Mapping[str, Any] | None = None
    require_signature: bool = False
    clock: Callable[[], float] = time.time
    _rig: Rig | None = field(default=None, repr=False)

    @property
    def rig(self) -> Rig:
        if self._rig is None:
            self._rig = self.open_rig()
        return self._rig

    def close(self) -> None:
        if self._rig is not None:
            self._rig.close()
            self._rig = None

    def current(self) -> dict[str, Any] | None:
        """The valid current calibration, None if there is none yet; CalibrationInvalid if
        the file exists but must not be used (the technician decides: rollback or redo)."""
        if not self.path.exists():
            return None
        return document.load(self.path, self.trusted_keys, self.require_signature)

    def geometry(self) -> LiftGeometry:
        lift = self.cfg["lift"]
        return LiftGeometry(lift["roping"], lift["sheave_diameter_m"], lift["rope_strands"],
                            lift["rope_lay_length_m"], lift["rated_speed_mps"])

    def commit(self, workflow: str, updates: Mapping[str, Any],
               trips: Sequence[TripRecord] = (), verdicts: Mapping[str, str] | None = None,
               ) -> tuple[dict[str, Any], Path | None]:
        """Write the new calibration (previous kept for rollback), the report, and publish
        the summary. Returns the sealed document and the report path."""
        base = self.current()
        doc = document.next_version(base, self.cfg["device"], workflow=workflow,
                                    technician=self.technician, updates=updates,
                                    now=self.clock())
        sealed = document.seal(doc, self.signing_key)
        document.write(self.path, sealed)
        self.console.say(f"calibration version {sealed['version']} written to {self.path}"
                         + (" (signed)" if "signature" in sealed else ""))
        report = self._report(sealed, workflow, trips, verdicts or {})
        self._publish(sealed, workflow, report)
        return sealed, report

    def _report(self, doc: dict[str, Any], workflow: str, trips: Sequence[TripRecord],
                verdicts: Mapping[str, str]) -> Path | None:
        from agent.detectors.baseline import Baseline
        from agent.detectors.settings import settings_from_section
        from calibration import report

        settings = settings_from_section(self.cfg["detectors"])
        baseline = (Baseline.from_json(doc["baseline"], str(self.path))
                    if doc.get("baseline") else None)
        self.report_dir.mkdir(parents=True, exist_ok=True)
        path = self.report_dir / f"commissioning-v{doc['version']}-{workflow}.html"
        report.render(path, doc, trips, self.geometry(), baseline=baseline,
                      warning_score=settings.thresholds.warning, ride_limits=settings.ride,
                      noise_limits=settings.noise, verdicts=verdicts)
        self.console.say(f"commissioning report: {path}")
        return path

    def _publish(self, doc: dict[str, Any], workflow: str, report: Path | None) -> None:
        """The summary as a `calibration` event in the box's durable outbox: the running
        agent sends it upstream with the maintenance trail's other records."""
        from agent.outbox import Outbox

        summary = summary_of(doc, workflow, report)
        outbox_path = Path(self.cfg["storage"]["outbox_path"])
        if not outbox_path.is_absolute() and getattr(self.cfg, "path", None):
            outbox_path = Path(self.cfg.path).parent / outbox_path
        try:
            box = Outbox(outbox_path, self.clock)
        except Exception as exc:  # the calibration is written; say why the event is not
            self.console.say(f"warning: calibration event not queued ({outbox_path}: {exc})")
            return
        try:
            box.enqueue_event("calibration", "info", summary)
        finally:
            box.close()


def summary_of(doc: Mapping[str, Any], workflow: str, report: Path | None) -> dict[str, Any]:
    base = doc.get("baseline") or {}
    accel = doc.get("accel") or {}
    noise = doc.get("noise") or {}
    return {
        "workflow": workflow, "version": doc["version"], "technician": doc["technician"],
        "box_id": doc["box_id"], "created": doc["created"], "checksum": doc["checksum"],
        "signed_by": (doc.get("signature") or {}).get("key_id"),
        "controller_profile": (doc.get("controller") or {}).get("profile"),
        "accel_vertical_axis": accel.get("vertical_axis"),
        "accel_warnings": accel.get("warnings", []),
        "noise_correction_db": noise.get("correction_db"),
        "baseline_features": len(base.get("features", {})),
        "report": report.name if report else None,
    }
