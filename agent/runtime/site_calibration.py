"""The lift's calibration (calibration/, `liftguard calibrate`) in the running agent.

    site = SiteCalibration(CalibrationLoader.from_config(cfg), pipeline)
    cal = site.load()                           # at start: the file, else PATH.prev, else None
    site.apply(cal, pipeline.thresholds)        # once the thresholds are registered
    block = site.correct(block)                 # before the sensor rings and the detectors
    new = site.refresh(pipeline.thresholds)     # each health tick: a new valid version, or None

What a calibration changes here: accel blocks are turned from the sensor frame to the car frame
(z up) by the accel workflow's rotation, sound levels get the acoustic calibrator's correction,
and its detector thresholds are set through the threshold table (so the bounds a remote command
may not leave bind a calibration too). The baseline is the caller's: it goes to the WearStage.

A refused file (checksum, signature, contents) is reported once per change as a
`calibration_rejected` event with the loader's one-line reason; the calibration in use stays.
A version taken up for the first time is appended to the maintenance trail as a `calibration`
record (published as a `maintenance` event like every trail record) and announced as
`calibration_loaded`; a restart with the same file records nothing new.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

import numpy as np

from agent.commands import CommandFailed, ThresholdTable
from agent.uplink.pipeline import AlarmPipeline
from calibration.loader import Calibration, CalibrationLoader
from drivers.blocks import SampleBlock

log = logging.getLogger("liftguard.calibration")

AXES = ("x", "y", "z")  # the order calibration/mounting.py measured the rotation in
THRESHOLD_DETECTOR = "wear"  # where agent.py registers warning_score / critical_score


class SiteCalibration:
    def __init__(self, loader: CalibrationLoader, pipeline: AlarmPipeline) -> None:
        self.loader = loader
        self.pipeline = pipeline
        self.current: Calibration | None = None
        self._rotation_t: np.ndarray | None = None  # R^T: rows of samples times R^T
        self._gain_db = 0.0

    @property
    def version(self) -> int | None:
        return self.current.version if self.current is not None else None

    def load(self) -> Calibration | None:
        """At start: the calibration to use, the refusal of the file reported."""
        cal = self.loader.load()
        if self.loader.reason:
            self._rejected()
        return cal

    def refresh(self, thresholds: ThresholdTable) -> Calibration | None:
        """The calibration just taken up, or None when nothing new is in use."""
        before = self.current
        cal = self.loader.refresh()
        if self.loader.reason:
            self._rejected()
        if cal is None or cal is before or (
                before is not None and cal.doc["checksum"] == before.doc["checksum"]):
            return None  # unchanged, refused, or the same contents rewritten
        self.apply(cal, thresholds)
        return cal

    def correct(self, block: SampleBlock) -> SampleBlock:
        """The block as the detectors must see it: car-frame accel, corrected sound levels."""
        if block.stream == "accel" and self._rotation_t is not None:
            if not set(AXES) <= set(block.channels):
                return block
            idx = [block.channels.index(a) for a in AXES]
            data = block.data.astype(np.float64)
            data[:, idx] = data[:, idx] @ self._rotation_t
            return dataclasses.replace(block, data=data.astype(np.float32))
        if block.stream == "audio" and self._gain_db:
            if block.units == "Pa":  # a pressure signal: the correction is a gain
                corrected = block.data * 10.0 ** (self._gain_db / 20.0)
            elif block.units == "dB":  # a sound meter's level: the correction adds
                corrected = block.data + self._gain_db
            else:
                return block
            return dataclasses.replace(block, data=corrected.astype(np.float32))
        return block

    def apply(self, cal: Calibration | None, thresholds: ThresholdTable) -> None:
        if cal is None:
            return
        rot = cal.rotation
        self._rotation_t = rot.T.copy() if rot is not None else None
        self._gain_db = cal.noise_correction_db
        for name, value in sorted(cal.thresholds.items()):
            try:
                thresholds.set(THRESHOLD_DETECTOR, name, float(value))
            except CommandFailed as exc:  # outside the registered bounds: the value stays
                log.warning("calibration version %d: threshold not applied: %s",
                            cal.version, exc.detail)
        self.current = cal
        log.info("calibration version %d in use (%s)", cal.version, cal.path)
        if cal.doc["checksum"] != self._last_recorded_checksum():
            self._record(cal)

    # -- reporting -----------------------------------------------------------------------------

    def _rejected(self) -> None:
        """The loader has logged the one-line reason; the platform gets it as an event."""
        in_use = self.loader.current
        self.pipeline.publish_event("calibration_rejected", "warning", {
            "path": str(self.loader.path), "reason": self.loader.reason or "",
            "in_use": in_use.version if in_use is not None else None})

    def _record(self, cal: Calibration) -> None:
        doc = cal.doc
        detail: dict[str, Any] = {
            "version": cal.version, "checksum": doc["checksum"], "path": str(cal.path),
            "box_id": doc["box_id"], "created": doc["created"],
            "signed_by": (doc.get("signature") or {}).get("key_id")}
        rec = self.pipeline.trail.append("calibration", doc["technician"], detail)
        self.pipeline.publish_event("maintenance", "info", rec)
        self.pipeline.publish_event("calibration_loaded", "info", detail)

    def _last_recorded_checksum(self) -> str | None:
        """The checksum of the last calibration on the trail (a restart takes up the same
        file again: that is no new record)."""
        path = self.pipeline.trail.path
        if not path.exists():
            return None
        for line in reversed(path.read_text(encoding="utf-8").splitlines()):
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a torn line; `liftguard trail verify` names it
            if isinstance(rec, dict) and rec.get("kind") == "calibration":
                return str((rec.get("detail") or {}).get("checksum"))
        return None
