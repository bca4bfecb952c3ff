"""Capped exponential reconnect backoff with jitter (pure; the caller sleeps).

Without jitter, every box on a site reconnects in lock-step after a broker restart; the
random half-interval spreads them out ("equal jitter": delay in [d/2, d], d = min(cap,
base * 2^n)). The cap bounds how long a box stays offline after the broker is back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base_s: float
    cap_s: float
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        d = min(self.cap_s, self.base_s * (2.0 ** min(self.attempt, 32)))
        self.attempt += 1
        return self.rng.uniform(d / 2.0, d)

    def reset(self) -> None:
        self.attempt = 0
