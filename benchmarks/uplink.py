"""Alarm delivery performance: durable commit cost, throughput and raise->PUBACK latency.

Everything runs against a real mosquitto on a free 127.0.0.1 port, with the outbox on the
machine's disk (synchronous=FULL: each alarm commit fsyncs the WAL).

1. reference: a bare SQLite INSERT+COMMIT of a same-size row, WAL + synchronous=FULL;
2. commit cost: AlarmService.raise_() (seq, alarm state and message in one transaction),
   as a ratio to the reference;
3. latency: 1000 alarms raised one at a time, each timed from raise_() to its PUBACK
   (p50/p99; goal p99 <= 50 ms);
4. sustained alarms/s: 2000 alarms raised back to back, committed and PUBACKed;
5. telemetry msgs/s: 5000 telemetry messages through the ring to PUBACK.

    python benchmarks/uplink.py [--quick]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.outbox import Bounds, Pending  # noqa: E402
from agent.uplink import UplinkSettings  # noqa: E402
from agent.uplink.pipeline import AlarmPipeline  # noqa: E402
from tests.support.mosquitto import Mosquitto  # noqa: E402

EVIDENCE = {"speed_mps": 2.31, "rated_mps": 1.75, "ratio": 1.32, "floor": 7,
            "note": "x" * 200}


def bare_insert_s(directory: Path, n: int, size: int) -> float:
    conn = sqlite3.connect(directory / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t(row INTEGER PRIMARY KEY, payload BLOB)")
    payload = b"x" * size
    t0 = time.perf_counter()
    for _ in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t(payload) VALUES (?)", (payload,))
        conn.execute("COMMIT")
    dt = time.perf_counter() - t0
    conn.close()
    return dt / n


class Deliveries:
    """Records when each message id was PUBACKed (uplink thread) and lets us wait for it."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.count = 0
        self.cond = threading.Condition()

    def __call__(self, p: Pending) -> None:
        with self.cond:
            self.at[p.msg_id] = time.perf_counter()
            self.count += 1
            self.cond.notify_all()

    def wait_count(self, n: int, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.count < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"only {self.count} of {n} delivered")
                self.cond.wait(left)

    def wait_id(self, msg_id: str) -> float:
        with self.cond:
            while msg_id not in self.at:
                if not self.cond.wait(30):
                    raise TimeoutError(f"{msg_id} not delivered")
            return self.at[msg_id]


def pipeline(directory: Path, broker: Mosquitto, name: str) -> AlarmPipeline:
    d = directory / name
    d.mkdir()
    settings = UplinkSettings(site="bench", lift="L1", host=broker.host, port=broker.port,
                              tls=False, inflight=100, heartbeat_s=3600)
    return AlarmPipeline(settings, outbox_path=d / "outbox.db",
                         bounds=Bounds(max_bytes=256 << 20, telemetry_max_rows=1_000_000),
                         counter_path=d / "c.json", trail_path=d / "trail.jsonl",
                         trusted_keys=None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer messages (smoke run)")
    args = ap.parse_args()
    n_lat, n_burst, n_tel = (200, 400, 1000) if args.quick else (1000, 2000, 5000)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        broker = Mosquitto(directory / "mosquitto").start()
        try:
            return run(directory, broker, n_lat, n_burst, n_tel)
        finally:
            broker.stop()


def run(directory: Path, broker: Mosquitto, n_lat: int, n_burst: int, n_tel: int) -> int:
    # 1 + 2: commit cost against the bare insert, no broker involved.
    offline = pipeline(directory, broker, "commit")
    sample = offline.alarms.raise_("overspeed", "warmup", "critical", EVIDENCE)
    size = len(offline.outbox.pending("durable", 0, 1)[0].payload)
    ref_s = bare_insert_s(directory, 500, size)
    t0 = time.perf_counter()
    for i in range(500):
        offline.alarms.raise_("overspeed", f"c{i}", "critical", EVIDENCE)
    commit_s = (time.perf_counter() - t0) / 500
    offline.outbox.close()
    del sample
    print(f"bare SQLite INSERT+COMMIT (WAL, FULL), {size} B: {ref_s * 1e3:.3f} ms")
    print(f"AlarmService.raise_ commit: {commit_s * 1e3:.3f} ms "
          f"({commit_s / ref_s:.2f}x the bare insert)")

    # 3: latency, one alarm at a time.
    p = pipeline(directory, broker, "latency")
    deliveries = Deliveries()
    p.uplink.on_delivered = deliveries
    p.start()
    if not p.uplink.wait_online(10):
        raise RuntimeError("uplink did not connect")
    lat = []
    for i in range(n_lat):
        t0 = time.perf_counter()
        a = p.alarms.raise_("overspeed", f"l{i}", "critical", EVIDENCE)
        lat.append(deliveries.wait_id(a.msg_id) - t0)
    lat_ms = sorted(x * 1e3 for x in lat)
    p50 = statistics.median(lat_ms)
    p99 = lat_ms[min(len(lat_ms) - 1, int(0.99 * len(lat_ms)))]
    print(f"raise->PUBACK over {n_lat} alarms: p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
          f"max {lat_ms[-1]:.2f} ms (goal p99 <= 50 ms)")

    # 4: sustained alarms, back to back.
    base = deliveries.count
    t0 = time.perf_counter()
    for i in range(n_burst):
        p.alarms.raise_("door_fault", f"b{i}", "warning", EVIDENCE)
    committed_s = time.perf_counter() - t0
    deliveries.wait_count(base + n_burst)
    burst_s = time.perf_counter() - t0
    alarms_per_s = n_burst / burst_s
    print(f"{n_burst} alarms committed in {committed_s:.2f} s, all PUBACKed after "
          f"{burst_s:.2f} s: {alarms_per_s:.0f} alarms/s")

    # 5: telemetry through the ring.
    base = deliveries.count
    t0 = time.perf_counter()
    for i in range(n_tel):
        p.publish_telemetry("controller", {"speed_mps": 1.75, "current_a": 12.5, "i": i})
    deliveries.wait_count(base + n_tel)
    tel_s = time.perf_counter() - t0
    tel_per_s = n_tel / tel_s
    print(f"{n_tel} telemetry messages PUBACKed in {tel_s:.2f} s: {tel_per_s:.0f} msgs/s "
          f"(dropped {p.outbox.stats().telemetry_dropped})")
    p.stop()
    print(f"summary: alarms_per_s={alarms_per_s:.0f} telemetry_per_s={tel_per_s:.0f} "
          f"commit_ratio={commit_s / ref_s:.2f} bare_commit_ms={ref_s * 1e3:.3f} "
          f"latency_p50_ms={p50:.2f} latency_p99_ms={p99:.2f} p99_goal_met={int(p99 <= 50)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
