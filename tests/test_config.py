"""Configuration validation: every mistake names the file and the key."""

import os

import pytest

from agent import config
from agent.errors import ConfigError

GOOD = """
[device]
site = "s1"
lift = "L2"

[lift]
floors = 12
rated_speed_mps = 2
"""


def write(tmp_path, text):
    p = tmp_path / "lg.toml"
    p.write_text(text)
    return p


def test_valid_config_fills_defaults_and_coerces_integers_to_floats(tmp_path):
    cfg = config.load(write(tmp_path, GOOD))
    assert cfg.device.site == "s1"
    assert cfg.lift.floors == 12
    assert cfg.lift.rated_speed_mps == 2.0 and isinstance(cfg.lift.rated_speed_mps, float)
    assert cfg.lift.roping == 2


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('[device]\nsite = "a"\n', "device.lift is required"),
        (GOOD + "[bogus]\n", "unknown section [bogus]"),
        (GOOD.replace("floors = 12", "floors = 1"), "lift.floors = 1: must be >= 2"),
        (GOOD.replace("floors = 12", 'floors = "12"'), "lift.floors = '12': expected an integer"),
        (GOOD.replace("floors = 12", "floors = true"), "expected an integer"),
        (GOOD + "[lift]\n", "not valid TOML"),
        (GOOD.replace("floors = 12", "flors = 12"), "unknown key lift.flors"),
        (GOOD.replace("[lift]", "[lift]\nroping = 3"), "must be one of 1, 2, 4"),
    ],
)
def test_bad_config_is_one_line_error_naming_the_key(tmp_path, text, fragment):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        config.load(p)
    msg = str(err.value)
    assert fragment in msg and str(p) in msg and "\n" not in msg


def test_missing_file_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        config.load(tmp_path / "nope.toml")


def test_secret_file_readable_by_others_is_refused(tmp_path):
    secret = tmp_path / "key.pem"
    secret.write_text("x")
    os.chmod(secret, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        config.check_secret_file(str(secret), "mqtt.key_file")
    os.chmod(secret, 0o600)
    config.check_secret_file(str(secret), "mqtt.key_file")
