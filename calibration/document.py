"""The calibration file of one lift: versioned JSON, checksummed, optionally signed.

    {"schema": "liftguard.calibration/1", "version": 4, "created": "2026-11-28T14:02:11Z",
     "technician": "li.wei", "box_id": "s1-L2", "site": "s1", "lift": "L2",
     "controller": {...} | null, "accel": {...} | null, "noise": {...} | null,
     "baseline": {liftguard.baseline/1} | null, "thresholds": {...},
     "history": [{"version", "created", "technician", "workflow"}, ...],
     "checksum": "sha256:HEX", "signature": {"key_id": "...", "sig": "BASE64"}}

`checksum` is SHA-256 over the canonical JSON (sorted keys, no whitespace, UTF-8) of the
document without `checksum` and `signature`, so re-indenting the file is harmless but changing
any value is caught. `signature` is Ed25519 over the same canonical bytes with the checksum
included, by a technician key whose public half is in the box's trusted-keys file
([commands] trusted_keys, the same operators who may send signed commands).

Writing is atomic (temp file in the same folder, fsync, rename, fsync folder). The file being
replaced is first copied, atomically too, to PATH.prev: `rollback` swaps the two back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.atomic import atomic_write
from agent.errors import InputError

SCHEMA = "liftguard.calibration/1"
SECTIONS = ("controller", "accel", "noise", "baseline")
UNSIGNED = ("checksum", "signature")


class CalibrationInvalid(InputError):
    """A calibration file that must not be used; the message is one line naming the file."""


def canonical(doc: Mapping[str, Any], without: tuple[str, ...] = UNSIGNED) -> bytes:
    body = {k: v for k, v in doc.items() if k not in without}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False).encode("utf-8")


def checksum_of(doc: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical(doc)).hexdigest()


def empty_document(device: Mapping[str, Any]) -> dict[str, Any]:
    site, lift = str(device["site"]), str(device["lift"])
    return {"schema": SCHEMA, "version": 0, "created": "", "technician": "",
            "box_id": str(device.get("box_id") or f"{site}-{lift}"), "site": site,
            "lift": lift, "controller": None, "accel": None, "noise": None,
            "baseline": None, "thresholds": {}, "history": []}


def next_version(current: Mapping[str, Any] | None, device: Mapping[str, Any], *,
                 workflow: str, technician: str, updates: Mapping[str, Any],
                 now: float | None = None) -> dict[str, Any]:
    """The document after one workflow: the other sections carried over from `current`."""
    doc = dict(current) if current is not None else empty_document(device)
    for k in UNSIGNED:
        doc.pop(k, None)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None
                                                               else now))
    doc.update(updates)
    doc["version"] = int(doc.get("version", 0)) + 1
    doc["created"], doc["technician"] = stamp, technician
    doc["history"] = [*doc.get("history", []),
                      {"version": doc["version"], "created": stamp, "technician": technician,
                       "workflow": workflow}][-50:]
    return doc


def seal(doc: dict[str, Any], signing_key: Any | None = None) -> dict[str, Any]:
    """Add the checksum and, with an Ed25519 private key, the signature."""
    out = {k: v for k, v in doc.items() if k not in UNSIGNED}
    out["checksum"] = checksum_of(out)
    if signing_key is not None:
        from agent.commands.signing import key_id

        sig = signing_key.sign(canonical(out, without=("signature",)))
        out["signature"] = {"key_id": key_id(signing_key.public_key()),
                            "sig": base64.b64encode(sig).decode()}
    return out


# --- validation ------------------------------------------------------------------------------


def validate(doc: Any, where: str, trusted_keys: Mapping[str, Any] | None = None,
             require_signature: bool = False) -> dict[str, Any]:
    """The document if it may be used; CalibrationInvalid with the first reason otherwise."""
    def bad(reason: str) -> CalibrationInvalid:
        return CalibrationInvalid(f"{where}: {reason}")

    if not isinstance(doc, dict):
        raise bad("calibration must be a JSON object")
    if doc.get("schema") != SCHEMA:
        raise bad(f"schema = {doc.get('schema')!r}: expected {SCHEMA!r}")
    if "checksum" not in doc:
        raise bad("checksum is missing")
    try:
        expected = checksum_of(doc)
    except (TypeError, ValueError) as exc:
        raise bad(f"cannot be checksummed: {exc}") from None
    if doc["checksum"] != expected:
        raise bad("checksum does not match the contents (edited by hand or damaged); "
                  "run `liftguard calibrate rollback` or calibrate again")
    _check_signature(doc, trusted_keys, require_signature, bad)
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad(f"version = {version!r}: must be an integer >= 1")
    for key in ("technician", "box_id", "created"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise bad(f"{key} is missing")
    if doc.get("accel") is not None:
        _check_accel(doc["accel"], bad)
    if doc.get("noise") is not None:
        _check_noise(doc["noise"], bad)
    if doc.get("baseline") is not None:
        from agent.detectors.baseline import Baseline

        try:
            Baseline.from_json(doc["baseline"], f"{where}: baseline")
        except InputError as exc:
            raise CalibrationInvalid(str(exc)) from None
    th = doc.get("thresholds") or {}
    if th and not (0 < th.get("warning_score", 0) < th.get("critical_score", 0)):
        raise bad(f"thresholds = {th}: need 0 < warning_score < critical_score")
    return doc


def _check_signature(doc: dict[str, Any], trusted: Mapping[str, Any] | None, required: bool,
                     bad: Any) -> None:
    sig = doc.get("signature")
    if sig is None:
        if required:
            raise bad("not signed, and [calibration] require_signature is set")
        return
    if not isinstance(sig, dict) or not isinstance(sig.get("sig"), str):
        raise bad("signature is malformed")
    if trusted is None:
        if required:
            raise bad("signature cannot be checked: no trusted keys configured")
        return
    key = trusted.get(str(sig.get("key_id")))
    if key is None:
        raise bad(f"signed by key {sig.get('key_id')!r}, which is not a trusted key")
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(base64.b64decode(sig["sig"], validate=True),
                   canonical(doc, without=("signature",)))
    except (InvalidSignature, ValueError):
        raise bad("signature does not verify (contents changed after signing)") from None


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _check_accel(a: Any, bad: Any) -> None:
    if not isinstance(a, dict):
        raise bad("accel must be an object")
    rot = a.get("rotation")
    if not (isinstance(rot, list) and len(rot) == 3
            and all(isinstance(r, list) and len(r) == 3 and all(map(_finite, r)) for r in rot)):
        raise bad("accel.rotation must be a 3x3 matrix of numbers")
    import numpy as np

    r = np.array(rot, dtype=float)
    if not np.allclose(r @ r.T, np.eye(3), atol=1e-6) or not math.isclose(
            float(np.linalg.det(r)), 1.0, abs_tol=1e-6):
        raise bad("accel.rotation is not a rotation (R R^T != I or det != 1)")
    if a.get("vertical_axis") not in ("x", "y", "z", "-x", "-y", "-z"):
        raise bad(f"accel.vertical_axis = {a.get('vertical_axis')!r}")


def _check_noise(n: Any, bad: Any) -> None:
    if not isinstance(n, dict):
        raise bad("noise must be an object")
    corr: Any = n.get("correction_db")
    if not _finite(corr) or abs(corr) > 30:
        raise bad(f"noise.correction_db = {corr!r}: must be a number within +/-30 dB")


# --- files -----------------------------------------------------------------------------------


def previous_path(path: Path) -> Path:
    return path.with_name(path.name + ".prev")


def read_document(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CalibrationInvalid(f"{path}: no calibration file") from None
    except OSError as exc:
        raise CalibrationInvalid(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise CalibrationInvalid(f"{path}: not valid JSON: {exc}") from None


def load(path: str | os.PathLike[str], trusted_keys: Mapping[str, Any] | None = None,
         require_signature: bool = False) -> dict[str, Any]:
    p = Path(path)
    return validate(read_document(p), str(p), trusted_keys, require_signature)




def encode(doc: Mapping[str, Any]) -> bytes:
    return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False,
                       allow_nan=False) + "\n").encode("utf-8")


def write(path: str | os.PathLike[str], doc: dict[str, Any]) -> None:
    """Replace the calibration, keeping the current file as PATH.prev for rollback."""
    p = Path(path)
    data = encode(doc)
    validate(json.loads(data), str(p))  # never write what the agent would refuse
    if p.exists():
        atomic_write(previous_path(p), p.read_bytes())
    atomic_write(p, data)


def rollback(path: str | os.PathLike[str], trusted_keys: Mapping[str, Any] | None = None,
             require_signature: bool = False) -> dict[str, Any]:
    """Make PATH.prev current again (the replaced one becomes PATH.prev); the previous file
    must itself be valid, or nothing changes."""
    p = Path(path)
    prev = previous_path(p)
    if not prev.exists():
        raise CalibrationInvalid(f"{prev}: no previous calibration to roll back to")
    old = load(prev, trusted_keys, require_signature)
    old_bytes = prev.read_bytes()
    current = p.read_bytes() if p.exists() else None
    if current is not None:
        atomic_write(prev, current)
    atomic_write(p, old_bytes)
    return old
