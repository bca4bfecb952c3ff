"""`liftguard sim`: run the virtual elevator, or talk to one that is running.

    liftguard sim run [options]        serve it in real time until SIGINT/SIGTERM
    liftguard sim inject --control PATH NAME=VALUE [NAME=VALUE ...]
    liftguard sim clear --control PATH NAME [NAME ...]
    liftguard sim status --control PATH [--json]
    liftguard sim faults               list the fault catalogue

`liftguard sim` alone prints this help and exits 2 (a subcommand is required).

`run` prints one line per endpoint on stdout, then `ready`, and flushes:

    controller: /dev/pts/7      the agent's end of the controller link (a pty)
    link: /tmp/lift0            only with --link
    sensors: /tmp/.../sensors.sock
    control: /tmp/.../control.sock
    line: 19200 8N1             the line the wire emulator paces ("(not paced)" if off)
    ready

That output is a contract: tests and the demo start the sim as a subprocess and read it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tomllib
from pathlib import Path
from typing import Any

from agent.errors import HardwareUnavailable, InputError

EPILOG = """\
output: one line per endpoint on stdout, then "ready" (flushed):
  controller: PTY   link: PATH (with --link)   sensors: SOCKET   control: SOCKET
  line: 19200 8N1   ready
It runs until SIGINT or SIGTERM, then stops its socat processes and removes link and sockets.
Control a running sim with `liftguard sim inject|clear|status --control SOCKET`.

line: 19200 baud, 8N1, device id 1 unless given. Ptys reject parity settings, so the pty
runs 8N1 and the wire emulator charges the parity bit's time when E or O is configured.
--set takes section.key=value for the model parameters (see drivers/sim/params.py), e.g.
--set lift.rated_speed_mps=2.5; --config FILE takes the same as TOML tables ([lift],
[electrical], [thermal], [sensor], [traffic]); other sections of an agent config are ignored.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = "run the virtual elevator, or inject faults into a running one"
    sub = parser.add_subparsers(dest="sim_command", metavar="ACTION", parser_class=type(parser))

    run = sub.add_parser("run", help="serve the virtual elevator until SIGINT/SIGTERM",
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--config", metavar="FILE", help="TOML file with model parameters")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--profile", default="nice3000plus",
                     help="controller register profile, name or .toml path")
    run.add_argument("--baud", type=int, default=19200, help="line rate (default 19200)")
    run.add_argument("--parity", default="N", type=str.upper, help="N, E or O (default N)")
    run.add_argument("--stopbits", type=int, default=1, help="1 or 2 (default 1)")
    run.add_argument("--device-id", type=int, default=1, help="Modbus device id (default 1)")
    run.add_argument("--link", metavar="PATH", help="also put a symlink to the controller pty here")
    run.add_argument("--no-wire-emulation", action="store_true",
                     help="deliver bytes at once instead of at the baud rate with t3.5 gaps")
    run.add_argument("--sensors", metavar="SOCKET_PATH", help="sensor stream socket path")
    run.add_argument("--control", metavar="SOCKET_PATH", help="control socket path")
    run.add_argument("--inject", action="append", default=[], metavar="NAME=VALUE",
                     help="inject a fault from the start (repeatable)")
    run.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                     help="override a model parameter, e.g. lift.rated_speed_mps=2.5")
    run.add_argument("--calls", choices=("random", "none"), default="random",
                     help="random passenger traffic, or none (calls only by `call`)")
    run.add_argument("--speedup", type=float, default=1.0,
                     help="simulated seconds per wall second (default 1)")

    inject = sub.add_parser("inject", help="inject faults into a running sim")
    inject.add_argument("--control", required=True, metavar="SOCKET_PATH")
    inject.add_argument("faults", nargs="+", metavar="NAME=VALUE")

    clear = sub.add_parser("clear", help="clear faults in a running sim")
    clear.add_argument("--control", required=True, metavar="SOCKET_PATH")
    clear.add_argument("names", nargs="+", metavar="NAME")

    status = sub.add_parser("status", help="show the state of a running sim")
    status.add_argument("--control", required=True, metavar="SOCKET_PATH")
    status.add_argument("--json", action="store_true", help="one JSON object")

    sub.add_parser("faults", help="list the injectable faults")
    from drivers.sim.record import configure_record  # detectors issue: `sim record`

    configure_record(sub)
    parser.set_defaults(_sim_help=parser.format_help)


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "sim_command", None)
    if command is None:
        print(args._sim_help(), end="")
        return 2
    return int(_ACTIONS[command](args))


def parse_assignments(items: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(f"{what} {item!r} must look like NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


def load_params(config: str | None, overrides: list[str], calls: str) -> Any:
    from agent.config_schema import SCHEMA
    from drivers.sim.params import SECTIONS, SimParams

    data: dict[str, Any] = {}
    if config:
        path = Path(config)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror}") from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"{path}: not valid TOML: {exc}") from None
        for name, table in raw.items():
            if name in SECTIONS:
                data[name] = table
            elif name not in SCHEMA:  # an agent config's own sections are not ours to check
                raise InputError(f"{path}: unknown section [{name}] "
                                 f"(model sections: {', '.join(SECTIONS)})")
        try:
            params = SimParams.from_mapping(data)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
    else:
        params = SimParams()
    params = params.with_overrides(overrides)
    if calls == "none":
        params = params.with_overrides(["traffic.random_calls=false"])
    return params


def _run(args: argparse.Namespace) -> int:
    from drivers.controller.profile import load_profile
    from drivers.sim.faults import validate
    from drivers.sim.model import ElevatorModel
    from drivers.sim.server import ServedOptions, ServedSim
    from drivers.sim.wire import LineSettings

    line = LineSettings(args.baud, args.parity, args.stopbits)
    profile = load_profile(args.profile)
    params = load_params(args.config, args.set, args.calls)
    injections = parse_assignments(args.inject, "--inject")
    numbers = list(profile.faults)
    checked = {name: validate(name, value, numbers) for name, value in injections.items()}
    options = ServedOptions(
        line=line, device_id=args.device_id, link=args.link,
        wire_emulation=not args.no_wire_emulation, sensors=args.sensors, control=args.control,
        speedup=args.speedup, seed=args.seed,
    )
    if not 1 <= args.device_id <= 247:
        raise InputError(f"--device-id {args.device_id} must be 1..247")
    # The model validates controller_fault numbers against the served profile's fault table.
    model = ElevatorModel(params, seed=args.seed, profile=profile)
    for name, value in checked.items():
        model.inject(name, value)
    sim = ServedSim(model, profile, options)
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda *_: sim.request_stop()) for s in stop_signals}
    try:
        endpoints = sim.start()
        for text in [*endpoints.lines(), f"line: {line.describe()}"
                     f"{'' if options.wire_emulation else ' (not paced)'}", "ready"]:
            print(text)
        sys.stdout.flush()
        while not sim.wait(0.5):
            if reason := sim.failure():
                raise HardwareUnavailable(reason)
    finally:
        sim.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0


def _inject(args: argparse.Namespace) -> int:
    from drivers.sim.control import send

    faults = parse_assignments(args.faults, "fault")
    reply = send(args.control, {"cmd": "inject", "faults": faults})
    print("active: " + _faults_text(reply.get("active", {})))
    return 0


def _clear(args: argparse.Namespace) -> int:
    from drivers.sim.control import send

    reply = send(args.control, {"cmd": "clear", "names": list(args.names)})
    print("active: " + _faults_text(reply.get("active", {})))
    return 0


def _status(args: argparse.Namespace) -> int:
    from drivers.sim.control import send

    status = send(args.control, {"cmd": "status"})["status"]
    if args.json:
        print(json.dumps(status, sort_keys=True))
        return 0
    for key, value in status.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        print(f"{key}: {value}")
    return 0


def _faults(args: argparse.Namespace) -> int:
    from drivers.sim.faults import FAULTS

    width = max(len(n) for n in FAULTS)
    for spec in FAULTS.values():
        print(f"{spec.name:<{width}}  {spec.range_text:<22}  {spec.help}")
    return 0


def _faults_text(active: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in active.items()) or "none"


_ACTIONS = {"run": _run, "inject": _inject, "clear": _clear, "status": _status,
            "faults": _faults}


def _record(args: argparse.Namespace) -> int:
    from drivers.sim.record import run_record

    return run_record(args)


_ACTIONS["record"] = _record
