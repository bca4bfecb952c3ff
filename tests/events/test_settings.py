"""[events] and [controller] config sections map onto EventSettings and LinkSettings."""

import pytest

from agent.config import from_dict
from agent.errors import ConfigError
from agent.events import EventSettings
from drivers.controller.client import LinkSettings

BASE = {"device": {"site": "s", "lift": "l"}}


def test_defaults_are_the_reference_timers():
    s = EventSettings.from_config(from_dict(BASE).events)
    assert (s.trapped_at_floor_s, s.trapped_between_floors_s, s.stopped_outside_door_zone_s) == (
        20.0, 15.0, 45.0)
    assert (s.overspeed_level1, s.overspeed_level2) == (1.2, 1.4)
    assert s.top_level_m is None


def test_timers_and_rated_speed_come_from_config():
    cfg = from_dict({**BASE, "events": {"trapped_at_floor_s": 30, "top_level_m": 27.0},
                     "lift": {"rated_speed_mps": 2.5}})
    s = EventSettings.from_config(cfg.events, cfg.lift)
    assert (s.trapped_at_floor_s, s.top_level_m, s.rated_speed_mps) == (30.0, 27.0, 2.5)


def test_controller_section_becomes_link_settings():
    cfg = from_dict({**BASE, "controller": {"port": "loop://", "baudrate": 9600, "parity": "N",
                                            "echo": True}})
    link = LinkSettings.from_config(cfg.controller)
    assert (link.port, link.baudrate, link.parity, link.echo, link.bits_per_char) == (
        "loop://", 9600, "N", True, 10)


@pytest.mark.parametrize(
    "section, fragment",
    [
        ({"controller": {"parity": "X"}}, "controller.parity = 'X': must be one of N, E, O"),
        ({"controller": {"direction": "rts"}}, "controller.direction"),
        ({"controller": {"device_id": 0}}, "controller.device_id = 0: must be >= 1"),
        ({"events": {"clear_s": -1.0}}, "events.clear_s"),
    ],
)
def test_bad_values_name_the_key(section, fragment):
    with pytest.raises(ConfigError, match=fragment):
        from_dict({**BASE, **section})
