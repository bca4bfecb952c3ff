"""Detector settings from the `[detectors]` config section (agent/config_schema.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.detectors.offline import Settings
from agent.detectors.scoring import NoiseLimits, RideLimits
from agent.detectors.severity import Thresholds
from agent.errors import ConfigError


def settings_from_section(d: Mapping[str, Any]) -> Settings:
    g = d.__getitem__
    if g("critical_score") <= g("warning_score"):
        raise ConfigError(f"detectors.critical_score = {g('critical_score')}: must be above "
                          f"detectors.warning_score ({g('warning_score')})")
    return Settings(
        thresholds=Thresholds(g("warning_score"), g("critical_score"), g("release"), 1,
                              g("clear_count")),
        ride=RideLimits(g("ride_vertical_max_pk_pk"), g("ride_vertical_a95"),
                        g("ride_horizontal_max_pk_pk"), g("ride_horizontal_a95")),
        noise=NoiseLimits(g("noise_running_dba"), g("noise_rest_dba")),
    )


def settings_from_config(path: str | None) -> Settings:
    """Settings from a config file, or the schema defaults without one."""
    from agent import config
    from agent.config_schema import SCHEMA

    if path is None:
        return settings_from_section({k: v.default for k, v in SCHEMA["detectors"].items()})
    return settings_from_section(config.load(path).detectors)
