"""The poller: runs the planned reads at the configured period and emits ControllerSamples.

Timing is driven by an injected clock and sleep, so tests step a fake clock. The schedule is
anchored (t0 + k x period) rather than "period after the last poll finished", so the sample
rate does not drift by the poll's own duration; a poll that overruns skips the slots it
missed and realigns on the next slot instead of bursting to catch up. Every poll has a
deadline (default: one period, at least 50 ms), and the client enforces it on every read.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from drivers.controller.errors import ControllerError, PortGone
from drivers.controller.planner import ReadBlock, plan_reads
from drivers.controller.profile import Profile
from drivers.controller.rtu import READ_HOLDING, READ_INPUT
from drivers.controller.sample import ControllerSample


class RegisterReader(Protocol):
    def read_registers(
        self, address: int, count: int, *, device_id: int | None = None,
        function: int = READ_HOLDING, deadline: float | None = None,
    ) -> tuple[int, ...]: ...


class Poller:
    def __init__(
        self,
        client: RegisterReader,
        profile: Profile,
        *,
        period_s: float,
        deadline_s: float | None = None,
        device_id: int | None = None,
        plan: list[ReadBlock] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if period_s < 0:
            raise ValueError("poll period must be >= 0")
        self.client = client
        self.profile = profile
        self.plan = plan if plan is not None else plan_reads(profile)
        self.period_s = period_s
        self.deadline_s = deadline_s if deadline_s is not None else max(period_s, 0.05)
        self.device_id = device_id
        self.function = READ_INPUT if profile.function == "input" else READ_HOLDING
        self.clock = clock
        self.sleep = sleep
        self.polls = 0

    def poll_once(self) -> ControllerSample:
        """Run every planned read once; a failed read fails the sample but not the others,
        except a vanished port, which ends the poll at once (the rest would fail the same)."""
        t = self.clock()
        deadline = t + self.deadline_s
        regs: dict[int, int] = {}
        first: ControllerError | None = None
        for block in self.plan:
            try:
                values = self.client.read_registers(
                    block.address, block.count, device_id=self.device_id,
                    function=self.function, deadline=deadline,
                )
            except ControllerError as exc:
                first = first or exc
                if isinstance(exc, PortGone):
                    break
                continue
            regs.update(zip(range(block.address, block.end), values, strict=True))
        self.polls += 1
        readings: dict[str, Any] = self.profile.decode(regs) if regs else {}
        return ControllerSample(
            t=t, readings=readings, ok=first is None,
            error=first.kind if first else None, detail=str(first) if first else "",
            duration_s=self.clock() - t,
        )

    def samples(self, count: int | None = None) -> Iterator[ControllerSample]:
        """Poll on the anchored schedule forever (or `count` times)."""
        t0 = self.clock()
        k = n = 0
        while count is None or n < count:
            if self.period_s > 0:
                due = t0 + k * self.period_s
                now = self.clock()
                if now - due >= self.period_s:  # overran: realign on the next slot, no burst
                    k = math.ceil((now - t0) / self.period_s)
                    due = t0 + k * self.period_s
                if now < due:
                    self.sleep(due - now)
            yield self.poll_once()
            k += 1
            n += 1
