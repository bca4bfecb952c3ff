"""Replay backends: a recording or a controller trace played as if it were live.

`RecordingReplay` cuts a WAV+sidecar recording into blocks. Paced (`realtime=True`) it hands
out a block once the injected clock has passed the block's end, as a sensor would; unpaced it
hands out one block per `read()`, as fast as the consumer reads. With `loop=True` it starts
over at the end and the timestamps keep running (a loop is a new trip, not time travel).
In a session (`timeline`, drivers/replay/timeline.py) it plays in step with the controller
trace and stamps blocks on the trace's clock.
"""

from __future__ import annotations

import numpy as np

from drivers.accel.source import Clock
from drivers.blocks import SampleBlock
from drivers.replay.recording import Recording
from drivers.replay.timeline import ReplayTimeline

STREAMS = {"accel": "accel", "audio": "audio"}


class RecordingReplay:
    def __init__(
        self, recording: Recording, clock: Clock, *, block_s: float = 0.125,
        loop: bool = False, realtime: bool = True, timeline: ReplayTimeline | None = None,
    ) -> None:
        if timeline is not None and (loop or recording.sidecar.start_t is None):
            raise ValueError("a session replay needs a start_t and does not loop")
        self.recording = recording
        self.timeline = timeline
        self.stream = STREAMS[recording.sidecar.kind]
        self._clock = clock
        self._n = max(1, round(block_s * recording.fs))
        self._loop = loop
        self._realtime = realtime
        self._start = clock()
        self._pos = 0  # next sample index in the recording
        self._emitted = 0  # samples handed out in total (across loops)
        self._seq = 0
        self.finished = recording.data.shape[0] == 0
        if timeline is not None:  # the rows wait for this stream from the start
            timeline.sensor_at(self.stream, self._session_start)
            if self.finished:
                timeline.sensor_done(self.stream)

    def read(self) -> list[SampleBlock]:
        out: list[SampleBlock] = []
        if self.timeline is not None:
            return self._read_in_step(self.timeline)
        if self._realtime:
            due = int((self._clock() - self._start) * self.recording.fs)
            while not self.finished and self._emitted + self._next_len() <= due:
                out.append(self._take())
        elif not self.finished:
            out.append(self._take())
        return out

    def _read_in_step(self, timeline: ReplayTimeline) -> list[SampleBlock]:
        """A session stream: every block that ends by the timeline's sensor limit, stamped on
        the trace's clock (start_t + i / fs, the expression analyze uses too)."""
        out: list[SampleBlock] = []
        start_t, fs = self._session_start, self.recording.fs
        limit = timeline.sensor_limit()
        while not self.finished and start_t + (self._pos + self._next_len()) / fs <= limit:
            out.append(self._take())
        timeline.sensor_at(self.stream, start_t + self._pos / fs)
        if self.finished:
            timeline.sensor_done(self.stream)
        return out

    @property
    def ends_at(self) -> float:
        """A session stream: the trace time at which its recording ends."""
        return self._session_start + self.recording.data.shape[0] / self.recording.fs

    @property
    def _session_start(self) -> float:
        return self.recording.sidecar.start_t or 0.0

    def _next_len(self) -> int:
        return min(self._n, self.recording.data.shape[0] - self._pos)

    def _take(self) -> SampleBlock:
        rec = self.recording
        k = self._next_len()
        data = np.ascontiguousarray(rec.data[self._pos : self._pos + k])
        t0 = (self._session_start + self._pos / rec.fs if self.timeline is not None
              else self._start + self._emitted / rec.fs)
        block = SampleBlock(
            stream=self.stream, seq=self._seq, t0=t0,
            fs=rec.fs, channels=rec.sidecar.channels, units=rec.sidecar.units, data=data,
        )
        self._seq += 1
        self._pos += k
        self._emitted += k
        if self._pos >= rec.data.shape[0]:
            if self._loop:
                self._pos = 0
            else:
                self.finished = True
        return block

    def close(self) -> None:
        self.finished = True
