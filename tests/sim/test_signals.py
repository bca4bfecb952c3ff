"""Vibration and sound: spectral lines where physics puts them, wear raising them, no seams."""

import math

import numpy as np
import pytest

from drivers.sim.faults import ROPE_WEAR_DB_AT_1
from tests.sim.helpers import quiet_model

GEOMETRIES = [
    # (overrides, speed m/s) -- two speeds, two rope/sheave geometries
    (("lift.rated_speed_mps=1.0", "lift.roping=2", "lift.rope_strands=8",
      "lift.rope_lay_length_m=0.065"), 1.0),
    (("lift.rated_speed_mps=2.5", "lift.roping=1", "lift.rope_strands=6",
      "lift.rope_lay_length_m=0.04", "lift.sheave_diameter_m=0.52"), 2.5),
]


def cruise_vibration(overrides, faults=(), seconds=2.0, seed=1):
    """Vertical acceleration during the constant-speed part of a long up trip."""
    model = quiet_model(("lift.floors=20", *overrides), seed=seed, synthesize=True)
    for name, value in faults:
        model.inject(name, value)
    model.call(20)
    rated = model.params.lift.rated_speed_mps
    while model.readings()["speed_mps"] < rated:
        model.advance(0.05)
    model.drain_blocks()
    model.advance(seconds)
    assert model.readings()["speed_mps"] == pytest.approx(rated)
    acc = np.concatenate([b.channel("z") for b in model.drain_blocks() if b.stream == "accel"])
    return acc.astype(float), model.params


def spectrum(x, fs):
    x = x - x.mean()
    win = np.hanning(len(x))
    mag = np.abs(np.fft.rfft(x * win)) * 2 / win.sum()
    return np.fft.rfftfreq(len(x), 1 / fs), mag


def line_level(freqs, mag, f0, half_width=1.5):
    band = (freqs > f0 - half_width) & (freqs < f0 + half_width)
    return float(np.sqrt(np.sum(mag[band] ** 2)))


@pytest.mark.parametrize("overrides, speed", GEOMETRIES)
def test_rope_strand_line_sits_at_the_predicted_frequency(overrides, speed):
    acc, params = cruise_vibration(overrides)
    lift = params.lift
    predicted = speed * lift.roping * lift.rope_strands / lift.rope_lay_length_m
    freqs, mag = spectrum(acc, params.sensor.accel_fs)
    search = (freqs > 50) & (freqs < 1500)
    peak = freqs[search][np.argmax(mag[search])]
    assert peak == pytest.approx(predicted, abs=1.0)  # 0.5 Hz bins over 2 s


@pytest.mark.parametrize("overrides, speed", GEOMETRIES)
def test_rope_wear_raises_the_strand_line_by_the_documented_db(overrides, speed):
    levels = []
    wears = [0.0, 0.25, 0.5, 1.0]
    for wear in wears:
        acc, params = cruise_vibration(overrides, faults=[("rope_wear", wear)])
        lift = params.lift
        f0 = speed * lift.roping * lift.rope_strands / lift.rope_lay_length_m
        freqs, mag = spectrum(acc, params.sensor.accel_fs)
        levels.append(20 * math.log10(line_level(freqs, mag, f0)))
    assert all(b > a for a, b in zip(levels, levels[1:], strict=False))
    for wear, level in zip(wears, levels, strict=True):
        assert level - levels[0] == pytest.approx(ROPE_WEAR_DB_AT_1 * wear, abs=1.0)


def test_rope_wear_grows_the_sheave_rate_sidebands():
    overrides, speed = GEOMETRIES[0]

    def sideband_ratio(wear):
        acc, params = cruise_vibration(overrides, faults=[("rope_wear", wear)], seconds=4.0)
        lift = params.lift
        f0 = speed * lift.roping * lift.rope_strands / lift.rope_lay_length_m
        fs_ = speed * lift.roping / (math.pi * lift.sheave_diameter_m)
        freqs, mag = spectrum(acc, params.sensor.accel_fs)
        side = line_level(freqs, mag, f0 + fs_, 0.4)
        return side / line_level(freqs, mag, f0, 0.4)

    assert sideband_ratio(1.0) > 4 * sideband_ratio(0.0)


def test_bearing_wear_makes_the_vibration_impulsive():
    def kurtosis(level):
        acc, _ = cruise_vibration(GEOMETRIES[0][0], faults=[("bearing_wear", level)])
        x = acc - acc.mean()
        return float(np.mean(x**4) / np.mean(x**2) ** 2)

    assert kurtosis(0.0) < 4.0 < kurtosis(1.0)


def test_gravity_shows_on_the_vertical_axis_at_rest():
    model = quiet_model(synthesize=True)
    model.advance(1.0)
    acc = np.concatenate([b.data for b in model.drain_blocks() if b.stream == "accel"])
    mean = acc.mean(axis=0)
    assert mean[2] == pytest.approx(9.80665, abs=0.01)
    assert abs(mean[0]) < 0.01 and abs(mean[1]) < 0.01


def run_in_chunks(chunks_us):
    model = quiet_model(("traffic.random_calls=true", "traffic.calls_per_minute=12"),
                        seed=3, synthesize=True)
    model.call(4)
    model.inject("bearing_wear", 0.7)
    for us in chunks_us:
        model.advance(us / 1e6)
    blocks = model.drain_blocks()
    out = {}
    for stream in ("accel", "audio"):
        bs = [b for b in blocks if b.stream == stream]
        assert [b.seq for b in bs] == list(range(len(bs)))
        fs = bs[0].fs
        for a, b in zip(bs, bs[1:], strict=False):
            assert round(b.t0 * fs) == round(a.t0 * fs) + a.n  # contiguous, no gaps
        out[stream] = np.concatenate([b.data for b in bs])
    return out


def test_blocks_join_without_seams_whatever_the_step_size():
    """Synthesis is phase-continuous: stepping 1 ms at a time or in odd chunks (down to a
    fraction of a millisecond) gives the same samples as one big step: tones, filtered noise,
    ringing and the drive state all carry across blocks."""
    rng = np.random.default_rng(0)
    odd = rng.integers(300, 400_000, size=60)
    total = int(odd.sum())
    a = run_in_chunks(list(odd))
    b = run_in_chunks([total])
    c = run_in_chunks([1000] * 1500 + [total - 1_500_000])
    for stream in ("accel", "audio"):
        assert a[stream].shape == b[stream].shape == c[stream].shape
        np.testing.assert_allclose(a[stream], b[stream], atol=2e-5)
        np.testing.assert_allclose(c[stream], b[stream], atol=2e-5)


def test_sheave_wear_raises_the_sheave_order_lines_by_the_documented_db():
    from drivers.sim.faults import SHEAVE_WEAR_DB_AT_1

    overrides, speed = GEOMETRIES[1]
    # at the machine: on the car roof the few-Hz sheave orders drown in the car's sway
    overrides = (*overrides, "sensor.mount=machine")

    def level(wear):
        acc, params = cruise_vibration(overrides, faults=[("sheave_wear", wear)], seconds=4.0)
        lift = params.lift
        f_sheave = speed * lift.roping / (math.pi * lift.sheave_diameter_m)
        freqs, mag = spectrum(acc, params.sensor.accel_fs)
        return 20 * math.log10(line_level(freqs, mag, 2 * f_sheave, 0.3))

    healthy, half, worn = level(0.0), level(0.5), level(1.0)
    assert healthy < half < worn
    assert worn - healthy == pytest.approx(SHEAVE_WEAR_DB_AT_1, abs=1.5)


def test_tilted_sensor_splits_gravity_by_the_tilt_angle():
    model = quiet_model(("sensor.tilt_deg=12",), synthesize=True)
    model.advance(1.0)
    mean = np.concatenate([b.data for b in model.drain_blocks()
                           if b.stream == "accel"]).mean(axis=0)
    assert np.linalg.norm(mean) == pytest.approx(9.80665, abs=0.01)
    assert math.degrees(math.atan2(-mean[1], mean[2])) == pytest.approx(12.0, abs=0.2)


def test_machine_mount_does_not_feel_the_car_accelerate():
    def vertical_swing(mount):
        model = quiet_model((f"sensor.mount={mount}",), synthesize=True)
        model.call(10)
        model.advance(6.0)
        z = np.concatenate([b.channel("z") for b in model.drain_blocks() if b.stream == "accel"])
        # 1 s moving averages: the car's 0.8 m/s^2 start shows, vibration averages out
        smooth = np.convolve(z, np.ones(3200) / 3200, mode="valid")
        return smooth.max() - smooth.min()

    assert vertical_swing("car") > 0.4
    assert vertical_swing("machine") < 0.05
