from tests.support.fixtures import test_pki, tls_broker  # noqa: F401
