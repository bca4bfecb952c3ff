"""`liftguard run --config FILE`: the agent daemon.

Loads and validates the config (a bad config is a one-line error and exit 2, before anything
is opened), starts every configured part, tells systemd it is ready (Type=notify), and runs
until SIGTERM or SIGINT, then stops the parts in order: producers first, detector state
saved, the outbox closed (everything in it is already durable) and `offline/shutdown`
published on the retained `state` topic.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE",
                        help="agent config (TOML), e.g. /etc/liftguard/liftguard.toml")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                        help="overrides [runtime] log_level")


def run(args: argparse.Namespace) -> int:
    from agent import config
    from agent.runtime.agent import Agent
    from agent.systemd import SystemdNotifier

    cfg = config.load(args.config)
    level = (args.log_level or cfg["runtime"]["log_level"]).upper()
    # journald adds its own timestamps; a terminal gets them from the format.
    fmt = "%(levelname)s %(name)s: %(message)s" if _under_systemd() else \
        "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, stream=sys.stderr)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logging.getLogger("liftguard").info("signal %d: stopping", signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    notifier = SystemdNotifier()
    try:
        agent = Agent(cfg, notifier=notifier)
        agent.run(stop)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        notifier.close()
    return 0


def _under_systemd() -> bool:
    import os

    return "INVOCATION_ID" in os.environ or "NOTIFY_SOCKET" in os.environ
