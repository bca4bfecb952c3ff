"""Fake `ssl` for the boot test (never reached: the fake socket refuses first)."""

PROTOCOL_TLS_CLIENT = 2
CERT_REQUIRED = 2
