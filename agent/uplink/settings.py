"""Uplink settings from the [device] and [mqtt] config sections, and the topic layout.

Topic layout (ARCHITECTURE.md, MQTT contract): `liftguard/v1/{site}/{lift}/{channel}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import ConfigError

TOPIC_ROOT = "liftguard/v1"
# A topic level must not contain the MQTT separators or wildcards (MQTT 5.0 section 4.7).
_LEVEL = re.compile(r"^[^/+#\x00]+$")


def topic(site: str, lift: str, channel: str) -> str:
    return f"{TOPIC_ROOT}/{site}/{lift}/{channel}"


@dataclass(frozen=True)
class UplinkSettings:
    site: str
    lift: str
    host: str = "127.0.0.1"
    port: int = 8883
    client_id: str = ""
    tls: bool = True
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    username: str = ""
    password: str = ""
    protocol: str = "auto"
    """"auto" (MQTT 5, falling back to 3.1.1 if the broker refuses it), "5" or "3.1.1"."""
    keepalive_s: int = 30
    connect_timeout_s: float = 5.0
    backoff_min_s: float = 0.5
    backoff_max_s: float = 30.0
    inflight: int = 20
    heartbeat_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("site", "lift"):
            if not _LEVEL.match(getattr(self, name)):
                raise ConfigError(f"device.{name} = {getattr(self, name)!r}: must be a non-empty "
                                  "MQTT topic level (no '/', '+', '#')")
        if not self.client_id:
            object.__setattr__(self, "client_id", f"liftguard-{self.site}-{self.lift}")
        if self.tls and not self.ca_file:
            raise ConfigError("mqtt.ca_file is required when mqtt.tls = true")
        if bool(self.cert_file) != bool(self.key_file):
            raise ConfigError("mqtt.cert_file and mqtt.key_file must be given together")
        if self.backoff_max_s < self.backoff_min_s:
            raise ConfigError(f"mqtt.backoff_max_s = {self.backoff_max_s}: must be >= "
                              f"mqtt.backoff_min_s ({self.backoff_min_s})")

    @property
    def device(self) -> str:
        """The device id commands are signed for: `site/lift`."""
        return f"{self.site}/{self.lift}"

    def topic(self, channel: str) -> str:
        return topic(self.site, self.lift, channel)

    @classmethod
    def from_config(cls, cfg: Any) -> UplinkSettings:
        m = cfg["mqtt"]
        password = ""
        if m["password_file"]:
            try:
                password = Path(m["password_file"]).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"mqtt.password_file {m['password_file']}: "
                                  f"{exc.strerror}") from None
        return cls(
            site=cfg["device"]["site"], lift=cfg["device"]["lift"], host=m["host"],
            port=m["port"], client_id=m["client_id"], tls=m["tls"], ca_file=m["ca_file"],
            cert_file=m["cert_file"], key_file=m["key_file"], username=m["username"],
            password=password, protocol=m["protocol"], keepalive_s=m["keepalive_s"],
            connect_timeout_s=m["connect_timeout_s"], backoff_min_s=m["backoff_min_s"],
            backoff_max_s=m["backoff_max_s"], inflight=m["inflight"],
            heartbeat_s=m["heartbeat_s"])
