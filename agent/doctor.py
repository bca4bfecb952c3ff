"""`liftguard doctor --config FILE`: is this box ready to run the agent?

One line per check, `ok`, `warn` or `FAIL`, with what was found and, when not ok, how to fix
it. Checks run against the real parts named in the config (the same constructors
`liftguard run` uses), each bounded in time, and never change anything. Exit 0 when nothing
failed, 1 otherwise. Run it as the service user (`sudo -u liftguard liftguard doctor ...`)
so permissions are checked for the account that will run the agent.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import grp
import os
import shutil
import socket
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SENSOR_LISTEN_S = 2.0
RATE_TOLERANCE = 0.10  # delivered vs nominal sample rate: crystal + scheduling slack
# Clock sanity: a Pi without RTC boots at its last saved time (fake-hwclock) or 1970;
# anything before this build's files is certainly wrong.
CLOCK_FLOOR = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, warn, FAIL
    found: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4} {self.name:<11} {self.found}"
        return text + (f"  -> fix: {self.fix}" if self.fix and self.status != "ok" else "")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="agent config (TOML)")
    parser.add_argument("--skip", action="append", default=[], metavar="CHECK",
                        help="skip a check (port, controller, sensors, broker, clock, disk)")


def run(args: argparse.Namespace) -> int:
    from agent import config

    cfg = config.load(args.config)
    print(Check("config", "ok", f"{args.config} is valid").line())
    checks: list[tuple[str, Callable[[Any], list[Check]]]] = [
        ("port", check_port), ("controller", check_controller), ("sensors", check_sensors),
        ("broker", check_broker), ("clock", check_clock), ("disk", check_disk)]
    failed = False
    for name, fn in checks:
        if name in args.skip:
            continue
        try:
            results = fn(cfg)
        except Exception as exc:  # a check that crashes is a failed check, reported in one line
            results = [Check(name, "FAIL", f"{type(exc).__name__}: {exc}",
                             "see the message; rerun with the part connected")]
        for c in results:
            print(c.line())
            sys.stdout.flush()
            failed |= c.status == "FAIL"
    return 1 if failed else 0


def check_port(cfg: Any) -> list[Check]:
    if cfg["controller"]["backend"] == "replay":
        return [Check("port", "ok", "controller backend = replay: no serial port is used")]
    port = cfg["controller"]["port"]
    if "://" in port:
        return [Check("port", "ok", f"{port} is a pyserial URL (no device file to check)")]
    p = Path(port)
    if not p.exists():
        return [Check("port", "FAIL", f"{port} does not exist",
                      "enable the UART (docs/install-pi.md: enable_uart=1, "
                      "dtoverlay=disable-bt) or plug the USB adapter in")]
    if not os.access(p, os.R_OK | os.W_OK):
        st = p.stat()
        group = _group_name(st.st_gid)
        return [Check("port", "FAIL", f"{port} is not readable/writable by this user "
                      f"(group {group}, mode {st.st_mode & 0o777:o})",
                      f"sudo usermod -aG {group} $(whoami), then log in again")]
    return [Check("port", "ok", f"{port} is readable and writable")]


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def check_controller(cfg: Any) -> list[Check]:
    from drivers.controller.client import ControllerClient, LinkSettings
    from drivers.controller.poller import Poller
    from drivers.controller.profile import load_profile

    c = cfg["controller"]
    if c["backend"] == "replay":
        return check_controller_replay(cfg)
    profile = load_profile(c["profile"])
    with ControllerClient(LinkSettings.from_config(c)) as client:
        poller = Poller(client, profile, period_s=0.0, deadline_s=2.0,
                        device_id=c["device_id"])
        samples = [poller.poll_once() for _ in range(3)]
    good = [s for s in samples if s.ok]
    line = f"{c['port']} {c['baudrate']} {c['parity']} id {c['device_id']}"
    if not good:
        last = samples[-1]
        return [Check("controller", "FAIL", f"no answer with profile {c['profile']} on {line}: "
                      f"{last.error}: {last.detail}",
                      "check wiring (A/B), baud/parity/device id against the drive's settings, "
                      "or run `liftguard controller probe --port ...` to find the profile")]
    r = good[-1].readings
    rated = r.get("rated_speed_mps")
    want = cfg["lift"]["rated_speed_mps"]
    if isinstance(rated, int | float) and rated > 0 and abs(rated - want) > 0.1 * want:
        return [Check("controller", "warn", f"answers ({len(good)}/3 polls) but reports rated "
                      f"speed {rated} m/s, config [lift] says {want}",
                      "wrong profile, or set lift.rated_speed_mps to the drive's value")]
    ms = 1000 * max(s.duration_s for s in good)
    return [Check("controller", "ok" if len(good) == 3 else "warn",
                  f"profile {c['profile']} answers on {line} ({len(good)}/3 polls, "
                  f"slowest {ms:.0f} ms)", "check termination and biasing of the RS-485 line")]


def check_controller_replay(cfg: Any) -> list[Check]:
    """The trace to replay exists and parses, has the speed to cut trips from, and the
    [accel]/[noise] session recordings replayed with it belong to it."""
    from agent.errors import InputError
    from drivers.replay.controller_csv import read_controller_csv
    from drivers.replay.recording import read_recording
    from drivers.replay.session import check_in_session

    path = cfg["controller"]["replay_file"]
    fix = "point controller.replay_file at a controller CSV (`liftguard sim record` writes one)"
    if not path:
        return [Check("controller", "FAIL", "backend = replay but replay_file is empty", fix)]
    try:
        trace = read_controller_csv(path)
        if not trace.rows:
            return [Check("controller", "FAIL", f"{path}: no rows to replay", fix)]
        for name in ("accel", "noise"):
            sec = cfg[name]
            if sec["backend"] == "replay" and sec["replay_file"]:
                rec = read_recording(sec["replay_file"])
                if rec.sidecar.is_session:
                    check_in_session(rec, trace, path)
    except InputError as exc:
        if ".json:" in str(exc):  # a session recording's sidecar does not fit the trace
            fix = ("replay the session's own controller.csv, or give the sidecar the start_t "
                   "of its first sample on that trace's clock")
        return [Check("controller", "FAIL", str(exc), fix)]
    found = f"{path}: {len(trace.rows)} rows over {trace.duration:.0f} s"
    if "speed_mps" not in trace.columns:
        return [Check("controller", "warn", f"{found}, no speed_mps column",
                      "without the car speed no trip is cut: wear detectors stay idle")]
    return [Check("controller", "ok", f"{found} to replay")]


def check_sensors(cfg: Any) -> list[Check]:
    from drivers.accel import open_accel
    from drivers.noise import open_noise

    out = []
    for name, opener in (("accel", lambda: open_accel(cfg["accel"], time.monotonic)),
                         ("noise", lambda: open_noise(cfg["noise"], time.monotonic))):
        if cfg[name]["backend"] == "none":
            out.append(Check(name, "ok", "not fitted (backend = none)"))
            continue
        if cfg[name]["backend"] == "modbus":
            out.append(Check(name, "ok", "Modbus meter: read with the controller's bus"))
            continue
        if cfg[name]["backend"] == "replay":
            out.append(_check_sensor_replay(cfg, name))
            continue
        src = opener()
        assert src is not None
        got, fs = 0, 0.0
        try:
            start = time.monotonic()
            while time.monotonic() - start < SENSOR_LISTEN_S:
                for b in src.read():
                    got += b.n
                    fs = b.fs
                time.sleep(0.01)
        finally:
            src.close()
        rate = got / SENSOR_LISTEN_S
        if got == 0:
            out.append(Check(name, "FAIL", f"no samples in {SENSOR_LISTEN_S:.0f} s from "
                             f"backend {cfg[name]['backend']}",
                             "check wiring and the spi/i2c groups (docs/install-pi.md), or "
                             "that the sim's sensor socket is right"))
        elif abs(rate - fs) > RATE_TOLERANCE * fs:
            out.append(Check(name, "warn", f"{rate:.0f} samples/s delivered, nominal {fs:.0f}",
                             "a slow bus clock or a busy CPU; see `liftguard run` logs"))
        else:
            out.append(Check(name, "ok", f"{rate:.0f} samples/s (nominal {fs:.0f})"))
    return out


def _check_sensor_replay(cfg: Any, name: str) -> Check:
    from agent.errors import LiftguardError
    from drivers.replay.open import open_replay

    path = cfg[name]["replay_file"]
    try:
        src = open_replay(cfg[name], name, time.monotonic)
    except LiftguardError as exc:
        return Check(name, "FAIL", str(exc), f"point {name}.replay_file at a WAV with its "
                     "sidecar JSON (`liftguard sim record` writes them)")
    rec = src.recording
    src.close()
    start = f", from t = {rec.sidecar.start_t} s on its trace" if rec.sidecar.is_session else ""
    return Check(name, "ok", f"{path}: {rec.duration:.1f} s at {rec.fs:.0f} Hz to replay{start}")


def check_broker(cfg: Any) -> list[Check]:
    from agent.uplink.settings import UplinkSettings

    s = UplinkSettings.from_config(cfg)
    where = f"{s.host}:{s.port}"
    try:
        sock = socket.create_connection((s.host, s.port), timeout=s.connect_timeout_s)
    except OSError as exc:
        return [Check("broker", "FAIL", f"cannot reach {where}: {exc.strerror or exc}",
                      "check mqtt.host/port, the network and the firewall")]
    with contextlib.closing(sock):
        if not s.tls:
            return [Check("broker", "warn", f"{where} reachable WITHOUT TLS",
                          "set mqtt.tls = true with ca_file/cert_file/key_file")]
        ctx = ssl.create_default_context(cafile=s.ca_file)
        if s.cert_file:
            ctx.load_cert_chain(s.cert_file, s.key_file)
        try:
            with ctx.wrap_socket(sock, server_hostname=s.host) as tls:
                version = tls.version()
        except ssl.SSLCertVerificationError as exc:
            return [Check("broker", "FAIL", f"{where}: broker certificate rejected: "
                          f"{exc.verify_message}", "mqtt.ca_file must be the CA that signed "
                          "the broker's certificate, and the clock must be right")]
        except (ssl.SSLError, OSError) as exc:
            return [Check("broker", "FAIL", f"{where}: TLS handshake failed: {exc}",
                          "check cert_file/key_file belong together and the broker trusts "
                          "their CA")]
    return [Check("broker", "ok", f"{where} TLS handshake ok ({version}) with "
                  f"{'client certificate' if s.cert_file else 'no client certificate'}")]


def check_clock(cfg: Any) -> list[Check]:
    now = dt.datetime.now(dt.UTC)
    if now < CLOCK_FLOOR:
        return [Check("clock", "FAIL", f"system time is {now:%Y-%m-%d %H:%M} UTC (too early)",
                      "enable time sync: sudo timedatectl set-ntp true")]
    synced = Path("/run/systemd/timesync/synchronized").exists()
    if not synced and shutil.which("timedatectl"):
        return [Check("clock", "warn", f"{now:%Y-%m-%d %H:%M:%S} UTC, not confirmed by NTP",
                      "sudo timedatectl set-ntp true (alarm times and TLS need it)")]
    return [Check("clock", "ok", f"{now:%Y-%m-%d %H:%M:%S} UTC"
                  + (" (NTP synchronised)" if synced else ""))]


def check_disk(cfg: Any) -> list[Check]:
    folder = Path(cfg["storage"]["outbox_path"]).parent
    if not folder.exists():
        return [Check("disk", "FAIL", f"{folder} does not exist",
                      f"sudo install -d -o liftguard -g liftguard -m 0750 {folder}")]
    if not os.access(folder, os.W_OK | os.X_OK):
        return [Check("disk", "FAIL", f"{folder} is not writable by this user",
                      f"sudo chown liftguard:liftguard {folder}")]
    free_mb = shutil.disk_usage(folder).free / (1 << 20)
    need = max(cfg["runtime"]["disk_min_free_mb"], cfg["storage"]["max_bytes"] / (1 << 20))
    if free_mb < need:
        return [Check("disk", "FAIL", f"{free_mb:.0f} MiB free under {folder}, need {need:.0f}",
                      "free space, or lower storage.max_bytes")]
    return [Check("disk", "ok", f"{free_mb:.0f} MiB free under {folder}")]
