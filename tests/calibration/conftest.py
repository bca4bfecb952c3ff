"""Sessions on the virtual elevator: config, console with scripted answers, rigs."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from agent import config
from calibration.console import Console
from calibration.rigs import ModelRig
from calibration.session import Session


def box_config(tmp_path: Path, **sections: dict[str, Any]) -> Any:
    data: dict[str, Any] = {
        "device": {"site": "s1", "lift": "L2"},
        "storage": {"outbox_path": str(tmp_path / "outbox.db")},
        "mqtt": {"tls": False},
        "calibration": {"path": str(tmp_path / "calibration.json"),
                        "report_dir": str(tmp_path / "reports")},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return config.from_dict(data, tmp_path)


class Answers:
    """The technician at the keyboard: answers in order; `on_prompt` may act (fit the
    calibrator, ...) when a prompt containing a key appears."""

    def __init__(self, answers: Iterable[str], actions: dict[str, Callable[[], None]] | None
                 = None) -> None:
        self.answers = list(answers)
        self.actions = actions or {}
        self.out = io.StringIO()

    def read_line(self) -> str:
        shown = self.out.getvalue().rsplit("\n", 1)[-1]
        for key, act in self.actions.items():
            if key in shown:
                act()
        return (self.answers.pop(0) if self.answers else "") + "\n"


def make_session(cfg: Any, rig_factory: Callable[[], Any], answers: Answers,
                 **kw: Any) -> Session:
    cal = cfg["calibration"]
    console = Console(answers.read_line, answers.out, tty=False)
    return Session(cfg, console, "li.wei", rig_factory, Path(cal["path"]),
                   Path(cal["report_dir"]), clock=lambda: 1_764_000_000.0, **kw)


Event = tuple[float, Callable[[Any], None]]


class ScheduledModelRig(ModelRig):
    """The stepping virtual elevator, with things happening to the lift at given delays after
    the car departs on a given call (a fault injected mid-run, cleared later), and an optional
    Ctrl-C after `interrupt_after` waits."""

    def __init__(self, model: Any, after_call: dict[int, list[Event]] | None = None,
                 interrupt_after: int | None = None) -> None:
        super().__init__(model)
        self.after_call = after_call or {}
        self.calls = 0
        self.waits = 0
        self.interrupt_after = interrupt_after
        self._due: list[tuple[float, Callable[[Any], None]]] = []
        self._armed: list[Event] = []

    def call(self, floor: int) -> bool:
        self.calls += 1
        self._armed = list(self.after_call.get(self.calls, []))
        return super().call(floor)

    def wait(self, seconds: float) -> None:
        self.waits += 1
        if self.interrupt_after is not None and self.waits > self.interrupt_after:
            raise KeyboardInterrupt
        super().wait(seconds)
        if self._armed and abs(self.model.readings()["speed_mps"]) > 0.3:  # departed
            self._due += [(self.model.t + d, fn) for d, fn in self._armed]
            self._armed = []
        for item in [d for d in self._due if d[0] <= self.model.t]:
            self._due.remove(item)
            item[1](self.model)


@pytest.fixture
def model_factory() -> Callable[..., Any]:
    from drivers.sim.model import ElevatorModel
    from drivers.sim.params import SimParams

    def make(seed: int = 3, *overrides: str) -> Any:
        params = SimParams().with_overrides(["traffic.random_calls=false", *overrides])
        return ElevatorModel(params, seed=seed)

    return make
