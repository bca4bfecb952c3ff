"""The whole system on one machine, as child processes: a TLS broker, the virtual elevator,
the agent, and a platform client. Used by `liftguard demo`, the simulated HIL bench and
benchmarks/agent.py, so all three run exactly what a box runs.

Every child is started in its own session and stopped by its PID (SIGTERM, then SIGKILL
after a grace period); nothing listens beyond 127.0.0.1 or a private directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.demo_pki import Credentials
from agent.errors import HardwareUnavailable

READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[Any] | None, sig: int = signal.SIGTERM,
                 grace_s: float = 10.0) -> int | None:
    """Signal one child by PID and reap it; SIGKILL if it outlives the grace period."""
    if proc is None:
        return None
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, sig)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


class Broker:
    """mosquitto with TLS client certificates and a per-device ACL on a free loopback port."""

    def __init__(self, workdir: Path, creds: Credentials, site: str, lift: str,
                 port: int | None = None) -> None:
        self.workdir, self.creds = workdir, creds
        self.host, self.port = "127.0.0.1", port or free_port()
        self.root = f"liftguard/v1/{site}/{lift}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "mosquitto.log"

    def _write_config(self) -> Path:
        acl = self.workdir / "mosquitto.acl"
        dev, op = self.creds.device_identity, self.creds.operator_identity
        acl.write_text("\n".join([
            f"user {dev}", *(f"topic write {self.root}/{c}" for c in
                            ("state", "alarm", "telemetry", "event", "cmd/result")),
            f"topic read {self.root}/cmd",
            f"user {op}", "topic read liftguard/#", "topic write liftguard/v1/+/+/cmd", ""]))
        # Persistence keeps the platform's session (its subscription and the QoS 1 messages
        # queued for it) across a broker restart, as a production broker would.
        lines = [f"listener {self.port} {self.host}", "persistence true",
                 f"persistence_location {self.workdir}/",
                 f"log_dest file {self.log}", "log_type error", "log_type warning",
                 f"cafile {self.creds.ca_cert}", f"certfile {self.creds.broker.cert}",
                 f"keyfile {self.creds.broker.key}", "require_certificate true",
                 "use_identity_as_username true", f"acl_file {acl}"]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to `mosquitto`, who cannot read our tmp
        conf = self.workdir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def start(self) -> Broker:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(exe):
            raise HardwareUnavailable("mosquitto is not installed (make setup installs it)")
        self.proc = subprocess.Popen([exe, "-c", str(self._write_config())],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise HardwareUnavailable(f"mosquitto exited: {err.strip()[-200:]}")
            with contextlib.suppress(OSError), socket.create_connection(
                    (self.host, self.port), timeout=0.2):
                return self
            time.sleep(0.05)
        self.stop()
        raise HardwareUnavailable(f"mosquitto did not listen on {self.host}:{self.port}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        stop_process(self.proc, sig)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None


@dataclass
class SimEndpoints:
    link: str
    sensors: str
    control: str


class SimProcess:
    """`liftguard sim run` as a child, its endpoints in `workdir`; what it prints before
    `ready` (drivers/sim/cli.py: the stdout contract) is kept in `printed`."""

    def __init__(self, workdir: Path, *, seed: int = 0, baud: int = 19200, parity: str = "N",
                 wire_emulation: bool = True, settings: list[str] | None = None,
                 injections: list[str] | None = None, calls: str = "random") -> None:
        self.workdir = workdir
        self.endpoints = SimEndpoints(str(workdir / "controller"), str(workdir / "sensors.sock"),
                                      str(workdir / "control.sock"))
        self.cmd = [sys.executable, "-m", "agent.cli", "sim", "run", "--seed", str(seed),
                    "--baud", str(baud), "--parity", parity, "--link", self.endpoints.link,
                    "--sensors", self.endpoints.sensors, "--control", self.endpoints.control,
                    "--calls", calls]
        if not wire_emulation:
            self.cmd.append("--no-wire-emulation")
        for s in settings or []:
            self.cmd += ["--set", s]
        for i in injections or []:
            self.cmd += ["--inject", i]
        self.proc: subprocess.Popen[str] | None = None
        self.printed: dict[str, str] = {}

    def start(self) -> SimProcess:
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().strip()
            if line == "ready":
                return self
            if not line and self.proc.poll() is not None:
                err = (self.proc.stderr.read() if self.proc.stderr else "").strip().splitlines()
                raise HardwareUnavailable(f"the sim did not start: {err[-1] if err else '?'}")
            key, _, value = line.partition(": ")
            if value:
                self.printed[key] = value
        self.stop()
        raise HardwareUnavailable(f"the sim was not ready within {READY_TIMEOUT_S:.0f} s")

    @property
    def controller(self) -> str:
        """The agent's end of the controller link: the pty that `endpoints.link` points at."""
        return self.printed["controller"]

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        """One request on the control socket (drivers/sim/control.py); its reply."""
        from drivers.sim.control import send

        return send(self.endpoints.control, request)

    def inject(self, **faults: Any) -> None:
        self.request({"cmd": "inject", "faults": {k: str(v) for k, v in faults.items()}})

    def clear(self, *names: str) -> None:
        self.request({"cmd": "clear", "names": list(names)})

    def call(self, floor: int) -> None:
        self.request({"cmd": "call", "floor": floor})

    def status(self) -> dict[str, Any]:
        return dict(self.request({"cmd": "status"})["status"])

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Stop the sim by PID with `sig` (SIGKILL after a grace period); its exit code."""
        code = stop_process(self.proc, sig)
        if self.proc is not None:
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()
        self.proc = None
        return code


def agent_config(workdir: Path, creds: Credentials, broker: Broker, sim: SimEndpoints, *,
                 site: str, lift: str, extra: dict[str, dict[str, Any]] | None = None) -> Path:
    """An agent config (TOML) for the virtual elevator and the TLS broker of this run."""
    sections: dict[str, dict[str, Any]] = {
        "device": {"site": site, "lift": lift},
        # The pty runs 8N1 (ptys reject parity, REFERENCE.md section 3).
        "controller": {"backend": "sim", "port": sim.link, "parity": "N",
                       "poll_period_s": 0.1},
        "accel": {"backend": "sim", "socket": sim.sensors},
        "noise": {"backend": "sim", "socket": sim.sensors},
        "gpio": {"backend": "sim"},
        "mqtt": {"host": broker.host, "port": broker.port, "tls": True,
                 "ca_file": str(creds.ca_cert), "cert_file": str(creds.device.cert),
                 "key_file": str(creds.device.key), "backoff_min_s": 0.2,
                 "backoff_max_s": 2.0},
        "storage": {"outbox_path": str(workdir / "outbox.db"),
                    "counter_path": str(workdir / "cmd-counters.json"),
                    "trail_path": str(workdir / "maintenance-trail.jsonl")},
        "commands": {"trusted_keys": str(creds.trusted_keys)},
        "detectors": {"baseline": str(workdir / "baseline.json"),
                      "state": str(workdir / "detector-state.json")},
    }
    for name, values in (extra or {}).items():
        sections.setdefault(name, {}).update(values)
    path = workdir / "liftguard.toml"
    path.write_text("".join(f"[{name}]\n" + "".join(f"{k} = {_toml(v)}\n"
                                                    for k, v in values.items()) + "\n"
                            for name, values in sections.items()))
    return path


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string


class AgentProcess:
    """`liftguard run --config FILE` as a child; its log goes to a file in the workdir."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> AgentProcess:
        self.started_at = time.monotonic()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agent.cli", "run", "--config", str(self.config)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        code = stop_process(self.proc)
        self.proc = None
        return code

    def kill(self) -> None:
        """SIGKILL: the agent gets no chance to flush or say goodbye."""
        stop_process(self.proc, signal.SIGKILL)
        self.proc = None


class Platform:
    """The monitoring platform's side: an operator MQTT client over TLS that records every
    message under liftguard/# and sends signed commands."""

    def __init__(self, host: str, port: int, *, ca_cert: Path, cert: Path, key: Path,
                 command_key: Path | None, site: str, lift: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.host, self.port, self.command_key = host, port, command_key
        self.device = f"{site}/{lift}"
        self.root = f"liftguard/v1/{site}/{lift}"
        self.messages: list[tuple[float, str, dict[str, Any]]] = []
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        # A persistent session (clean_session false): messages published while the platform
        # is reconnecting are queued for it by the broker, not lost.
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"platform-{os.getpid()}-{id(self)}",
                                  clean_session=False)
        ctx = ssl.create_default_context(cafile=str(ca_cert))
        ctx.load_cert_chain(str(cert), str(key))
        self.client.tls_set_context(ctx)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = lambda c, *a: c.subscribe("liftguard/#", qos=1)
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message
        self._counter = int(time.time() * 1000)

    @classmethod
    def for_run(cls, broker: Broker, creds: Credentials, site: str, lift: str) -> Platform:
        """The operator of a demo or simulated-bench run."""
        return cls(broker.host, broker.port, ca_cert=creds.ca_cert, cert=creds.operator.cert,
                   key=creds.operator.key, command_key=creds.command_key, site=site, lift=lift)

    def start(self, timeout: float = 10.0) -> Platform:
        self.client.connect(self.host, self.port, 30)
        self.client.loop_start()
        if not self._subscribed.wait(timeout):
            raise HardwareUnavailable("platform client: no SUBACK from the broker")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            body = {"undecodable": msg.payload[:200].hex()}
        channel = msg.topic[len(self.root) + 1:] if msg.topic.startswith(self.root) else msg.topic
        with self._cond:
            self.messages.append((time.monotonic(), channel, body))
            self._cond.notify_all()
        for fn in self.listeners:
            fn(channel, body)

    def on(self, channel: str, **match: Any) -> list[dict[str, Any]]:
        with self._cond:
            return [b for _, c, b in self.messages if c == channel
                    and all(b.get(k) == v for k, v in match.items())]

    def wait_for(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Block until `predicate()` is truthy (re-checked on every message); its value, or
        None after `timeout` (a safety net, not a measurement)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.5))

    def command(self, command: str, args: dict[str, Any], ttl_s: float = 300.0) -> str:
        """Publish a signed command; returns its id (the `cmd/result` names it)."""
        from agent.commands.signing import load_private, sign

        if self.command_key is None:
            raise HardwareUnavailable("no operator command key: cannot sign commands")
        self._counter += 1
        now = time.time()
        cmd = sign(load_private(self.command_key), device=self.device, command=command,
                   args=args, counter=self._counter, expires=now + ttl_s, now=now)
        info = self.client.publish(f"{self.root}/cmd", json.dumps(cmd), qos=1)
        info.wait_for_publish(10)
        return str(cmd["id"])
