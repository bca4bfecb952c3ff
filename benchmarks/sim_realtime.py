"""How much of a core the virtual elevator needs to run in real time.

Goal (issue 2): serving 3 x 3200 Hz acceleration + 16 kHz sound plus the controller model in
real time costs well under 10 % of one core. Measured three ways over the same simulated
minute of random traffic (same seed):

- serving: advance(10 ms) a hundred times a second, drain the blocks every 100 ms, read the
  registers every 100 ms -- the pattern of the served mode;
- batch: one advance(60 s) and one drain (data-set generation);
- physics only: synthesis off (controller, drive, DC link, heatsink).

Reference, measured in the same run: drawing the same number of Gaussian samples with numpy
(the least any synthesiser of noisy signals must spend). The ratio says how many times that
floor the full model costs.

    .venv/bin/python benchmarks/sim_realtime.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from drivers.sim.model import ElevatorModel
from drivers.sim.params import SimParams


def busy_params() -> SimParams:
    return SimParams().with_overrides(["traffic.calls_per_minute=6"])


def serving(seconds: float) -> float:
    model = ElevatorModel(busy_params(), seed=1)
    start = time.process_time()
    for _ in range(int(seconds * 10)):
        for _ in range(10):
            model.advance(0.01)
        model.readings()
        model.drain_blocks()
    return time.process_time() - start


def batch(seconds: float, synthesize: bool = True) -> float:
    model = ElevatorModel(busy_params(), seed=1, synthesize=synthesize)
    start = time.process_time()
    model.advance(seconds)
    model.drain_blocks()
    return time.process_time() - start


def noise_floor(seconds: float) -> float:
    rng = np.random.default_rng(0)
    sp = SimParams().sensor
    start = time.process_time()
    for _ in range(int(seconds * 10)):
        rng.standard_normal((sp.accel_fs // 10, 3))
        rng.standard_normal(sp.audio_fs // 10)
    return time.process_time() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="simulated seconds per run")
    s = ap.parse_args().seconds
    batch(2.0)  # warm caches and imports
    ref = noise_floor(s)
    serve = serving(s)
    whole = batch(s)
    physics = batch(s, synthesize=False)
    print(f"simulated {s:g} s of random traffic per run (CPU time, one core)")
    print(f"  reference (numpy Gaussian draws only): {ref:.3f} s = {100 * ref / s:.2f} % of a core")
    print(f"  serving (10 ms steps, 100 ms drains):  {serve:.3f} s = {100 * serve / s:.2f} %"
          f" of a core, real-time factor {s / serve:.1f}x, {serve / ref:.1f}x reference")
    print(f"  batch (one advance):                   {whole:.3f} s = {100 * whole / s:.2f} %"
          f" of a core, real-time factor {s / whole:.1f}x")
    print(f"  physics only (no synthesis):           {physics:.3f} s = {100 * physics / s:.2f} %")
    print(f"summary: serving_core_pct={100 * serve / s:.2f} "
          f"serving_realtime_factor={s / serve:.1f} batch_realtime_factor={s / whole:.1f} "
          f"physics_core_pct={100 * physics / s:.2f} "
          f"serving_vs_reference={serve / ref:.1f} goal_core_pct=10")


if __name__ == "__main__":
    main()
