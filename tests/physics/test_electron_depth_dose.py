"""Central-axis depth dose of broad, monoenergetic, parallel electron beams in water (issue 4).

Geometry: a 10 cm x 10 cm parallel beam on a water phantom of one 200 cm x 200 cm column of thin
slabs. By translation invariance (reciprocity), the laterally integrated dose of a finite field in a
laterally infinite medium equals the central-axis dose of an infinitely broad beam, so the column's
depth dose *is* the broad-beam central-axis depth dose, without the statistical cost of a small
central voxel. Ranges come from ``electron_depth_dose_reference.depth_dose_ranges`` (100 % level
from a parabola fitted around the maximum, Rp from the tangent through the 40-60 % points).

References (details and formulas in ``electron_depth_dose_reference.py``):

* R50: Rogers and Bielajew, Med. Phys. 13 (1986) 687, doi:10.1118/1.595831 (EGS, broad
  monoenergetic parallel beams): E0 = 0.656 + 2.059 R50 + 0.022 R50^2.
* Rp: ICRU Report 35 (1984): E_p,0 = 0.22 + 1.98 Rp + 0.0025 Rp^2, with E_p,0 = E0.
* The multiple-scattering transport is checked against Lewis' exact moment equations
  (H. W. Lewis, Phys. Rev. 78 (1950) 526, doi:10.1103/PhysRev.78.526).

Acceptance (issue 4): R50 and Rp within 1 mm of the references at 6, 9 and 12 MeV (``slow``).
Status when written (see docs/electron-physics.md): Rp passes at all three energies; R50 is
about 1.0 mm (6 MeV), 1.5 mm (9 MeV) and 1.8 mm (12 MeV) shallower than Rogers-Bielajew, so the
slow R50 tests fail; they are kept strict on purpose.
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import iortmc as mc
from iortmc.physics import electron_tables as etb
from iortmc.transport.packing import pack_electron_tables

sys.path.insert(0, str(Path(__file__).resolve().parent))
import electron_depth_dose_reference as ref  # noqa: E402
from test_electron_transport import _run, _slab_geometry  # noqa: E402

TOL_CM = 0.1   # issue 4: 1 mm


def _broad_beam(energy, histories, seed=11, dz=0.05, threads=2):
    nz = int(round((0.62 * energy + 1.0) / dz))
    ph = mc.Phantom(materials=[mc.material("water")], index=np.zeros((nz, 1, 1), np.int32),
                    density=np.ones((nz, 1, 1)), voxel_size=(200.0, 200.0, dz), origin=(-100, -100, 0))
    beam = mc.ElectronBeam(energy, field_size=(10.0, 10.0), position=(0.0, 0.0, -0.5))
    r = mc.simulate(ph, beam, histories=histories, seed=seed, threads=threads)
    z = (np.arange(nz) + 0.5) * dz
    return z, r.dose[:, 0, 0], r.uncertainty[:, 0, 0]


def _ranges_with_sigma(z, d, u, n_boot=40, seed=0):
    """Ranges and their statistical standard deviations (parametric bootstrap on the voxel doses)."""
    out = ref.depth_dose_ranges(z, d)
    rng = np.random.default_rng(seed)
    boots = [ref.depth_dose_ranges(z, d * (1.0 + u * rng.standard_normal(d.size))) for _ in range(n_boot)]
    sig = {k: float(np.std([b[k] for b in boots], ddof=1)) for k in ("R50", "Rp", "R90", "R80")}
    return out, sig


def test_depth_dose_6mev_fast():
    """6 MeV, 60k histories (~10 s): Rp within 1 mm + 3 sigma of ICRU 35 and R50 within 1 mm + 3 sigma
    of Rogers-Bielajew (the statistical sigma of R50 and Rp here is ~0.1 mm)."""
    z, d, u = _broad_beam(6.0, 60_000)
    r, s = _ranges_with_sigma(z, d, u)
    assert s["R50"] < 0.03 and s["Rp"] < 0.05
    assert abs(r["Rp"] - ref.rp_icru35(6.0)) < TOL_CM + 3 * s["Rp"]
    assert abs(r["R50"] - ref.r50_rogers_bielajew(6.0)) < TOL_CM + 3 * s["R50"]


def test_multiple_scattering_reproduces_lewis_moments():
    """Energy-weighted first and second moments of the depth of energy deposition, pencil beam of
    6 MeV electrons in infinite water with continuous loss only (no straggling), vs Lewis' moment
    equations solved with the same transport cross sections (k1 = 1/lambda_1, k2 = 1/lambda_2):
    d<z>/ds = <w>, d<w>/ds = -k1 <w>, d<z^2>/ds = 2<zw>, d<zw>/ds = <w^2> - k1 <zw>,
    d<P2(w)>/ds = -k2 <P2(w)>. Exact for any multiple-scattering algorithm that is right, so it tests
    the random hinge, the GS sampling and the voxel walk together (within 1 % / 2 %)."""
    from scipy.integrate import solve_ivp

    E0 = 6.0
    water = mc.material("water")
    et = pack_electron_tables([water], hard_collisions=False, bremsstrahlung=False, ecut=0.01)
    grid = np.exp(et.log_emin + et.dlog * np.arange(et.dedx.shape[2]))
    lnR = et.lnrange[0, 0]
    R0 = math.exp(np.interp(math.log(E0), np.log(grid), lnR))
    dz = 0.02
    nz = int(2.4 * R0 / dz)
    z0 = nz * dz / 2
    geo = _slab_geometry(np.ones(nz), dz, lateral=1e4)
    s1, _, _ = _run(et, geo, E0, 20_000, mode=0, pos=(0.0, 0.0, z0))
    zc = (np.arange(nz) + 0.5) * dz - z0
    m1 = (s1 * zc).sum() / s1.sum()
    m2 = (s1 * zc * zc).sum() / s1.sum() - dz * dz / 12

    Eg = np.geomspace(0.01, E0, 400)
    k1, eta = etb.material_ms_data(water, Eg)
    k2 = k1 * np.array([(lambda m: m[2] / m[1])(etb.legendre_moments_sr(e, 4)) for e in eta])
    Rg = np.exp(np.interp(np.log(Eg), np.log(grid), lnR))
    L = np.interp(np.log(Eg), np.log(grid), et.dedx[0, 0])

    def rhs(s, y):
        e = np.interp(R0 - s, Rg, Eg)
        a1, a2 = np.interp(e, Eg, k1), np.interp(e, Eg, k2)
        return [y[1], -a1 * y[1], 2 * y[3], (1 + 2 * y[4]) / 3 - a1 * y[3], -a2 * y[4]]

    smax = R0 - Rg[0]
    ss = np.linspace(0.0, smax, 3001)
    sol = solve_ivp(rhs, (0.0, smax), [0, 1, 0, 0, 1], t_eval=ss, rtol=1e-8, atol=1e-12, max_step=smax / 1500)
    Es = np.interp(R0 - sol.t, Rg, Eg)
    w = np.interp(Es, Eg, L)
    l1 = (np.trapezoid(w * sol.y[0], sol.t) + Es[-1] * sol.y[0][-1]) / E0
    l2 = (np.trapezoid(w * sol.y[2], sol.t) + Es[-1] * sol.y[2][-1]) / E0
    assert m1 == pytest.approx(l1, rel=0.01)
    assert m2 == pytest.approx(l2, rel=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("energy,histories", [(6.0, 400_000), (9.0, 200_000), (12.0, 150_000)])
def test_depth_dose_ranges_slow(energy, histories):
    """Issue 4 acceptance: R50 (Rogers-Bielajew 1986) and Rp (ICRU 35) within 1 mm, coupled photon
    transport on (bremsstrahlung tail). The run must be precise enough for a strict comparison:
    statistical sigma below 0.1 mm (R50) and 0.2 mm (Rp), a tenth and a fifth of the tolerance
    (bootstrap estimates: 0.03-0.06 mm and 0.06-0.12 mm at these history counts)."""
    z, d, u = _broad_beam(energy, histories)
    r, s = _ranges_with_sigma(z, d, u)
    assert s["R50"] < 0.01 and s["Rp"] < 0.02, s
    dp = r["Rp"] - ref.rp_icru35(energy)
    d50 = r["R50"] - ref.r50_rogers_bielajew(energy)
    assert abs(dp) < TOL_CM and abs(d50) < TOL_CM, f"Rp {10 * dp:+.2f} mm, R50 {10 * d50:+.2f} mm"
