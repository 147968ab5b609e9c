"""Energy deposition of ~1 MeV electrons in semi-infinite carbon and aluminium vs calorimetry.

Reference (measured): G. J. Lockwood, L. E. Ruggles, G. H. Miller and J. A. Halbleib, "Calorimetric
measurement of electron energy deposition in extended media - theory vs experiment", Sandia report
SAND79-0414 (1980; reprinted 1987). Broad monoenergetic beams at normal incidence on stacks of foils;
energy deposited per unit mass thickness per incident electron (MeV cm^2/g) against the depth in
units of r0 (Lockwood's range, g/cm^2), quoted uncertainty 2 % (C) and 1.4 % (Al). Values as
tabulated in the Geant4 TestEm11 example (examples/extended/electromagnetic/TestEm11/sandia/data)
and in the Radiant-Examples collection (Lockwood/get_lockwood_data.jl), which agree for the points
used here.

This is a measured test of the whole electron physics at 1 MeV (multiple scattering, energy loss,
straggling and backscatter in the absolute dose per incident electron) in a low-Z (water-like) and a
medium-Z material. By reciprocity the broad-beam curve is the laterally integrated pencil-beam
deposition: one 200 x 200 cm voxel per depth bin of 0.025 r0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import iortmc as mc

GY_PER_MEV_PER_G = 1.602176634e-10
LATERAL_CM = 200.0

#: (material, E0 MeV, r0 g/cm2, depths x/r0, MeV cm2/g per incident electron, relative uncertainty)
CARBON_1MEV = ("graphite", 1.0, 0.489,
               np.array([0.016, 0.107, 0.198, 0.289, 0.378, 0.472, 0.568, 0.673, 0.781, 0.883]),
               np.array([1.66, 2.09, 2.50, 2.89, 3.03, 2.98, 2.64, 1.97, 1.21, 0.49]), 0.02)
ALUMINIUM_1033KEV = ("aluminium", 1.033, 0.569,
                     np.array([0.0165, 0.0317, 0.0448, 0.0591, 0.0707, 0.0836, 0.0987, 0.174, 0.195,
                               0.221, 0.253, 0.280, 0.320, 0.373, 0.391, 0.431, 0.443, 0.511, 0.552,
                               0.621, 0.736]),
                     np.array([1.87, 2.01, 2.12, 2.28, 2.37, 2.45, 2.64, 3.17, 3.22, 3.28, 3.28, 3.25,
                               3.11, 2.87, 2.76, 2.52, 2.43, 1.93, 1.63, 1.09, 0.42]), 0.014)
# (The two Al points at x/r0 = 0.127 and 0.142 are left out: the two public transcriptions of the
# report disagree there, 2.80/2.88 vs 2.90/2.98. The point at 0.0045 r0 lies inside our first bin.)


def _deposition(material, e0, r0, histories=100_000, seed=5):
    m = mc.material(material)
    nb = 48
    dz = 0.025 * r0 / m.density
    ph = mc.Phantom(materials=[m], index=np.zeros((nb, 1, 1), np.int32),
                    density=np.full((nb, 1, 1), m.density), voxel_size=(LATERAL_CM, LATERAL_CM, dz),
                    origin=(-LATERAL_CM / 2, -LATERAL_CM / 2, 0.0))
    beam = mc.ElectronBeam(e0, field_size=(10.0, 10.0), position=(0.0, 0.0, -0.5))
    # 10 keV cut-off and delta threshold: the defaults (100 keV) are meant for 4-20 MeV beams
    r = mc.simulate(ph, beam, histories=histories, seed=seed, threads=2, ecut=0.01, ae=0.01)
    d = r.dose[:, 0, 0] / GY_PER_MEV_PER_G * LATERAL_CM**2
    x = (np.arange(nb) + 0.5) * 0.025
    return x, d, r.uncertainty[:, 0, 0] * d


def _r50(x, d):
    k = int(np.argmax(d))
    j = k + int(np.nonzero(d[k:] <= 0.5 * d[k])[0][0])
    return x[j - 1] + (d[j - 1] - 0.5 * d[k]) * (x[j] - x[j - 1]) / (d[j - 1] - d[j])


_PENELOPE = Path(__file__).resolve().parent / "data" / "penelope_lockwood_c_al.csv"


def _penelope(material, xm):
    """PENELOPE-2018 (PenRed 1.14, 2e6 histories) on the same set-up, at the measured depths:
    (deposition, 1-sigma)."""
    rows = [ln.split(",") for ln in _PENELOPE.read_text().splitlines()[5:] if ln.strip()]
    rows = [r for r in rows if r[0] == material]
    x = np.array([float(r[4]) for r in rows])
    assert np.allclose(x, xm), (material, x, xm)
    return np.array([float(r[6]) for r in rows]), np.array([float(r[7]) for r in rows])


@pytest.mark.parametrize("case", [CARBON_1MEV, ALUMINIUM_1033KEV], ids=["C-1.0MeV", "Al-1.033MeV"])
def test_energy_deposition_vs_lockwood(case):
    """Every measured depth (the whole measured range): our deviation from the measurement is no
    larger than PENELOPE-2018's on the same set-up (file ``data/penelope_lockwood_c_al.csv``) or, where
    PENELOPE is closer than the experiment can tell, twice the quoted experimental uncertainty; plus
    3 statistical sigma (ours and PENELOPE's). R50 (50 % of the maximum beyond it, linear
    interpolation on the measured depths) likewise: within max(|R50_PENELOPE - R50_measured|, 0.01 r0)
    of the measured R50.

    PENELOPE itself misses the experiment in places: carbon -6.4 % at 0.78 r0 and -10 % at 0.88 r0,
    R50 0.725 vs 0.738 r0; aluminium +2.5 % on the plateau, +6.3 % at 0.62 r0 and +7.6 % at 0.74 r0."""
    material, e0, r0, xm, dm, rel = case
    x, d, u = _deposition(material, e0, r0)
    ours = np.interp(xm, x, d)
    sig = np.interp(xm, x, u)
    pen, pen_sig = _penelope(material, xm)
    assert np.all(sig < 0.02 * dm), "precondition: statistical sigma below 2 % at every depth"
    dev = np.abs(ours - dm)
    allowed = np.maximum(np.abs(pen - dm), 2.0 * rel * dm) + 3.0 * np.hypot(sig, pen_sig)
    worst = int(np.argmax(dev / allowed))
    assert np.all(dev <= allowed), (
        f"{material} {e0} MeV at x/r0 = {xm[worst]}: ours {ours[worst]:.3f}, PENELOPE {pen[worst]:.3f}, "
        f"measured {dm[worst]:.3f} MeV cm2/g (allowed deviation {allowed[worst]:.3f})")
    r50_ours, r50_meas, r50_pen = _r50(xm, ours), _r50(xm, dm), _r50(xm, pen)
    assert abs(r50_ours - r50_meas) <= max(abs(r50_pen - r50_meas), 0.01), (r50_ours, r50_meas, r50_pen)
