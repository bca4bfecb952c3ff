"""Workflows against the served virtual elevator: its controller on a pty (Modbus RTU at
19200 baud, paced like the wire), its sensor socket, its control socket for calls and faults.
Bad inputs and a controller lost mid-capture stop the workflow with one line and change
nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from calibration import baseline_flow, document, workflows
from calibration.calibrator import CalibratorImplausible
from calibration.rigs import ControllerLost, open_live_rig
from calibration.sensing import SensorDead
from drivers.sim.control import send
from tests.calibration.acoustic_calibrator import FittedCalibrator
from tests.calibration.conftest import Answers, box_config, make_session
from tests.support.served_sim import served_sim

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def served(tmp_path, request):
    """`liftguard sim run` with an idle car (calls only from the box), stopped by PID."""
    with served_sim(tmp_path, ["--calls", "none", *getattr(request, "param", [])]) as ends:
        cfg = box_config(
            tmp_path, controller={"port": str(ends.link), "parity": "N", "timeout_s": 0.3},
            accel={"backend": "sim", "socket": str(ends.sensors)},
            noise={"backend": "sim", "socket": str(ends.sensors)})
        yield {"cfg": cfg, "control": str(ends.control), "tmp": tmp_path}


def existing_calibration(served) -> Path:
    """A calibration already on the box (version 1, controller section)."""
    path = Path(served["cfg"]["calibration"]["path"])
    doc = document.next_version(None, served["cfg"]["device"], workflow="controller",
                                technician="li.wei", updates={"controller": {
                                    "profile": "nice3000plus", "rated_speed_mps": 1.75,
                                    "floors": 10}})
    document.write(path, document.seal(doc))
    return path


def session(served, answers, rig=None, **kw):
    cfg = served["cfg"]
    return make_session(cfg, rig or (lambda: open_live_rig(cfg, served["control"])),
                        answers, **kw)


def test_controller_workflow_identifies_the_profile_and_confirms_the_keypad(served):
    s = session(served, Answers(["", "10", "none"]))
    try:
        doc, _ = s.commit("controller", workflows.controller(s))
    finally:
        s.close()
    c = document.load(s.path)["controller"]
    assert c["profile"] == "nice3000plus" == doc["controller"]["profile"]
    assert c["rated_speed_mps"] == pytest.approx(1.75) and c["floors"] == 10
    assert c["probe"]["nice3000plus"][0] == c["probe"]["nice3000plus"][1] > 0


def test_a_rated_speed_the_keypad_contradicts_fails_and_writes_nothing(served):
    s = session(served, Answers(["2.5"]))
    try:
        with pytest.raises(workflows.CheckFailed, match="reads 1.75 m/s but the keypad shows "
                           "2.5") as exc:
            workflows.controller(s)
    finally:
        s.close()
    assert "\n" not in str(exc.value) and not s.path.exists()


@pytest.mark.parametrize("served", [["--set", "sensor.tilt_deg=8"]], indirect=True)
def test_accel_workflow_finds_the_vertical_and_the_tilt_of_the_mount(served):
    s = session(served, Answers(["", "y"]))  # at rest: Enter; keep despite warnings: y
    try:
        doc, _ = s.commit("accel", workflows.accel(s))
        verdicts = baseline_flow.verify(s, 0)
    finally:
        s.close()
    a = doc["accel"]
    assert a["vertical_axis"] == "z" and a["tilt_deg"] == pytest.approx(8.0, abs=0.3)
    assert any("tilted 8." in w for w in a["warnings"])
    r, g = np.array(a["rotation"]), np.array(a["gravity_mps2"])
    assert np.allclose(r @ g / np.linalg.norm(g), [0, 0, 1], atol=1e-6)
    assert all(ok for item, ok, _ in verdicts), verdicts


def _noise_session(served, level_db, mic_error_db):
    cfg = served["cfg"]
    holder = {}

    def rig():
        live = open_live_rig(cfg, served["control"])
        live.sources = [FittedCalibrator(s, level_db, mic_error_db) if s.stream == "audio"
                        else s for s in live.sources]
        holder["mic"] = next(s for s in live.sources if isinstance(s, FittedCalibrator))
        return live

    def fit():
        holder["mic"].fitted = True

    def remove():
        holder["mic"].fitted = False

    answers = Answers(["", ""], {"fit the calibrator": fit, "remove the calibrator": remove})
    s = session(served, answers, rig)
    assert s.rig is not None  # the box is running before the technician fits the calibrator
    return s


def test_noise_workflow_measures_sensitivity_and_background(served):
    s = _noise_session(served, 94.0, -2.4)
    try:
        doc, _ = s.commit("noise", workflows.noise(s, 94.0))
    finally:
        s.close()
    n = doc["noise"]
    assert n["correction_db"] == pytest.approx(2.4, abs=0.1)
    # the sim's machine room is 48 dB(A) idle; the microphone reads 2.4 dB low, corrected
    assert n["background_dba"] == pytest.approx(48.0, abs=2.0)


def test_an_implausible_calibrator_level_is_refused_and_nothing_changes(served):
    first = existing_calibration(served)
    before = first.read_bytes()
    s = _noise_session(served, 60.0 - 0.0, 0.0)  # calibrator reads 60 dB, 94 expected
    try:
        with pytest.raises(CalibratorImplausible, match="reads 60.0 dB SPL, expected 94 dB"):
            workflows.noise(s, 94.0)
    finally:
        s.close()
    assert first.read_bytes() == before


def test_a_disconnected_accelerometer_is_one_line_and_changes_nothing(served):
    cfg = box_config(served["tmp"], controller=dict(served["cfg"]["controller"]),
                     accel={"backend": "sim", "socket": str(served["tmp"] / "unplugged.sock")},
                     noise={"backend": "none"})
    s = make_session(cfg, lambda: open_live_rig(cfg), Answers([""]))
    try:
        with pytest.raises(SensorDead, match="accel: no data for 3 s") as exc:
            workflows.accel(s)
    finally:
        s.close()
    assert "\n" not in str(exc.value) and not s.path.exists()


def test_a_controller_unplugged_mid_capture_leaves_the_calibration_untouched(served):
    first = existing_calibration(served)
    before = first.read_bytes()
    s = session(served, Answers([]))
    unplug = threading.Timer(4.0, send, (served["control"], {
        "cmd": "inject", "faults": {"controller_unplugged": True}}))
    unplug.start()
    try:
        with pytest.raises(ControllerLost, match="lost during the capture") as exc:
            baseline_flow.baseline(s, 2)
    finally:
        unplug.cancel()
        s.close()
    assert "\n" not in str(exc.value)
    assert first.read_bytes() == before
    assert not document.previous_path(first).exists()
