"""The technician's side of a workflow: prompts, answers and a progress bar.

Input and output are injected (`read_line`, `out`), so tests, a tmux session and a phone on the
box's console drive the same code. A prompt shows its default in brackets; an empty answer
takes it; an answer that does not parse is explained on one line and asked again (at most
`MAX_TRIES` times, then the workflow stops with an InputError). End of input (Ctrl-D, a closed
pipe) is an InputError too, never a hang.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from agent.errors import InputError

T = TypeVar("T")
MAX_TRIES = 5
BAR_WIDTH = 24


class Console:
    def __init__(self, read_line: Callable[[], str] | None = None, out: TextIO | None = None,
                 *, assume_yes: bool = False, clock: Callable[[], float] = time.monotonic,
                 tty: bool | None = None) -> None:
        self._read = read_line or sys.stdin.readline
        self.out = out or sys.stdout
        self.assume_yes = assume_yes
        self.clock = clock
        self.tty = self.out.isatty() if tty is None else tty

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def ask(self, question: str, parse: Callable[[str], T], default: T | None = None,
            shown_as: str | None = None) -> T:
        """`shown_as` is how the default is shown when its value reads badly (0 -> none)."""
        shown = f" [{shown_as or default}]" if default is not None else ""
        if self.assume_yes and default is not None:
            self.say(f"{question}{shown}: {shown_as or default}")
            return default
        for _ in range(MAX_TRIES):
            self.out.write(f"{question}{shown}: ")
            self.out.flush()
            line = self._read()
            if not line:
                raise InputError(f"no answer to {question!r} (end of input)")
            text = line.strip()
            if not text and default is not None:
                return default
            try:
                return parse(text)
            except ValueError as exc:
                self.say(f"  {exc}")
        raise InputError(f"no valid answer to {question!r} after {MAX_TRIES} tries")

    def confirm(self, question: str, default: bool = True) -> bool:
        return self.ask(question + " (y/n)", parse_yes_no, "y" if default else "n") == "y"

    def progress(self, title: str, total: float) -> ProgressBar:
        return ProgressBar(self, title, total)


def parse_yes_no(text: str) -> str:
    t = text.lower()
    if t in ("y", "yes"):
        return "y"
    if t in ("n", "no"):
        return "n"
    raise ValueError("answer y or n")


def number(lo: float, hi: float, unit: str = "") -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not lo <= x <= hi:
            raise ValueError(f"{x:g} is outside {lo:g}..{hi:g}{' ' + unit if unit else ''}")
        return x
    return parse


def integer(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            x = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if not lo <= x <= hi:
            raise ValueError(f"{x} is outside {lo}..{hi}")
        return x
    return parse


def name(text: str) -> str:
    if not text or len(text) > 64 or not text.replace(".", "").replace("-", "").replace(
            "_", "").isalnum():
        raise ValueError("a name of letters, digits, '.', '-' or '_' (up to 64)")
    return text


class ProgressBar:
    """`[#####-----]  40 %  12.0/30 s  ETA 18 s` on one line (redrawn on a terminal, one line
    per 10 % otherwise, so logs and captured panes stay readable). The ETA extrapolates the
    rate so far, measured on the console's clock."""

    def __init__(self, console: Console, title: str, total: float) -> None:
        self.console = console
        self.title = title
        self.total = max(float(total), 1e-9)
        self.started = console.clock()
        self.done = 0.0
        self._last_decile = -1

    def eta_s(self) -> float | None:
        elapsed = self.console.clock() - self.started
        if self.done <= 0 or elapsed <= 0:
            return None
        return max(0.0, (self.total - self.done) * elapsed / self.done)

    def line(self) -> str:
        frac = min(1.0, self.done / self.total)
        fill = int(round(frac * BAR_WIDTH))
        eta = self.eta_s()
        eta_text = f"ETA {eta:4.0f} s" if eta is not None else "ETA    ? s"
        return (f"{self.title} [{'#' * fill}{'-' * (BAR_WIDTH - fill)}] {100 * frac:3.0f} %  "
                f"{eta_text}")

    def update(self, done: float) -> None:
        self.done = done
        out = self.console.out
        if self.console.tty:
            out.write("\r" + self.line())
            out.flush()
            return
        decile = int(10 * min(1.0, done / self.total))
        if decile > self._last_decile:
            self._last_decile = decile
            self.console.say(self.line())

    def finish(self, note: str = "") -> None:
        self.done = self.total
        if self.console.tty:
            self.console.out.write("\r" + self.line() + (f"  {note}" if note else "") + "\n")
            self.console.out.flush()
        else:
            self.console.say(self.line() + (f"  {note}" if note else ""))


def describe(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
