"""Poll planning: the fewest register reads that cover a profile and respect its limits.

Constraints (from the profile): at most `max_registers_per_read` registers per read, a read
never crosses a group boundary (Fuji FRENIC: one function-code group per read, REFERENCE.md
section 2), and a multi-word field is never split across reads. Registers between fields are
read along when the hole is at most the profile's `max_read_gap` (0 for drives that answer
"illegal data address" to a read touching an unmapped register). When a profile declares
groups, the validator makes every field lie inside one.

Greedy is optimal here: scanning fields in address order and starting a read at the first
uncovered field, extending it as far as the limit allows, is the classic interval-cover
argument (any plan must start a read at or before that field; ours reaches at least as far).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drivers.controller.profile import Field, Profile


@dataclass(frozen=True)
class ReadBlock:
    address: int
    count: int
    fields: tuple[str, ...]

    @property
    def end(self) -> int:
        return self.address + self.count


def plan_reads(profile: Profile, only: Iterable[str] | None = None) -> list[ReadBlock]:
    """Reads covering the profile's fields (or only the fields named in `only`)."""
    wanted = set(only) if only is not None else None
    fields = [f for f in profile.fields if wanted is None or f.name in wanted]
    if wanted is not None:
        missing = wanted - {f.name for f in fields}
        if missing:
            raise KeyError(f"not fields of {profile.name}: {', '.join(sorted(missing))}")
    limit = profile.max_registers_per_read
    blocks: list[ReadBlock] = []
    for region in _regions(profile, fields):
        current: list[Field] = []
        for f in sorted(region, key=lambda f: f.address):
            end = f.address + f.words
            if current and end - current[0].address <= limit and _gap_ok(profile, current, f):
                current.append(f)
                continue
            if current:
                blocks.append(_block(current))
            current = [f]
        if current:
            blocks.append(_block(current))
    return blocks


def _gap_ok(profile: Profile, current: list[Field], nxt: Field) -> bool:
    last = current[-1]
    gap = nxt.address - (last.address + last.words)
    return gap <= profile.max_read_gap


def _regions(profile: Profile, fields: list[Field]) -> list[list[Field]]:
    by_group: dict[tuple[int, int], list[Field]] = {}
    for f in fields:
        key = profile.group_of(f) if profile.groups else (0, 0xFFFF)
        by_group.setdefault(key, []).append(f)
    return list(by_group.values())


def _block(fields: list[Field]) -> ReadBlock:
    start = fields[0].address
    end = max(f.address + f.words for f in fields)
    return ReadBlock(start, end - start, tuple(f.name for f in fields))
