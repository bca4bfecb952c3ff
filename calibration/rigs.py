"""What a workflow measures through: a `Rig` gives controller polls, sensor blocks, a clock,
and (where it can) car calls.

* `LiveRig`: the box's own parts, built from the agent config exactly as the runtime builds
  them (ControllerClient + Poller, `open_accel`, `open_noise`), timed by the wall clock. A real
  controller takes no calls over Modbus, so on site the technician sends the car; against the
  virtual elevator `--sim-control` lets the box call it.
* `ModelRig`: the stepping virtual elevator (drivers.sim.model.ElevatorModel) in-process, whose
  time runs as fast as the machine allows: commissioning practice, demos, and tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from agent.errors import LiftguardError
from drivers.blocks import SampleBlock


class ControllerLost(LiftguardError):
    """The controller stopped answering during a workflow; nothing is changed."""


class Rig(Protocol):
    floors: int
    can_call: bool

    def now(self) -> float: ...

    def wait(self, seconds: float) -> None: ...

    def poll(self) -> dict[str, Any]: ...

    def blocks(self) -> list[SampleBlock]: ...

    def call(self, floor: int) -> bool: ...

    def describe(self, part: str) -> str: ...

    def close(self) -> None: ...


class ModelRig:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.floors = int(model.params.lift.floors)
        self.range_g = 16.0
        self.can_call = True

    def now(self) -> float:
        return float(self.model.t)

    def wait(self, seconds: float) -> None:
        self.model.advance(seconds)

    def poll(self) -> dict[str, Any]:
        return dict(self.model.readings())

    def blocks(self) -> list[SampleBlock]:
        return list(self.model.drain_blocks())

    def call(self, floor: int) -> bool:
        self.model.call(floor)
        return True

    def describe(self, part: str) -> str:
        return "the in-process virtual elevator"

    def probe(self) -> list[Any]:
        """Every shipped profile read against the model's register image, with the same
        answers a served slave gives (exception 2 for registers it does not have)."""
        from drivers.controller.cli import probe_profile
        from drivers.controller.profile import builtin_profiles, load_profile

        image = RegisterImage(self.model.profile.encode(self.model.readings()))
        return [probe_profile(image, load_profile(n)) for n in builtin_profiles()]

    def close(self) -> None:
        pass


class RegisterImage:
    """Reads from a register image with a slave's semantics (MAP 7: exception 2, illegal
    data address, when any register of the range is absent)."""

    def __init__(self, regs: dict[int, int], device_id: int = 1) -> None:
        self.regs = regs
        self.device_id = device_id

    def read_registers(self, address: int, count: int, **_: Any) -> tuple[int, ...]:
        from drivers.controller.errors import ExceptionResponse

        span = range(address, address + count)
        if not all(a in self.regs for a in span):
            raise ExceptionResponse(2, self.device_id, address)
        return tuple(self.regs[a] for a in span)


class LiveRig:
    """The configured controller and sensors; `caller(floor)` places a car call if given."""

    def __init__(self, poller: Any, sources: list[Any], *, floors: int, range_g: float,
                 caller: Callable[[int], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 closers: list[Callable[[], None]] | None = None,
                 names: dict[str, str] | None = None) -> None:
        self.poller = poller
        self.sources = sources
        self.floors = floors
        self.range_g = range_g
        self._caller = caller
        self.can_call = caller is not None
        self._clock, self._sleep = clock, sleep
        self._closers = closers or []
        self._names = names or {}

    def now(self) -> float:
        return self._clock()

    def wait(self, seconds: float) -> None:
        self._sleep(seconds)

    def poll(self) -> dict[str, Any]:
        sample = self.poller.poll_once()
        if not sample.ok and not sample.readings:
            raise ControllerLost(f"controller: lost during the capture ({sample.error}: "
                                 f"{sample.detail}); nothing was changed")
        return dict(sample.readings)

    def blocks(self) -> list[SampleBlock]:
        out: list[SampleBlock] = []
        for s in self.sources:
            out += s.read()
        return out

    def call(self, floor: int) -> bool:
        if self._caller is None:
            return False
        self._caller(floor)
        return True

    def describe(self, part: str) -> str:
        return self._names.get(part, part)

    def probe(self) -> list[Any]:
        from drivers.controller.cli import probe_profile
        from drivers.controller.profile import builtin_profiles, load_profile

        return [probe_profile(self.poller.client, load_profile(n)) for n in builtin_profiles()]

    def close(self) -> None:
        for close in reversed(self._closers):
            close()


def open_live_rig(cfg: Any, sim_control: str | None = None) -> LiveRig:
    """The rig of a config file's [controller], [accel], [noise] and [lift] sections."""
    import logging

    from drivers.accel import open_accel
    from drivers.controller.client import ControllerClient, LinkSettings
    from drivers.controller.poller import Poller
    from drivers.controller.profile import load_profile
    from drivers.noise import open_noise

    logging.getLogger("liftguard.controller").addHandler(logging.NullHandler())
    c = cfg["controller"]
    client = ControllerClient(LinkSettings.from_config(c))
    closers: list[Callable[[], None]] = [client.close]
    try:
        poller = Poller(client, load_profile(c["profile"]), period_s=0.0,
                        deadline_s=max(c["timeout_s"] * 4, 0.2), device_id=c["device_id"])
        sources = []
        names = {"controller": c["port"]}
        for stream, src in (("accel", open_accel(cfg["accel"], time.monotonic)),
                            ("audio", open_noise(cfg["noise"], time.monotonic,
                                                 controller_client=client))):
            if src is not None:
                sources.append(src)
                closers.append(src.close)
                section = cfg["accel" if stream == "accel" else "noise"]
                names[stream] = str(section["socket"] or section["backend"])
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    caller = None
    if sim_control:
        from drivers.sim.control import send

        def caller(floor: int) -> None:
            send(sim_control, {"cmd": "call", "floor": floor})

    return LiveRig(poller, sources, floors=cfg["lift"]["floors"],
                   range_g=float(cfg["accel"]["range_g"]), caller=caller, closers=closers,
                   names=names)
