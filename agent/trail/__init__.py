"""Hash-chained maintenance trail and the maintenance mode that writes it."""

from agent.trail.chain import ChainBreak, ChainReport, TrailLog, verify_file, verify_lines
from agent.trail.maintenance import MaintenanceError, MaintenanceMode

__all__ = ["ChainBreak", "ChainReport", "MaintenanceError", "MaintenanceMode", "TrailLog",
           "verify_file", "verify_lines"]
