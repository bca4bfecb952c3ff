from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from agent.outbox import Bounds
from agent.uplink import UplinkSettings
from agent.uplink.pipeline import AlarmPipeline
from tests.support.fixtures import (  # noqa: F401
    fake_clock,
    mqtt_broker,
    persistent_broker,
    subscriber_for,
    test_pki,
    tls_broker,
)
from tests.support.mosquitto import Mosquitto


def settings_for(broker: Mosquitto, identity: str = "s1.L1", **kw: object) -> UplinkSettings:
    site, lift = identity.split(".")
    base = UplinkSettings(site=site, lift=lift, host=broker.host, port=broker.port, tls=False,
                          backoff_min_s=0.05, backoff_max_s=1.0, heartbeat_s=3600)
    if broker.pki is not None:
        ident = broker.pki.clients[identity]
        base = replace(base, tls=True, ca_file=str(broker.pki.ca_cert),
                       cert_file=str(ident.cert), key_file=str(ident.key))
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.fixture
def pipeline_for(tmp_path: Path) -> Iterator[object]:
    """`pipeline_for(settings, bounds=None, resend_interval_s=3600, start=True)` -> an
    AlarmPipeline (real outbox, alarms, commands, trail, uplink) stopped after the test."""
    made: list[AlarmPipeline] = []

    def make(settings: UplinkSettings, bounds: Bounds | None = None,
             resend_interval_s: float = 3600.0, start: bool = True) -> AlarmPipeline:
        d = tmp_path / f"box{len(made)}"
        d.mkdir()
        p = AlarmPipeline(settings, outbox_path=d / "outbox.db", bounds=bounds or Bounds(),
                          counter_path=d / "counters.json", trail_path=d / "trail.jsonl",
                          trusted_keys=None, resend_interval_s=resend_interval_s)
        made.append(p)
        if start:
            p.start()
        return p

    yield make
    for p in made:
        p.stop()
