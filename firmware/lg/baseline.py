"""Scoring board features against the healthy baseline (liftguard.baseline/1) that
`liftguard baseline learn` writes, as agent/detectors/baseline.py scores them.

The build keeps only the features the board computes and resolves each feature's scoring rule,
so the board file is {"features": {name: {"spec": [kind, floor, relative, two_sided],
"bins": {bin: [n, median, mad]}}}, "speed_bin_mps", "min_count"}. A score is in baseline
units: z = (x - median) / max(1.4826 * MAD, floor), per car-speed bin, falling back to all
speeds pooled when the bin has fewer than min_count observations.
"""

MAD_TO_SIGMA = 1.4826  # the MAD's consistency factor for a normal distribution
SCHEMA = "liftguard.baseline/1"


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
        except (KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"{where}: malformed baseline ({exc})") from None

    def stat(self, name: str, speed: float):
        f = self.features.get(name)
        if f is None:
            return None, None
        bins = f["bins"]
        s = bins.get(str(int(round(abs(speed) / self.bin_w))))
        if s is None or s[0] < self.min_count:
            pooled = bins.get("all")
            if pooled is not None and pooled[0] >= self.min_count:
                s = pooled
        return s, f["spec"]

    def score(self, name: str, speed: float, value: float):
        """Anomaly score, or None when the baseline lacks the feature."""
        s, spec = self.stat(name, speed)
        if s is None or value != value:  # NaN
            return None
        _, floor, relative, two_sided = spec
        floor = floor * abs(s[1]) if relative else floor
        scale = max(MAD_TO_SIGMA * s[2], floor, 1e-12)
        z = (value - s[1]) / scale
        return abs(z) if two_sided else z

    def findings(self, feats: dict, speed: float, warning: float, critical: float) -> list:
        """(kind, severity, feature, score) for every feature at or above `warning`."""
        out = []
        for name, value in feats.items():
            z = self.score(name, speed, value)
            if z is not None and z >= warning:
                kind = self.features[name]["spec"][0]
                out.append((kind, "critical" if z >= critical else "warning", name, z))
        return out
