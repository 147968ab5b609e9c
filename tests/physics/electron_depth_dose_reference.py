"""Range-energy relations of broad monoenergetic electron beams normally incident on water, and a small
depth-dose analysis (used by ``tools/detailed_elastic_reference.py``). These relations are not test
references: the depth-dose tests compare with PENELOPE-2018 curves (``test_electron_depth_dose.py``).

References
----------
R50 (depth of 50 % of the maximum dose): D. W. O. Rogers and A. F. Bielajew, "Differences in
electron depth-dose curves calculated with EGS and ETRAN and improved energy-range relationships",
Med. Phys. 13 (1986) 687-694, doi:10.1118/1.595831. From EGS calculations of broad, parallel,
monoenergetic beams in water: ``E0 = 0.656 + 2.059 R50 + 0.022 R50^2`` (E0 in MeV, R50 in cm),
quoted by AAPM TG-25 (Khan et al., Med. Phys. 18 (1991) 73, doi:10.1118/1.596695).

Rp (practical range): ICRU Report 35, Radiation dosimetry: electron beams with energies between 1 and
50 MeV (1984): ``E_p,0 = 0.22 + 1.98 Rp + 0.0025 Rp^2`` (MeV, cm), E_p,0 the most probable energy at
the phantom surface of a broad beam. For a monoenergetic beam E_p,0 = E0. (Derived for clinical,
nearly monoenergetic broad beams; the practical range is set by the most energetic electrons, which
is why the relation is used here for monoenergetic beams.)
"""

from __future__ import annotations

import math

import numpy as np

#: Energies (MeV) at which the relations are usually quoted here.
ENERGIES_MEV = (6.0, 9.0, 12.0)


def _positive_root(c0, c1, c2, energy):
    """Positive root R of c0 + c1 R + c2 R^2 = energy."""
    return (-c1 + math.sqrt(c1 * c1 - 4.0 * c2 * (c0 - energy))) / (2.0 * c2)


def r50_rogers_bielajew(energy_mev: float) -> float:
    """R50 (cm) of a broad monoenergetic parallel beam in water (Rogers and Bielajew 1986)."""
    return _positive_root(0.656, 2.059, 0.022, float(energy_mev))


def rp_icru35(energy_mev: float) -> float:
    """Practical range Rp (cm) in water for a most probable surface energy ``energy_mev`` (ICRU 35)."""
    return _positive_root(0.22, 1.98, 0.0025, float(energy_mev))


def depth_dose_ranges(depth_cm, dose, fit_halfwidth_cm=0.4):
    """R100, R90, R80, R50, R20 (cm), Rp (cm) and the 80-20 falloff of a fine-binned depth-dose curve.

    The 100 % level is the maximum of a parabola fitted by least squares to the samples within
    ``fit_halfwidth_cm`` of the largest sample (the largest sample itself is biased upward by noise);
    the levels are found by linear interpolation beyond the maximum; Rp is where the least-squares line
    through the distal samples between 40 % and 60 % meets zero dose (no bremsstrahlung background is
    subtracted: the tail of these beams is < 1 % of the maximum).
    """
    z = np.asarray(depth_cm, dtype=float)
    d = np.asarray(dose, dtype=float)
    k = int(np.argmax(d))
    near = np.abs(z - z[k]) <= fit_halfwidth_cm
    a, b, c = np.polyfit(z[near], d[near], 2)
    if a < 0:
        r100 = float(np.clip(-b / (2 * a), z[near][0], z[near][-1]))
        dmax = float(np.polyval((a, b, c), r100))
    else:
        r100, dmax = float(z[k]), float(d[k])
    out = {"R100": r100, "D_max": dmax}
    i0 = int(np.searchsorted(z, r100))
    for level in (90, 80, 50, 20):
        t = level / 100.0 * dmax
        below = np.nonzero(d[i0:] <= t)[0]
        if below.size == 0 or i0 + below[0] == 0:
            out[f"R{level}"] = math.nan
            continue
        j = i0 + int(below[0])
        out[f"R{level}"] = float(z[j - 1] + (d[j - 1] - t) * (z[j] - z[j - 1]) / (d[j - 1] - d[j]))
    sel = np.arange(z.size) >= i0
    sel &= (d >= 0.4 * dmax) & (d <= 0.6 * dmax)
    slope, icpt = np.polyfit(z[sel], d[sel], 1)
    out["Rp"] = float(-icpt / slope)
    out["falloff_80_20"] = out["R20"] - out["R80"]
    return out
