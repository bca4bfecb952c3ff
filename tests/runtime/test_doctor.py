"""`liftguard doctor`: one line per check, a fix hint for each problem, exit 1 on a failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agent import config, doctor
from tests.support.mosquitto import free_port

ROOT = Path(__file__).resolve().parents[2]


def cfg_for(tmp_path: Path, **sections: dict) -> config.Config:
    data = {"device": {"site": "t", "lift": "L1"},
            "mqtt": {"tls": False, "port": free_port()},
            "storage": {"outbox_path": str(tmp_path / "data" / "outbox.db")},
            "accel": {"backend": "none"}, "noise": {"backend": "none"}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return config.from_dict(data, base_dir=tmp_path)


def test_missing_port_fails_with_how_to_enable_the_uart(tmp_path):
    [c] = doctor.check_port(cfg_for(tmp_path, controller={"port": str(tmp_path / "ttyAMA0")}))
    assert c.status == "FAIL" and "does not exist" in c.found and "enable_uart" in c.fix


def test_url_port_needs_no_device_file(tmp_path):
    [c] = doctor.check_port(cfg_for(tmp_path, controller={"port": "loop://"}))
    assert c.status == "ok"


def test_silent_controller_fails_with_wiring_and_settings_hints(tmp_path):
    # loop:// hears our own request back: never a valid response from the controller
    [c] = doctor.check_controller(cfg_for(tmp_path, controller={
        "port": "loop://", "parity": "N", "timeout_s": 0.05, "retries": 0}))
    assert c.status == "FAIL" and "no answer with profile nice3000plus" in c.found
    assert "liftguard controller probe" in c.fix


def test_unreachable_broker_fails(tmp_path):
    [c] = doctor.check_broker(cfg_for(tmp_path))
    assert c.status == "FAIL" and "cannot reach 127.0.0.1" in c.found


def test_missing_data_folder_fails_with_the_command_that_creates_it(tmp_path):
    [c] = doctor.check_disk(cfg_for(tmp_path))
    assert c.status == "FAIL" and "install -d" in c.fix


def test_data_folder_with_space_is_ok(tmp_path):
    (tmp_path / "data").mkdir()
    [c] = doctor.check_disk(cfg_for(tmp_path))
    assert c.status == "ok" and "MiB free" in c.found


def test_sensors_not_fitted_are_ok(tmp_path):
    assert [c.status for c in doctor.check_sensors(cfg_for(tmp_path))] == ["ok", "ok"]


def test_cli_prints_one_line_per_check_and_exits_1_on_a_failure(tmp_path):
    (tmp_path / "data").mkdir()
    toml = tmp_path / "box.toml"
    toml.write_text(f'[device]\nsite = "t"\nlift = "L1"\n[controller]\nport = "loop://"\n'
                    f'parity = "N"\ntimeout_s = 0.05\nretries = 0\n'
                    f'[accel]\nbackend = "none"\n[noise]\nbackend = "none"\n'
                    f'[mqtt]\ntls = false\nport = {free_port()}\n'
                    f'[storage]\noutbox_path = "{tmp_path / "data" / "o.db"}"\n')
    r = subprocess.run([sys.executable, "-m", "agent.cli", "doctor", "--config", str(toml)],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    names = [line.split()[1] for line in r.stdout.splitlines()]
    assert names == ["config", "port", "controller", "accel", "noise", "broker", "clock",
                     "disk"]
    assert "Traceback" not in r.stderr


def test_broker_certificate_from_another_ca_is_named(tmp_path, tls_broker, test_pki):
    other = tmp_path / "other-ca"
    from tests.support.pki import make_pki

    wrong = make_pki(other, ["s1.L1"])
    [c] = doctor.check_broker(cfg_for(tmp_path, device={"site": "s1", "lift": "L1"}, mqtt={
        "tls": True, "port": tls_broker.port, "ca_file": str(wrong.ca_cert),
        "cert_file": str(test_pki.clients["s1.L1"].cert),
        "key_file": str(test_pki.clients["s1.L1"].key)}))
    assert c.status == "FAIL" and "certificate" in c.found


def test_broker_with_the_right_tls_files_is_ok(tmp_path, tls_broker, test_pki):
    [c] = doctor.check_broker(cfg_for(tmp_path, device={"site": "s1", "lift": "L1"}, mqtt={
        "tls": True, "port": tls_broker.port, "ca_file": str(test_pki.ca_cert),
        "cert_file": str(test_pki.clients["s1.L1"].cert),
        "key_file": str(test_pki.clients["s1.L1"].key)}))
    assert c.status == "ok" and "TLS handshake ok" in c.found
