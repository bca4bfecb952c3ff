"""Controller traces as CSV: `t` (seconds) plus canonical reading names, one row per poll.

`parse_controller_csv` is pure (text in, trace out); `ControllerReplay` plays a trace through
the agent as `ControllerSample`s, paced by the injected clock or as fast as read. Unknown
columns are ignored (a trace from a newer box or another tool still plays); a known column
with a value that is not a number, or a `t` that goes backwards, is an error naming the file,
line and column. An empty cell means "not read in this poll".
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.accel.source import Clock
from drivers.controller.sample import ControllerSample
from drivers.replay.recording import RecordingError
from drivers.replay.timeline import ReplayTimeline

# Names from the recording-format contract (ARCHITECTURE.md); names a register profile
# decodes to are added at parse time, so a profile's new reading is replayable at once.
CONTRACT_COLUMNS = frozenset({
    "speed_mps", "current_a", "dc_bus_v", "output_hz", "heatsink_c", "ambient_c", "load_pct",
    "floor", "door_open", "fault_code", "position_m", "direction", "rated_speed_mps",
})
TRUE_WORDS = {"true": True, "false": False, "yes": True, "no": False}


@dataclass(frozen=True)
class ControllerTrace:
    source: str
    columns: tuple[str, ...]  # the known columns present, in file order
    rows: tuple[tuple[float, dict[str, Any]], ...]
    ignored: tuple[str, ...]  # unknown columns, reported once by the caller if it likes

    @property
    def duration(self) -> float:
        return self.rows[-1][0] - self.rows[0][0] if self.rows else 0.0


def known_columns() -> dict[str, frozenset[str]]:
    """Known column -> the words it may hold besides numbers (a profile's enum bit fields,
    e.g. `car_state` = "running")."""
    from drivers.controller.profile import builtin_profiles, load_profile

    out: dict[str, frozenset[str]] = {name: frozenset() for name in CONTRACT_COLUMNS}
    for name in builtin_profiles():
        for f in load_profile(name).fields:
            out.setdefault(f.name, frozenset())
            for b in f.bits:
                out[b.name] = out.get(b.name, frozenset()) | frozenset(b.enum.values())
    return out


def parse_controller_csv(
    text: str, source: str = "<csv>", known: Mapping[str, frozenset[str]] | None = None
) -> ControllerTrace:
    known_set = known if known is not None else known_columns()
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise RecordingError(f"{source}: empty file (expected a header with 't')") from None
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise RecordingError(f"{source}: column {h!r} appears twice in the header")
        seen.add(h)
    if "t" not in header:
        raise RecordingError(f"{source}: header has no 't' column (seconds)")
    t_col = header.index("t")
    cols = [(i, h) for i, h in enumerate(header) if h in known_set]
    ignored = tuple(h for h in header if h != "t" and h not in known_set)
    rows: list[tuple[float, dict[str, Any]]] = []
    last_t = -math.inf
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise RecordingError(
                f"{source}:{line_no}: {len(row)} cells, header has {len(header)}"
            )
        t = _number(row[t_col], source, line_no, "t")
        if t is None or not math.isfinite(t):
            raise RecordingError(f"{source}:{line_no}: column 't' must be a number")
        if t < last_t:
            raise RecordingError(f"{source}:{line_no}: t = {t} goes back from {last_t}")
        last_t = t
        values: dict[str, Any] = {}
        for i, name in cols:
            v = _number(row[i], source, line_no, name, known_set[name])
            if v is not None:
                values[name] = v
        rows.append((t, values))
    return ControllerTrace(source, tuple(h for _, h in cols), tuple(rows), ignored)


def _number(
    cell: str, source: str, line: int, column: str, words: frozenset[str] = frozenset()
) -> Any:
    s = cell.strip()
    if not s:
        return None
    if s in words:
        return s
    if s.lower() in TRUE_WORDS:
        return TRUE_WORDS[s.lower()]
    try:
        v = float(s)
    except ValueError:
        raise RecordingError(
            f"{source}:{line}: column {column!r} = {s!r} is not a number"
        ) from None
    return int(v) if v.is_integer() and "." not in s and "e" not in s.lower() else v


def read_controller_csv(path: str | os.PathLike[str]) -> ControllerTrace:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # spreadsheets like to add a BOM
    except OSError as exc:
        raise RecordingError(f"{p}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RecordingError(f"{p}: not UTF-8 text") from None
    return parse_controller_csv(text, str(p))


class ControllerReplay:
    """Plays a trace as `ControllerSample`s; the first row maps to the clock at start, or,
    in a session (`timeline`), rows keep their trace time and wait for the sensors."""

    def __init__(
        self, trace: ControllerTrace, clock: Clock, *, loop: bool = False, realtime: bool = True,
        timeline: ReplayTimeline | None = None,
    ) -> None:
        if not trace.rows:
            raise RecordingError(f"{trace.source}: no rows to replay")
        if timeline is not None and loop:
            raise ValueError("a session replay does not loop (its recordings would not)")
        self.trace = trace
        self.timeline = timeline
        self._clock = clock
        self._loop = loop
        self._realtime = realtime
        self._start = clock()
        self._t_first = trace.rows[0][0]
        # a loop restarts one median poll period after the last row
        ts = [t for t, _ in trace.rows]
        steps = sorted(b - a for a, b in zip(ts, ts[1:], strict=False)) or [0.0]
        self._loop_len = trace.duration + steps[len(steps) // 2]
        self._i = 0
        self._offset = 0.0
        self.finished = False

    def read(self) -> list[ControllerSample]:
        out: list[ControllerSample] = []
        while not self.finished:
            t_row = self.trace.rows[self._i][0]
            if self.timeline is not None:  # a session: stamped with the trace's own clock
                if not self.timeline.row_due(t_row):
                    break
                t = t_row
                self.timeline.row_out(t_row)
            else:
                t_rel = t_row - self._t_first + self._offset
                if self._realtime and self._start + t_rel > self._clock():
                    break
                t = self._start + t_rel
            out.append(ControllerSample(t=t, readings=dict(self.trace.rows[self._i][1])))
            self._i += 1
            if self._i == len(self.trace.rows):
                if self._loop and self._loop_len > 0:
                    self._i, self._offset = 0, self._offset + self._loop_len
                else:
                    self.finished = True
            if not self._realtime:
                break
        return out

    def close(self) -> None:
        self.finished = True
