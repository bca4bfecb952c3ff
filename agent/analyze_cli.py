"""`liftguard analyze FILE... [--baseline B] [--json]`: offline analysis of recordings.

Each FILE is a WAV recording (with its sidecar JSON) or a controller CSV trace; the WAVs of a
session recording (`sim record --session`) are cut into trips by their CSV. With --json,
one JSON object per input file is printed on its own line (ARCHITECTURE.md, analyze contract);
without, a short human summary. Wear findings need a baseline; ride quality and noise level
are judged against the configured limits alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from agent.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="WAV (+ sidecar) or CSV files")
    parser.add_argument("--baseline", metavar="B", help="baseline JSON from `baseline learn`")
    parser.add_argument("--config", metavar="FILE",
                        help="agent config: [detectors] thresholds and limits")
    parser.add_argument("--json", action="store_true", help="one JSON object per file")


def run(args: argparse.Namespace) -> int:
    from agent.detectors.baseline import Baseline
    from agent.detectors.offline import analyze_paths

    options = session_options(args.config)
    baseline = Baseline.load(args.baseline) if args.baseline else None
    alarms = 0
    for path in args.files:
        if not path.lower().endswith((".wav", ".csv")):
            raise InputError(f"{path}: expected a .wav recording or a .csv controller trace")
    for result in analyze_paths(args.files, baseline, options.settings, options):
        alarms += sum(1 for f in result["findings"] if f["alarm"])
        if args.json:
            print(json.dumps(result, separators=(",", ":")))
        else:
            _print_human(result)
        sys.stdout.flush()
    return 0


def session_options(path: str | None) -> Any:
    """Detector settings, and for a session the agent's ring length and trend weight, from
    the agent config (or the schema defaults): a session is analysed as the agent runs it."""
    from agent import config
    from agent.detectors.settings import settings_from_config, settings_from_section
    from agent.runtime.offline_session import SessionOptions

    if path is None:
        return SessionOptions(settings_from_config(None))
    cfg = config.load(path)
    return SessionOptions(settings_from_section(cfg.detectors), cfg.runtime["sensor_buffer_s"],
                          cfg.detectors["trend_alpha"])


def _print_human(result: dict[str, Any]) -> None:
    print(result["file"])
    if not result["findings"]:
        print("  no findings")
    for f in result["findings"]:
        score = f" score {f['score']:.1f}" if "score" in f else ""
        print(f"  {f['kind']:<14} {f['severity']:<8}{score}")
