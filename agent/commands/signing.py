"""Ed25519 command signatures: the canonical form, key files and key ids.

What is signed: the canonical JSON of {id, device, command, args, counter, expires} (sorted
keys, no whitespace, UTF-8, `json.dumps` number forms). The device id in it is `site/lift`,
so a command captured for one lift cannot be replayed to another; the counter and the expiry
stop replays to the same lift.

Key files: a private key is PKCS#8 PEM with mode 0600; a public key is one line
`ed25519 BASE64(raw 32 bytes) [comment]`, and a trusted-keys file holds several such lines.
A key's id is the first 8 bytes of SHA-256 over its raw public key, in hex.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent.errors import ConfigError, InputError
from agent.outbox.envelope import new_id, rfc3339

SIGNED_FIELDS = ("id", "device", "command", "args", "counter", "expires")


def canonical(cmd: dict[str, Any]) -> bytes:
    return json.dumps({k: cmd[k] for k in SIGNED_FIELDS}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def public_line(key: Ed25519PublicKey, comment: str = "") -> str:
    text = f"ed25519 {base64.b64encode(raw_public(key)).decode()}"
    return f"{text} {comment}".rstrip()


def sign(private: Ed25519PrivateKey, *, device: str, command: str, args: dict[str, Any],
         counter: int, expires: float, now: float) -> dict[str, Any]:
    """A complete `liftguard.cmd/1` payload, signed."""
    cmd: dict[str, Any] = {"schema": "liftguard.cmd/1", "id": new_id(), "ts": rfc3339(now),
                           "seq": counter, "device": device, "command": command,
                           "args": args, "counter": counter, "expires": rfc3339(expires),
                           "key_id": key_id(private.public_key())}
    cmd["sig"] = base64.b64encode(private.sign(canonical(cmd))).decode()
    return cmd


def signature_ok(public: Ed25519PublicKey, cmd: dict[str, Any], sig: bytes) -> bool:
    try:
        public.verify(sig, canonical(cmd))
    except InvalidSignature:
        return False
    return True


def load_private(path: str | Path) -> Ed25519PrivateKey:
    p = Path(path)
    try:
        st = p.stat()
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read private key: {exc.strerror}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(f"{p}: private key is accessible by group/others "
                         f"(mode {stat.S_IMODE(st.st_mode):o}); run chmod 600 {p}")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{p}: not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{p}: not an Ed25519 private key")
    return key


def parse_public_line(line: str, where: str) -> Ed25519PublicKey:
    parts = line.split(None, 2)
    if len(parts) < 2 or parts[0] != "ed25519":
        raise ConfigError(f"{where}: expected 'ed25519 BASE64 [comment]', got {line[:40]!r}")
    try:
        raw = base64.b64decode(parts[1], validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise ConfigError(f"{where}: bad Ed25519 public key: {exc}") from None


def load_trusted_keys(path: str | Path) -> dict[str, Ed25519PublicKey]:
    """key id -> public key, from a trusted-keys file (one `ed25519 ...` line per operator)."""
    p = Path(path)
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read trusted keys: {exc}") from None
    keys = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            k = parse_public_line(line, f"{p}:{n}")
            keys[key_id(k)] = k
    return keys


def write_key_pair(stem: Path, comment: str) -> tuple[Path, Path, str]:
    """New key pair as STEM.key (0600, created exclusively) and STEM.pub; returns the key id."""
    private = Ed25519PrivateKey.generate()
    key_path, pub_path = stem.with_suffix(".key"), stem.with_suffix(".pub")
    for existing in (key_path, pub_path):
        if existing.exists():
            raise InputError(f"{existing} already exists; refusing to overwrite a key")
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise InputError(f"{key_path}: cannot create: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    pub_path.write_text(public_line(private.public_key(), comment) + "\n")
    return key_path, pub_path, key_id(private.public_key())
