"""Sheave orders averaged over trips at the same sheave angle (agent/detectors/sheave_sync.py).

The synthetic lift: a sheave line locked to the car's absolute position (what a worn groove
gives), under ride sway and noise far stronger than the line in any one trip, with trips
hopping between landings like busy traffic.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from agent.detectors.baseline import Baseline
from agent.detectors.geometry import LiftGeometry
from agent.detectors.offline import Settings
from agent.detectors.severity import SeverityLatch
from agent.detectors.sheave_sync import (
    FEATURE,
    FEATURE_SE,
    FEATURE_TRIPS,
    MIN_TRIPS,
    ORDERS,
    STANDSTILL_S,
    Landings,
    SyncWindow,
    null_se,
    sync_feature,
    trip_coefficients,
)
from agent.detectors.tracker import WearTracker
from agent.errors import InputError
from agent.runtime.wear import SYNC_LEARN, WearStage
from drivers.blocks import SampleBlock
from drivers.controller.sample import ControllerSample
from tests.detectors.signals import trip_speed

GEOM = LiftGeometry()  # 2:1 roping, 400 mm sheave: 1.59 sheave turns per metre of car travel
FS = 200.0
FLOOR_M = 3.0


def sheave_line(pos: np.ndarray, amp: float, phase: float = 0.7) -> np.ndarray:
    """Orders 1-3 of a worn groove at the sheave angle of car position `pos`."""
    turns = pos * GEOM.roping / (math.pi * GEOM.sheave_diameter_m)
    return amp * sum(r * np.sin(2 * np.pi * k * turns + phase * k) for k, r in
                     ((1, 1.0), (2, 0.6), (3, 0.3)))


def one_trip(rng: np.random.Generator, start_floor: int, end_floor: int, amp: float,
             sway: float = 0.05) -> dict[str, Any]:
    """Polls (10 Hz) and z/x acceleration (FS) of one trip between two landings."""
    floors = abs(end_floor - start_floor)
    v_top = 1.0 if floors == 1 else 1.6
    cruise = max(0.3, (floors * FLOOR_M - v_top**2 / 0.8 - 0.06) / v_top)
    tp, vp = trip_speed(0.0, v_top, cruise_s=cruise, creep_s=0.2)
    t = np.arange(0.0, tp[-1], 1 / FS)
    v = np.interp(t, tp, vp)
    travel = np.concatenate([[0.0], np.cumsum((v[1:] + v[:-1]) / 2) / FS])
    way = 1 if end_floor > start_floor else -1
    pos = start_floor * FLOOR_M + way * travel
    line = sheave_line(pos, amp) * v / v_top
    # ride sway: a random-phase resonance near the first orders, much stronger than the line
    f_sway = rng.uniform(2.2, 3.2)
    ride = sway * np.sin(2 * np.pi * f_sway * t + rng.uniform(0, 2 * np.pi)) * v / v_top
    z = line + ride + 0.02 * rng.standard_normal(t.size)
    x = 0.5 * line + 0.02 * rng.standard_normal(t.size)
    return {"poll_t": tp, "poll_v": vp, "t": t, "accel": np.column_stack([x, z]), "way": way}


def coefficients(trip: dict[str, Any]) -> np.ndarray | None:
    """The coefficients over the stretch above 75 % of the trip's peak speed."""
    v = np.interp(trip["t"], trip["poll_t"], trip["poll_v"])
    inside = np.flatnonzero(v >= 0.75 * v.max())
    i0, i1 = inside[0], inside[-1]
    return trip_coefficients(trip["accel"][i0:i1], FS, trip["t"][i0], trip["poll_t"],
                             trip["poll_v"], 3.0 - STANDSTILL_S, trip["way"], GEOM)


def traffic(seed: int, trips: int, amp: float, sway: float = 0.05) -> SyncWindow:
    rng = np.random.default_rng(seed)
    window, floor = SyncWindow(), 0
    for _ in range(trips):
        nxt = floor + int(rng.choice([-2, -1, 1, 2]))
        nxt = nxt if 0 <= nxt <= 5 else floor - (nxt - floor)
        c = coefficients(one_trip(rng, floor, nxt, amp, sway))
        assert c is not None
        window.add(f"floor {floor} {'up' if nxt > floor else 'down'}", c)
        floor = nxt
    return window


def test_a_clean_trip_measures_the_line_at_its_landing_phase():
    rng = np.random.default_rng(1)
    up = coefficients(one_trip(rng, 2, 3, 0.01, sway=0.0))
    down = coefficients(one_trip(rng, 2, 1, 0.01, sway=0.0))
    assert up is not None and down is not None
    assert up.shape == (len(ORDERS), 2)
    # order 1 on z at ~the line's amplitude (x 0.8-1 of it: the speed ramps at the ends)
    assert 0.007 < abs(up[0, 1]) < 0.0105
    # up and down from one landing start at the same sheave angle: one phase
    assert abs(np.angle(up[0, 1] / down[0, 1])) < 0.15
    # from another landing the line's phase differs (3 m of car travel is 4.8 turns)
    other = coefficients(one_trip(rng, 3, 4, 0.01, sway=0.0))
    assert other is not None
    assert abs(np.angle(up[0, 1] / other[0, 1])) > 0.5


def test_the_average_finds_a_line_no_single_trip_shows():
    h = traffic(3, MIN_TRIPS, 0.004).statistic()
    w = traffic(4, MIN_TRIPS, 0.008).statistic()  # +6 dB
    assert h is not None and w is not None
    (healthy, healthy_se, n), (worn, _, _) = h, w
    assert n == MIN_TRIPS
    # one trip: the sway's projection on order 1 is several times the healthy line's power
    rng = np.random.default_rng(5)
    single = [coefficients(one_trip(rng, 1, 2, 0.004)) for _ in range(40)]
    line_power = (0.004 * 0.8) ** 2
    assert np.median([abs(c[0, 1]) ** 2 for c in single if c is not None]) > 2 * line_power
    assert healthy > 3 * healthy_se
    assert 2.5 < worn / healthy < 6  # 4x the line power
    # judged on the scatter of a window of the healthy lift: its lines' cross term included
    null = null_se({FEATURE_SE: healthy_se, FEATURE_TRIPS: n}, healthy)
    assert null > healthy_se
    assert worn - healthy > 5 * null


def test_without_a_line_the_figure_scatters_around_zero_by_its_stated_spread():
    rng = np.random.default_rng(7)
    got, se = [], []
    groups, w = 12, MIN_TRIPS
    for _ in range(300):
        window = SyncWindow()
        for i in range(w):
            noise = rng.standard_normal((len(ORDERS), 3)) + 1j * rng.standard_normal(
                (len(ORDERS), 3))
            window.add(f"g{i % groups}", noise * (1 + 4 * (np.arange(3) == 0)))
        stat = window.statistic()
        assert stat is not None
        got.append(stat[0])
        se.append(stat[1])
    spread = math.sqrt(len(ORDERS) * 3 * groups) / w
    assert abs(np.mean(got)) < 0.3 * spread
    assert 0.75 * spread < np.std(got) < 1.35 * spread
    # the standard error each window states is the one without a line
    assert np.allclose(se, spread)


def test_with_a_line_the_figure_scatters_by_the_null_error_of_its_level():
    rng = np.random.default_rng(8)
    groups, w = 12, MIN_TRIPS
    phases = np.exp(2j * np.pi * rng.random((groups, len(ORDERS), 3)))
    line = phases * (np.arange(len(ORDERS)) == 0)[:, None]  # order 1, all axes
    got, feats = [], []
    for _ in range(300):
        window = SyncWindow()
        for i in range(w):
            noise = rng.standard_normal((len(ORDERS), 3)) + 1j * rng.standard_normal(
                (len(ORDERS), 3))
            window.add(f"g{i % groups}", noise + line[i % groups])
        r, se0, n = window.statistic() or (math.nan, math.nan, 0)
        got.append(r)
        feats.append({FEATURE_SE: se0, FEATURE_TRIPS: float(n)})
    # order 1 on three axes: 3 x 1 / 2 (the noise's power per component is 2)
    assert np.mean(got) == pytest.approx(1.5, abs=0.05)
    null = np.mean([null_se(f, float(np.mean(got))) for f in feats])
    assert null > 1.5 * feats[0][FEATURE_SE]  # the cross term counts here
    assert 0.8 < np.std(got) / null < 1.2
    assert null_se({}, 1.0) == 0.0  # a trip without the figure


def test_no_figure_before_enough_trips_and_a_new_sensor_starts_again():
    window = SyncWindow()
    c = np.ones((len(ORDERS), 3), dtype=complex)
    for i in range(MIN_TRIPS - 1):
        assert sync_feature(window, f"g{i % 4}", c + i * 1j) == {}
    assert FEATURE in sync_feature(window, "g0", c)
    window.add("g0", np.ones((len(ORDERS), 2), dtype=complex))  # a two-axis sensor now
    assert len(window.entries) == 1


def test_the_window_survives_a_restart(tmp_path):
    tracker = WearTracker()
    tracker.sync = traffic(9, 40, 0.006)
    path = tmp_path / "state.json"
    tracker.save(path)
    back = WearTracker.load(path)
    assert back.sync.statistic() == pytest.approx(tracker.sync.statistic(), rel=1e-6)
    assert back.sync.n == tracker.sync.n
    assert [k for k, _ in back.sync.entries] == [k for k, _ in tracker.sync.entries]


def test_a_damaged_window_in_the_state_file_is_a_one_line_error(tmp_path):
    tracker = WearTracker()
    tracker.sync = traffic(9, 4, 0.006)
    d = tracker.to_json()
    d["sync"]["entries"][0][1] = [[1.0, 2.0, 3.0]]  # not the shape of its imaginary part
    path = tmp_path / "state.json"
    path.write_text(__import__("json").dumps(d))
    with pytest.raises(InputError, match="detector state is malformed"):
        WearTracker.load(path)


def test_landings_from_the_floor_or_the_position_register():
    lf = Landings(0.02)
    for t, v, floor in ((0.0, 0.0, 3), (1.0, 0.0, 3), (2.0, 1.0, 3), (5.0, 0.0, 4)):
        lf.feed(t, v, floor, None)
    assert lf.reference(1.5, 4.0) == ("floor 3 up", 1)
    lp = Landings(0.02)
    for t, v, pos in ((0.0, 0.0, 9.0), (2.0, 1.0, 7.0), (5.0, 0.0, 6.0)):
        lp.feed(t, v, None, pos)
    assert lp.reference(1.0, 4.0) == ("9.00 m down", -1)
    none = Landings(0.02)
    none.feed(0.0, 0.0, None, None)
    none.feed(5.0, 0.0, True, None)  # a flag is not a floor
    assert none.reference(1.0, 4.0) is None
    same = Landings(0.02)
    same.feed(0.0, 0.0, 2, 3.0)
    same.feed(5.0, 0.0, 2, 3.02)  # a re-levelling, not a trip
    assert same.reference(1.0, 4.0) is None


def ride(st: WearStage, trips: int, seed: int, amp: float = 0.006) -> list[bool]:
    """Drive `st` through `trips` trips between landings 1-4 (floors in the polls, accel
    blocks in the ring); per trip, whether its result carried the synchronous figure."""
    rng = np.random.default_rng(seed)
    t_now, floor, got = 0.0, 1, []
    for i in range(trips):
        nxt = floor + 1 if floor < 4 else 1
        trip = one_trip(rng, floor, nxt, amp)
        block = SampleBlock("accel", i, t_now + trip["t"][0], FS, ("x", "z"), "m/s^2",
                            trip["accel"].astype(np.float32))
        st.add_block(block, t_now + trip["t"][-1])
        half_way = float(np.mean(trip["poll_t"]))  # the floor register turns over mid-trip
        for tp, vp in zip(trip["poll_t"], trip["poll_v"], strict=True):
            at = floor if tp < half_way else nxt
            for job in st.feed(ControllerSample(t_now + float(tp), {
                    "speed_mps": float(vp), "floor": at, "fault_code": 0})):
                result = job.analyse()
                st.absorb(result)
                got.append(FEATURE in result.features)
        t_now += float(trip["poll_t"][-1]) + 0.1
        floor = nxt
    return got


def test_the_wear_stage_adds_the_figure_once_it_has_enough_trips():
    st = WearStage(GEOM, Settings(), baseline=None, baseline_path=None, learn_trips=10_000,
                   tracker=WearTracker(), state_path=None, keep_s=60.0)
    got = ride(st, MIN_TRIPS + 2, 11)
    assert len(got) >= MIN_TRIPS
    assert not any(got[:MIN_TRIPS - 1]) and got[-1]
    assert len(st.tracker.sync.entries) == len(got)


def test_a_short_commissioning_learns_the_figure_later_and_saves_it(tmp_path):
    """Commissioning over 70 trips holds no figure, a few more trips a handful, too few for
    a healthy level: the baseline is learned without it, then extended once SYNC_LEARN
    figures are in."""
    path, state = tmp_path / "baseline.json", tmp_path / "state.json"
    st = WearStage(GEOM, Settings(), baseline=None, baseline_path=path, learn_trips=70,
                   tracker=WearTracker(), state_path=state, keep_s=60.0)
    ride(st, MIN_TRIPS + 20, 12)
    assert st.baseline is not None and FEATURE not in st.baseline.stats
    assert FEATURE not in Baseline.load(path).stats
    pending = len(st.tracker.sync_learning)
    assert pending >= 20
    # a restart half way resumes the count from the state file
    st = WearStage(GEOM, Settings(), baseline=Baseline.load(path), baseline_path=path,
                   learn_trips=70, tracker=WearTracker.load(state), state_path=state,
                   keep_s=60.0)
    assert len(st.tracker.sync_learning) == pending
    ride(st, SYNC_LEARN - pending + 2, 13)
    saved = Baseline.load(path)
    assert FEATURE in saved.stats and FEATURE_SE in saved.stats
    assert "sheave synchronous figure learned from" in saved.sources[-1]
    # the rest unchanged
    assert saved.stats["bearing.kurtosis"] == st.baseline.stats["bearing.kurtosis"]
    assert st.tracker.sync_learning == []
    # the learned level scores a healthy figure as healthy
    assert max(st.last["sheave_wear"].score, 0.0) < 5.0


@pytest.mark.parametrize("why", ["sheave found worn", "a recording's analysis"])
def test_figures_are_not_learned_from_a_worn_sheave_nor_a_recording(why):
    st = WearStage(GEOM, Settings(), baseline=None, baseline_path=None, learn_trips=10_000,
                   tracker=WearTracker(), state_path=None, keep_s=60.0,
                   learn_sync=why == "sheave found worn")
    if why == "sheave found worn":
        st.tracker.latches["sheave_wear"] = SeverityLatch(st.tracker.thresholds, "warning")
    got = ride(st, MIN_TRIPS + 4, 14)
    assert sum(got) >= 4 and st.tracker.sync_learning == []


def test_a_new_baseline_restarts_the_average():
    """A baseline file or a calibration marks a new state of the lift (a repair, a new
    sensor): trips averaged before it do not judge or teach the new one."""
    st = WearStage(GEOM, Settings(), baseline=None, baseline_path=None, learn_trips=10_000,
                   tracker=WearTracker(), state_path=None, keep_s=60.0)
    ride(st, MIN_TRIPS + 3, 15)
    assert st.tracker.sync.entries and st.tracker.sync_learning
    st.use_baseline(Baseline(GEOM))
    assert not st.tracker.sync.entries and st.tracker.sync_learning == []


def test_pending_figures_survive_a_restart_and_damage_is_one_line(tmp_path):
    tracker = WearTracker()
    tracker.sync_learning = [(1.6, 0.4, 0.9), (1.0, -0.2, 1.1)]
    path = tmp_path / "state.json"
    tracker.save(path)
    assert WearTracker.load(path).sync_learning == tracker.sync_learning
    d = tracker.to_json()
    d["sync_learning"] = [[1.6, "x", 0.9]]
    path.write_text(json.dumps(d))
    with pytest.raises(InputError, match="detector state is malformed") as exc:
        WearTracker.load(path)
    assert "\n" not in str(exc.value)
