"""The running agent and the lift's calibration file (issue 9): the calibration's baseline,
axis rotation, sound correction and thresholds reach the detectors; a file that fails
validation is refused with a one-line reason and the previous version stays in use; a new
version written while the agent runs is taken up and put on the maintenance trail."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.detectors.baseline import learn
from agent.detectors.geometry import LiftGeometry
from agent.outbox import DURABLE
from agent.runtime.agent import Agent
from calibration import document
from calibration.mounting import rotation_onto_z
from drivers.blocks import SampleBlock
from tests.runtime.test_agent import agent_for
from tests.support.clock import FakeClock
from tests.support.schemas import validate

DEVICE = {"site": "t", "lift": "L1", "box_id": ""}
G = 9.80665
# the sensor fitted on its side: its +x axis points up
SIDEWAYS = rotation_onto_z(np.array([G, 0.0, 0.0]))


def calibration_path(tmp_path: Path) -> Path:
    return tmp_path / "calibration.json"  # [calibration] path's default, next to the config


def baseline_json(level: float) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    obs = [(1.0, {"rope.order_1": level + float(rng.normal(0, 0.2))}) for _ in range(10)]
    return learn(obs, LiftGeometry(), min_count=8, now=1_764_000_000.0).to_json()


def write_version(path: Path, **updates: Any) -> dict[str, Any]:
    """What `liftguard calibrate` leaves behind: the next version, sealed, the old as .prev."""
    current = document.load(path) if path.exists() else None
    doc = document.seal(document.next_version(current, DEVICE, workflow="test",
                                              technician="li.wei", updates=updates,
                                              now=1_764_000_000.0))
    document.write(path, doc)
    later(path)
    return doc


def later(path: Path) -> None:
    # two writes within one timestamp tick of the file system look alike to a stat; move the
    # file's time on as the seconds between a technician's two writes would
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def edit_by_hand(path: Path) -> None:
    doc = json.loads(path.read_text())
    doc["thresholds"]["warning_score"] = 7.0  # the checksum no longer matches
    path.write_text(json.dumps(doc))
    later(path)


def events(agent: Agent, kind: str) -> list[dict[str, Any]]:
    out = []
    for p in agent.pipeline.outbox.pending(DURABLE, 0, 1000):
        body = json.loads(p.payload)
        if body.get("schema") == "liftguard.event/1" and body["kind"] == kind:
            out.append(validate("event", body))
    return out


def trail_records(agent: Agent, kind: str) -> list[dict[str, Any]]:
    lines = agent.pipeline.trail.path.read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def block(stream: str, channels: tuple[str, ...], units: str, row: list[float],
          n: int = 64) -> SampleBlock:
    return SampleBlock(stream=stream, seq=0, t0=100.0, fs=64.0, channels=channels, units=units,
                       data=np.tile(np.array(row, np.float32), (n, 1)))


def detectors_see(agent: Agent, b: SampleBlock, clock: FakeClock) -> np.ndarray:
    """Feed `b` through the runtime loop; what the detectors' ring holds for its span."""
    agent.blocks.put((b.t0 + b.duration, b))
    agent.step(clock())
    window = agent.wear.rings[b.stream].window(b.t0, b.t0 + b.duration)
    assert window is not None
    return window


@pytest.fixture
def started(tmp_path):
    """Start an agent on the calibration written so far; closed at the end."""
    agents: list[Agent] = []
    clock = FakeClock()

    def start() -> Agent:
        agents.append(agent_for(tmp_path, clock))
        return agents[-1]

    start.clock = clock  # type: ignore[attr-defined]
    yield start
    for a in agents:
        a.close()


# -- an agent started with a valid calibration ---------------------------------------------------


def test_the_calibrations_baseline_is_scored_against(tmp_path, started):
    doc = write_version(calibration_path(tmp_path), baseline=baseline_json(12.0))
    agent = started()
    assert agent.calibration.version == 1
    assert not agent.wear.learning
    assert agent.wear.baseline is not None
    assert agent.wear.baseline.to_json() == doc["baseline"]


def test_accel_blocks_reach_the_detectors_in_the_car_frame(tmp_path, started):
    write_version(calibration_path(tmp_path),
                  accel={"rotation": SIDEWAYS.tolist(), "vertical_axis": "x"})
    agent = started()
    seen = detectors_see(agent, block("accel", ("x", "y", "z"), "m/s^2", [G, 0.0, 0.0]),
                         started.clock)
    np.testing.assert_allclose(seen.mean(axis=0), [0.0, 0.0, G], atol=1e-4)


def test_without_a_calibration_accel_blocks_pass_unchanged(tmp_path, started):
    agent = started()
    assert agent.calibration.version is None
    seen = detectors_see(agent, block("accel", ("x", "y", "z"), "m/s^2", [G, 0.0, 0.0]),
                         started.clock)
    np.testing.assert_allclose(seen.mean(axis=0), [G, 0.0, 0.0], atol=1e-4)


@pytest.mark.parametrize(("units", "reading", "correction_db", "expected"), [
    ("Pa", 1.0, 20 * math.log10(2.0), 2.0),  # a pressure signal: the correction is a gain
    ("Pa", 1.0, -20 * math.log10(2.0), 0.5),
    ("dB", 60.0, 3.0, 63.0),  # a sound meter's level: the correction adds
])
def test_sound_levels_get_the_calibrators_correction(tmp_path, started, units, reading,
                                                     correction_db, expected):
    write_version(calibration_path(tmp_path), noise={"correction_db": correction_db})
    agent = started()
    seen = detectors_see(agent, block("audio", ("p",), units, [reading]), started.clock)
    assert seen.mean() == pytest.approx(expected, rel=1e-5)


def test_the_calibrations_thresholds_are_set_within_their_registered_bounds(tmp_path, started):
    # critical 200 is beyond the bound a remote command may not leave either (100): not taken
    write_version(calibration_path(tmp_path),
                  thresholds={"warning_score": 4.0, "critical_score": 200.0})
    agent = started()
    th = agent.wear.tracker.thresholds
    assert (th.warning, th.critical) == (4.0, 10.0)
    assert agent.pipeline.thresholds.get("wear", "warning_score") == 4.0


def test_taking_up_a_version_is_on_the_trail_once_not_at_every_restart(tmp_path, started):
    doc = write_version(calibration_path(tmp_path), noise={"correction_db": 1.0})
    started().close()
    agent = started()
    records = trail_records(agent, "calibration")
    assert [(r["technician"], r["detail"]["version"], r["detail"]["checksum"])
            for r in records] == [("li.wei", 1, doc["checksum"])]
    assert [e["detail"]["kind"] for e in events(agent, "maintenance")] == ["calibration"]
    assert [e["detail"]["version"] for e in events(agent, "calibration_loaded")] == [1]


# -- a calibration that fails validation ----------------------------------------------------------


def test_a_hand_edited_file_is_refused_at_start_and_the_previous_version_used(tmp_path, started):
    path = calibration_path(tmp_path)
    write_version(path, thresholds={"warning_score": 4.0, "critical_score": 9.0})
    write_version(path, thresholds={"warning_score": 6.0, "critical_score": 12.0})
    edit_by_hand(path)
    agent = started()
    assert agent.calibration.version == 1
    assert agent.calibration.current is not None
    assert agent.calibration.current.path.name == "calibration.json.prev"
    assert agent.wear.tracker.thresholds.warning == 4.0
    (refused,) = events(agent, "calibration_rejected")
    reason = refused["detail"]["reason"]
    assert "checksum does not match" in reason and "previous version 1" in reason
    assert "\n" not in reason and refused["severity"] == "warning"
    assert refused["detail"]["in_use"] == 1


def test_a_hand_edited_file_without_a_previous_version_runs_uncalibrated(tmp_path, started):
    path = calibration_path(tmp_path)
    write_version(path, accel={"rotation": SIDEWAYS.tolist(), "vertical_axis": "x"})
    edit_by_hand(path)
    agent = started()
    assert agent.calibration.version is None
    (refused,) = events(agent, "calibration_rejected")
    assert refused["detail"]["reason"].endswith("running uncalibrated")
    seen = detectors_see(agent, block("accel", ("x", "y", "z"), "m/s^2", [G, 0.0, 0.0]),
                         started.clock)
    np.testing.assert_allclose(seen.mean(axis=0), [G, 0.0, 0.0], atol=1e-4)


# -- a new calibration while the agent runs --------------------------------------------------------


def test_a_new_valid_version_while_running_is_taken_up(tmp_path, started):
    path = calibration_path(tmp_path)
    write_version(path, baseline=baseline_json(12.0),
                  thresholds={"warning_score": 4.0, "critical_score": 9.0})
    agent = started()
    v2 = write_version(path, baseline=baseline_json(20.0),
                       accel={"rotation": SIDEWAYS.tolist(), "vertical_axis": "x"},
                       thresholds={"warning_score": 6.0, "critical_score": 12.0})
    agent.reload_files()
    assert agent.calibration.version == 2
    assert agent.wear.baseline is not None
    assert agent.wear.baseline.to_json() == v2["baseline"]
    th = agent.wear.tracker.thresholds
    assert (th.warning, th.critical) == (6.0, 12.0)
    seen = detectors_see(agent, block("accel", ("x", "y", "z"), "m/s^2", [G, 0.0, 0.0]),
                         started.clock)
    np.testing.assert_allclose(seen.mean(axis=0), [0.0, 0.0, G], atol=1e-4)
    assert [r["detail"]["version"] for r in trail_records(agent, "calibration")] == [1, 2]


def test_a_refused_new_version_while_running_keeps_the_one_in_use(tmp_path, started):
    path = calibration_path(tmp_path)
    write_version(path, thresholds={"warning_score": 4.0, "critical_score": 9.0})
    agent = started()
    write_version(path, thresholds={"warning_score": 6.0, "critical_score": 12.0})
    edit_by_hand(path)
    agent.reload_files()
    agent.reload_files()  # the same refused file: reported once
    assert agent.calibration.version == 1
    assert agent.wear.tracker.thresholds.warning == 4.0
    (refused,) = events(agent, "calibration_rejected")
    assert refused["detail"]["reason"].endswith("refused, keeping version 1")
    assert [r["detail"]["version"] for r in trail_records(agent, "calibration")] == [1]
