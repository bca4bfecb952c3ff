"""Fake `ntptime` for the boot test: no network time here, as when the server is down."""


def settime():
    raise OSError(110, "ETIMEDOUT")
