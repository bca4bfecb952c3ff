"""How close the served sim's emulated wire comes to the RS-485 wire limit, and not beyond.

For each line setting, `liftguard sim run` is started as a child process and a master in this
process reads 8 registers (FC03 at 0x1010) back to back through the controller pty for a few
seconds. The measured transactions per second are compared with the wire limit of Modbus over
Serial Line V1.02 as tabulated in REFERENCE 3: (13 + 2N) characters + 2 x t3.5 per
transaction. A ratio just under 1 means the emulator paces like the real bus (the rest is the
slave's turnaround and the master's reaction); above 1 would mean it is too fast. The same
master on the unpaced link (--no-wire-emulation) is measured as the reference for what the
ptys, the relay and pymodbus cost on their own.

Prints one line per setting and ends with `summary: ...`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import serial

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drivers.sim.master import RegisterProbe  # noqa: E402
from drivers.sim.wire import LineSettings  # noqa: E402

REGISTERS = 8
SECONDS = float(os.environ.get("SIM_WIRE_SECONDS", "4"))
SETTINGS = [(9600, "N"), (9600, "E"), (19200, "N"), (19200, "E"), (115200, "N")]


def start_sim(args: list[str]) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "sim", "run", "--calls", "none", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        start_new_session=True,
    )
    endpoints: dict[str, str] = {}
    assert proc.stdout is not None
    while (line := proc.stdout.readline().strip()) != "ready":
        if not line and proc.poll() is not None:
            raise SystemExit(f"sim failed: {proc.stderr.read() if proc.stderr else ''}")
        key, _, value = line.partition(": ")
        endpoints[key] = value
    return proc, endpoints


def stop_sim(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure(args: list[str], baud: int) -> tuple[float, int]:
    """Transactions per second and failed reads over SECONDS of back-to-back polling."""
    proc, endpoints = start_sim(args)
    try:
        port = serial.serial_for_url(endpoints["controller"], baudrate=baud, timeout=0.5)
        probe = RegisterProbe(port)
        for _ in range(3):  # warm-up: first reads pay for imports and page faults
            probe.read(0x1010, REGISTERS)
        done = failed = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < SECONDS:
            try:
                probe.read(0x1010, REGISTERS)
                done += 1
            except Exception:
                failed += 1
        rate = done / (time.perf_counter() - t0)
        port.close()
        return rate, failed
    finally:
        stop_sim(proc)


def main() -> None:
    summary = {}
    worst = 0.0
    for baud, parity in SETTINGS:
        line = LineSettings(baud, parity)
        limit = 1.0 / line.read_transaction_time(REGISTERS)
        rate, failed = measure(["--baud", str(baud), "--parity", parity], baud)
        ratio = rate / limit
        worst = max(worst, ratio)
        name = f"{baud}_8{parity}1"
        summary[f"ratio_{name}"] = f"{ratio:.3f}"
        print(f"{line.describe():>12}: {rate:7.1f} tps, wire limit {limit:7.1f} tps, "
              f"ratio {ratio:.3f}, failed {failed}")
    unpaced, _ = measure(["--no-wire-emulation"], 19200)
    print(f"{'unpaced':>12}: {unpaced:7.1f} tps (ptys + relay + pymodbus, no wire pacing)")
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores: a busy machine lowers the ratios "
          "(slower turnaround), never raises them above 1")
    summary["max_ratio"] = f"{worst:.3f}"
    summary["unpaced_tps"] = f"{unpaced:.0f}"
    summary["load_avg"] = f"{load:.1f}"
    print("summary: " + " ".join(f"{k}={v}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
