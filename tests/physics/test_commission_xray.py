"""Commissioning a 50 kV X-ray source to a radial dose in water (docs/commissioning.md).

* **Recovery** (known answer made by iortmc): the radial dose around a point source with a 50 kV
  tungsten spectrum filtered by 0.5 mm aluminium (the physical model of iortmc.clinical.xray_model:
  Kramers thick-target bremsstrahlung with 5 um of tungsten self-filtration held fixed), simulated in
  a 20 cm water cube and given 1 % Gaussian noise (fixed seed), is commissioned with the aluminium
  thickness free. Required: Al within 10 % of 0.5 mm, and the final full simulation of the fitted
  source within 1 % (plus 3 combined standard deviations) of the noise-free dose wherever that is
  above 20 % of its maximum.
* The same with a SpekPy spectrum (50 kV, W anode, 0.5 mm Al) when SpekPy is installed (optional
  extra ``spectra``); skipped otherwise. The fitted model (Kramers + tungsten self-filtration +
  aluminium, both free) is not SpekPy's, so the Al thickness is required within 10 % only if the
  two models agree on the shape; the test reports what it finds.
* **Xoft-like source to the published g_L(r)** (Hiatt et al. 2015): see tests/physics/test_tg43_xoft.py,
  which judges the shipped commissioned spectrum at 3 %.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import iortmc as mc
from iortmc.clinical import commission as C
from iortmc.clinical import xray_model as X

R_CM = np.array([0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0])
EDGES = np.arange(4.0, 50.001, 2.0)


def _truth(geom, spectrum, histories, seed):
    nv = int(round(geom.phantom_cm / geom.voxel_cm))
    ph = mc.Phantom.box(shape=(nv,) * 3, voxel_size=geom.voxel_cm, origin=(-0.5 * geom.phantom_cm,) * 3)
    res = mc.simulate(ph, mc.PointSource(spectrum), histories=histories, seed=seed, scoring="kerma")
    rv, inv = C._q_correction(ph, (0.0, 0.0, 0.0))
    d, v = C._radial_points(res.dose, res.uncertainty, rv, inv, R_CM, geom.voxel_cm, 0.0)
    return d, np.sqrt(v)


def _recover(spectrum, filters, fixed, seed):
    geom = C.WaterPointGeometry(phantom_cm=20.0, voxel_cm=0.2)
    truth, tu = _truth(geom, spectrum, 2_000_000, seed)
    rng = np.random.default_rng(seed + 1)
    meas = truth * 1e12 * (1 + 0.01 * rng.standard_normal(R_CM.size))
    m = C.Measurement(R_CM, meas, sigma=0.01 * truth * 1e12, kind="radial")
    r = C.commission_xray(m, geom, filters=filters, fixed_filters=fixed, e_edges_keV=EDGES,
                          histories_per_bin=100_000, final_histories=1_000_000, seed=seed + 2)
    print("\n" + r.summary())
    fin = r.fitted_final / (r.parameters["normalisation"] * 1e12)
    sel = truth >= 0.2 * truth.max()
    dev = np.abs(fin[sel] / truth[sel] - 1)
    allowed = 0.01 + 3 * np.hypot(r.final_uncertainty[sel], tu[sel] / truth[sel])
    print("final/truth - 1 where D > 20 %:", np.round(fin[sel] / truth[sel] - 1, 4).tolist())
    return r, dev, allowed


@pytest.mark.slow
def test_recovery_50kv_tungsten_05mm_al_model_spectrum():
    w_self = 5e-4
    w = X.tungsten_spectrum(EDGES, 50.0, {"tungsten": w_self, "aluminium": 0.05})
    sp = mc.Spectrum(edges=EDGES * 1e-3, weights=w)
    r, dev, allowed = _recover(sp, ("aluminium",), {"tungsten": w_self}, seed=31)
    assert r.parameters["filter_aluminium_cm"] == pytest.approx(0.05, rel=0.10)
    assert np.all(dev <= allowed), (dev, allowed)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("spekpy") is None, reason="SpekPy (optional extra 'spectra') not installed")
def test_recovery_50kv_spekpy_spectrum():
    import spekpy

    s = spekpy.Spek(kvp=50, th=12, dk=0.5)
    s.filter("Al", 0.5)
    k, f = s.get_spectrum()
    lo, hi = k - 0.25, k + 0.25
    keep = lo >= 4.0
    sp = mc.Spectrum(edges=np.append(lo[keep], hi[keep][-1]) * 1e-3, weights=f[keep])
    r, dev, allowed = _recover(sp, ("tungsten", "aluminium"), {}, seed=41)
    assert r.parameters["filter_aluminium_cm"] == pytest.approx(0.05, rel=0.10)
    assert np.all(dev <= allowed), (dev, allowed)
