"""How the agent takes up a calibration: validated before use, refused with a one-line reason,
and the calibration in use kept when a new one fails.

    loader = CalibrationLoader.from_config(cfg)
    cal = loader.load()          # at start: the file, or PATH.prev if the file is refused
    ...
    cal = loader.refresh()       # later: picks up a new valid version; a bad one is refused
    if loader.reason: log.warning("calibration: %s", loader.reason)

Nothing here imports hardware or plotting libraries; the runtime can call it on every start.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.detectors.baseline import Baseline
from calibration import document

log = logging.getLogger("liftguard.calibration")


@dataclass(frozen=True)
class Calibration:
    doc: dict[str, Any]
    path: Path

    @property
    def version(self) -> int:
        return int(self.doc["version"])

    @property
    def baseline(self) -> Baseline | None:
        b = self.doc.get("baseline")
        return Baseline.from_json(b, str(self.path)) if b else None

    @property
    def rotation(self) -> np.ndarray | None:
        """Sensor frame -> car frame (z up); None before the accel workflow ran."""
        a = self.doc.get("accel")
        return np.array(a["rotation"], dtype=np.float64) if a else None

    @property
    def vertical_axis(self) -> str | None:
        a = self.doc.get("accel")
        return str(a["vertical_axis"]) if a else None

    @property
    def noise_correction_db(self) -> float:
        n = self.doc.get("noise")
        return float(n["correction_db"]) if n else 0.0

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.doc.get("thresholds") or {})


class CalibrationLoader:
    def __init__(self, path: str | os.PathLike[str], trusted_keys: dict[str, Any] | None = None,
                 require_signature: bool = False) -> None:
        self.path = Path(path)
        self.trusted_keys = trusted_keys
        self.require_signature = require_signature
        self.current: Calibration | None = None
        self.reason: str | None = None
        self._seen: tuple[int, int] | None = None

    @classmethod
    def from_config(cls, cfg: Any) -> CalibrationLoader:
        from agent.commands.signing import load_trusted_keys

        c = cfg["calibration"]
        keys = cfg["commands"]["trusted_keys"]
        path = Path(c["path"])
        if not path.is_absolute() and getattr(cfg, "path", None):
            path = Path(cfg.path).parent / path  # as [storage] paths are resolved
        return cls(path, load_trusted_keys(keys) if keys else None, c["require_signature"])

    def _try(self, path: Path) -> Calibration:
        return Calibration(document.load(path, self.trusted_keys, self.require_signature), path)

    def load(self) -> Calibration | None:
        """The calibration to start with: the file if valid, else the previous version."""
        self.reason = None
        self._seen = self._stamp()
        if not self.path.exists():
            return None
        try:
            self.current = self._try(self.path)
            return self.current
        except document.CalibrationInvalid as exc:
            self.reason = f"{exc}; refused"
        prev = document.previous_path(self.path)
        try:
            self.current = self._try(prev)
            self.reason += f", using the previous version {self.current.version} ({prev.name})"
        except document.CalibrationInvalid:
            self.current = None
            self.reason += ", and no valid previous version: running uncalibrated"
        log.warning("calibration: %s", self.reason)
        return self.current

    def refresh(self) -> Calibration | None:
        """After the file changed: switch to it if valid, else keep the one in use. `reason`
        is about this look only (None when the file did not change), so a refusal is reported
        once, not on every look."""
        self.reason = None
        stamp = self._stamp()
        if stamp == self._seen:
            return self.current
        self._seen = stamp
        try:
            self.current = self._try(self.path)
        except document.CalibrationInvalid as exc:
            keep = (f"keeping version {self.current.version}" if self.current
                    else "running uncalibrated")
            self.reason = f"{exc}; refused, {keep}"
            log.warning("calibration: %s", self.reason)
        return self.current

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)
