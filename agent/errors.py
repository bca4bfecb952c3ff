"""Errors that reach the user as one line.

Every error a user can cause (bad config, bad file, bad argument, a port that is busy) is a
`LiftguardError`; `liftguard` prints its message on one line and exits non-zero. Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations


class LiftguardError(Exception):
    """A failure the user can act on; `str()` is the whole message."""

    exit_code = 2


class ConfigError(LiftguardError):
    """A configuration file, key or value is wrong. The message names the file and key."""


class InputError(LiftguardError):
    """A recording, profile, calibration or argument is malformed."""


class HardwareUnavailable(LiftguardError):
    """A configured backend needs a library or device that this machine lacks."""

    exit_code = 3
