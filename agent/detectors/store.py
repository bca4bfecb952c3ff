"""Atomic JSON files for baselines and detector state (shared/REFERENCE.md section 6):
write a temporary file in the same folder, fsync it, rename it over the target, fsync the
folder. A crash at any point leaves either the old file or the new one, never a torn one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from agent.errors import InputError


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    p = Path(path)
    data = (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode()
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(p.parent or ".", os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """Parse a JSON file; any failure is an InputError naming the file."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: {what} is not valid JSON: {exc}") from None
