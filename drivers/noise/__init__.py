"""Noise sensors: a Modbus sound level meter on the controller's RS-485 bus, an ALSA
microphone, and the sim and replay backends.

`open_noise(section, clock, controller_client=...)` builds the backend named by
`[noise] backend`; the meter needs the controller's `ControllerClient` (the bus is shared).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.errors import ConfigError
from drivers.accel.source import BlockSource, Clock


def open_noise(
    section: Mapping[str, Any], clock: Clock, *, controller_client: Any = None
) -> BlockSource | None:
    backend = section["backend"]
    if backend == "none":
        return None
    if backend == "sim":
        from drivers.accel.sim_stream import SimStreamSource

        if not section["socket"]:
            raise ConfigError("noise.socket is required for backend = 'sim'")
        return SimStreamSource(section["socket"], "audio", clock)
    if backend == "replay":
        from drivers.replay.open import open_replay

        return open_replay(section, "noise", clock)
    if backend == "modbus":
        from drivers.noise.modbus_meter import ModbusSoundMeter

        if controller_client is None:
            raise ConfigError(
                "noise.backend = 'modbus' shares the controller's RS-485 bus: "
                "[controller] backend must be a Modbus link"
            )
        return ModbusSoundMeter(
            controller_client, clock, device_id=section["modbus_device_id"],
            register=section["modbus_register"], scale=section["modbus_scale"],
            period_s=section["poll_period_s"], function=section["modbus_function"],
        )
    if backend == "alsa":
        from drivers.noise.alsa_mic import AlsaMicrophone, actual_rate, open_pcm

        pcm = open_pcm(section["alsa_device"], section["sample_rate"], 1,
                       section["period_frames"])
        return AlsaMicrophone(pcm, clock, rate=actual_rate(pcm, section["sample_rate"]),
                              period_frames=section["period_frames"],
                              sensitivity_dbfs=section["sensitivity_dbfs"])
    raise ConfigError(f"noise.backend = {backend!r}: unknown")
