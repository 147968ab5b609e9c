"""Electron interaction samplers against their differential cross sections (fixed seeds).

References: Moller (Ann. Phys. 14 (1932) 531) and Bhabha (Proc. R. Soc. A 154 (1936) 195) cross
sections in the form of ICRU Report 37 / EGS4 SLAC-265 sec. 2.12-2.13; screened Bethe-Heitler
bremsstrahlung (Koch and Motz, Rev. Mod. Phys. 31 (1959) 920) scaled to ESTAR; Goudsmit and
Saunderson, Phys. Rev. 57 (1940) 24 (multiple scattering on screened Rutherford, Moliere screening).
"""

import math

import numpy as np
import pytest
from numba import njit
from scipy import integrate, special, stats

import iortmc as mc
from iortmc.physics import _elements, _stopping
from iortmc.physics import electron_tables as etb
from iortmc.transport.packing import pack_electron_tables
from iortmc.transport._kernels import electron as ek
from iortmc.transport._kernels.rng import seed_history
from iortmc.errors import InputError
from iortmc.units import AVOGADRO, ELECTRON_MASS


@pytest.fixture(scope="module")
def water_tables():
    return pack_electron_tables([mc.material("water")])


@njit
def _moller_many(E, cut, n, seed):
    s = np.empty(4, dtype=np.uint64)
    seed_history(seed, 0, s)
    out = np.empty(n)
    for i in range(n):
        out[i] = ek.sample_moller(E, cut, s)
    return out


@njit
def _bhabha_many(E, cut, n, seed):
    s = np.empty(4, dtype=np.uint64)
    seed_history(seed, 0, s)
    out = np.empty(n)
    for i in range(n):
        out[i] = ek.sample_bhabha(E, cut, s)
    return out


@njit
def _brems_many(et, m, E, n, seed):
    s = np.empty(4, dtype=np.uint64)
    seed_history(seed, 0, s)
    out = np.empty(n)
    for i in range(n):
        out[i] = ek.sample_brems(et, m, E, s)
    return out


@njit
def _gs_many(et, nsteps, n, seed):
    """Polar cosine after ``nsteps`` GS deflections of node (0, 0), composed in 3-D."""
    s = np.empty(4, dtype=np.uint64)
    seed_history(seed, 0, s)
    out = np.empty(n)
    for i in range(n):
        u, v, w = 0.0, 0.0, 1.0
        for _ in range(nsteps):
            c = ek.sample_gs(et, 0, 0, s)
            u, v, w = ek.rotate(u, v, w, c, 2.0 * math.pi * ek.uniform(s))
        out[i] = w
    return out


def _chi2_p(counts, expected):
    expected = expected * counts.sum() / expected.sum()
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    return stats.chi2.sf(chi2, counts.size - 1)


@pytest.mark.parametrize("E", [0.5, 6.0])
def test_moller_sampler_matches_dcs(E):
    """Moller: histogram of W/E vs the integral of the Moller DCS over each bin (chi-square)."""
    cut = 0.1 * min(1.0, E / 2.0) if E < 1 else 0.1
    w = _moller_many(E, cut, 200_000, 11) / E
    assert w.min() >= cut / E and w.max() <= 0.5 + 1e-12
    edges = np.geomspace(cut / E, 0.5, 31)
    counts = np.histogram(w, edges)[0]
    exp = np.array([integrate.quad(lambda x: etb.moller_dcs(E, x), a, b)[0]
                    for a, b in zip(edges[:-1], edges[1:])])
    assert _chi2_p(counts, exp) > 1e-3


@pytest.mark.parametrize("E", [0.5, 6.0])
def test_bhabha_sampler_matches_dcs(E):
    """Bhabha: histogram of W/E vs the integral of the Bhabha DCS over each bin (chi-square)."""
    cut = 0.05
    w = _bhabha_many(E, cut, 200_000, 12) / E
    assert w.min() >= cut / E and w.max() <= 1.0
    edges = np.geomspace(cut / E, 1.0, 31)
    counts = np.histogram(w, edges)[0]
    exp = np.array([integrate.quad(lambda x: etb.bhabha_dcs(E, x), a, b)[0]
                    for a, b in zip(edges[:-1], edges[1:])])
    assert _chi2_p(counts, exp) > 1e-3


def test_bhabha_rejection_bounded_by_one():
    """The Bhabha rejection function beta^2 eps^2 x bracket never exceeds 1 (0 < eps <= 1)."""
    for E in np.geomspace(0.002, 20.0, 40):
        eps = np.linspace(1e-4, 1.0, 2001)
        g = etb.bhabha_dcs(E, eps) * eps**2 * (1.0 - 1.0 / (E / ELECTRON_MASS + 1.0) ** 2)
        g /= 2.0 * math.pi * 2.8179403262e-13**2 * ELECTRON_MASS / E
        assert g.max() <= 1.0 + 1e-12


@pytest.mark.parametrize("particle,dcs", [("e-", etb.moller_dcs), ("e+", etb.bhabha_dcs)])
def test_hard_dcs_consistent_with_restricted_stopping(particle, dcs):
    """d L_restricted / d cut = cut x n_e x d sigma/dW (the DCS and _stopping agree; ICRU 37)."""
    water = mc.material("water")
    els = [_elements.element(int(z)) for z in water.elements]
    A = np.array([el.atomic_weight for el in els])
    kw = dict(shell_binding_eV=[el.estar_shell_binding_eV for el in els],
              shell_occupancy=[el.estar_shell_occupancy for el in els])
    ne = AVOGADRO * float(np.sum(water.mass_fractions * water.elements / A))
    E, cut, h = 3.0, 0.2, 1e-4
    L = [_stopping.restricted_collision(E, c, water.elements, water.mass_fractions, A, water.I_eV,
                                        water.density, particle=particle, **kw) for c in (cut - h, cut + h)]
    deriv = (L[1] - L[0]) / (2 * h)
    assert deriv == pytest.approx(cut * ne * dcs(E, cut / E) / E, rel=1e-5)


@pytest.mark.parametrize("j_energy", [3.0, 0.3])
def test_brems_sampler_matches_dcs(water_tables, j_energy):
    """Bremsstrahlung photon energies vs the ESTAR-scaled Bethe-Heitler DCS of water (chi-square),
    at a grid energy (no interpolation between grid energies)."""
    et = water_tables
    i = int(round((math.log(j_energy) - et.log_emin) * et.inv_dlog))
    E = math.exp(et.log_emin + i * et.dlog) * (1 + 1e-12)
    k = _brems_many(et, 0, E, 200_000, 13)
    assert k.min() >= et.ap and k.max() <= E
    edges = np.geomspace(et.ap, E, 26)
    counts = np.histogram(k, edges)[0]
    water = mc.material("water")
    exp = []
    for a, b in zip(edges[:-1], edges[1:]):
        lk = np.linspace(math.log(a), math.log(b), 41)
        f = etb.brems_dcs_material(water, E, np.exp(lk))  # k dsigma/dk; integrate over ln k
        exp.append(np.trapezoid(f, lk))
    assert _chi2_p(counts, np.array(exp)) > 1e-3


def test_brems_cross_section_integrates_to_estar(water_tables):
    """Restricted + hard radiative parts add up to the ESTAR radiative stopping power."""
    et = water_tables
    water = mc.material("water")
    E = 6.0
    k = np.geomspace(1e-6, E * (1 - 1e-9), 4001)
    f = etb.brems_dcs_material(water, E, k)
    total = np.trapezoid(f, k)   # int k dsigma/dk dk
    assert total == pytest.approx(float(water.stopping_power(E, kind="radiative")), rel=5e-3)


def test_brems_photon_angle_mean():
    """Boosted-isotropic photon angles: <cos> = (1/beta - (1-beta^2)/(2 beta^2) ln((1+b)/(1-b)))."""
    from iortmc.transport._kernels.electron import brems_cost

    @njit
    def many(E, n):
        s = np.empty(4, dtype=np.uint64)
        seed_history(5, 0, s)
        out = np.empty(n)
        for i in range(n):
            out[i] = brems_cost(E, s)
        return out

    E = 1.0
    c = many(E, 200_000)
    g = E / ELECTRON_MASS + 1
    b = math.sqrt(1 - 1 / g**2)
    expect = 1 / b - (1 - b * b) / (2 * b * b) * math.log((1 + b) / (1 - b))
    assert c.mean() == pytest.approx(expect, abs=4 * c.std() / math.sqrt(c.size))


def test_sr_legendre_moments_vs_quadrature():
    """1 - xi_l of screened Rutherford from the Q_l recurrence vs direct numerical integration."""
    for eta in (1e-6, 1e-3, 0.2):
        om = etb.legendre_moments_sr(eta, 50)
        for l in (1, 2, 7, 30):
            f = lambda mu: (1 - special.eval_legendre(l, mu)) * 2 * eta * (1 + eta) / (1 - mu + 2 * eta) ** 2
            v = integrate.quad(f, -1, 1, points=[1 - 10 * eta, 1 - 100 * eta], limit=800)[0]
            assert om[l] == pytest.approx(v, rel=1e-6, abs=1e-14)
        assert om[1] == pytest.approx(float(etb._g1(eta)), rel=1e-9)


def _gs_pdf_independent(K, eta, mu, lmax=600):
    """GS pdf from Legendre moments computed by quadrature (independent of the tables' recurrence)."""
    lam = K / float(etb._g1(eta))
    t0, t1 = math.log(2 * eta), math.log(2 + 2 * eta)
    x, wq = np.polynomial.legendre.leggauss(200)
    edges = np.linspace(t0, t1, 21)       # 20 panels x 200 Gauss-Legendre points
    t = np.concatenate([0.5 * (b - a) * (x + 1) + a for a, b in zip(edges[:-1], edges[1:])])
    wt = np.concatenate([0.5 * (b - a) * wq for a, b in zip(edges[:-1], edges[1:])])
    m = 1 + 2 * eta - np.exp(t)
    weight = wt * 2 * eta * (1 + eta) * np.exp(-t)   # p(mu) dmu in t
    P_prev, P = np.ones_like(m), m.copy()
    pdf = 0.5 * np.ones_like(mu)
    Pm_prev, Pm = np.ones_like(mu), mu.copy()
    for l in range(1, lmax + 1):
        om = np.sum(weight * (1 - P))
        c = (l + 0.5) * math.exp(-lam * om)
        pdf += c * Pm
        P_prev, P = P, ((2 * l + 1) * m * P - l * P_prev) / (l + 1)
        Pm_prev, Pm = Pm, ((2 * l + 1) * mu * Pm - l * Pm_prev) / (l + 1)
        if c < 1e-14 * (l + 0.5):
            break
    return pdf


@pytest.mark.parametrize("K,eta,nsteps", [(0.15, 1e-5, 1), (0.05, 1e-3, 4)])
def test_gs_sampler_after_fixed_path(water_tables, K, eta, nsteps):
    """Polar angle after a path of strength nsteps*K (nsteps tabulated GS deflections composed in 3-D)
    vs the GS distribution of strength nsteps*K computed independently (chi-square)."""
    q, p0 = etb._gs_quantiles(K, eta)
    et = water_tables._replace(ms_q=q[None, None, :].copy(), ms_p0=np.array([[p0]]),
                               ms_K=np.array([[K]]))
    c = _gs_many(et, nsteps, 200_000, 21)
    a = 1.0 - c
    edges = np.concatenate([[0.0], np.quantile(a, np.linspace(0, 1, 31)[1:-1]), [2.0]])
    counts = np.histogram(a, edges)[0]
    fine = np.concatenate([np.geomspace(1e-9, 0.05, 3000), np.linspace(0.05, 2.0, 3000)[1:]])
    pdf = _gs_pdf_independent(nsteps * K, eta, 1.0 - fine)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(fine))])
    exp = np.diff(np.interp(edges, fine, cum))
    assert _chi2_p(counts, exp) > 1e-3
    # first moment: <1 - cos> = 1 - exp(-nsteps K) exactly in GS theory
    assert a.mean() == pytest.approx(1 - math.exp(-nsteps * K), rel=0.01)


def test_options_validated():
    w = mc.material("water")
    with pytest.raises(InputError, match="ecut"):
        pack_electron_tables([w], ecut=-1.0)
    with pytest.raises(InputError, match="estepe"):
        pack_electron_tables([w], estepe=0.9)
    with pytest.raises(InputError, match="unknown"):
        pack_electron_tables([w], foo=1)
    with pytest.raises(InputError, match="bremsstrahlung"):
        pack_electron_tables([w], bremsstrahlung="yes")
    with pytest.raises(InputError, match="materials"):
        pack_electron_tables([])


def test_electron_beam_validation_and_sampling():
    from iortmc.transport._kernels.beam import sample_beam_particle
    from iortmc.sources.electron import ElectronBeam

    with pytest.raises(InputError, match="energy"):
        ElectronBeam(energy=-1.0)
    with pytest.raises(InputError, match="not both"):
        ElectronBeam(energy=6.0, field_diameter=10.0, field_size=(5, 5))
    with pytest.raises(InputError, match="particle"):
        ElectronBeam(energy=6.0, particle="p")
    beam = ElectronBeam(energy=6.0, energy_spread=0.5, field_diameter=10.0, position=(0, 0, -10.0))
    d = beam.describe()
    assert d["type"] == "ElectronBeam" and d["field_diameter_cm"] == 10.0
    shape = beam.shape_parameters()
    from iortmc.transport.packing import pack_source

    src = pack_source(beam)

    @njit
    def many(src, shape, n):
        s = np.empty(4, dtype=np.uint64)
        out = np.empty((n, 7))
        for h in range(n):
            seed_history(3, h, s)
            out[h] = sample_beam_particle(src, shape, s)
        return out

    p = many(src, shape, 50_000)
    r = np.hypot(p[:, 0], p[:, 1])
    assert r.max() <= 5.0 and np.allclose(p[:, 2], -10.0) and np.allclose(p[:, 5], 1.0)
    assert np.mean(r**2) == pytest.approx(25.0 / 2, rel=0.02)       # uniform disc
    sig = 0.5 / 2.3548
    assert p[:, 6].std() == pytest.approx(sig, rel=0.03) and p[:, 6].mean() == pytest.approx(6.0, abs=0.01)
