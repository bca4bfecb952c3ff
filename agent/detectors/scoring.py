"""Features + baseline -> findings, in the shape of the analyze JSON contract.

A wear finding's score is the largest score of its features (each in baseline units, see
baseline.py); its evidence is the evidence of that feature plus its level over the baseline
median. Ride quality and noise level are judged against configured limits instead (standards
give absolute figures for them); their score is the worst ratio to a limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.detectors.acoustic import TONE_PREFIX, tone_scores
from agent.detectors.baseline import Baseline, load_of, spec_for
from agent.detectors.evidence import EvidenceBook
from agent.detectors.severity import Thresholds
from agent.detectors.sheave_sync import FEATURE as SYNC
from agent.detectors.sheave_sync import FEATURES as SYNC_FEATURES
from agent.detectors.sheave_sync import null_se

WEAR_KINDS = ("rope_wear", "sheave_wear", "bearing_wear", "inverter_wear")


@dataclass(frozen=True)
class RideLimits:
    # GB/T 10058-2009 clause 3.3.5 (commonly quoted; *unverified* here): A95 and max pk-pk of
    # the ISO-weighted vibration, m/s^2.
    vertical_max_pk_pk: float = 0.30
    vertical_a95: float = 0.20
    horizontal_max_pk_pk: float = 0.20
    horizontal_a95: float = 0.15


@dataclass(frozen=True)
class NoiseLimits:
    # GB/T 10058 family, shared/REFERENCE.md section 1: machine room <= 80 dB(A) while
    # running; at rest the same room limit applies unless configured lower.
    running_dba: float = 80.0
    rest_dba: float = 80.0


@dataclass(frozen=True)
class Finding:
    kind: str
    score: float
    severity: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def alarm(self) -> bool:
        return self.severity != "normal"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "alarm": self.alarm, "severity": self.severity,
                "score": round(self.score, 2), "evidence": self.evidence}


def wear_scores(
    features: Mapping[str, float], speed_mps: float, baseline: Baseline,
    evidence: EvidenceBook | None = None,
) -> dict[str, tuple[float, str]]:
    """Per wear kind: (score, the feature that gave it). With `evidence` (the detector state
    of a lift followed trip by trip), a slow-wear feature scores the evidence accumulated over
    its recent trips instead of this trip alone (evidence.py)."""
    out: dict[str, tuple[float, str]] = {}
    zs = {}
    for name, value in features.items():
        # the synchronous sheave figure knows its own standard error (sheave_sync.py): its
        # windows overlap, so the MAD of a few hours of healthy ones says too little of it.
        # The 1.25 allows for the healthy median's own error: learned from overlapping
        # windows over ~1.5-2.5 windows' trips, it errs by ~0.6-0.8 of one window's.
        own = 0.0
        if name == SYNC:
            st = baseline.stat(SYNC, speed_mps)
            own = 1.25 * null_se(features, st.median) if st is not None else 0.0
        z = baseline.score(name, speed_mps, value, own, load_of(name, features))
        if z is not None:
            zs[name] = z
    # tone bands: judged against both a load change and no change (acoustic.py)
    tones = tone_scores(zs, running=baseline.bin_of(speed_mps) != "0")
    for name, z in zs.items():
        if name.startswith(TONE_PREFIX):
            if name not in tones:
                continue
            z = tones[name]
        kind = spec_for(name).kind
        if kind not in WEAR_KINDS:
            continue  # kept in the baseline as evidence, not scored
        if evidence is not None:
            z = evidence.accumulate(name, z)
        if kind not in out or z > out[kind][0]:
            out[kind] = (z, name)
    if evidence is not None:
        for name, z in evidence.standing().items():
            kind = spec_for(name).kind
            if name not in features and (kind not in out or z > out[kind][0]):
                out[kind] = (z, name)
    return out


def wear_findings(
    features: Mapping[str, float],
    evidence: Mapping[str, Mapping[str, float]],
    speed_mps: float,
    baseline: Baseline,
    thresholds: Thresholds,
) -> list[Finding]:
    found = []
    for kind, (score, name) in sorted(wear_scores(features, speed_mps, baseline).items()):
        st = baseline.stat(name, speed_mps)
        ev: dict[str, Any] = {"feature": name, "value": round(features[name], 4)}
        ev.update(evidence.get(name, {}))
        line, load = baseline.lines.get(name), load_of(name, features)
        if line is not None and load is not None:
            excess = line.log_excess(features[name], load)
            if excess is not None:
                ev["over_load_line"] = round(excess - line.excess.median, 3)
        elif st is not None:
            over = features[name] - st.median
            key = "level_db_over_baseline" if _is_db(name) else "over_baseline"
            ev[key] = round(over, 3)
        found.append(Finding(kind, score, thresholds.level_of(score), ev))
    return found


def _is_db(name: str) -> bool:
    if name in SYNC_FEATURES:  # ratios and counts (sheave_sync.py), not dB
        return False
    return name.startswith(("rope.", "sheave.", "inverter.tone_")) or name == "bearing.hf_level"


def ride_finding(metrics: Mapping[str, float], limits: RideLimits) -> Finding | None:
    if not metrics:
        return None
    ratios = [
        metrics[k] / getattr(limits, k) for k in
        ("vertical_max_pk_pk", "vertical_a95", "horizontal_max_pk_pk", "horizontal_a95")
        if k in metrics
    ]
    worst = max(ratios) if ratios else 0.0
    severity = "warning" if worst > 1.0 else "normal"
    ev = {k: round(v, 4) for k, v in metrics.items()}
    return Finding("ride_quality", worst, severity, ev)


def noise_finding(laeq_dba: float, moving: bool, limits: NoiseLimits) -> Finding:
    limit = limits.running_dba if moving else limits.rest_dba
    over = laeq_dba - limit
    severity = "warning" if over > 0 else "normal"
    ev = {"laeq_dba": round(laeq_dba, 1), "limit_dba": limit,
          "state": "trip" if moving else "rest"}
    return Finding("noise_level", math.pow(10, over / 20), severity, ev)
