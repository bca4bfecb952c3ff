"""The MQTT link of the board: connect with a last will, drain the outbox with QoS 1, delete a
message only on its PUBACK, keep alive, and reconnect with capped exponential backoff.

Driven by `step()` from the main loop (no thread, no blocking beyond one socket read).
`open_transport()` is the board's (or the test's) way of getting a connected, TLS-wrapped
stream; every error of the link is an OSError or MQTTError, after which the link waits
`backoff` seconds (doubling from backoff_min_s to backoff_max_s, with up to 25 % jitter so a
fleet that lost its broker does not return in lockstep) and tries again. Messages stay in the
outbox meanwhile; a re-send after a reconnect carries the same `id`, so receivers de-duplicate.
"""

import json

from lg import payloads
from lg.mqtt import MQTTClient, MQTTError

TYPE_CHECKING = False
if TYPE_CHECKING:  # mypy only; MicroPython has no typing module
    from typing import Any

VERSION = "liftguard-esp32/1"


class Uplink:
    def __init__(self, outbox, open_transport, clock, site: str, lift: str, client_id: str,
                 keepalive_s: int = 30, backoff_min_s: float = 0.5, backoff_max_s: float = 30.0,
                 inflight: int = 10, on_command=None, rand=None, user=None, password=None):
        self.outbox, self.open_transport, self.clock = outbox, open_transport, clock
        self.site, self.lift, self.client_id = site, lift, client_id
        self.keepalive = keepalive_s
        self.backoff_min, self.backoff_max = backoff_min_s, backoff_max_s
        self.window = inflight
        self.on_command = on_command
        self.rand = rand
        self.user, self.password = user, password
        self.client: Any = None
        self.connected = False
        self.backoff = backoff_min_s
        self.next_attempt = 0.0
        self.last_sent = self.last_heard = 0.0
        self.sending: dict = {}  # outbox name -> pid, for the messages in flight
        self.stats = {"connects": 0, "failures": 0, "acked": 0, "published": 0}
        self.last_error = ""

    def topic(self, channel: str) -> str:
        return payloads.topic(self.site, self.lift, channel)

    def _state(self, state: str, reason: str) -> bytes:
        body = payloads.envelope("state", self.clock.time(), state=state, reason=reason,
                                 client_id=self.client_id, agent_version=VERSION)
        body["seq"] = self.outbox.next_seq("state")
        return payloads.encode(body)

    def step(self, now: float) -> None:
        """One turn of the link at monotonic time `now` (seconds)."""
        if not self.connected:
            if now >= self.next_attempt:
                self._connect(now)
            return
        try:
            if self.client.poll():
                self.last_heard = now
            self._drain()
            if now - self.last_sent >= self.keepalive / 2:
                self.client.ping()  # MQTT 3.1.1 3.1.2.10: within keepalive, or broker drops us
                self.last_sent = now
            if now - self.last_heard > 1.5 * self.keepalive:
                # a half-open TCP connection raises nothing: no PINGRESP is the only sign
                raise MQTTError(f"nothing from the broker for {now - self.last_heard:.0f} s")
        except (OSError, MQTTError) as exc:
            self._lost(now, exc)

    def _connect(self, now: float) -> None:
        will = (self.topic("state"), self._state("offline", "connection_lost"), 1, True)
        client = MQTTClient(self.client_id, self.keepalive, will, self.user, self.password)
        client.on_puback = self._acked
        client.on_message = self._message
        transport = None
        try:
            transport = self.open_transport()
            client.connect(transport, lambda: self.clock.sleep_us(10000))
            client.subscribe(self.topic("cmd"), 1)
            client.publish(self.topic("state"), self._state("online", "connected"), 1, True)
        except (OSError, MQTTError) as exc:
            if transport is not None:
                transport.close()
            self.client = client
            self._lost(now, exc)
            return
        self.client, self.connected = client, True
        self.sending = {}
        self.backoff = self.backoff_min
        self.last_sent = self.last_heard = now
        self.stats["connects"] += 1
        self._drain()

    def _lost(self, now: float, exc) -> None:
        self.stats["failures"] += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        if self.connected and self.client is not None and self.client.transport is not None:
            self.client.transport.close()
        self.connected = False
        self.sending = {}
        jitter = 1.0 + 0.25 * (self.rand() if self.rand else 0.5)
        self.next_attempt = now + self.backoff * jitter
        self.backoff = min(self.backoff * 2, self.backoff_max)

    def _drain(self) -> None:
        """Publish pending outbox messages, oldest first, up to the in-flight window."""
        for name in self.outbox.pending():
            if len(self.sending) >= self.window:
                return
            if name in self.sending:
                continue
            channel, payload, _ = self.outbox.get(name)
            self.sending[name] = self.client.publish(self.topic(channel), payload, 1, False,
                                                     handle=name)
            self.stats["published"] += 1

    def _acked(self, name) -> None:
        if name is not None and self.sending.pop(name, None) is not None:
            self.outbox.remove(name)
            self.stats["acked"] += 1

    def _message(self, topic: str, payload: bytes) -> None:
        if topic == self.topic("cmd") and self.on_command is not None:
            self.on_command(payload)

    def close(self) -> None:
        """Clean shutdown: retained offline state, then DISCONNECT (no will is sent)."""
        if self.connected:
            try:  # noqa: SIM105 - MicroPython has no contextlib
                self.client.publish(self.topic("state"), self._state("offline", "shutdown"), 1,
                                    True)
                self.client.disconnect()
            except (OSError, MQTTError):
                pass
            self.client.transport.close()
            self.connected = False


def describe(u: Uplink) -> str:
    return json.dumps({"connected": u.connected, "pending": len(u.outbox),
                       "in_flight": len(u.sending), "error": u.last_error})
