"""Accelerometer alignment from gravity at rest, mounting warnings, dead sensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration.mounting import G, MountingError, align, rotation_onto_z
from calibration.sensing import SensorDead, check_alive

FS = 3200.0
CH = ("x", "y", "z")


def at_rest(gravity, n=8000, noise=0.004, seed=1):
    rng = np.random.default_rng(seed)
    return np.asarray(gravity) + noise * rng.standard_normal((n, 3))


@pytest.mark.parametrize("gravity, axis", [
    ((0, 0, G), "z"), ((0, 0, -G), "-z"), ((G, 0, 0), "x"), ((0, -G, 0), "-y"),
])
def test_the_axis_that_reads_gravity_is_the_vertical(gravity, axis):
    al = align(at_rest(gravity), FS, CH, 16)
    assert al.vertical_axis == axis
    r = np.array(al.rotation)
    assert np.allclose(r @ np.array(al.gravity) / np.linalg.norm(al.gravity), [0, 0, 1],
                       atol=1e-9)
    assert al.warnings == []


@settings(max_examples=60, deadline=None)
@given(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1))
def test_the_rotation_is_proper_and_takes_gravity_to_up(a, b, c):
    v = np.array([a, b, c])
    if np.linalg.norm(v) < 1e-3:
        return
    r = rotation_onto_z(v)
    assert np.allclose(r @ r.T, np.eye(3), atol=1e-9)
    assert math.isclose(np.linalg.det(r), 1.0, abs_tol=1e-9)
    assert np.allclose(r @ (v / np.linalg.norm(v)), [0, 0, 1], atol=1e-9)


def test_a_tilted_mount_is_measured_and_warned():
    t = math.radians(12)
    al = align(at_rest((0, -G * math.sin(t), G * math.cos(t))), FS, CH, 16)
    assert al.tilt_deg == pytest.approx(12, abs=0.1)
    assert any("tilted 12.0 deg" in w for w in al.warnings)


def test_a_ringing_sensor_at_rest_is_a_loose_mount_warning():
    x = at_rest((0, 0, G))
    t = np.arange(x.shape[0]) / FS
    x[:, 0] += 0.05 * np.sin(2 * np.pi * 180 * t)
    al = align(x, FS, CH, 16)
    assert al.resonance_hz == pytest.approx(180, abs=3)
    assert any("loose mount" in w for w in al.warnings)


def test_samples_at_full_scale_are_a_saturation_warning():
    x = at_rest((0, 0, G))
    x[::50, 2] = 2 * G  # +/-2 g range: the chip clips
    al = align(x, FS, CH, 2)
    assert any("saturates" in w for w in al.warnings)


def test_the_noise_floor_per_axis_is_the_spread_at_rest():
    al = align(at_rest((0, 0, G), noise=0.01), FS, CH, 16)
    for v in al.noise_floor_mps2.values():
        assert v == pytest.approx(0.01, rel=0.05)


def test_gravity_far_from_one_g_is_refused():
    with pytest.raises(MountingError, match="gravity reads 4.90"):
        align(at_rest((0, 0, G / 2)), FS, CH, 16)


@pytest.mark.parametrize("data, message", [
    (np.zeros((100, 3)), "every sample is zero"),
    (np.column_stack([np.full(100, 0.3), np.random.default_rng(0).normal(size=(100, 2))]),
     "channel x is stuck at 0.3"),
    (np.full((100, 3), np.nan), "not finite"),
])
def test_a_disconnected_sensor_is_named_in_one_line(data, message):
    with pytest.raises(SensorDead, match=message) as exc:
        check_alive(data, "accel", CH)
    assert "\n" not in str(exc.value)
