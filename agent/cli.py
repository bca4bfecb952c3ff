"""The `liftguard` command line.

Subcommands live in their own modules and are imported only when chosen, so `liftguard --help`
stays fast and never imports numpy, pymodbus or a hardware library. To add one, append a line
to SUBCOMMANDS: (name, module, one-line help). The module provides
`configure(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from agent import __version__
from agent.errors import LiftguardError

SUBCOMMANDS: list[tuple[str, str, str]] = [
    ("sim", "drivers.sim.cli", "run or control the virtual elevator"),
    ("controller", "drivers.controller.cli", "probe or read the elevator controller (Modbus)"),
    ("analyze", "agent.analyze_cli", "offline analysis of recordings (wear, ride, noise)"),
    ("baseline", "agent.baseline_cli", "learn a healthy baseline from recordings"),
    ("demo", "agent.demo", "the whole system on one machine, with a live view"),
    ("keys", "agent.keys_cli", "operator key pairs and signed commands (Ed25519)"),
    ("trail", "agent.trail.cli", "check the maintenance trail's hash chain"),
    ("firmware", "agent.firmware_cli", "build or deploy the ESP32 firmware"),
    ("run", "agent.run_cli", "the agent daemon: poll, detect, alarm, upload"),
    ("doctor", "agent.doctor", "check ports, controller, sensors, broker, clock and disk"),
    ("calibrate", "agent.calibrate_cli", "commissioning: calibrate controller, sensors, baseline"),
]


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error style of the rest of liftguard."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = _Parser(prog="liftguard", description="liftguard elevator sensor box")
    parser.add_argument("--version", action="version", version=f"liftguard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, module, help_text in SUBCOMMANDS:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            mod = importlib.import_module(module)
            mod.configure(p)
            p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0 if not args_list else 2
    try:
        return int(args._run(args) or 0)
    except LiftguardError as exc:
        print(f"liftguard {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
