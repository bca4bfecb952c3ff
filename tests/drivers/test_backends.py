"""Backend selection by config, and the hardware-library rules: import nothing until chosen,
one module per library, a one-line error naming the package when it is missing."""

import ast
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from agent import config
from agent.errors import ConfigError, HardwareUnavailable
from drivers.accel import open_accel
from drivers.gpio import open_pin_factory
from drivers.gpio.box import BoxGpio
from drivers.gpio.sim import SimPinFactory
from drivers.noise import open_noise
from drivers.replay.recording import Sidecar, write_recording
from drivers.replay.source import RecordingReplay

ROOT = pathlib.Path(__file__).resolve().parents[2]
HARDWARE = {"RPi.GPIO": "RPi", "spidev": "spidev", "smbus2": "smbus2", "alsaaudio": "alsaaudio"}


def cfg(**sections):
    return config.from_dict({"device": {"site": "s", "lift": "l"}, **sections})


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def imported_modules(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("lib", sorted(HARDWARE))
def test_each_hardware_library_is_imported_by_exactly_one_module(lib):
    users = [
        p.relative_to(ROOT).as_posix()
        for d in ("agent", "drivers", "calibration")
        for p in (ROOT / d).rglob("*.py")
        if any(m == lib or m.startswith(lib + ".") for m in imported_modules(p))
    ]
    assert len(users) == 1, users


BLOCKER = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'RPi', 'spidev', 'smbus2', 'alsaaudio'}:
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
"""


def test_import_and_help_work_without_hardware_libraries():
    code = BLOCKER + """
import agent, drivers, drivers.accel, drivers.noise, drivers.gpio, drivers.replay
import drivers.accel.adxl345, drivers.accel.adxl355, drivers.gpio.devices, drivers.gpio.box
import drivers.replay.recording, drivers.replay.source, drivers.replay.controller_csv
from agent.cli import main
try:
    main(['--help'])
except SystemExit as e:
    assert e.code in (0, None), e.code
loaded = [m for m in sys.modules if m.split('.')[0] in {'RPi', 'spidev', 'smbus2', 'alsaaudio'}]
assert not loaded, loaded
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "liftguard" in r.stdout


@pytest.mark.parametrize(
    "section, backend, package",
    [
        ("accel", {"backend": "adxl345", "interface": "spi"}, "spidev"),
        ("accel", {"backend": "adxl345", "interface": "i2c", "odr_hz": 800.0}, "smbus2"),
        ("accel", {"backend": "adxl355", "range_g": 2, "odr_hz": 4000.0}, "spidev"),
        ("noise", {"backend": "alsa"}, "pyalsaaudio"),
        ("gpio", {"backend": "rpigpio"}, "RPi.GPIO"),
    ],
)
def test_real_backend_without_its_library_is_one_line_naming_the_package(
    monkeypatch, section, backend, package
):
    for mod in ("spidev", "smbus2", "alsaaudio", "RPi", "RPi.GPIO"):
        monkeypatch.setitem(sys.modules, mod, None)
    c = cfg(**{section: backend})
    opener = {"accel": lambda: open_accel(c.accel, Clock()),
              "noise": lambda: open_noise(c.noise, Clock()),
              "gpio": lambda: open_pin_factory(c.gpio, Clock())}[section]
    with pytest.raises(HardwareUnavailable) as err:
        opener()
    assert package in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "section, values, message",
    [
        ("accel", {"backend": "adxl345", "odr_hz": 1000.0}, "accel.odr_hz = 1000.0"),
        ("accel", {"backend": "adxl345", "spi_hz": 8_000_000}, "accel.spi_hz"),
        ("accel", {"backend": "adxl345", "interface": "i2c"}, "<= 800 Hz over I2C"),
        ("accel", {"backend": "adxl355", "range_g": 16, "odr_hz": 4000.0}, "accel.range_g = 16"),
        ("accel", {"backend": "adxl355", "interface": "i2c"}, "accel.interface"),
        ("accel", {"backend": "sim"}, "accel.socket is required"),
        ("accel", {"backend": "replay"}, "accel.replay_file is required"),
        ("noise", {"backend": "modbus"}, "shares the controller's RS-485 bus"),
    ],
)
def test_backend_settings_the_chip_cannot_do_are_config_errors(section, values, message):
    c = cfg(**{section: values})
    with pytest.raises(ConfigError, match=message):
        open_accel(c.accel, Clock()) if section == "accel" else open_noise(c.noise, Clock())


@pytest.mark.parametrize("section", ["accel", "noise"])
def test_none_backend_is_no_source(section):
    c = cfg(**{section: {"backend": "none"}})
    assert (open_accel(c.accel, Clock()) if section == "accel"
            else open_noise(c.noise, Clock())) is None


def write(tmp, kind):
    side = (Sidecar("accel", "m/s^2", 1.0, ("x", "y", "z"), "z") if kind == "accel"
            else Sidecar("audio", "Pa", 1.0, ("p",)))
    data = np.zeros((1600, len(side.channels)))
    return write_recording(tmp / f"{kind}.wav", data, 3200, side)


def test_replay_backend_opens_the_recording_relative_to_the_config(tmp_path):
    write(tmp_path, "accel")
    (tmp_path / "box.toml").write_text(
        '[device]\nsite = "s"\nlift = "l"\n[accel]\nbackend = "replay"\n'
        'replay_file = "accel.wav"\nreplay_realtime = false\n')
    src = open_accel(config.load(tmp_path / "box.toml").accel, Clock())
    assert isinstance(src, RecordingReplay)
    (block,) = src.read()
    assert block.stream == "accel" and block.fs == 3200


def test_replay_of_the_wrong_kind_names_the_file(tmp_path):
    path = write(tmp_path, "audio")
    c = cfg(accel={"backend": "replay", "replay_file": str(path)})
    with pytest.raises(ConfigError, match="kind is 'audio', \\[accel\\] needs kind 'accel'"):
        open_accel(c.accel, Clock())


def test_noise_replay_plays_audio(tmp_path):
    path = write(tmp_path, "audio")
    c = cfg(noise={"backend": "replay", "replay_file": str(path), "replay_realtime": False})
    (block,) = open_noise(c.noise, Clock()).read()
    assert block.stream == "audio" and block.units == "Pa"


def test_sim_backend_is_a_client_of_the_configured_socket(tmp_path):
    from drivers.accel.sim_stream import SimStreamSource

    c = cfg(accel={"backend": "sim", "socket": str(tmp_path / "s.sock")},
            noise={"backend": "sim", "socket": str(tmp_path / "s.sock")})
    a, n = open_accel(c.accel, Clock()), open_noise(c.noise, Clock())
    assert isinstance(a, SimStreamSource) and a.stream == "accel"
    assert isinstance(n, SimStreamSource) and n.stream == "audio"


def test_gpio_box_builds_every_fitted_device_and_skips_the_rest():
    c = cfg(gpio={"backend": "sim", "buzzer_pin": -1, "door_pin": 6})
    factory = open_pin_factory(c.gpio, Clock())
    box = BoxGpio.from_config(c.gpio, factory)
    assert box.buzzer is None and box.door is not None and box.relay is not None
    assert isinstance(factory, SimPinFactory)
    assert sorted(factory.outputs) == [17, 27] and sorted(factory.inputs) == [5, 6]
    box.close()


def test_gpio_pin_clash_in_config_is_refused():
    c = cfg(gpio={"backend": "sim", "led_pin": 17})
    with pytest.raises(ConfigError, match="GPIO17 is already used"):
        BoxGpio.from_config(c.gpio, open_pin_factory(c.gpio, Clock()))

