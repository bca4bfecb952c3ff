"""A technician's terminal session, driven through tmux: the prompts appear, the answers are
typed, and a baseline calibration completes with its report."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from calibration import document

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """\
[device]
site = "s1"
lift = "L2"
[storage]
outbox_path = "outbox.db"
[calibration]
path = "calibration.json"
report_dir = "reports"
"""


class Terminal:
    """One tmux server on a private socket, one session; killed by its socket at the end."""

    def __init__(self, socket: Path) -> None:
        self.socket = str(socket)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], check=True,
                              capture_output=True, text=True).stdout

    def start(self, command: str) -> None:
        self.tmux("new-session", "-d", "-s", "tech", "-x", "160", "-y", "60", command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", "tech")

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} never appeared; screen:\n{screen}")
            time.sleep(0.2)

    def type(self, keys: str) -> None:
        self.tmux("send-keys", "-t", "tech", keys, "Enter")

    def kill(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux not installed")
    term = Terminal(tmp_path / "tmux.sock")
    try:
        yield term
    finally:
        term.kill()


def test_a_technician_completes_a_baseline_calibration_at_the_terminal(terminal, tmp_path):
    (tmp_path / "box.toml").write_text(CONFIG)
    command = (f"cd {ROOT} && {sys.executable} -m agent.cli calibrate baseline --config "
               f"{tmp_path / 'box.toml'} --simulate --trips 3; echo EXIT=$?; sleep 60")
    terminal.start(command)
    terminal.wait_for("technician name:")
    terminal.type("li wei")  # not a valid name: asked again
    terminal.wait_for("a name of letters, digits")
    terminal.type("li.wei")
    screen = terminal.wait_for("more trips? (y/n) [y]:")
    assert "trip 3/3 [########################] 100 %" in screen
    assert "trip 3: 1.75 m/s peak" in screen and "ETA" in screen
    terminal.type("n")
    screen = terminal.wait_for("EXIT=")
    assert "EXIT=0" in screen
    assert "calibration version 1 written to" in screen
    doc = document.load(tmp_path / "calibration.json")
    assert doc["technician"] == "li.wei" and doc["baseline"]["features"]
    report = next((tmp_path / "reports").glob("commissioning-v1-baseline.html"))
    assert report.read_text().count("data:image/png;base64,") == 4
    assert json.loads(json.dumps(doc))["history"][0]["workflow"] == "baseline"
