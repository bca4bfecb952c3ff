"""A soak driver: the real alarm pipeline raising alarms as fast as asked, for crash tests.

    python -m agent.uplink.soak --config lg.toml [--rate 200] [--count N] [--drain]

It raises alarms through AlarmPipeline (the same objects `liftguard run` uses) and prints one
line per committed change, *after* the commit returned:

    ready
    committed raised ALARM_ID MSG_ID
    committed cleared ALARM_ID MSG_ID

so a test that kills it with SIGKILL at any moment knows exactly which alarms the box had
promised to deliver. `--drain` raises nothing and exits 0 once the outbox is empty.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from types import FrameType

from agent import config
from agent.errors import LiftguardError
from agent.uplink.pipeline import AlarmPipeline


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m agent.uplink.soak", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--rate", type=float, default=200.0, help="alarm changes per second")
    ap.add_argument("--count", type=int, default=0, help="stop after N raises (0: forever)")
    ap.add_argument("--drain", action="store_true", help="raise nothing; exit when delivered")
    ap.add_argument("--timeout", type=float, default=120.0, help="--drain gives up after this")
    args = ap.parse_args(argv)
    try:
        pipeline = AlarmPipeline.from_config(config.load(args.config))
    except LiftguardError as exc:
        print(f"soak: error: {exc}", file=sys.stderr)
        return 2
    stopping = False

    def on_term(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    pipeline.start()
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    try:
        if args.drain:
            return _drain(pipeline, args.timeout)
        period = 1.0 / args.rate
        n = 0
        tag = f"{os.getpid()}-{int(time.time() * 1000)}"
        while not stopping and (args.count == 0 or n < args.count):
            a = pipeline.alarms.raise_("soak_test", f"{tag}-{n}", "warning", {"n": n})
            out.write(f"committed raised {a.alarm_id} {a.msg_id}\n")
            if n % 3 == 2:  # every third alarm ends again, so clears are crash-tested too
                c = pipeline.alarms.clear("soak_test", f"{tag}-{n - 1}")
                if c is not None:
                    out.write(f"committed cleared {c.alarm_id} {c.msg_id}\n")
            out.flush()
            n += 1
            time.sleep(period)
        return 0
    finally:
        pipeline.stop()


def _drain(pipeline: AlarmPipeline, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pipeline.online and pipeline.outbox.stats().durable == 0:
            return 0
        time.sleep(0.05)
    print(f"soak: outbox not drained within {timeout} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
