"""The compiled DSP extension is what the tests exercise, never a silent fallback."""

import numpy as np

import cext
from cext import reference


def test_extension_is_compiled():
    assert cext.COMPILED, "cext._dsp did not import: run `make setup` to build it"


def test_rms_matches_reference():
    x = np.random.default_rng(1).normal(size=1001)
    assert abs(cext.rms(x) - reference.rms(x)) < 1e-12
