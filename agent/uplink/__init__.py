"""MQTT uplink: paho-mqtt driven from our own thread, draining the durable outbox."""

from agent.uplink.backoff import Backoff
from agent.uplink.client import Uplink
from agent.uplink.settings import UplinkSettings, topic

__all__ = ["Backoff", "Uplink", "UplinkSettings", "topic"]
