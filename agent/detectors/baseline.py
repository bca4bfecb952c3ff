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
from agent.detectors.sheave_sync import FEATURE as SYNC
from agent.detectors.sheave_sync import FEATURES as SYNC_FEATURES
from agent.detectors.store import read_json, write_json_atomic
from agent.errors import InputError

SCHEMA = "liftguard.baseline/1"
MAD_TO_SIGMA = 1.4826
# Features whose definition was replaced (issue 7): a baseline holding them learned the old
# definitions, whose medians and spreads would misjudge the new ones, so it is refused.
RETIRED_FEATURES = ("sheave.orders_prom", "sheave.env_orders", "bearing.env_peak",
                    "bearing.env_crest", "inverter.dip_per_a")
# feature -> the load it is judged against: its healthy value is a power law of that load,
# learned over all running observations, and a trip scores its relative excess over it (a DC
# bus sags with the power drawn, electrical.py), not its level in its speed range
LOAD_LINES = {"inverter.dc_sag_v": "inverter.load_a_mps"}


def load_of(feature: str, features: Mapping[str, float]) -> float | None:
    """The load a LOAD_LINES feature is judged against, from the same trip's features."""
    return features.get(LOAD_LINES[feature]) if feature in LOAD_LINES else None


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
    if name == SYNC:
        # a ratio of powers (sheave_sync.py), scored on at least its own standard error and
        # 15 % of its median: where the line dominates (a machine-mount sensor) that error
        # is a fraction of a percent, but the scatter it divides by is the day's ride sway,
        # and healthy windows on another seed ran 2-33 % over the baseline's median (geometry
        # 1 of benchmarks/detection.py, 2026-12-04: 66 false alarms in 204 judged trips)
        return FeatureSpec("sheave_wear", 0.15, relative=True)
    if name in SYNC_FEATURES:
        return FeatureSpec("other", 0.05)  # learned with the figure, not scored
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
    if name == "inverter.dc_sag_v":
        return FeatureSpec("inverter_wear", 0.03)  # on the log excess over its load line: 3 %
    if name == "inverter.load_a_mps":
        return FeatureSpec("other", 0.5)  # the sag's load: evidence, not scored
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
        # slopes only from pairs of clearly different speeds: 0.05 m/s apart
        intercept, slope = theil_sen(speeds, values, min_gap=0.05)
        resid = np.asarray(values) - (intercept + slope * np.asarray(speeds))
        mad = float(np.median(np.abs(resid - np.median(resid))))
        return cls(len(values), intercept, slope, mad)


def theil_sen(xs: list[float], ys: list[float], min_gap: float) -> tuple[float, float]:
    """(intercept, slope) of a Theil-Sen line: the median slope of the pairs whose x differ by
    more than `min_gap` (0 when none do), and the median intercept under it."""
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    xi, yi = x, y
    if x.size > 400:  # O(n^2) in pairs: a fixed subsample keeps it bounded
        idx = np.linspace(0, x.size - 1, 400).astype(int)
        xi, yi = x[idx], y[idx]
    i, j = np.triu_indices(xi.size, 1)
    dx = xi[j] - xi[i]
    ok = np.abs(dx) > min_gap
    slope = float(np.median((yi[j] - yi[i])[ok] / dx[ok])) if ok.any() else 0.0
    return float(np.median(y - slope * x)), slope


@dataclass(frozen=True)
class LoadLine:
    """A feature's healthy value as a power law of its load (LOAD_LINES): a Theil-Sen line of
    log value against log load, and the spread of the log excess over it (about the relative
    excess) in `excess`: its count, its centre (`median` there holds the clipped centre, see
    _clipped_centre) and its MAD. A power law, since the sag is convex in the
    load (a linear fit left a U in its residuals on the benchmark lifts and a negative
    intercept) and its exponent differs from lift to lift (1.08-1.51 on the three of
    benchmarks/detection.py)."""

    intercept: float
    slope: float
    excess: Stat

    def log_excess(self, value: float, load: float) -> float | None:
        if not (value > 0 and load > 0 and math.isfinite(value) and math.isfinite(load)):
            return None
        return math.log(value) - (self.intercept + self.slope * math.log(load))

    @classmethod
    def fit(cls, loads: list[float], values: list[float]) -> LoadLine | None:
        """None with under two usable (positive, finite) pairs."""
        pairs = [(x, y) for x, y in zip(loads, values, strict=True)
                 if x > 0 and y > 0 and math.isfinite(x) and math.isfinite(y)]
        if len(pairs) < 2:
            return None
        # slopes only from pairs whose loads differ by more than ~5 %
        intercept, slope = theil_sen([math.log(x) for x, _ in pairs],
                                     [math.log(y) for _, y in pairs], min_gap=0.05)
        line = cls(intercept, slope, Stat(0, 0.0, 0.0))
        resid = np.array([line.log_excess(y, x) for x, y in pairs])
        st = Stat.of(list(resid))
        return cls(intercept, slope, Stat(st.n, _clipped_centre(resid, st), st.mad))


def _clipped_centre(x: np.ndarray, st: Stat, clip: float = 3.0) -> float:
    """The centre around which scores clipped at +-`clip` (evidence.py) average to zero (a
    Huber M-estimate), rather than the median: the lowest of a dozen polls of a rippling bus
    is skewed, and around its median the healthy clipped scores averaged -0.3 a trip (benchmark
    geometry 2, 2026-12-04): 0.3 sqrt(N) units of evidence missed, 1.8 over 36 trips."""
    s = max(MAD_TO_SIGMA * st.mad, 1e-12)
    c = st.median
    for _ in range(20):
        step = s * float(np.mean(np.clip((x - c) / s, -clip, clip)))
        c += step
        if abs(step) < 1e-6 * s:
            break
    return c


@dataclass
class Baseline:
    lift: LiftGeometry
    speed_bin_mps: float = 0.25
    min_count: int = 8
    stats: dict[str, dict[str, Stat]] = field(default_factory=dict)  # feature -> bin -> Stat
    trends: dict[str, SpeedTrend] = field(default_factory=dict)  # feature -> trend in speed
    lines: dict[str, LoadLine] = field(default_factory=dict)  # feature -> line in its load
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
              min_scale: float = 0.0, load: float | None = None) -> float | None:
        """Anomaly score in baseline units; None when the baseline lacks the feature.
        `min_scale`: the observation's own standard error, where it knows one. A feature
        judged against its load (LOAD_LINES) needs that `load` and scores its (log) excess
        over the healthy line."""
        if not math.isfinite(value):
            return None
        spec = spec_for(feature)
        if feature in LOAD_LINES:
            line = self.lines.get(feature)
            if line is None or load is None:
                return None
            got = line.log_excess(value, load)
            if got is None or line.excess.n < self.min_count:
                return None
            value, s = got, line.excess
        else:
            st = self.stat(feature, speed_mps)
            if st is None:
                return None
            s = st
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
            "load_lines": {f: {"intercept": ln.intercept, "slope": ln.slope,
                               "n": ln.excess.n, "centre": ln.excess.median,
                               "mad": ln.excess.mad} for f, ln in sorted(self.lines.items())},
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
            lines = {str(f): LoadLine(float(ln["intercept"]), float(ln["slope"]),
                                      Stat(int(ln["n"]), float(ln["centre"]), float(ln["mad"])))
                     for f, ln in d.get("load_lines", {}).items()}
            th = d.get("thermal")
            thermal = ThermalModel(**{k: float(th[k]) for k in ThermalModel.FIELDS}) \
                if th else None
            return cls(lift, float(d["speed_bin_mps"]), int(d["min_count"]), stats, trends,
                       lines, thermal, [str(s) for s in d.get("sources", [])],
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
    rows = list(observations)  # walked twice: per feature, then per load line
    for speed, feats in rows:
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
    for name, load_name in LOAD_LINES.items():
        pairs = [(f[load_name], f[name]) for _, f in rows if name in f and load_name in f]
        line = LoadLine.fit([x for x, _ in pairs], [y for _, y in pairs])
        if line is not None:
            b.lines[name] = line
    b.thermal = thermal
    b.sources = list(sources)
    stamp = time.time() if now is None else now
    b.created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
    return b
