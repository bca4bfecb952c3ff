"""Controller register profiles: declarative register maps loaded from TOML and validated.

A profile says which holding registers a controller has, how each decodes to a canonical
reading (`speed_mps`, `dc_bus_v`, ...), how reads must be grouped, and what its fault codes
mean. Decoding and encoding are pure functions of a register image, so the agent (decode) and
the virtual elevator (encode) share one source of truth.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from agent.errors import InputError

WORD_TYPES = {"u16": 1, "s16": 1, "u32": 2, "s32": 2, "bits": 1}
SEVERITIES = ("info", "minor", "major", "critical")


class ProfileError(InputError):
    """A profile file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class BitField:
    name: str
    lsb: int
    width: int = 1
    enum: Mapping[int, str] = field(default_factory=dict)

    def decode(self, word: int) -> int | bool | str:
        raw = (word >> self.lsb) & ((1 << self.width) - 1)
        if self.enum:
            return self.enum.get(raw, f"unknown_{raw}")
        return bool(raw) if self.width == 1 else raw

    def encode(self, value: Any) -> int:
        if self.enum and isinstance(value, str):
            inverse = {v: k for k, v in self.enum.items()}
            if value not in inverse:
                raise ValueError(f"{self.name}: {value!r} is not one of {sorted(inverse)}")
            value = inverse[value]
        raw = int(value) & ((1 << self.width) - 1)
        return raw << self.lsb


@dataclass(frozen=True)
class Field:
    """One register (or register pair) and what it means."""

    name: str
    address: int
    type: str
    scale: float = 1.0
    unit: str = ""
    word_order: str = "big"
    bits: tuple[BitField, ...] = ()
    line: int = 0
    # Plausible engineering range: `liftguard controller probe` uses it to tell a controller
    # that matches this profile from one that merely answers at these addresses.
    range: tuple[float, float] | None = None

    @property
    def words(self) -> int:
        return WORD_TYPES[self.type]

    def decode(self, regs: Mapping[int, int]) -> dict[str, Any]:
        if self.type == "bits":
            word = regs[self.address]
            out: dict[str, Any] = {self.name: word}
            out.update((b.name, b.decode(word)) for b in self.bits)
            return out
        raw = _join(self, regs)
        value = raw * self.scale
        return {self.name: int(value) if self.scale == 1 and float(value).is_integer() else value}

    def encode(self, value: Any) -> dict[int, int]:
        if self.type == "bits":
            return {self.address: int(value) & 0xFFFF}
        raw = round(float(value) / self.scale)
        bits = 16 * self.words
        signed = self.type.startswith("s")
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        raw = min(max(raw, lo), hi)  # a real drive saturates its register rather than wrapping
        raw &= (1 << bits) - 1
        if self.words == 1:
            return {self.address: raw}
        hi_w, lo_w = raw >> 16, raw & 0xFFFF
        first, second = (hi_w, lo_w) if self.word_order == "big" else (lo_w, hi_w)
        return {self.address: first, self.address + 1: second}


@dataclass(frozen=True)
class FaultInfo:
    number: int
    code: str
    text: str
    causes: str = ""
    severity: str = "major"
    event: str = "controller_fault"


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    fields: tuple[Field, ...]
    max_registers_per_read: int = 32
    groups: tuple[tuple[int, int], ...] = ()
    faults: Mapping[int, FaultInfo] = field(default_factory=dict)
    fault_register: str = "fault_code"
    source: str = ""
    max_read_gap: int = 125
    function: str = "holding"

    def group_of(self, f: Field) -> tuple[int, int]:
        """The declared group holding all of `f`'s registers (the validator guarantees one)."""
        for g in self.groups:
            if g[0] <= f.address and f.address + f.words - 1 <= g[1]:
                return g
        raise KeyError(f"field {f.name} lies in no group of {self.name}")

    def fault(self, number: int) -> FaultInfo:
        """The table entry for a fault number, or a generic one for numbers not in the table."""
        if number in self.faults:
            return self.faults[number]
        return FaultInfo(number, f"E{number:02d}", "fault not in this profile's table", "",
                         "major")

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name or any(b.name == name for b in f.bits):
                return f
        raise KeyError(name)

    def readings(self) -> list[str]:
        out = []
        for f in self.fields:
            out.append(f.name)
            out.extend(b.name for b in f.bits)
        return out

    def decode(self, regs: Mapping[int, int]) -> dict[str, Any]:
        """Readings from a register image; fields whose registers are absent are skipped."""
        out: dict[str, Any] = {}
        for f in self.fields:
            if all(a in regs for a in range(f.address, f.address + f.words)):
                out.update(f.decode(regs))
        return out

    def encode(self, readings: Mapping[str, Any]) -> dict[int, int]:
        """A register image from readings. Bit sub-fields are merged into their word."""
        regs: dict[int, int] = {}
        for f in self.fields:
            if f.type == "bits":
                word = int(readings.get(f.name, 0))
                for b in f.bits:
                    if b.name in readings:
                        mask = ((1 << b.width) - 1) << b.lsb
                        word = (word & ~mask) | b.encode(readings[b.name])
                regs[f.address] = word & 0xFFFF
            elif f.name in readings:
                regs.update(f.encode(readings[f.name]))
        return regs


def _join(f: Field, regs: Mapping[int, int]) -> int:
    if f.words == 1:
        raw = regs[f.address] & 0xFFFF
    else:
        a, b = regs[f.address] & 0xFFFF, regs[f.address + 1] & 0xFFFF
        raw = (a << 16 | b) if f.word_order == "big" else (b << 16 | a)
    bits = 16 * f.words
    if f.type.startswith("s") and raw >= 1 << (bits - 1):
        raw -= 1 << bits
    return raw


def builtin_profiles() -> list[str]:
    pkg = resources.files("drivers") / "profiles"
    return sorted(p.name[:-5] for p in pkg.iterdir() if p.name.endswith(".toml"))


def load_profile(name_or_path: str) -> Profile:
    """Load a shipped profile by name (`nice3000plus`) or a user profile from a path."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProfileError(f"{path}: cannot read profile: {exc.strerror}") from None
        return parse_profile(text, str(path))
    res = resources.files("drivers") / "profiles" / f"{name_or_path}.toml"
    if not res.is_file():
        known = ", ".join(builtin_profiles())
        raise ProfileError(f"unknown profile {name_or_path!r} (shipped: {known})")
    return parse_profile(res.read_text(encoding="utf-8"), f"{name_or_path}.toml")


def parse_profile(text: str, source: str) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML: {exc}") from None
    lines = _field_lines(text)
    head = data.get("profile")
    if not isinstance(head, dict) or "name" not in head:
        raise ProfileError(f"{source}: missing [profile] table with a name")
    raw_fields = data.get("field", [])
    if not isinstance(raw_fields, list) or not raw_fields:
        raise ProfileError(f"{source}: no [[field]] entries")
    fields = []
    for i, raw in enumerate(raw_fields):
        line = lines[i] if i < len(lines) else 0
        fields.append(_parse_field(raw, f"{source}:{line}", line, head.get("word_order", "big")))
    _check_fields(fields, source)
    groups = _parse_groups(head.get("groups", []), source)
    _check_groups(fields, groups, source)
    faults = _parse_faults(data.get("faults", {}), source)
    max_regs = int(head.get("max_registers_per_read", 32))
    if not 1 <= max_regs <= 125:  # Modbus V1.1b3 6.3: at most 125 registers per read
        raise ProfileError(f"{source}: max_registers_per_read = {max_regs} must be 1..125")
    for f in fields:
        if f.words > max_regs:
            raise ProfileError(f"{source}:{f.line}: field {f.name} is wider than one read")
    max_gap = head.get("max_read_gap", 125)
    if isinstance(max_gap, bool) or not isinstance(max_gap, int) or max_gap < 0:
        raise ProfileError(f"{source}: max_read_gap = {max_gap!r} must be an integer >= 0")
    function = str(head.get("function", "holding"))
    if function not in ("holding", "input"):
        raise ProfileError(f"{source}: function = {function!r} must be 'holding' or 'input'")
    names = {f.name for f in fields}
    fault_register = str(head.get("fault_register", "fault_code" if "fault_code" in names else ""))
    if fault_register and fault_register not in names:
        raise ProfileError(f"{source}: fault_register {fault_register!r} is not a field")
    return Profile(
        name=str(head["name"]),
        title=str(head.get("title", head["name"])),
        fields=tuple(fields),
        max_registers_per_read=max_regs,
        groups=groups,
        faults=faults,
        fault_register=fault_register,
        source=source,
        max_read_gap=max_gap,
        function=function,
    )


def _parse_groups(raw: Any, source: str) -> tuple[tuple[int, int], ...]:
    out = []
    for g in raw if isinstance(raw, list) else [raw]:
        if (not isinstance(g, list) or len(g) != 2
                or not all(isinstance(v, int) and 0 <= v <= 0xFFFF for v in g)):
            raise ProfileError(f"{source}: group {g!r} must be [first, last] addresses")
        lo, hi = g
        if hi < lo:
            raise ProfileError(f"{source}: group [{lo:#06x}, {hi:#06x}] ends before it starts")
        out.append((lo, hi))
    out.sort()
    for (_, hi1), (lo2, hi2) in zip(out, out[1:], strict=False):
        if lo2 <= hi1:
            raise ProfileError(f"{source}: groups overlap at [{lo2:#06x}, {hi2:#06x}]")
    return tuple(out)


def _check_groups(fields: list[Field], groups: tuple[tuple[int, int], ...], source: str) -> None:
    if not groups:
        return
    for f in fields:
        last = f.address + f.words - 1
        if not any(lo <= f.address and last <= hi for lo, hi in groups):
            raise ProfileError(
                f"{source}:{f.line}: field {f.name} at {f.address:#06x} is not inside one group"
            )


def _parse_field(raw: Any, where: str, line: int, default_order: str) -> Field:
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: a [[field]] must be a table")
    for key in ("name", "address", "type"):
        if key not in raw:
            raise ProfileError(f"{where}: field is missing {key!r}")
    name, ftype = str(raw["name"]), str(raw["type"])
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ProfileError(f"{where}: field name {name!r} must be snake_case")
    if ftype not in WORD_TYPES:
        raise ProfileError(f"{where}: field {name}: type {ftype!r} not in {sorted(WORD_TYPES)}")
    address = raw["address"]
    if not isinstance(address, int) or not 0 <= address <= 0xFFFF:
        raise ProfileError(f"{where}: field {name}: address must be 0..0xFFFF")
    scale = raw.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
        raise ProfileError(f"{where}: field {name}: scale {scale!r} must be a positive number")
    order = str(raw.get("word_order", default_order))
    if order not in ("big", "little"):
        raise ProfileError(f"{where}: field {name}: word_order must be 'big' or 'little'")
    bits = tuple(_parse_bit(b, where, name) for b in raw.get("bits", []))
    if ftype == "bits":
        used = 0
        for b in bits:
            mask = ((1 << b.width) - 1) << b.lsb
            if used & mask:
                raise ProfileError(f"{where}: field {name}: bit field {b.name} overlaps another")
            used |= mask
    elif bits:
        raise ProfileError(f"{where}: field {name}: only type 'bits' may have bits")
    span = raw.get("range")
    if span is not None:
        if (not isinstance(span, list) or len(span) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in span)
                or not span[0] < span[1]):
            raise ProfileError(f"{where}: field {name}: range {span!r} must be [low, high]")
        span = (float(span[0]), float(span[1]))
    return Field(name, address, ftype, float(scale), str(raw.get("unit", "")), order, bits, line,
                 span)


def _parse_bit(raw: Any, where: str, parent: str) -> BitField:
    if not isinstance(raw, dict) or "name" not in raw or "lsb" not in raw:
        raise ProfileError(f"{where}: field {parent}: each bit needs a name and an lsb")
    lsb, width = int(raw["lsb"]), int(raw.get("width", 1))
    if not (lsb >= 0 and width >= 1 and lsb + width <= 16):
        raise ProfileError(f"{where}: field {parent}: bit {raw['name']} lies outside 16 bits")
    enum = {int(k): str(v) for k, v in raw.get("enum", {}).items()}
    return BitField(str(raw["name"]), lsb, width, enum)


def _check_fields(fields: list[Field], source: str) -> None:
    names: dict[str, Field] = {}
    owner: dict[int, Field] = {}
    for f in fields:
        for n in [f.name, *(b.name for b in f.bits)]:
            if n in names:
                raise ProfileError(
                    f"{source}:{f.line}: duplicate name {n!r} (first at line {names[n].line})"
                )
            names[n] = f
        for a in range(f.address, f.address + f.words):
            if a in owner:
                raise ProfileError(
                    f"{source}:{f.line}: field {f.name} overlaps {owner[a].name} at {a:#06x}"
                )
            owner[a] = f


def _parse_faults(raw: Any, source: str) -> dict[int, FaultInfo]:
    out = {}
    if not isinstance(raw, dict):
        raise ProfileError(f"{source}: [faults] must be a table of [faults.N] tables")
    for key, info in raw.items():
        try:
            number = int(key)
        except ValueError:
            raise ProfileError(f"{source}: fault key {key!r} must be a number") from None
        if not isinstance(info, dict):
            raise ProfileError(f"{source}: fault {key} must be a table with code/text/causes")
        sev = info.get("severity", "major")
        if sev not in SEVERITIES:
            raise ProfileError(f"{source}: fault {key}: severity {sev!r} not in {SEVERITIES}")
        out[number] = FaultInfo(
            number, str(info.get("code", f"E{number:02d}")), str(info.get("text", "")),
            str(info.get("causes", "")), sev, str(info.get("event", "controller_fault")),
        )
    return out


def _field_lines(text: str) -> list[int]:
    return [i for i, ln in enumerate(text.splitlines(), 1) if ln.strip() == "[[field]]"]
