"""Running Debian's mbpoll (an independent Modbus master) against the sim's controller port."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest

needs_mbpoll = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll not installed")


@dataclass
class Poll:
    returncode: int
    values: list[int]
    stderr: str


def mbpoll(port: str, address: int, count: int = 1, *, baud: int = 19200,
           timeout: float = 0.5) -> Poll:
    """One FC03 read. -0: addresses are PDU addresses (0x1011 is register 0x1011); -P none:
    the pty link is 8N1 (mbpoll's default is even parity)."""
    proc = subprocess.run(
        ["mbpoll", "-m", "rtu", "-b", str(baud), "-P", "none", "-a", "1", "-0", "-1",
         "-o", str(timeout), "-t", "4", "-r", str(address), "-c", str(count), port],
        capture_output=True, text=True, timeout=30, check=False,
    )
    values = [int(m.group(1)) for m in re.finditer(r"^\[\d+\]:\s+(\d+)", proc.stdout, re.M)]
    return Poll(proc.returncode, values, proc.stderr.strip())
