"""Dose fall-off around a 50 keV isotropic point source in water.

Reference: ANSI/ANS-6.4.3-1991 point-isotropic buildup factor of water at 0.05 MeV (GP form of
Harima et al., Nucl. Sci. Eng. 94 (1986) 24; data D. K. Trubey, ORNL-6481, 1988) with
mu_en/rho = 0.04223 cm2/g (Hubbell and Seltzer, NISTIR 5632); see ``point_source_reference.py`` for
the numbers, the physics the reference leaves out and the size of its effect.

Set-up: 20 cm water cube in 2 mm voxels, source at the centre, collision-kerma scoring, fixed seed.
The simulated dose is compared shell by shell (voxels assigned to spherical shells by their centres)
with the reference averaged over the *same* voxels (Gauss-Legendre over each voxel), so the voxel-size
bias near the source cancels.

Uncertainties: ``radial_dose`` combines voxel uncertainties as independent, but with the track-length
estimator one photon crosses several voxels of a shell, so shell doses are positively correlated.
Nine independent seeds (2e5 histories each, 2 mm voxels) gave an empirical spread 1.4 times the
combined value on average; tests use ``SIGMA_INFLATION = 1.5`` times it for kerma scoring. For
analog scoring the reported value matched the spread of eight seeds (factor 0.7-1.3), so it is
used as is.

Tolerances: shell |MC/ref - 1| <= 3 sigma + 3 % (reference systematics: Klein-Nishina Compton,
no coherent scattering, exposure response, GP fit accuracy; see the reference module). Measured
MC/ref: +0.5 % at 0.5 cm falling smoothly to -1.6 % at 5 cm (mean of nine seeds).
"""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

import iortmc as mc

_spec = importlib.util.spec_from_file_location(
    "point_source_reference", pathlib.Path(__file__).with_name("point_source_reference.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

SIGMA_INFLATION = 1.5     # kerma shell uncertainty: correlated voxels (measured 1.4, see docstring)
SYSTEMATIC = 0.03         # allowed reference/physics systematic on D(r) r^2, 0.5-5 cm
RATIO_SYSTEMATIC = 0.02   # allowed systematic on D(1)/D(2) and D(1)/D(3)
ANALOG_REL_TOL = 0.02     # kerma and analog agree within 3 sigma or 2 %
ANALOG_MEAN_SYST = 0.01   # allowed mean kerma/analog offset (see test_kerma_and_analog_agree)

FALLOFF_EDGES = np.round(np.arange(0.4, 5.2001, 0.2), 6)   # shell centres 0.5, 0.7, ..., 5.1 cm
RATIO_SHELLS = {1.0: (0.9, 1.1), 2.0: (1.9, 2.1), 3.0: (2.9, 3.1)}


def _simulate(n_vox, h, histories, scoring, seed):
    phantom = mc.Phantom.box(shape=(n_vox, n_vox, n_vox), voxel_size=h, material="water")
    source = mc.PointSource(mc.Spectrum.mono(ref.ENERGY_MEV), position=(0.0, 0.0, 0.0))
    return mc.simulate(phantom, source, histories=histories, seed=seed, scoring=scoring)


def _voxel_geometry(result):
    ph = result.phantom
    nz, ny, nx = ph.shape
    dx, dy, dz = ph.voxel_size
    x0, y0, z0 = ph.origin
    z = z0 + (np.arange(nz) + 0.5) * dz
    y = y0 + (np.arange(ny) + 0.5) * dy
    x = x0 + (np.arange(nx) + 0.5) * dx
    zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
    return xx, yy, zz, dx


def _reference_field(result, r_max, gauss_n):
    """Reference dose (Gy/photon) averaged over each voxel with centre closer than r_max; NaN elsewhere."""
    xx, yy, zz, h = _voxel_geometry(result)
    r = np.sqrt(xx * xx + yy * yy + zz * zz)
    out = np.full(r.shape, np.nan)
    sel = r < r_max
    out[sel] = ref.voxel_averaged_dose(np.stack([xx[sel], yy[sel], zz[sel]], axis=-1), h, n=gauss_n)
    return r, out


def _shells(result, r, ref_dose, edges):
    """Shell means of MC and reference dose and the MC shell relative uncertainty (uniform density)."""
    edges = np.asarray(edges, dtype=np.float64)
    nb = edges.size - 1
    shell = np.searchsorted(edges, r, side="right") - 1
    ok = (shell >= 0) & (shell < nb)
    n = np.bincount(shell[ok], minlength=nb).astype(np.float64)
    d = result.dose
    s = d * result.uncertainty
    mc_mean = np.bincount(shell[ok], weights=d[ok], minlength=nb) / n
    ref_mean = np.bincount(shell[ok], weights=ref_dose[ok], minlength=nb) / n
    rel = np.sqrt(np.bincount(shell[ok], weights=s[ok] ** 2, minlength=nb)) / n / mc_mean
    return 0.5 * (edges[:-1] + edges[1:]), mc_mean, ref_mean, rel


def _falloff_table(result, gauss_n, inflation=SIGMA_INFLATION):
    r, ref_dose = _reference_field(result, FALLOFF_EDGES[-1] + 0.2, gauss_n)
    rc, d, dref, rel = _shells(result, r, ref_dose, FALLOFF_EDGES)
    q = d / dref
    sig = inflation * rel
    lines = [" r (cm)  D r^2 MC (Gy cm2)  D r^2 ref   MC/ref   sigma"]
    for i in range(rc.size):
        lines.append(f"  {rc[i]:4.2f}   {d[i] * rc[i] ** 2:.4e}     {dref[i] * rc[i] ** 2:.4e}  "
                     f"{q[i]:.4f}  {sig[i]:.4f}")
    ratios = {}
    for r0, (a, b) in RATIO_SHELLS.items():
        _, dm, drf, rl = _shells(result, r, ref_dose, [a, b])
        ratios[r0] = (float(dm[0] / drf[0]), float(inflation * rl[0]))
    return rc, q, sig, ratios, "\n".join(lines)


def _check_falloff(rc, q, sig, ratios, table):
    print("\n" + table)
    # 1. agreement with the published point kernel, 0.5-5 cm
    bad = np.abs(q - 1.0) > 3.0 * sig + SYSTEMATIC
    assert not bad.any(), f"D r^2 differs from ANS-6.4.3 at r = {rc[bad]} cm:\n{table}"
    # 2. smoothness: MC/ref is a smooth function of r (quadratic fit, residuals consistent with noise)
    coef = np.polyfit(rc, q, 2, w=1.0 / sig)
    res = (q - np.polyval(coef, rc)) / sig
    chi2_dof = float(np.sum(res**2) / (rc.size - 3))
    print(f"smoothness: chi2/dof = {chi2_dof:.2f}, max |residual| = {np.abs(res).max():.2f} sigma")
    assert chi2_dof < 2.0 and np.abs(res).max() < 4.0, f"D r^2 not smooth:\n{table}"
    # 3. dose ratios; MC point values are shell means corrected with the reference shape
    for r2 in (2.0, 3.0):
        (q1, s1), (q2, s2) = ratios[1.0], ratios[r2]
        ref_ratio = ref.dose_ratio(1.0, r2)
        mc_ratio = ref_ratio * q1 / q2
        sig_ratio = np.hypot(s1, s2)
        print(f"D(1 cm)/D({r2:.0f} cm): MC {mc_ratio:.3f} +- {mc_ratio * sig_ratio:.3f}, "
              f"ANS-6.4.3 {ref_ratio:.3f}, difference {mc_ratio / ref_ratio - 1:+.2%}")
        assert abs(mc_ratio / ref_ratio - 1.0) <= 3.0 * sig_ratio + RATIO_SYSTEMATIC


@pytest.fixture(scope="module")
def kerma_2mm():
    """20 cm water cube, 2 mm voxels, 3e5 histories, kerma scoring, seed 1."""
    return _simulate(100, 0.2, 300_000, "kerma", seed=1)


def test_reference_values():
    """The transcribed ANS-6.4.3 kernel: B(0) = 1, B(1 mfp) = b (GP property), rising D r^2."""
    assert ref.gp_buildup(1e-9, **ref.GP_WATER_50KEV) == pytest.approx(1.0, abs=1e-6)
    assert ref.gp_buildup(1.0, **ref.GP_WATER_50KEV) == pytest.approx(ref.GP_WATER_50KEV["b"], rel=1e-12)
    r = np.linspace(0.5, 4.0, 8)
    assert np.all(np.diff(ref.dose_r2(r)) > 0)  # build-up outweighs attenuation at 50 keV
    # D r^2 at 1 cm, hand value: 0.05 MeV * 0.04223 cm2/g * B * exp(-0.2149) / (4 pi)
    b1 = float(ref.buildup(1.0))
    assert 1.5 < b1 < 1.7
    expected = 0.05 * 0.04223 * b1 * np.exp(-0.2149) / (4 * np.pi) * 1.602176634e-10
    assert float(ref.dose_r2(1.0)) == pytest.approx(expected, rel=1e-12)


def test_dose_r2_matches_ans643(kerma_2mm):
    """D r^2, 0.5-5 cm, vs ANS-6.4.3 within 3 sigma + 3 %; smooth; D(1)/D(2), D(1)/D(3) within 3 sigma + 2 %.

    Reference: ANSI/ANS-6.4.3-1991 (Trubey, ORNL-6481, 1988), water, 0.05 MeV, with NISTIR 5632
    mu_en/rho. Fixed seed; measured MC/ref 1.004 (0.5 cm) to 0.985 (5 cm).
    """
    _check_falloff(*_falloff_table(kerma_2mm, gauss_n=4))


def test_kerma_and_analog_agree(kerma_2mm):
    """Analog and collision-kerma dose agree in 0.5 cm shells from 0.5 to 4 cm.

    Same set-up as the fall-off test; analog scoring with 1.5e6 histories (shell uncertainty
    about 0.4 %). Each shell: |analog/kerma - 1| within 3 combined sigma or 2 %. The mean offset
    over the shells must stay within 3 sigma + 1 %: with 8e6 analog histories analog was found
    0.5 % (0.1-0.9 % by shell) below kerma, a small mismatch between the tabulated mu_en/rho (NIST
    Table 3) and the energy transferred by the sampled interactions; 1 % bounds it.
    """
    analog = _simulate(100, 0.2, 1_500_000, "analog", seed=2)
    edges = np.round(np.arange(0.5, 4.0001, 0.5), 6)
    _, da, ua = mc.analysis.radial_dose(analog, center=(0, 0, 0), r_edges=edges)
    rc, dk, uk = mc.analysis.radial_dose(kerma_2mm, center=(0, 0, 0), r_edges=edges)
    diff = da / dk - 1.0
    sig = np.hypot(ua, SIGMA_INFLATION * uk)
    print("\n r (cm)  analog/kerma - 1   sigma")
    for i in range(rc.size):
        print(f"  {rc[i]:4.2f}   {diff[i]:+.4f}        {sig[i]:.4f}")
    ok = (np.abs(diff) <= 3.0 * sig) | (np.abs(diff) <= ANALOG_REL_TOL)
    assert ok.all(), f"analog and kerma differ at r = {rc[~ok]} cm: {diff[~ok]}"
    w = 1.0 / sig**2
    mean = float(np.sum(w * diff) / np.sum(w))
    sig_mean = float(1.0 / np.sqrt(np.sum(w)))
    print(f"mean analog/kerma - 1 = {mean:+.4f} +- {sig_mean:.4f}")
    assert abs(mean) <= 3.0 * sig_mean + ANALOG_MEAN_SYST


@pytest.mark.slow
def test_dose_r2_matches_ans643_1mm():
    """As the 2 mm test, 1 mm voxels (200^3) and 2e6 histories (reference: ANSI/ANS-6.4.3-1991)."""
    result = _simulate(200, 0.1, 2_000_000, "kerma", seed=11)
    # a track crosses more 1 mm voxels of a 2 mm shell: larger correlation (estimate, not measured)
    _check_falloff(*_falloff_table(result, gauss_n=3, inflation=2.0))
