"""Running the agent on a replayed recording until it has played and scored every trip:
shared by the replay tests (controller trace alone, and whole session recordings)."""

from __future__ import annotations

import threading
import time

from agent.runtime.agent import Agent

RUN_LIMIT_S = 120.0  # a bound on the replay, not a timing assertion: a hang fails, not waits


def run_to_end(agent: Agent, trips: int) -> None:
    """Run the agent's loop on a thread until the trace is played and `trips` are scored."""
    stop = threading.Event()
    runner = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    runner.start()
    replay = agent.controller.poller.replay  # type: ignore[union-attr]
    deadline = time.monotonic() + RUN_LIMIT_S
    try:
        while time.monotonic() < deadline and runner.is_alive():
            # every trip's result taken back (a job being analysed is in no queue)
            if replay.finished and agent.wear.absorbed >= trips:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        runner.join(30)
    assert replay.finished, "the trace did not play to its end within the run limit"
    assert not agent.analysis.failures, "a trip's analysis raised (see the log)"
