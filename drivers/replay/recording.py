"""Read and write recordings: a WAV file plus a sidecar JSON with the same stem.

Pure functions over bytes and dicts (`decode_wav`, `encode_wav`, `parse_sidecar`) with thin
file edges (`read_recording`, `write_recording`). `liftguard analyze`, `sim record` and the
replay backends all go through here, so there is one reading of the format.

WAV support (Microsoft RIFF/WAVE, and the WAVE_FORMAT_EXTENSIBLE header that 24/32-bit and
multichannel writers use): PCM 16, 24 and 32 bit and IEEE float 32, 1-4 channels, any rate.
PCM is normalised to [-1, 1) (divided by 2^(bits-1)); float samples are taken as they are.
Values in the sidecar's units are samples x `scale`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from agent.atomic import atomic_write
from agent.errors import InputError

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
MAX_CHANNELS = 4
KINDS = {"accel": "m/s^2", "audio": "Pa"}
LIFT_KEYS = {
    "rated_speed_mps": float, "roping": int, "sheave_diameter_m": float,
    "rope_strands": int, "rope_lay_length_m": float,
}
SampleFormat = Literal["pcm16", "pcm32", "float32"]


class RecordingError(InputError):
    """A recording or its sidecar is malformed; the message names the file and field."""


@dataclass(frozen=True)
class Sidecar:
    kind: str
    units: str
    scale: float
    channels: tuple[str, ...]
    vertical: str | None = None
    speed_mps: float | None = None
    lift: Mapping[str, float | int] = field(default_factory=dict)
    # A session recording (one WAV over a whole capture, beside its controller trace) gives
    # the time of its first sample on the trace's clock (the CSV's `t`, seconds) and the trace
    # that says the car speed, instead of one speed_mps: trips are cut from that trace.
    start_t: float | None = None
    speed_source: str | None = None  # the controller CSV, relative to the sidecar's folder

    @property
    def is_session(self) -> bool:
        return self.start_t is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind, "units": self.units, "scale": self.scale,
            "channels": list(self.channels),
        }
        if self.vertical is not None:
            out["vertical"] = self.vertical
        if self.speed_mps is not None:
            out["speed_mps"] = self.speed_mps
        if self.lift:
            out["lift"] = dict(self.lift)
        if self.start_t is not None:
            out["start_t"] = self.start_t
        if self.speed_source is not None:
            out["speed_source"] = self.speed_source
        return out


@dataclass(frozen=True)
class Recording:
    path: Path
    sidecar: Sidecar
    fs: float
    data: npt.NDArray[np.float32]  # (n, channels), in sidecar units

    @property
    def duration(self) -> float:
        return self.data.shape[0] / self.fs

    def channel(self, name: str) -> npt.NDArray[np.float32]:
        return self.data[:, self.sidecar.channels.index(name)]


@dataclass(frozen=True)
class Wav:
    fs: int
    data: npt.NDArray[np.float32]  # (n, channels), normalised
    format: SampleFormat | Literal["pcm24"]


# --- WAV ------------------------------------------------------------------------------------

def decode_wav(raw: bytes, source: str = "<wav>") -> Wav:
    if len(raw) < 12 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise RecordingError(f"{source}: not a RIFF/WAVE file")
    fmt: bytes | None = None
    data: bytes | None = None
    pos = 12
    while pos + 8 <= len(raw):
        cid, size = raw[pos : pos + 4], struct.unpack_from("<I", raw, pos + 4)[0]
        body = raw[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            # A writer killed mid-recording leaves a data size past the end of the file (or
            # 0xFFFFFFFF): keep the whole frames that are there rather than refuse the capture.
            data = body
        pos += 8 + size + (size & 1)  # chunks are padded to even sizes (RIFF spec)
    if fmt is None:
        raise RecordingError(f"{source}: fmt chunk missing")
    if data is None:
        raise RecordingError(f"{source}: data chunk missing")
    if len(fmt) < 16:
        raise RecordingError(f"{source}: fmt chunk too short ({len(fmt)} bytes)")
    tag, channels, rate, _, align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == WAVE_FORMAT_EXTENSIBLE:
        if len(fmt) < 40:
            raise RecordingError(f"{source}: extensible fmt chunk too short")
        tag = struct.unpack_from("<H", fmt, 24)[0]  # first two bytes of the sub-format GUID
    if not 1 <= channels <= MAX_CHANNELS:
        raise RecordingError(f"{source}: channels = {channels}: must be 1-{MAX_CHANNELS}")
    if rate <= 0:
        raise RecordingError(f"{source}: sample rate = {rate}: must be positive")
    kind: SampleFormat | Literal["pcm24"]
    if tag == WAVE_FORMAT_PCM and bits in (16, 24, 32):
        kind = {16: "pcm16", 24: "pcm24", 32: "pcm32"}[bits]  # type: ignore[assignment]
    elif tag == WAVE_FORMAT_IEEE_FLOAT and bits == 32:
        kind = "float32"
    else:
        raise RecordingError(
            f"{source}: format tag {tag:#06x} with {bits} bits is not supported "
            "(PCM 16/24/32 or float 32)"
        )
    width = bits // 8
    if align != width * channels:
        raise RecordingError(f"{source}: block align = {align}: expected {width * channels}")
    frames = len(data) // align
    body = data[: frames * align]
    if kind == "pcm16":
        arr = np.frombuffer(body, "<i2").astype(np.float32) / 32768.0
    elif kind == "pcm32":
        arr = (np.frombuffer(body, "<i4").astype(np.float64) / 2147483648.0).astype(np.float32)
    elif kind == "pcm24":
        b = np.frombuffer(body, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        arr = (v / 8388608.0).astype(np.float32)
    else:
        arr = np.frombuffer(body, "<f4").astype(np.float32)
        if not np.all(np.isfinite(arr)):
            raise RecordingError(f"{source}: float samples contain NaN or infinity")
    return Wav(rate, arr.reshape(frames, channels), kind)


def encode_wav(data: npt.ArrayLike, fs: int, fmt: SampleFormat = "float32") -> bytes:
    """Samples (n, channels), normalised for PCM (clipped to [-1, 1)); bytes of a WAV file."""
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    n, ch = arr.shape
    if not 1 <= ch <= MAX_CHANNELS:
        raise ValueError(f"channels = {ch}: must be 1-{MAX_CHANNELS}")
    if fmt == "pcm16":
        body = np.clip(np.round(arr * 32768.0), -32768, 32767).astype("<i2").tobytes()
        tag, bits = WAVE_FORMAT_PCM, 16
    elif fmt == "pcm32":
        q = np.clip(np.round(arr * 2147483648.0), -2147483648, 2147483647)
        body = q.astype("<i4").tobytes()
        tag, bits = WAVE_FORMAT_PCM, 32
    elif fmt == "float32":
        body = arr.astype("<f4").tobytes()
        tag, bits = WAVE_FORMAT_IEEE_FLOAT, 32
    else:
        raise ValueError(f"unknown sample format {fmt!r}")
    align = ch * bits // 8
    fmt_chunk = struct.pack("<HHIIHH", tag, ch, int(fs), int(fs) * align, align, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
    if tag == WAVE_FORMAT_IEEE_FLOAT:
        # Non-PCM formats carry a fact chunk with the frame count (RIFF/WAVE spec, 1991).
        chunks += b"fact" + struct.pack("<II", 4, n)
    chunks += b"data" + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


# --- sidecar --------------------------------------------------------------------------------

def parse_sidecar(obj: Any, source: str = "<sidecar>") -> Sidecar:
    if not isinstance(obj, Mapping):
        raise RecordingError(f"{source}: must be a JSON object")

    def need(key: str, types: type | tuple[type, ...]) -> Any:
        if key not in obj:
            raise RecordingError(f"{source}: field {key!r} is missing")
        v = obj[key]
        if isinstance(v, bool) or not isinstance(v, types):
            raise RecordingError(f"{source}: field {key!r} = {v!r} has the wrong type")
        return v

    kind = need("kind", str)
    if kind not in KINDS:
        raise RecordingError(f"{source}: kind = {kind!r}: must be one of {', '.join(KINDS)}")
    units = need("units", str)
    if units != KINDS[kind]:
        raise RecordingError(f"{source}: units = {units!r} contradicts kind {kind!r} "
                             f"(expected {KINDS[kind]!r})")
    scale = float(need("scale", (int, float)))
    if not (math.isfinite(scale) and scale > 0):
        raise RecordingError(f"{source}: scale = {scale!r}: must be a positive number")
    channels = need("channels", list)
    if not channels or len(channels) > MAX_CHANNELS or not all(
        isinstance(c, str) and c for c in channels
    ):
        raise RecordingError(f"{source}: channels = {channels!r}: 1-{MAX_CHANNELS} names")
    if len(set(channels)) != len(channels):
        raise RecordingError(f"{source}: channels = {channels!r}: names repeat")
    vertical = obj.get("vertical")
    if kind == "accel":
        vertical = need("vertical", str)
        if vertical not in channels:
            raise RecordingError(f"{source}: vertical = {vertical!r} is not one of channels")
    elif vertical is not None:
        raise RecordingError(f"{source}: vertical is only for accel recordings")
    speed = obj.get("speed_mps")
    if speed is not None:
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or speed < 0:
            raise RecordingError(f"{source}: speed_mps = {speed!r}: must be a number >= 0")
        speed = float(speed)
    lift_raw = obj.get("lift", {})
    if not isinstance(lift_raw, Mapping):
        raise RecordingError(f"{source}: lift must be an object")
    lift: dict[str, float | int] = {}
    for k, v in lift_raw.items():
        if k not in LIFT_KEYS:
            raise RecordingError(f"{source}: lift.{k} is not a known field")
        want = LIFT_KEYS[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0 or (
            want is int and not float(v).is_integer()
        ):
            raise RecordingError(f"{source}: lift.{k} = {v!r}: must be a positive {want.__name__}")
        lift[k] = want(v)
    start_t, speed_source = _session_fields(obj, source, speed)
    return Sidecar(kind, units, scale, tuple(channels), vertical, speed, lift, start_t,
                   speed_source)


def _session_fields(obj: Mapping[str, Any], source: str, speed: float | None
                    ) -> tuple[float | None, str | None]:
    """start_t and speed_source come together: a time on a trace, and that trace."""
    start_t = obj.get("start_t")
    speed_source = obj.get("speed_source")
    if start_t is None and speed_source is None:
        return None, None
    if start_t is None or speed_source is None:
        have, missing = ("start_t", "speed_source") if speed_source is None else \
            ("speed_source", "start_t")
        raise RecordingError(f"{source}: {have} is given but {missing} is missing (a session "
                             "recording needs both)")
    if isinstance(start_t, bool) or not isinstance(start_t, (int, float)) or \
            not math.isfinite(start_t):
        raise RecordingError(f"{source}: start_t = {start_t!r}: must be a number (seconds on "
                             "the controller trace's clock)")
    if not isinstance(speed_source, str) or not speed_source.lower().endswith(".csv"):
        raise RecordingError(f"{source}: speed_source = {speed_source!r}: must name the "
                             "controller CSV")
    if speed is not None:
        raise RecordingError(f"{source}: speed_mps = {speed} contradicts speed_source = "
                             f"{speed_source!r} (a session's speed comes from its trace)")
    return float(start_t), speed_source


def sidecar_path(wav: str | os.PathLike[str]) -> Path:
    return Path(wav).with_suffix(".json")


# --- files ----------------------------------------------------------------------------------

def read_sidecar(path: str | os.PathLike[str]) -> Sidecar:
    """The sidecar beside the WAV `path`, parsed (the WAV itself is not read)."""
    wav_path = Path(path)
    side_path = sidecar_path(wav_path)
    try:
        side_obj = json.loads(side_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordingError(f"{side_path}: sidecar missing (needed beside {wav_path.name})") \
            from None
    except OSError as exc:
        raise RecordingError(f"{side_path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordingError(f"{side_path}: not valid JSON: {exc}") from None
    return parse_sidecar(side_obj, str(side_path))


def read_recording(path: str | os.PathLike[str]) -> Recording:
    wav_path = Path(path)
    side_path = sidecar_path(wav_path)
    try:
        raw = wav_path.read_bytes()
    except OSError as exc:
        raise RecordingError(f"{wav_path}: cannot read: {exc.strerror}") from None
    side = read_sidecar(wav_path)
    wav = decode_wav(raw, str(wav_path))
    if wav.data.shape[1] != len(side.channels):
        raise RecordingError(
            f"{side_path}: channels lists {len(side.channels)} names but {wav_path.name} has "
            f"{wav.data.shape[1]} channels"
        )
    data = wav.data if side.scale == 1.0 else (wav.data * np.float32(side.scale))
    return Recording(wav_path, side, float(wav.fs), data.astype(np.float32, copy=False))


def write_recording(
    path: str | os.PathLike[str], data: npt.ArrayLike, fs: int, sidecar: Sidecar,
    fmt: SampleFormat = "float32",
) -> Path:
    """Write `data` (n, channels) in sidecar units. For PCM the scale is chosen from the peak
    so the full range is used; the given sidecar's scale is replaced. Both files are replaced
    atomically, the WAV first, so a sidecar never points at a half-written WAV."""
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[1] != len(sidecar.channels):
        raise ValueError(f"data has {arr.shape[1]} channels, sidecar names {len(sidecar.channels)}")
    if fmt == "float32":
        scale = 1.0
    else:
        peak = float(np.max(np.abs(arr))) if arr.size else 0.0
        # just above the peak so the largest sample stays inside [-1, 1)
        scale = peak * (1 + 2**-14) if peak > 0 else 1.0
    side = dataclasses.replace(sidecar, scale=scale)
    parse_sidecar(side.to_json(), "sidecar to write")  # never write what we could not read
    wav_path = Path(path)
    atomic_write(wav_path, encode_wav(arr / scale, fs, fmt))
    atomic_write(sidecar_path(wav_path), (json.dumps(side.to_json(), indent=2) + "\n").encode())
    return wav_path



