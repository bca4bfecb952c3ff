"""Accelerometers: ADXL345 (SPI/I2C) and ADXL355 (SPI) drivers, the sim and replay backends.

`open_accel(section, clock)` builds the backend named by `[accel] backend`; hardware libraries
are imported only inside the bus adapter that is chosen (spidev_bus, smbus_bus).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from agent.errors import ConfigError
from drivers.accel.source import BlockSource, Clock


def open_accel(
    section: Mapping[str, Any], clock: Clock,
    sleep: Callable[[float], None] = time.sleep,
) -> BlockSource | None:
    """The configured accelerometer, configured and measuring; None for backend = "none"."""
    backend = section["backend"]
    if backend == "none":
        return None
    if backend == "sim":
        from drivers.accel.sim_stream import SimStreamSource

        return SimStreamSource(_need(section, "socket", "accel"), "accel", clock)
    if backend == "replay":
        from drivers.replay.open import open_replay

        return open_replay(section, "accel", clock)
    odr, rng, wm = float(section["odr_hz"]), int(section["range_g"]), int(section["watermark"])
    if backend == "adxl345":
        from drivers.accel import adxl345 as chip

        _check(odr in chip.RATE_CODES, "odr_hz", odr, sorted(chip.RATE_CODES))
        _check(wm <= 31, "watermark", wm, "1-31")
        regs: Any
        if section["interface"] == "i2c":
            from drivers.accel.smbus_bus import Smbus2Bus

            # Each sample is its own ~80-bit I2C read: 1600 Hz needs 130 kbit/s before any
            # overhead, beyond the Pi's default 100 kHz bus (and tight even at 400 kHz).
            _check(odr <= 800.0, "odr_hz", odr, "<= 800 Hz over I2C (use SPI for more)")

            regs = chip.Adxl345I2c(Smbus2Bus(section["i2c_bus"]), section["i2c_address"])
        else:
            _check(section["spi_hz"] <= chip.SPI_MAX_HZ, "spi_hz", section["spi_hz"], "<= 5 MHz")
            regs = chip.Adxl345Spi(_spi(section, chip.SPI_MODE))
        dev: Any = chip.Adxl345(regs, odr_hz=odr, range_g=rng, watermark=wm,
                                spi_3wire=section["spi_3wire"], clock=clock, sleep=sleep)
    elif backend == "adxl355":
        from drivers.accel import adxl355 as chip355

        _check(section["interface"] == "spi", "interface", section["interface"], "spi")
        _check(odr in chip355.RATE_CODES, "odr_hz", odr, sorted(chip355.RATE_CODES))
        _check(rng in chip355.RANGES_G, "range_g", rng, sorted(chip355.RANGES_G))
        dev = chip355.Adxl355(chip355.Adxl355Spi(_spi(section, chip355.SPI_MODE)), odr_hz=odr,
                              range_g=rng, watermark=wm, clock=clock, sleep=sleep)
    else:
        raise ConfigError(f"accel.backend = {backend!r}: unknown")
    try:
        dev.configure()
    except Exception:
        dev.close()
        raise
    src: BlockSource = dev
    return src


def _spi(section: Mapping[str, Any], mode: int) -> Any:
    from drivers.accel.spidev_bus import SpidevBus

    return SpidevBus(section["spi_bus"], section["spi_device"], max_speed_hz=section["spi_hz"],
                     mode=mode, three_wire=section["spi_3wire"])


def _need(section: Mapping[str, Any], key: str, name: str) -> str:
    value = section[key]
    if not value:
        raise ConfigError(f"{name}.{key} is required for backend = {section['backend']!r}")
    return str(value)


def _check(ok: bool, key: str, value: Any, allowed: Any) -> None:
    if not ok:
        raise ConfigError(f"accel.{key} = {value!r}: this chip allows {allowed}")
