"""The baseline workflow (live, or from recordings) and the verify workflow.

Baseline: capture N ordinary trips, show the technician how stable each feature's baseline is
and how many more trips would help, capture more if asked, then learn the detectors'
baseline (agent.detectors.baseline.learn) from the accepted trips. Verify: measure again and
compare with the stored calibration, pass/fail per item; it writes nothing.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from agent.detectors.baseline import Baseline, learn
from agent.errors import InputError
from calibration import calibrator, mounting
from calibration.console import parse_yes_no
from calibration.sensing import capture
from calibration.session import Session
from calibration.tripcheck import MIN_TRIPS, spread_table, stability, trip_anomaly
from calibration.trips import TripCapture, TripRecord, total_psd


def _thresholds(s: Session) -> dict[str, float]:
    d = s.cfg["detectors"]
    return {"warning_score": d["warning_score"], "critical_score": d["critical_score"]}


def _learn(s: Session, accepted: list[TripRecord], sources: list[str]) -> Baseline:
    return learn(((r.cruise_speed if math.isfinite(r.cruise_speed) else r.peak_speed,
                   r.features) for r in accepted), s.geometry(),
                 min_count=min(MIN_TRIPS, max(1, len(accepted))), sources=sources,
                 now=s.clock())


def _judge_stability(s: Session, accepted: list[TripRecord]) -> tuple[int, str]:
    st = stability([r.features for r in accepted])
    for line in spread_table(st)[:6]:
        s.console.say("  " + line)
    more = max(0, st.more_trips, MIN_TRIPS - len(accepted))
    verdict = ("stable" if more == 0 else
               f"{more} more trip(s) would pin every feature's median within 0.5 baseline "
               "units and its spread within 25 %")
    s.console.say(f"baseline: {len(accepted)} trips accepted; {verdict}")
    return more, verdict


def baseline(s: Session, trips: int) -> tuple[dict[str, Any], list[TripRecord], dict[str, str]]:
    cur = s.current() or {}
    rot = np.array(cur["accel"]["rotation"]) if cur.get("accel") else None
    corr = float(cur["noise"]["correction_db"]) if cur.get("noise") else 0.0
    con = s.console
    con.say(f"baseline: capturing {trips} ordinary trips "
            + ("(the box calls the car)" if s.rig.can_call else
               "(send the car between the end floors)"))
    cap = TripCapture(s.rig, con, s.geometry(), rot, corr)
    cap.run(trips)
    while True:
        more, verdict = _judge_stability(s, cap.accepted)
        if more == 0 or not con.confirm(f"capture {more} more trips?", True):
            break
        cap.run(more)
    base = _learn(s, cap.accepted, [f"trip {r.index}" for r in cap.accepted])
    verdicts = {"baseline stability": verdict}
    return ({"baseline": base.to_json(), "thresholds": _thresholds(s)}, cap.records, verdicts)


def baseline_from_recordings(s: Session, folder: Path
                             ) -> tuple[dict[str, Any], list[TripRecord], dict[str, str]]:
    """Offline commissioning from `liftguard sim record` / field captures: the controller
    trace says which trips were ordinary; each accepted trip's accel WAV is measured."""
    from agent.detectors.offline import accel_observation, audio_observation, trace_arrays
    from agent.detectors.trips import segment_trips
    from drivers.replay.controller_csv import read_controller_csv
    from drivers.replay.recording import read_recording

    if not folder.is_dir():
        raise InputError(f"--from-recordings {folder}: not a folder")
    csv = folder / "controller.csv"
    if not csv.exists():
        raise InputError(f"{csv}: missing (the controller trace tells which trips were "
                         "ordinary)")
    trace = read_controller_csv(str(csv))
    arrays = trace_arrays(trace)
    rows = [(t, dict(r)) for t, r in trace.rows]
    found = segment_trips(arrays["t"], arrays["speed_mps"], arrays.get("door_open"))
    records: list[TripRecord] = []
    geometry = s.geometry()
    for k, trip in enumerate(found, start=1):
        m = (arrays["t"] >= trip.start - 1) & (arrays["t"] <= trip.end + 1)
        rec = TripRecord(k, trip.start, trip.end, trip.peak_speed, None,
                         trip_anomaly(rows, trip.start, trip.end, None),
                         arrays["t"][m] - trip.start, arrays["speed_mps"][m])
        wav = folder / f"trip{k:03d}_accel.wav"
        if wav.exists():
            r = read_recording(str(wav))
            obs = accel_observation(r, geometry)
            rec.features.update(obs.features)
            rec.cruise_speed = obs.speed_mps
            rec.spectrum = total_psd(np.asarray(r.data, dtype=np.float64)
                                     - np.mean(r.data, axis=0), r.fs,
                                     max(geometry.sheave_hz(obs.speed_mps) / 8, 0.2))
        elif rec.rejected is None:
            rec.rejected = "short: no accel recording of a steady-speed stretch"
        audio = folder / f"trip{k:03d}_audio.wav"
        if audio.exists():
            o, laeq = audio_observation(read_recording(str(audio)))
            rec.features.update(o.features)
            rec.laeq = laeq
        records.append(rec)
        verdict = "accepted" if rec.rejected is None else f"REJECTED ({rec.rejected})"
        s.console.say(f"  trip {k}: {trip.peak_speed:.2f} m/s peak, {verdict}")
    accepted = [r for r in records if r.rejected is None]
    if not accepted:
        raise InputError(f"{folder}: no ordinary trip with an accel recording")
    _, verdict = _judge_stability(s, accepted)
    base = _learn(s, accepted, sorted(p.name for p in folder.glob("trip*_accel.wav")))
    return ({"baseline": base.to_json(), "thresholds": _thresholds(s)}, records,
            {"baseline stability": verdict, "source": f"recordings in {folder}"})


def verify(s: Session, trips: int) -> list[tuple[str, bool, str]]:
    """(item, passed, detail) for every calibrated section; nothing is written."""
    cal = s.current()
    if cal is None:
        raise InputError(f"{s.path}: no calibration to verify")
    out: list[tuple[str, bool, str]] = []
    rig = s.rig
    if cal.get("controller"):
        r = rig.poll()
        want = float(cal["controller"]["rated_speed_mps"])
        got = float(r.get("rated_speed_mps") or 0.0)
        out.append(("controller rated speed", math.isclose(got, want, rel_tol=0.01),
                    f"reads {got:g} m/s, calibrated {want:g}"))
    if cal.get("accel"):
        data, fs, ch = capture(rig, "accel", 2.0)
        al = mounting.align(data, fs, ch, float(getattr(rig, "range_g", 16.0)))
        g0 = np.array(cal["accel"]["gravity_mps2"])
        angle = math.degrees(math.acos(float(np.clip(
            g0 @ np.array(al.gravity) / (np.linalg.norm(g0) * np.linalg.norm(al.gravity)),
            -1, 1))))
        out.append(("accel mounting", angle < 2.0, f"gravity moved {angle:.2f} deg"))
        for axis, n0 in cal["accel"]["noise_floor_mps2"].items():
            n1 = al.noise_floor_mps2[axis]
            out.append((f"accel noise {axis}", 0.5 * n0 <= n1 <= 2 * n0,
                        f"{1e3 * n1:.2f} mm/s^2 rms, calibrated {1e3 * n0:.2f}"))
    if cal.get("noise") and cal["noise"].get("background_dba") is not None:
        data, fs, _ = capture(rig, "audio", 3.0)
        bg = calibrator.background_dba(data, fs, float(cal["noise"]["correction_db"]))
        want = float(cal["noise"]["background_dba"])
        out.append(("noise background", abs(bg - want) <= 6.0,
                    f"{bg:.1f} dB(A), calibrated {want:.1f}"))
    if cal.get("baseline") and trips > 0:
        from agent.detectors.scoring import wear_scores

        base = Baseline.from_json(cal["baseline"], str(s.path))
        warn = float((cal.get("thresholds") or {}).get("warning_score", 5.0))
        rot = np.array(cal["accel"]["rotation"]) if cal.get("accel") else None
        cap = TripCapture(rig, s.console, s.geometry(), rot)
        cap.run(trips)
        worst = 0.0
        for rec in cap.accepted:
            for _, (score, _) in wear_scores(rec.features, rec.cruise_speed, base).items():
                worst = max(worst, score)
        out.append(("baseline (wear scores)", worst < warn,
                    f"worst score {worst:.1f} over {len(cap.accepted)} trips, warning {warn:g}"))
    for item, ok, detail in out:
        s.console.say(f"  {'PASS' if ok else 'FAIL'}  {item}: {detail}")
    return out


def ask_enter(s: Session, text: str) -> None:
    s.console.ask(text, parse_yes_no, "y")
