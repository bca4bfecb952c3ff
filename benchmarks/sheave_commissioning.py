"""The live agent's sheave detector from a short commissioning, on a car-roof sensor.

benchmarks/detection.py scores the detectors on baselines learned offline over ~400 trips.
A box in the field starts from `[runtime] baseline_trips` (20 by default) or a technician's
12-trip calibration, which hold too few synchronous figures (sheave_sync.py) for a healthy
level; the wear stage learns that level later, into the baseline in use, once SYNC_LEARN
figures are in (agent/runtime/wear.py). This runs the agent's own WearStage on the virtual
elevator (controller polls and accelerometer blocks as the agent receives them, trips
analysed and absorbed in order) and measures, for one car-roof geometry:

1. commissioning: the trip at which the baseline is learned, and the trip at which it gains
   the sheave's synchronous figure;
2. healthy service after that: sheave scores >= warning (false alarms) and the severity;
3. sheave wear injected at the goal level (+6 dB, level 0.3) from then on: trips until the
   first score >= warning and until the latched severity is `warning`, and the share of
   trips >= warning once the synchronous window (SYNC_TRIPS trips that carry the figure)
   holds only worn trips.

    python benchmarks/sheave_commissioning.py [--healthy-trips N] [--worn-trips N] [--seed S]

Ends with one `summary:` line.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.detectors.offline import Settings  # noqa: E402
from agent.detectors.sheave_sync import FEATURE, SYNC_TRIPS  # noqa: E402
from agent.detectors.tracker import WearTracker  # noqa: E402
from agent.runtime.wear import WearFinding, WearStage  # noqa: E402
from benchmarks.detection import GEOMETRIES, geometry, params  # noqa: E402
from drivers.controller.sample import ControllerSample  # noqa: E402
from drivers.sim.model import ElevatorModel  # noqa: E402
from drivers.sim.record import TripCapture  # noqa: E402

KIND = "sheave_wear"
GOAL_LEVEL = 0.3  # +6 dB on the sheave orders (drivers/sim/faults.py: 20 dB x level)
LEARN_TRIPS = 20  # the runtime default of [runtime] baseline_trips (agent/config_schema.py)


class Run:
    """The virtual elevator polled every 0.1 s into a WearStage, as the agent runs it."""

    def __init__(self, seed: int, workdir: Path) -> None:
        p = params(GEOMETRIES[0][1])  # 2:1, D400, 1.75 m/s, sensor on the car roof
        assert p.sensor.mount != "machine"
        self.model = ElevatorModel(p, seed=seed)
        self.capture = TripCapture(self.model)  # for its register encoding of the readings
        self.stage = WearStage(geometry(p), Settings(), baseline=None,
                               baseline_path=workdir / "baseline.json",
                               learn_trips=LEARN_TRIPS, tracker=WearTracker(),
                               state_path=workdir / "state.json", keep_s=40.0)
        self.trips = 0

    def next_trip(self) -> list[WearFinding]:
        """Run until the stage absorbs a trip; its findings."""
        m, st = self.model, self.stage
        while True:
            m.advance(0.1)
            for b in m.drain_blocks():
                st.add_block(b, m.t)
            jobs = st.feed(ControllerSample(m.t, self.capture.polled()))
            if jobs:
                self.trips += 1
                out: list[WearFinding] = []
                for job in jobs:
                    out += st.absorb(job.analyse())
                return out


def sheave(found: list[WearFinding]) -> WearFinding | None:
    return next((f for f in found if f.kind == KIND), None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--healthy-trips", type=int, default=300,
                    help="healthy trips scored after the figure is learned (default 300)")
    ap.add_argument("--worn-trips", type=int, default=2 * SYNC_TRIPS,
                    help=f"trips with the sheave worn (default {2 * SYNC_TRIPS})")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        run = Run(args.seed, Path(tmp))
        st = run.stage
        learned_at = synced_at = None
        while synced_at is None and run.trips < 2000:
            run.next_trip()
            if learned_at is None and st.baseline is not None:
                learned_at = run.trips
            if st.baseline is not None and FEATURE in st.baseline.stats:
                synced_at = run.trips
        if synced_at is None:
            print("the synchronous figure was not learned in 2000 trips")
            return 1
        assert st.baseline is not None
        print(f"baseline learned after {learned_at} trips; sheave synchronous figure learned "
              f"into it after {synced_at} trips ({st.baseline.sources[-1]})", flush=True)
        healthy = [f for f in (sheave(run.next_trip()) for _ in range(args.healthy_trips)) if f]
        fa = sum(f.score >= st.tracker.thresholds.warning for f in healthy)
        on_sync = sum(f.evidence["feature"] == FEATURE for f in healthy)
        worst = max((f.score for f in healthy), default=float("nan"))
        sev_h = max((f.severity for f in healthy), key=("normal", "warning", "critical").index,
                    default="normal")
        print(f"healthy: {len(healthy)} sheave scores ({on_sync} set by the synchronous "
              f"figure), {fa} >= warning, max {worst:.2f}, worst severity {sev_h}", flush=True)
        run.model.inject("sheave_wear", GOAL_LEVEL)
        # the window holds worn trips only once the last healthy trip in it has left
        last_healthy = st.tracker.sync.entries[-1] if st.tracker.sync.entries else None
        first_score = first_warning = None
        late: list[float] = []
        for k in range(1, args.worn_trips + 1):
            f = sheave(run.next_trip())
            if f is None:
                continue
            if first_score is None and f.score >= st.tracker.thresholds.warning:
                first_score = k
            if first_warning is None and f.severity != "normal":
                first_warning = k
            if all(e is not last_healthy for e in st.tracker.sync.entries):
                late.append(f.score)
        det = 100.0 * sum(s >= st.tracker.thresholds.warning for s in late) / max(len(late), 1)
        print(f"sheave wear {GOAL_LEVEL} (+6 dB) from trip {run.trips - args.worn_trips}: "
              f"first score >= warning after {first_score} trips, severity warning after "
              f"{first_warning}; {det:.1f} % of {len(late)} trips >= warning once the window "
              "holds worn trips only")
    print(f"wall time {time.time() - t0:.0f} s")
    print(f"summary: baseline_learned_trip={learned_at} sync_learned_trip={synced_at} "
          f"healthy_scored={len(healthy)} healthy_on_sync={on_sync} healthy_fa={fa} "
          f"healthy_max_score={worst:.3g} worn_first_score_trip={first_score} "
          f"worn_warning_trip={first_warning} worn_detect_pct={det:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
