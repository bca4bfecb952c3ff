"""`liftguard calibrate ACTION --config FILE`: the technician's commissioning workflows.

    controller   identify the profile, confirm scales and fault codes against the keypad
    accel        mounting check and axis alignment with the car at rest
    noise        microphone sensitivity with a 94/114 dB calibrator, background level
    baseline     guided capture of N trips, stability check, learn the detectors' baseline
                 (--from-recordings DIR: from `liftguard sim record` or field captures)
    verify       live data against the stored calibration, pass/fail per item
    rollback     make the previous calibration current again
    show         print the current calibration's summary (validates it)

The box's parts come from the config ([controller], [accel], [noise]); `--simulate` runs the
virtual elevator in-process instead (practice, demos), faster than real time; `--sim-control`
lets the box call the car of a served virtual elevator. Nothing is written until a workflow
has finished: Ctrl-C, a lost controller or a bad answer leave the calibration as it was.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agent.errors import InputError

ACTIONS = ("controller", "accel", "noise", "baseline", "verify", "rollback", "show")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = "commissioning workflows: calibrate the box for this lift"
    parser.epilog = ("actions: " + ", ".join(ACTIONS) + ". Writes the calibration file "
                     "([calibration] path, previous kept as PATH.prev) and an HTML "
                     "commissioning report ([calibration] report_dir).")
    parser.add_argument("action", choices=ACTIONS, metavar="ACTION",
                        help="|".join(ACTIONS))
    parser.add_argument("--config", required=True, metavar="FILE", help="the box's config")
    parser.add_argument("--technician", metavar="NAME", help="who calibrates (asked if absent)")
    parser.add_argument("--trips", type=int, default=0,
                        help="baseline: trips to capture ([calibration] baseline_trips); "
                        "verify: trips to score (default 2)")
    parser.add_argument("--calibrator-db", type=float, default=0.0,
                        help="noise: calibrator level, 94 or 114 ([calibration] calibrator_db)")
    parser.add_argument("--from-recordings", metavar="DIR",
                        help="offline: accel (accel_rest.wav / rest*_accel.wav), noise "
                        "(calibrator*.wav + background*.wav / rest*_audio.wav), baseline "
                        "(controller.csv + tripNNN_accel.wav) from recordings")
    parser.add_argument("--simulate", action="store_true",
                        help="measure an in-process virtual elevator (faster than real time)")
    parser.add_argument("--seed", type=int, default=0, help="--simulate: random seed")
    parser.add_argument("--sim-control", metavar="SOCKET",
                        help="a served virtual elevator's control socket: the box calls its car")
    parser.add_argument("--yes", action="store_true", help="take every default answer")


def run(args: argparse.Namespace) -> int:
    from agent import config
    from calibration import document
    from calibration.console import Console

    cfg = config.load(args.config)
    console = Console(assume_yes=args.yes)
    cal = _paths(cfg)
    trusted = _trusted(cfg)
    if args.action == "rollback":
        doc = document.rollback(cal["path"], trusted, cal["require_signature"])
        print(f"calibration version {doc['version']} ({doc['created']}, {doc['technician']}) "
              f"is current again in {cal['path']}")
        return 0
    if args.action == "show":
        doc = document.load(cal["path"], trusted, cal["require_signature"])
        from calibration.session import summary_of

        print(json.dumps(summary_of(doc, "show", None), indent=1))
        return 0
    session = _session(args, cfg, console, trusted)
    try:
        session.current()  # a refused current file stops every workflow before it starts
        return _workflow(args, session, cfg)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was changed", file=sys.stderr)
        raise
    finally:
        session.close()


def _workflow(args: argparse.Namespace, s: Any, cfg: Any) -> int:
    from calibration import baseline_flow, workflows

    folder = Path(args.from_recordings) if args.from_recordings else None
    if folder is not None and not folder.is_dir():
        raise InputError(f"--from-recordings {folder}: not a folder")
    if args.action == "controller":
        s.commit("controller", workflows.controller(s))
    elif args.action == "accel":
        s.commit("accel", workflows.accel_from_recordings(s, folder) if folder
                 else workflows.accel(s))
    elif args.action == "noise":
        level = args.calibrator_db or cfg["calibration"]["calibrator_db"]
        s.commit("noise", workflows.noise_from_recordings(s, folder, level) if folder
                 else workflows.noise(s, level))
    elif args.action == "baseline":
        if args.from_recordings:
            updates, trips, verdicts = baseline_flow.baseline_from_recordings(
                s, Path(args.from_recordings))
        else:
            n = args.trips or cfg["calibration"]["baseline_trips"]
            if not 1 <= n <= 500:
                raise InputError(f"--trips {n}: must be 1..500")
            updates, trips, verdicts = baseline_flow.baseline(s, n)
        s.commit("baseline", updates, trips, verdicts)
    elif args.action == "verify":
        results = baseline_flow.verify(s, args.trips if args.trips else 2)
        failed = [item for item, ok, _ in results if not ok]
        print("verify: " + ("PASS" if not failed else "FAIL (" + ", ".join(failed) + ")"))
        return 0 if not failed else 1
    return 0


def _paths(cfg: Any) -> dict[str, Any]:
    """[calibration] with relative paths (defaults included) taken from the config's folder,
    as the agent resolves [storage] paths."""
    base = Path(cfg.path).parent if getattr(cfg, "path", None) else Path.cwd()
    out = dict(cfg["calibration"])
    for k in ("path", "report_dir"):
        p = Path(out[k])
        out[k] = str(p if p.is_absolute() else (base / p).resolve())
    return out


def _trusted(cfg: Any) -> dict[str, Any] | None:
    from agent.commands.signing import load_trusted_keys

    keys = cfg["commands"]["trusted_keys"]
    return load_trusted_keys(keys) if keys else None


def _session(args: argparse.Namespace, cfg: Any, console: Any, trusted: Any) -> Any:
    from calibration.console import name
    from calibration.session import Session

    cal = _paths(cfg)
    if args.simulate and args.sim_control:
        raise InputError("--simulate and --sim-control exclude each other")
    key = None
    if cal["signing_key"]:
        from agent.commands.signing import load_private

        key = load_private(cal["signing_key"])
    technician = args.technician
    if technician is None and args.action not in ("verify",):
        technician = console.ask("technician name", name)
    elif technician is not None:
        try:
            technician = name(technician)
        except ValueError as exc:
            raise InputError(f"--technician {args.technician!r}: {exc}") from None
    return Session(cfg, console, technician or "verify", lambda: _rig(args, cfg),
                   Path(cal["path"]), Path(cal["report_dir"]), key, trusted,
                   cal["require_signature"])


def _rig(args: argparse.Namespace, cfg: Any) -> Any:
    from calibration.rigs import ModelRig, open_live_rig

    if not args.simulate:
        return open_live_rig(cfg, args.sim_control)
    from drivers.sim.model import ElevatorModel
    from drivers.sim.params import SimParams

    lift = cfg["lift"]
    params = SimParams().with_overrides(
        ["traffic.random_calls=false"]
        + [f"lift.{k}={lift[k]}" for k in ("floors", "floor_height_m", "rated_speed_mps",
                                           "roping", "sheave_diameter_m", "rope_strands",
                                           "rope_lay_length_m")])
    return ModelRig(ElevatorModel(params, seed=args.seed))
