"""`liftguard analyze` and `liftguard baseline learn` against the CLI contract."""

import json

import numpy as np
import pytest

from agent.cli import main
from drivers.replay.recording import Sidecar, write_recording
from tests.detectors.signals import FS, LIFT_JSON, car_vibration, trip_speed

ACCEL = Sidecar("accel", "m/s^2", 1.0, ("x", "y", "z"), "z", 1.75, LIFT_JSON)


@pytest.fixture
def healthy(tmp_path):
    paths = []
    for s in range(10):
        paths.append(str(write_recording(tmp_path / f"h{s}.wav", car_vibration(s), int(FS), ACCEL)))
    return paths


def _learn(tmp_path, files, capsys):
    out = tmp_path / "b.json"
    assert main(["baseline", "learn", *files, "-o", str(out)]) == 0
    capsys.readouterr()
    return out


def test_analyze_prints_one_json_object_per_file(tmp_path, healthy, capsys):
    b = _learn(tmp_path, healthy, capsys)
    worn = write_recording(tmp_path / "worn.wav", car_vibration(99, strand_db=8), int(FS), ACCEL)
    assert main(["analyze", str(worn), healthy[0], "--baseline", str(b), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    objs = [json.loads(line) for line in lines]
    assert [o["file"] for o in objs] == ["worn.wav", "h0.wav"]
    rope = {o["file"]: next(f for f in o["findings"] if f["kind"] == "rope_wear") for o in objs}
    assert rope["worn.wav"]["alarm"] and rope["worn.wav"]["evidence"]["order"] == 1.0
    assert rope["worn.wav"]["evidence"]["level_db_over_baseline"] == pytest.approx(8, abs=1)
    assert not rope["h0.wav"]["alarm"]
    assert any(f["kind"] == "ride_quality" for f in objs[0]["findings"])


def test_analyze_audio_reports_a_weighted_level(tmp_path, capsys):
    t = np.arange(int(16000 * 2)) / 16000
    tone = (np.sqrt(2) * np.sin(2 * np.pi * 1000 * t))[:, None]  # 1 Pa rms: 94 dB
    side = Sidecar("audio", "Pa", 1.0, ("p",), None, 0.0, {})
    wav = write_recording(tmp_path / "room.wav", tone, 16000, side)
    assert main(["analyze", str(wav), "--json"]) == 0
    (f,) = json.loads(capsys.readouterr().out)["findings"]
    assert f["kind"] == "noise_level" and f["alarm"]
    assert f["evidence"]["laeq_dba"] == pytest.approx(94.0, abs=0.2)


def test_analyze_csv_trace_finds_trips_without_baseline(tmp_path, capsys):
    t, v = trip_speed(0.0, 1.75)
    rows = "\n".join(f"{a:.2f},{b:.3f},{20 * b:.1f}" for a, b in zip(t, v, strict=True))
    p = tmp_path / "trace.csv"
    p.write_text("t,speed_mps,current_a\n" + rows + "\n")
    assert main(["analyze", str(p), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"file": "trace.csv", "findings": []}


def _one_line_error(capsys, argv, *needles):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc != 0 and err.count("\n") == 1, err
    for n in needles:
        assert n in err, err


def test_malformed_wav_names_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (tmp_path / "bad.json").write_text(json.dumps(ACCEL.to_json()))
    _one_line_error(capsys, ["analyze", str(bad)], "bad.wav")


def test_missing_sidecar_names_it(tmp_path, healthy, capsys):
    (tmp_path / "h0.json").unlink()
    _one_line_error(capsys, ["analyze", healthy[0]], "h0.json", "missing")


@pytest.mark.parametrize("change, field", [
    ({"vertical": "w"}, "vertical"),
    ({"units": "Pa"}, "units"),
    ({"speed_mps": None}, "speed_mps"),
    ({"channels": ["x", "y"]}, "channels"),
])
def test_contradictory_sidecar_names_the_field(tmp_path, healthy, capsys, change, field):
    side = json.loads((tmp_path / "h0.json").read_text())
    for k, v in change.items():
        if v is None:
            side.pop(k)
        else:
            side[k] = v
    (tmp_path / "h0.json").write_text(json.dumps(side))
    _one_line_error(capsys, ["analyze", healthy[0]], "h0.json", field)


def test_sidecar_lift_contradicting_the_baseline_is_an_error(tmp_path, healthy, capsys):
    b = _learn(tmp_path, healthy, capsys)
    side = json.loads((tmp_path / "h1.json").read_text())
    side["lift"]["rope_strands"] = 6
    (tmp_path / "h1.json").write_text(json.dumps(side))
    _one_line_error(capsys, ["analyze", healthy[1], "--baseline", str(b)], "rope_strands")


@pytest.mark.parametrize("text, needle", [
    ("time,speed_mps\n0,0\n", "'t'"),
    ("t,speed_mps\n0,fast\n", "speed_mps"),
    ("t,current_a\n0,1\n1,2\n", "speed_mps"),
])
def test_csv_with_bad_columns_names_file_and_column(tmp_path, capsys, text, needle):
    p = tmp_path / "trace.csv"
    p.write_text(text)
    _one_line_error(capsys, ["analyze", str(p)], "trace.csv", needle)


def test_baseline_learn_needs_output(capsys, healthy):
    with pytest.raises(SystemExit) as e:
        main(["baseline", "learn", healthy[0]])
    assert e.value.code == 2


def test_unknown_file_type_is_refused(tmp_path, capsys):
    _one_line_error(capsys, ["analyze", str(tmp_path / "notes.txt")], "notes.txt")


def test_baseline_file_from_learn_is_versioned(tmp_path, healthy, capsys):
    b = _learn(tmp_path, healthy, capsys)
    d = json.loads(b.read_text())
    assert d["schema"] == "liftguard.baseline/1" and d["lift"]["rope_strands"] == 8
    assert d["features"]["rope.strand_prom"]["all"]["n"] == 10


def test_analyze_output_validates_against_its_schema(tmp_path, healthy, capsys):
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).parents[2] / "docs/schemas/analyze.json").read_text())
    b = _learn(tmp_path, healthy, capsys)
    assert main(["analyze", *healthy[:2], "--baseline", str(b), "--json"]) == 0
    for line in capsys.readouterr().out.splitlines():
        jsonschema.validate(json.loads(line), schema)
