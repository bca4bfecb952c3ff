"""Which implementation runs: the compiled extension, or the numpy reference with a warning.

Kept apart from cext/__init__.py so every cext module sees one answer.
"""

from __future__ import annotations

import warnings
from typing import Any

dsp: Any
features: Any
try:
    from cext import _dsp as dsp  # type: ignore[attr-defined,no-redef]
    from cext import _features as features  # type: ignore[attr-defined,no-redef]

    COMPILED = True
except ImportError as exc:  # pragma: no cover - exercised only where the build failed
    dsp = features = None
    COMPILED = False
    warnings.warn(
        f"cext extension not built ({exc}); using the slower numpy reference",
        RuntimeWarning,
        stacklevel=2,
    )
