"""`liftguard sim` bad input: one line on stderr, a non-zero exit, nothing left running."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agent.cli import main
from tests.sim_served.conftest import ROOT


def sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", "sim", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--inject", "nope=1"], "unknown fault 'nope'"),
        (["--inject", "rope_wear=2"], "out of range"),
        (["--inject", "rope_wear"], "NAME=VALUE"),
        (["--inject", "controller_fault=99"], "not in the profile's fault table"),
        (["--baud", "12345"], "baud rate 12345"),
        (["--baud", "fast"], "invalid int value"),
        (["--parity", "X"], "parity 'X'"),
        (["--stopbits", "3"], "stop bits 3"),
        (["--set", "lift.nope=1"], "unknown parameter 'lift.nope'"),
        (["--set", "lift.rated_speed_mps=99"], "out of range"),
        (["--device-id", "0"], "--device-id 0"),
        (["--speedup", "0"], "speedup"),
        (["--config", "/nonexistent/sim.toml"], "cannot read"),
        (["--profile", "nope"], "unknown profile"),
        (["--calls", "often"], "invalid choice"),
        (["--control", "/tmp/same.sock", "--sensors", "/tmp/same.sock"], "cannot share"),
    ],
)
def test_bad_run_arguments_are_one_line_errors(capsys, args, fragment):
    try:
        code = main(["sim", "run", *args])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    assert code != 0
    assert err.count("\n") == 1, err
    assert fragment in err
    assert "ready" not in out


def test_a_bad_argument_exits_the_process_non_zero():
    result = sim("run", "--inject", "nope=1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("liftguard sim: error: unknown fault")


def test_a_busy_link_path_is_a_one_line_error(tmp_path):
    busy = tmp_path / "lift0"
    busy.write_text("someone else's")
    result = sim("run", "--link", str(busy))
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "busy" in result.stderr
    assert busy.read_text() == "someone else's"


def test_a_config_section_that_is_neither_model_nor_agent_is_rejected(tmp_path):
    cfg = tmp_path / "sim.toml"
    cfg.write_text("[lift]\nrated_speed_mps = 2.0\n[bogus]\nx = 1\n")
    result = sim("run", "--config", str(cfg))
    assert result.returncode != 0 and "unknown section [bogus]" in result.stderr


def test_a_bad_config_value_names_file_and_key(tmp_path):
    cfg = tmp_path / "sim.toml"
    cfg.write_text("[lift]\nfloors = 1\n")
    result = sim("run", "--config", str(cfg))
    assert result.returncode != 0
    assert str(cfg) in result.stderr and "lift.floors" in result.stderr


def test_control_commands_without_a_sim_say_so(tmp_path):
    result = sim("status", "--control", str(tmp_path / "none.sock"))
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "no sim is listening" in result.stderr


def test_inject_into_a_running_sim_rejects_unknown_faults(start_sim):
    running = start_sim()
    result = sim("inject", "--control", running.endpoints.control, "rope_wear=0.2", "nope=1")
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "unknown fault 'nope'" in result.stderr
    status = sim("status", "--control", running.endpoints.control, "--json")
    assert '"faults": {}' in status.stdout  # all or nothing: rope_wear was not applied


def test_sim_without_an_action_prints_help_and_exits_2():
    result = sim()
    assert result.returncode == 2 and "run" in result.stdout and "inject" in result.stdout


def test_the_fault_catalogue_lists_every_fault():
    from drivers.sim.faults import FAULTS

    result = sim("faults")
    assert result.returncode == 0
    for name in FAULTS:
        assert name in result.stdout


def test_a_socket_path_that_cannot_be_bound_is_a_one_line_error_and_cleans_up():
    result = sim("run", "--control", "/proc/liftguard-test.sock")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(
        "liftguard sim: error: control socket /proc/liftguard-test.sock")
    assert "Traceback" not in result.stderr
