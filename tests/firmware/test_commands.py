"""Signed commands verified on the board, in real MicroPython, against commands signed by the
Pi-side tooling (agent/commands/signing.py, `cryptography`'s Ed25519)."""

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.commands.signing import public_line, sign
from tests.firmware.mpy import result

NOW = 1_800_000_000.0
DEVICE = "s1/L1"


def test_sha512_matches_hashlib_across_block_boundaries():
    sizes = [0, 1, 3, 111, 112, 127, 128, 129, 239, 240, 300]
    got = result(f"""
import json
from lg.sha512 import sha512
print(json.dumps([sha512(bytes((i * 7) & 255 for i in range(n))).hex() for n in {sizes}]))
""")
    want = [hashlib.sha512(bytes((i * 7) & 255 for i in range(n))).hexdigest() for n in sizes]
    assert got == want


# RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72)
RFC8032 = [
    ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
]


def test_ed25519_accepts_the_rfc8032_vectors_and_rejects_altered_ones():
    got = result(f"""
import json
from lg.ed25519 import verify
out = []
for pub, msg, sig in {RFC8032!r}:
    pub, msg, sig = bytes.fromhex(pub), bytes.fromhex(msg), bytes.fromhex(sig)
    bad = bytes((sig[0] ^ 1,)) + sig[1:]
    out.append([verify(pub, msg, sig), verify(pub, msg + b'x', sig), verify(pub, msg, bad)])
print(json.dumps(out))
""")
    assert got == [[True, False, False], [True, False, False]]


@pytest.fixture(scope="module")
def operator():
    return Ed25519PrivateKey.generate()


def _cmd(key, **over):
    fields = {"device": DEVICE, "command": "relay.test", "args": {"seconds": 1.5, "note": "é\n"},
              "counter": 5, "expires": NOW + 600, "now": NOW}
    fields.update(over)
    return sign(key, **fields)


def _verify_all(tmp_path, key, trusted_key, raws: list[bytes]):
    flash = tmp_path / "flash"
    flash.mkdir(exist_ok=True)
    for i, raw in enumerate(raws):
        (flash / f"cmd{i}.json").write_bytes(raw)
    return result(f"""
import json
from lg.commands import Verifier, Counters, Rejected, parse_public_line, key_id
from lg.outbox import Flash
pub = parse_public_line({public_line(trusted_key.public_key())!r})
v = Verifier({DEVICE!r}, {{key_id(pub): pub}}, Counters('counters.json', Flash()))
out = []
for i in range({len(raws)}):
    raw = open('cmd%d.json' % i, 'rb').read()
    try:
        cid, name, args, kid, counter = v.verify(raw, {NOW})
        out.append(['ok', name, args, counter])
    except Rejected as exc:
        out.append([exc.reason, exc.command, exc.detail])
print(json.dumps(out))
""", flash=flash)


def _raw(cmd) -> bytes:
    return json.dumps(cmd).encode()


def test_valid_command_is_accepted_with_its_args(tmp_path, operator):
    got = _verify_all(tmp_path, operator, operator, [_raw(_cmd(operator))])
    assert got == [["ok", "relay.test", {"seconds": 1.5, "note": "é\n"}, 5]]


def tampered(cmd):
    cmd = dict(cmd)
    cmd["args"] = {"seconds": 99}
    return cmd


def wrong_seq(cmd):
    return dict(cmd, seq=cmd["seq"] + 1)


def unsigned(cmd):
    return {k: v for k, v in cmd.items() if k != "sig"}


def extra(cmd):
    return dict(cmd, admin=True)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda k: _raw(tampered(_cmd(k))), "bad_signature"),
        (lambda k: _raw(_cmd(k, device="s1/L2")), "wrong_device"),
        (lambda k: _raw(_cmd(k, expires=NOW - 1, now=NOW - 100)), "expired"),
        (lambda k: _raw(_cmd(k, expires=NOW + 3 * 86400)), "malformed"),
        (lambda k: _raw(unsigned(_cmd(k))), "unsigned"),
        (lambda k: _raw(wrong_seq(_cmd(k))), "malformed"),
        (lambda k: _raw(extra(_cmd(k))), "malformed"),
        (lambda k: b'{"schema": "liftguard.cmd/1", ', "malformed"),
        (lambda k: b"\xff\xfe", "malformed"),
        (lambda k: b"[1, 2]", "malformed"),
        (lambda k: b" " * 5000, "oversized"),
        (lambda k: _raw(_cmd(Ed25519PrivateKey.generate())), "unknown_key"),
    ],
    ids=["tampered", "wrong_device", "expired", "too_long_ttl", "unsigned", "seq_not_counter",
         "unknown_field", "truncated_json", "not_utf8", "not_object", "oversized",
         "untrusted_key"],
)
def test_bad_commands_are_rejected_with_the_agents_reason(tmp_path, operator, make, reason):
    got = _verify_all(tmp_path, operator, operator, [make(operator)])
    assert got[0][0] == reason


def test_replayed_or_older_counter_is_refused_and_the_counter_survives_a_reset(tmp_path,
                                                                              operator):
    first = _raw(_cmd(operator, counter=7))
    older = _raw(_cmd(operator, counter=6))
    got = _verify_all(tmp_path, operator, operator, [first, first, older])
    assert [g[0] for g in got] == ["ok", "replayed", "replayed"]
    # after a reset, the counter file on flash still refuses the same command
    got = _verify_all(tmp_path, operator, operator, [first, _raw(_cmd(operator, counter=8))])
    assert [g[0] for g in got] == ["replayed", "ok"]


def test_a_forged_command_does_not_burn_the_counter(tmp_path, operator):
    forged = _raw(tampered(_cmd(operator, counter=50)))
    honest = _raw(_cmd(operator, counter=9))
    got = _verify_all(tmp_path, operator, operator, [forged, honest])
    assert [g[0] for g in got] == ["bad_signature", "ok"]
