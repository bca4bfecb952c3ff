"""One clock for the replays of a session: a controller CSV and the WAVs recorded beside it.

A session's sensor recordings say when their first sample was taken on the trace's clock
(sidecar `start_t`, seconds of the CSV's `t`). Played together, every replay stamps its
output with that clock itself: a controller row keeps its `t`, a sensor block starts at
`start_t + i / fs`. The trip the agent cuts from the rows and the samples it takes from the
blocks are then the same floats `liftguard analyze` computes from the same files, whatever
the agent's own clock reads (offsets added to it would round differently).

Paced (`realtime`), trace time runs with the injected clock from the first row. Unpaced, the
controller sets the pace (one row per poll) and the sensors run ahead of it by `lead_s`,
never behind: a row is handed out only once every sensor stream has handed out its samples up
to that row's time, so the samples of a trip are on their way before the row that ends it.
"""

from __future__ import annotations

from drivers.accel.source import Clock

SENSOR_LEAD_S = 2.0  # unpaced: how far the sensors run ahead of the controller rows


class ReplayTimeline:
    def __init__(self, clock: Clock, t_first: float, *, realtime: bool,
                 lead_s: float = SENSOR_LEAD_S) -> None:
        self._clock = clock
        self._start = clock()
        self.t_first = t_first
        self.realtime = realtime
        self.lead_s = lead_s
        self.controller_t = t_first  # trace time of the last row handed out
        self._sensors: dict[str, float] = {}  # stream -> trace time handed out up to
        self._done: set[str] = set()

    def now(self) -> float:
        """Paced: trace time now (the first row at the clock's reading at start)."""
        return self.t_first + (self._clock() - self._start)

    def row_due(self, t: float) -> bool:
        if self.realtime:
            return t <= self.now()
        return all(upto >= t for name, upto in self._sensors.items() if name not in self._done)

    def row_out(self, t: float) -> None:
        self.controller_t = t

    def sensor_limit(self) -> float:
        """Trace time up to which a sensor may hand out samples now."""
        return self.now() if self.realtime else self.controller_t + self.lead_s

    def sensor_at(self, stream: str, t: float) -> None:
        self._sensors[stream] = t

    def sensor_done(self, stream: str) -> None:
        """The stream's recording is over: the rows no longer wait for it."""
        self._done.add(stream)
