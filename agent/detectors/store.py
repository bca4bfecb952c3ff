"""Atomic JSON files for baselines and detector state (shared/REFERENCE.md section 6):
write a temporary file in the same folder, fsync it, rename it over the target, fsync the
folder. A crash at any point leaves either the old file or the new one, never a torn one."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from agent.atomic import write_json_atomic as write_json_atomic  # re-exported for the stores
from agent.errors import InputError


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """Parse a JSON file; any failure is an InputError naming the file."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: {what} is not valid JSON: {exc}") from None
