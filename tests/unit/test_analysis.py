"""iortmc.analysis against hand-computed cases."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import erfc, erfcinv

from iortmc import analysis
from iortmc.errors import InputError
from iortmc.geometry import Phantom
from iortmc.physics.materials import Material
from iortmc.results.dose import DoseResult

WATER = Material("water", density=1.0, formula="H2O", I_eV=75.0)


def _field(ph, fn, rel_unc=0.01):
    """A duck-typed result with dose fn(x, y, z) at voxel centres ([z, y, x]) and a constant uncertainty."""
    x, y, z = ph.centers()
    zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
    dose = fn(xx, yy, zz)
    return SimpleNamespace(dose=dose, uncertainty=np.full(dose.shape, rel_unc), phantom=ph)


# ---------------------------------------------------------------------------------------- lines
def test_depth_dose_measures_depth_from_the_entry_face_and_averages_the_central_voxels():
    ph = Phantom.box(shape=(30, 4, 6), voxel_size=(0.2, 0.3, 0.1), material=WATER)
    res = _field(ph, lambda x, y, z: 5.0 + 2.0 * z + 3.0 * x + 0.5 * y * y, rel_unc=0.02)
    depth, dose, unc = analysis.depth_dose(res)
    np.testing.assert_allclose(depth, (np.arange(30) + 0.5) * 0.1, rtol=0, atol=1e-12)
    z = ph.origin[2] + depth
    # x averages out exactly; y*y is averaged over the two central rows y = +-0.15
    np.testing.assert_allclose(dose, 5.0 + 2.0 * z + 0.5 * 0.15 ** 2, rtol=1e-12)
    # four independent voxels with weights 1/4 and equal relative uncertainty (x terms cancel in the
    # mean but not in the variance): sigma = sqrt(sum (d_i u / 4)^2)
    x0 = 0.1
    d4 = np.stack([5 + 2 * z + s * 3 * x0 + 0.5 * 0.15 ** 2 for s in (1, -1, 1, -1)])
    np.testing.assert_allclose(unc * dose, 0.02 / 4 * np.sqrt(np.sum(d4 ** 2, axis=0)), rtol=1e-12)


def test_depth_dose_through_a_given_line_and_other_axes():
    ph = Phantom.box(shape=(5, 8, 10), voxel_size=0.1, material=WATER, origin=(0.0, 0.0, 0.0))
    res = _field(ph, lambda x, y, z: 1.0 + x + 10 * y + 100 * z)
    depth, dose, _ = analysis.depth_dose(res, axis="x", through=(0.33, 0.25))    # (y, z)
    np.testing.assert_allclose(depth, (np.arange(10) + 0.5) * 0.1)
    np.testing.assert_allclose(dose, 1.0 + depth + 3.3 + 25.0, rtol=1e-12)   # linear -> exact
    with pytest.raises(InputError, match="outside the phantom"):
        analysis.depth_dose(res, axis="x", through=(0.9, 0.1))
    with pytest.raises(InputError, match="axis must be"):
        analysis.depth_dose(res, axis="w")


def test_profile_and_point_dose_interpolate_linear_fields_exactly():
    ph = Phantom.box(shape=(6, 7, 8), voxel_size=(0.1, 0.2, 0.3), material=WATER)
    res = _field(ph, lambda x, y, z: 2.0 + x - 2 * y + 4 * z)
    coord, dose, unc = analysis.profile(res, "y", (0.05, 99.0, -0.2))
    np.testing.assert_allclose(coord, ph.centers()[1])
    np.testing.assert_allclose(dose, 2.0 + 0.05 - 2 * coord - 0.8, rtol=1e-12)
    d, u = analysis.point_dose(res, (0.12, -0.31, 0.27))
    assert d == pytest.approx(2.0 + 0.12 + 0.62 + 1.08, rel=1e-12)
    assert 0 < u < 0.01


# ---------------------------------------------------------------------------------------- radial
def test_radial_dose_of_an_inverse_square_field():
    """Shell means of 1/r^2 sampled at voxel centres: r^2 D(r) = 1 to within the shell-averaging error."""
    ph = Phantom.box(shape=(40, 40, 40), voxel_size=0.1, material=WATER)
    res = _field(ph, lambda x, y, z: 1.0 / (x * x + y * y + z * z), rel_unc=0.05)
    r, dose, unc = analysis.radial_dose(res, center=(0, 0, 0), r_edges=np.arange(0.3, 1.95, 0.1))
    np.testing.assert_allclose(r, np.arange(0.35, 1.9, 0.1), atol=1e-12)
    # mean of r^-2 over the volume of a shell [a, b] is 3 / (a^2 + ab + b^2); the voxel centres of a
    # one-voxel-thick shell sample it unevenly: 7 % low at 3.5 voxels, < 1 % beyond 9 voxels
    a, b = r - 0.05, r + 0.05
    far = r > 0.9
    np.testing.assert_allclose(dose[far], 3.0 / (a * a + a * b + b * b)[far], rtol=0.01)
    np.testing.assert_allclose(dose[~far], 3.0 / (a * a + a * b + b * b)[~far], rtol=0.08)
    # a shell of n equal-mass voxels with equal rel. unc. u: u_shell ~ u / sqrt(n) (n grows as r^2)
    assert np.all(np.diff(unc) < 0) and unc[0] < 0.05 / 5


def test_radial_dose_is_mass_weighted():
    ph = Phantom.box(shape=(2, 2, 2), voxel_size=1.0, material=WATER)
    ph.density[0] = 2.0
    res = SimpleNamespace(dose=np.where(ph.density == 2.0, 1.0, 4.0), uncertainty=np.zeros((2, 2, 2)),
                          phantom=ph)
    r, dose, unc = analysis.radial_dose(res, r_edges=[0.0, 1.0, 5.0])
    # all 8 centres at sqrt(3)/2: (4 * 2 * 1 + 4 * 1 * 4) / 12 = 2
    assert math.isnan(dose[1]) and dose[0] == pytest.approx(2.0, rel=1e-14)


# ---------------------------------------------------------------------------------------- ranges
def test_ranges_of_an_erfc_falloff():
    """D = erfc((z - R)/s)/2: R50 = R, R_p = R + s sqrt(pi)/2 (tangent at R50), R_x = R + s erfcinv(2x)."""
    R, s = 3.0, 0.5
    z = np.arange(0.0, 6.0, 0.02)
    d = 0.5 * erfc((z - R) / s)
    out = analysis.ranges(z, d)
    dmax = d.max()
    for level in (90, 80, 50, 20):
        exact = R + s * erfcinv(2 * level / 100 * dmax)
        assert out[f"R{level}"] == pytest.approx(exact, abs=2e-4), level
    assert out["R50"] == pytest.approx(3.0, abs=2e-4)
    assert out["falloff_80_20"] == pytest.approx(s * (erfcinv(0.4) - erfcinv(1.6)), abs=4e-4)
    assert out["Rp"] == pytest.approx(R + s * math.sqrt(math.pi) / 2, abs=0.01)
    assert out["tail_dose"] == pytest.approx(0.0, abs=2e-4)


def test_ranges_with_a_bremsstrahlung_tail_and_a_build_up():
    """A build-up to a parabolic maximum at 1.234 cm, an erfc falloff and a 3 % tail."""
    R, s, tail = 4.0, 0.4, 0.03
    z = np.arange(0.05, 8.0, 0.05)
    peak = np.where(z < 2.0, 1.0 - 0.2 * (z - 1.234) ** 2, 1.0 - 0.2 * (2.0 - 1.234) ** 2)
    fall = 0.5 * erfc((z - R) / s)
    d = peak * fall + tail * (1 - fall)
    out = analysis.ranges(z, d)
    assert out["R100"] == pytest.approx(1.234, abs=0.01)
    # R50: exact crossing of 0.5 Dmax by root finding on the analytic curve
    from scipy.optimize import brentq
    plateau = 1.0 - 0.2 * (2.0 - 1.234) ** 2
    f = lambda x: (plateau * 0.5 * erfc((x - R) / s) + tail * (1 - 0.5 * erfc((x - R) / s))) - 0.5 * out["D_max"]
    r50 = brentq(f, 3.0, 5.0)
    assert out["R50"] == pytest.approx(r50, abs=1e-3)
    slope = (plateau - tail) * (-1 / (s * math.sqrt(math.pi))) * math.exp(-((r50 - R) / s) ** 2)
    rp = r50 + (0.5 * out["D_max"] - tail) / -slope
    assert out["tail_dose"] == pytest.approx(tail, abs=1e-3)
    assert out["Rp"] == pytest.approx(rp, abs=0.02)


def test_ranges_uncertainty_and_validation():
    z = np.linspace(0, 5, 101)
    d = 0.5 * erfc((z - 2.5) / 0.3)
    out = analysis.ranges(z, d, rel_unc=np.full_like(d, 0.01))
    # sigma_R50 ~ hypot(0.01 D50, 0.5 * 0.01 Dmax) / |dD/dz| = 0.01 * 0.5 * sqrt(2) * 0.3 sqrt(pi)
    assert out["sigma_R50"] == pytest.approx(0.01 * 0.5 * math.sqrt(2) * 0.3 * math.sqrt(math.pi), rel=0.02)
    with pytest.raises(InputError, match="strictly increasing"):
        analysis.ranges(z[::-1], d)
    assert math.isnan(analysis.ranges(z, 1.0 + 0 * z + 0.001 * z)["R50"])


# ---------------------------------------------------------------------------------------- gamma
def _ramp_gamma(shift_cm, grad, dd, dta_cm):
    """gamma of a linear dose ramp shifted by s: min_u u^2/a^2 + (g(u - s))^2/b^2 = (g s)^2 / (b^2 + g^2 a^2)."""
    return abs(grad * shift_cm) / math.sqrt(dd * dd + grad * grad * dta_cm * dta_cm)


def test_gamma_1d_shifted_ramp_matches_the_analytic_minimum():
    x = np.arange(0.0, 10.0, 0.1)
    ref = 50.0 + 10.0 * x
    for shift in (0.1, 0.25):
        ev = 50.0 + 10.0 * (x - shift)
        g = analysis.gamma(ref, ev, x, dose_percent=3, dta_mm=3)
        inner = (x > 1.0) & (x < 9.0)
        expected = _ramp_gamma(shift, 10.0, 0.03 * ref.max(), 0.3)
        np.testing.assert_allclose(g.gamma[inner], expected, rtol=0.01)
        assert g.pass_rate == 1.0


def test_gamma_of_a_shifted_steep_profile_equals_shift_over_dta():
    """For a steep edge the dose term forbids anything but the shift itself: gamma -> shift / DTA."""
    x = np.arange(-3.0, 3.0, 0.05)
    ref = 100.0 / (1.0 + np.exp(-x / 0.01))          # 0 -> 100 over ~0.1 mm
    ev = 100.0 / (1.0 + np.exp(-(x - 0.15) / 0.01))   # shifted by 1.5 mm
    g = analysis.gamma(ref, ev, x, dose_percent=3, dta_mm=3, threshold_percent=0)
    assert np.nanmax(g.gamma) == pytest.approx(0.5, abs=0.02)
    g2 = analysis.gamma(ref, ev, x, dose_percent=3, dta_mm=1, threshold_percent=0)
    assert np.nanmax(g2.gamma) == pytest.approx(1.5, abs=0.05) and g2.pass_rate < 1.0


def test_gamma_pure_dose_difference_global_and_local():
    x = np.linspace(0, 5, 51)
    ref = np.full(x.shape, 100.0)
    ref[:10] = 20.0
    ev = ref * 1.02
    glob = analysis.gamma(ref, ev, x, dose_percent=3, dta_mm=2)
    assert glob.gamma[30] == pytest.approx(2.0 / 3.0, rel=1e-9)
    assert glob.gamma[3] == pytest.approx(0.4 / 3.0, rel=1e-9)
    loc = analysis.gamma(ref, ev, x, dose_percent=3, dta_mm=2, local=True)
    assert loc.gamma[3] == pytest.approx(2.0 / 3.0, rel=1e-9)
    thr = analysis.gamma(ref, ev, x, threshold_percent=50)
    assert np.all(np.isnan(thr.gamma[:10])) and thr.n_evaluated == 41


def test_gamma_2d_and_3d_planar_ramps():
    y = np.arange(0.0, 3.0, 0.1)
    x = np.arange(0.0, 3.2, 0.1)
    yy, xx = np.meshgrid(y, x, indexing="ij")
    s = np.array([0.05, 0.1])                        # (y, x) shift in cm
    ref = 50 + 6 * yy + 8 * xx
    ev = 50 + 6 * (yy - s[0]) + 8 * (xx - s[1])
    g = analysis.gamma(ref, ev, (y, x), dose_percent=2, dta_mm=2)
    inner = (yy > 0.5) & (yy < 2.5) & (xx > 0.5) & (xx < 2.7)
    expected = abs(6 * s[0] + 8 * s[1]) / math.sqrt((0.02 * ref.max()) ** 2 + 100 * 0.2 ** 2)
    np.testing.assert_allclose(g.gamma[inner], expected, rtol=0.02)

    c = np.arange(0.0, 1.6, 0.1)
    zz, yy, xx = np.meshgrid(c, c, c, indexing="ij")
    ref = 100 + 20 * zz
    ev = 100 + 20 * (zz - 0.1)
    g3 = analysis.gamma(ref, ev, (c, c, c), dose_percent=3, dta_mm=3)
    inner = (zz > 0.6) & (zz < 0.9) & (yy > 0.6) & (yy < 0.9) & (xx > 0.6) & (xx < 0.9)
    np.testing.assert_allclose(g3.gamma[inner], _ramp_gamma(0.1, 20, 0.03 * ref.max(), 0.3), rtol=0.02)


# ---------------------------------------------------------------------------------------- DVH
def test_dvh_of_a_uniform_field_and_of_a_uniform_dose_distribution():
    ph = Phantom.box(shape=(10, 10, 10), voxel_size=0.2, material=WATER)
    x = np.full((4, *ph.shape), 2.0)
    res = DoseResult(x.sum(0), (x * x).sum(0), 4, ph)
    mask = np.zeros(ph.shape, dtype=bool)
    mask[2:5, :, :] = True
    h = analysis.dvh(res, mask, bins=[0.0, 1.0, 1.999, 2.0, 2.001, 3.0])
    np.testing.assert_array_equal(h.volume_fraction, [1, 1, 1, 1, 0, 0])
    assert h.volume_cm3 == pytest.approx(300 * 0.008) and h.mean == 2.0 and h.mean_rel_unc == 0.0
    # doses 0.5, 1.5, ..., 99.5 once each: V(D) = fraction of voxels with dose >= D
    dose = (np.arange(1000).reshape(10, 10, 10) % 100) + 0.5
    h = analysis.dvh(dose, np.ones(dose.shape, bool), bins=100)
    np.testing.assert_allclose(h.dose, np.linspace(0, 99.5, 101))
    np.testing.assert_allclose(h.volume_fraction, 1 - np.ceil(h.dose - 0.5) / 100, atol=1e-12)
    assert h.dose_at_volume(0.5) == pytest.approx(50.0, abs=1.0)
    assert h.volume_at_dose(25.0) == pytest.approx(0.75, abs=0.01)
    with pytest.raises(InputError, match="mask must be a boolean array"):
        analysis.dvh(dose, np.ones((2, 2, 2), bool))


# ---------------------------------------------------------------------------------------- TG-43
@pytest.fixture(scope="module")
def grid():
    return Phantom.box(shape=(40, 40, 40), voxel_size=0.1, material=WATER)


def test_tg43_of_an_inverse_square_field(grid):
    """Rivard et al., Med Phys 31 (2004) 633: a pure 1/r^2 field has g_P(r) = 1 and F(r, theta) = 1."""
    res = _field(grid, lambda x, y, z: 3.0 / (x * x + y * y + z * z))
    t = analysis.tg43(res, r_cm=[0.5, 1.0, 1.5], normalization=2.0)
    np.testing.assert_allclose(t.g, 1.0, rtol=1e-12)
    np.testing.assert_allclose(t.F, 1.0, rtol=1e-12)
    assert t.dose_rate_constant == pytest.approx(3.0 / 2.0, rel=1e-12)


def test_tg43_radial_and_anisotropy_functions_of_an_analytic_point_field(grid):
    mu = 0.2
    res = _field(grid, lambda x, y, z: (1 + 0.5 * z * z / (x * x + y * y + z * z))
                 * np.exp(-mu * np.sqrt(x * x + y * y + z * z)) / (x * x + y * y + z * z))
    t = analysis.tg43(res, r_cm=[0.5, 1.0, 1.5], theta_deg=[0, 30, 60, 90, 120, 150, 180])
    # Q at (0.5 cm, 90 deg) is interpolated between voxel centres at z = +-0.05 cm where
    # 0.5 cos^2(theta) = 0.5 * 0.0025 / 0.2525 = 0.005: the documented smoothing, up to 0.5 % at 5 voxels
    np.testing.assert_allclose(t.g, np.exp(-mu * (t.r_cm - 1.0)), rtol=0.005)
    assert abs(t.g[2] - math.exp(-mu * 0.5)) < 0.001
    expected_F = 1 + 0.5 * np.cos(np.radians(t.theta_deg)) ** 2
    # at 5 voxels from the source the same smoothing costs up to 1.2 % on the axis; at >= 10 voxels < 0.5 %
    np.testing.assert_allclose(t.F[0], expected_F, rtol=0.015)
    np.testing.assert_allclose(t.F[1:], np.broadcast_to(expected_F, t.F[1:].shape), rtol=0.005)
    assert t.dose_rate_constant == pytest.approx(math.exp(-mu), rel=0.005)


def test_tg43_line_source_geometry_factor(grid):
    """A field G_L(r, theta) exp(-mu r) analysed with the line geometry factor: g_L = exp(-mu (r - 1)), F = 1."""
    L, mu = 0.3, 0.2

    def fn(x, y, z):
        r = np.sqrt(x * x + y * y + z * z)
        return analysis.geometry_factor(r, np.arccos(z / r), L) * np.exp(-mu * r)

    res = _field(grid, fn)
    t = analysis.tg43(res, geometry="line", length_cm=L, r_cm=[0.5, 1.0, 1.5])
    np.testing.assert_allclose(t.g, np.exp(-mu * (t.r_cm - 1.0)), rtol=0.002)
    np.testing.assert_allclose(t.F, 1.0, rtol=0.002)
    # G_L -> 1/r^2 far from a short line, and beta/(L r sin theta) at 90 degrees is 2 atan(L/2r)/(L r)
    assert analysis.geometry_factor(np.array(1.0), np.array(np.pi / 2), L) == pytest.approx(
        2 * math.atan(L / 2) / L, rel=1e-12)
    assert analysis.geometry_factor(np.array(50.0), np.array(0.7), L) == pytest.approx(1 / 2500, rel=1e-4)
    with pytest.raises(InputError, match="length_cm must be > 0"):
        analysis.tg43(res, geometry="line")
