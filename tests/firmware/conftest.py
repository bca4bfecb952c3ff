"""Fixtures of the firmware tests: the real broker (TLS, per-device ACL) and the served
virtual elevator, from the shared test support and the sim suite."""

from tests.sim_served.conftest import start_sim  # noqa: F401
from tests.support.fixtures import subscriber_for, test_pki, tls_broker  # noqa: F401
