"""Photon interaction samplers against their analytic distributions (fixed seeds, chi-square bounds).

References: Klein and Nishina, Z. Phys. 52 (1929) 853 (free-electron Compton DCS); Thomson scattering
(1 + cos^2 theta) as the F = Z limit of Rayleigh scattering (Hubbell et al., J. Phys. Chem. Ref. Data 4
(1975) 471); jump-ratio shell selection and fluorescence yields as in the shipped xraylib data.
"""

import math

import numpy as np
import pytest
from numba import njit
from scipy import integrate, stats

from iortmc.transport._kernels import photon, rng

ME = photon.ELECTRON_MASS


@njit(cache=True)
def _draw_kn(E, n, seed):
    s = np.empty(4, dtype=np.uint64)
    rng.seed_history(seed, 0, s)
    out = np.empty((n, 2))
    for i in range(n):
        Ep, c = photon.sample_klein_nishina(E, s)
        out[i, 0] = Ep
        out[i, 1] = c
    return out


@njit(cache=True)
def _draw_compton(E, sf, inv_du, n, seed):
    s = np.empty(4, dtype=np.uint64)
    rng.seed_history(seed, 0, s)
    out = np.empty((n, 2))
    for i in range(n):
        Ep, c = photon.sample_compton(E, sf, inv_du, s)
        out[i, 0] = Ep
        out[i, 1] = c
    return out


@njit(cache=True)
def _draw_rayleigh(E, q, cum, n, seed):
    s = np.empty(4, dtype=np.uint64)
    rng.seed_history(seed, 0, s)
    out = np.empty(n)
    for i in range(n):
        out[i] = photon.sample_rayleigh(E, q, cum, s)
    return out


@njit(cache=True)
def _draw_fluor(shell, yields, ln_lo, ln_e, ln_cum, n, seed):
    s = np.empty(4, dtype=np.uint64)
    rng.seed_history(seed, 0, s)
    out = np.empty(n)
    for i in range(n):
        out[i] = photon.sample_fluorescence(shell, yields, ln_lo, ln_e, ln_cum, s)
    return out


@njit(cache=True)
def _draw_shell(E, lo, hi, b, j, n, seed):
    s = np.empty(4, dtype=np.uint64)
    rng.seed_history(seed, 0, s)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = photon.sample_photoelectric_shell(E, lo, hi, b, j, s)
    return out


def kn_dcs(cost, E):
    """Klein-Nishina d sigma / d cos theta (arbitrary units)."""
    k = E / ME
    ratio = 1.0 / (1.0 + k * (1.0 - cost))
    return ratio**2 * (ratio + 1.0 / ratio - (1.0 - cost**2))


def chi2_pvalue(counts, expected):
    keep = expected > 5
    chi2 = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    return stats.chi2.sf(chi2, keep.sum() - 1)


@pytest.mark.parametrize("E", [0.02, 0.05, 1.0, 10.0])
def test_klein_nishina_angle_and_energy(E):
    n = 200_000
    d = _draw_kn(E, n, 12345)
    # energy-angle relation of free-electron Compton scattering, per call
    k = E / ME
    np.testing.assert_allclose(d[:, 0], E / (1.0 + k * (1.0 - d[:, 1])), rtol=1e-12)
    assert np.all(d[:, 0] <= E) and np.all(d[:, 0] >= E / (1 + 2 * k) * (1 - 1e-12))
    edges = np.linspace(-1.0, 1.0, 41)
    counts, _ = np.histogram(d[:, 1], edges)
    w = np.array([integrate.quad(kn_dcs, a, b, args=(E,))[0] for a, b in zip(edges[:-1], edges[1:])])
    expected = n * w / w.sum()
    assert chi2_pvalue(counts, expected) > 1e-3


def test_bound_compton_reduces_to_klein_nishina_when_S_equals_Z():
    sf = np.ones(64)
    E = 0.05
    n = 200_000
    d = _draw_compton(E, sf, 63 / 8.0, n, 7)
    edges = np.linspace(-1.0, 1.0, 41)
    counts, _ = np.histogram(d[:, 1], edges)
    w = np.array([integrate.quad(kn_dcs, a, b, args=(E,))[0] for a, b in zip(edges[:-1], edges[1:])])
    assert chi2_pvalue(counts, n * w / w.sum()) > 1e-3


def test_bound_compton_follows_kn_times_scattering_function():
    """With binding, the angular density must be KN(cos) x S(x)/Z, x = sin(theta/2) E / hc."""
    u = np.linspace(0, 8.0, 1024)
    sf = 1.0 - np.exp(-(u**2) / 0.5)  # a smooth S/Z rising from 0 to 1
    E = 0.03
    n = 200_000
    d = _draw_compton(E, sf, 1023 / 8.0, n, 3)

    def density(c):
        x = E / photon.HC_MEV_ANGSTROM * np.sqrt(0.5 * (1 - c))
        return kn_dcs(c, E) * np.interp(np.sqrt(x), u, sf)

    edges = np.linspace(-1.0, 1.0, 41)
    counts, _ = np.histogram(d[:, 1], edges)
    w = np.array([integrate.quad(density, a, b, limit=200, epsabs=0)[0] for a, b in zip(edges[:-1], edges[1:])])
    assert chi2_pvalue(counts, n * w / w.sum()) > 1e-3
    # and forward scattering is clearly suppressed relative to free electrons
    assert np.mean(d[:, 1] > 0.9) < 0.7 * np.mean(_draw_kn(E, n, 3)[:, 1] > 0.9)


def test_rayleigh_is_thomson_when_F_equals_Z():
    q = np.concatenate([[0.0], np.logspace(-8, 4, 479)])
    cum = q / q[-1]  # F^2 constant
    for E in (0.02, 0.1):
        n = 200_000
        c = _draw_rayleigh(E, q, cum, n, 99)
        assert np.all(np.abs(c) <= 1.0)
        edges = np.linspace(-1, 1, 41)
        counts, _ = np.histogram(c, edges)
        w = (edges[1:] - edges[:-1]) + (edges[1:] ** 3 - edges[:-1] ** 3) / 3.0
        assert chi2_pvalue(counts, n * w / w.sum()) > 1e-3


def test_rayleigh_form_factor_makes_scattering_forward():
    """A steeply falling F^2 must concentrate scattering near theta = 0 at high energy."""
    q = np.concatenate([[0.0], np.logspace(-8, 4, 479)])
    f2 = 1.0 / (1.0 + q / 0.1) ** 4
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (f2[1:] + f2[:-1]) * np.diff(q))])
    c = _draw_rayleigh(0.5, q, cum / cum[-1], 50_000, 5)
    assert np.median(c) > 0.99


def test_fluorescence_yield_and_lines():
    yields = np.array([0.9, 0.3])
    ln_lo = np.array([0, 3, 4])
    ln_e = np.array([0.075, 0.073, 0.085, 0.0105])
    p = np.array([0.5, 0.3, 0.2])
    ln_cum = np.concatenate([np.cumsum(p), [1.0]])
    n = 200_000
    e = _draw_fluor(0, yields, ln_lo, ln_e, ln_cum, n, 11)
    emitted = e > 0
    frac = emitted.mean()
    assert abs(frac - 0.9) < 4 * math.sqrt(0.9 * 0.1 / n)
    counts = np.array([(e == x).sum() for x in ln_e[:3]])
    assert chi2_pvalue(counts, emitted.sum() * p) > 1e-3
    e2 = _draw_fluor(1, yields, ln_lo, ln_e, ln_cum, n, 12)
    assert set(np.unique(e2)) <= {0.0, 0.0105}
    assert abs((e2 > 0).mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n)
    assert np.all(_draw_fluor(-1, yields, ln_lo, ln_e, ln_cum, 100, 1) == 0)


def test_photoelectric_shell_by_jump_ratios():
    # K (J = 5) and L1 (J = 1.2) shells, Pb-like binding energies
    b = np.array([0.088, 0.0159])
    j = np.array([5.0, 1.2])
    n = 200_000
    sh = _draw_shell(0.1, 0, 2, b, j, n, 21)
    pk = 1 - 1 / 5.0
    pl = (1 - pk) * (1 - 1 / 1.2)
    assert abs((sh == 0).mean() - pk) < 4 * math.sqrt(pk * (1 - pk) / n)
    assert abs((sh == 1).mean() - pl) < 4 * math.sqrt(pl * (1 - pl) / n)
    below = _draw_shell(0.05, 0, 2, b, j, n, 22)  # below the K edge: K never chosen
    assert not np.any(below == 0)


def test_rotation_preserves_angle_and_norm():
    s = np.empty(4, dtype=np.uint64)
    rng.seed_history(5, 0, s)
    r = np.random.default_rng(0)
    for _ in range(200):
        d = r.normal(size=3)
        d /= np.linalg.norm(d)
        cost = r.uniform(-1, 1)
        un = photon.rotate(d[0], d[1], d[2], cost, r.uniform(0, 2 * np.pi))
        assert abs(np.linalg.norm(un) - 1) < 1e-12
        assert abs(np.dot(un, d) - cost) < 1e-9
    un = photon.rotate(0.0, 0.0, -1.0, 0.5, 1.0)
    assert abs(un[2] + 0.5) < 1e-12


def test_isotropic_directions():
    s = np.empty(4, dtype=np.uint64)
    rng.seed_history(8, 0, s)
    w = np.array([photon.isotropic(s)[2] for _ in range(20000)])
    assert stats.kstest(w, "uniform", args=(-1, 2)).pvalue > 1e-3
