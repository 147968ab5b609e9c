"""TG-43 radial dose function of a 50 kV Xoft Axxent-like point source in water.

Reference: radial dose function of the Xoft Axxent model S700 50 kV source computed with MCNP by
Hiatt, Davis and Rivard, Med. Phys. 42 (2015) 2764, DOI 10.1118/1.4919280 (the updated model of
the source first characterised by Rivard, Davis, DeWerd, Rusch and Axelrod, Med. Phys. 33 (2006)
4020, DOI 10.1118/1.2357021): g(0.5 cm) = 1.434, g(2 cm) = 0.636, g(5 cm) = 0.283 (values quoted
in the paper's abstract; collision kerma, 1 cm normalisation). See docs/tg43-xoft.md.

Two source models, both isotropic points (the anode, catheter, cooling water and insert of the real
source are not modelled, so F(r, theta) = 1 by construction and g(r) depends only on the spectrum):

* ``xoft_axxent_50kv_commissioned`` (the default Xoft spectrum): a tungsten-anode spectrum (Kramers
  bremsstrahlung, iortmc.clinical.xray_model) whose one physical parameter, the tungsten
  self-filtration thickness, was commissioned to these three g(r) values with ``iortmc commission
  xray`` (docs/commissioning.md). Judged at **3 %** (plus two reported standard deviations): the
  commissioning found a single filtration that reaches 3 % at all three points (+0.3, +2.7, -2.4 %
  in the basis fit), so 3 % is what the model claims; a wrong transport or a broken spectrum file
  moves g(5 cm) by far more (10 % on mu of water near 25 keV moves exp(-mu r) over 4.5 cm by 25 %).
  This is a fitted spectrum: agreement at the three fitted points shows the model is consistent,
  not that it is independently validated; the points between them (0.7-4 cm) are printed.
* ``xoft_axxent_50kv`` (SpekPy, aluminium filter fitted to the published mean energy only): judged
  at **20 %**, the spectral-shape systematic of a spectrum fitted to one number. Measured with 3e6
  histories: g = 1.261, 0.713, 0.330 at 0.5, 2, 5 cm, i.e. -12 %, +12 %, +17 % (docs/tg43-xoft.md).

The fast test also checks that the point source is isotropic (F = 1 within 3 sigma + 2 %), which a
direction-sampling error would break.
"""

from __future__ import annotations

import numpy as np
import pytest

import iortmc as mc
from iortmc.transport.run import MEV_PER_G_TO_GY

#: Hiatt, Davis and Rivard, Med. Phys. 42 (2015) 2764 (abstract): radius (cm) -> g(r)
G_REF = {0.5: 1.434, 2.0: 0.636, 5.0: 0.283}
COMMISSIONED = "xoft_axxent_50kv_commissioned"
SPEKPY = "xoft_axxent_50kv"
#: tolerance on g(r) per source model (see the module docstring)
REL_TOL = {COMMISSIONED: 0.03, SPEKPY: 0.20}
F_TOL = 0.02              # isotropy: F(r, theta) = 1 within 3 sigma + 2 %


def _run(n_vox, histories, seed, spectrum=COMMISSIONED):
    ph = mc.Phantom.box(shape=(n_vox, n_vox, n_vox), voxel_size=0.2, material="water")
    src = mc.PointSource(mc.Spectrum.builtin(spectrum), position=(0.0, 0.0, 0.0))
    return mc.simulate(ph, src, histories=histories, seed=seed, scoring="kerma")


def air_kerma_strength_per_history(spectrum) -> float:
    """S_K per emitted photon (Gy cm2) of an isotropic point source in vacuo:
    sum_i p_i E_i (mu_en/rho)_air(E_i) / (4 pi), energies above the TG-43 cut-off of 5 keV."""
    air = mc.material("air")
    total = 0.0
    for lo, hi, w in zip(spectrum.e_lo, spectrum.e_hi, spectrum.weights):
        if hi > lo:                        # histogram bin: 10 sub-bins
            e = lo + (np.arange(10) + 0.5) * (hi - lo) / 10
            ww = np.full(10, w / 10)
        else:                              # line
            e, ww = np.array([lo]), np.array([w])
        keep = e >= 0.005
        if np.any(keep):
            total += float(np.sum(ww[keep] * e[keep] * air.mu_en_over_rho(e[keep])))
    return total / (4.0 * np.pi) * MEV_PER_G_TO_GY


def _table(t):
    lines = [" r (cm)   g MC     sigma    g ref    MC/ref-1"]
    for r, g, u in zip(t.r_cm, t.g, t.g_rel_unc):
        ref = G_REF.get(float(r))
        extra = f"  {ref:.3f}   {g / ref - 1:+.3f}" if ref else ""
        lines.append(f"  {r:4.1f}   {g:.4f}   {u * g:.4f}{extra}")
    return "\n".join(lines)


def _check_g(t, spectrum=COMMISSIONED):
    table = _table(t)
    print(f"\n{spectrum}\n" + table)
    tol = REL_TOL[spectrum]
    for r, ref in G_REF.items():
        i = int(np.argmin(np.abs(t.r_cm - r)))
        g, sig = t.g[i], t.g_rel_unc[i] * t.g[i]
        assert abs(g - ref) <= tol * ref + 2.0 * sig, f"g({r} cm) = {g:.4f} vs {ref} ({spectrum}):\n{table}"
    # g(r) falls monotonically beyond 1 cm for a 27 keV-mean spectrum (the reference does too)
    assert np.all(np.diff(t.g) < 0), table


def test_radial_dose_function_of_xoft_like_point_source():
    """Fast check of the commissioned spectrum (20 cm water cube, 2 mm voxels, 4e5 histories; about
    10 s after compilation)."""
    res = _run(100, 400_000, seed=5)
    t = mc.analysis.tg43(res, r_cm=[0.5, 1.0, 2.0, 3.0, 5.0], theta_deg=[30, 60, 90, 120, 150])
    _check_g(t)
    j90 = list(t.theta_deg).index(90.0)
    for i, r in enumerate(t.r_cm):
        if r > 3.0:
            continue
        dev = np.abs(t.F[i] - 1.0)
        assert np.all(dev <= 3.0 * t.F_rel_unc[i] + F_TOL), f"F({r} cm) = {t.F[i]} not isotropic"
        assert t.F[i, j90] == pytest.approx(1.0)


@pytest.mark.slow
@pytest.mark.parametrize("spectrum_name", [COMMISSIONED, SPEKPY])
def test_radial_dose_function_precise(spectrum_name):
    """Precise run (30 cm water cube, 2 mm voxels, 3e6 histories; about 40 s on 2 cores): g(r) from
    0.5 to 7 cm against the reference at 0.5, 2 and 5 cm (3 % for the commissioned spectrum, 20 % for
    the SpekPy one), and the dose-rate constant Lambda = D(1 cm, 90 deg) / S_K of the point model.

    Lambda is reported and held only to the physically expected range 0.3-0.9 cGy h^-1 U^-1 (below
    the 0.9-1.0 of I-125 seeds: the air kerma of a soft 50 kV spectrum is dominated by photons below
    20 keV that barely reach 1 cm of water). No published Lambda of the S700 source with its
    uncertainty could be retrieved for this work, and a point model's Lambda is not comparable with
    one whose air-kerma strength includes the real source's own filtration (docs/tg43-xoft.md).
    Measured values are in docs/tg43-xoft.md."""
    res = _run(150, 3_000_000, seed=7, spectrum=spectrum_name)
    spectrum = mc.Spectrum.builtin(spectrum_name)
    sk = air_kerma_strength_per_history(spectrum)
    t = mc.analysis.tg43(res, r_cm=[0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                         theta_deg=[90], normalization=sk)
    print(f"S_K per photon = {sk:.4e} Gy cm2 (mean energy {spectrum.mean_energy * 1e3:.2f} keV); "
          f"Lambda = {t.dose_rate_constant:.4f} cGy h^-1 U^-1 (+- {t.dose_rate_constant_rel_unc:.1%})")
    _check_g(t, spectrum_name)
    assert 0.3 < t.dose_rate_constant < 0.9
