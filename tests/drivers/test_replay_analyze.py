"""The replay backend hands the agent exactly the samples `liftguard analyze` reads.

This is the driver half of the acceptance "a replayed recording through the agent gives the
same findings as analyze": the blocks the replay backend produces, reassembled, analyze to
the same findings as the file itself. The agent-runtime half needs the runtime (later issue).
"""

import numpy as np
import pytest

from agent import config
from agent.detectors.offline import analyze_file
from drivers.accel import open_accel
from drivers.noise import open_noise
from drivers.replay.recording import read_recording, write_recording

LIFT = {"rated_speed_mps": 1.75, "roping": 2, "sheave_diameter_m": 0.4, "rope_strands": 8,
        "rope_lay_length_m": 0.065}


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def synth(kind, fs, seconds=3.0):
    rng = np.random.default_rng(7)
    t = np.arange(int(fs * seconds)) / fs
    if kind == "accel":
        z = 0.05 * np.sin(2 * np.pi * 215.4 * t) + 0.02 * rng.standard_normal(t.size)
        return np.column_stack([0.01 * rng.standard_normal(t.size),
                                0.01 * rng.standard_normal(t.size), z])
    return (0.2 * np.sin(2 * np.pi * 1000 * t) + 0.05 * rng.standard_normal(t.size))[:, None]


@pytest.mark.parametrize("kind, section, fs, fmt", [
    ("accel", "accel", 3200, "pcm16"),
    ("accel", "accel", 3200, "float32"),
    ("audio", "noise", 16000, "pcm32"),
])
def test_replayed_blocks_analyze_like_the_file(tmp_path, kind, section, fs, fmt):
    from drivers.replay.recording import Sidecar

    side = (Sidecar("accel", "m/s^2", 1.0, ("x", "y", "z"), "z", 1.75, LIFT) if kind == "accel"
            else Sidecar("audio", "Pa", 1.0, ("p",), None, 1.75, LIFT))
    original = write_recording(tmp_path / "run1.wav", synth(kind, fs), fs, side, fmt)
    c = config.from_dict({"device": {"site": "s", "lift": "l"},
                          section: {"backend": "replay", "replay_file": str(original),
                                    "replay_realtime": False}})
    src = open_accel(c.accel, Clock()) if section == "accel" else open_noise(c.noise, Clock())
    blocks = []
    while not src.finished:
        blocks += src.read()
    data = np.concatenate([b.data for b in blocks])
    rec = read_recording(original)
    np.testing.assert_array_equal(data, rec.data)  # bit-identical samples
    replayed = write_recording(tmp_path / "replayed.wav", data, fs, rec.sidecar, "float32")
    a, b = analyze_file(str(original), None), analyze_file(str(replayed), None)
    assert a["findings"] and a["findings"] == b["findings"]
