"""`liftguard trail verify FILE`: check a maintenance trail's hash chain.

Exit 0 when every record follows from the one before it; exit 1 naming each record that was
edited, removed or moved; exit 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse

from agent.errors import InputError
from agent.trail.chain import verify_file


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="trail_command", metavar="ACTION", required=True)
    v = sub.add_parser("verify", help="check the hash chain of a maintenance trail file")
    v.add_argument("file", help="trail file (JSON lines)")


def run(args: argparse.Namespace) -> int:
    try:
        report = verify_file(args.file)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{args.file}: cannot read trail: {exc}") from None
    if report.ok:
        print(f"{args.file}: ok, {report.records} records, head {report.head[:16]}")
        return 0
    for b in report.breaks:
        print(f"{args.file}: {b}")
    print(f"{args.file}: BROKEN, {len(report.breaks)} problem(s) in {report.records} records")
    return 1
