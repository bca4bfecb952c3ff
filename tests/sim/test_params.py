"""Parameters: defaults agree with the agent's [lift] config; bad values name the key."""

import pytest

from agent.config_schema import SCHEMA
from agent.errors import InputError
from drivers.sim.params import SimParams


def test_lift_defaults_agree_with_the_agent_config_schema():
    lift = SimParams().lift
    for key, spec in SCHEMA["lift"].items():
        assert getattr(lift, key) == spec.default, key


def test_overrides_by_dotted_name():
    p = SimParams().with_overrides(["lift.rated_speed_mps=2.5", "thermal.ambient_c=35",
                                    "traffic.random_calls=false", "lift.floors=16"])
    assert p.lift.rated_speed_mps == 2.5 and p.thermal.ambient_c == 35.0
    assert p.traffic.random_calls is False and p.lift.floors == 16


def test_from_mapping_builds_the_same_params():
    a = SimParams.from_mapping({"lift": {"roping": 1}, "electrical": {"mains_hz": 60}})
    assert a == SimParams().with_overrides(["lift.roping=1", "electrical.mains_hz=60"])


@pytest.mark.parametrize("item, fragment", [
    ("lift.rated_sped_mps=2", "unknown parameter 'lift.rated_sped_mps'"),
    ("car.floors=3", "unknown parameter 'car.floors'"),
    ("lift.floors=1", "lift.floors = 1 is out of range 2..200"),
    ("lift.floors=2.5", "lift.floors = 2.5 must be a whole number"),
    ("lift.rated_speed_mps=fast", "lift.rated_speed_mps = 'fast' must be a number"),
    ("traffic.random_calls=3", "traffic.random_calls = 3 must be true or false"),
    ("sensor.mount=wall", "sensor.mount = 'wall' must be 'car' or 'machine'"),
    ("lift.floors", "must look like section.key=value"),
    ("lift.rated_speed_mps=0.05", "lift.rated_speed_mps = 0.05 is out of range"),
])
def test_bad_override_names_the_key(item, fragment):
    with pytest.raises(InputError) as info:
        SimParams().with_overrides([item])
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_unknown_section_in_mapping_is_refused():
    with pytest.raises(InputError, match="unknown parameter section 'motor'"):
        SimParams.from_mapping({"motor": {"poles": 4}})
