"""CPU cost of draining an accelerometer FIFO in Python, per second of data.

The driver code that runs on the Pi (drivers.accel.adxl345/adxl355) drains a FIFO at 3200 /
4000 Hz through a bus that answers instantly with a full FIFO, so what is measured is the
driver's own work (command bytes, decoding, scaling, timestamps, block building). The
reference, measured in the same run, is the bare minimum any Python driver pays: the same
number of bus calls in an empty loop. spidev's own ioctl cost comes on top of both on a Pi.

    python benchmarks/accel_drain.py

Ends with `summary:` holding, per chip, microseconds of CPU per second of data and the share
of one core that is; for the ADXL345 (one bus call per sample, so the bare loop is its
floor) also the ratio to that reference. The ADXL355 reads a whole FIFO in one call, so its
cost is decoding, not calls.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.accel.adxl345 import Adxl345, Adxl345Spi  # noqa: E402
from drivers.accel.adxl355 import Adxl355, Adxl355Spi  # noqa: E402


class FullFifoBus345:
    """Answers INT_SOURCE (watermark), FIFO_STATUS (32 entries) and data reads at once."""

    def __init__(self) -> None:
        self.calls = 0

    def transfer(self, data: bytes) -> bytes:
        self.calls += 1
        cmd = data[0]
        if cmd == 0xB0:
            return b"\x00\x02"
        if cmd == 0xB9:
            return b"\x00\x20"
        return bytes(len(data))

    def close(self) -> None:
        pass


class FullFifoBus355:
    def __init__(self) -> None:
        self.calls = 0
        word = bytes([0x00, 0x10, 0x01, 0x00, 0x20, 0x00, 0x00, 0x30, 0x00])  # x marked
        self.fifo = word * 32

    def transfer(self, data: bytes) -> bytes:
        self.calls += 1
        if data[0] == 0x09:
            return b"\x00\x02\x60"  # STATUS (watermark), FIFO_ENTRIES 96
        if data[0] == 0x23:
            return b"\x00" + self.fifo[: len(data) - 1]
        return bytes(len(data))

    def close(self) -> None:
        pass


def measure(make, reads: int) -> tuple[float, int, int]:
    dev, bus = make()
    t = time.perf_counter()
    samples = 0
    for _ in range(reads):
        for b in dev.read():
            samples += b.n
    return time.perf_counter() - t, samples, bus.calls


def reference(calls: int) -> float:
    bus = FullFifoBus345()
    payload = bytes([0xF2]) + bytes(6)
    t = time.perf_counter()
    for _ in range(calls):
        bus.transfer(payload)
    return time.perf_counter() - t


def best(fn, repeat: int = 5) -> tuple[float, int, int]:
    return min((fn() for _ in range(repeat)), key=lambda r: r[0])


def main() -> int:
    clock = time.monotonic
    figures = []

    def make345() -> tuple[Adxl345, FullFifoBus345]:
        bus = FullFifoBus345()
        return Adxl345(Adxl345Spi(bus), odr_hz=3200.0, watermark=16, clock=clock), bus

    def make355() -> tuple[Adxl355, FullFifoBus355]:
        bus = FullFifoBus355()
        return Adxl355(Adxl355Spi(bus), odr_hz=4000.0, watermark=16, clock=clock), bus

    for name, make, odr in (("adxl345", make345, 3200.0), ("adxl355", make355, 4000.0)):
        t, samples, calls = best(lambda make=make: measure(make, 2000))
        ref = min(reference(calls) for _ in range(5))
        us_per_s = t / samples * odr * 1e6
        ratio = t / ref
        print(f"{name}: {samples} samples in {t * 1e3:.1f} ms over {calls} bus calls; "
              f"{us_per_s:.0f} us CPU per second of {odr:.0f} Hz data "
              f"({us_per_s / 1e4:.2f} % of a core); {ratio:.2f}x the bare bus-call loop")
        figures += [f"{name}_us_per_s={us_per_s:.0f}", f"{name}_core_pct={us_per_s / 1e4:.2f}"]
        if name == "adxl345":  # one call per sample: the bare loop is its floor
            figures.append(f"{name}_vs_bare_calls={ratio:.2f}")
    print("summary: " + " ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
