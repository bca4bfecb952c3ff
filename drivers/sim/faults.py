"""The fault catalogue of the virtual elevator, and validation of injected values.

Each fault has a kind that says what value it takes:

- `level`: a float in [min, max] (wear and ageing, 0 = healthy, 1 = end of life)
- `factor`: a float in [min, max] (overspeed: car speed / commanded speed)
- `bool`: true/false (given as 1/0, true/false, on/off, yes/no)
- `choice`: one of `choices`
- `code`: a fault number from the register profile's [faults] table (controller_fault)

What each fault does to the physics and to the controller's registers is implemented in the
model; the mapping of levels to physical quantities is documented here, next to the name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agent.errors import InputError


class FaultError(InputError):
    """An unknown fault name or a value out of range; the message is one line."""


@dataclass(frozen=True)
class FaultSpec:
    name: str
    kind: str
    help: str
    min: float = 0.0
    max: float = 1.0
    choices: tuple[str, ...] = ()

    @property
    def range_text(self) -> str:
        if self.kind in ("level", "factor"):
            return f"{self.min:g}..{self.max:g}"
        if self.kind == "choice":
            return "|".join(self.choices)
        if self.kind == "code":
            return "fault number"
        return "true|false"


# dB rise of the rope strand-order line at rope_wear = 1 (level scales it linearly in dB).
ROPE_WEAR_DB_AT_1 = 20.0
SHEAVE_WEAR_DB_AT_1 = 20.0
# Capacitor ageing at level 1: capacitance falls to 50 %, ESR rises to 3x (end-of-life is
# C < 80 % or ESR > 2x, REFERENCE 4), both linear in the level.
CAP_C_AT_1 = 0.5
CAP_ESR_AT_1 = 3.0

_SPECS = [
    FaultSpec("rope_wear", "level", f"strand-order vibration +{ROPE_WEAR_DB_AT_1:g} dB x level, "
              "sheave-rate sidebands grow"),
    FaultSpec("sheave_wear", "level", f"sheave-order lines +{SHEAVE_WEAR_DB_AT_1:g} dB x level"),
    FaultSpec("bearing_wear", "level", "impulsive outer-race impacts at BPFO, amplitude x level"),
    FaultSpec("capacitor_ageing", "level", f"DC-link C x (1 - {1 - CAP_C_AT_1:g} x level), "
              f"ESR x (1 + {CAP_ESR_AT_1 - 1:g} x level)"),
    FaultSpec("fan_failure", "bool", "heatsink fan slows to a fraction of its speed: R_th up, "
              "blade-pass tone drops"),
    FaultSpec("thermal_ageing", "level", "heatsink R_th x (1 + thermal.ageing_rth_gain x level)"),
    FaultSpec("trapped", "choice", "car stops with doors shut and an occupant",
              choices=("between_floors", "at_floor")),
    FaultSpec("door_open_while_running", "bool", "car door lock opens during the next run: E42"),
    FaultSpec("overspeed", "factor", "from the next trip the car runs this much faster than "
              "commanded; E56 past lift.overspeed_trip_ratio", min=1.0, max=1.6),
    FaultSpec("top_overrun", "bool", "car runs past the top floor onto the limits: E43"),
    FaultSpec("bottom_overrun", "bool", "car runs past the bottom floor onto the limits: E44"),
    FaultSpec("safety_circuit_open", "bool", "safety chain opens: E41, brake stop"),
    FaultSpec("door_fault", "choice", "door fails to open (E48) or close (E49)",
              choices=("open", "close")),
    FaultSpec("controller_fault", "code", "controller shows this fault number and stops"),
    FaultSpec("power_loss", "bool", "mains lost: DC bus decays, E09, then the controller dies"),
    FaultSpec("controller_unplugged", "bool", "bus fault: the slave stops answering (served mode)"),
    FaultSpec("bus_noise", "level", "bus fault: garbage bytes / CRC errors (served mode)"),
]

FAULTS: dict[str, FaultSpec] = {s.name: s for s in _SPECS}
# Faults that only the served mode acts on; the physics ignores them.
BUS_FAULTS = frozenset({"controller_unplugged", "bus_noise"})

_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no"}


def validate(name: str, value: Any, fault_numbers: Iterable[int] = ()) -> Any:
    """The value an injection stores, or FaultError with a one-line reason."""
    spec = FAULTS.get(name)
    if spec is None:
        raise FaultError(f"unknown fault {name!r} (known: {', '.join(FAULTS)})")
    if spec.kind in ("level", "factor"):
        x = _number(name, value)
        if not spec.min <= x <= spec.max:
            raise FaultError(f"fault {name}: level {value!r} is out of range {spec.range_text}")
        return x
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise FaultError(f"fault {name}: value {value!r} must be true or false")
    if spec.kind == "choice":
        if str(value) not in spec.choices:
            raise FaultError(f"fault {name}: value {value!r} must be one of {spec.range_text}")
        return str(value)
    numbers = sorted(fault_numbers)
    code = value
    if isinstance(value, str):
        text = value.strip().upper()
        code = text[1:] if text.startswith("E") else text
    try:
        number = int(code)
    except (TypeError, ValueError):
        raise FaultError(f"fault {name}: {value!r} is not a fault number") from None
    if number not in numbers:
        raise FaultError(f"fault {name}: {value!r} is not in the profile's fault table "
                         f"({', '.join(str(n) for n in numbers)})")
    return number


def check_name(name: str) -> FaultSpec:
    spec = FAULTS.get(name)
    if spec is None:
        raise FaultError(f"unknown fault {name!r} (known: {', '.join(FAULTS)})")
    return spec


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise FaultError(f"fault {name}: level {value!r} must be a number")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise FaultError(f"fault {name}: level {value!r} must be a number") from None
    if x != x:
        raise FaultError(f"fault {name}: level {value!r} must be a number")
    return x
