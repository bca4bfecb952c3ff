"""Alarm lifecycle (pure) and the AlarmService facade that commits it to the outbox."""

from agent.alarms.lifecycle import SEVERITIES, Alarm, AlarmBook, AlarmNotFound, Transition
from agent.alarms.service import AlarmService, alarm_message

__all__ = ["SEVERITIES", "Alarm", "AlarmBook", "AlarmNotFound", "AlarmService", "Transition",
           "alarm_message"]
