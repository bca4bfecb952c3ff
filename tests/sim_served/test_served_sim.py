"""`liftguard sim run` as a subprocess, seen from outside: mbpoll and our probe master on the
controller pty, the control socket, the sensor socket. Every sim is stopped by PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import serial

from drivers.blocks import BlockDecoder
from drivers.sim.control import send
from drivers.sim.master import BadFrame, CrcMismatch, NoResponse, ProbeError, RegisterProbe
from drivers.sim.wire import LineSettings
from tests.sim_served.conftest import ROOT, child_pids
from tests.sim_served.mbpoll import mbpoll, needs_mbpoll

pytestmark = needs_mbpoll

SPEED, RATED_SPEED, SYSTEM_STATUS, FAULT = 0x1010, 0x1011, 0x101D, 0x8000


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", "sim", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


_open_ports: list[serial.Serial] = []


@pytest.fixture(autouse=True)
def _close_ports():
    yield
    while _open_ports:
        _open_ports.pop().close()


def probe(port: str, baud: int = 19200, timeout: float = 0.3) -> RegisterProbe:
    _open_ports.append(serial.serial_for_url(port, baudrate=baud))
    return RegisterProbe(_open_ports[-1], timeout=timeout)


def test_mbpoll_reads_the_configured_rated_speed(start_sim):
    sim = start_sim(settings=["lift.rated_speed_mps=2.5"])
    poll = mbpoll(sim.controller, RATED_SPEED)
    assert poll.returncode == 0, poll.stderr
    assert poll.values == [2500]


def test_mbpoll_sees_running_speed_rise_and_fall_through_a_trip(start_sim):
    sim = start_sim()
    send(sim.endpoints.control, {"cmd": "call", "floor": 3})
    speeds: list[int] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        poll = mbpoll(sim.controller, SPEED)
        assert poll.returncode == 0, poll.stderr
        speeds += poll.values
        if max(speeds) > 0 and speeds[-1] == 0:
            break
    peak = speeds.index(max(speeds))
    assert max(speeds) > 1000  # mm/s: a two-floor trip gets well into its cruise
    assert max(speeds) <= 1750 * 1.01  # never beyond the rated speed
    assert speeds[0] == 0 and speeds[-1] == 0
    assert any(0 < s < max(speeds) for s in speeds[:peak])  # seen rising...
    assert any(0 < s < max(speeds) for s in speeds[peak:])  # ...and falling


@pytest.mark.parametrize(("baud", "parity"), [(9600, "N"), (9600, "E"), (19200, "N"),
                                              (19200, "E")])
def test_the_wire_paces_transactions_near_but_not_above_the_wire_limit(start_sim, baud, parity):
    # A sanity bound only; benchmarks/sim_wire.py measures the ratio precisely.
    sim = start_sim(baud=baud, parity=parity)
    master = probe(sim.controller, baud)
    master.read(SPEED, 8)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 1.0:
        master.read(SPEED, 8)
        n += 1
    per_transaction = (time.perf_counter() - t0) / n
    limit = LineSettings(baud, parity).read_transaction_time(8)
    assert limit * 0.98 <= per_transaction < limit * 3


def test_an_injected_controller_fault_shows_in_the_registers(start_sim):
    sim = start_sim()
    assert mbpoll(sim.controller, FAULT).values == [0]
    result = cli("inject", "--control", sim.endpoints.control, "controller_fault=14")
    assert result.returncode == 0, result.stderr
    assert mbpoll(sim.controller, FAULT).values == [14]
    (status,) = mbpoll(sim.controller, SYSTEM_STATUS).values
    assert (status >> 4) & 0xF == 5  # mode: fault (REFERENCE 2, 0x101D bits 4-7)


def test_an_unplugged_controller_is_silent_until_cleared(start_sim):
    sim = start_sim()
    control = sim.endpoints.control
    assert cli("inject", "--control", control, "controller_unplugged=1").returncode == 0
    with pytest.raises(NoResponse):
        probe(sim.controller).read(RATED_SPEED, 1)
    poll = mbpoll(sim.controller, RATED_SPEED, timeout=0.3)
    assert poll.returncode != 0 and "timed out" in poll.stderr
    assert cli("clear", "--control", control, "controller_unplugged").returncode == 0
    assert mbpoll(sim.controller, RATED_SPEED).values == [1750]


def test_bus_noise_shows_as_crc_errors_and_garbage_until_cleared(start_sim):
    sim = start_sim(seed=3)
    assert cli("inject", "--control", sim.endpoints.control, "bus_noise=0.5").returncode == 0
    master = probe(sim.controller, timeout=0.2)
    seen: set[str] = set()
    for _ in range(200):
        try:
            master.read(SPEED, 8)
            seen.add("ok")
        except (CrcMismatch, BadFrame) as exc:
            seen.add(type(exc).__name__)
        except ProbeError:
            seen.add("other")
        if "ok" in seen and seen & {"CrcMismatch", "BadFrame"}:
            break
    assert "ok" in seen and seen & {"CrcMismatch", "BadFrame"}, seen
    assert cli("clear", "--control", sim.endpoints.control, "bus_noise").returncode == 0
    results = []
    for _ in range(5):  # a garbled frame may still sit in a receive buffer once
        try:
            master.read(SPEED, 8)
            results.append(True)
        except ProbeError:
            results.append(False)
    assert results[-3:] == [True, True, True]


def test_sensor_socket_streams_accel_and_audio_blocks(start_sim):
    sim = start_sim()
    decoder = BlockDecoder()
    blocks = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(sim.endpoints.sensors)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            blocks += decoder.feed(s.recv(65536))
    accel = [b for b in blocks if b.stream == "accel"]
    audio = [b for b in blocks if b.stream == "audio"]
    assert accel and audio
    assert accel[0].fs == 3200 and accel[0].channels == ("x", "y", "z")
    assert audio[0].fs == 16000 and audio[0].channels == ("p",)
    seqs = [b.seq for b in accel]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert abs(accel[-1].t0 - time.time()) < 5  # epoch-based timestamps


def test_status_reports_the_car_and_the_line(start_sim):
    sim = start_sim(baud=9600, parity="E")
    result = cli("status", "--control", sim.endpoints.control, "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["floor"] == 1 and status["door"] == "closed"
    assert status["served"]["line"] == "9600 8E1"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_sim_cleanly_with_no_socat_left(start_sim, sig):
    sim = start_sim()
    link = sim.endpoints.link
    assert os.path.realpath(link) == sim.controller
    pid = sim.proc.pid
    socats = child_pids(pid, "socat")
    assert len(socats) == 2
    assert sim.stop(sig) == 0
    for child in socats:
        with pytest.raises(ProcessLookupError):
            os.kill(child, 0)
    assert not os.path.lexists(link)
    assert not os.path.exists(sim.endpoints.control)
    assert not os.path.exists(sim.endpoints.sensors)
    assert not child_pids(pid, "socat")


def test_a_dead_socat_stops_the_sim_with_a_one_line_error(start_sim):
    sim = start_sim()
    first, second = child_pids(sim.proc.pid, "socat")
    os.kill(first, signal.SIGTERM)  # a socat of the sim this test started
    assert sim.proc.wait(10) != 0
    last = sim.proc.stderr.read().strip().splitlines()[-1]
    assert last.startswith("liftguard sim: error: socat") and "exited" in last
    with pytest.raises(ProcessLookupError):
        os.kill(second, 0)


def test_without_wire_emulation_the_link_is_not_paced(start_sim):
    sim = start_sim(baud=9600, wire_emulation=False)
    master = probe(sim.controller, 9600)
    master.read(SPEED, 8)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.5:
        master.read(SPEED, 8)
        n += 1
    assert (time.perf_counter() - t0) / n < LineSettings(9600).read_transaction_time(8)


def test_after_power_loss_the_controller_goes_silent_once_its_dc_bus_has_decayed(start_sim):
    sim = start_sim()
    master = probe(sim.controller, timeout=0.2)
    assert cli("inject", "--control", sim.endpoints.control, "power_loss=1").returncode == 0
    buses = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            buses.append(master.read(0x1012, 1)[0] / 10)  # DC bus voltage, 0.1 V
        except NoResponse:
            break
    else:
        pytest.fail("the controller kept answering without mains")
    assert buses[-1] < buses[0] - 100  # it decayed before the supply dropped out
    assert cli("clear", "--control", sim.endpoints.control, "power_loss").returncode == 0
    time.sleep(0.5)
    assert master.read(RATED_SPEED, 1) == [1750]


def test_a_bad_control_request_is_answered_and_the_connection_stays_usable(start_sim):
    sim = start_sim()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(sim.endpoints.control)
        s.sendall(b'{"cmd": "inject", "faults": {"rope_wear": 7}}\nnot json\n{"cmd": "status"}\n')
        data = b""
        while data.count(b"\n") < 3:
            data += s.recv(65536)
    replies = [json.loads(line) for line in data.splitlines()]
    assert replies[0] == {"ok": False, "error": "fault rope_wear: level 7 is out of range 0..1"}
    assert replies[1] == {"ok": False, "error": "request is not valid JSON"}
    assert replies[2]["ok"] and replies[2]["status"]["faults"] == {}
