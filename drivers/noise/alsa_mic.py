"""A microphone through ALSA: the only module in liftguard that imports alsaaudio.

pyalsaaudio (module `alsaaudio`) is a thin binding of ALSA's PCM API, which is what an I2S
MEMS microphone (INMP441, ICS-43434, SPH0645 via the Pi's I2S overlay) or a USB microphone
appears as. The PCM is opened non-blocking: `read()` returns (frames, bytes) for each period
captured, (0, b"") when none is ready, and a negative count (-EPIPE) after an overrun, when
ALSA lost data because we read too late (pyalsaaudio documentation, PCM.read()).

Levels: samples are normalised to full scale and converted to pascals with the microphone's
sensitivity in dBFS at 94 dB SPL (= 1 Pa), from the data sheet or, better, from calibration:
p = x / 10^(sensitivity_dbfs / 20).
"""

from __future__ import annotations

import errno
import logging
from typing import Any, Protocol

import numpy as np

from agent.errors import HardwareUnavailable
from drivers.accel.source import Clock
from drivers.accel.timeline import FifoTimeline
from drivers.blocks import SampleBlock

log = logging.getLogger("liftguard.noise")

# I2S MEMS microphones send 24 significant bits left-justified in 32-bit slots, so capture
# S32_LE and normalise by 2^31 (USB microphones convert through ALSA's plug layer).
FULL_SCALE = 2.0**31


class Pcm(Protocol):
    def read(self) -> tuple[int, bytes]: ...

    def close(self) -> None: ...


class AlsaPcm:
    """pyalsaaudio's capture PCM with its errors as OSError (a USB microphone unplugged
    mid-capture raises ALSAAudioError from read())."""

    def __init__(self, pcm: Any, error: type[Exception]) -> None:
        self._pcm = pcm
        self._error = error

    def read(self) -> tuple[int, bytes]:
        try:
            frames, data = self._pcm.read()
        except self._error as exc:
            raise OSError(f"ALSA capture: {exc}") from None
        return int(frames), bytes(data)

    def info(self) -> dict[str, Any]:
        return dict(self._pcm.info())

    def close(self) -> None:
        self._pcm.close()


def open_pcm(device: str, rate: int, channels: int, period_frames: int) -> AlsaPcm:
    try:
        import alsaaudio
    except ImportError:
        raise HardwareUnavailable(
            "noise.backend = 'alsa' needs the pyalsaaudio package: "
            "apt install libasound2-dev && pip install pyalsaaudio"
        ) from None
    try:
        pcm = alsaaudio.PCM(
            type=alsaaudio.PCM_CAPTURE, mode=alsaaudio.PCM_NONBLOCK, device=device, rate=rate,
            channels=channels, format=alsaaudio.PCM_FORMAT_S32_LE, periodsize=period_frames,
            periods=8,
        )
    except alsaaudio.ALSAAudioError as exc:
        raise HardwareUnavailable(f"ALSA capture device {device!r}: {exc}") from None
    return AlsaPcm(pcm, alsaaudio.ALSAAudioError)


def actual_rate(pcm: Any, asked: int) -> int:
    """ALSA may pick the nearest rate the hardware has; trust what it says it chose."""
    info = getattr(pcm, "info", None)
    if callable(info):
        rate = info().get("rate")
        if isinstance(rate, int) and rate > 0:
            return rate
    return asked


class AlsaMicrophone:
    stream = "audio"

    def __init__(
        self, pcm: Pcm, clock: Clock, *, rate: int, period_frames: int, channels: int = 1,
        sensitivity_dbfs: float = -26.0, max_periods_per_read: int = 64,
    ) -> None:
        self._pcm = pcm
        self._clock = clock
        self.rate = rate
        self.channels_n = channels
        self.channels = ("p",) if channels == 1 else tuple(f"p{i}" for i in range(channels))
        self._pa_per_fs = 1.0 / 10 ** (sensitivity_dbfs / 20.0)
        # ALSA hands out whole periods, so up to a period of captured frames may still wait
        # in the ring: the time estimate is only good to a period, and only a larger slip is
        # a real one
        self._timeline = FifoTimeline(float(rate), slip_periods=2.0 * period_frames)
        self._max_periods = max_periods_per_read
        self._overrun = False
        self._seq = 0
        self.overruns = 0
        self.read_errors = 0
        self._last_error = ""

    @property
    def dropped(self) -> int:
        return self._timeline.dropped_total

    def read(self) -> list[SampleBlock]:
        chunks: list[bytes] = []
        for _ in range(self._max_periods):
            try:
                frames, data = self._pcm.read()
            except OSError as exc:
                # device gone or stream broken: what it held is lost, and the runtime decides
                # what a silent microphone means; log a run of these once
                self.read_errors += 1
                self._overrun = True
                if self.read_errors == 1 or str(exc) != self._last_error:
                    log.warning("%s", exc)
                self._last_error = str(exc)
                break
            if frames == -errno.EPIPE:
                # ALSA has restarted the stream; what was captured before is gone
                self.overruns += 1
                self._overrun = True
                if chunks:
                    break
                continue
            if frames <= 0:
                break
            chunks.append(data[: frames * 4 * self.channels_n])
        if not chunks:
            return []
        now = self._clock()
        counts = np.frombuffer(b"".join(chunks), "<i4").reshape(-1, self.channels_n)
        t0, dropped = self._timeline.place(now, counts.shape[0], self._overrun)
        self._overrun = False
        scale = self._pa_per_fs / FULL_SCALE
        block = SampleBlock(
            stream=self.stream, seq=self._seq, t0=t0, fs=float(self.rate),
            channels=self.channels, units="Pa",
            data=(counts.astype(np.float64) * scale).astype(np.float32), dropped=dropped,
        )
        self._seq += 1
        return [block]

    def close(self) -> None:
        self._pcm.close()
