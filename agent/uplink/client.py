"""The MQTT uplink: drains the outbox to the broker with paho-mqtt, QoS 1, delete on PUBACK.

Threading: one thread of our own owns the paho client and drives it through paho's
external-loop API (`socket()`, `loop_read/loop_write/loop_misc`) with a `select` that also
watches a wake-up pipe. Why not `loop_start()`: paho's client is not safe to share between
threads, and we want the reconnect policy (backoff with jitter, MQTT 5 -> 3.1.1 fallback)
and the drain order in our hands. The runtime never touches the network: it commits to the
outbox and writes one byte to the pipe, so a new alarm is on the wire within one loop turn.

Delivery: rows are published oldest first (durable before telemetry) within an in-flight
window; each paho message id maps to its outbox row, deleted only when its PUBACK arrives.
After a reconnect everything unacknowledged is sent again in order (clean session: the
outbox, not the broker, is the session state). Receivers de-duplicate by `id`.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import random
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from agent import __version__
from agent.errors import ConfigError
from agent.outbox import DURABLE, TELEMETRY, Outbox, Pending, envelope
from agent.outbox.envelope import Clock, encode
from agent.uplink.backoff import Backoff
from agent.uplink.settings import UplinkSettings

log = logging.getLogger(__name__)

# CONNACK codes that mean "this broker does not speak the protocol version you asked for":
# 0x84 in MQTT 5.0 (section 3.2.2.2); a 3.1.1-only broker answers a version 5 CONNECT with
# return code 0x01 (MQTT 3.1.1 section 3.2.2.3), which paho reports as 0x84 too.
_UNSUPPORTED_VERSION = {0x84, 0x01}


class Uplink:
    def __init__(self, settings: UplinkSettings, outbox: Outbox, clock: Clock, *,
                 on_command: Callable[[bytes], object] | None = None,
                 rng: random.Random | None = None) -> None:
        self.settings = settings
        self._outbox = outbox
        self._clock = clock
        self._on_command = on_command
        self._backoff = Backoff(settings.backoff_min_s, settings.backoff_max_s,
                                rng or random.Random())
        self._protocol = mqtt.MQTTv311 if settings.protocol == "3.1.1" else mqtt.MQTTv5
        self._tls = _tls_context(settings) if settings.tls else None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stop = threading.Event()
        self._closed = False
        self._online = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: mqtt.Client | None = None
        self._inflight: dict[int, Pending] = {}
        self._acked: list[Pending] = []
        self._cursor = {DURABLE: 0, TELEMETRY: 0}
        self._connack_code: int | None = None
        self._started = time.monotonic()
        self._next_heartbeat = 0.0
        self._heartbeat_sources: list[Callable[[], dict[str, Any]]] = []
        self._periodic: list[Callable[[], object]] = []
        self._state_listeners: list[Callable[[bool], None]] = []
        self._next_periodic = 0.0
        self.on_delivered: Callable[[Pending], None] | None = None
        """Called (uplink thread) after a PUBACK removed a row; benchmarks time it."""
        self.connects = 0
        self.rejected = 0
        self.connected_at: collections.deque[float] = collections.deque(maxlen=1000)
        """time.monotonic() of the latest successful CONNACKs (bounded: a daemon runs for
        years on a link that may flap)."""
        outbox.add_listener(self.wake)

    # -- the facade --------------------------------------------------------------------

    @property
    def online(self) -> bool:
        return self._online.is_set()

    @property
    def nodelay(self) -> bool:
        """Whether the current connection has TCP_NODELAY set (False when offline)."""
        client = self._client
        sock: Any = client.socket() if client is not None else None
        return bool(sock is not None and sock.getsockopt(socket.IPPROTO_TCP,
                                                         socket.TCP_NODELAY))

    @property
    def protocol(self) -> str:
        return "5" if self._protocol == mqtt.MQTTv5 else "3.1.1"

    def wait_online(self, timeout: float) -> bool:
        return self._online.wait(timeout)

    def publish_telemetry(self, kind: str, values: dict[str, Any]) -> bool:
        """Queue a telemetry message in the ring; False if the ring had to drop it."""
        return self._outbox.put_telemetry(envelope("telemetry", self._clock(), kind=kind,
                                                   values=values))

    def publish_event(self, kind: str, severity: str, detail: dict[str, Any]) -> int:
        """Commit an event durably (returns its seq); it is sent as soon as possible."""
        return self._outbox.enqueue_event(kind, severity, detail)

    def add_heartbeat_source(self, fn: Callable[[], dict[str, Any]]) -> None:
        """Merge `fn()`'s values into each heartbeat (e.g. the number of active alarms)."""
        self._heartbeat_sources.append(fn)

    def add_periodic(self, fn: Callable[[], object]) -> None:
        """Run `fn()` about once a second on the uplink thread while online (alarm re-sends:
        while offline the previous copy is still queued, so there is nothing to re-send)."""
        self._periodic.append(fn)

    def add_state_listener(self, fn: Callable[[bool], None]) -> None:
        """`fn(online)` on each connect and disconnect (uplink thread; must not block)."""
        self._state_listeners.append(fn)

    def wake(self) -> None:
        if self._closed:
            return
        with contextlib.suppress(BlockingIOError):  # already pending: it will wake anyway
            os.write(self._wake_w, b"!")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="liftguard-uplink", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Publish the retained `offline/shutdown` state if connected, then disconnect."""
        if self._closed:
            return
        self._stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout)
        self._closed = True
        os.close(self._wake_r)
        os.close(self._wake_w)

    # -- the thread --------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._session()
            except Exception:
                log.exception("uplink session failed")
            self._drop_session()
            if not self._stop.is_set():
                self._sleep(self._backoff.next_delay())

    def _session(self) -> None:
        s = self.settings
        client = self._new_client()
        self._client = client
        self._connack_code = None
        try:
            if self._protocol == mqtt.MQTTv5:
                client.connect(s.host, s.port, s.keepalive_s, clean_start=True)
            else:
                client.connect(s.host, s.port, s.keepalive_s)
        except (OSError, ssl.SSLError) as exc:
            log.info("uplink: cannot connect to %s:%d: %s", s.host, s.port, exc)
            return
        sock = client.socket()
        if isinstance(sock, socket.socket):
            # Nagle + delayed ACK add ~40 ms per small message (REFERENCE.md section 6).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        deadline = time.monotonic() + s.connect_timeout_s
        while not self._stop.is_set():
            if not self._online.is_set() and time.monotonic() > deadline:
                log.warning("uplink: no CONNACK within %.1f s", s.connect_timeout_s)
                break
            if not self._turn(client):
                break
            if self._online.is_set():
                try:
                    self._heartbeat_if_due()
                    self._run_periodic()
                except Exception:  # a disk error in housekeeping must not drop the link
                    log.exception("uplink housekeeping failed")
                self._fill_window(client)
        self._maybe_fall_back()
        if self._stop.is_set() and self._online.is_set():
            self._say_goodbye(client)

    def _turn(self, client: mqtt.Client) -> bool:
        """One select/read/write/misc round; False when the connection is gone."""
        sock: Any = client.socket()
        if sock is None:
            return False
        pending = sock.pending() if hasattr(sock, "pending") else 0
        timeout = 0.0 if pending else 1.0
        wlist = [sock] if client.want_write() else []
        try:
            readable, writable, _ = select.select([sock, self._wake_r], wlist, [], timeout)
        except (OSError, ValueError):
            return False
        if self._wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 4096)
        if sock in readable or pending:
            rc = client.loop_read()
            self._forget_acked()
            if rc != mqtt.MQTT_ERR_SUCCESS:
                return False
        if (client.socket() is not None and (writable or client.want_write())
                and client.loop_write() != mqtt.MQTT_ERR_SUCCESS):
            return False
        if client.loop_misc() != mqtt.MQTT_ERR_SUCCESS:
            return False
        return client.socket() is not None

    def _fill_window(self, client: mqtt.Client) -> None:
        room = self.settings.inflight - len(self._inflight)
        while room > 0:
            rows = self._outbox.pending(DURABLE, self._cursor[DURABLE], room)
            if not rows:
                rows = self._outbox.pending(TELEMETRY, self._cursor[TELEMETRY], room)
            if not rows:
                return
            for p in rows:
                info = client.publish(self.settings.topic(p.channel), p.payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    return
                self._inflight[info.mid] = p
                self._cursor[p.table] = p.row
                room -= 1

    def _heartbeat_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_heartbeat:
            return
        self._next_heartbeat = now + self.settings.heartbeat_s
        st = self._outbox.stats()
        values: dict[str, Any] = {
            "uptime_s": round(now - self._started, 1), "outbox_durable": st.durable,
            "telemetry_queued": st.telemetry, "telemetry_dropped": st.telemetry_dropped,
            "storage_used_bytes": st.used_bytes, "storage_max_bytes": st.max_bytes,
            "degraded": st.degraded, "connects": self.connects, "protocol": self.protocol}
        for fn in self._heartbeat_sources:
            try:
                values.update(fn())
            except Exception:
                log.exception("heartbeat source %r failed", fn)
        self.publish_telemetry("heartbeat", values)

    def _run_periodic(self) -> None:
        now = time.monotonic()
        if now < self._next_periodic:
            return
        self._next_periodic = now + 1.0
        for fn in self._periodic:
            try:
                fn()
            except Exception:
                log.exception("periodic task %r failed", fn)

    def _tell_state(self, online: bool) -> None:
        for fn in self._state_listeners:
            try:
                fn(online)
            except Exception:
                log.exception("state listener %r failed", fn)

    def _say_goodbye(self, client: mqtt.Client) -> None:
        info = client.publish(self.settings.topic("state"), self._state_payload(
            "offline", "shutdown"), qos=1, retain=True)
        deadline = time.monotonic() + 2.0
        while not info.is_published() and time.monotonic() < deadline:
            if not self._turn(client):
                break
        client.disconnect()

    def _drop_session(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            # The socket may already be gone; then there is nothing left to tell the broker.
            with contextlib.suppress(Exception):
                client.disconnect()
        if self._online.is_set():
            self._online.clear()
            self._tell_state(False)
        self._inflight.clear()
        self._cursor = {DURABLE: 0, TELEMETRY: 0}

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            select.select([self._wake_r], [], [], left)
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 4096)

    def _maybe_fall_back(self) -> None:
        if self.settings.protocol != "auto" or self._protocol != mqtt.MQTTv5:
            return
        if self._connack_code not in _UNSUPPORTED_VERSION:
            return
        log.warning("uplink: broker refused MQTT 5; falling back to MQTT 3.1.1")
        self._protocol = mqtt.MQTTv311
        self._backoff.reset()

    # -- paho callbacks (run inside loop_read on the uplink thread) -------------------------

    def _new_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=s.client_id,
                             protocol=self._protocol)
        client.connect_timeout = s.connect_timeout_s
        client.max_inflight_messages_set(s.inflight)
        if self._tls is not None:
            client.tls_set_context(self._tls)
        if s.username:
            client.username_pw_set(s.username, s.password or None)
        client.will_set(s.topic("state"), self._state_payload("offline", "connection_lost"),
                        qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def _state_payload(self, state: str, reason: str) -> bytes:
        body = envelope("state", self._clock(), state=state, reason=reason,
                        client_id=self.settings.client_id, agent_version=__version__)
        body["seq"] = self._outbox.take_seq("state")
        return encode(body)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode,
                    properties: Any) -> None:
        self._connack_code = reason.value
        if reason.is_failure:
            log.warning("uplink: broker refused connection: %s", reason)
            return
        self.connects += 1
        self.connected_at.append(time.monotonic())
        self._backoff.reset()
        client.subscribe(self.settings.topic("cmd"), qos=1)
        client.publish(self.settings.topic("state"), self._state_payload("online", "connected"),
                       qos=1, retain=True)
        self._next_heartbeat = 0.0
        self._online.set()
        self._tell_state(True)
        log.info("uplink: connected to %s:%d (MQTT %s)", self.settings.host,
                 self.settings.port, self.protocol)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any,
                       reason: ReasonCode, properties: Any) -> None:
        if self._online.is_set() and not self._stop.is_set():
            log.warning("uplink: disconnected: %s", reason)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode,
                    properties: Any) -> None:
        p = self._inflight.pop(mid, None)
        if p is None:
            return  # the state message, or a copy from an abandoned session
        if reason.is_failure:
            # Kept on disk and tried again after the next reconnect; a broker that refuses
            # (e.g. ACL: 0x87 not authorized) is a misconfiguration to fix, not a reason to drop.
            self.rejected += 1
            log.error("uplink: broker refused %s row %d on %s: %s", p.table, p.row,
                      p.channel, reason)
            return
        self._acked.append(p)

    def _forget_acked(self) -> None:
        """Delete the rows PUBACKed during the last read, in one transaction."""
        if not self._acked:
            return
        acked, self._acked = self._acked, []
        self._outbox.delete_many([(p.table, p.row) for p in acked])
        if self.on_delivered is not None:
            for p in acked:
                self.on_delivered(p)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if self._on_command is None:
            return
        try:
            self._on_command(bytes(msg.payload))
        except Exception:
            log.exception("command handling failed")


def _tls_context(s: UplinkSettings) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=s.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"mqtt.ca_file {s.ca_file}: cannot load CA: {exc}") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if s.cert_file:
        try:
            ctx.load_cert_chain(s.cert_file, s.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"mqtt.cert_file {s.cert_file} / mqtt.key_file {s.key_file}: "
                              f"cannot load client certificate: {exc}") from None
    return ctx
