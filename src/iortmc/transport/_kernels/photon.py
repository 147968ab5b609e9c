"""Photon interaction samplers (numba). One pure function per interaction.

All energies MeV. Directions are unit vectors (u, v, w). Each sampler takes the generator state ``s``
(uint64[4], see :mod:`rng`) and returns plain numbers, so tests call them directly.

Models (references in docs/photon-physics.md):
- Compton: Klein-Nishina sampled by the Butcher-Messel/EGS mixed method (Kahn-type composition and
  rejection), then the incoherent scattering function S(x)/Z of the material as a rejection factor
  (Waller-Hartree binding correction, as XCOM's incoherent cross section assumes). No Doppler
  broadening: the scattered photon keeps the Klein-Nishina energy for its angle.
- Rayleigh: x^2 sampled from the tabulated cumulative of the material's F^2(x) (independent-atom
  form factors), then the Thomson factor (1 + cos^2)/2 as a rejection (PENELOPE's method).
- Photoelectric: element chosen by its partial cross section, shell by jump ratios, fluorescence with
  the shell's yield and line probabilities (no cascade beyond the first vacancy).
- Pair: charged particles deposit locally (kerma) or go to the electron engine; two 511 keV photons
  back to back, isotropic.
"""

import math

import numpy as np
from numba import njit

from .rng import uniform

ELECTRON_MASS = 0.51099895
HC_MEV_ANGSTROM = 1.23984198e-2  # h c in MeV Angstrom: x = sin(theta/2) E / hc  (1/Angstrom)
TWO_PI = 2.0 * math.pi


@njit(cache=True, inline="always")
def isotropic(s):
    """An isotropic unit vector."""
    w = 2.0 * uniform(s) - 1.0
    phi = TWO_PI * uniform(s)
    st = math.sqrt(max(0.0, 1.0 - w * w))
    return st * math.cos(phi), st * math.sin(phi), w


@njit(cache=True, inline="always")
def rotate(u, v, w, cost, phi):
    """Turn direction (u, v, w) by polar angle arccos(cost) and azimuth phi."""
    sint = math.sqrt(max(0.0, 1.0 - cost * cost))
    cphi = math.cos(phi)
    sphi = math.sin(phi)
    rho2 = u * u + v * v
    if rho2 > 1.0e-20:
        rho = math.sqrt(rho2)
        a = sint / rho
        un = u * cost + a * (u * w * cphi - v * sphi)
        vn = v * cost + a * (v * w * cphi + u * sphi)
        wn = w * cost - rho * sint * cphi
    else:
        un = sint * cphi
        vn = sint * sphi
        wn = cost if w >= 0.0 else -cost
    norm = 1.0 / math.sqrt(un * un + vn * vn + wn * wn)
    return un * norm, vn * norm, wn * norm


@njit(cache=True)
def sample_klein_nishina(E, s):
    """Free-electron Compton scattering: (E', cos theta) from the Klein-Nishina DCS.

    Butcher and Messel (1960) / EGS4 sampling of eps = E'/E on [eps0, 1] as a mixture of 1/eps and eps
    densities with the rejection function 1 - eps sin^2 / (1 + eps^2).
    """
    k = E / ELECTRON_MASS
    eps0 = 1.0 / (1.0 + 2.0 * k)
    eps0sq = eps0 * eps0
    alpha1 = -math.log(eps0)
    alpha2 = 0.5 * (1.0 - eps0sq)
    while True:
        if uniform(s) * (alpha1 + alpha2) < alpha1:
            eps = math.exp(-alpha1 * uniform(s))
            epssq = eps * eps
        else:
            epssq = eps0sq + (1.0 - eps0sq) * uniform(s)
            eps = math.sqrt(epssq)
        t = (1.0 - eps) / (k * eps)
        sin2 = t * (2.0 - t)
        g = 1.0 - eps * sin2 / (1.0 + epssq)
        if uniform(s) <= g:
            cost = 1.0 - t
            return eps * E, cost


@njit(cache=True, inline="always")
def _sf_ratio(x, sf, inv_du, nu):
    """S(x)/Z from a table uniform in u = sqrt(x); 1 beyond the table."""
    fu = math.sqrt(x) * inv_du
    i = int(fu)
    if i >= nu - 1:
        return 1.0
    f = fu - i
    return sf[i] + f * (sf[i + 1] - sf[i])


@njit(cache=True)
def sample_compton(E, sf, inv_du, s):
    """Bound Compton scattering: Klein-Nishina with S(x)/Z rejection.

    ``sf`` is S(x)/Z of the material on a grid uniform in sqrt(x) (x in 1/Angstrom) with step 1/inv_du.
    Returns (E', cos theta).
    """
    nu = sf.shape[0]
    while True:
        Ep, cost = sample_klein_nishina(E, s)
        x = E / HC_MEV_ANGSTROM * math.sqrt(max(0.0, 0.5 * (1.0 - cost)))
        if uniform(s) <= _sf_ratio(x, sf, inv_du, nu):
            return Ep, cost


@njit(cache=True, inline="always")
def _bisect(a, value, lo, hi):
    """Largest i in [lo, hi) with a[i] <= value (a non-decreasing)."""
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if a[mid] <= value:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True)
def rayleigh_qmax_cum(E, q, cum):
    """Cumulative F^2 integral up to q_max(E) = (E/hc)^2 (interpolated; flat beyond the table)."""
    xmax = E / HC_MEV_ANGSTROM
    qmax = xmax * xmax
    n = q.shape[0]
    if qmax >= q[n - 1]:
        return qmax, cum[n - 1]
    i = _bisect(q, qmax, 0, n)
    f = (qmax - q[i]) / (q[i + 1] - q[i])
    return qmax, cum[i] + f * (cum[i + 1] - cum[i])


@njit(cache=True)
def sample_rayleigh(E, q, cum, s):
    """Coherent scattering: cos theta sampled from (1 + cos^2)/2 F^2(x) (independent-atom model).

    ``q`` = x^2 grid (1/Angstrom^2), ``cum`` the cumulative integral of the material's F^2 over q
    (linear within a bin, i.e. F^2 taken constant per bin).
    """
    qmax, cmax = rayleigh_qmax_cum(E, q, cum)
    n = q.shape[0]
    inv_xmax2 = 1.0 / qmax
    while True:
        target = uniform(s) * cmax
        i = _bisect(cum, target, 0, n)
        if i >= n - 1:
            qq = q[n - 1]
        else:
            dc = cum[i + 1] - cum[i]
            f = (target - cum[i]) / dc if dc > 0.0 else 0.0
            qq = q[i] + f * (q[i + 1] - q[i])
        if qq > qmax:
            qq = qmax
        cost = 1.0 - 2.0 * qq * inv_xmax2
        if 2.0 * uniform(s) <= 1.0 + cost * cost:
            return cost


@njit(cache=True)
def sample_photoelectric_shell(E, sh_lo, sh_hi, sh_binding, sh_jump, s):
    """Shell index (global) of a photoabsorption in an element, or -1 for an outer shell.

    Shells ``sh_lo..sh_hi-1`` in order of decreasing binding energy. A shell with binding energy below
    E takes the absorption with probability (J - 1)/J of what the inner shells left (jump-ratio
    approximation).
    """
    for i in range(sh_lo, sh_hi):
        if E >= sh_binding[i] and sh_jump[i] > 1.0:
            if uniform(s) * sh_jump[i] >= 1.0:
                return i
    return -1


@njit(cache=True)
def sample_fluorescence(shell, sh_yield, ln_lo, ln_energy, ln_cum, s):
    """Energy (MeV) of the fluorescence photon after a vacancy in ``shell``, or 0 (Auger).

    ``ln_lo[shell]..ln_lo[shell+1]`` index the shell's lines; ``ln_cum`` is the cumulative line
    probability (ending at 1) within each shell.
    """
    if shell < 0 or uniform(s) >= sh_yield[shell]:
        return 0.0
    lo = ln_lo[shell]
    hi = ln_lo[shell + 1]
    if hi <= lo:
        return 0.0
    r = uniform(s)
    for i in range(lo, hi):
        if r <= ln_cum[i]:
            return ln_energy[i]
    return ln_energy[hi - 1]
