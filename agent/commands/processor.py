"""From raw bytes on `cmd` to an answer on `cmd/result`: verify, dispatch, report.

Every command gets exactly one result, committed to the durable outbox: `ok`, `rejected`
(failed a check in verify.py; nothing was done) or `failed` (accepted, but the handler could
not do it; the counter is still spent, so the same signed command cannot be retried).
"""

from __future__ import annotations

import logging
from typing import Any

from agent.commands.table import CommandContext, CommandFailed, CommandTable
from agent.commands.verify import CommandRejected, CommandVerifier
from agent.outbox import Clock, Outbox, envelope

log = logging.getLogger(__name__)

DETAIL_MAX = 500
# Answers to rejected commands are rate-limited: whoever can write to `cmd` without a trusted
# key must not be able to fill the outbox and wear the flash with fsynced replies (ETSI EN
# 303 645 provision 5.9, resilience). The suppressed count is reported in one event.
REJECTIONS_PER_WINDOW = 30
WINDOW_S = 60.0


class CommandProcessor:
    def __init__(self, verifier: CommandVerifier, table: CommandTable, outbox: Outbox,
                 clock: Clock) -> None:
        self.verifier = verifier
        self.table = table
        self._outbox = outbox
        self._clock = clock
        self._window_start = float("-inf")
        self._rejections = 0
        self._suppressed = 0

    def handle(self, raw: bytes) -> dict[str, Any]:
        """Process one received command; returns the result payload it queued ({} when a
        rejection went unanswered because of the rate limit)."""
        try:
            cmd = self.verifier.verify(raw, self._clock())
        except CommandRejected as rej:
            if not self._may_answer_rejection():
                return {}
            log.warning("command rejected: %s (%s)", rej.reason, rej.detail)
            return self._answer(rej.cmd_id, rej.command, "rejected", rej.reason, rej.detail, {})
        ctx = CommandContext(cmd.id, cmd.key_id)
        try:
            result = self.table.run(cmd.command, cmd.args, ctx)
        except CommandFailed as exc:
            status = "rejected" if exc.reason in ("unknown_command", "bad_args") else "failed"
            return self._answer(cmd.id, cmd.command, status, exc.reason, exc.detail, {})
        except Exception as exc:
            log.exception("command %s failed", cmd.command)
            return self._answer(cmd.id, cmd.command, "failed", "failed",
                                f"{type(exc).__name__}: {exc}", {})
        log.info("command %s %s by key %s: ok", cmd.command, cmd.id, cmd.key_id)
        return self._answer(cmd.id, cmd.command, "ok", "ok", "", result)

    def _may_answer_rejection(self) -> bool:
        now = self._clock()
        if now - self._window_start >= WINDOW_S:
            if self._suppressed:
                self._outbox.enqueue_event("commands_suppressed", "warning", {
                    "rejected_unanswered": self._suppressed, "window_s": WINDOW_S})
            self._window_start, self._rejections, self._suppressed = now, 0, 0
        self._rejections += 1
        if self._rejections > REJECTIONS_PER_WINDOW:
            self._suppressed += 1
            return False
        return True

    def _answer(self, cmd_id: str | None, command: str | None, status: str, reason: str,
                detail: str, result: dict[str, Any]) -> dict[str, Any]:
        body = envelope("cmd/result", self._clock(), cmd_id=cmd_id, command=command,
                        status=status, reason=reason, detail=detail[:DETAIL_MAX], result=result)
        body["seq"] = self._outbox.enqueue("cmd/result", body)
        return body
