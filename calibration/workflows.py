"""The sensor and controller workflows: controller, accel, noise.

Each one measures through the session's rig, talks to the technician through its console,
and returns the section it calibrated; `Session.commit` writes it. An error anywhere (a bad
answer, a dead sensor, an implausible calibrator, a lost controller) stops before writing.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from agent.errors import InputError
from calibration import calibrator, mounting
from calibration.console import integer, number, parse_yes_no
from calibration.rigs import ControllerLost
from calibration.sensing import capture, check_alive
from calibration.session import Session

ACCEL_CAPTURE_S = 4.0
CALIBRATOR_CAPTURE_S = 3.0
BACKGROUND_CAPTURE_S = 5.0
SPEED_SCALE_TOLERANCE = 0.02  # keypad figures are shown to 0.01 m/s; 2 % catches a 10x scale


class CheckFailed(InputError):
    """A reading contradicts what the technician sees; nothing is changed."""


def fault_answer(text: str) -> int:
    t = text.strip().upper()
    if t in ("NONE", "-", "0", "E00"):
        return 0
    try:
        return int(t[1:] if t.startswith("E") else t)
    except ValueError:
        raise ValueError("a fault code like E14, or 'none'") from None


def controller(s: Session) -> dict[str, Any]:
    rig, con = s.rig, s.console
    con.say("controller: identifying the register profile ...")
    results = rig.probe()  # type: ignore[attr-defined]
    for r in results:
        con.say(f"  {r.profile:16s} reads {r.reads_ok}/{r.reads}  plausible "
                f"{r.plausible}/{r.checked}")
    best = max(results, key=lambda r: r.score)
    if best.reads_ok == 0:
        raise CheckFailed("controller: no profile answered: check wiring, baud, parity and "
                          "device id (nothing was changed)")
    configured = s.cfg["controller"]["profile"]
    con.say(f"  best match: {best.profile}" + ("" if best.profile == configured else
                                               f" (config says {configured})"))
    r = rig.poll()
    read_speed = float(r.get("rated_speed_mps") or 0.0)
    keypad = con.ask("rated speed shown on the controller keypad, m/s", number(0.1, 12.0),
                     round(read_speed, 2) if read_speed else None)
    if not math.isclose(read_speed, keypad, rel_tol=SPEED_SCALE_TOLERANCE):
        raise CheckFailed(f"controller: rated speed register reads {read_speed:g} m/s but the "
                          f"keypad shows {keypad:g}: the profile's scale for rated_speed_mps "
                          "is wrong for this controller (nothing was changed)")
    floors = con.ask("number of floors (keypad / lift documents)", integer(2, 200),
                     int(s.cfg["lift"]["floors"]))
    floor = r.get("floor")
    if floor is not None and not 1 <= int(floor) <= floors:
        raise CheckFailed(f"controller: floor register reads {floor}, outside 1..{floors}")
    code = int(r.get("fault_code") or 0)
    shown = f"E{code:02d}" if code else "none"
    keypad_fault = con.ask(f"fault shown on the keypad now (box reads {shown})", fault_answer,
                           code, shown)
    if keypad_fault != code:
        raise CheckFailed(f"controller: fault register reads {shown} but the keypad shows "
                          f"{f'E{keypad_fault:02d}' if keypad_fault else 'none'}: fault codes "
                          "are not read correctly (nothing was changed)")
    con.say(f"controller: profile {best.profile}, rated speed {read_speed:g} m/s, "
            f"{floors} floors, fault code reading confirmed ({shown})")
    return {"controller": {"profile": best.profile, "rated_speed_mps": read_speed,
                           "floors": floors, "fault_code_at_check": code,
                           "probe": {x.profile: [x.reads_ok, x.reads] for x in results}}}


def _at_rest(s: Session, why: str) -> None:
    try:
        r = s.rig.poll()
    except ControllerLost:
        return  # sensor-only bench: the technician's word stands
    speed = float(r.get("speed_mps") or 0.0)
    if speed > 0.02:
        raise CheckFailed(f"{why}: the car is moving ({speed:.2f} m/s); wait until it "
                          "stands and try again (nothing was changed)")


def accel(s: Session) -> dict[str, Any]:
    con = s.console
    con.ask("car at rest, doors closed, nobody on the car roof? press Enter", parse_yes_no,
            "y")
    _at_rest(s, "accel")
    bar = con.progress("accel at rest", ACCEL_CAPTURE_S)
    data, fs, channels = capture(s.rig, "accel", ACCEL_CAPTURE_S, bar)
    bar.finish()
    _at_rest(s, "accel")
    return _alignment(s, data, fs, channels, float(getattr(s.rig, "range_g", 16.0)))


def _alignment(s: Session, data: Any, fs: float, channels: tuple[str, ...],
               range_g: float) -> dict[str, Any]:
    con = s.console
    al = mounting.align(data, fs, channels, range_g)
    con.say(f"accel: vertical axis {al.vertical_axis}, tilt {al.tilt_deg:.1f} deg, gravity "
            f"{math.hypot(*al.gravity):.3f} m/s^2, noise "
            + ", ".join(f"{k} {1e3 * v:.2f}" for k, v in al.noise_floor_mps2.items())
            + " mm/s^2 rms")
    for w in al.warnings:
        con.say(f"  WARNING: {w}")
    if al.warnings and not con.confirm("keep this alignment despite the warnings?", False):
        raise CheckFailed("accel: alignment not kept; fix the mount and run it again "
                          "(nothing was changed)")
    return {"accel": al.to_json()}


def noise(s: Session, reference_db: float) -> dict[str, Any]:
    con = s.console
    if reference_db not in calibrator.LEVELS_DB:
        raise InputError(f"calibrator level {reference_db:g} dB: use 94 or 114")
    con.ask(f"fit the calibrator on the microphone, set {reference_db:g} dB / 1 kHz, switch "
            "it on; press Enter", parse_yes_no, "y")
    bar = con.progress("calibrator tone", CALIBRATOR_CAPTURE_S)
    data, fs, _ = capture(s.rig, "audio", CALIBRATOR_CAPTURE_S, bar)
    bar.finish()
    mic = calibrator.sensitivity(data, fs, reference_db)
    _say_mic(s, mic)
    con.ask("remove the calibrator; machine stopped (no trip)? press Enter", parse_yes_no, "y")
    _at_rest(s, "noise background")
    bar = con.progress("background", BACKGROUND_CAPTURE_S)
    data, fs, _ = capture(s.rig, "audio", BACKGROUND_CAPTURE_S, bar)
    bar.finish()
    _at_rest(s, "noise background")
    return _with_background(s, mic, data, fs)


def _say_mic(s: Session, mic: calibrator.MicCalibration) -> None:
    s.console.say(f"noise: calibrator reads {mic.measured_db:.2f} dB SPL at "
                  f"{mic.tone_hz:.0f} Hz; correction {mic.correction_db:+.2f} dB")


def _with_background(s: Session, mic: calibrator.MicCalibration, data: Any, fs: float
                     ) -> dict[str, Any]:
    bg = calibrator.background_dba(data, fs, mic.correction_db)
    s.console.say(f"noise: background {bg:.1f} dB(A) with the machine stopped")
    full = calibrator.MicCalibration(mic.reference_db, mic.measured_db, mic.tone_hz, bg)
    return {"noise": full.to_json()}


# --- offline: the same from recordings (drivers/replay recording format) ---------------------


def _recording(folder: Path, patterns: tuple[str, ...], kind: str, what: str) -> Any:
    from drivers.replay.recording import read_recording

    for pattern in patterns:
        for path in sorted(folder.glob(pattern)):
            rec = read_recording(str(path))
            if rec.sidecar.kind == kind:
                check_alive(np.asarray(rec.data, dtype=np.float64), path.name,
                            rec.sidecar.channels)
                return rec
    raise InputError(f"{folder}: no {what} recording ({' or '.join(patterns)})")


def accel_from_recordings(s: Session, folder: Path) -> dict[str, Any]:
    """Alignment from an accel recording made with the car at rest."""
    rec = _recording(folder, ("accel_rest.wav", "rest*_accel.wav"), "accel",
                     "accelerometer-at-rest")
    s.console.say(f"accel: from {rec.path.name}")
    return _alignment(s, np.asarray(rec.data, dtype=np.float64), rec.fs,
                      rec.sidecar.channels, float(s.cfg["accel"]["range_g"]))


def noise_from_recordings(s: Session, folder: Path, reference_db: float) -> dict[str, Any]:
    """Sensitivity from a calibrator recording, background from a recording at rest."""
    tone = _recording(folder, ("calibrator*.wav",), "audio", "calibrator")
    mic = calibrator.sensitivity(np.asarray(tone.data, dtype=np.float64), tone.fs,
                                 reference_db)
    _say_mic(s, mic)
    rest = _recording(folder, ("background*.wav", "rest*_audio.wav"), "audio", "background")
    return _with_background(s, mic, np.asarray(rest.data, dtype=np.float64), rest.fs)
