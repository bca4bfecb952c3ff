"""A throw-away PKI for TLS tests: one CA, a server certificate for 127.0.0.1, client
certificates whose common name is the identity mosquitto uses as the username
(`use_identity_as_username`). Built from the same primitives as the demo's per-run PKI
(agent/demo_pki.py), so tests exercise the certificates a demo or bench actually uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agent.demo_pki import CertPair, issue_cert, make_ca

Identity = CertPair


@dataclass
class Pki:
    dir: Path
    ca_cert: Path
    server: Identity
    clients: dict[str, Identity] = field(default_factory=dict)


def make_pki(directory: Path, clients: list[str]) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_name, ca_path = make_ca(directory, "liftguard test CA")
    server = issue_cert("127.0.0.1", ca_key, ca_name, directory, "server", server=True)
    pki = Pki(directory, ca_path, server)
    for cn in clients:
        pki.clients[cn] = issue_cert(cn, ca_key, ca_name, directory, cn, server=False)
    return pki
