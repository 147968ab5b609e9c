"""The random number generator: uniformity, independence of history streams, reproducibility."""

import numpy as np
from scipy import stats

from iortmc.transport._kernels import rng


def test_same_seed_same_stream_and_distinct_histories():
    a = rng.uniforms(42, 7, 1000)
    b = rng.uniforms(42, 7, 1000)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, rng.uniforms(42, 8, 1000))
    assert not np.array_equal(a, rng.uniforms(43, 7, 1000))


def test_uniformity_chi_square():
    u = rng.uniforms(1, 0, 1_000_000)
    assert u.min() > 0.0 and u.max() < 1.0
    counts, _ = np.histogram(u, 100, (0, 1))
    assert stats.chisquare(counts).pvalue > 1e-3


def test_history_streams_uncorrelated():
    first = np.array([rng.uniforms(3, h, 1)[0] for h in range(20000)])
    assert stats.kstest(first, "uniform").pvalue > 1e-3
    r = np.corrcoef(first[:-1], first[1:])[0, 1]
    assert abs(r) < 4 / np.sqrt(len(first))
