"""Register profiles: shipped profiles load, encode/decode round-trip, bad ones name the line."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.controller.profile import ProfileError, builtin_profiles, load_profile, parse_profile


def test_nice3000plus_is_shipped_and_maps_reference_addresses():
    assert "nice3000plus" in builtin_profiles()
    p = load_profile("nice3000plus")
    assert p.field("speed_mps").address == 0x1010
    assert p.field("rated_speed_mps").address == 0x1011
    assert p.field("fault_code").address == 0x8000
    assert p.faults[14].code == "E14" and "fan" in p.faults[14].causes


def test_status_word_bits_follow_the_reference_layout():
    p = load_profile("nice3000plus")
    regs = p.encode({"mode": "automatic", "car_state": "running", "overload": True})
    assert regs[0x101D] == (7 << 4) | (5 << 8) | (1 << 13)
    out = p.decode(regs)
    assert (out["mode"], out["car_state"], out["overload"]) == ("automatic", "running", True)


@given(st.floats(min_value=-3276.8, max_value=3276.7, allow_nan=False))
def test_signed_field_round_trips_within_one_count(value):
    p = load_profile("nice3000plus")
    got = p.decode(p.encode({"heatsink_c": value}))["heatsink_c"]
    assert abs(got - value) <= 0.05 + 1e-9


HEAD = '[profile]\nname = "t"\n'


@pytest.mark.parametrize(
    "body, fragment",
    [
        ('[[field]]\nname = "a"\naddress = 1\ntype = "u16"\n'
         '[[field]]\nname = "a"\naddress = 2\ntype = "u16"\n', "t.toml:7: duplicate name 'a'"),
        ('[[field]]\nname = "a"\naddress = 1\ntype = "u32"\n'
         '[[field]]\nname = "b"\naddress = 2\ntype = "u16"\n', "t.toml:7: field b overlaps a"),
        ('[[field]]\nname = "a"\naddress = 1\ntype = "u16"\nscale = 0\n', "scale 0"),
        ('[[field]]\nname = "a"\naddress = 1\ntype = "f64"\n', "type 'f64'"),
    ],
)
def test_bad_profile_names_file_and_line(body, fragment):
    with pytest.raises(ProfileError, match=fragment.replace("(", r"\(")):
        parse_profile(HEAD + body, "t.toml")
