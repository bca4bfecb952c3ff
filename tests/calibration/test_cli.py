"""`liftguard calibrate`: one-line errors, show and rollback from the command line."""

from __future__ import annotations

import json

import pytest

from agent.cli import main
from calibration import document

DEVICE = {"site": "s1", "lift": "L2"}


@pytest.fixture
def box(tmp_path):
    cfg = tmp_path / "box.toml"
    cfg.write_text('[device]\nsite = "s1"\nlift = "L2"\n[storage]\noutbox_path = "o.db"\n')
    path = tmp_path / "calibration.json"
    v1 = document.seal(document.next_version(None, DEVICE, workflow="controller",
                                             technician="li.wei", updates={}))
    document.write(path, v1)
    document.write(path, document.seal(document.next_version(
        v1, DEVICE, workflow="accel", technician="zhang.min", updates={})))
    return cfg, path


def test_show_prints_the_summary_of_a_valid_calibration(box, capsys):
    cfg, _ = box
    assert main(["calibrate", "show", "--config", str(cfg)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["version"] == 2 and out["technician"] == "zhang.min"


def test_a_hand_edited_calibration_is_a_one_line_error_and_stops_every_workflow(box, capsys):
    cfg, path = box
    d = json.loads(path.read_text())
    d["technician"] = "nobody"
    path.write_text(json.dumps(d))
    edited = path.read_bytes()
    for argv in (["show"], ["baseline", "--simulate", "--technician", "li.wei"]):
        assert main(["calibrate", *argv, "--config", str(cfg)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "checksum does not match" in err
    assert path.read_bytes() == edited


def test_rollback_makes_the_previous_version_current(box, capsys):
    cfg, path = box
    assert main(["calibrate", "rollback", "--config", str(cfg)]) == 0
    assert "version 1" in capsys.readouterr().out
    assert document.load(path)["version"] == 1


def test_a_bad_technician_name_is_refused_before_anything_runs(box, capsys):
    cfg, path = box
    before = path.read_bytes()
    assert main(["calibrate", "accel", "--simulate", "--technician", "li wei",
                 "--config", str(cfg)]) == 2
    assert "--technician 'li wei'" in capsys.readouterr().err
    assert path.read_bytes() == before


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_baseline_from_recordings_of_the_virtual_elevator(box, tmp_path, capsys):
    cfg, path = box
    rec = tmp_path / "rec"
    assert main(["sim", "record", "-o", str(rec), "--duration", "150", "--seed", "2"]) == 0
    assert main(["calibrate", "baseline", "--from-recordings", str(rec), "--technician",
                 "li.wei", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "trip 1: 1.75 m/s peak, accepted" in out
    doc = document.load(path)
    assert doc["version"] == 3 and doc["baseline"]["sources"][0] == "trip001_accel.wav"
    assert (tmp_path / "commissioning" / "commissioning-v3-baseline.html").exists()
