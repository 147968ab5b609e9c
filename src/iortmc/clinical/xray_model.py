"""A physical model of a low-kV tungsten-anode X-ray spectrum, for commissioning without SpekPy.

The spectrum is built from three physical ingredients, each with a literature source:

* **Thick-target bremsstrahlung, Kramers' law**: the photon number emitted per unit energy by
  electrons of kinetic energy ``kVp`` stopping in a thick target is proportional to
  ``Z (kVp - E) / E`` (H. A. Kramers, Phil. Mag. 46 (1923) 836; the same form is the unfiltered
  spectrum in R. Birch and M. Marshall, Phys. Med. Biol. 24 (1979) 505). It vanishes at ``E = kVp``
  (the Duane-Hunt limit).
* **Tungsten L characteristic lines**: Lalpha1 8.398, Lalpha2 8.335, Lbeta1 9.672, Lbeta2 9.962,
  Lgamma1 11.286 keV with relative intensities 100 : 11 : 67 : 21 : 13 (X-ray Data Booklet,
  A. C. Thompson et al., LBNL, 3rd ed. 2009, tables 1-2 and 1-3). The K lines (K edge 69.5 keV)
  are not excited at 50 kV. Their total strength relative to the bremsstrahlung, ``l_fraction``
  (L-line photons per bremsstrahlung photon above 1 keV, before filtration), depends on the target
  geometry and is a parameter.
* **Filtration** by named materials (anode self-absorption as an effective tungsten thickness, the
  tube window, a cooling-water layer, added aluminium): transmission ``exp(-sum mu_i t_i)`` with
  iortmc's own photon attenuation data (NIST XCOM, the same tables the transport uses).

Kramers' law is a simple model: it neglects the angular distribution of bremsstrahlung and the
electron backscatter from the target, and overestimates the low-energy fluence of an unfiltered
target; with an effective self-filtration thickness it describes filtered 50 kV spectra well enough
to commission a source against dose, which only sees the spectrum through attenuation. It is not a
substitute for a measured spectrum or a full model such as SpekPy (optional extra ``spectra``).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..physics.materials import material as _material

__all__ = ["W_L_LINES_KEV", "kramers_fluence", "transmission", "tungsten_spectrum"]

#: Tungsten L lines (keV, relative intensity): X-ray Data Booklet (Thompson et al. 2009).
W_L_LINES_KEV = ((8.335, 11.0), (8.398, 100.0), (9.672, 67.0), (9.962, 21.0), (11.286, 13.0))


def kramers_fluence(edges_keV, kvp: float) -> np.ndarray:
    """Relative photon number per bin of Kramers' thick-target spectrum, ``(kVp - E)/E``, integrated
    exactly over each bin (0 above kVp)."""
    e = np.asarray(edges_keV, dtype=np.float64)
    lo = np.minimum(e[:-1], kvp)
    hi = np.minimum(e[1:], kvp)
    out = np.zeros(len(lo))
    ok = hi > lo
    out[ok] = kvp * np.log(hi[ok] / lo[ok]) - (hi[ok] - lo[ok])
    return out


def transmission(energy_keV, filters) -> np.ndarray:
    """``exp(-sum_i (mu/rho)_i rho_i t_i)`` at ``energy_keV`` for ``filters`` = {material: thickness_cm}."""
    e = np.asarray(energy_keV, dtype=np.float64) * 1e-3
    mu_t = np.zeros_like(e)
    for name, t in filters.items():
        if t == 0:
            continue
        m = _material(name) if isinstance(name, str) else name
        mu_t = mu_t + m.mu_over_rho(e) * m.density * float(t)
    return np.exp(-mu_t)


def _check(kvp, filters, l_fraction):
    try:
        kvp = float(kvp)
    except (TypeError, ValueError):
        raise InputError(f"kvp must be a number (kV), got {kvp!r}") from None
    if not math.isfinite(kvp) or not 5.0 <= kvp <= 300.0:
        raise InputError(f"kvp must be between 5 and 300 kV, got {kvp!r}")
    if not isinstance(filters, dict):
        raise InputError(f"filters must be a dict {{material: thickness_cm}}, got {filters!r}")
    for name, t in filters.items():
        if not isinstance(t, (int, float, np.floating)) or not math.isfinite(t) or t < 0:
            raise InputError(f"filter thickness of {name!r} must be a number >= 0 (cm), got {t!r}")
    if not math.isfinite(float(l_fraction)) or l_fraction < 0:
        raise InputError(f"l_fraction must be >= 0, got {l_fraction!r}")
    return kvp


def tungsten_spectrum(edges_keV, kvp: float = 50.0, filters=None, l_fraction: float = 0.0,
                      subdivisions: int = 20) -> np.ndarray:
    """Relative photon fluence per bin (sum 1) of a filtered tungsten-anode spectrum.

    Parameters
    ----------
    edges_keV : array
        Bin edges (keV, increasing).
    kvp : float
        Tube potential (kV): the maximum photon energy.
    filters : dict, optional
        {material name or Material: thickness in cm}, e.g. ``{"tungsten": 2e-4, "aluminium": 0.05}``.
    l_fraction : float
        W L-line photons per bremsstrahlung photon above 1 keV (before filtration).
    subdivisions : int
        Points per bin for the bremsstrahlung transmission average.
    """
    filters = dict(filters or {})
    kvp = _check(kvp, filters, l_fraction)
    e = np.asarray(edges_keV, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0) or e[0] <= 0:
        raise InputError("edges_keV must be at least 2 increasing positive energies (keV)")
    # bremsstrahlung: sub-bin integration of Kramers x transmission
    k = int(subdivisions)
    fine = np.concatenate([np.linspace(a, b, k + 1)[:-1] for a, b in zip(e[:-1], e[1:])] + [e[-1:]])
    kf = kramers_fluence(fine, kvp)
    mid = 0.5 * (fine[1:] + fine[:-1])
    brems = (kf * transmission(mid, filters)).reshape(len(e) - 1, k).sum(axis=1)
    total = brems.copy()
    if l_fraction > 0:
        norm = kvp * math.log(kvp / 1.0) - (kvp - 1.0)          # Kramers photons above 1 keV
        rel = np.array([w for _, w in W_L_LINES_KEV])
        rel = rel / rel.sum()
        for (el, _), r in zip(W_L_LINES_KEV, rel):
            if el >= kvp or el < e[0] or el >= e[-1]:
                continue
            i = int(np.searchsorted(e, el, side="right") - 1)
            total[i] += l_fraction * norm * r * float(transmission([el], filters)[0])
    s = total.sum()
    if s <= 0:
        raise InputError("the filtered spectrum is zero in every bin (filtration too thick or kvp below the bins)")
    return total / s
