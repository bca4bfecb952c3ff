"""`liftguard keys`: operator key pairs and signed commands.

    liftguard keys generate ops1                 # ops1.key (0600) + ops1.pub
    liftguard keys public ops1.key               # the line for the box's trusted-keys file
    liftguard keys sign --key ops1.key --device s1/L2 --command alarm.ack \\
        --arg alarm_id=0d6c...                   # prints the signed JSON for `cmd`

The counter defaults to the current time in milliseconds, which grows across operators'
laptops without shared state; give --counter to control it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from agent.commands.signing import key_id, load_private, public_line, sign, write_key_pair
from agent.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    g = sub.add_parser("generate", help="new Ed25519 key pair: NAME.key (0600) and NAME.pub")
    g.add_argument("name", help="path stem, e.g. keys/ops1")
    g.add_argument("--comment", default="", help="text after the key in NAME.pub")
    p = sub.add_parser("public", help="print the public key line of a private key")
    p.add_argument("key", help="private key file")
    s = sub.add_parser("sign", help="print a signed command for `cmd`")
    s.add_argument("--key", required=True, help="private key file")
    s.add_argument("--device", required=True, help="site/lift the command is for")
    s.add_argument("--command", required=True, help="e.g. alarm.ack, maintenance.start")
    s.add_argument("--arg", action="append", default=[], metavar="NAME=VALUE",
                   help="argument; VALUE is parsed as JSON if it can be, else a string")
    s.add_argument("--counter", type=int, default=None, help="default: now in milliseconds")
    s.add_argument("--ttl", type=float, default=300.0, help="seconds until it expires")


def run(args: argparse.Namespace) -> int:
    if args.keys_command == "generate":
        stem = Path(args.name)
        key_path, pub_path, kid = write_key_pair(stem, args.comment or stem.name)
        print(f"private key {key_path} (mode 600), public key {pub_path}, key id {kid}")
        return 0
    if args.keys_command == "public":
        key = load_private(args.key).public_key()
        print(public_line(key, Path(args.key).stem))
        print(f"# key id {key_id(key)}")
        return 0
    return _sign(args)


def _sign(args: argparse.Namespace) -> int:
    if args.device.count("/") != 1 or not all(args.device.split("/")):
        raise InputError(f"--device {args.device!r}: expected SITE/LIFT")
    if args.ttl <= 0:
        raise InputError(f"--ttl {args.ttl}: must be > 0")
    now = time.time()
    counter = args.counter if args.counter is not None else int(now * 1000)
    if counter < 1:
        raise InputError(f"--counter {counter}: must be >= 1")
    cmd = sign(load_private(args.key), device=args.device, command=args.command,
               args=_parse_args(args.arg), counter=counter, expires=now + args.ttl, now=now)
    print(json.dumps(cmd, separators=(",", ":")))
    return 0


def _parse_args(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputError(f"--arg {pair!r}: expected NAME=VALUE")
        try:
            out[name] = json.loads(value)
        except ValueError:
            out[name] = value
    return out
