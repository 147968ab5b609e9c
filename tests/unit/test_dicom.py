"""DICOM import/export (iortmc.dicom): CT series, HU calibration, resampling, RTSTRUCT, RT Dose.

The HU calibration under test is the default one (Schneider, Bortfeld and Schlegel, Phys. Med. Biol.
45 (2000) 459, https://doi.org/10.1088/0031-9155/45/2/314; table in docs/dicom.md). Every DICOM file
is synthetic, written by the test.
"""

import os
import random

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")

import iortmc as mc  # noqa: E402
from iortmc import InputError  # noqa: E402
from iortmc import dicom  # noqa: E402
from iortmc.results.dose import DoseResult  # noqa: E402

# (HU, expected material, expected density g/cm3 from the Schneider 2000 line segments, by hand)
TISSUES = [
    (-1000, "air", 0.00121),
    (-750, "lung_icrp", 0.00121 + 250 / 902 * (0.93 - 0.00121)),
    (-100, "adipose_icrp", 0.00121 + 900 / 902 * (0.93 - 0.00121)),
    (0, "soft_tissue_icrp", 0.930486 + 97 / 111 * (1.03 - 0.930486)),
    (50, "muscle_icrp", 1.031 + 27 / 77 * (1.1199 - 1.031)),
    (1200, "bone_cortical_icrp", 1.0762 + 1099 / 1499 * (1.9642 - 1.0762)),
]
DENSITY_TOL = 1e-4   # g/cm3: the HU are exact integers, the only error is float rounding


def _volume(nz=6, ny=5, nx=4):
    """HU [z, y, x]: each slice one tissue of TISSUES, and a gradient in x so orientation matters."""
    hu = np.empty((nz, ny, nx))
    for k in range(nz):
        hu[k] = TISSUES[k % len(TISSUES)][0]
    hu[:, 0, 0] += 3.0   # a marker voxel at row 0, column 0 of every slice
    return hu


def _write(tmp_path, hu=None, voxel=(0.1, 0.2, 0.25), origin=(-1.0, -2.0, 3.0), **kw):
    d = tmp_path / "ct"
    d.mkdir(exist_ok=True)
    hu = _volume() if hu is None else hu
    files = dicom.write_ct_series(d, hu, voxel, origin, **kw)
    return d, files, hu


def test_lazy_attribute():
    assert mc.dicom is dicom


def test_round_trip_materials_and_density(tmp_path):
    d, files, hu = _write(tmp_path)
    ct = dicom.read_ct_series(d)
    assert ct.hu.shape == hu.shape
    np.testing.assert_array_equal(ct.hu, hu)       # rescale slope/intercept undone exactly
    np.testing.assert_allclose(ct.voxel_size, (0.1, 0.2, 0.25), rtol=0, atol=1e-9)
    np.testing.assert_allclose(ct.origin, (-1.0, -2.0, 3.0), rtol=0, atol=1e-9)
    # the DICOM position is the centre of the first voxel (mm)
    np.testing.assert_allclose(ct.image_position_mm, (-9.5, -19.0, 31.25), atol=1e-9)
    assert ct.frame_of_reference_uid and ct.patient_position == "HFS"

    ph = dicom.ct_to_phantom(ct)
    assert ph.shape == hu.shape
    np.testing.assert_allclose(ph.voxel_size, ct.voxel_size)
    np.testing.assert_allclose(ph.origin, ct.origin)
    for k, (h, name, rho) in enumerate(TISSUES):
        mats = {ph.materials[i].name for i in np.unique(ph.index[k, 1:, 1:])}
        assert mats == {name}, (h, mats)
        np.testing.assert_allclose(ph.density[k, 1:, 1:], rho, rtol=0, atol=DENSITY_TOL)
        # the calibration itself gives the same numbers
        assert dicom.default_calibration().material_of(h).name == name
        assert abs(float(dicom.default_calibration().density(h)) - rho) < DENSITY_TOL
    # lung and water densities are physically sensible (within 3 % of the library values)
    assert abs(ph.density[1, 1, 1] - mc.material("lung_inflated").density) < 0.03 * 0.26
    assert abs(ph.density[3, 1, 1] - 1.0) < 0.02


def test_rescale_slope_and_intercept(tmp_path):
    hu = _volume()
    d, files, _ = _write(tmp_path, hu=hu, rescale_slope=0.5, rescale_intercept=-1100.0)
    assert pydicom.dcmread(files[0]).RescaleSlope == 0.5
    np.testing.assert_array_equal(dicom.read_ct_series(d).hu, hu)


def test_slices_sorted_by_position_not_name_or_instance_number(tmp_path):
    d, files, hu = _write(tmp_path)
    rng = random.Random(3)
    names = [f"img_{rng.randrange(10**8):08d}.dcm" for _ in files]
    numbers = list(range(1, len(files) + 1))
    rng.shuffle(numbers)
    shuffled = []
    for f, n, new in zip(files, numbers, names):
        ds = pydicom.dcmread(f)
        ds.InstanceNumber = n
        os.remove(f)
        ds.save_as(d / new)
        shuffled.append(str(d / new))
    order = list(range(len(shuffled)))
    rng.shuffle(order)
    for source in (d, [shuffled[i] for i in order]):
        ct = dicom.read_ct_series(source)
        np.testing.assert_array_equal(ct.hu, hu)
        np.testing.assert_allclose(ct.origin, (-1.0, -2.0, 3.0), atol=1e-9)


def test_directory_skips_other_dicom_objects(tmp_path):
    d, files, hu = _write(tmp_path)
    ct = dicom.read_ct_series(d)
    dicom.write_rtstruct(d / "rs.dcm", {"a": [np.array([[0, 0, 3.125], [0.2, 0, 3.125], [0, 0.2, 3.125]])]}, ct)
    np.testing.assert_array_equal(dicom.read_ct_series(d).hu, hu)


def test_missing_slice_is_named(tmp_path):
    d, files, _ = _write(tmp_path)
    os.remove(files[3])
    with pytest.raises(InputError, match=r"not evenly spaced.*CT0002\.dcm.*CT0004\.dcm.*missing slice"):
        dicom.read_ct_series(d)


def test_non_uniform_spacing(tmp_path):
    d, files, _ = _write(tmp_path)
    ds = pydicom.dcmread(files[-1])
    ipp = [float(v) for v in ds.ImagePositionPatient]
    ds.ImagePositionPatient = [ipp[0], ipp[1], ipp[2] + 0.7]
    ds.save_as(files[-1])
    with pytest.raises(InputError, match=r"not evenly spaced.*CT0005\.dcm"):
        dicom.read_ct_series(d)


def test_duplicate_slice_position(tmp_path):
    d, files, _ = _write(tmp_path)
    ds = pydicom.dcmread(files[1])
    ds.ImagePositionPatient = pydicom.dcmread(files[2]).ImagePositionPatient
    ds.save_as(files[1])
    with pytest.raises(InputError, match="same slice position"):
        dicom.read_ct_series(d)


def test_oblique_orientation_refused(tmp_path):
    c, s = np.cos(0.3), np.sin(0.3)
    d, files, _ = _write(tmp_path, orientation=(c, s, 0.0, -s, c, 0.0))
    with pytest.raises(InputError, match=r"ImageOrientationPatient.*not axial.*oblique"):
        dicom.read_ct_series(d)


def test_mixed_orientation_and_size_named(tmp_path):
    d, files, _ = _write(tmp_path)
    ds = pydicom.dcmread(files[2])
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0.99, 0.141]
    ds.save_as(files[2])
    with pytest.raises(InputError, match=r"CT0002\.dcm: ImageOrientationPatient .* differs"):
        dicom.read_ct_series(d)
    second = tmp_path / "second"
    second.mkdir()
    d2, files2, _ = _write(second)
    ds = pydicom.dcmread(files2[4])
    ds.PixelSpacing = [2.5, 1.0]
    ds.save_as(files2[4])
    with pytest.raises(InputError, match=r"CT0004\.dcm: PixelSpacing"):
        dicom.read_ct_series(d2)


def test_not_dicom_and_empty(tmp_path):
    d, files, _ = _write(tmp_path)
    bad = d / "notes.txt"
    bad.write_text("not an image\n")
    with pytest.raises(InputError, match=r"notes\.txt: not a DICOM file"):
        dicom.read_ct_series(d)
    with pytest.raises(InputError, match=r"notes\.txt: not a DICOM file"):
        dicom.read_ct_series([files[0], str(bad)])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="holds no files"):
        dicom.read_ct_series(empty)
    with pytest.raises(InputError, match="does not exist"):
        dicom.read_ct_series(tmp_path / "nowhere")
    with pytest.raises(InputError, match="list of files is empty"):
        dicom.read_ct_series([])


def test_calibration_validation():
    H = dicom.HUCalibration
    bp = [(-1024, 0.001), (3071, 2.8)]
    with pytest.raises(InputError, match="bins is empty"):
        H([], bp)
    with pytest.raises(InputError, match="contiguous"):
        H([(-1024, 0, "air"), (10, 3071, "water")], bp)
    with pytest.raises(InputError, match="hu_high > hu_low"):
        H([(-1024, -1024, "air")], bp)
    with pytest.raises(InputError, match="finite"):
        H([(-1024, float("inf"), "air")], bp)
    with pytest.raises(InputError, match="unknown|no material|not"):
        H([(-1024, 3071, "unobtainium")], bp)
    with pytest.raises(InputError, match="increase strictly"):
        H([(-1024, 3071, "water")], [(-1024, 0.001), (0, 1.0), (0, 1.1), (3071, 2.8)])
    with pytest.raises(InputError, match="> 0 g/cm3"):
        H([(-1024, 3071, "water")], [(-1024, 0.0), (3071, 2.8)])
    with pytest.raises(InputError, match="finite"):
        H([(-1024, 3071, "water")], [(-1024, float("nan")), (3071, 2.8)])
    with pytest.raises(InputError, match="must cover the bins"):
        H([(-1024, 3071, "water")], [(-1000, 0.001), (3071, 2.8)])
    # a user calibration: water everywhere, density 1 + HU/1000
    cal = H([(-1000, 1000, "water")], [(-1000, 0.001), (1000, 2.0)], name="linear")
    assert cal.material_of(500).name == "water"
    np.testing.assert_allclose(cal.density([-1000, 0, 2000]), [0.001, 1.0005, 2.0])
    assert "water" in cal.table() and "schneider2000" in dicom.default_calibration().table()


def test_user_calibration_and_metal_warning(tmp_path):
    hu = np.zeros((2, 3, 3))
    hu[1] = 4000.0
    d, _, _ = _write(tmp_path, hu=hu, rescale_intercept=-1024.0)
    ct = dicom.read_ct_series(d)
    with pytest.warns(UserWarning, match="above 3071 HU"):
        ph = dicom.ct_to_phantom(ct)
    assert [m.name for m in ph.materials] == ["soft_tissue_icrp", "bone_cortical_icrp"]
    cal = dicom.HUCalibration([(-1024, 500, "water"), (500, 5000, "aluminium")],
                              [(-1024, 0.001), (0, 1.0), (5000, 3.0)])
    ph = dicom.ct_to_phantom(ct, calibration=cal)
    assert ph.materials[ph.index[1, 0, 0]].name == "aluminium"
    np.testing.assert_allclose(ph.density[0], 1.0)
    np.testing.assert_allclose(ph.density[1], 1.0 + 2.0 * 4000 / 5000)


def test_resampling_conserves_mean_and_geometry(tmp_path):
    rng = np.random.default_rng(5)
    hu = rng.uniform(-900, 1500, size=(8, 12, 10)).round()
    ct = dicom.CTVolume(hu=hu.astype(np.float32), voxel_size=(0.1, 0.1, 0.2), origin=(-0.5, -0.6, 1.0))
    # 2x2x2 coarsening: exact averaging, same extent
    new, origin = dicom._resample_mean(ct.hu, ct.voxel_size, ct.origin, (0.2, 0.2, 0.4))
    assert new.shape == (4, 6, 5)
    np.testing.assert_allclose(origin, ct.origin, atol=1e-12)
    np.testing.assert_allclose(new.mean(), hu.mean(), rtol=1e-10)
    np.testing.assert_allclose(new[0, 0, 0], hu[:2, :2, :2].mean(), rtol=1e-10)
    ph = dicom.ct_to_phantom(ct, voxel_size=(0.2, 0.2, 0.4))
    assert ph.shape == (4, 6, 5)
    np.testing.assert_allclose(ph.origin, ct.origin, atol=1e-12)
    np.testing.assert_allclose([hi for _, hi in ph.extent], [hi for _, hi in ct.extent], atol=1e-12)
    np.testing.assert_allclose(ph.density, dicom.default_calibration().density(new), rtol=1e-12)
    # a size that does not divide the extent: same centre, extent within half a voxel per end,
    # and the mean HU over the common volume is kept (volume weighting)
    new, origin = dicom._resample_mean(ct.hu, ct.voxel_size, ct.origin, (0.3, 0.25, 0.5))
    n_xyz = new.shape[::-1]
    for a, (lo, hi) in enumerate(ct.extent):
        c = 0.5 * (lo + hi)
        assert abs(origin[a] + 0.5 * n_xyz[a] * (0.3, 0.25, 0.5)[a] - c) < 1e-12
        assert abs(origin[a] - lo) <= 0.5 * (0.3, 0.25, 0.5)[a] + 1e-12
    # upsampling by 2 in every direction: each old voxel split into 8, mean exact
    up, origin = dicom._resample_mean(ct.hu, ct.voxel_size, ct.origin, (0.05, 0.05, 0.1))
    assert up.shape == (16, 24, 20)
    np.testing.assert_allclose(up.mean(), hu.mean(), rtol=1e-10)
    np.testing.assert_allclose(up[::2, ::2, ::2], hu, rtol=1e-6)


def _result_on(ph, seed=1):
    rng = np.random.default_rng(seed)
    s1 = rng.uniform(0, 1e-12, size=ph.shape) * 100
    s1[0, 0, 0] = 0.0
    return DoseResult(s1, s1 * s1 / 100, 100, ph)


def test_rtdose_round_trip(tmp_path):
    d, files, hu = _write(tmp_path)
    ct = dicom.read_ct_series(d)
    ph = dicom.ct_to_phantom(ct)
    res = _result_on(ph)
    out = tmp_path / "dose.dcm"
    scale = 3.7e13
    info = dicom.write_rtdose(res, out, scale=scale, ct=ct)
    ds = pydicom.dcmread(out)
    assert ds.file_meta.MediaStorageSOPClassUID == dicom.RT_DOSE_STORAGE == ds.SOPClassUID
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert ds.Modality == "RTDOSE" and ds.DoseUnits == "GY" and ds.DoseType == "PHYSICAL"
    assert ds.DoseSummationType == "PLAN"
    assert ds.BitsAllocated == 32 and ds.PixelRepresentation == 0
    assert ds.FrameOfReferenceUID == ct.frame_of_reference_uid
    assert ds.StudyInstanceUID == ct.study_instance_uid and ds.PatientID == ct.patient_id
    np.testing.assert_allclose([float(v) for v in ds.ImagePositionPatient], ct.image_position_mm, atol=1e-6)
    np.testing.assert_allclose([float(v) for v in ds.PixelSpacing], [2.0, 1.0], atol=1e-9)  # [dy, dx] mm
    np.testing.assert_allclose([float(v) for v in ds.GridFrameOffsetVector], 2.5 * np.arange(6), atol=1e-9)
    assert float(ds.SliceThickness) == pytest.approx(2.5)
    assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    scaling = float(ds.DoseGridScaling)
    assert scaling == info["dose_grid_scaling"]
    expected = res.dose * scale
    got = ds.pixel_array.astype(np.float64) * scaling
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= scaling / 2 + 1e-12 * expected.max()
    assert ds.pixel_array.max() > 0.999 * (2**32 - 1)     # the range is used
    back = dicom.read_rtdose(out)
    np.testing.assert_allclose(back.origin, ph.origin, atol=1e-9)
    np.testing.assert_allclose(back.voxel_size, ph.voxel_size, atol=1e-9)
    np.testing.assert_allclose(back.dose_Gy, got)


def test_rtdose_prescription_and_arguments(tmp_path):
    ph = mc.Phantom.box((3, 4, 5), voxel_size=(0.1, 0.2, 0.3), material="water", origin=(1.0, 2.0, -3.0))
    res = _result_on(ph, seed=2)
    sd = res.scaled_to(20.0, point_xyz_cm=(1.25, 2.4, -2.55))
    out = tmp_path / "d.dcm"
    dicom.write_rtdose(res, out, prescription=sd, frame_of_reference_uid="1.2.3.4")
    ds = pydicom.dcmread(out)
    assert ds.FrameOfReferenceUID == "1.2.3.4"
    np.testing.assert_allclose([float(v) for v in ds.ImagePositionPatient], [10.5, 21.0, -28.5], atol=1e-9)
    got = ds.pixel_array * float(ds.DoseGridScaling)
    assert np.max(np.abs(got - sd.dose)) <= float(ds.DoseGridScaling) / 2 + 1e-12 * sd.dose.max()
    with pytest.raises(InputError, match="exactly one of scale"):
        dicom.write_rtdose(res, out)
    with pytest.raises(InputError, match="exactly one of scale"):
        dicom.write_rtdose(res, out, scale=1.0, prescription=sd)
    with pytest.raises(InputError, match="scale must be finite and > 0"):
        dicom.write_rtdose(res, out, scale=-1.0)
    with pytest.raises(InputError, match="directory"):
        dicom.write_rtdose(res, tmp_path / "no" / "d.dcm", scale=1.0)


def test_rtdose_atomic_write(tmp_path, monkeypatch):
    ph = mc.Phantom.box((2, 3, 4), voxel_size=0.2, material="water")
    res = _result_on(ph)
    out = tmp_path / "dose.dcm"
    out.write_bytes(b"previous content")

    def broken(ds, fh):
        fh.write(b"DICM partial")
        raise OSError("disk full")

    monkeypatch.setattr(dicom, "_save_dataset", broken)
    with pytest.raises(OSError, match="disk full"):
        dicom.write_rtdose(res, out, scale=1e12)
    assert out.read_bytes() == b"previous content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dose.dcm"]   # no temporary left behind


def _circle(cx, cy, z, r, n=180):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([cx + r * np.cos(t), cy + r * np.sin(t), np.full(n, z)])


def test_rtstruct_square_circle_and_hole(tmp_path):
    hu = np.zeros((5, 60, 60))
    d, files, _ = _write(tmp_path, hu=hu, voxel=(0.1, 0.1, 0.3), origin=(-3.0, -3.0, 0.0))
    ct = dicom.read_ct_series(d)
    zs = ct.centers()[2]
    # square 2 x 1.2 cm (x from -1 to 1, y from -0.5 to 0.7) on slices 1 and 2 (z within half a slice)
    sq = [np.array([[-1.0, -0.5, z], [1.0, -0.5, z], [1.0, 0.7, z], [-1.0, 0.7, z]]) for z in (zs[1] + 0.1, zs[2])]
    circ = [_circle(0.3, -0.2, zs[3], 1.5)]
    ring = [_circle(0.0, 0.0, zs[0], 2.0), _circle(0.0, 0.0, zs[0], 1.0)]
    outside = [_circle(0.0, 0.0, zs[-1] + 5.0, 1.0)]
    path = tmp_path / "rs.dcm"
    dicom.write_rtstruct(path, {"square": sq, "circle": circ, "ring": ring, "far": outside}, ct)
    with pytest.warns(UserWarning, match="outside the grid"):
        masks = dicom.read_rtstruct(path, ct)
    assert set(masks) == {"square", "circle", "ring", "far"}
    for m in masks.values():
        assert m.shape == ct.shape and m.dtype == bool
    a = 0.1 * 0.1   # voxel area, cm2
    sqm = masks["square"]
    assert sqm[[0, 3, 4]].sum() == 0
    for k in (1, 2):
        assert sqm[k].sum() == 20 * 12                       # 2.0 x 1.2 cm with 1 mm voxels, exact
        ys, xs = np.nonzero(sqm[k])
        x, y, _ = ct.centers()
        assert x[xs].min() > -1.0 and x[xs].max() < 1.0 and y[ys].min() > -0.5 and y[ys].max() < 0.7
    row = 2 * 1.5 * 0.1   # one voxel row along a diameter, cm2
    assert abs(masks["circle"][3].sum() * a - np.pi * 1.5**2) < row
    assert abs(masks["ring"][0].sum() * a - np.pi * (2.0**2 - 1.0**2)) < 2 * 2 * 2.0 * 0.1
    assert not masks["ring"][0, 30, 30] and masks["ring"][0, 30, 30 + 15]   # hole at the centre
    assert masks["far"].sum() == 0
    # the masks work with analysis.dvh on a phantom grid
    ph = dicom.ct_to_phantom(ct)
    dv = mc.analysis.dvh(np.ones(ph.shape), masks["square"], voxel_volume_cm3=ph.voxel_volume)
    assert dv.volume_cm3 == pytest.approx(2 * 20 * 12 * ph.voxel_volume)
    # a phantom grid gives the same masks
    with pytest.warns(UserWarning):
        masks2 = dicom.read_rtstruct(path, ph)
    np.testing.assert_array_equal(masks2["circle"], masks["circle"])


def test_rtstruct_on_thicker_slices(tmp_path):
    """A grid with slices twice the CT's takes one contour plane per slice (no even-odd cancellation)."""
    hu = np.zeros((8, 40, 40))
    d, files, _ = _write(tmp_path, hu=hu, voxel=(0.1, 0.1, 0.2), origin=(-2.0, -2.0, 0.0))
    ct = dicom.read_ct_series(d)
    path = tmp_path / "rs.dcm"
    dicom.write_rtstruct(path, {"disc": [_circle(0.0, 0.0, z, 1.0) for z in ct.centers()[2]]}, ct)
    ph = dicom.ct_to_phantom(ct, voxel_size=(0.1, 0.1, 0.4))
    assert ph.shape == (4, 40, 40)
    mask = dicom.read_rtstruct(path, ph)["disc"]
    fine = dicom.read_rtstruct(path, ct)["disc"]
    for k in range(4):
        np.testing.assert_array_equal(mask[k], fine[2 * k])
        assert abs(mask[k].sum() * 0.01 - np.pi) < 2 * 1.0 * 0.1


def test_rtstruct_frame_of_reference_and_bad_file(tmp_path):
    d, files, _ = _write(tmp_path)
    ct = dicom.read_ct_series(d)
    path = tmp_path / "rs.dcm"
    dicom.write_rtstruct(path, {"a": [_circle(0, 0, ct.centers()[2][0], 0.3)]}, ct)
    other = dicom.CTVolume(ct.hu, ct.voxel_size, ct.origin, frame_of_reference_uid="9.9.9")
    with pytest.raises(InputError, match="FrameOfReferenceUID"):
        dicom.read_rtstruct(path, other)
    with pytest.raises(InputError, match="not an RT Structure Set"):
        dicom.read_rtstruct(files[0], ct)
    txt = tmp_path / "x.txt"
    txt.write_text("hello")
    with pytest.raises(InputError, match="not a DICOM file"):
        dicom.read_rtstruct(txt, ct)
