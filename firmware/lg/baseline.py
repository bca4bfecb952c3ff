"""Scoring board features against the healthy baseline (liftguard.baseline/1) that
`liftguard baseline learn` writes, exactly as agent/detectors/baseline.py scores them.

The build keeps only the features the board computes and resolves each feature's scoring rule,
so the board file is {"features": {name: {"spec": [kind, floor, relative, two_sided],
"bins": {bin: [n, median, mad]}, "trend": [n, intercept, slope, mad]}}, "speed_bin_mps",
"min_count"} ("trend", the Pi's Theil-Sen line of the feature against speed, is absent when
the healthy history had fewer than two running observations).

A score is in baseline units, z = (x - median) / scale, with
scale = max(1.4826 * MAD, floor) * sqrt(1 + pi / (2 n)): the MAD's sigma, never under the
feature's floor, widened by the uncertainty of a median of n values (its variance is
pi/2 sigma^2 / n for normal data). The statistic is the car-speed bin's own; standing still
(bin 0) is never pooled with running. A running bin with fewer than min_count observations
falls back to the speed trend at this speed, else to all running speeds pooled.
"""

import math

MAD_TO_SIGMA = 1.4826  # the MAD's consistency factor for a normal distribution
MEDIAN_VAR = math.pi / 2  # variance of a sample median, in sigma^2 / n (normal data)
SCHEMA = "liftguard.baseline/1"
WEAR_KINDS = ("rope_wear", "sheave_wear", "bearing_wear", "inverter_wear")  # scoring.py's


class BaselineError(Exception):
    pass


class Baseline:
    def __init__(self, d: dict, where: str = "baseline.json") -> None:
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise BaselineError(f"{where}: schema must be {SCHEMA!r}")
        try:
            self.bin_w = float(d["speed_bin_mps"])
            self.min_count = int(d["min_count"])
            self.features = d["features"]
            for name, f in self.features.items():
                if len(f["spec"]) != 4:
                    raise BaselineError(f"{where}: feature {name}: bad spec")
                for b in f["bins"].values():
                    if len(b) != 3:
                        raise BaselineError(f"{where}: feature {name}: bad bin")
                if "trend" in f and len(f["trend"]) != 4:
                    raise BaselineError(f"{where}: feature {name}: bad trend")
        except (KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"{where}: malformed baseline ({exc})") from None

    def stat(self, name: str, speed: float):
        """([n, median, mad] or None, spec) of the feature at this car speed."""
        f = self.features.get(name)
        if f is None:
            return None, None
        bins = f["bins"]
        b = str(int(round(abs(speed) / self.bin_w)))
        s = bins.get(b)
        if b == "0" or (s is not None and s[0] >= self.min_count):
            return s, f["spec"]  # standing still is its own regime: never pooled with running
        t = f.get("trend")
        if t is not None and t[0] >= self.min_count:
            return (t[0], t[1] + t[2] * abs(speed), t[3]), f["spec"]
        pooled = bins.get("all")
        if pooled is not None and pooled[0] >= self.min_count:
            s = pooled
        return s, f["spec"]

    def score(self, name: str, speed: float, value: float):
        """Anomaly score, or None when the baseline lacks the feature."""
        s, spec = self.stat(name, speed)
        if s is None or not math.isfinite(value):
            return None
        _, floor, relative, two_sided = spec
        floor = floor * abs(s[1]) if relative else floor
        scale = max(MAD_TO_SIGMA * s[2], floor, 1e-12) * math.sqrt(1 + MEDIAN_VAR / s[0])
        z = (value - s[1]) / scale
        return abs(z) if two_sided else z

    def scores(self, feats: dict, speed: float) -> dict:
        """Per finding kind: (score, feature) of its highest-scoring feature (the Pi's
        wear_scores, without the tone pairing and slow-wear evidence the board lacks)."""
        out: dict = {}
        for name, value in feats.items():
            z = self.score(name, speed, value)
            kind = self.features[name]["spec"][0] if z is not None else None
            # kinds outside WEAR_KINDS are kept as evidence, not scored (the Pi)
            if kind in WEAR_KINDS and (kind not in out or z > out[kind][0]):
                out[kind] = (z, name)
        return out
