"""A real MQTT client that records what arrives, standing in for the monitoring platform."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.support.mosquitto import Mosquitto
from tests.support.schemas import channel_of, validate


@dataclass(frozen=True)
class Received:
    topic: str
    channel: str
    body: dict[str, Any]
    retain: bool


class Subscriber:
    """Subscribes to `topic_filter` with QoS 1 and validates every payload against its schema."""

    def __init__(self, broker: Mosquitto, identity: str = "operator",
                 topic_filter: str = "liftguard/#", validate_payloads: bool = True,
                 session_expiry_s: int = 0) -> None:
        """`session_expiry_s` > 0: a persistent session (clean start off), so QoS 1 messages
        published while this subscriber reconnects are queued for it, as for a platform."""
        self.broker = broker
        self._session_expiry_s = session_expiry_s
        self.messages: list[Received] = []
        self.invalid: list[tuple[str, bytes, str]] = []
        self._cond = threading.Condition()
        self._filter = topic_filter
        self._validate = validate_payloads
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{identity}-"
                                  f"{id(self)}", protocol=mqtt.MQTTv5)
        if broker.pki is not None:
            ctx = ssl.create_default_context(cafile=str(broker.pki.ca_cert))
            ident = broker.pki.clients[identity]
            ctx.load_cert_chain(str(ident.cert), str(ident.key))
            self.client.tls_set_context(ctx)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self._acks: dict[int, int] = {}
        self._subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.reconnect_delay_set(0.05, 0.5)

    def start(self) -> Subscriber:
        props = None
        if self._session_expiry_s:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self._session_expiry_s
        self.client.connect(self.broker.host, self.broker.port, 30,
                            clean_start=not self._session_expiry_s, properties=props)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("subscriber did not get SUBACK")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, qos: int = 1, timeout: float = 10.0) -> int:
        """Publish and wait for the broker's answer; returns the PUBACK reason code (0 = ok)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.client.is_connected():
                time.sleep(0.02)  # paho's own thread is reconnecting
                continue
            info = self.client.publish(topic, payload, qos=qos)
            try:
                info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            except RuntimeError:
                continue
            if info.is_published():
                return self._acks.pop(info.mid, 0)
        raise TimeoutError(f"publish to {topic} not acknowledged within {timeout} s")

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any,
                    properties: Any) -> None:
        self._acks[mid] = int(reason.value)

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        client.subscribe(self._filter, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        channel = channel_of(msg.topic)
        try:
            body = validate(channel, msg.payload) if self._validate else json.loads(msg.payload)
        except Exception as exc:  # recorded, and every test checks `invalid` is empty
            with self._cond:
                self.invalid.append((msg.topic, bytes(msg.payload), str(exc)))
            return
        with self._cond:
            self.messages.append(Received(msg.topic, channel, body, bool(msg.retain)))
            self._cond.notify_all()

    def on(self, channel: str) -> list[dict[str, Any]]:
        with self._cond:
            return [m.body for m in self.messages if m.channel == channel]

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 20.0) -> bool:
        """Block until `predicate(messages)` holds; False after `timeout` (a safety net only)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll a condition that no message announces (e.g. the outbox is empty); False on
    timeout, which is a safety net, not a measured deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
