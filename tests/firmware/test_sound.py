"""A-weighted sound level on the board, in real MicroPython, against the Pi's definition
(agent/detectors/spectra.py a_weighting_gain, agent/detectors/acoustic.py L_Aeq) and the
nominal A-weightings of IEC 61672-1:2013 Table 3."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from agent.detectors import spectra
from agent.detectors.acoustic import sound_features
from tests.firmware.mpy import result

FS = 16000
N = 1024
SENS = -26.0  # dBFS at 94 dB SPL (INMP441)
FULL_RMS = 2**23 / math.sqrt(2)
PA_PER_COUNT = 1.0 / (FULL_RMS * 10 ** (SENS / 20))  # 1 Pa rms = 94 dB SPL at -26 dBFS

# IEC 61672-1:2013 Table 3, A-weighting (dB) at nominal frequencies; the table's values are
# for the exact base-10 frequencies, rounded to 0.1 dB.
NOMINAL = [(31.5, -39.4), (63, -26.2), (100, -19.1), (125, -16.1), (250, -8.6), (500, -3.2),
           (1000, 0.0), (2000, 1.2), (4000, 1.0), (8000, -1.1), (10000, -2.5), (16000, -6.6)]


def test_a_gain_on_the_board_is_the_pis_curve_and_the_standards_table():
    freqs = [10.0, 20.0, 31.62, 63.1, 100.0, 125.9, 251.2, 501.2, 1000.0, 1995.0, 3981.0,
             7943.0, 10000.0, 15850.0, 20000.0]
    got = result(f"""
import json, math
from lg.mic import a_gain
print(json.dumps([10 * math.log10(a_gain(f)) for f in {freqs!r}]))
""")
    pi = 10 * np.log10(spectra.a_weighting_gain(np.array(freqs)))
    assert got == pytest.approx(list(pi), abs=1e-3)  # float32 on the board: 1e-3 dB
    exact = {31.5: 31.62, 63: 63.1, 100: 100.0, 125: 125.9, 250: 251.2, 500: 501.2,
             1000: 1000.0, 2000: 1995.0, 4000: 3981.0, 8000: 7943.0, 10000: 10000.0,
             16000: 15850.0}
    for nominal, table_db in NOMINAL:
        assert got[freqs.index(exact[nominal])] == pytest.approx(table_db, abs=0.1), nominal


def _tones(parts: list[tuple[float, float]], n: int, noise_pa: float = 0.0) -> np.ndarray:
    """Pressure in Pa: sines of (frequency, dB SPL), plus white noise of `noise_pa` rms."""
    t = np.arange(n) / FS
    x = sum(20e-6 * 10 ** (spl / 20) * math.sqrt(2) * np.sin(2 * np.pi * f * t + 0.3 * i)
            for i, (f, spl) in enumerate(parts))
    if noise_pa:
        x = x + np.random.default_rng(7).normal(0, noise_pa, n)
    return np.asarray(x)


def _board_dba(pressure: np.ndarray, ulab: bool) -> float:
    counts = np.round(pressure[:N] / PA_PER_COUNT).astype(np.int64)
    assert np.abs(counts).max() < 2**23
    data = b"".join(struct.pack("<i", int(c) << 8) for c in counts)
    return result(f"""
import json, machine
from lg.mic import Microphone
i2s = machine.I2S(0)
i2s.source = {data!r}
mic = Microphone(i2s, {N}, {SENS}, {FS})
assert mic.capture() == {N}
print(json.dumps(mic.level_a()))
""", ulab=ulab)


@pytest.mark.parametrize("ulab", [False, True], ids=["pure", "ulab"])
@pytest.mark.parametrize(("parts", "want"), [
    ([(1000.0, 94.0)], 94.0),              # 0 dB at 1 kHz
    ([(100.0, 94.0)], 94.0 - 19.1),        # IEC 61672-1 Table 3: -19.1 dB at 100 Hz
    ([(4000.0, 80.0)], 80.0 + 1.0),        # +1.0 dB at 4 kHz (3981 Hz exact: +0.96)
])
def test_a_tone_reads_its_level_plus_the_a_weighting(parts, want, ulab):
    got = _board_dba(_tones(parts, N), ulab)
    assert got == pytest.approx(want, abs=0.15)


@pytest.mark.parametrize("ulab", [False, True], ids=["pure", "ulab"])
def test_a_machine_room_mix_reads_the_same_laeq_as_the_pis_noise_detector(ulab):
    # drive whine, a 100 Hz hum, a fan tone and broadband noise; the Pi gets a second of it
    parts = [(100.0, 78.0), (315.0, 70.0), (2500.0, 66.0), (6300.0, 60.0)]
    pressure = _tones(parts, FS, noise_pa=0.02)
    pi, _ = sound_features(pressure, FS)
    got = _board_dba(pressure, ulab)
    assert got == pytest.approx(pi, abs=0.3)
    # and not the unweighted level: the hum is 78 dB SPL but far less in dB(A)
    z = 10 * math.log10(np.mean(pressure**2) / 20e-6**2)
    assert z - got > 3.0
