"""Trip segmentation: phases from the speed alone, whatever the peak speed."""

import numpy as np
import pytest

from agent.detectors.trips import TripSegmenter, segment_trips
from tests.detectors.signals import trip_speed


def test_a_trip_has_every_phase_in_order():
    t, v = trip_speed(0.0, 1.75)
    (trip,) = segment_trips(t, v)
    names = ["start", "acceleration", "constant", "deceleration", "levelling"]
    bounds = [trip.phases[n] for n in names]
    assert all(a[1] <= b[0] + 1e-9 for a, b in zip(bounds, bounds[1:], strict=False))
    assert trip.peak_speed == pytest.approx(1.75)


def test_constant_phase_covers_the_plateau():
    t, v = trip_speed(100.0, 1.0, cruise_s=5.0)
    (trip,) = segment_trips(t, v)
    c0, c1 = trip.phases["constant"]
    assert c1 - c0 == pytest.approx(5.0 + 2 * 0.03 / 0.8 * 1.0, abs=0.25)
    assert trip.constant_speed(t, v) == pytest.approx(1.0, rel=0.02)


def test_short_trip_without_plateau_has_no_constant_phase():
    t, v = trip_speed(0.0, 0.6, cruise_s=0.2)
    (trip,) = segment_trips(t, v)
    assert "constant" not in trip.phases and "acceleration" in trip.phases


def test_trip_still_running_at_the_end_is_not_returned():
    t, v = trip_speed(0.0, 1.75)
    cut = int(len(t) * 0.6)
    assert segment_trips(t[:cut], v[:cut]) == []


def test_signed_speed_is_taken_as_magnitude():
    t, v = trip_speed(0.0, 1.75)
    assert segment_trips(t, -v)[0].phases == segment_trips(t, v)[0].phases


def test_several_trips_are_found_in_a_trace():
    parts = [trip_speed(k * 30.0, s) for k, s in enumerate((1.0, 1.75, 0.5))]
    t = np.concatenate([p[0] for p in parts])
    v = np.concatenate([p[1] for p in parts])
    assert [round(tr.peak_speed, 2) for tr in segment_trips(t, v)] == [1.0, 1.75, 0.5]


def test_door_phase_follows_the_stop():
    t, v = trip_speed(0.0, 1.75)
    door = np.where(t > t[np.flatnonzero(v > 0)[-1]] + 0.5, 1.0, 0.0)
    (trip,) = segment_trips(t, v, door)
    assert trip.phases["door"][0] >= trip.end


def test_streaming_segmenter_matches_batch():
    t, v = trip_speed(0.0, 1.75)
    seg = TripSegmenter()
    got = [tr for tr in (seg.feed(a, b) for a, b in zip(t, v, strict=True)) if tr]
    assert len(got) == 1
    assert got[0].phases == segment_trips(t, v)[0].phases


def test_one_floor_trip_has_a_peak_stretch_for_spectral_work():
    t, v = trip_speed(0.0, 1.2, cruise_s=0.0, accel=0.4)
    (trip,) = segment_trips(t, v)
    p0, p1 = trip.phases["peak"]
    inside = (t >= p0) & (t <= p1)
    assert v[inside].min() >= 0.75 * trip.peak_speed - 1e-9 and p1 - p0 >= 0.5
