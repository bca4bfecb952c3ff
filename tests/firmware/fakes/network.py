"""Fake `network` for the boot test: a WLAN that associates at once."""

STA_IF = 0


class WLAN:
    joined = None

    def __init__(self, interface):
        self._active = False
        self._up = False

    def active(self, on=None):
        if on is not None:
            self._active = on
        return self._active

    def connect(self, ssid, password):
        WLAN.joined = (ssid, password)
        self._up = True

    def isconnected(self):
        return self._up
