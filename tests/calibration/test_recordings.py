"""Offline commissioning: accel and noise workflows from recordings in the recording format."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agent.cli import main
from calibration import document
from drivers.replay.recording import Sidecar, write_recording

FS_A, FS_S = 3200, 16000
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def box(tmp_path):
    cfg = tmp_path / "box.toml"
    cfg.write_text('[device]\nsite = "s1"\nlift = "L2"\n[storage]\noutbox_path = "o.db"\n')
    return cfg, tmp_path / "calibration.json", tmp_path / "rec"


def _audio(folder, name, db_spl, seed):
    t = np.arange(3 * FS_S) / FS_S
    rng = np.random.default_rng(seed)
    x = np.sqrt(2) * 20e-6 * 10 ** (db_spl / 20) * np.sin(2 * np.pi * 1000 * t)
    x += 1e-4 * rng.standard_normal(t.size)
    write_recording(folder / name, x[:, None], FS_S, Sidecar("audio", "Pa", 1.0, ("p",)))


def test_accel_alignment_from_a_recording_at_rest(box):
    cfg, path, rec = box
    rec.mkdir()
    tilt = math.radians(3)  # within 5 deg: no warning, so --yes keeps it
    g = np.array([9.80665 * math.sin(tilt), 0.0, 9.80665 * math.cos(tilt)])
    data = g + 0.003 * np.random.default_rng(1).standard_normal((4 * FS_A, 3))
    write_recording(rec / "accel_rest.wav", data, FS_A,
                    Sidecar("accel", "m/s^2", 1.0, ("x", "y", "z"), "z", 0.0))
    assert main(["calibrate", "accel", "--from-recordings", str(rec), "--technician", "li.wei",
                 "--yes", "--config", str(cfg)]) == 0
    a = document.load(path)["accel"]
    assert a["vertical_axis"] == "z" and a["tilt_deg"] == pytest.approx(3.0, abs=0.05)
    assert a["warnings"] == []


def test_noise_from_calibrator_and_background_recordings(box):
    cfg, path, rec = box
    rec.mkdir()
    _audio(rec, "calibrator.wav", 94.0 - 1.5, 1)  # the microphone reads 1.5 dB low
    _audio(rec, "background.wav", 55.0 - 1.5, 2)
    assert main(["calibrate", "noise", "--from-recordings", str(rec), "--technician", "li.wei",
                 "--config", str(cfg)]) == 0
    n = document.load(path)["noise"]
    assert n["correction_db"] == pytest.approx(1.5, abs=0.05)
    assert n["background_dba"] == pytest.approx(55.0, abs=0.3)


def test_a_60_db_calibrator_recording_is_refused_in_one_line_and_nothing_changes(box, capsys):
    cfg, path, rec = box
    rec.mkdir()
    doc = document.next_version(None, {"site": "s1", "lift": "L2"}, workflow="controller",
                                technician="li.wei", updates={})
    document.write(path, document.seal(doc))
    before = path.read_bytes()
    _audio(rec, "calibrator.wav", 60.0, 1)
    _audio(rec, "background.wav", 50.0, 2)
    assert main(["calibrate", "noise", "--from-recordings", str(rec), "--technician", "li.wei",
                 "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "reads 60.0 dB SPL, expected 94 dB" in err
    assert path.read_bytes() == before
    assert not document.previous_path(path).exists()
