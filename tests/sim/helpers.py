"""Shared helpers for the virtual-elevator tests: quiet models and sampled runs."""

from __future__ import annotations

from typing import Any

import numpy as np

from drivers.controller.profile import load_profile
from drivers.sim.model import ElevatorModel
from drivers.sim.params import SimParams

PROFILE = load_profile("nice3000plus")


def quiet_model(overrides: tuple[str, ...] = (), seed: int = 1, synthesize: bool = False,
                script: list[tuple[float, int, int]] | None = None) -> ElevatorModel:
    """A model with no random passengers: only what the test asks for happens."""
    params = SimParams().with_overrides(("traffic.random_calls=false", *overrides))
    return ElevatorModel(params, seed=seed, synthesize=synthesize, script=script)


def sample(model: ElevatorModel, seconds: float, dt: float = 0.01) -> list[dict[str, Any]]:
    """Readings every dt for `seconds` of simulated time."""
    out = []
    for _ in range(int(round(seconds / dt))):
        model.advance(dt)
        out.append(model.readings())
    return out


def column(rows: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([r[key] for r in rows], dtype=float)


def registers(model: ElevatorModel) -> dict[str, Any]:
    """What a Modbus master decodes from the register image the slave would serve."""
    return PROFILE.decode(PROFILE.encode(model.readings()))


def run_until(model: ElevatorModel, predicate: Any, limit_s: float, dt: float = 0.01) -> float:
    """Advance until predicate(readings) holds; returns the simulated time. Fails at limit."""
    end = model.t + limit_s
    while model.t < end:
        model.advance(dt)
        if predicate(model.readings()):
            return model.t
    raise AssertionError(f"condition not reached within {limit_s} s")
