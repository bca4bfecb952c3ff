"""`liftguard baseline learn FILE... -o B.json`: learn a healthy baseline from recordings.

The files (WAV recordings with sidecars, controller CSV traces) must come from one lift in
good condition; the baseline holds robust statistics of every detector feature per speed range
and, from the traces, the heatsink's thermal model. It is written atomically.
"""

from __future__ import annotations

import argparse

from agent.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                parser_class=type(parser))
    learn = sub.add_parser("learn", help="learn a baseline from healthy recordings",
                           description="learn a baseline from healthy recordings")
    learn.add_argument("files", nargs="+", metavar="FILE", help="WAV (+ sidecar) or CSV files")
    learn.add_argument("-o", "--output", required=True, metavar="B.json", help="baseline file")
    learn.add_argument("--min-count", type=int, default=8,
                       help="observations a speed range needs before it is used on its own")


def run(args: argparse.Namespace) -> int:
    from agent.detectors.offline import learn_baseline

    if args.min_count < 1:
        raise InputError(f"--min-count = {args.min_count}: must be >= 1")
    for path in args.files:
        if not path.lower().endswith((".wav", ".csv")):
            raise InputError(f"{path}: expected a .wav recording or a .csv controller trace")
    baseline = learn_baseline(args.files)
    baseline.min_count = args.min_count
    baseline.save(args.output)
    n = max((bins["all"].n for bins in baseline.stats.values() if "all" in bins), default=0)
    print(f"baseline: {len(baseline.stats)} features, {n} observations -> {args.output}")
    return 0
