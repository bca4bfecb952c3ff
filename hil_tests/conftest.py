"""Bench selection for the hardware-in-the-loop suite.

    pytest hil_tests                        the simulated bench (default; what CI runs)
    pytest hil_tests --bench real \\
        --controller-port /dev/ttyUSB0 \\    serial port wired to the box's RS-485 input
        --dut 192.0.2.10 \\                  the device under test (for the report)
        --broker-url mqtts://bench-broker:8883 --broker-ca ca.crt \\
        --operator-cert op.crt --operator-key op.key [--command-key ops1.key] \\
        [--site S --lift L]                  the box's [device] ids

One bench serves the whole session (starting one costs seconds); each scenario leaves it
with every fault cleared. Every message that reaches the platform is validated against its
JSON Schema (agent/schemas) and the session fails on any invalid one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hil_tests.bench import LIFT, SITE, Bench, BenchOptions, RealBench, SimulatedBench
from tests.support.schemas import validate


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("liftguard bench")
    g.addoption("--bench", choices=("sim", "real"), default="sim",
                help="sim: everything on this machine (default); real: a box on a bench")
    g.addoption("--controller-port", default="", help="real: controller emulator serial port")
    g.addoption("--dut", default="", help="real: address of the device under test")
    g.addoption("--broker-url", default="", help="real: mqtts://HOST:PORT of the bench broker")
    g.addoption("--broker-ca", default="", help="real: CA of the bench broker")
    g.addoption("--operator-cert", default="", help="real: operator client certificate")
    g.addoption("--operator-key", default="", help="real: its private key")
    g.addoption("--command-key", default="", help="real: Ed25519 key the box trusts")
    g.addoption("--site", default=SITE, help="real: the box's device.site")
    g.addoption("--lift", default=LIFT, help="real: the box's device.lift")


@pytest.fixture(scope="session")
def bench(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    o = request.config.option
    opts = BenchOptions(o.bench, o.controller_port, o.dut, o.broker_url, o.broker_ca,
                        o.operator_cert, o.operator_key, o.command_key, o.site, o.lift)
    workdir = tmp_path_factory.mktemp("bench")
    if opts.kind == "real":
        if not opts.controller_port:
            raise pytest.UsageError("--bench real needs --controller-port")
        b: Bench = RealBench(workdir, opts)
    else:
        sim_bench = SimulatedBench(workdir)
        sim_bench.learn_baseline()  # in the background while the other scenarios run
        b = sim_bench
    try:
        yield b
    finally:
        b.close()
    invalid = []
    for _, channel, body in b.platform.messages:
        try:
            validate(channel, body)
        except Exception as exc:
            invalid.append(f"{channel}: {exc}")
    assert not invalid, invalid[:5]


@pytest.fixture
def quiet_bench(bench: Bench) -> Iterator[Bench]:
    """The bench, with all faults cleared and rule alarms ended before and after the test."""
    bench.settle()
    yield bench
    bench.settle()
