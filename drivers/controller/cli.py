"""`liftguard controller probe|read`: the technician's view of the controller link.

    liftguard controller probe --port P [line options]
        reads every shipped profile's poll set and reports which one answers sensibly
    liftguard controller read --port P --profile X [--json] [--follow] [line options]
        prints the decoded readings once, or every --period seconds with --follow

Line options: --baud (19200), --parity (E), --stopbits (1), --device-id (1), --timeout (0.3).
A port that cannot be opened or a controller that does not answer is a one-line error with a
non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from agent.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = "read the elevator controller over Modbus RTU"
    sub = parser.add_subparsers(dest="controller_command", metavar="ACTION",
                                parser_class=type(parser))
    probe = sub.add_parser("probe", help="find which shipped profile the controller answers")
    _line_options(probe)
    read = sub.add_parser("read", help="print the controller's readings")
    _line_options(read)
    read.add_argument("--profile", default="nice3000plus",
                      help="shipped profile name or a .toml path (default nice3000plus)")
    read.add_argument("--json", action="store_true", help="one JSON object per poll")
    read.add_argument("--follow", action="store_true", help="keep polling until Ctrl-C")
    read.add_argument("--period", type=float, default=1.0, help="seconds between polls")
    read.add_argument("--count", type=int, default=0, help="with --follow: stop after N polls")
    parser.set_defaults(_controller_help=parser.format_help)


def _line_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", required=True, help="serial device, pty or pyserial URL")
    p.add_argument("--baud", type=int, default=19200, help="line rate (default 19200)")
    p.add_argument("--parity", type=str.upper, default="E", choices=("N", "E", "O"),
                   help="parity (default E, the Modbus default)")
    p.add_argument("--stopbits", type=int, default=1, choices=(1, 2))
    p.add_argument("--device-id", type=int, default=1, help="Modbus device id (default 1)")
    p.add_argument("--timeout", type=float, default=0.3, help="seconds per transaction")


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "controller_command", None)
    if command is None:
        print(args._controller_help(), end="")
        return 2
    return _probe(args) if command == "probe" else _read(args)


def _client(args: argparse.Namespace) -> Any:
    import logging

    from drivers.controller.client import ControllerClient, LinkSettings

    # failures reach the technician as the command's one-line error or "# ..." lines in
    # --follow output; the link's own warnings are for the daemon's log
    logging.getLogger("liftguard.controller").addHandler(logging.NullHandler())
    if not 1 <= args.device_id <= 247:
        raise InputError(f"--device-id {args.device_id} must be 1..247")
    if not 0.01 <= args.timeout <= 10:
        raise InputError(f"--timeout {args.timeout} must be 0.01..10 s")
    if args.baud not in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400):
        raise InputError(f"--baud {args.baud} is not a standard rate")
    return ControllerClient(LinkSettings(
        port=args.port, baudrate=args.baud, parity=args.parity, stopbits=args.stopbits,
        device_id=args.device_id, timeout_s=args.timeout, retries=1,
    ))


@dataclass(frozen=True)
class ProbeResult:
    profile: str
    reads_ok: int
    reads: int
    plausible: int
    checked: int
    error: str = ""

    @property
    def score(self) -> tuple[float, float]:
        return (self.reads_ok / self.reads, self.plausible / self.checked if self.checked else 0)


def probe_profile(client: Any, profile: Any) -> ProbeResult:
    """Read the profile's poll set; count answered reads and readings inside their range."""
    from drivers.controller.errors import ControllerError, PortGone
    from drivers.controller.planner import plan_reads
    from drivers.controller.rtu import READ_HOLDING, READ_INPUT

    function = READ_INPUT if profile.function == "input" else READ_HOLDING
    plan = plan_reads(profile)
    regs: dict[int, int] = {}
    ok = 0
    first = ""
    for block in plan:
        try:
            values = client.read_registers(block.address, block.count, function=function)
        except PortGone:
            raise
        except ControllerError as exc:
            first = first or str(exc)
            continue
        ok += 1
        regs.update(zip(range(block.address, block.end), values, strict=True))
    readings = profile.decode(regs)
    checked = [f for f in profile.fields if f.range is not None and f.name in readings]
    plausible = sum(1 for f in checked if f.range[0] <= readings[f.name] <= f.range[1])
    return ProbeResult(profile.name, ok, len(plan), plausible, len(checked), first)


def _probe(args: argparse.Namespace) -> int:
    from drivers.controller.profile import builtin_profiles, load_profile

    with _client(args) as client:
        results = [probe_profile(client, load_profile(n)) for n in builtin_profiles()]
    for r in results:
        note = f"  ({r.error})" if r.error else ""
        print(f"{r.profile:16s} reads {r.reads_ok}/{r.reads}  plausible {r.plausible}/"
              f"{r.checked}{note}")
    best = max(results, key=lambda r: r.score)
    if best.reads_ok == 0:
        print("no profile answered: check wiring, baud, parity and device id", file=sys.stderr)
        return 1
    print(f"best match: {best.profile}")
    return 0


def _read(args: argparse.Namespace) -> int:
    from drivers.controller.poller import Poller
    from drivers.controller.profile import load_profile

    if args.period < 0:
        raise InputError(f"--period {args.period} must be >= 0")
    profile = load_profile(args.profile)
    count = (args.count or None) if args.follow else 1
    with _client(args) as client:
        poller = Poller(client, profile, period_s=args.period,
                        deadline_s=max(args.timeout * 4, args.period))
        failures = 0
        for sample in poller.samples(count):
            if not sample.ok and not sample.readings and not args.follow:
                from drivers.controller.errors import ControllerError

                raise ControllerError(sample.detail)
            failures += not sample.ok
            _print(sample, profile, args.json)
    return 0 if failures == 0 else 1


def _print(sample: Any, profile: Any, as_json: bool) -> None:
    if as_json:
        out = {"t": round(time.time(), 3), "ok": sample.ok, "readings": sample.readings}
        if not sample.ok:
            out["error"] = sample.error
            out["detail"] = sample.detail
        print(json.dumps(out), flush=True)
        return
    if not sample.ok:
        print(f"# {sample.error}: {sample.detail}")
    for f in profile.fields:
        if f.name not in sample.readings:
            continue
        value = sample.readings[f.name]
        text = f"{value:#06x}" if f.type == "bits" else f"{value:g}" if isinstance(
            value, float) else str(value)
        print(f"{f.name:24s} {text} {f.unit}".rstrip())
        for b in f.bits:
            print(f"  {b.name:22s} {sample.readings[b.name]}")
    print(flush=True)
