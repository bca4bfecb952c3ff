"""`liftguard firmware build|deploy`: the ESP32 box's image, built here and copied with mpremote.

    liftguard firmware build --config box.toml [-o build/firmware] [--baseline B.json]
    liftguard firmware deploy --port /dev/ttyUSB0 [--dir build/firmware]

The MicroPython image itself is flashed once with esptool (README, "ESP32 firmware").
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from agent.errors import HardwareUnavailable, InputError

DEFAULT_DIR = "build/firmware"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                parser_class=type(parser))
    b = sub.add_parser("build", help="check and compile the firmware, convert profile/config")
    b.add_argument("--config", required=True, metavar="FILE", help="the box's TOML config")
    b.add_argument("-o", "--out", default=DEFAULT_DIR, metavar="DIR")
    b.add_argument("--baseline", metavar="B", help="baseline JSON (default: detectors.baseline)")
    b.add_argument("--board", default="esp32", choices=("esp32", "esp32s3", "none"),
                   help="mpy-cross target; none: portable bytecode")
    d = sub.add_parser("deploy", help="copy a built image to the board with mpremote")
    d.add_argument("--port", required=True, metavar="PORT", help="serial port, e.g. /dev/ttyUSB0")
    d.add_argument("--dir", default=DEFAULT_DIR, metavar="DIR", help="built image directory")
    d.add_argument("--no-reset", action="store_true", help="do not reset the board afterwards")


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        return _build(args)
    return _deploy(args)


def _build(args: argparse.Namespace) -> int:
    from agent import config
    from agent.firmware_build import build

    cfg = config.load(args.config)
    manifest = build(cfg, Path(args.out), baseline=args.baseline, board=args.board)
    size = sum((Path(args.out) / name).stat().st_size for name in manifest)
    print(f"firmware image in {args.out}: {len(manifest)} files, {size} bytes")
    return 0


def deploy_commands(image: Path, port: str, reset: bool = True) -> list[list[str]]:
    """The mpremote invocations that put `image` on the board (one connection each)."""
    exe = shutil.which("mpremote") or str(Path(sys.executable).parent / "mpremote")
    base = [exe, "connect", port]
    cmds = [[*base, "fs", "mkdir", ":lib"], [*base, "fs", "mkdir", ":lib/lg"]]
    files = sorted(p for p in image.rglob("*") if p.is_file())
    copy = [*base, "fs", "cp"]
    for p in files:
        copy += [str(p), ":" + p.relative_to(image).as_posix(), "+", "fs", "cp"]
    cmds.append(copy[:-3])
    if reset:
        cmds.append([*base, "reset"])
    return cmds


def _deploy(args: argparse.Namespace) -> int:
    image = Path(args.dir)
    manifest = image / "MANIFEST.json"
    if not manifest.is_file():
        raise InputError(f"{image}: no built image (run `liftguard firmware build` first)")
    try:
        names = json.loads(manifest.read_text())
    except ValueError as exc:
        raise InputError(f"{manifest}: not JSON: {exc}") from None
    missing = [n for n in names if not (image / n).is_file()]
    if missing:
        raise InputError(f"{image}: files in the manifest are missing: {', '.join(missing)}")
    if not args.port.startswith(("/dev/", "COM", "rfc2217://", "socket://")) \
            and not Path(args.port).exists():
        raise InputError(f"--port {args.port}: no such serial port")
    for cmd in deploy_commands(image, args.port, not args.no_reset):
        if not Path(cmd[0]).exists() and shutil.which(cmd[0]) is None:
            raise HardwareUnavailable("mpremote is not installed (pip install mpremote)")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        already = "mkdir" in cmd and "exists" in (proc.stderr + proc.stdout).lower()
        if proc.returncode != 0 and not already:
            msg = (proc.stderr or proc.stdout).strip().splitlines()
            raise InputError(f"mpremote {' '.join(cmd[3:5])}: {msg[-1] if msg else 'failed'}")
    print(f"deployed {len(names)} files to {args.port}")
    return 0
