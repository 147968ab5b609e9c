"""Commissioning machinery: input checks, the fit on a synthetic basis with a known answer, the
commissioned source file and its loaders, the X-ray spectrum model, the CLI. Fast (no long runs);
the physics recoveries are in tests/physics/test_commission_*.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

import iortmc as mc
from iortmc.clinical import commission as C
from iortmc.clinical import xray_model as X
from iortmc.errors import InputError


# ---------------------------------------------------------------------------- input checks
def test_iortmc_commission_is_the_module():
    assert mc.commission is C


@pytest.mark.parametrize("x, d, msg", [
    ([0.0, 1.0, 0.5, 2.0], [1, 2, 3, 4], "increase strictly"),
    ([0.0, 1.0, 1.0, 2.0], [1, 2, 3, 4], "increase strictly"),
    ([0.0, 1.0, 2.0, 3.0], [1, -2, 3, 4], "must be >= 0"),
    ([-0.5, 1.0, 2.0, 3.0], [1, 2, 3, 4], "outside the phantom"),
    ([0.0, 1.0, 2.0, 3.0], [0, 0, 0, 0], "zero everywhere"),
    ([0.0, 1.0, 2.0], [1, 2, 3, 4], "differ in length"),
    ([0.0, 1.0, np.nan], [1, 2, 3], "non-finite"),
])
def test_bad_measurement_is_refused(x, d, msg):
    with pytest.raises(InputError, match=msg):
        C.Measurement(x, d)


def test_radial_measurement_needs_positive_radii():
    with pytest.raises(InputError, match="outside the phantom"):
        C.Measurement([0.0, 1.0, 2.0], [1, 2, 3], kind="radial")


def test_electron_input_checks_come_before_any_simulation(monkeypatch):
    def boom(*a, **k):  # the basis must not be simulated for bad input
        raise AssertionError("simulated despite bad input")

    monkeypatch.setattr(C, "electron_basis", boom)
    geom = C.WaterBeamGeometry(field_size_cm=(10, 10), depth_cm=5.0)
    few = C.Measurement([1.0, 2.0, 3.0], [1.0, 0.8, 0.2])
    with pytest.raises(InputError, match="3 measured points cannot determine 4 parameters"):
        C.commission_electron(few, geom, fit_angle=True, fit_spread=True)
    deep = C.Measurement(np.linspace(0, 6, 20), np.linspace(1, 0.1, 20))
    with pytest.raises(InputError, match="outside the 5 cm phantom"):
        C.commission_electron(deep, geom)
    radial = C.Measurement([0.5, 1, 2, 3, 4, 5], [6, 5, 4, 3, 2, 1], kind="radial")
    with pytest.raises(InputError, match="depth dose"):
        C.commission_electron(radial, geom)


def test_xray_input_checks_come_before_any_simulation(monkeypatch):
    monkeypatch.setattr(C, "xray_basis", lambda *a, **k: (_ for _ in ()).throw(AssertionError("simulated")))
    g = C.WaterPointGeometry(phantom_cm=10.0, voxel_cm=0.5)
    far = C.Measurement([0.5, 1, 2, 8], [2, 1, 0.5, 0.1], kind="radial")
    with pytest.raises(InputError, match="outside the 10 cm phantom"):
        C.commission_xray(far, g)
    two = C.Measurement([0.5, 1.0], [2, 1], kind="radial")
    with pytest.raises(InputError, match="cannot determine"):
        C.commission_xray(two, g, filters=("aluminium",))
    ok = C.Measurement([0.5, 1, 2, 3], [2, 1, 0.5, 0.1], kind="radial")
    with pytest.raises(InputError, match="unobtainium"):
        C.commission_xray(ok, g, filters=("unobtainium",))
    with pytest.raises(InputError, match="normalised_at_cm"):
        C.commission_xray(ok, g, quantity="radial_dose_function")


def test_geometry_checks():
    with pytest.raises(InputError, match="exactly one"):
        C.WaterBeamGeometry()
    with pytest.raises(InputError, match="smaller than the field"):
        C.WaterBeamGeometry(field_diameter_cm=2.0, detector_width_cm=3.0)
    with pytest.raises(InputError, match="even whole number"):
        C.WaterPointGeometry(phantom_cm=10.0, voxel_cm=0.3)


def test_read_measurement(tmp_path):
    p = tmp_path / "pdd.csv"
    p.write_text("# a comment\ndepth_cm,dose,rel_unc\n0.5,0.8,0.01\n1.0,1.0,0.01\n2.0,0.5,0.02\n")
    m = C.read_measurement(p)
    assert m.kind == "depth" and m.n == 3
    assert m.sigma == pytest.approx([0.008, 0.01, 0.01])
    q = tmp_path / "radial.csv"
    q.write_text("r_cm,dose\n0.5,2\n1,1\n2,0.3\n")
    assert C.read_measurement(q).kind == "radial"
    bad = tmp_path / "bad.csv"
    bad.write_text("depth_cm,dose\n0.5,1\n0.4,1\n")
    with pytest.raises(InputError, match="increase strictly"):
        C.read_measurement(bad)


# ---------------------------------------------------------------------------- synthetic basis
def _synthetic_basis(sigma_effect=0.05):
    """An analytic stand-in for the electron basis: a depth dose whose R50 is E/2.33 cm (AAPM TG-25's
    rule) with a logistic fall-off, and an angular spread that raises the shallow dose; no noise."""
    geom = C.WaterBeamGeometry(field_size_cm=(15, 15), depth_cm=6.0)
    e = np.linspace(7.5, 10.5, 31)
    z_edges = np.arange(61) * 0.1
    zm = 0.5 * (z_edges[1:] + z_edges[:-1])
    emid = 0.5 * (e[1:] + e[:-1])

    def pdd(E, s):
        r50 = E / 2.33
        return (0.75 + 0.1 * zm) / (1.0 + np.exp((zm - r50) / 0.25)) * (1 + s * np.exp(-zm))

    d0 = np.array([pdd(E, 0.0) for E in emid])
    d1 = np.array([pdd(E, sigma_effect) for E in emid])
    dose = np.stack([d0, d1]) * 1e-12
    return C.ElectronBasis(e, z_edges, np.array([0.0, 0.1]), dose, (1e-3 * dose) ** 2, 10000, geom)


def _mixture(basis, e0, fwhm, sigma):
    w = C._gauss_weights(basis.e_edges, e0, fwhm)
    f = (sigma / basis.sigmas[1]) ** 2
    return (1 - f) * (w @ basis.dose[0]) + f * (w @ basis.dose[1])


def test_parametric_fit_recovers_known_parameters_on_a_synthetic_basis():
    b = _synthetic_basis()
    x = b.z_mid[:55]
    truth = _mixture(b, 9.03, 0.4, 0.05)[:55]
    m = C.Measurement(x, 2.0 * truth, sigma=0.002 * 2.0 * truth.max() * np.ones(55))
    r = C.commission_electron(m, b.geometry, basis=b, final_histories=0)
    assert r.parameters["mean_energy_MeV"] == pytest.approx(9.03, abs=2e-3)
    assert r.parameters["energy_fwhm_MeV"] == pytest.approx(0.4, abs=0.02)
    assert r.parameters["angular_spread_rad"] == pytest.approx(0.05, abs=5e-3)
    assert r.parameters["normalisation"] == pytest.approx(2.0, rel=1e-3)
    assert r.chi2 < 1e-3
    assert set(r.uncertainties) == {"mean_energy_MeV", "energy_fwhm_MeV", "angular_spread_rad", "normalisation"}


def test_virtual_source_distance_is_fitted_as_inverse_square():
    b = _synthetic_basis()
    x = b.z_mid[:55]
    truth = _mixture(b, 9.0, 0.3, 0.0)[:55] * (80.0 / (80.0 + x)) ** 2
    m = C.Measurement(x, truth, sigma=0.001 * truth.max() * np.ones(55))
    r = C.commission_electron(m, b.geometry, basis=b, final_histories=0, fit_angle=False,
                              fit_source_distance=True)
    assert r.parameters["source_distance_cm"] == pytest.approx(80.0, rel=0.05)
    assert r.parameters["mean_energy_MeV"] == pytest.approx(9.0, abs=0.01)


def test_free_spectrum_fit_gives_the_mean_energy():
    b = _synthetic_basis()
    x = b.z_mid[:55]
    truth = _mixture(b, 8.8, 0.6, 0.0)[:55]
    m = C.Measurement(x, truth, sigma=0.002 * truth.max() * np.ones(55))
    r = C.commission_electron(m, b.geometry, basis=b, final_histories=0, method="spectrum", regularisation=1e-4)
    assert r.parameters["mean_energy_MeV"] == pytest.approx(8.8, abs=0.05)
    assert np.all(r.spectrum_weights >= 0)


def test_commissioned_file_round_trip(tmp_path):
    b = _synthetic_basis()
    x = b.z_mid[:55]
    truth = _mixture(b, 9.0, 0.3, 0.03)[:55]
    m = C.Measurement(x, truth)
    r = C.commission_electron(m, b.geometry, basis=b, final_histories=0)
    path = tmp_path / "beam.toml"
    r.save(path)
    doc = C.read_commissioned(path)
    assert doc["kind"] == "electron_beam" and doc["data"]["position_cm"] == pytest.approx(list(x))
    assert len(doc["data"]["residual_of_max"]) == 55 and "mean_energy_MeV" in doc["uncertainties"]
    assert doc["provenance"]["geometry"]["field_size_cm"] == [15.0, 15.0]
    sp = mc.Spectrum.from_commissioned(path)
    assert sp.mean_energy == pytest.approx(r.parameters["mean_energy_MeV"], abs=1e-6)
    assert mc.Spectrum.from_file(path).mean_energy == pytest.approx(sp.mean_energy)
    beam = mc.ElectronBeam.from_commissioned(path, field_diameter=5.0)
    assert beam.angular_spread == pytest.approx(r.parameters["angular_spread_rad"])
    assert beam.field_diameter == 5.0
    with pytest.raises(InputError, match="comes from the commissioned file"):
        mc.ElectronBeam.from_commissioned(path, energy=9.0)
    # a case file takes the spectrum of a commissioned file
    from iortmc.cli.case import _spectrum

    assert _spectrum({"file": "beam.toml"}, tmp_path).mean_energy == pytest.approx(sp.mean_energy)
    bad = tmp_path / "other.toml"
    bad.write_text('schema = "something else"\n')
    with pytest.raises(InputError, match="not a commissioned source file"):
        mc.Spectrum.from_commissioned(bad)


def test_report_figure(tmp_path):
    pytest.importorskip("matplotlib")
    b = _synthetic_basis()
    x = b.z_mid[:55]
    m = C.Measurement(x, _mixture(b, 9.0, 0.3, 0.03)[:55])
    r = C.commission_electron(m, b.geometry, basis=b, final_histories=0)
    C.plot_fit(r, tmp_path / "fit.png")
    assert (tmp_path / "fit.png").stat().st_size > 1000


# ---------------------------------------------------------------------------- X-ray model
def test_kramers_bins_integrate_the_law_exactly():
    edges = np.array([10.0, 20.0, 40.0, 60.0])
    f = X.kramers_fluence(edges, 50.0)
    # integral of (50 - E)/E dE
    exact = [50 * math.log(2) - 10, 50 * math.log(2) - 20, 50 * math.log(50 / 40) - 10]
    assert f == pytest.approx(exact)


def test_filtration_follows_the_attenuation_data():
    al = mc.material("aluminium")
    t = X.transmission([20.0], {"aluminium": 0.05})[0]
    assert t == pytest.approx(math.exp(-al.mu_over_rho(np.array([0.02]))[0] * al.density * 0.05), rel=1e-12)
    edges = np.arange(4.0, 51.0, 2.0)
    soft = X.tungsten_spectrum(edges, 50, {"aluminium": 0.01})
    hard = X.tungsten_spectrum(edges, 50, {"aluminium": 0.1})
    mid = 0.5 * (edges[1:] + edges[:-1])
    assert soft.sum() == pytest.approx(1.0) and np.all(soft >= 0)
    assert (hard * mid).sum() > (soft * mid).sum() + 2.0          # filtration hardens the beam
    assert X.tungsten_spectrum(edges, 30.0)[mid > 30].sum() == 0.0    # nothing above kVp
    lines = X.tungsten_spectrum(edges, 50, {"aluminium": 0.01}, l_fraction=0.1)
    assert lines[(edges[:-1] <= 8.4) & (edges[1:] > 8.4)] > soft[(edges[:-1] <= 8.4) & (edges[1:] > 8.4)]
    with pytest.raises(InputError, match="thickness"):
        X.tungsten_spectrum(edges, 50, {"aluminium": -1})


# ---------------------------------------------------------------------------- small simulations
def test_xray_commissioning_end_to_end_small(tmp_path):
    """A tiny run through the whole X-ray path (basis, fit, final simulation, file, Spectrum)."""
    g = C.WaterPointGeometry(phantom_cm=8.0, voxel_cm=0.4)
    edges = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    spec = X.tungsten_spectrum(edges, 50.0, {"aluminium": 0.02})
    r_cm = np.array([0.8, 1.2, 1.6, 2.0, 2.4])
    basis = C.xray_basis(g, edges, r_cm, histories_per_bin=20000, seed=3)
    truth = spec @ basis.dose
    m = C.Measurement(r_cm, truth * 1e12, kind="radial")
    res = C.commission_xray(m, g, basis=basis, e_edges_keV=edges, final_histories=20000)
    assert res.parameters["filter_aluminium_cm"] == pytest.approx(0.02, rel=0.05)
    assert res.fitted_final is not None and np.all(np.abs(res.fitted_final / m.dose - 1) < 0.1)
    res.save(tmp_path / "x.toml")
    sp = mc.Spectrum.from_commissioned(tmp_path / "x.toml")
    assert sp.max_energy == pytest.approx(0.05)


def test_cli_commission_refuses_bad_input(tmp_path, capsys):
    from iortmc.cli.main import main

    p = tmp_path / "pdd.csv"
    p.write_text("depth_cm,dose\n0.0,0.8\n1.0,1.0\n0.5,0.5\n2.0,0.1\n3.0,0.0\n")
    rc = main(["commission", "electron", str(p), "--field-size", "10", "10", "-o", str(tmp_path / "b.toml")])
    assert rc == 2
    assert "increase strictly" in capsys.readouterr().err
    assert not (tmp_path / "b.toml").exists()


def test_shipped_commissioned_xoft_spectrum():
    """The built-in commissioned Xoft spectrum is a complete commissioned source file: its stored
    fit reproduces the published g_L(r) it was commissioned to within 3 % (Hiatt et al. 2015; the
    transport check of the same claim is tests/physics/test_tg43_xoft.py), and its spectrum is the
    physical model at the stored parameter (so the file and the model agree)."""
    from importlib import resources

    from iortmc.sources.spectrum import BUILTIN_SPECTRA

    ref = resources.files("iortmc.sources") / "data" / "spectra" / BUILTIN_SPECTRA["xoft_axxent_50kv_commissioned"]
    with resources.as_file(ref) as path:
        doc = C.read_commissioned(path)
    assert doc["kind"] == "xray_spectrum" and "Hiatt" in doc["provenance"]["reference"]
    fitted, measured = np.array(doc["data"]["fitted"]), np.array(doc["data"]["measured"])
    assert np.all(np.abs(fitted / measured - 1) <= 0.03)
    sp = mc.Spectrum.builtin("xoft_axxent_50kv_commissioned")
    edges = np.append(sp.e_lo, sp.e_hi[-1]) * 1e3
    model = X.tungsten_spectrum(edges, doc["parameters"]["kvp_kV"],
                                {"tungsten": doc["parameters"]["filter_tungsten_cm"]})
    assert sp.weights == pytest.approx(model[model > 0], rel=1e-9)


def test_intrabeam_drift_tube_is_a_homogenised_metal_tube():
    """The drift tube's wall mass is spread over the bore: density = rho_steel (1 - (1 - t/r)^2);
    a wall of 0 gives the air bore of a probe without its metal."""
    from iortmc.clinical.applicators import SphericalApplicator

    app = SphericalApplicator(3.0, probe_length_cm=1.0)
    t, r = 0.02, 0.16
    assert app.drift_tube_material.density == pytest.approx(8.0 * (1 - (1 - t / r) ** 2))
    ph = mc.Phantom.box((50, 50, 50), 0.1, "water", origin=(-2.5, -2.5, -2.5))
    app.paint(ph, supersample=3)
    names = [m.name for m in ph.materials]
    tube = ph.index == names.index("stainless_steel_drift_tube")
    _, _, z = ph.centers()
    zt = np.broadcast_to(z[:, None, None], ph.index.shape)[tube]
    assert zt.max() < -0.16 + 0.1 and zt.min() < -2.0       # from behind the tip out past the sphere
    bare = SphericalApplicator(3.0, probe_length_cm=1.0, drift_tube_wall_cm=0.0)
    ph2 = mc.Phantom.box((50, 50, 50), 0.1, "water", origin=(-2.5, -2.5, -2.5))
    bare.paint(ph2)
    assert "stainless_steel_drift_tube" not in [m.name for m in ph2.materials]
    with pytest.raises(InputError, match="drift_tube_wall_cm"):
        SphericalApplicator(3.0, drift_tube_wall_cm=0.5)
