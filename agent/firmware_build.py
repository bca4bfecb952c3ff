"""Build the ESP32 firmware image directory: sources checked and compiled, data converted.

`build(config, out)` writes everything the board's filesystem needs:

    lib/lg/*.mpy      the firmware modules, compiled by mpy-cross for the board's architecture
                      (so the board does not spend heap compiling; a syntax or MicroPython
                      compile error fails the build with the file and line)
    main.py           the entry point (stays source: the board runs /main.py at boot)
    profile.json      the controller profile in compact form, with its read plan
    faults.json       its fault table (code, severity, event, text, causes), read on demand
    baseline.json     the detectors' baseline, only the features the board computes, with
                      each feature's scoring rule (floor, relative, two-sided) resolved
    config.json       device, link, pins, events, lift, MQTT and command settings
    ca.der, cert.der, key.der, wifi.key   TLS material and the WLAN password (mode 0600)
    MANIFEST.json     sha256 of every file, for deploy and for support

Everything is checked before anything is written; an error names the file and field.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from agent.errors import ConfigError, HardwareUnavailable, InputError

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"
ARCHES = {"esp32": "xtensawin", "esp32s3": "xtensawin", "none": ""}
# Modules the firmware may import: MicroPython's built-ins on ESP32 and its own package.
ALLOWED_IMPORTS = {
    "array", "binascii", "errno", "gc", "hashlib", "json", "machine", "math", "micropython",
    "network", "ntptime", "os", "random", "select", "socket", "ssl", "struct", "sys", "time",
    "ulab", "lg",
}
BOARD_FEATURES = ("rope.strand_prom", "rope.h2_prom", "rope.h3_prom", "bearing.hf_level")


def check_sources(root: Path = FIRMWARE) -> list[Path]:
    """Every firmware source parses and imports only what MicroPython on ESP32 has."""
    files = sorted((root / "lg").glob("*.py")) + [root / "main.py"]
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except SyntaxError as exc:
            raise InputError(f"{path}:{exc.lineno}: {exc.msg}") from None
        for node in _runtime_nodes(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            line = getattr(node, "lineno", 0)
            for name in names:
                if name.split(".")[0] not in ALLOWED_IMPORTS:
                    raise InputError(f"{path}:{line}: imports {name!r}, which MicroPython on "
                                     "ESP32 does not have")
    return files


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that runs on the board: `if TYPE_CHECKING:` blocks (mypy only) left out."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) \
                and node.test.id == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        out.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return out


def compile_mpy(src: Path, dst: Path, arch: str) -> None:
    exe = shutil.which("mpy-cross") or str(Path(sys.executable).parent / "mpy-cross")
    if not Path(exe).exists():
        raise HardwareUnavailable("mpy-cross is not installed (see requirements-dev.txt)")
    cmd = [exe, "-o", str(dst), "-s", src.name]
    if arch:
        cmd.insert(1, f"-march={arch}")
    proc = subprocess.run([*cmd, str(src)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputError(f"{src}: mpy-cross: {proc.stderr.strip().splitlines()[-1]}")


def compact_profile(profile: Any, unit: int) -> dict[str, Any]:
    """The profile as lists (firmware/lg/registers.py documents the form) plus its read plan."""
    from drivers.controller.planner import plan_reads

    if getattr(profile, "function", "holding") != "holding":
        raise InputError(f"{profile.source}: the board reads holding registers (function 03) "
                         f"only; profile uses {profile.function!r}")
    fields = []
    for f in profile.fields:
        bits = []
        for b in f.bits:
            enum = None
            if b.enum:
                enum = [b.enum.get(i, "") for i in range(max(b.enum) + 1)]
            bits.append([b.name, b.lsb, b.width, enum])
        fields.append([f.name, f.address, f.type, f.scale, f.word_order, bits])
    faults = {str(n): [i.code, i.severity, i.event, i.text, i.causes]
              for n, i in sorted(profile.faults.items())}
    return {"name": profile.name, "unit": unit, "fields": fields,
            "plan": [[b.address, b.count] for b in plan_reads(profile)],
            "faults": faults, "fault_register": profile.fault_register}


def compact_baseline(path: str) -> dict[str, Any]:
    from agent.detectors.baseline import SCHEMA, Baseline, spec_for

    b = Baseline.load(path)
    feats: dict[str, Any] = {}
    for name in BOARD_FEATURES:
        if name in b.stats:
            s = spec_for(name)
            feats[name] = {"spec": [s.kind, s.floor, s.relative, s.two_sided],
                           "bins": {k: [v.n, v.median, v.mad] for k, v in b.stats[name].items()}}
            t = b.trends.get(name)
            if t is not None:  # sparse speed ranges fall back to it (firmware/lg/baseline.py)
                feats[name]["trend"] = [t.n, t.intercept, t.slope, t.mad]
    if not feats:
        raise InputError(f"{path}: baseline has none of the board's features "
                         f"({', '.join(BOARD_FEATURES)})")
    return {"schema": SCHEMA, "speed_bin_mps": b.speed_bin_mps, "min_count": b.min_count,
            "features": feats}


BOARD_DETECTOR_KEYS = ("warning_score", "critical_score", "release", "clear_count",
                       "trend_alpha", "noise_running_dba", "noise_rest_dba")


def board_config(cfg: Any) -> dict[str, Any]:
    from agent.commands.signing import load_trusted_keys, public_line

    dev, ctl, fw, mq = cfg["device"], cfg["controller"], cfg["firmware"], cfg["mqtt"]
    if not fw["wifi_ssid"]:
        raise ConfigError("firmware.wifi_ssid is required for the board")
    if mq["tls"] and not mq["ca_file"]:
        raise ConfigError("mqtt.ca_file is required when mqtt.tls = true")
    trusted: list[str] = []
    if cfg["commands"]["trusted_keys"]:
        trusted = [public_line(k) for k in load_trusted_keys(cfg["commands"]["trusted_keys"])
                   .values()]
    events = {k: (None if k in ("top_level_m", "bottom_level_m") and v < 0 else v)
              for k, v in cfg["events"].items()}
    events.setdefault("rated_speed_mps", cfg["lift"]["rated_speed_mps"])
    bits = 8 + (0 if ctl["parity"] == "N" else 1) + ctl["stopbits"]
    return {
        "schema": "liftguard.board-config/1",
        "device": {"site": dev["site"], "lift": dev["lift"]},
        "controller": {"uart_id": fw["uart_id"], "tx": fw["uart_tx"], "rx": fw["uart_rx"],
                       "de_pin": fw["de_pin"], "baud": ctl["baudrate"], "parity": ctl["parity"],
                       "stopbits": ctl["stopbits"], "bits_per_char": 1 + bits,
                       "unit": ctl["device_id"], "poll_s": ctl["poll_period_s"],
                       "timeout_ms": int(ctl["timeout_s"] * 1000), "retries": ctl["retries"],
                       "echo": ctl["echo"]},
        "accel": {"spi_id": fw["spi_id"], "sck": fw["spi_sck"], "mosi": fw["spi_mosi"],
                  "miso": fw["spi_miso"], "cs": fw["accel_cs"], "odr_hz": fw["accel_odr_hz"],
                  "range_g": cfg["accel"]["range_g"], "fft_n": fw["fft_n"],
                  "frames": fw["frames_per_segment"]},
        "mic": {"i2s_id": fw["i2s_id"], "sck": fw["i2s_sck"], "ws": fw["i2s_ws"],
                "sd": fw["i2s_sd"], "rate_hz": fw["mic_rate_hz"],
                "sensitivity_dbfs": cfg["noise"]["sensitivity_dbfs"]},
        "lift": dict(cfg["lift"]),
        "events": events,
        # the severity latch, trend and noise limits the Pi's WearTracker and noise finding
        # use, so the board judges a score exactly as the Pi with this configuration would
        "detectors": {k: cfg["detectors"][k] for k in BOARD_DETECTOR_KEYS},
        "mqtt": {"host": mq["host"], "port": mq["port"], "tls": mq["tls"],
                 "client_id": mq["client_id"] or f"liftguard-{dev['site']}-{dev['lift']}",
                 "keepalive_s": mq["keepalive_s"], "backoff_min_s": mq["backoff_min_s"],
                 "backoff_max_s": mq["backoff_max_s"], "inflight": min(mq["inflight"], 20),
                 "heartbeat_s": mq["heartbeat_s"]},
        "wifi": {"ssid": fw["wifi_ssid"]},
        "commands": {"trusted_keys": trusted, "max_bytes": cfg["commands"]["max_bytes"],
                     "max_ttl_s": cfg["commands"]["max_ttl_s"]},
        "outbox": {"max_messages": fw["outbox_max_messages"]},
        "alarms": {"resend_interval_s": cfg["alarms"]["resend_interval_s"]},
        "telemetry_s": fw["telemetry_s"],
        "state_s": cfg["runtime"]["state_period_s"],
        "wdt_timeout_ms": fw["wdt_timeout_ms"],
    }


def _der(pem_path: str, kind: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    data = Path(pem_path).read_bytes()
    try:
        if kind == "key":
            key = serialization.load_pem_private_key(data, password=None)
            return key.private_bytes(serialization.Encoding.DER,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        return x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
    except ValueError as exc:
        raise InputError(f"{pem_path}: not a PEM {kind}: {exc}") from None


def build(cfg: Any, out: Path, *, baseline: str | None = None, board: str = "esp32",
          root: Path = FIRMWARE) -> dict[str, str]:
    """Write the image directory `out` (replaced as a whole); returns the manifest."""
    from drivers.controller.profile import load_profile

    sources = check_sources(root)
    files: dict[str, bytes] = {}
    prof = compact_profile(load_profile(cfg["controller"]["profile"]),
                           cfg["controller"]["device_id"])
    files["faults.json"] = _json(prof.pop("faults"))  # read on the board only when one occurs
    prof["faults_file"] = "faults.json"
    files["profile.json"] = _json(prof)
    bl = baseline or cfg["detectors"]["baseline"]
    if bl:
        files["baseline.json"] = _json(compact_baseline(bl))
    files["config.json"] = _json(board_config(cfg))
    mq = cfg["mqtt"]
    secret = set()
    if mq["tls"]:
        files["ca.der"] = _der(mq["ca_file"], "certificate")
        if mq["cert_file"]:
            files["cert.der"] = _der(mq["cert_file"], "certificate")
            files["key.der"] = _der(mq["key_file"], "key")
            secret.add("key.der")
    if cfg["firmware"]["wifi_password_file"]:
        files["wifi.key"] = Path(cfg["firmware"]["wifi_password_file"]).read_bytes().strip()
        secret.add("wifi.key")
    out = Path(out)
    tmp = Path(tempfile.mkdtemp(prefix=".fw-", dir=out.parent if out.parent.exists() else None))
    try:
        (tmp / "lib" / "lg").mkdir(parents=True)
        for src in sources:
            if src.name == "main.py":
                shutil.copyfile(src, tmp / "main.py")
            else:
                compile_mpy(src, tmp / "lib" / "lg" / (src.stem + ".mpy"), ARCHES[board])
        for name, data in files.items():
            (tmp / name).write_bytes(data)
            if name in secret:
                os.chmod(tmp / name, 0o600)
        manifest = {str(p.relative_to(tmp)): hashlib.sha256(p.read_bytes()).hexdigest()
                    for p in sorted(tmp.rglob("*")) if p.is_file()}
        (tmp / "MANIFEST.json").write_bytes(_json(manifest))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
