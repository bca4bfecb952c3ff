"""The board's config.json and calibration files: loaded and validated before use.

`load_json(path)` reads one file; `check_config(cfg)` checks every key the firmware reads, with
its type and range, and raises SettingsError naming the key, so a bad file is reported (on
the console and, when the link is up, as an event) instead of crashing the loop halfway.
"""

import json

TYPE_CHECKING = False
if TYPE_CHECKING:  # mypy only; MicroPython has no typing module
    from typing import Any


class SettingsError(Exception):
    pass


def rules() -> tuple:
    """(key path, types, lo, hi), checked in this order (a tuple: MicroPython's dict does
    not keep insertion order, and the first problem is the one reported); None bounds are
    unchecked. Built when needed, not kept: after boot the table is garbage, and RAM is the
    board's scarcest resource."""
    return (
        ("device.site", str, None, None),
        ("device.lift", str, None, None),
        ("controller.uart_id", int, 1, 2),
        ("controller.tx", int, 0, 48),
        ("controller.rx", int, 0, 48),
        ("controller.de_pin", int, -1, 48),
        ("controller.baud", int, 1200, 115200),
        ("controller.bits_per_char", int, 10, 12),
        ("controller.unit", int, 1, 247),
        ("controller.poll_s", (int, float), 0.0, 60.0),
        ("controller.timeout_ms", int, 10, 10000),
        ("controller.retries", int, 0, 10),
        ("accel.odr_hz", int, 100, 3200),
        ("accel.fft_n", int, 256, 2048),
        ("accel.frames", int, 1, 64),
        ("mic.rate_hz", int, 8000, 48000),
        ("mic.sensitivity_dbfs", (int, float), -80.0, 0.0),
        ("lift.roping", int, 1, 4),
        ("lift.rope_strands", int, 3, 36),
        ("lift.rope_lay_length_m", (int, float), 0.01, 0.5),
        ("lift.sheave_diameter_m", (int, float), 0.1, 2.0),
        ("mqtt.host", str, None, None),
        ("mqtt.port", int, 1, 65535),
        ("mqtt.tls", bool, None, None),
        ("mqtt.client_id", str, None, None),
        ("mqtt.keepalive_s", int, 5, 3600),
        ("outbox.max_messages", int, 10, 5000),
        ("alarms.resend_interval_s", (int, float), 1.0, 86400.0),
        ("telemetry_s", (int, float), 1.0, 86400.0),
        ("wdt_timeout_ms", int, 1000, 60000),
        ("detectors.warning_score", (int, float), 1.0, 100.0),  # the Pi's config_schema bounds
        ("detectors.critical_score", (int, float), 1.0, 1000.0),
    )


def optional_rules() -> tuple:
    """Keys the board takes the Pi's defaults for when absent (lg/severity.py, lg/box.py);
    checked like the others when present."""
    return (
        ("detectors.release", (int, float), 0.1, 1.0),
        ("detectors.clear_count", int, 1, 100),
        ("detectors.trend_alpha", (int, float), 0.01, 1.0),
        ("detectors.noise_running_dba", (int, float), 20.0, 140.0),
        ("detectors.noise_rest_dba", (int, float), 20.0, 140.0),
        ("mqtt.heartbeat_s", (int, float), 1.0, 86400.0),
        ("state_s", (int, float), 1.0, 3600.0),
    )


def load_json(path: str):
    try:
        with open(path) as f:
            return json.loads(f.read())
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read ({exc})") from None
    except ValueError as exc:
        raise SettingsError(f"{path}: not valid JSON ({exc})") from None


def _check(where: str, path: str, node, types, lo, hi) -> None:
    ok = isinstance(node, types) and not (isinstance(node, bool) and types is not bool)
    if not ok:
        raise SettingsError(f"{where}: {path} = {node!r} has the wrong type")
    if lo is not None and node < lo or hi is not None and node > hi:
        raise SettingsError(f"{where}: {path} = {node!r} is outside {lo}..{hi}")


def check_config(cfg, where: str = "config.json") -> dict:
    if not isinstance(cfg, dict):
        raise SettingsError(f"{where}: must be a JSON object")
    for optional, table in ((False, rules()), (True, optional_rules())):
        for path, types, lo, hi in table:
            node: Any = cfg
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    if optional:
                        break
                    raise SettingsError(f"{where}: {path} is missing")
                node = node[part]
            else:
                _check(where, path, node, types, lo, hi)
    d = cfg["detectors"]
    if d["critical_score"] <= d["warning_score"]:
        raise SettingsError(f"{where}: detectors.critical_score = {d['critical_score']!r} must "
                            f"be above detectors.warning_score ({d['warning_score']!r})")
    n = cfg["accel"]["fft_n"]
    if n & (n - 1):
        raise SettingsError(f"{where}: accel.fft_n = {n} must be a power of two")
    for ch in ("site", "lift"):
        v = cfg["device"][ch]
        if not v or any(c in v for c in "/+#"):
            raise SettingsError(f"{where}: device.{ch} = {v!r} is not a valid MQTT topic level")
    return cfg
