"""Reusable test support: a real mosquitto launcher (plain and TLS with per-device ACL), a
test PKI, a recording MQTT subscriber, payload schema validation and a fake clock.

Other suites use the fixtures by importing them into their conftest.py:

    from tests.support.fixtures import mqtt_broker, tls_broker, fake_clock  # noqa: F401
"""
