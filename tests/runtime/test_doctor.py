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


def replay_files(tmp_path: Path, start_t: float = 0.0) -> tuple[Path, Path]:
    """A 3-row controller trace and a 2 s accel session recording beside it."""
    import numpy as np

    from drivers.replay.recording import Sidecar, write_recording

    trace = tmp_path / "controller.csv"
    trace.write_text("t,speed_mps\n0.0,0\n1.0,0.5\n2.0,0\n")
    side = Sidecar("accel", "m/s^2", 1.0, ("x", "y", "z"), "z", None, {}, start_t,
                   "controller.csv")
    wav = write_recording(tmp_path / "session_accel.wav", np.zeros((800, 3)), 400, side)
    return trace, wav


def test_replayed_controller_needs_no_port_and_its_trace_is_checked(tmp_path):
    trace, wav = replay_files(tmp_path)
    cfg = cfg_for(tmp_path, controller={"backend": "replay", "replay_file": str(trace),
                                        "port": str(tmp_path / "ttyAMA0")},
                  accel={"backend": "replay", "replay_file": str(wav)})
    [port] = doctor.check_port(cfg)
    assert port.status == "ok" and "replay" in port.found
    [c] = doctor.check_controller(cfg)
    assert c.status == "ok" and "3 rows over 2 s" in c.found
    accel, noise = doctor.check_sensors(cfg)
    assert accel.status == "ok" and "2.0 s at 400 Hz" in accel.found and noise.status == "ok"


def test_replayed_controller_trace_that_does_not_parse_fails_naming_the_line(tmp_path):
    bad = tmp_path / "controller.csv"
    bad.write_text("t,speed_mps\n0.0,0\n1.0,fast\n")
    [c] = doctor.check_controller(cfg_for(tmp_path, controller={
        "backend": "replay", "replay_file": str(bad)}))
    assert c.status == "FAIL" and f"{bad}:3: column 'speed_mps'" in c.found


def test_replayed_controller_trace_that_is_missing_fails(tmp_path):
    [c] = doctor.check_controller(cfg_for(tmp_path, controller={
        "backend": "replay", "replay_file": str(tmp_path / "nope.csv")}))
    assert c.status == "FAIL" and "nope.csv: cannot read" in c.found


def test_session_recording_outside_the_trace_fails_naming_start_t(tmp_path):
    trace, wav = replay_files(tmp_path, start_t=100.0)
    [c] = doctor.check_controller(cfg_for(
        tmp_path, controller={"backend": "replay", "replay_file": str(trace)},
        accel={"backend": "replay", "replay_file": str(wav)}))
    assert c.status == "FAIL" and "session_accel.json: start_t = 100.0" in c.found
    assert "does not overlap" in c.found and "start_t" in c.fix
