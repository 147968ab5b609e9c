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


@pytest.mark.parametrize("case", [CARBON_1MEV, ALUMINIUM_1033KEV], ids=["C-1.0MeV", "Al-1.033MeV"])
def test_energy_deposition_vs_lockwood(case):
    """Point by point, where the measured deposition exceeds 20 % (C) / 50 % (Al) of its maximum:
    within twice the quoted experimental uncertainty plus 3 statistical sigma (interpolated between
    our bin centres). R50 (50 % of the maximum beyond it, linear interpolation on the measured
    points and on ours sampled at the same depths) within 0.02 r0.

    Measured with this code (1e5 histories): C within -1.4/+2.7 %, R50 0.736 vs 0.738 r0;
    Al within -0.0/+4.7 % up to 0.55 r0, R50 0.556 vs 0.551 r0. Before the atomic-electron
    share of the multiple scattering was corrected (Z(Z+1) -> Z(Z+xi), docs/electron-physics.md),
    carbon was 2.5 % short in R50 and failed here."""
    material, e0, r0, xm, dm, rel = case
    x, d, u = _deposition(material, e0, r0)
    ours = np.interp(xm, x, d)
    sig = np.interp(xm, x, u)
    level = 0.2 if material == "graphite" else 0.5
    sel = dm >= level * dm.max()
    dev = np.abs(ours[sel] - dm[sel])
    allowed = 2.0 * rel * dm[sel] + 3.0 * sig[sel]
    worst = int(np.argmax(dev / allowed))
    assert np.all(dev <= allowed), (
        f"{material} {e0} MeV at x/r0 = {xm[sel][worst]}: ours {ours[sel][worst]:.3f} vs measured "
        f"{dm[sel][worst]:.3f} MeV cm2/g (allowed {allowed[worst]:.3f})")
    r50_ours = _r50(xm, ours)
    r50_meas = _r50(xm, dm)
    assert abs(r50_ours - r50_meas) < 0.02, (r50_ours, r50_meas)
