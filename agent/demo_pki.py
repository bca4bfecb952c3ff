"""Per-run credentials for the demo and the simulated bench: no default passwords anywhere.

Each run makes a fresh CA, a broker certificate for 127.0.0.1, a client certificate for the
box (common name `SITE.LIFT`, which the broker uses as the username for its per-device ACL,
REFERENCE.md section 6) and one for the operator (the platform), plus an Ed25519 operator key
pair whose public half is the box's trusted-keys file for signed commands. EC P-256 keys:
quick to make, and what a real box would carry. Private keys are written 0600 (the agent
refuses group/other-readable secrets). Certificates are valid for two days: enough for a
demo or a bench run, useless afterwards.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from agent.commands.signing import write_key_pair

VALID_FOR = dt.timedelta(days=2)


@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Credentials:
    dir: Path
    ca_cert: Path
    broker: CertPair
    device: CertPair
    device_identity: str
    operator: CertPair
    operator_identity: str
    command_key: Path  # Ed25519 private key of the operator (signs commands)
    trusted_keys: Path  # its public line, for [commands] trusted_keys


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _save_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def issue_cert(cn: str, ca_key: ec.EllipticCurvePrivateKey, ca_name: x509.Name, directory: Path,
           stem: str, *, server: bool) -> CertPair:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    b = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca_name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + VALID_FOR)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if server:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        usage = ExtendedKeyUsageOID.SERVER_AUTH
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH
    b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    cert = b.sign(ca_key, hashes.SHA256())
    pair = CertPair(directory / f"{stem}.crt", directory / f"{stem}.key")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _save_key(pair.key, key)
    return pair


def make_ca(directory: Path, title: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Name, Path]:
    """A fresh self-signed CA for this run: its key, its name and the path of its certificate."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(title)
    now = dt.datetime.now(dt.UTC)
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + VALID_FOR)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    ca_path = directory / "ca.crt"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return ca_key, ca_name, ca_path


def make_credentials(directory: Path, site: str, lift: str) -> Credentials:
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    ca_key, ca_name, ca_path = make_ca(directory, "liftguard demo CA (this run only)")
    device_id, operator_id = f"{site}.{lift}", "operator"
    key_path, pub_path, _ = write_key_pair(directory / "operator-cmd", "demo operator")
    return Credentials(
        dir=directory, ca_cert=ca_path,
        broker=issue_cert("127.0.0.1", ca_key, ca_name, directory, "broker", server=True),
        device=issue_cert(device_id, ca_key, ca_name, directory, "device", server=False),
        device_identity=device_id,
        operator=issue_cert(operator_id, ca_key, ca_name, directory, "operator", server=False),
        operator_identity=operator_id, command_key=key_path, trusted_keys=pub_path)
