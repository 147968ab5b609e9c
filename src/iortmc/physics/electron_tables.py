"""Electron and positron condensed-history tables (class II) for the numba kernels.

Per-material blocks (:func:`_material_block`) that :func:`iortmc.transport.packing.pack_electron_tables`
concatenates into the kernels' ``ElectronTables``. Everything is per unit mass on the tables'
1 keV-20 MeV grid uniform in ln E (200 points per decade).

Physics (formulas and references in ``docs/electron-physics.md``):

* continuous loss: restricted collision stopping power (Bethe with the Sternheimer oscillator
  density effect, energy transfers below ``ae``; :func:`iortmc.physics._stopping.restricted_collision`) plus
  the radiative stopping power due to photons below ``ap`` (screened Bethe-Heitler shape scaled to
  the ESTAR element radiative stopping powers);
* hard Moller (e-) / Bhabha (e+) collisions above ``ae`` and hard bremsstrahlung above ``ap``
  (total cross sections per gram and the photon-energy sampling table);
* multiple elastic scattering: screened Rutherford cross section with Moliere's screening
  parameter, the transport cross section scaled by a McKinley-Feshbach (Mott) factor, and the
  Goudsmit-Saunderson angular distribution for a step of strength K, tabulated as quantiles;
* "ranges" in three clocks that the kernel inverts: the continuous-loss range R(E), the
  multiple-scattering strength Lambda(E) = int k1/L dE and the hard-interaction number
  H(E) = int sigma_hard/L dE. Between hard events the energy is a deterministic function of the path
  (no sub-threshold straggling), so these clocks make the step exact in energy for any step length.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..errors import InputError
from ..units import AVOGADRO, ELECTRON_MASS, R_ELECTRON
from . import _elements, _stopping
from .tables import E_MAX, E_MIN

__all__ = ["DEFAULTS", "moliere_eta", "sr_transport_ratio",
           "legendre_moments_sr", "gs_pdf", "moller_dcs", "bhabha_dcs", "brems_dcs_material",
           "material_ms_data", "material_transport_data", "sr_transport_ratios",
           "sr_eta_for_ratio", "electron_scattering_xi"]

ALPHA = 7.2973525693e-3

#: Default options (kinetic energies in MeV). Why these values: docs/electron-physics.md.
DEFAULTS = dict(
    ecut=0.1,           # transport cut-off: CSDA range 0.14 mm in water, < 1/10 of a 2 mm voxel
    ae=0.1,             # delta-ray threshold = ecut: no delta is produced only to be dropped
    ap=0.01,            # photon threshold: photons below 10 keV travel < 0.2 cm in water
    estepe=0.25,        # max fractional energy loss per multiple-scattering step
    ms_strength=0.08,   # max strength int ds/lambda_1 of a multiple-scattering step
    hard_collisions=True,
    bremsstrahlung=True,
    multiple_scattering=True,
)

_NX_BREM = 33           # photon-energy nodes per grid energy (uniform in ln k)
_MS_PER_DECADE = 20     # multiple-scattering grid
_NQ = 257               # quantiles of the GS distribution
_LMAX = 2000            # Legendre terms of the GS series


# ---------------------------------------------------------------------------------------------
# kinematics and elastic scattering
# ---------------------------------------------------------------------------------------------
def _pb2(E):
    """(p/mc)^2 and beta^2 of an electron with kinetic energy E (MeV)."""
    tau = np.asarray(E, dtype=float) / ELECTRON_MASS
    p2 = tau * (tau + 2.0)
    return p2, p2 / (tau + 1.0) ** 2


def moliere_eta(E, Z):
    """Moliere's screening parameter eta of the screened Rutherford cross section (dimensionless).

    ``eta = (1/4) (alpha Z^(1/3) / (0.885 p/mc))^2 (1.13 + 3.76 (alpha Z / beta)^2)``
    (Moliere, Z. Naturforsch. 3a (1948) 78; Bethe, Phys. Rev. 89 (1953) 1256,
    doi:10.1103/PhysRev.89.1256), with the Thomas-Fermi radius 0.885 a0 Z^-1/3.
    The screened Rutherford cross section is then ``dsigma/dOmega ~ 1/(1 - mu + 2 eta)^2``.
    """
    p2, b2 = _pb2(E)
    return 0.25 * (ALPHA * Z ** (1.0 / 3.0) / 0.885) ** 2 / p2 * (1.13 + 3.76 * (ALPHA * Z) ** 2 / b2)


def _g1(eta):
    """First transport coefficient of the normalised screened Rutherford DCS, <1 - mu>."""
    eta = np.asarray(eta, dtype=float)
    return 2.0 * eta * ((1.0 + eta) * np.log1p(1.0 / eta) - 1.0)


_GLX200, _GLW200 = np.polynomial.legendre.leggauss(200)


def sr_transport_ratios(E, Z, eta, charge=-1):
    """Mott/Rutherford ratios (f1, f2) of the first and second transport cross sections.

    The ratio R(theta) = 1 - beta^2 s^2 -/+ pi alpha Z beta s (1 - s), s = sin(theta/2), for
    electrons (+) and positrons (-) (McKinley and Feshbach, Phys. Rev. 74 (1948) 1759,
    doi:10.1103/PhysRev.74.1759; valid for low and medium Z), averaged over the screened Rutherford
    DCS with the weights (1 - P1(mu)) and (1 - P2(mu)). R falls at large angles, which count more in
    the first transport cross section than in the second (1 - P2 vanishes backwards): f2 > f1, so the
    Mott DCS has a larger lambda_1/lambda_2 than the screened Rutherford one with the same screening.
    """
    E = np.atleast_1d(np.asarray(E, dtype=float))
    eta = np.broadcast_to(np.asarray(eta, dtype=float), E.shape)
    _, b2 = _pb2(E)
    b = np.sqrt(b2)[:, None]
    # quadrature in t = ln(1 - mu + 2 eta), where (1-mu) dsigma is smooth
    t0 = np.log(2.0 * eta)[:, None]
    t1 = np.log(2.0 + 2.0 * eta)[:, None]
    t = 0.5 * (t1 - t0) * (_GLX200[None, :] + 1.0) + t0
    wt = 0.5 * (t1 - t0) * _GLW200[None, :]
    a = np.exp(t) - 2.0 * eta[:, None]        # 1 - mu
    base = wt * a * np.exp(-t)                # (1-mu) / (1-mu+2eta)^2 * (dmu = e^t dt)
    base2 = base * 1.5 * (2.0 - a)            # (1 - P2) = 1.5 (1 - mu) (1 + mu)
    s = np.sqrt(np.clip(a / 2.0, 0.0, 1.0))
    r = 1.0 - b * b * s * s - charge * math.pi * ALPHA * Z * b * s * (1.0 - s)
    f1 = np.sum(base * r, axis=1) / np.sum(base, axis=1)
    f2 = np.sum(base2 * r, axis=1) / np.sum(base2, axis=1)
    return f1, f2


def sr_transport_ratio(E, Z, eta, charge=-1):
    """Mott/Rutherford ratio of the first transport cross section (``sr_transport_ratios``' f1)."""
    return sr_transport_ratios(E, Z, eta, charge)[0]


def _g2(eta):
    """Second transport coefficient of the normalised screened Rutherford DCS, <1 - P2(mu)>."""
    eta = np.asarray(eta, dtype=float)
    return 6.0 * eta * (1.0 + eta) * ((1.0 + 2.0 * eta) * np.log1p(1.0 / eta) - 2.0)


def sr_eta_for_ratio(ratio):
    """Screening parameter eta of the screened Rutherford DCS with <1 - P2>/<1 - P1> = ``ratio``.

    The ratio falls monotonically from 3 (eta -> 0) to 0 (eta -> infinity); solved by bisection in
    ln eta. Used to give the Goudsmit-Saunderson shape both transport cross sections of the model
    (the idea of PENELOPE's modified-Wentzel elastic model, which reproduces lambda_1 and lambda_2).
    """
    r = np.atleast_1d(np.asarray(ratio, dtype=float))
    lo = np.full(r.shape, math.log(1e-30))
    hi = np.full(r.shape, math.log(1e3))
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        e = np.exp(mid)
        big = _g2(e) / _g1(e) > r          # ratio too large: more screening needed
        lo = np.where(big, mid, lo)
        hi = np.where(big, hi, mid)
    return np.exp(0.5 * (lo + hi))


_GLX64, _GLW64 = np.polynomial.legendre.leggauss(64)


def electron_scattering_xi(E, z, eta, I_eV, ae=None, charge=-1):
    """Weight xi of the atomic electrons' share of the multiple scattering, Z^2 -> Z (Z + xi).

    Collisions with atomic electrons deflect the projectile too. With the free-electron (Rutherford)
    cross section 2 pi r_e^2 mc^2 Z / (beta^2 W^2) for an energy transfer W and the projectile's
    deflection from two-body kinematics, 1 - cos theta = 2 mc^2 W / (E (E - W + 2 mc^2) (1 + cos theta))
    (the momentum transfer q^2 c^2 = W (W + 2 mc^2) minus the longitudinal part (p - p')^2 c^2 ~ W^2),
    their first transport cross section is ``2 pi Z r_e^2 / (p^2 beta^2) B`` (p in mc) with
    ``B = p^2 mc^2 int_I^Wc (1 - cos theta(W)) / W^2 dW``, about ln(Wc / I) for Wc << E; the nucleus'
    is ``2 pi Z^2 r_e^2 / (p^2 beta^2) [ln(1 + 1/eta) - 1/(1 + eta)]``. ``xi`` is the ratio of the
    brackets. ``Wc`` is the largest transfer left to the multiple scattering: the delta-ray threshold
    ``ae`` when hard Moller/Bhabha collisions are simulated (they deflect the primary explicitly, so
    counting them here too would count them twice), else the kinematic limit (E/2 for electrons, E for
    positrons). The lower limit I (the element's mean excitation energy) stands for the distant
    collisions, whose momentum transfer is not that of a free electron (Fano, Phys. Rev. 93 (1954)
    117, doi:10.1103/PhysRev.93.117, at the accuracy of the logarithm). The customary Z (Z + 1) is
    xi = 1: it gives the electrons the nuclear logarithm and double counts the hard collisions.
    xi in [0, 1].
    """
    E = np.atleast_1d(np.asarray(E, dtype=float))
    eta = np.broadcast_to(np.asarray(eta, dtype=float), E.shape)
    wmax = E / 2.0 if charge < 0 else E
    wc = wmax if ae is None else np.minimum(wmax, ae)
    i_mev = I_eV * 1e-6
    lo = np.log(i_mev)
    hi = np.log(np.maximum(wc, i_mev))
    t = 0.5 * (hi - lo)[:, None] * (_GLX64[None, :] + 1.0) + lo
    W = np.exp(t)
    Ec = E[:, None]
    mc2 = ELECTRON_MASS
    Ep = Ec - W
    cp = np.sqrt(np.clip(Ep * (Ec + 2.0 * mc2) / (Ec * (Ep + 2.0 * mc2)), 0.0, 1.0))
    one_minus = 2.0 * mc2 * W / (Ec * (Ep + 2.0 * mc2) * (1.0 + cp))
    p2mc2 = Ec * (Ec + 2.0 * mc2) / mc2               # p^2 mc^2 with p in mc
    # int (1 - cos)/W^2 dW = int (1 - cos)/W d(ln W)
    num = p2mc2[:, 0] * 0.5 * (hi - lo) * np.sum(_GLW64[None, :] * one_minus / W, axis=1)
    den = np.log1p(1.0 / eta) - 1.0 / (1.0 + eta)
    return np.clip(num / den, 0.0, 1.0)


def material_transport_data(material, E, charge=-1, mott=True, ae=None, atomic_electrons=True):
    """Multiple-scattering data of a material: (k1, k2, eta_eff), k_l = 1/lambda_l in 1/(g/cm2).

    ``k1`` is the sum over elements of
    ``N_A w_i/A_i 2 pi Z (Z f1 + xi) r_e^2 / (p^2 beta^2) [ln(1 + 1/eta_i) - 1/(1 + eta_i)]``:
    screened Rutherford scattering on the nucleus times the Mott factor f1, plus the atomic
    electrons' share ``xi`` (:func:`electron_scattering_xi`; ``ae`` is the delta-ray threshold when
    hard collisions are simulated, None when every collision with an electron is left to the
    multiple scattering). ``k2`` adds the nuclear part with its own Mott factor f2
    (:func:`sr_transport_ratios`) and the electrons' part as 3 times their k1 (their deflections are
    small-angle, where 1 - P2 = 3 (1 - mu)). ``eta_eff`` is the screening of the one screened
    Rutherford DCS with the same k2/k1 (:func:`sr_eta_for_ratio`): the Goudsmit-Saunderson shape of a
    step then has the model's first and second transport cross sections. ``atomic_electrons=False``
    leaves the electrons' share out (elastic scattering by the atoms only).
    """
    E = np.atleast_1d(np.asarray(E, dtype=float))
    p2, b2 = _pb2(E)
    k1 = np.zeros(E.shape)
    k2 = np.zeros(E.shape)
    for z, w in zip(material.elements, material.mass_fractions):
        el = _elements.element(int(z))
        n = AVOGADRO * w / el.atomic_weight
        eta = moliere_eta(E, z)
        if mott:
            f1, f2 = sr_transport_ratios(E, z, eta, charge)
        else:
            f1 = f2 = 1.0
        xi = electron_scattering_xi(E, z, eta, el.I_eV, ae=ae, charge=charge) if atomic_electrons else 0.0
        # sigma_SR G1 = 2 pi Z^2 r_e^2/(p^2 beta^2) [ln(1 + 1/eta) - 1/(1 + eta)]
        pre = n * 2.0 * math.pi * z * R_ELECTRON**2 / (p2 * b2) / (2.0 * eta * (1.0 + eta))
        k1 += pre * (z * f1 + xi) * _g1(eta)
        k2 += pre * (z * f2 * _g2(eta) + 3.0 * xi * _g1(eta))
    return k1, k2, sr_eta_for_ratio(k2 / k1)


def material_ms_data(material, E, charge=-1, mott=True, ae=None):
    """Multiple-scattering data of a material: (k1 in 1/(g/cm2), eta_eff); see
    :func:`material_transport_data`."""
    k1, _, eta = material_transport_data(material, E, charge, mott, ae)
    return k1, eta


@njit(cache=True)
def _sr_moments(eta, lmax):
    """1 - xi_l (l = 0..lmax) of the normalised screened Rutherford DCS 2 eta (1+eta)/(1-mu+2eta)^2.

    xi_l = l (Q_{l-1}(z) - z Q_l(z)), z = 1 + 2 eta, with the Legendre functions of the second kind
    from their ratios r_l = Q_l/Q_{l-1} (downward recurrence, Miller's method).
    """
    z = 1.0 + 2.0 * eta
    acz = math.log(z + math.sqrt(z * z - 1.0))
    nstart = lmax + int(60.0 / acz) + 50
    if nstart > 5_000_000:
        nstart = 5_000_000
    r = np.zeros(lmax + 2)
    rl = 0.0
    for l in range(nstart, 0, -1):
        rl = l / ((2 * l + 1) * z - (l + 1) * rl)
        if l <= lmax + 1:
            r[l] = rl
    out = np.empty(lmax + 1)
    out[0] = 0.0
    q_prev = 0.5 * math.log((z + 1.0) / (z - 1.0))
    for l in range(1, lmax + 1):
        ql = q_prev * r[l]
        xi = l * (q_prev - z * ql)
        out[l] = 1.0 - xi
        q_prev = ql
    return out


_GL16X, _GL16W = np.polynomial.legendre.leggauss(16)


@njit(cache=True)
def _sr_moments_quad(eta, lmax, glx, glw):
    """1 - xi_l (l = 0..lmax) of the screened Rutherford DCS by quadrature, for tiny eta where the
    Legendre-function recurrence of :func:`_sr_moments` loses its digits (1 - xi_l ~ eta l^2).

    D_l = 1 - P_l(mu) is carried by its own upward recurrence,
    D_{l+1} = [(2l+1) a + (2l+1) mu D_l - l D_{l-1}] / (l+1), a = 1 - mu, which keeps full relative
    precision at small angles. Below theta_c = 1/lmax (no oscillation) the integral runs in
    t = ln(a + 2 eta) on panels of unit width; above it in theta on panels of 2 pi / lmax (one period
    of the highest P_l), 16 Gauss-Legendre points each.
    """
    thc = 1.0 / lmax
    ac = 1.0 - math.cos(thc)
    t0 = math.log(2.0 * eta)
    t1 = math.log(ac + 2.0 * eta)
    n1 = int(math.ceil(t1 - t0))
    n2 = int(math.ceil((math.pi - thc) / (2.0 * math.pi / lmax)))
    ng = glx.size
    nn = (n1 + n2) * ng
    a = np.empty(nn)
    w = np.empty(nn)
    c = 2.0 * eta * (1.0 + eta)
    q = 0
    h = (t1 - t0) / n1
    for p in range(n1):
        for g in range(ng):
            t = t0 + h * (p + 0.5 * (glx[g] + 1.0))
            et = math.exp(t)
            a[q] = et - 2.0 * eta
            w[q] = 0.5 * h * glw[g] * c / et          # p(mu) dmu = c e^{-t} dt
            q += 1
    h = (math.pi - thc) / n2
    for p in range(n2):
        for g in range(ng):
            th = thc + h * (p + 0.5 * (glx[g] + 1.0))
            aa = 2.0 * math.sin(0.5 * th) ** 2
            a[q] = aa
            w[q] = 0.5 * h * glw[g] * c * math.sin(th) / (aa + 2.0 * eta) ** 2
            q += 1
    out = np.zeros(lmax + 1)
    dm = np.zeros(nn)          # D_{l-1}
    d = a.copy()               # D_1 = a
    s = 0.0
    for k in range(nn):
        s += w[k] * d[k]
    out[1] = s
    for l in range(1, lmax):
        s = 0.0
        for k in range(nn):
            dn = ((2 * l + 1) * a[k] + (2 * l + 1) * (1.0 - a[k]) * d[k] - l * dm[k]) / (l + 1)
            dm[k] = d[k]
            d[k] = dn
            s += w[k] * dn
        out[l + 1] = s
    return out


#: below this screening parameter the moments come from quadrature (:func:`_sr_moments_quad`)
_ETA_QUAD = 1e-7


def legendre_moments_sr(eta, lmax=_LMAX):
    """1 - xi_l, l = 0..lmax, of the screened Rutherford angular distribution with screening eta."""
    if eta < _ETA_QUAD:
        return _sr_moments_quad(float(eta), int(max(lmax, 2)), _GL16X, _GL16W)[:int(lmax) + 1]
    return _sr_moments(float(eta), int(lmax))


def _legendre_matrix(mu, lmax):
    P = np.empty((lmax + 1, mu.size))
    P[0] = 1.0
    P[1] = mu
    for l in range(1, lmax):
        P[l + 1] = ((2 * l + 1) * mu * P[l] - l * P[l - 1]) / (l + 1)
    return P


_A_GRID = np.concatenate([np.geomspace(1e-12, 0.1, 600, endpoint=False), np.linspace(0.1, 2.0, 400)])
_P_CACHE: dict = {}


def gs_pdf(K, eta, a=None, lmax=_LMAX, moments=None):
    """Goudsmit-Saunderson distribution after a step of strength K on screened Rutherford.

    ``lambda = K / G1(eta)`` elastic collisions on average; the continuous part (at least one
    collision) is ``F(mu) = sum_l (l + 1/2) [exp(-lambda (1 - xi_l)) - exp(-lambda)] P_l(mu)``
    (Goudsmit and Saunderson, Phys. Rev. 57 (1940) 24, doi:10.1103/PhysRev.57.24).

    Returns
    -------
    (a, pdf, p0)
        ``a = 1 - mu`` grid, the continuous part per unit mu (integrating to 1 - p0, negative
        truncation ripples clipped) and the no-collision probability ``p0 = exp(-lambda)``.
    """
    if a is None:
        a = _A_GRID
    lam = K / float(_g1(eta))
    if moments is not None:
        om = moments
    elif eta < _ETA_QUAD:
        # the quadrature costs ~lmax^2: stop at l = 400 when the higher terms are zero anyway
        om = legendre_moments_sr(eta, min(lmax, 400))
        if om.size < lmax + 1:
            if lam * om[-1] > 80.0:
                om = np.concatenate([om, np.ones(lmax + 1 - om.size)])
            else:
                om = legendre_moments_sr(eta, lmax)
    else:
        om = legendre_moments_sr(eta, lmax)
    p0 = math.exp(-lam)
    c = (np.arange(lmax + 1) + 0.5) * (np.exp(-lam * om) - p0)
    big = np.nonzero(np.abs(c) > 1e-15 * np.abs(c).max())[0]
    nl = int(big[-1]) + 1 if big.size else 1
    key = (id(a), a.size, lmax)
    P = _P_CACHE.get(key)
    if P is None:
        P = _legendre_matrix(1.0 - a, lmax)
        _P_CACHE.clear()
        _P_CACHE[key] = P
    pdf = np.clip(c[:nl] @ P[:nl], 0.0, None)
    return a, pdf, p0


def _gs_quantiles(K, eta, nq=_NQ):
    a, pdf, p0 = gs_pdf(K, eta)
    # cumulative in a (trapezoid); the mass below a[0] = 1e-12 is negligible
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(a))])
    cdf /= cdf[-1]
    # levels 1 - (1 - t)^2, t uniform: finer toward the single-scattering tail (the kernel maps
    # its uniform number U to t = 1 - sqrt(1 - U))
    t = np.linspace(0.0, 1.0, nq)
    levels = 1.0 - (1.0 - t) ** 2
    keep = np.concatenate([[True], np.diff(cdf) > 0])
    q = np.interp(levels, cdf[keep], a[keep])
    q = np.clip(q, a[0], 2.0)
    return np.log(q), p0


# ---------------------------------------------------------------------------------------------
# hard collisions
# ---------------------------------------------------------------------------------------------
def moller_dcs(E, eps):
    """Moller DCS per electron, d sigma/d eps (cm2), eps = W/E the fractional energy transfer.

    ``2 pi r_e^2 mc^2 / (beta^2 E) [1/eps^2 + 1/(1-eps)^2 + ((g-1)/g)^2 - (2g-1)/g^2 / (eps(1-eps))]``
    (Moller 1932; ICRU 37). The delta is the electron with the smaller energy (eps <= 1/2).
    """
    g = E / ELECTRON_MASS + 1.0
    b2 = 1.0 - 1.0 / g**2
    eps = np.asarray(eps, dtype=float)
    br = 1.0 / eps**2 + 1.0 / (1.0 - eps) ** 2 + ((g - 1.0) / g) ** 2 - (2.0 * g - 1.0) / g**2 / (eps * (1.0 - eps))
    return 2.0 * math.pi * R_ELECTRON**2 * ELECTRON_MASS / (b2 * E) * br


def _bhabha_b(E):
    g = E / ELECTRON_MASS + 1.0
    y = 1.0 / (g + 1.0)
    y12 = 1.0 - 2.0 * y
    b1 = 2.0 - y * y
    b2 = y12 * (3.0 + y * y)
    b4 = y12**3
    b3 = b4 + y12**2
    return 1.0 - 1.0 / g**2, b1, b2, b3, b4


def bhabha_dcs(E, eps):
    """Bhabha DCS per electron, d sigma/d eps (cm2), eps = W/E the energy given to the electron.

    ``2 pi r_e^2 mc^2 / E [1/(beta^2 eps^2) - B1/eps + B2 - B3 eps + B4 eps^2]`` with y = 1/(g+1),
    B1 = 2 - y^2, B2 = (1-2y)(3+y^2), B3 = (1-2y)^2 + (1-2y)^3, B4 = (1-2y)^3 (Bhabha 1936;
    EGS4 SLAC-265 sec. 2.12).
    """
    b2, B1, B2, B3, B4 = _bhabha_b(E)
    eps = np.asarray(eps, dtype=float)
    return 2.0 * math.pi * R_ELECTRON**2 * ELECTRON_MASS / E * (
        1.0 / (b2 * eps**2) - B1 / eps + B2 - B3 * eps + B4 * eps**2)


def _moller_total(E, cut):
    """Integral of the Moller DCS over W in (cut, E/2), per electron (cm2); 0 if E <= 2 cut."""
    E = np.asarray(E, dtype=float)
    out = np.zeros(E.shape)
    ok = E > 2.0 * cut
    e = E[ok]
    g = e / ELECTRON_MASS + 1.0
    b2 = 1.0 - 1.0 / g**2
    x0 = cut / e
    x1 = 0.5
    gg = (2.0 * g - 1.0) / g**2
    s = ((x1 - x0) * (1.0 - gg + 1.0 / (x0 * x1) + 1.0 / ((1.0 - x0) * (1.0 - x1)))
         - gg * np.log(x1 * (1.0 - x0) / (x0 * (1.0 - x1)))) / b2
    out[ok] = 2.0 * math.pi * R_ELECTRON**2 * ELECTRON_MASS / e * s
    return out


def _bhabha_total(E, cut):
    """Integral of the Bhabha DCS over W in (cut, E), per electron (cm2); 0 if E <= cut."""
    E = np.asarray(E, dtype=float)
    out = np.zeros(E.shape)
    ok = E > cut
    e = E[ok]
    b2, B1, B2, B3, B4 = _bhabha_b(e)
    x0 = cut / e
    x1 = 1.0
    s = ((x1 - x0) * (1.0 / (b2 * x0 * x1) + B2 - 0.5 * B3 * (x0 + x1)
                      + B4 * (x0 * x0 + x0 * x1 + x1 * x1) / 3.0) - B1 * np.log(x1 / x0))
    out[ok] = 2.0 * math.pi * R_ELECTRON**2 * ELECTRON_MASS / e * s
    return out


# ---------------------------------------------------------------------------------------------
# bremsstrahlung
# ---------------------------------------------------------------------------------------------
def _element_brems_scale(z, E):
    """S_rad,i(E) / int_0^E k dsigma_i/dk dk (1/g): turns the Bethe-Heitler DCS per atom into the
    ESTAR-scaled DCS per gram of the element."""
    el = _elements.element(int(z))
    srad = _stopping.radiative(E, [1.0], [el.electron_energy], [el.radiative_stopping])
    return srad / _stopping._k_moment(E, E, z)


def brems_dcs_material(material, E, k):
    """k dsigma/dk per gram of the material (MeV... dimension cm2/g), ESTAR-scaled Bethe-Heitler.

    ``sum_i w_i S_rad,i(E) k dsigma_i/dk / int_0^E k' dsigma_i/dk' dk'``; integrating over k gives the
    ESTAR radiative stopping power. E scalar (MeV), k array (MeV).
    """
    E = float(E)
    k = np.asarray(k, dtype=float)
    out = np.zeros(k.shape)
    for z, w in zip(material.elements, material.mass_fractions):
        sc = float(_element_brems_scale(z, np.array([E]))[0])
        out += w * sc * k * _stopping.bremsstrahlung_dcs(E, k, int(z))
    return out


_GLX, _GLW = np.polynomial.legendre.leggauss(64)


def _brems_tables(material, E, kc):
    """(restricted S_rad below kc, sigma above kc, f table, fmax) on the grid E."""
    nE = E.size
    xs = np.linspace(0.0, 1.0, _NX_BREM)
    srad_res = np.zeros(nE)
    sig = np.zeros(nE)
    f = np.zeros((nE, _NX_BREM))
    hi = E > kc * (1.0 + 1e-9)
    Eh = E[hi]
    for z, w in zip(material.elements, material.mass_fractions):
        z = int(z)
        el = _elements.element(z)
        srad = _stopping.radiative(E, [1.0], [el.electron_energy], [el.radiative_stopping])
        full = _stopping._k_moment(E, E, z)
        part = np.where(hi, _stopping._k_moment(E, np.minimum(kc, E), z), full)
        srad_res += w * srad * part / full
        sc = w * srad[hi] / full[hi]
        # sigma above kc: int (k dsigma/dk) d ln k over [ln kc, ln E], two GL panels
        la, lb = math.log(kc), np.log(Eh)
        tot = np.zeros(Eh.size)
        for p0, p1 in ((0.0, 0.5), (0.5, 1.0)):
            t = p0 + (p1 - p0) * 0.5 * (_GLX + 1.0)
            lk = la + (lb - la)[:, None] * t[None, :]
            kk = np.exp(lk)
            kd = kk * _stopping.bremsstrahlung_dcs(Eh[:, None], kk, z)
            tot += (lb - la) * (p1 - p0) * 0.5 * np.sum(kd * _GLW, axis=1)
        sig[hi] += sc * tot
        kk = kc * (Eh[:, None] / kc) ** xs[None, :]
        kk = np.minimum(kk, Eh[:, None] * (1.0 - 1e-9))
        f[hi] += sc[:, None] * kk * _stopping.bremsstrahlung_dcs(Eh[:, None], kk, z)
    fmax = f.max(axis=1) * 1.02
    return srad_res, sig, f, fmax


# ---------------------------------------------------------------------------------------------
# packing
# ---------------------------------------------------------------------------------------------
def _option(opts, name, lo, hi, unit):
    v = opts[name]
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number ({unit}), got {v!r}") from None
    if not math.isfinite(x) or not lo < x <= hi:
        raise InputError(f"{name} must be in ({lo:g}, {hi:g}] {unit}, got {x!r}")
    return x


def _validate(options):
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise InputError(f"unknown electron option(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    opts = dict(DEFAULTS)
    opts.update(options)
    out = {}
    out["ecut"] = _option(opts, "ecut", 0.002 - 1e-12, 1.0, "MeV (kinetic)")
    out["ae"] = _option(opts, "ae", 0.002 - 1e-12, 1.0, "MeV (kinetic)")
    out["ap"] = _option(opts, "ap", 0.001 - 1e-12, 1.0, "MeV")
    out["estepe"] = _option(opts, "estepe", 0.0, 0.5, "(fraction)")
    out["ms_strength"] = _option(opts, "ms_strength", 0.0, 1.0, "(int ds/lambda_1)")
    for name in ("hard_collisions", "bremsstrahlung", "multiple_scattering"):
        if not isinstance(opts[name], (bool, np.bool_)):
            raise InputError(f"{name} must be True or False, got {opts[name]!r}")
        out[name] = bool(opts[name])
    return out


def _material_block(material, o, E):
    """Per-particle and per-material arrays of one material."""
    els = [_elements.element(int(z)) for z in material.elements]
    zs, w = material.elements, material.mass_fractions
    A = np.array([el.atomic_weight for el in els])
    kw = dict(shell_binding_eV=[el.estar_shell_binding_eV for el in els],
              shell_occupancy=[el.estar_shell_occupancy for el in els])
    ne_per_g = AVOGADRO * float(np.sum(w * zs / A))
    if o["bremsstrahlung"]:
        srad_c, sig_b, br_f, br_fmax = _brems_tables(material, E, o["ap"])
    else:
        srad_c = _stopping.radiative(E, w, [el.electron_energy for el in els],
                                     [el.radiative_stopping for el in els])
        sig_b = np.zeros(E.size)
        br_f = np.zeros((E.size, _NX_BREM))
        br_fmax = np.zeros(E.size)
    out = {}
    for c, particle in ((0, "e-"), (1, "e+")):
        if o["hard_collisions"]:
            scol = _stopping.restricted_collision(E, o["ae"], zs, w, A, material.I_eV, material.density,
                                                  particle=particle, **kw)
            sig_c = ne_per_g * (_moller_total(E, o["ae"]) if c == 0 else _bhabha_total(E, o["ae"]))
        else:
            scol = _stopping.bethe_collision(E, zs, w, A, material.I_eV, material.density,
                                             particle=particle, **kw)
            sig_c = np.zeros(E.size)
        L = scol + srad_c
        if np.any(L <= 0) or not np.all(np.isfinite(L)):
            raise InputError(f"material {material.name!r}: non-positive continuous stopping power")
        rng = _stopping.csda_range(E, L)
        k1, _ = material_ms_data(material, E, charge=-1 if c == 0 else 1,
                                 ae=o["ae"] if o["hard_collisions"] else None)
        # Lambda and H: cumulative trapezoid in ln E of (k1/L) E and (sigma/L) E
        dl = np.diff(np.log(E))
        gl = k1 / L * E
        lam = np.concatenate([[0.0], np.cumsum(0.5 * (gl[1:] + gl[:-1]) * dl)])
        gh = (sig_c + sig_b) / L * E
        hh = np.concatenate([[0.0], np.cumsum(0.5 * (gh[1:] + gh[:-1]) * dl)])
        out.setdefault("dedx", []).append(L)
        out.setdefault("lnrange", []).append(np.log(rng))
        out.setdefault("strength", []).append(lam)
        out.setdefault("hardint", []).append(hh)
        out.setdefault("sig_coll", []).append(sig_c)
    out["sig_brem"] = sig_b
    out["br_f"] = br_f
    out["br_fmax"] = br_fmax
    # multiple scattering grid: K(E) = min(K_max, strength of a step losing estepe of E)
    lo = math.log(E_MIN)
    n_ms = int(round(math.log10(E_MAX / E_MIN) * _MS_PER_DECADE)) + 1
    Ems = np.exp(np.linspace(lo, math.log(E_MAX), n_ms))
    lam_e = out["strength"][0]
    lnE = np.log(E)
    lam_at = np.interp(np.log(Ems), lnE, lam_e)
    lam_lo = np.interp(np.log(Ems * (1.0 - o["estepe"])), lnE, lam_e, left=0.0)
    K = np.minimum(o["ms_strength"], lam_at - lam_lo)
    K = np.maximum(K, 1e-4)
    _, eta = material_ms_data(material, Ems, ae=o["ae"] if o["hard_collisions"] else None)
    q = np.empty((n_ms, _NQ))
    p0 = np.empty(n_ms)
    if o["multiple_scattering"]:
        for j in range(n_ms):
            q[j], p0[j] = _gs_quantiles(K[j], eta[j])
    else:
        q[:] = math.log(1e-12)
        p0[:] = 1.0
    out["ms_K"] = K
    out["ms_p0"] = p0
    out["ms_q"] = q
    out["ms_grid"] = (lo, (n_ms - 1) / math.log(E_MAX / E_MIN))
    return out
