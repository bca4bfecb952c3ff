"""ESP32 firmware figures, measured in real MicroPython (the WebAssembly port under node).

1. Heap of the steady-state loop: the whole box (controller polls over the fake RS-485 slave,
   ADXL345 FIFO drains, 1024-point FFT Welch segments and features, rules, outbox, MQTT
   uplink to an in-memory broker) runs turn by turn, each turn a top-level call: the wasm port
   collects garbage only between top-level calls, as the board's GC reclaims garbage within
   a turn. Figures: `firmware heap` = what releasing the firmware's objects group by group
   frees after the run (its buffers, state and module objects: the heap the firmware itself
   holds); `firmware peak` = that + the most any single unit allocated with no collection at
   all (garbage included, so an upper bound); `live` and `peak_bound` = the same for the
   whole heap, test harness and interpreter base included.
   The modules are the build's bytecode (.mpy, `liftguard firmware build --board none`) in a
   ROMFS image, so their code is outside the heap as on a board deployed with ROMFS; the
   test fakes (fake machine, ADXL345 model, in-memory broker) run in the same heap and are
   counted in it.
2. Time of a 1024-point real FFT in MicroPython, pure Python (float, and the integer
   block-floating-point one the loop uses without ulab) and with ulab, against the same pure
   code under CPython and numpy.fft.rfft measured in the same run.
3. Ed25519 verification of a signed command in MicroPython, against the same pure code under
   CPython and `cryptography` (OpenSSL).

Figures are for the wasm port on this machine, not an ESP32: the heap figures carry over
(32-bit objects like the ESP32's), the times scale with the CPU (see the ratios).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from agent import config  # noqa: E402
from agent.firmware_build import build  # noqa: E402
from tests.firmware.box_scenario import SCRIPT, prepare  # noqa: E402
from tests.firmware.mpy import FAKES, FIRMWARE, result, run_mpy  # noqa: E402

GOAL_KIB = 96
UNITS = 2600  # about 6.5 s of 10 ms turns: a full 8-frame segment of 1024 samples at 1600 Hz

# Phase 1, UNITS calls: one unit of the loop per top-level call (Box.work() yields between
# units: a poll, a FIFO drain, one channel's FFT, the features, telemetry, the uplink); only
# running maxima are kept (a list of every figure would itself grow the heap).
# Phase 2: the firmware's objects are released one group per call; what each call frees is
# that group's live heap, and their sum is the firmware's own heap (buffers, state, module
# objects) without the test harness and the interpreter's base.
RELEASE = [
    "_it = None",  # a generator stopped inside Box.work() holds the box: let it go first
    "box.welch = None", "box.xyz = None", "box.engine = None",
    "box.profile = None\nprofile = None", "box.cfg = None\ncfg = None",
    "uplink.client = None", "box.uplink = None\nuplink = None",
    "box.outbox = None\nalarms.outbox = None\noutbox = None",
    "box.master = None\nmaster = None", "box.features = None\nbox.readings = None",
    "box.mic = None\nmic = None", "box.accel = None\naccel = None",
    "box = None\nalarms = None",
    "import sys\nfor _m in [k for k in sys.modules if k.startswith('lg')]:\n"
    "    del sys.modules[_m]\nfor _g in ['ADXL345', 'AlarmBook', 'Box', 'RtuMaster', "
    "'with_crc', 'Outbox', 'check_profile', 'check_config', 'load_json', 'Uplink', "
    "'Microphone']:\n"
    "    globals().pop(_g, None)",
]
TURN = """
gc.collect()
_a0 = gc.mem_alloc()
if _n[0] < UNITS:
    _n[0] += 1
    if _it is None:
        clock.advance_ms(10)
        model.produce(clock.us * ODR // 1000000 - model.t)
        _it = box.work()
    try:
        _u = next(_it)
    except StopIteration:
        _u = 'end'
        _it = None
    _a1 = gc.mem_alloc() - _a0
    if _a0 > _mx[0]:
        _mx[0] = _a0
    if _a1 > _mx[1]:
        _mx[1] = _a1
    if _a0 + _a1 > _mx[2]:
        _mx[2] = _a0 + _a1
        _mx[3] = _u
    if _u == 'fft' and _a1 > _mx[4]:
        _mx[4] = _a1
    if _a1 > _by.get(_u, 0):
        _by[_u] = _a1
    if _n[0] == UNITS:
        _report = {'max': _mx, 'by_unit': _by, 'segments': box.stats['segments'],
                   'polls': box.stats['polls'],
                   'features': sorted(box.features)}
else:
    if _rel_prev[0]:
        _freed[0] += _rel_prev[0] - _a0
    _rel_prev[0] = _a0
    if _release:
        exec(_release.pop(0), globals())
"""
# The test fakes alone (their modules and objects, no firmware), in a fresh MicroPython:
# subtracted from the heap figures.
HARNESS_STEP = (
    "import machine\n"
    "from fake_clock import FakeClock\n"
    "from adxl345_model import ADXL345Model\n"
    "from memory_broker import MemoryBroker\n"
    "_hx = [FakeClock(), MemoryBroker(), ADXL345Model(lambda i: (0, 0, 256)),\n"
    "       machine.UART(1, baudrate=115200), machine.SPI(2), machine.Pin(4),\n"
    "       machine.Pin(5), machine.WDT(timeout=8000), {a: a for a in range(17)}]\n"
    "_hx[1].keep = 4\n"
)
HARNESS_SETUP = "import gc, json\n_p = [0]\n_steps = [" + repr(HARNESS_STEP) + "]\n"
HARNESS_TURN = """
gc.collect()
if _steps:
    _p[0] = gc.mem_alloc()
    exec(_steps.pop(0), globals())
else:
    print(json.dumps(gc.mem_alloc() - _p[0]))
"""
FINAL = """
_report['own'] = _freed[0]
print(json.dumps(_report))
"""


def romfs(tmp: Path) -> Path:
    """The build's bytecode (lib/lg/*.mpy) plus the test fakes in one ROMFS image, as
    `mpremote romfs deploy` puts it on a board: code runs in place, outside the heap."""
    cfg = config.from_dict({"device": {"site": "s1", "lift": "L1"},
                            "mqtt": {"tls": False, "port": 1883},
                            "firmware": {"wifi_ssid": "bench"}})
    out = tmp / "image"
    build(cfg, out, board="none")
    stage = tmp / "rom"
    shutil.copytree(out / "lib", stage / "lib")
    for f in FAKES.glob("*.py"):
        shutil.copy(f, stage / f.name)
    img = tmp / "romfs.img"
    mpremote = str(Path(sys.executable).parent / "mpremote")
    subprocess.run([mpremote, "romfs", "-o", str(img), "build", str(stage)], check=True,
                   capture_output=True)
    return img


def heap(tmp: Path, rom: Path, ulab: bool) -> dict:
    flash = tmp / f"flash-{ulab}"
    prepare(flash)
    warm = (f"USE_ULAB = {ulab}\n" + SCRIPT + "\nmachine.HISTORY = 4\nbroker.keep = 4\n"
            "run(1.0)\n_mx = [0, 0, 0, '', 0]\n_it = None\n"
            "_by = {u: 0 for u in ('poll', 'drain', 'fft', 'features', 'resend', 'sound', "
            "'telemetry', 'state', 'heartbeat', 'uplink', 'end')}\n"
            f"UNITS = {UNITS}\n_n = [0]\n_release = {RELEASE!r}\n_rel_prev = [0]\n_freed = [0]\n")
    out = run_mpy(warm, flash=flash, ulab=ulab, turn=TURN, turns=UNITS + len(RELEASE) + 1,
                  final=FINAL, libs=(), romfs=rom, timeout=900)
    r = json.loads(out.strip().splitlines()[-1])
    live, unit, peak, worst, fft = r["max"]
    harness = json.loads(run_mpy(HARNESS_SETUP, ulab=ulab, turn=HARNESS_TURN, turns=2,
                                 libs=(), romfs=rom).strip().splitlines()[-1])
    live -= harness
    peak -= harness
    own = r["own"]
    return {"live_kib": live / 1024, "unit_alloc_kib": unit / 1024, "harness_kib": harness / 1024,
            "own_kib": own / 1024, "own_peak_kib": (own + unit) / 1024,
            "peak_bound_kib": peak / 1024, "worst_unit": worst, "fft_unit_kib": fft / 1024,
            "segments": r["segments"], "polls": r["polls"], "features": r["features"],
            "by_unit": {u: round(b / 1024, 1) for u, b in sorted(r["by_unit"].items())}}


FFT_TIME = """
import json, time
from array import array
from lg.fft import RealFFT
f = RealFFT(1024)
x = array('f', (((i * 7919) % 1000) / 500.0 - 1.0 for i in range(1024)))
f.run(x)
reps = 20 if f.ulab else 3
t0 = time.ticks_us()
for _ in range(reps):
    f.run(x)
print(json.dumps(time.ticks_diff(time.ticks_us(), t0) / reps / 1000))
"""


FIXED_TIME = """
import json, time
from array import array
from lg.fixfft import FixedFFT
q = FixedFFT(1024)
q.window(array('i', ((i * 7919) % 1000 - 500 for i in range(1024))), 0, 500)
q.run(q.frame)
t0 = time.ticks_us()
for _ in range(3):
    q.run(q.frame)
print(json.dumps(time.ticks_diff(time.ticks_us(), t0) / 3 / 1000))
"""


def fft_times() -> dict:
    pure_mp = result(FFT_TIME)
    fixed_mp = result(FIXED_TIME)
    ulab_mp = result(FFT_TIME, ulab=True)
    sys.path.insert(0, str(FIRMWARE))
    from lg.fft import RealFFT

    x = [((i * 7919) % 1000) / 500.0 - 1.0 for i in range(1024)]
    f = RealFFT(1024)
    t0 = time.perf_counter()
    for _ in range(10):
        f.run(x)
    pure_cpy = (time.perf_counter() - t0) / 10 * 1000
    a = np.asarray(x)
    t0 = time.perf_counter()
    for _ in range(2000):
        np.abs(np.fft.rfft(a)) ** 2
    numpy_ms = (time.perf_counter() - t0) / 2000 * 1000
    return {"pure_mp_ms": pure_mp, "fixed_mp_ms": fixed_mp, "ulab_mp_ms": ulab_mp,
            "pure_cpython_ms": pure_cpy, "numpy_ms": numpy_ms}


def ed25519_times() -> dict:
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    msg = b'{"args":{},"command":"ping","counter":1,"device":"s1/L1","expires":"2027-01-01T00:00:00.000Z","id":"0b7b8a3c-6f1e-4a43-9c55-3f7f0e6f2a11"}'  # noqa: E501
    sig = key.sign(msg)
    mp = result(f"""
import json, time
from lg.ed25519 import verify
t0 = time.ticks_us()
ok = [verify({pub!r}, {msg!r}, {sig!r}) for _ in range(3)]
print(json.dumps([all(ok), time.ticks_diff(time.ticks_us(), t0) / 3 / 1000]))
""")
    from lg.ed25519 import verify

    t0 = time.perf_counter()
    for _ in range(5):
        assert verify(pub, msg, sig)
    cpy = (time.perf_counter() - t0) / 5 * 1000
    t0 = time.perf_counter()
    for _ in range(500):
        key.public_key().verify(sig, msg)
    ossl = (time.perf_counter() - t0) / 500 * 1000
    return {"ok": mp[0], "mp_ms": mp[1], "cpython_ms": cpy, "openssl_ms": ossl}


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rom = romfs(tmp)
        h_pure = heap(tmp, rom, ulab=False)
        h_ulab = heap(tmp, rom, ulab=True)
    f = fft_times()
    e = ed25519_times()
    for name, h in (("pure", h_pure), ("ulab", h_ulab)):
        print(f"heap, steady-state loop, 1024-point FFT, {name}: the firmware's own objects "
              f"{h['own_kib']:.1f} KiB, + largest unit allocation = {h['own_peak_kib']:.1f} KiB; "
              f"whole heap live {h['live_kib']:.1f} KiB "
              f"(test fakes' {h['harness_kib']:.1f} KiB taken out), "
              f"largest unit allocation {h['unit_alloc_kib']:.1f} KiB (one FFT unit "
              f"{h['fft_unit_kib']:.1f} KiB), peak bound {h['peak_bound_kib']:.1f} KiB at a "
              f"{h['worst_unit']} unit (goal {GOAL_KIB} KiB); segments {h['segments']}, "
              f"polls {h['polls']}, features {', '.join(h['features'])}; largest allocation "
              f"by unit (KiB): {h['by_unit']}")
    print(f"FFT 1024: MicroPython pure {f['pure_mp_ms']:.1f} ms (integer block-floating-point "
          f"{f['fixed_mp_ms']:.1f} ms), ulab {f['ulab_mp_ms']:.3f} ms; "
          f"CPython same code {f['pure_cpython_ms']:.2f} ms, numpy {f['numpy_ms']:.4f} ms; "
          f"MicroPython/CPython {f['pure_mp_ms'] / f['pure_cpython_ms']:.1f}x")
    print(f"Ed25519 verify: MicroPython {e['mp_ms']:.0f} ms (valid={e['ok']}), CPython same code "
          f"{e['cpython_ms']:.1f} ms, OpenSSL {e['openssl_ms']:.3f} ms")
    for name, h in (("pure", h_pure), ("ulab", h_ulab)):
        verdict = "meets" if h["own_peak_kib"] <= GOAL_KIB else "MISSES"
        print(f"{name}: firmware peak {h['own_peak_kib']:.1f} KiB {verdict} the {GOAL_KIB} KiB "
              f"goal ({h['own_peak_kib'] / GOAL_KIB:.2f} of it)")
    print("summary: "
          f"mpy_firmware_heap_kib={h_ulab['own_kib']:.1f} "
          f"mpy_firmware_peak_kib={h_ulab['own_peak_kib']:.1f} "
          f"mpy_firmware_peak_kib_ulab={h_ulab['own_peak_kib']:.1f} "
          f"mpy_firmware_peak_kib_pure={h_pure['own_peak_kib']:.1f} "
          f"mpy_firmware_heap_pure_kib={h_pure['own_kib']:.1f} "
          f"mpy_live_heap_kib={h_ulab['live_kib']:.1f} "
          f"mpy_live_heap_pure_kib={h_pure['live_kib']:.1f} "
          f"mpy_peak_bound_ulab_kib={h_ulab['peak_bound_kib']:.1f} "
          f"mpy_peak_bound_pure_kib={h_pure['peak_bound_kib']:.1f} heap_goal_kib={GOAL_KIB} "
          f"mpy_fft1024_pure_ms={f['pure_mp_ms']:.1f} mpy_fft1024_fixed_ms={f['fixed_mp_ms']:.1f} "
          f"mpy_fft1024_ulab_ms={f['ulab_mp_ms']:.3f} "
          f"fft_mpy_over_cpython={f['pure_mp_ms'] / f['pure_cpython_ms']:.1f} "
          f"mpy_ed25519_verify_ms={e['mp_ms']:.0f} "
          f"ed25519_mpy_over_cpython={e['mp_ms'] / e['cpython_ms']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
