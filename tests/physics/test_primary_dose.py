"""Ray-traced primary kerma (``primary="traced"``) and far-field roulette (``roulette_radius``).

References:
- Analytic: a pencil beam's primary collision kerma in a voxel of a homogeneous medium is
  E (mu_en/rho) / V * integral over the voxel of exp(-mu t) dt = E (mu_en/rho) / V *
  (exp(-mu z0) - exp(-mu z1)) / mu (Beer-Lambert); the ray tracer must reproduce it to float32
  rounding, with mu and mu_en from the problem's own tables.
- Plain kerma scoring (the collision-kerma track-length estimator, validated against ANS-6.4.3 in
  test_point_source_falloff.py) on the same problem: shell averages of the dose at 0.5-5 cm must
  agree within 0.3 % or 3 standard deviations (the two estimates are independent; each is the
  mean of 10 runs with their own seeds, and the standard deviation of a shell average comes from
  the spread of the 10, so that it includes the correlation between the voxels of a shell). Water, a water phantom with a cortical-bone sphere and a lead sheet, and the
  built-in INTRABEAM 50 kV spectrum.
"""

import math

import numpy as np
import pytest

import iortmc as mc
from iortmc.sources import PencilBeam

SHELLS_CM = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0)


def _shell_means(r, centre=(0.0, 0.0, 0.0)):
    ph = r.phantom
    nz, ny, nx = ph.shape
    dx, dy, dz = ph.voxel_size
    x0, y0, z0 = ph.origin
    z = z0 + (np.arange(nz) + 0.5) * dz - centre[2]
    y = y0 + (np.arange(ny) + 0.5) * dy - centre[1]
    x = x0 + (np.arange(nx) + 0.5) * dx - centre[0]
    rad = np.sqrt(z[:, None, None] ** 2 + y[None, :, None] ** 2 + x[None, None, :] ** 2)
    d = r.dose
    return np.array([d[(rad >= a) & (rad < b)].mean() for a, b in zip(SHELLS_CM[:-1], SHELLS_CM[1:])])


REPLICAS = 10


def _replicated(ph, src, n, seed, **kw):
    """(mean, standard deviation of the mean) of the shell averages of REPLICAS runs of n/REPLICAS
    histories with seeds seed, seed + 1, ..."""
    m = np.array([_shell_means(mc.simulate(ph, src, n // REPLICAS, seed=seed + i, threads=2,
                                           scoring="kerma", **kw)) for i in range(REPLICAS)])
    return m.mean(axis=0), m.std(axis=0, ddof=1) / math.sqrt(REPLICAS)


def _assert_shells_agree(test, ref):
    (da, sa), (db, sb) = test, ref
    for i, (a, b) in enumerate(zip(SHELLS_CM[:-1], SHELLS_CM[1:])):
        s = math.hypot(sa[i], sb[i])
        tol = max(0.003 * abs(db[i]), 3.0 * s)
        assert abs(da[i] - db[i]) <= tol, (f"shell {a}-{b} cm: {da[i]:.6g} vs {db[i]:.6g} Gy "
                                           f"({(da[i] / db[i] - 1) * 100:+.3f} %, 3 sigma = "
                                           f"{3 * s / db[i] * 100:.3f} %)")


def _water():
    return mc.Phantom.box(shape=(50, 50, 50), voxel_size=0.2, material="water")


def _insert_phantom():
    ph = _water()
    ph.paint_sphere((1.5, 0.0, 0.0), 1.0, "bone_cortical_icrp")
    ph.paint_box((-5.0, 0.0, 2.0), (5.0, 5.0, 2.2), "lead")
    return ph


CASES = {
    "water_50keV": (_water, lambda: mc.Spectrum.mono(0.05), 200_000),
    "bone_lead_50keV": (_insert_phantom, lambda: mc.Spectrum.mono(0.05), 200_000),
    "water_intrabeam": (_water, lambda: mc.Spectrum.builtin("intrabeam_50kv_bare"), 300_000),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    make_phantom, make_spectrum, n = CASES[request.param]
    ph = make_phantom()
    src = mc.PointSource(make_spectrum(), position=(0.0, 0.0, 0.0))   # on a voxel corner
    plain = _replicated(ph, src, n, 100)
    return request.param, ph, src, n, plain


def test_traced_primary_equals_plain_kerma_in_shells(case):
    name, ph, src, n, plain = case
    _assert_shells_agree(_replicated(ph, src, n, 200, primary="traced"), plain)


def test_far_field_roulette_equals_plain_kerma_in_shells(case):
    name, ph, src, n, plain = case
    _assert_shells_agree(_replicated(ph, src, n, 300, primary="traced", roulette_radius=2.0,
                                     roulette_survival=0.5), plain)


def test_traced_primary_of_a_pencil_beam_is_beer_lambert_exactly():
    """No Monte Carlo: the kernel's ray-traced primary alone, along a pencil beam on the axis of a
    water column, against the closed form per voxel."""
    from iortmc.transport._kernels import primary as kp
    from iortmc.transport._kernels.tally import n_blocks
    from iortmc.transport._kernels.transport import energy_index, lerp2
    from iortmc.transport._kernels.types import Options
    from iortmc.transport.packing import pack_geometry, pack_photon_tables, pack_source

    ph = mc.Phantom.box(shape=(40, 3, 3), voxel_size=(0.3, 0.3, 0.25), material="water",
                        origin=(-0.45, -0.45, 0.0))
    E = 0.05
    beam = PencilBeam(mc.Spectrum.mono(E), position=(0.01, -0.02, -3.0), direction=(0, 0, 1))
    geo = pack_geometry(ph, electrons=False)
    pt = pack_photon_tables(ph.materials, np.array([1.0]))
    src = pack_source(beam)
    opt = Options(seed=1, scoring=0, photon_cutoff=1e-3, electrons=0, statistics=1, primary=1,
                  primary_rays=1.0)
    nv = geo.rho.size
    rec = np.zeros((nv, 1), dtype=np.float32)
    bl = np.zeros(n_blocks(nv), dtype=np.uint8)
    cnt = np.array([0, 0, 0, 1], dtype=np.int64)
    nh = 1            # one ray of weight 1: one float32 addition per voxel
    kp.trace_primary(pt, geo, src, opt, 0, nh, rec, bl, cnt)
    ie, fe = energy_index(pt, E)
    mu = lerp2(pt.mu_total, 0, ie, fe) * 1.0
    kf = E * lerp2(pt.mu_en, 0, ie, fe) / (0.3 * 0.3 * 0.25)
    got = rec[:, 0].reshape(ph.shape)[:, 1, 1] / nh
    z0 = np.arange(40) * 0.25
    want = kf * (np.exp(-mu * z0) - np.exp(-mu * (z0 + 0.25))) / mu
    assert np.allclose(got, want, rtol=1e-6, atol=0)
    assert rec[:, 0].sum() / nh == pytest.approx(want.sum(), rel=1e-6)   # nothing elsewhere


def test_traced_primary_is_bitwise_identical_for_1_and_2_threads():
    ph = _insert_phantom()
    src = mc.PointSource(mc.Spectrum.builtin("intrabeam_50kv_bare"), position=(0.1, 0.0, 0.0))
    kw = dict(histories=20_000, seed=4, scoring="kerma", primary="traced", primary_rays=0.5,
              roulette_radius=1.5)
    a = mc.simulate(ph, src, threads=1, **kw)
    b = mc.simulate(ph, src, threads=2, **kw)
    assert np.array_equal(a.dose_sum, b.dose_sum) and np.array_equal(a.dose_sum2, b.dose_sum2)
    assert a.energy_balance == b.energy_balance


@pytest.mark.parametrize("kw,match", [
    (dict(primary="exact"), "primary must be"),
    (dict(primary="traced", scoring="analog"), "scoring='kerma'"),
    (dict(primary="traced", statistics="history"), "statistics='batch'"),
    (dict(primary_rays=2.0), "primary_rays"),
    (dict(primary="traced", primary_rays=0.0), "primary_rays must be > 0"),
    (dict(roulette_radius=-1.0), "roulette_radius must be > 0"),
    (dict(roulette_survival=0.5), "roulette_survival needs roulette_radius"),
    (dict(roulette_radius=1.0, roulette_survival=1.5), "roulette_survival must be between"),
    (dict(roulette_radius=1.0, scoring="analog"), "roulette_radius is for scoring='kerma'"),
])
def test_option_validation(kw, match):
    ph = mc.Phantom.box(shape=(4, 4, 4), voxel_size=0.5)
    src = mc.PointSource(mc.Spectrum.mono(0.05))
    with pytest.raises(mc.InputError, match=match):
        mc.simulate(ph, src, 100, **kw)
