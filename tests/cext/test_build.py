"""The compiled extension is what the tests and the agent run, never a silent fallback."""

import numpy as np

import cext
from cext import _backend, spectral


def test_extension_is_compiled():
    assert cext.COMPILED, "cext._dsp did not import: run `make setup` to build it"


def test_public_pipeline_is_the_compiled_class():
    assert spectral.FramePipeline is _backend.dsp.FramePipeline
    assert type(cext.FramePipeline(256, "hann", [0.0, 100.0], 1000.0)).__module__ == "cext._dsp"


def test_welch_runs_on_compiled_plans():
    cext.welch(np.zeros(512), 1000.0, 256)
    plans = spectral._local.plans.values()
    assert plans and all(type(p).__module__ == "cext._dsp" for p in plans)


def test_rms_matches_reference():
    x = np.random.default_rng(1).normal(size=1001)
    assert abs(cext.rms(x) - cext.reference.rms(x)) < 1e-12
