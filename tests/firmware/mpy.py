"""Run firmware code in real MicroPython (the WebAssembly port under node) from pytest.

`run_mpy(script)` executes a MicroPython script with firmware/ and the test fakes on its
sys.path and returns what it printed; `result(script)` parses the JSON the script printed on
its last line. A Python exception inside MicroPython fails the test with its traceback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RUNNER = HERE / "run_mpy.mjs"
FIRMWARE = ROOT / "firmware"
FAKES = HERE / "fakes"


class MicroPythonError(AssertionError):
    pass


def node() -> str:
    exe = shutil.which("node")
    if exe is None:
        raise MicroPythonError("node is not installed: `make setup` installs it")
    return exe


def run_mpy(script: str, *, flash: Path | None = None, ulab: bool = False,
            tmp: Path | None = None, timeout: float = 120, turn: str = "", turns: int = 0,
            final: str = "", libs: tuple[Path, ...] = (FIRMWARE,),
            romfs: Path | None = None) -> str:
    work = tmp or Path(subprocess.check_output(["mktemp", "-d"], text=True).strip())
    path = work / "script.py"
    path.write_text(script)
    cmd = [node(), str(RUNNER)]
    for lib in (*libs, *(() if romfs else (FAKES,))):
        cmd += ["--lib", str(lib)]
    if romfs is not None:
        cmd += ["--romfs", str(romfs)]
    if turn:
        (work / "turn.py").write_text(turn)
        cmd += ["--turn", str(work / "turn.py"), "--turns", str(turns)]
    if final:
        (work / "final.py").write_text(final)
        cmd += ["--finally", str(work / "final.py")]
    if ulab:
        cmd.append("--ulab")
    if flash is not None:
        flash.mkdir(parents=True, exist_ok=True)
        cmd += ["--flash", str(flash)]
    cmd.append(str(path))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if tmp is None:
        shutil.rmtree(work, ignore_errors=True)
    if proc.returncode != 0:
        raise MicroPythonError(f"MicroPython failed:\n{proc.stderr}\n--- stdout ---\n{proc.stdout}")
    return proc.stdout


def result(script: str, **kw: Any) -> Any:
    out = run_mpy(script, **kw).strip().splitlines()
    if not out:
        raise MicroPythonError("the script printed nothing")
    return json.loads(out[-1])
