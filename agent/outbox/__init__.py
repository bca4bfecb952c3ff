"""Durable outbox: SQLite (WAL, synchronous=FULL) between the alarm pipeline and the uplink."""

from agent.outbox.envelope import Clock, envelope, new_id, rfc3339
from agent.outbox.store import DURABLE, TELEMETRY, Bounds, Outbox, OutboxFull, OutboxStats, Pending

__all__ = ["DURABLE", "TELEMETRY", "Bounds", "Clock", "Outbox", "OutboxFull", "OutboxStats",
           "Pending", "envelope", "new_id", "rfc3339"]
