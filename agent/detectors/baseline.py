"""Per-lift healthy baselines: robust statistics of every feature per speed range.

A baseline holds, for each feature and each car-speed range (`speed_bin_mps` wide), the number
of healthy observations, their median and their MAD. An observation is scored in baseline
units, z = (x - median) / scale, with scale = 1.4826 * MAD (the MAD's Gaussian consistency
factor) but never below the feature's floor, so a very quiet healthy history does not make
noise-level changes look like wear. A speed range with fewer than `min_count` observations
falls back to a robust (Theil-Sen) line of the feature against speed fitted on all running
observations, with the MAD of its residuals; standing still (bin 0: rest sound, idle drive tones) is
never pooled with running.

The file is versioned JSON (`schema`: liftguard.baseline/1) and written atomically. A file
holding features whose definition has since changed (RETIRED_FEATURES) is refused with a
one-line error that says to learn it again.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.detectors.electrical import ThermalModel
from agent.detectors.geometry import LiftGeometry
from agent.detectors.store import read_json, write_json_atomic
from agent.errors import InputError

SCHEMA = "liftguard.baseline/1"
MAD_TO_SIGMA = 1.4826
# Features whose definition was replaced (issue 7): a baseline holding them learned the old
# definitions, whose medians and spreads would misjudge the new ones, so it is refused.
RETIRED_FEATURES = ("sheave.orders_prom", "sheave.env_orders", "bearing.env_peak",
                    "bearing.env_crest")


@dataclass(frozen=True)
class FeatureSpec:
    kind: str  # the finding kind this feature is evidence for
    floor: float  # smallest scale, in the feature's unit (or relative to |median| if relative)
    relative: bool = False
    two_sided: bool = False  # a drop is as suspicious as a rise (tones that disappear)


def spec_for(name: str) -> FeatureSpec:
    """The scoring rules of a feature, from its name's prefix."""
    if name.startswith(("rope.",)):
        return FeatureSpec("rope_wear", 0.5)
    if name == "sheave.sync_lines":
        # a ratio of powers (sheave_sync.py), scored on at least its own standard error
        return FeatureSpec("sheave_wear", 0.05)
    if name == "sheave.sync_se":
        return FeatureSpec("other", 0.05)  # learned with it, not scored
    if name.startswith("sheave."):
        return FeatureSpec("sheave_wear", 0.5)
    if name == "bearing.kurtosis":
        return FeatureSpec("bearing_wear", 0.25)  # sample kurtosis of ~1e4 samples: +-0.1
    if name == "bearing.env_q":
        return FeatureSpec("bearing_wear", 0.3)  # a ratio of envelope quantiles, ~2.7 healthy
    if name.startswith("bearing."):
        return FeatureSpec("bearing_wear", 0.5)  # dB features: hf_level
    if name.startswith("inverter.tone_"):
        return FeatureSpec("inverter_wear", 1.0, two_sided=True)
    if name == "inverter.thermal_ratio":
        return FeatureSpec("inverter_wear", 0.01)  # 1 % of R_th
    if name.startswith("inverter."):
        return FeatureSpec("inverter_wear", 0.03, relative=True)
    return FeatureSpec("other", 0.5)


@dataclass(frozen=True)
class Stat:
    n: int
    median: float
    mad: float

    def scale(self, spec: FeatureSpec) -> float:
        """Spread of a new observation around the median: the MAD's sigma, widened by the
        uncertainty of a median from n values (variance pi/2 sigma^2/n), never under the
        feature's floor."""
        floor = spec.floor * abs(self.median) if spec.relative else spec.floor
        return max(MAD_TO_SIGMA * self.mad, floor, 1e-12) * math.sqrt(1 + math.pi / (2 * self.n))

    @classmethod
    def of(cls, values: list[float]) -> Stat:
        a = np.asarray(values, dtype=np.float64)
        med = float(np.median(a))
        return cls(int(a.size), med, float(np.median(np.abs(a - med))))


@dataclass(frozen=True)
class SpeedTrend:
    """Theil-Sen line of a feature against car speed over all running observations, with the
    MAD of its residuals: what a speed range with too few observations of its own falls back
    to (most features move with speed: line amplitudes, currents)."""

    n: int
    intercept: float
    slope: float
    mad: float

    def at(self, speed_mps: float) -> Stat:
        return Stat(self.n, self.intercept + self.slope * abs(speed_mps), self.mad)

    @classmethod
    def fit(cls, speeds: list[float], values: list[float]) -> SpeedTrend:
        v = np.asarray(speeds, dtype=np.float64)
        y = np.asarray(values, dtype=np.float64)
        if v.size > 400:  # Theil-Sen is O(n^2) in pairs: a fixed subsample keeps it bounded
            idx = np.linspace(0, v.size - 1, 400).astype(int)
            v, y = v[idx], y[idx]
        i, j = np.triu_indices(v.size, 1)
        dv = v[j] - v[i]
        ok = np.abs(dv) > 0.05  # pairs from clearly different speeds
        slope = float(np.median((y[j] - y[i])[ok] / dv[ok])) if ok.any() else 0.0
        intercept = float(np.median(np.asarray(values) - slope * np.asarray(speeds)))
        resid = np.asarray(values) - (intercept + slope * np.asarray(speeds))
        mad = float(np.median(np.abs(resid - np.median(resid))))
        return cls(len(values), intercept, slope, mad)


@dataclass
class Baseline:
    lift: LiftGeometry
    speed_bin_mps: float = 0.25
    min_count: int = 8
    stats: dict[str, dict[str, Stat]] = field(default_factory=dict)  # feature -> bin -> Stat
    trends: dict[str, SpeedTrend] = field(default_factory=dict)  # feature -> trend in speed
    thermal: ThermalModel | None = None
    sources: list[str] = field(default_factory=list)
    created: str = ""

    def bin_of(self, speed_mps: float) -> str:
        return str(int(round(abs(speed_mps) / self.speed_bin_mps)))

    def stat(self, feature: str, speed_mps: float) -> Stat | None:
        bins = self.stats.get(feature)
        if not bins:
            return None
        b = self.bin_of(speed_mps)
        s = bins.get(b)
        if b == "0" or (s is not None and s.n >= self.min_count):
            return s  # standing still is its own regime: never pooled with running
        trend = self.trends.get(feature)
        if trend is not None and trend.n >= self.min_count:
            return trend.at(speed_mps)
        pooled = bins.get("all")
        return pooled if pooled is not None and pooled.n >= self.min_count else s

    def score(self, feature: str, speed_mps: float, value: float,
              min_scale: float = 0.0) -> float | None:
        """Anomaly score in baseline units; None when the baseline lacks the feature.
        `min_scale`: the observation's own standard error, where it knows one."""
        s = self.stat(feature, speed_mps)
        if s is None or not math.isfinite(value):
            return None
        spec = spec_for(feature)
        z = (value - s.median) / max(s.scale(spec), min_scale)
        return abs(z) if spec.two_sided else z

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "created": self.created, "lift": self.lift.to_dict(),
            "speed_bin_mps": self.speed_bin_mps, "min_count": self.min_count,
            "features": {
                f: {b: {"n": s.n, "median": s.median, "mad": s.mad} for b, s in bins.items()}
                for f, bins in sorted(self.stats.items())
            },
            "speed_trends": {f: {"n": t.n, "intercept": t.intercept, "slope": t.slope,
                                 "mad": t.mad} for f, t in sorted(self.trends.items())},
            "thermal": self.thermal.to_dict() if self.thermal else None,
            "sources": self.sources,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        write_json_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Baseline:
        return cls.from_json(read_json(path, "baseline"), str(path))

    @classmethod
    def from_json(cls, d: Any, where: str) -> Baseline:
        if not isinstance(d, dict):
            raise InputError(f"{where}: baseline must be a JSON object")
        if d.get("schema") != SCHEMA:
            raise InputError(f"{where}: schema = {d.get('schema')!r}: expected {SCHEMA!r}")
        feats = d.get("features")
        retired = [f for f in RETIRED_FEATURES if isinstance(feats, dict) and f in feats]
        if retired:
            raise InputError(f"{where}: baseline holds retired features ({', '.join(retired)}): "
                             "learn it again with `liftguard baseline learn`")
        try:
            lift = LiftGeometry.from_mapping(d["lift"], where)
            stats = {
                str(f): {str(b): Stat(int(s["n"]), float(s["median"]), float(s["mad"]))
                         for b, s in bins.items()}
                for f, bins in d["features"].items()
            }
            trends = {str(f): SpeedTrend(int(t["n"]), float(t["intercept"]), float(t["slope"]),
                                         float(t["mad"]))
                      for f, t in d.get("speed_trends", {}).items()}
            th = d.get("thermal")
            thermal = ThermalModel(**{k: float(th[k]) for k in ThermalModel.FIELDS}) \
                if th else None
            return cls(lift, float(d["speed_bin_mps"]), int(d["min_count"]), stats, trends,
                       thermal, [str(s) for s in d.get("sources", [])],
                       str(d.get("created", "")))
        except KeyError as exc:
            raise InputError(f"{where}: baseline field {exc.args[0]} is missing") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{where}: baseline is malformed: {exc}") from None


def learn(
    observations: Iterable[tuple[float, Mapping[str, float]]],
    lift: LiftGeometry,
    *,
    speed_bin_mps: float = 0.25,
    min_count: int = 8,
    thermal: ThermalModel | None = None,
    sources: Iterable[str] = (),
    now: float | None = None,
) -> Baseline:
    """Learn from (car speed, features) observations of a healthy lift."""
    per: dict[str, dict[str, list[float]]] = {}
    running: dict[str, list[tuple[float, float]]] = {}
    b = Baseline(lift, speed_bin_mps, min_count)
    for speed, feats in observations:
        for name, value in feats.items():
            if not math.isfinite(value):
                continue
            bins = per.setdefault(name, {})
            k = b.bin_of(speed)
            bins.setdefault(k, []).append(float(value))
            if k != "0":
                bins.setdefault("all", []).append(float(value))
                running.setdefault(name, []).append((abs(float(speed)), float(value)))
    b.stats = {f: {k: Stat.of(v) for k, v in bins.items()} for f, bins in per.items()}
    b.trends = {f: SpeedTrend.fit([v for v, _ in pts], [y for _, y in pts])
                for f, pts in running.items() if len(pts) >= 2}
    b.thermal = thermal
    b.sources = list(sources)
    stamp = time.time() if now is None else now
    b.created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
    return b
