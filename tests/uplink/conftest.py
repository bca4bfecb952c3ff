import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from agent.alarms import AlarmService
from agent.outbox import Bounds, Outbox
from agent.uplink import Uplink, UplinkSettings
from tests.support.fixtures import (  # noqa: F401
    fake_clock,
    mqtt_broker,
    subscriber_for,
    test_pki,
    tls_broker,
)
from tests.support.mosquitto import Mosquitto


@dataclass
class Pipeline:
    outbox: Outbox
    alarms: AlarmService
    uplink: Uplink


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
    """`pipeline_for(settings, bounds=None, on_command=None)` -> a started Pipeline."""
    made: list[Pipeline] = []

    def make(settings: UplinkSettings, bounds: Bounds | None = None, on_command=None,
             start: bool = True) -> Pipeline:
        outbox = Outbox(tmp_path / f"outbox{len(made)}.db", time.time, bounds)
        alarms = AlarmService(outbox, time.time, resend_interval_s=3600)
        uplink = Uplink(settings, outbox, time.time, on_command=on_command)
        if start:
            uplink.start()
        p = Pipeline(outbox, alarms, uplink)
        made.append(p)
        return p

    yield make
    for p in made:
        p.uplink.stop()
        p.outbox.close()
