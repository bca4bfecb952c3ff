"""Poll planning: fewest reads, limits, groups (Fuji style), gaps; shipped profiles validate."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.controller.planner import plan_reads
from drivers.controller.profile import ProfileError, builtin_profiles, load_profile, parse_profile


def profile(fields, head=""):
    body = "".join(
        f'[[field]]\nname = "f{i}"\naddress = {a}\ntype = "{t}"\n'
        for i, (a, t) in enumerate(fields)
    )
    return parse_profile(f'[profile]\nname = "t"\n{head}\n{body}', "t.toml")


def spans(p, **kw):
    return [(b.address, b.count) for b in plan_reads(p, **kw)]


def test_nice3000plus_poll_set_is_three_reads():
    assert spans(load_profile("nice3000plus")) == [(0x1010, 17), (0x3000, 1), (0x8000, 1)]


@pytest.mark.parametrize(
    "fields, head, expected",
    [
        ([(0, "u16"), (1, "u16"), (2, "u16")], "", [(0, 3)]),
        ([(0, "u16"), (1, "u16"), (2, "u16")], "max_registers_per_read = 2", [(0, 2), (2, 1)]),
        ([(0, "u16"), (5, "u16")], "", [(0, 6)]),
        ([(0, "u16"), (5, "u16")], "max_read_gap = 3", [(0, 1), (5, 1)]),
        ([(0, "u16"), (1, "u32")], "max_registers_per_read = 2", [(0, 1), (1, 2)]),
        ([(0, "u16"), (8, "u16")], "groups = [[0, 7], [8, 15]]", [(0, 1), (8, 1)]),
    ],
    ids=["contiguous", "limit", "gap-read-along", "gap-limit", "u32-not-split", "groups"],
)
def test_plan_respects_profile_constraints(fields, head, expected):
    assert spans(profile(fields, head)) == expected


def test_fuji_style_groups_are_expressible():
    # FRENIC: register = group x 256 + number; S = 0x07, M = 0x08; <= 50 words, no crossing
    head = "max_registers_per_read = 50\ngroups = [[0x0700, 0x07FF], [0x0800, 0x08FF]]"
    p = profile([(0x07F0, "u16"), (0x07FF, "u16"), (0x0800, "u16"), (0x0809, "u16")], head)
    assert spans(p) == [(0x07F0, 16), (0x0800, 10)]


def test_plan_can_cover_only_named_fields():
    p = load_profile("nice3000plus")
    assert spans(p, only=["speed_mps", "fault_code"]) == [(0x1010, 1), (0x8000, 1)]


def test_unknown_field_in_subset_is_named():
    with pytest.raises(KeyError, match="nope"):
        plan_reads(load_profile("nice3000plus"), only=["nope"])


def _optimal_count(p) -> int:
    """Brute-force DP oracle: reads cover runs of address-sorted fields in one group."""
    fs = sorted(p.fields, key=lambda f: f.address)
    best = [0] + [10**9] * len(fs)
    for i in range(1, len(fs) + 1):
        for j in range(i):
            run = fs[j:i]
            span = max(f.address + f.words for f in run) - run[0].address
            same = len({p.group_of(f) if p.groups else 0 for f in run}) == 1
            gaps = all(b.address - (a.address + a.words) <= p.max_read_gap
                       for a, b in zip(run, run[1:], strict=False))
            if span <= p.max_registers_per_read and same and gaps:
                best[i] = min(best[i], best[j] + 1)
    return best[-1]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 120), st.sampled_from(["u16", "u32"])), min_size=1,
             max_size=14),
    st.integers(1, 20),
    st.integers(0, 8),
    st.sampled_from(["", "groups = [[0, 39], [40, 79], [80, 127]]"]),
)
def test_plan_is_minimal_and_covers_every_field(raw, limit, gap, groups):
    fields, used = [], set()
    for a, t in raw:
        words = {a, a + 1} if t == "u32" else {a}
        if used & words or (t == "u32" and a in (39, 79)):
            continue
        used |= words
        fields.append((a, t))
    if not fields:
        return
    p = profile(fields, f"max_registers_per_read = {max(limit, 2)}\nmax_read_gap = {gap}\n{groups}")
    blocks = plan_reads(p)
    assert len(blocks) == _optimal_count(p)
    covered = {n for b in blocks for n in b.fields}
    assert covered == {f.name for f in p.fields}
    for b in blocks:
        assert b.count <= p.max_registers_per_read
        assert all(b.address <= p.field(n).address and p.field(n).address + p.field(n).words
                   <= b.end for n in b.fields)


@pytest.mark.parametrize("name", builtin_profiles())
def test_every_shipped_profile_validates_and_has_a_fault_table(name):
    p = load_profile(name)
    assert p.faults and p.fault_register in p.readings()
    assert all(f.severity in ("info", "minor", "major", "critical") for f in p.faults.values())


@pytest.mark.parametrize(
    "body, fragment",
    [
        ('groups = [[0, 7]]\n[[field]]\nname = "a"\naddress = 9\ntype = "u16"\n',
         "t.toml:4: field a at 0x0009 is not inside one group"),
        ('groups = [[0, 7], [5, 9]]\n[[field]]\nname = "a"\naddress = 1\ntype = "u16"\n',
         "groups overlap"),
        ('max_read_gap = -1\n[[field]]\nname = "a"\naddress = 1\ntype = "u16"\n',
         "max_read_gap"),
        ('[[field]]\nname = "a"\naddress = 1\ntype = "u16"\nscale = -0.1\n', "scale -0.1"),
        ('[[field]]\nname = "a"\naddress = 1\ntype = "u16"\n[faults]\n1 = "x"\n',
         "fault 1 must be a table"),
        ('fault_register = "fc"\n[[field]]\nname = "a"\naddress = 1\ntype = "u16"\n',
         "fault_register 'fc' is not a field"),
    ],
)
def test_bad_constraints_are_one_line_errors(body, fragment):
    with pytest.raises(ProfileError, match=fragment):
        parse_profile('[profile]\nname = "t"\n' + body, "t.toml")
