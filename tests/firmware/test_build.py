"""`liftguard firmware build|deploy`: the image is complete, checked, loads in MicroPython,
and every bad input is a one-line error."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.cli import main
from agent.commands.signing import public_line
from agent.errors import InputError
from agent.firmware_build import check_sources, compact_profile
from agent.firmware_cli import deploy_commands
from drivers.controller.profile import load_profile
from tests.firmware.mpy import FIRMWARE, result


def _config(tmp_path: Path, pki, **firmware) -> Path:
    pw = tmp_path / "wifi.pw"
    pw.write_text("s3cret\n")
    pw.chmod(0o600)
    keys = tmp_path / "operators.pub"
    keys.write_text(public_line(Ed25519PrivateKey.generate().public_key(), "ops") + "\n")
    ident = pki.clients["s1.L1"]
    fw = {"wifi_ssid": "machine-room", "wifi_password_file": str(pw), **firmware}
    lines = ['[device]\nsite = "s1"\nlift = "L1"\n',
             f'[mqtt]\nhost = "127.0.0.1"\nca_file = "{pki.ca_cert}"\n'
             f'cert_file = "{ident.cert}"\nkey_file = "{ident.key}"\n',
             f'[commands]\ntrusted_keys = "{keys}"\n',
             "[firmware]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in fw.items())]
    path = tmp_path / "box.toml"
    path.write_text("\n".join(lines))
    return path


@pytest.fixture
def built(tmp_path, test_pki):
    cfg = _config(tmp_path, test_pki)
    out = tmp_path / "image"
    assert main(["firmware", "build", "--config", str(cfg), "-o", str(out)]) == 0
    return out


def test_image_holds_every_module_compiled_and_the_converted_files(built):
    modules = {p.stem for p in (FIRMWARE / "lg").glob("*.py")}
    assert {p.stem for p in (built / "lib" / "lg").glob("*.mpy")} == modules
    for name in ("main.py", "profile.json", "faults.json", "config.json", "ca.der", "cert.der",
                 "key.der", "wifi.key", "MANIFEST.json"):
        assert (built / name).is_file(), name
    manifest = json.loads((built / "MANIFEST.json").read_text())
    for name, digest in manifest.items():
        assert hashlib.sha256((built / name).read_bytes()).hexdigest() == digest


def test_secrets_in_the_image_are_readable_by_the_owner_only(built):
    for name in ("key.der", "wifi.key"):
        assert stat.S_IMODE((built / name).stat().st_mode) == 0o600


def test_board_config_passes_the_boards_own_validation_in_micropython(built, tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    shutil.copy(built / "config.json", flash)
    shutil.copy(built / "profile.json", flash)
    got = result("""
import json
from lg.settings import check_config, load_json
from lg.registers import check_profile
from lg.commands import parse_public_line, key_id
cfg = check_config(load_json('config.json'))
p = check_profile(load_json('profile.json'))
keys = [key_id(parse_public_line(k)) for k in cfg['commands']['trusted_keys']]
print(json.dumps([cfg['device'], cfg['mqtt']['tls'], len(keys), p['plan'], p['faults_file']]))
""", flash=flash)
    device, tls, nkeys, plan, faults = got
    assert device == {"site": "s1", "lift": "L1"} and tls is True and nkeys == 1
    assert plan == [[0x1010, 17], [0x3000, 1], [0x8000, 1]] and faults == "faults.json"


def test_the_pis_severity_noise_and_period_settings_reach_the_board(tmp_path, test_pki):
    cfg = _config(tmp_path, test_pki)
    text = cfg.read_text().replace(
        "[mqtt]\n", "[mqtt]\nheartbeat_s = 30.0\n")
    cfg.write_text(text + "\n[detectors]\nrelease = 0.6\nclear_count = 5\ntrend_alpha = 0.5\n"
                   "noise_running_dba = 72.0\nnoise_rest_dba = 55.0\n"
                   "\n[runtime]\nstate_period_s = 20.0\n")
    out = tmp_path / "image"
    assert main(["firmware", "build", "--config", str(cfg), "-o", str(out)]) == 0
    flash = tmp_path / "flash"
    flash.mkdir()
    shutil.copy(out / "config.json", flash)
    got = result("""
import json
from lg.settings import check_config, load_json
cfg = check_config(load_json('config.json'))
print(json.dumps([cfg['detectors'], cfg['mqtt']['heartbeat_s'], cfg['state_s']]))
""", flash=flash)
    detectors, heartbeat, state = got
    assert {k: detectors[k] for k in ("release", "clear_count", "trend_alpha",
                                      "noise_running_dba", "noise_rest_dba")} == {
        "release": 0.6, "clear_count": 5, "trend_alpha": 0.5, "noise_running_dba": 72.0,
        "noise_rest_dba": 55.0}
    assert heartbeat == 30.0 and state == 20.0


def test_portable_bytecode_image_imports_in_micropython(tmp_path, test_pki):
    out = tmp_path / "image"
    main(["firmware", "build", "--config", str(_config(tmp_path, test_pki)), "-o", str(out),
          "--board", "none"])
    got = result("""
import json
import lg.box, lg.uplink, lg.commands, lg.features, lg.events
print(json.dumps(lg.box.__file__))
""", libs=(out / "lib",))
    assert got.endswith(".mpy")


PROFILE = load_profile("nice3000plus")
WORDS = st.dictionaries(st.sampled_from(sorted({a for f in PROFILE.fields
                                                 for a in range(f.address, f.address + f.words)})),
                        st.integers(0, 0xFFFF))


@settings(max_examples=200, deadline=None)
@given(WORDS)
def test_compact_profile_decodes_exactly_as_the_pi_profile(regs):
    import sys

    sys.path.insert(0, str(FIRMWARE))
    try:
        from lg.registers import decode
    finally:
        sys.path.remove(str(FIRMWARE))
    assert decode(compact_profile(PROFILE, 1), regs) == PROFILE.decode(regs)


@pytest.mark.parametrize(
    ("source", "message"),
    [("import typing\n", "imports 'typing'"), ("import dataclasses\n", "imports 'dataclasses'"),
     ("def f(:\n", "lg/bad.py:1")],
)
def test_sources_that_cannot_run_on_the_board_fail_the_build_naming_the_line(tmp_path, source,
                                                                             message):
    root = tmp_path / "fw"
    shutil.copytree(FIRMWARE, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "lg" / "bad.py").write_text(source)
    with pytest.raises(InputError, match=message):
        check_sources(root)


def test_missing_wifi_ssid_is_a_one_line_error_naming_the_key(tmp_path, test_pki, capsys):
    cfg = _config(tmp_path, test_pki, wifi_ssid="")
    assert main(["firmware", "build", "--config", str(cfg), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "firmware.wifi_ssid" in err and "\n" not in err
    assert not (tmp_path / "o").exists()


def test_world_readable_wifi_password_is_refused(tmp_path, test_pki, capsys):
    cfg = _config(tmp_path, test_pki)
    os.chmod(tmp_path / "wifi.pw", 0o644)
    assert main(["firmware", "build", "--config", str(cfg), "-o", str(tmp_path / "o")]) != 0
    assert "wifi_password_file" in capsys.readouterr().err


def test_deploy_without_a_built_image_is_a_one_line_error(tmp_path, capsys):
    code = main(["firmware", "deploy", "--port", "/dev/ttyUSB9", "--dir", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "no built image" in err and "\n" not in err


def test_deploy_to_a_port_that_does_not_exist_fails_cleanly(built, capsys):
    code = main(["firmware", "deploy", "--port", "/dev/ttyUSB-none", "--dir", str(built)])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "\n" not in err and "Traceback" not in err


def test_deploy_copies_every_file_of_the_image_then_resets(built):
    cmds = deploy_commands(built, "/dev/ttyUSB0")
    assert all(c[1:3] == ["connect", "/dev/ttyUSB0"] for c in cmds)
    copy = next(c for c in cmds if "cp" in c)
    copied = {a[1:] for a in copy if a.startswith(":")}
    manifest = json.loads((built / "MANIFEST.json").read_text())
    assert set(manifest) | {"MANIFEST.json"} == copied
    assert cmds[-1][-1] == "reset"
