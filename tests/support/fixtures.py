"""pytest fixtures around the real broker; import the names you need into your conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.clock import FakeClock
from tests.support.mosquitto import Mosquitto, device_acl
from tests.support.pki import Pki, make_pki
from tests.support.subscriber import Subscriber

# Identities in the test PKI: two boxes on one site and one operator (the platform).
DEVICES = {"s1.L1": ("s1", "L1"), "s1.L2": ("s1", "L2")}
OPERATOR = "operator"


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mqtt_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def persistent_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A broker whose sessions survive its stop/start: for outages that a subscriber, started
    before them, must see the end of however quickly the box reconnects."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"), persistent=True).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), [*DEVICES, OPERATOR])


@pytest.fixture
def tls_broker(tmp_path_factory: pytest.TempPathFactory, test_pki: Pki) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto-tls"), pki=test_pki,
                       acl=device_acl(DEVICES, [OPERATOR])).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def subscriber_for() -> Iterator[object]:
    """`subscriber_for(broker, identity="operator")` -> a started Subscriber, stopped after."""
    started: list[Subscriber] = []

    def make(broker: Mosquitto, identity: str = OPERATOR, **kw: object) -> Subscriber:
        sub = Subscriber(broker, identity, **kw).start()  # type: ignore[arg-type]
        started.append(sub)
        return sub

    yield make
    for sub in started:
        sub.stop()
