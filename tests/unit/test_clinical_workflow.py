"""The clinical workflow: depth from the tissue surface, tissue-only normalisation, fail-fast checks,
absolute dose (calibration -> MU or minutes), case files for every set-up, geometry preview, progress.

References: the calibration arithmetic is checked by hand (MU = D_presc / (D_ref_fraction x Gy/MU));
TG-43 air-kerma strength: D'(r0) = S_K Lambda (Rivard et al., Med. Phys. 31 (2004) 633); geometry
checks against exact ray-box geometry.
"""

from __future__ import annotations

import math
import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import iortmc as mc
from iortmc import analysis
from iortmc.cli.case import loads_case
from iortmc.cli.main import main
from iortmc.clinical.calibration import DoseRateCalibration, MonitorUnitCalibration
from iortmc.clinical.prescription import Prescription
from iortmc.transport.reach import solid_angle_fraction

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "examples" / "cases"


def _air_water(vs=0.2, air=1.0, depth=4.0, lat=4.0):
    nz_air, nz = int(round(air / vs)), int(round((air + depth) / vs))
    n = int(round(lat / vs))
    idx = np.zeros((nz, n, n), dtype=np.int32)
    idx[:nz_air] = 1
    return mc.Phantom([mc.material("water"), mc.material("air")], idx, voxel_size=vs,
                      origin=(-lat / 2, -lat / 2, -air))


# ---------------------------------------------------------------------------------------- surfaces
def test_entry_surface_is_the_first_non_air_voxel_along_the_ray():
    ph = _air_water()
    es = analysis.entry_surface(ph, (0.1, 0.1, -3.0), (0, 0, 1))
    assert es.point_cm == pytest.approx((0.1, 0.1, 0.0), abs=1e-9) and es.material == "water"
    assert es.distance_cm == pytest.approx(3.0, abs=1e-9)
    # oblique: the ray from (-1, 0, -1) at 45 deg crosses z = 0 at x = 0 (exact voxel walk)
    es = analysis.entry_surface(ph, (-1.0, 0.05, -1.0), (1, 0, 1))
    assert es.point_cm == pytest.approx((0.0, 0.05, 0.0), abs=1e-9)
    with pytest.raises(mc.InputError, match="misses the phantom"):
        analysis.entry_surface(ph, (10, 0, -3), (0, 0, 1))
    with pytest.raises(mc.InputError, match="only air"):
        analysis.entry_surface(ph, (0, 0, -0.9), (1, 0, 0))


def _fake(ph, dose):
    return mc.DoseResult(dose, dose ** 2, 1, ph, source={"type": "PencilBeam", "position_cm": [0, 0, -2.0],
                                                          "direction": [0, 0, 1.0]})


def test_depth_dose_measures_depth_from_the_tissue_surface_and_skips_the_air():
    ph = _air_water()
    z = ph.centers()[2]
    dose = np.broadcast_to(np.where(z > 0, 1.0 + z, 50.0)[:, None, None], ph.shape).copy()
    depth, d, u = analysis.depth_dose(_fake(ph, dose))
    assert depth[0] == pytest.approx(0.1) and np.all(d < 50)          # air (dose 50) left out
    assert d == pytest.approx(1.0 + depth)
    old = analysis.depth_dose(_fake(ph, dose), surface="phantom")
    assert old.depth_cm[0] == pytest.approx(0.1) and old.dose[0] == 50.0   # from the phantom face
    beam = analysis.depth_dose(_fake(ph, dose), axis="beam")
    assert beam.surface_cm == pytest.approx((0, 0, 0))
    # within half a voxel of the surface: the first tissue voxel, never the air above it
    assert beam.dose[0] == pytest.approx(1.1)
    deep = beam.depth_cm >= 0.1
    assert beam.dose[deep][:20] == pytest.approx(1.0 + beam.depth_cm[deep][:20])


def test_tissue_mask_and_dose_max_ignore_air_and_applicator_material():
    ph = _air_water()
    ph.paint_box((-0.4, -0.4, -0.6), (0.4, 0.4, 0.0), "pmma")
    dose = np.ones(ph.shape)
    dose[ph.index == 1] = 100.0     # air
    dose[ph.index == 2] = 50.0      # applicator
    dose[8, 10, 10] = 3.0           # hottest tissue voxel
    r = _fake(ph, dose)
    m = analysis.tissue_mask(r)
    assert not m[ph.index != 0].any() and m[ph.index == 0].all()
    top = analysis.dose_max(r)
    assert top.dose == 3.0 and top.voxel_zyx == (8, 10, 10)
    assert top.point_cm == pytest.approx((0.1, 0.1, 0.7))
    assert analysis.dose_max(r, tissue="all").dose == 100.0
    assert analysis.dose_max(r, tissue=["water", "pmma"]).dose == 50.0
    with pytest.raises(mc.InputError, match="not in the phantom"):
        analysis.tissue_mask(r, ["bone"])


# ---------------------------------------------------------------------------------------- fail fast
def test_solid_angle_fraction_is_exact_for_a_face_on_axis():
    # a 2a x 2a square at distance d on its axis: Omega = 4 asin(a^2 / (a^2 + d^2))
    ph = mc.Phantom.box((1, 10, 10), voxel_size=0.2)            # 2 x 2 x 0.2 cm, centred... origin
    lo = [e[0] for e in ph.extent]
    hi = [e[1] for e in ph.extent]
    c = [(a + b) / 2 for a, b in zip(lo, hi)]
    d = 3.0
    om = 4 * math.asin(1.0 / (1.0 + d * d))
    assert solid_angle_fraction(ph, (c[0], c[1], lo[2] - d)) == pytest.approx(om / (4 * math.pi), rel=1e-12)


@pytest.mark.parametrize("source, words", [
    (lambda: mc.PointSource(mc.Spectrum.mono(0.05), position=(0, 0, 25)), "point source at .* outside"),
    (lambda: mc.ElectronBeam(9.0, field_diameter=6, position=(0, 0, -6), direction=(0, 0, -1)), "away from the phantom"),
    (lambda: mc.ElectronBeam(9.0, field_diameter=6, position=(20, 0, -6), direction=(0, 0, 1)), "misses the phantom"),
    (lambda: mc.PencilBeam(mc.Spectrum.mono(0.05), position=(0, 0, -6), direction=(1, 0, 0)), "misses the phantom"),
])
def test_a_source_that_cannot_reach_the_phantom_is_refused_before_transport(source, words, monkeypatch):
    from iortmc.transport import run as run_mod

    monkeypatch.setattr(run_mod, "pack_geometry", lambda *a: pytest.fail("transport started"))
    ph = mc.Phantom.box((50, 50, 50), voxel_size=0.2, origin=(-5, -5, -5))
    with pytest.raises(mc.InputError, match=words):
        mc.simulate(ph, source(), histories=10)


def test_a_beam_that_grazes_the_phantom_still_runs():
    ph = mc.Phantom.box((10, 10, 10), voxel_size=0.2, origin=(-1, -1, 0))
    # axis 0.5 cm beside the phantom, field radius 1 cm: part of the field enters
    src = mc.ElectronBeam(1.0, field_diameter=2.0, position=(1.5, 0, -1), direction=(0, 0, 1))
    r = mc.simulate(ph, src, histories=200, threads=1, progress=False)
    assert r.dose.sum() > 0


def test_a_run_depositing_under_one_percent_of_the_energy_warns():
    # 1 MeV photons through 1 mm of water: mu = 0.0707 /cm, about 0.7 % interact
    ph = mc.Phantom.box((1, 20, 20), voxel_size=0.1, origin=(-1, -1, 0))
    src = mc.PencilBeam(mc.Spectrum.mono(1.0), position=(0, 0, -1), direction=(0, 0, 1))
    with pytest.warns(RuntimeWarning, match=r"only .* % of the energy emitted"):
        mc.simulate(ph, src, histories=2000, threads=1, progress=False, electrons=False, scoring="analog")
    ph = mc.Phantom.box((50, 20, 20), voxel_size=0.1, origin=(-1, -1, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mc.simulate(ph, mc.PencilBeam(mc.Spectrum.mono(0.05), position=(0, 0, -1), direction=(0, 0, 1)),
                    histories=200, threads=1, progress=False)


def test_radial_plot_with_a_centre_outside_the_phantom_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    ph = mc.Phantom.box((20, 10, 10), voxel_size=0.2, origin=(-1, -1, 0))
    r = mc.simulate(ph, mc.ElectronBeam(6.0, field_diameter=1.0, position=(0, 0, -1), direction=(0, 0, 1)),
                    histories=200, threads=1, progress=False)
    r.save(tmp_path / "e.h5")
    assert main(["plot", str(tmp_path / "e.h5"), "--radial", str(tmp_path / "r.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "centre (0, 0, -1) cm lies outside the phantom" in err[0]
    assert not (tmp_path / "r.png").exists()


# ---------------------------------------------------------------------------------------- progress
def test_progress_bar_off_default_and_on(capfd):
    ph = mc.Phantom.box((10, 10, 10), voxel_size=0.2)
    src = mc.PointSource(mc.Spectrum.mono(0.05), position=(1, 1, 1))
    mc.simulate(ph, src, histories=500, threads=1)                     # default: a short run stays silent
    mc.simulate(ph, src, histories=500, threads=1, progress=False)
    assert capfd.readouterr().err == ""
    mc.simulate(ph, src, histories=500, threads=1, progress=True)
    err = capfd.readouterr().err
    assert "500/500" in err and "compiling" not in err                 # no compile note once compiled


# ---------------------------------------------------------------------------------------- calibration
@pytest.fixture(scope="module")
def ioert_result():
    ph = mc.Phantom.box((30, 20, 20), voxel_size=0.2, origin=(-2, -2, 0))
    beam = mc.ElectronBeam(9.0, field_diameter=4.0, position=(0, 0, -1), direction=(0, 0, 1))
    return mc.simulate(ph, beam, histories=3000, seed=2, threads=2, progress=False)


def test_monitor_units_for_20_Gy_at_the_90_percent_isodose_by_hand(ioert_result):
    """Calibrated 0.01 Gy/MU at dmax of the same set-up: MU = 20 / (0.9 x 0.01) = 2222.2 exactly."""
    r = ioert_result
    MonitorUnitCalibration(0.01, "dmax").calibrate(r).apply(r)
    plan = Prescription(20.0, "isodose", isodose_percent=90).evaluate(r)
    assert plan.unit == "MU" and plan.units == pytest.approx(20.0 / (0.9 * 0.01), rel=1e-12)
    assert r.absolute_dose_unit == "Gy/MU"
    dmax = analysis.ranges(*analysis.depth_dose(r, axis="beam"))["D_max"]
    assert dmax * r.calibration["histories_per_unit"] == pytest.approx(0.01, rel=1e-12)
    # at a depth: MU = dose / (PDD(depth) x Gy/MU)
    dd = analysis.depth_dose(r, axis="beam")
    pdd = float(np.interp(1.0, dd.depth_cm, dd.dose)) / dmax
    assert Prescription(2.0, "depth", depth_cm=1.0).evaluate(r).units == pytest.approx(2.0 / (pdd * 0.01), rel=1e-12)


def test_dose_rate_and_air_kerma_strength_calibrations_give_minutes():
    ph = mc.Phantom.box((40, 40, 40), voxel_size=0.2, origin=(-4, -4, -4))
    r = mc.simulate(ph, mc.PointSource(mc.Spectrum.mono(0.03)), histories=20000, seed=3, threads=2,
                    progress=False)
    DoseRateCalibration.from_dose_rate(0.5, point_cm=(1.0, 0.1, 0.1)).calibrate(r).apply(r)
    plan = Prescription(5.0, "point", point_cm=(1.0, 0.1, 0.1)).evaluate(r)
    assert plan.unit == "min" and plan.units == pytest.approx(10.0, rel=1e-12)
    cal = DoseRateCalibration.from_air_kerma_strength(10000.0, 0.577).calibrate(r)
    assert cal.measured_Gy_per_unit == pytest.approx(10000 * 0.577 / 100 / 60, rel=1e-15)   # 0.9617 Gy/min
    assert "1 cm from the source" in cal.reference


@pytest.mark.parametrize("call, words", [
    (lambda: MonitorUnitCalibration(-0.01), "Gy_per_MU must be a finite number > 0"),
    (lambda: MonitorUnitCalibration(0.01, "surface"), "reference_depth_cm must be a depth in cm or 'dmax'"),
    (lambda: DoseRateCalibration.from_air_kerma_strength(0, 0.5), "air_kerma_strength_U must be"),
    (lambda: Prescription(20, "isodose", isodose_percent=120), "between 0 and 100"),
    (lambda: Prescription(20, "depth"), "needs depth_cm"),
    (lambda: Prescription(20, "depth", depth_cm=1, point_cm=(0, 0, 0)), "not point_cm"),
    (lambda: Prescription(-1, "depth", depth_cm=1), "dose_Gy must be"),
])
def test_bad_calibration_and_prescription_arguments(call, words):
    with pytest.raises(mc.InputError, match=words):
        call()


def test_calibration_is_saved_with_the_result_and_read_back(ioert_result, tmp_path):
    r = ioert_result
    MonitorUnitCalibration(0.01, "dmax").calibrate(r).apply(r)
    r.save(tmp_path / "c.h5")
    back = mc.load(tmp_path / "c.h5")
    assert back.calibration == r.calibration
    assert np.array_equal(back.absolute_dose, r.absolute_dose)
    with h5py.File(tmp_path / "c.h5", "r") as f:
        assert f.attrs["format_version"] == "1.2" and f["calibration"].attrs["unit"] == "MU"
    with h5py.File(tmp_path / "c.h5", "r+") as f:      # damaged: a calibration without a positive rate
        f["calibration"].attrs["json"] = '{"unit": "MU", "histories_per_unit": -1}'
    with pytest.raises(mc.DataError, match="calibration"):
        mc.load(tmp_path / "c.h5")
    r.set_calibration(None)
    with pytest.raises(mc.InputError, match="no calibration"):
        r.absolute_dose


# ---------------------------------------------------------------------------------------- case files
def _case_names():
    return sorted(p.stem for p in CASES.glob("*.toml"))


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cases")
    shutil.copytree(CASES, d / "cases")
    # the bevelled case takes its calibration from the flat reference applicator's result
    c = mc.load_case(d / "cases" / "ioert_flat.toml")
    c.run(histories=1500, threads=2, progress=False).save(d / "cases" / "ioert_flat.h5")
    return d / "cases"


@pytest.mark.parametrize("name", _case_names())
def test_every_example_case_runs_and_is_drawn(name, case_dir, tmp_path):
    pytest.importorskip("matplotlib")
    case = mc.load_case(case_dir / f"{name}.toml")
    png = tmp_path / f"{name}.png"
    assert main(["show", str(case_dir / f"{name}.toml"), "-o", str(png)]) == 0
    assert png.stat().st_size > 10_000
    small = 1500 if case.source.__class__.__name__ == "ElectronBeam" else 20_000
    r = case.run(histories=small, threads=2, progress=False)
    assert r.dose.sum() > 0
    if case.prescription is not None:
        rx = r.metadata["prescription"]
        assert rx["reference_dose_Gy_per_history"] > 0
        if case.calibration is not None:
            assert rx["units"] > 0 and rx["unit"] in ("MU", "min")
    if case.applicator is not None:
        assert r.metadata["device_materials"]


BASE = '''
title = "t"
histories = 100
[phantom]
type = "box"
size_cm = [4.0, 4.0, 4.0]
voxel_size_cm = 0.2
origin_cm = [-2.0, -2.0, 0.0]
[source]
type = "electron_beam"
energy_MeV = 6.0
field_diameter_cm = 2.0
position_cm = [0.0, 0.0, -1.0]
'''


@pytest.mark.parametrize("extra, words", [
    ('[calibration]\ntype = "monitor_units"\nGy_per_MU = -0.01\n', r"\[calibration\] Gy_per_MU must be > 0"),
    ('[calibration]\ntype = "counts"\n', r"\[calibration\] type must be one of"),
    ('[calibration]\ntype = "dose_rate"\nGy_per_min = 1.0\n', "exactly one of point_cm"),
    ('[prescription]\ndose_Gy = 20\nat = "depth"\ndepth_cm = 7.5\n', r"depth_cm = 7.5 cm lies outside the phantom"),
    ('[prescription]\ndose_Gy = 20\nat = "surface"\n', "needs radius_cm"),
    ('[prescription]\ndose_Gy = 20\nat = "point"\npoint_cm = [9.0, 0.0, 1.0]\n', "outside the phantom"),
    ('[applicator]\nkind = "cone"\n', r"\[applicator\] kind must be one of"),
    ('[applicator]\nkind = "spherical"\ndiameter_cm = 4.2\n', "diameter_cm must be one of"),
    ('[applicator]\nkind = "ioert"\n', r"builds its own phantom"),
    ('[[shielding]]\nlayers = []\n', "layers must be a non-empty array"),
    ('[[shielding]]\nlayers = [{material = "lead", thickness_cm = -0.2}]\n', "thickness_cm must be > 0"),
])
def test_bad_new_fields_name_the_key(extra, words):
    with pytest.raises(mc.InputError, match=words) as e:
        loads_case(BASE + extra)
    assert "\n" not in str(e.value)


def test_rtstruct_without_the_named_roi_is_refused(tmp_path):
    text = (CASES / "ct_intrabeam.toml").read_text().replace('roi = "cavity"', 'roi = "tumour"')
    shutil.copytree(CASES / "ct_breast", tmp_path / "ct_breast")
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(mc.InputError, match="has no ROI named 'tumour'; it has 'cavity'"):
        mc.load_case(tmp_path / "c.toml")


def test_a_bad_case_writes_no_file(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text(BASE + '[prescription]\ndose_Gy = 20\nat = "depth"\ndepth_cm = 7.5\n')
    assert main(["run", str(p), "-o", str(tmp_path / "out.h5"), "-q"]) == 2
    assert not (tmp_path / "out.h5").exists() and list(tmp_path.glob("*.tmp")) == []
    assert "depth_cm = 7.5 cm lies outside" in capsys.readouterr().err


def test_run_summary_prints_calibration_and_prescription(case_dir, tmp_path, capsys):
    out = tmp_path / "f.h5"
    assert main(["run", str(case_dir / "ioert_flat.toml"), "-o", str(out), "-q", "-n", "1500"]) == 0
    text = capsys.readouterr().out
    assert "calibration: 0.01 Gy/MU at the central-axis maximum" in text
    assert "monitor units 2222 MU" in text
    assert "tissue surface on the beam axis at (x, y, z) = (0, 0, 0) cm" in text
    assert mc.load(out).calibration["unit"] == "MU"
