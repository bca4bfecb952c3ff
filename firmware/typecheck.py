"""Type-check the firmware against MicroPython's stubs (host tool; not part of the image).

micropython-esp32-stubs installs the board's modules (machine, network, time, ...) as single
.pyi files in site-packages, where mypy does not look for untyped-package stubs, and
micropython-stdlib-stubs a MicroPython typeshed. This links the former into
.venv/mpy-stubs, then runs mypy with the latter as the typeshed, so a CPython-only call
(`int.bit_length`, `os.fsync`, `contextlib`) is an error here, not a crash on the board.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent


def stub_dir() -> Path:
    site = Path(sysconfig.get_paths()["purelib"])
    out = Path(sys.prefix) / "mpy-stubs"
    out.mkdir(exist_ok=True)
    dist = metadata.distribution("micropython-esp32-stubs")
    tops = {Path(str(f)).parts[0] for f in dist.files or []
            if not str(f).startswith(("micropython_esp32_stubs", "..", "__pycache__"))}
    tops.add("_mpy_shed")  # helper types of micropython-stdlib-stubs the board stubs import
    for name in tops:
        link = out / name
        if not link.exists() and (site / name).exists():
            link.symlink_to(site / name)
    return out


def main() -> int:
    site = Path(sysconfig.get_paths()["purelib"])
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(HERE / "mypy.ini"),
           "--custom-typeshed-dir", str(site), str(HERE / "lg"), str(HERE / "main.py")]
    env_path = f"{stub_dir()}:{HERE}"
    return subprocess.run(cmd, env={"MYPYPATH": env_path, "PATH": "/usr/bin:/bin"}).returncode


if __name__ == "__main__":
    sys.exit(main())
