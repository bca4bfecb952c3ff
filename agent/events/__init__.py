"""Fault and event rules over controller samples (shared/REFERENCE.md section 1)."""

from agent.events.engine import Event, EventChange, EventEngine
from agent.events.rules import EVENT_CODES
from agent.events.settings import EventSettings

__all__ = ["EVENT_CODES", "Event", "EventChange", "EventEngine", "EventSettings"]
