"""The telemetry kinds the Pi agent publishes, read from its source: every
`publish_telemetry("<kind>", ...)` call under agent/. A kind the Pi gains later makes the
board's parity tests fail until the board publishes it too (or its capabilities explain why not).
"""

from __future__ import annotations

import ast

from tests.firmware.mpy import ROOT


def pi_telemetry_kinds() -> set[str]:
    kinds = set()
    for path in (ROOT / "agent").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "publish_telemetry" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                kinds.add(node.args[0].value)
    return kinds
