"""The calibration file: checksum, signature, atomic replace with a previous copy, rollback,
and the agent's loader refusing what fails validation."""

from __future__ import annotations

import json
import os

import pytest

from agent.commands.signing import key_id, load_private, write_key_pair
from calibration import document
from calibration.loader import CalibrationLoader

DEVICE = {"site": "s1", "lift": "L2", "box_id": ""}


def make(version_of=None, **updates):
    doc = document.next_version(version_of, DEVICE, workflow="test", technician="li.wei",
                                updates=updates or {"thresholds": {"warning_score": 5.0,
                                                                   "critical_score": 10.0}},
                                now=1_764_000_000.0)
    return doc


def test_a_sealed_document_validates_and_names_box_and_version():
    sealed = document.seal(make())
    assert document.validate(json.loads(document.encode(sealed)), "f") == sealed
    assert sealed["version"] == 1 and sealed["box_id"] == "s1-L2"
    assert sealed["checksum"].startswith("sha256:")


def test_reindenting_the_file_keeps_the_checksum(tmp_path):
    p = tmp_path / "cal.json"
    document.write(p, document.seal(make()))
    p.write_text(json.dumps(json.loads(p.read_text()), indent=4))
    assert document.load(p)["version"] == 1


@pytest.mark.parametrize("edit", [
    lambda d: d["thresholds"].__setitem__("warning_score", 50.0),
    lambda d: d.__setitem__("technician", "someone.else"),
    lambda d: d.__setitem__("version", 9),
])
def test_a_hand_edited_value_fails_the_checksum_with_one_line(tmp_path, edit):
    p = tmp_path / "cal.json"
    document.write(p, document.seal(make()))
    d = json.loads(p.read_text())
    edit(d)
    p.write_text(json.dumps(d))
    with pytest.raises(document.CalibrationInvalid) as exc:
        document.load(p)
    assert "checksum does not match" in str(exc.value) and "\n" not in str(exc.value)


def test_writing_keeps_the_replaced_file_as_prev_and_rollback_swaps_them(tmp_path):
    p = tmp_path / "cal.json"
    v1 = document.seal(make())
    document.write(p, v1)
    first = p.read_bytes()
    document.write(p, document.seal(make(v1)))
    assert document.previous_path(p).read_bytes() == first
    second = p.read_bytes()
    back = document.rollback(p)
    assert back["version"] == 1 and p.read_bytes() == first
    assert document.previous_path(p).read_bytes() == second


def test_rollback_without_a_previous_file_changes_nothing(tmp_path):
    p = tmp_path / "cal.json"
    document.write(p, document.seal(make()))
    before = p.read_bytes()
    with pytest.raises(document.CalibrationInvalid, match="no previous calibration"):
        document.rollback(p)
    assert p.read_bytes() == before


def test_an_invalid_document_is_never_written(tmp_path):
    p = tmp_path / "cal.json"
    document.write(p, document.seal(make()))
    before = p.read_bytes()
    bad = make(accel={"rotation": [[2, 0, 0], [0, 1, 0], [0, 0, 1]], "vertical_axis": "z"})
    with pytest.raises(document.CalibrationInvalid, match="not a rotation"):
        document.write(p, document.seal(bad))
    assert p.read_bytes() == before


@pytest.fixture
def technician_key(tmp_path):
    key_path, pub, kid = write_key_pair(tmp_path / "tech", "tech")
    return load_private(key_path)


def test_a_signature_by_a_trusted_key_verifies(technician_key):
    sealed = document.seal(make(), technician_key)
    trusted = {key_id(technician_key.public_key()): technician_key.public_key()}
    assert document.validate(sealed, "f", trusted, require_signature=True) is sealed


def test_a_signature_by_an_unknown_key_is_refused(technician_key, tmp_path):
    sealed = document.seal(make(), technician_key)
    other = load_private(write_key_pair(tmp_path / "other", "o")[0]).public_key()
    with pytest.raises(document.CalibrationInvalid, match="not a trusted key"):
        document.validate(sealed, "f", {key_id(other): other})


def test_changing_a_signed_document_and_its_checksum_still_fails_the_signature(technician_key):
    sealed = document.seal(make(), technician_key)
    sealed["technician"] = "mallory"
    sealed["checksum"] = document.checksum_of(sealed)  # a careful forger recomputes it
    trusted = {key_id(technician_key.public_key()): technician_key.public_key()}
    with pytest.raises(document.CalibrationInvalid, match="signature does not verify"):
        document.validate(sealed, "f", trusted)


def test_an_unsigned_file_is_refused_when_signatures_are_required():
    with pytest.raises(document.CalibrationInvalid, match="not signed"):
        document.validate(document.seal(make()), "f", {}, require_signature=True)


def test_the_agent_refuses_a_bad_file_and_starts_on_the_previous_version(tmp_path):
    p = tmp_path / "cal.json"
    v1 = document.seal(make())
    document.write(p, v1)
    document.write(p, document.seal(make(v1)))
    d = json.loads(p.read_text())
    d["thresholds"]["warning_score"] = 1.5
    p.write_text(json.dumps(d))
    loader = CalibrationLoader(p)
    cal = loader.load()
    assert cal is not None and cal.version == 1
    assert "checksum does not match" in loader.reason and "previous version 1" in loader.reason


def test_the_agent_keeps_the_calibration_in_use_when_a_new_file_is_bad(tmp_path):
    p = tmp_path / "cal.json"
    v1 = document.seal(make())
    document.write(p, v1)
    loader = CalibrationLoader(p)
    assert loader.load().version == 1
    v2 = document.seal(make(v1))
    v2["technician"] = "edited"
    p.write_text(json.dumps(v2))
    os.utime(p, ns=(1, 1))  # a different stamp even on coarse-mtime filesystems
    assert loader.refresh().version == 1
    assert loader.reason.endswith("refused, keeping version 1")
    document.write(p, document.seal(make(v1)))
    assert loader.refresh().version == 2 and loader.reason is None


def test_the_agent_side_of_calibration_never_loads_matplotlib():
    import subprocess
    import sys

    code = ("import sys, calibration.loader, calibration.document; "
            "sys.exit('matplotlib' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
