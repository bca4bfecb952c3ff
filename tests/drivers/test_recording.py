"""The recording format: WAV (PCM16/PCM32/float32, 1-4 channels) + sidecar JSON.

scipy.io.wavfile is the independent oracle for the WAV encoding in both directions.
"""

import io
import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.io import wavfile

from drivers.replay.recording import (
    RecordingError,
    Sidecar,
    decode_wav,
    encode_wav,
    parse_sidecar,
    read_recording,
    write_recording,
)

ACCEL = {
    "kind": "accel", "units": "m/s^2", "scale": 2.0, "channels": ["x", "y", "z"],
    "vertical": "z", "speed_mps": 1.75,
    "lift": {"rated_speed_mps": 1.75, "roping": 2, "sheave_diameter_m": 0.4,
             "rope_strands": 8, "rope_lay_length_m": 0.065},
}


def scipy_wav(data, fs):
    buf = io.BytesIO()
    wavfile.write(buf, fs, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    "dtype, full_scale", [(np.int16, 32768.0), (np.int32, 2147483648.0), (np.float32, 1.0)]
)
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_decode_matches_scipy_written_files(dtype, full_scale, channels):
    rng = np.random.default_rng(channels)
    if dtype is np.float32:
        raw = rng.uniform(-1, 1, (500, channels)).astype(np.float32)
    else:
        info = np.iinfo(dtype)
        raw = rng.integers(info.min, info.max, (500, channels), dtype=dtype)
    wav = decode_wav(scipy_wav(raw, 3200))
    assert wav.fs == 3200 and wav.data.shape == (500, channels)
    np.testing.assert_allclose(wav.data, raw.astype(np.float64) / full_scale, rtol=1e-6)


@pytest.mark.parametrize("fmt, dtype", [("pcm16", np.int16), ("pcm32", np.int32),
                                        ("float32", np.float32)])
def test_encoded_files_read_back_in_scipy(fmt, dtype):
    x = np.linspace(-0.9, 0.9, 300).reshape(100, 3)
    fs, back = wavfile.read(io.BytesIO(encode_wav(x, 48000, fmt)))
    assert fs == 48000 and back.dtype == dtype and back.shape == (100, 3)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(0, 200), st.sampled_from(["pcm16", "pcm32", "float32"]),
       st.integers(1, 200_000))
def test_wav_round_trip_within_one_lsb(channels, n, fmt, fs):
    rng = np.random.default_rng(n)
    x = rng.uniform(-0.99, 0.99, (n, channels))
    wav = decode_wav(encode_wav(x, fs, fmt))
    lsb = {"pcm16": 2**-15, "pcm32": 2**-31, "float32": 1e-7}[fmt]
    assert wav.fs == fs and wav.data.shape == (n, channels)
    np.testing.assert_allclose(wav.data, x, atol=lsb)


def test_extensible_header_is_read():
    x = np.zeros((10, 2), np.int16)
    plain = encode_wav(x, 8000, "pcm16")
    fmt = struct.pack("<HHIIHHHHIH14s", 0xFFFE, 2, 8000, 32000, 4, 16, 22, 16, 3, 1,
                      b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71")
    data = plain[plain.index(b"data"):]
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + data
    wav = decode_wav(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert wav.format == "pcm16" and wav.data.shape == (10, 2)


def test_truncated_data_chunk_keeps_whole_frames():
    raw = encode_wav(np.zeros((100, 3)), 1000, "pcm16")
    wav = decode_wav(raw[:-7])
    assert wav.data.shape == (98, 3)


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda r: b"RIFX" + r[4:], "not a RIFF/WAVE"),
        (lambda r: r[:12], "fmt chunk missing"),
        (lambda r: r.replace(b"data", b"junk"), "data chunk missing"),
        (lambda r: r[:22] + struct.pack("<H", 5) + r[24:], "channels = 5"),
        (lambda r: r[:24] + struct.pack("<I", 0) + r[28:], "sample rate = 0"),
        (lambda r: r[:20] + struct.pack("<H", 2) + r[22:], "format tag 0x0002"),
        (lambda r: r[:32] + struct.pack("<H", 5) + r[34:], "block align = 5"),
        (lambda r: r[:34] + struct.pack("<H", 8) + r[36:], "with 8 bits"),
    ],
)
def test_malformed_wav_is_one_line_naming_file(mangle, message):
    raw = encode_wav(np.zeros((4, 1)), 1000, "pcm16")
    with pytest.raises(RecordingError, match=message) as err:
        decode_wav(mangle(raw), "run1.wav")
    assert str(err.value).startswith("run1.wav: ") and "\n" not in str(err.value)


def test_float_wav_with_nan_is_refused():
    with pytest.raises(RecordingError, match="NaN"):
        decode_wav(encode_wav(np.array([[0.0], [np.nan]]), 100, "float32"))


def test_sidecar_round_trip():
    side = parse_sidecar(ACCEL)
    assert parse_sidecar(side.to_json()) == side
    assert side.lift["roping"] == 2 and isinstance(side.lift["roping"], int)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "video"}, "kind"),
        ({"kind": None}, "'kind'"),
        ({"units": "g"}, "units = 'g' contradicts"),
        ({"units": "Pa"}, "contradicts"),
        ({"scale": 0}, "scale"),
        ({"scale": "1"}, "'scale'"),
        ({"scale": True}, "'scale'"),
        ({"channels": []}, "channels"),
        ({"channels": ["x", "x", "z"]}, "repeat"),
        ({"channels": ["a", "b", "c", "d", "e"]}, "channels"),
        ({"vertical": "w"}, "vertical = 'w'"),
        ({"speed_mps": -1}, "speed_mps"),
        ({"lift": {"roping": 1.5}}, "lift.roping"),
        ({"lift": {"cables": 3}}, "lift.cables"),
        ({"lift": 3}, "lift"),
    ],
)
def test_bad_sidecar_names_the_field(change, field):
    obj = {**ACCEL, **change}
    obj = {k: v for k, v in obj.items() if v is not None}
    with pytest.raises(RecordingError, match=field) as err:
        parse_sidecar(obj, "run1.json")
    assert str(err.value).startswith("run1.json: ")


def test_missing_field_is_named():
    obj = dict(ACCEL)
    del obj["channels"]
    with pytest.raises(RecordingError, match="'channels' is missing"):
        parse_sidecar(obj, "run1.json")


def test_audio_sidecar_needs_no_vertical_and_refuses_one():
    audio = {"kind": "audio", "units": "Pa", "scale": 1.0, "channels": ["mic"]}
    assert parse_sidecar(audio).vertical is None
    with pytest.raises(RecordingError, match="only for accel"):
        parse_sidecar({**audio, "vertical": "mic"})


@pytest.mark.parametrize("fmt", ["pcm16", "pcm32", "float32"])
def test_write_then_read_gives_values_in_units(tmp_path, fmt):
    rng = np.random.default_rng(1)
    x = rng.normal(0, 3.0, (3200, 3))  # m/s^2, well outside [-1, 1]
    path = write_recording(tmp_path / "run1.wav", x, 3200, parse_sidecar(ACCEL), fmt)
    rec = read_recording(path)
    assert rec.fs == 3200 and rec.sidecar.channels == ("x", "y", "z")
    tol = np.abs(x).max() * {"pcm16": 2**-14, "pcm32": 2**-22, "float32": 1e-6}[fmt]
    np.testing.assert_allclose(rec.data, x, atol=tol)
    assert not list(tmp_path.glob(".*tmp"))  # temp files renamed away


def test_scale_from_sidecar_multiplies_samples(tmp_path):
    (tmp_path / "a.wav").write_bytes(encode_wav(np.full((4, 3), 0.5), 100, "float32"))
    (tmp_path / "a.json").write_text(json.dumps(ACCEL))  # scale 2.0
    np.testing.assert_allclose(read_recording(tmp_path / "a.wav").data, 1.0)


def test_missing_sidecar_names_it(tmp_path):
    (tmp_path / "a.wav").write_bytes(encode_wav(np.zeros((4, 3)), 100))
    with pytest.raises(RecordingError, match=r"a\.json: sidecar missing"):
        read_recording(tmp_path / "a.wav")


def test_sidecar_channel_count_contradicting_wav_is_refused(tmp_path):
    (tmp_path / "a.wav").write_bytes(encode_wav(np.zeros((4, 2)), 100))
    (tmp_path / "a.json").write_text(json.dumps(ACCEL))
    with pytest.raises(RecordingError, match="3 names but a.wav has 2 channels"):
        read_recording(tmp_path / "a.wav")


def test_sidecar_that_is_not_json_is_named(tmp_path):
    (tmp_path / "a.wav").write_bytes(encode_wav(np.zeros((4, 3)), 100))
    (tmp_path / "a.json").write_text("{kind: accel")
    with pytest.raises(RecordingError, match=r"a\.json: not valid JSON"):
        read_recording(tmp_path / "a.wav")


def test_write_refuses_channel_mismatch(tmp_path):
    with pytest.raises(ValueError, match="channels"):
        write_recording(tmp_path / "a.wav", np.zeros((4, 2)), 100, parse_sidecar(ACCEL))


def test_sidecar_dataclass_is_what_writers_build():
    side = Sidecar("audio", "Pa", 1.0, ("mic",))
    assert parse_sidecar(side.to_json()) == side
