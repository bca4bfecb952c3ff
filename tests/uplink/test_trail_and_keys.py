"""Maintenance trail hash chain (`liftguard trail verify`) and operator keys (`liftguard keys`)."""

import json
import os
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.cli import main
from agent.commands import CommandVerifier, CounterStore, VerifyPolicy, load_trusted_keys
from agent.trail import TrailLog, verify_file
from tests.support.clock import FakeClock


@pytest.fixture
def trail(tmp_path):
    log = TrailLog(tmp_path / "trail.jsonl", FakeClock())
    log.append("check_in", "li.wei", {"note": "annual inspection"})
    log.append("alarm_cleared", "li.wei", {"alarm_id": "a1", "kind": "door_fault"})
    log.append("note", "li.wei", {"text": "replaced door belt"})
    log.append("check_out", "li.wei", {"work_done": "belt, rollers"})
    return tmp_path / "trail.jsonl"


def lines(path):
    return path.read_text().splitlines()


def write(path, ls):
    path.write_text("".join(line + "\n" for line in ls))


def edit_detail(ls):
    rec = json.loads(ls[2])
    rec["detail"]["text"] = "nothing done"
    ls[2] = json.dumps(rec, sort_keys=True, separators=(",", ":"))
    return ls, "line 3 (record n=2): content edited"


def remove(ls):
    del ls[1]
    return ls, "line 2 (record n=2): chain broken"


def reorder(ls):
    ls[1], ls[2] = ls[2], ls[1]
    return ls, "line 2 (record n=2): chain broken"


def torn(ls):
    ls[3] = ls[3][:40]
    return ls, "line 4 (record n=?): not valid JSON"


@pytest.mark.parametrize("tamper", [edit_detail, remove, reorder, torn])
def test_verify_names_the_tampered_record(trail, capsys, tamper):
    ls, expected = tamper(lines(trail))
    write(trail, ls)
    assert main(["trail", "verify", str(trail)]) == 1
    out = capsys.readouterr().out
    assert expected in out and "BROKEN" in out


def test_verify_accepts_an_intact_trail(trail, capsys):
    assert main(["trail", "verify", str(trail)]) == 0
    assert "ok, 4 records" in capsys.readouterr().out


def test_rehashing_an_edited_record_still_breaks_the_next_link(trail):
    from agent.trail.chain import record_hash
    ls = lines(trail)
    rec = json.loads(ls[1])
    rec["detail"]["alarm_id"] = "other"
    rec["hash"] = record_hash(rec)
    ls[1] = json.dumps(rec)
    write(trail, ls)
    [brk] = verify_file(trail).breaks
    assert brk.line == 3 and "chain broken" in brk.problem


def test_trail_continues_its_chain_after_reopening(trail):
    TrailLog(trail, FakeClock()).append("check_in", "zhang", {})
    report = verify_file(trail)
    assert report.ok and report.records == 5


def test_unreadable_trail_is_a_one_line_error(tmp_path, capsys):
    assert main(["trail", "verify", str(tmp_path / "none.jsonl")]) == 2
    assert "cannot read trail" in capsys.readouterr().err


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=5))
def test_any_swap_of_two_different_records_is_detected(tmp_path_factory, i, j):
    path = tmp_path_factory.mktemp("t") / "trail.jsonl"
    log = TrailLog(path, FakeClock())
    for k in range(6):
        log.append("note", "t", {"k": k})
    ls = lines(path)
    ls[i], ls[j] = ls[j], ls[i]
    write(path, ls)
    assert verify_file(path).ok == (i == j)


def test_generated_private_key_is_owner_only_and_never_overwritten(tmp_path, capsys):
    assert main(["keys", "generate", str(tmp_path / "ops1")]) == 0
    mode = stat.S_IMODE(os.stat(tmp_path / "ops1.key").st_mode)
    assert mode == 0o600
    assert main(["keys", "generate", str(tmp_path / "ops1")]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err


def test_private_key_readable_by_others_is_refused(tmp_path, capsys):
    main(["keys", "generate", str(tmp_path / "ops1")])
    os.chmod(tmp_path / "ops1.key", 0o644)
    assert main(["keys", "public", str(tmp_path / "ops1.key")]) == 2
    assert "chmod 600" in capsys.readouterr().err


def test_a_command_signed_with_the_cli_verifies_on_the_box(tmp_path, capsys):
    main(["keys", "generate", str(tmp_path / "ops1")])
    capsys.readouterr()
    assert main(["keys", "sign", "--key", str(tmp_path / "ops1.key"), "--device", "s1/L1",
                 "--command", "detector.set_threshold", "--arg", "detector=rope_wear",
                 "--arg", "name=score", "--arg", "value=7.5"]) == 0
    raw = capsys.readouterr().out.strip().encode()
    verifier = CommandVerifier(VerifyPolicy("s1/L1"), load_trusted_keys(tmp_path / "ops1.pub"),
                               CounterStore(tmp_path / "c.json"))
    cmd = verifier.verify(raw, json.loads(raw)["counter"] / 1000)
    assert cmd.args == {"detector": "rope_wear", "name": "score", "value": 7.5}


def test_public_prints_the_trusted_keys_line(tmp_path, capsys):
    main(["keys", "generate", str(tmp_path / "ops1")])
    capsys.readouterr()
    assert main(["keys", "public", str(tmp_path / "ops1.key")]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line == (tmp_path / "ops1.pub").read_text().strip()


@pytest.mark.parametrize("argv, fragment", [
    (["--device", "s1L1", "--command", "x"], "expected SITE/LIFT"),
    (["--device", "s1/L1", "--command", "x", "--arg", "novalue"], "expected NAME=VALUE"),
    (["--device", "s1/L1", "--command", "x", "--ttl", "0"], "must be > 0"),
])
def test_bad_sign_arguments_are_one_line_errors(tmp_path, capsys, argv, fragment):
    main(["keys", "generate", str(tmp_path / "ops1")])
    capsys.readouterr()
    assert main(["keys", "sign", "--key", str(tmp_path / "ops1.key"), *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_bad_trusted_keys_line_names_file_and_line(tmp_path):
    from agent.errors import ConfigError
    (tmp_path / "trusted").write_text("# operators\ned25519 AAAA-not-base64 bob\n")
    with pytest.raises(ConfigError, match=r"trusted:2"):
        load_trusted_keys(tmp_path / "trusted")
