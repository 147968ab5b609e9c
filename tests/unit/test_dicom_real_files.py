"""DICOM readers on real-world files: the CT, multi-frame RT Dose and RT Structure Set test files that
pydicom ships (its rtstruct.dcm has no 128-byte preamble and no 'DICM' prefix), and an RT Dose written
by iortmc read back with plain pydicom and numpy only (DICOM PS3.3 C.8.8.3: dose = pixel x
DoseGridScaling; ImagePositionPatient = centre of the first voxel; GridFrameOffsetVector = frame z
offsets).
"""

from __future__ import annotations

import numpy as np
import pytest

import iortmc as mc

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402

from iortmc import dicom  # noqa: E402


def _file(name):
    try:
        path = get_testdata_file(name, download=False)
    except Exception:  # noqa: BLE001 - older pydicom without the download keyword
        path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"pydicom test file {name} not installed")
    return path


def test_ct_small_reads_into_a_phantom():
    ct = dicom.read_ct_series(_file("CT_small.dcm"))
    ds = pydicom.dcmread(_file("CT_small.dcm"))
    assert ct.shape == (1, int(ds.Rows), int(ds.Columns))
    hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert np.array_equal(ct.hu[0], hu)
    ph = dicom.ct_to_phantom(ct)
    assert ph.shape == ct.shape


def test_rtstruct_without_preamble_is_read_and_a_foreign_frame_refused():
    ct = dicom.read_ct_series(_file("CT_small.dcm"))
    with pytest.raises(mc.InputError, match="FrameOfReferenceUID .* differs from the CT's"):
        dicom.read_rtstruct(_file("rtstruct.dcm"), ct)
    with pytest.warns(UserWarning, match="outside the grid"):
        masks = dicom.read_rtstruct(_file("rtstruct.dcm"), ct, check_frame_of_reference=False)
    ds = pydicom.dcmread(_file("rtstruct.dcm"), force=True)
    assert set(masks) == {str(r.ROIName) for r in ds.StructureSetROISequence}


def test_multiframe_rtdose_reads_as_plain_pydicom_does():
    path = _file("rtdose.dcm")
    grid = dicom.read_rtdose(path)
    ds = pydicom.dcmread(path)
    assert int(ds.NumberOfFrames) == grid.shape[0] > 1
    assert np.array_equal(grid.dose_Gy, ds.pixel_array * float(ds.DoseGridScaling))
    ipp = [float(v) for v in ds.ImagePositionPatient]
    off = [float(v) for v in ds.GridFrameOffsetVector]
    dy, dx = (float(v) for v in ds.PixelSpacing)
    assert grid.voxel_size == pytest.approx((dx / 10, dy / 10, (off[1] - off[0]) / 10))
    assert grid.origin == pytest.approx((ipp[0] / 10 - dx / 20, ipp[1] / 10 - dy / 20,
                                         (ipp[2] + off[0]) / 10 - (off[1] - off[0]) / 20))


def test_not_dicom_is_refused(tmp_path):
    p = tmp_path / "x.dcm"
    p.write_bytes(b"this is not a DICOM file at all" * 10)
    with pytest.raises(mc.InputError, match="not a DICOM file"):
        dicom.read_rtstruct(p, mc.Phantom.box((2, 2, 2)))
    with pytest.raises(mc.InputError, match="not a DICOM file|cannot be read"):
        dicom.read_rtdose(p)


def test_rtdose_written_by_iortmc_reads_back_with_plain_pydicom(tmp_path):
    ph = mc.Phantom.box((6, 5, 4), voxel_size=(0.2, 0.25, 0.3), origin=(-1.0, 2.0, 5.0))
    rng = np.random.default_rng(5)
    dose = rng.uniform(0.0, 1e-10, ph.shape)
    r = mc.DoseResult(dose, dose ** 2, 1, ph)
    info = dicom.write_rtdose(r, tmp_path / "d.dcm", scale=2.0e11)
    ds = pydicom.dcmread(tmp_path / "d.dcm")
    scaling = float(ds.DoseGridScaling)
    assert scaling == pytest.approx(info["dose_grid_scaling"])
    back = ds.pixel_array.astype(np.float64) * scaling
    assert back.shape == ph.shape
    assert np.max(np.abs(back - dose * 2.0e11)) <= scaling / 2 * (1 + 1e-9)
    ipp = np.array([float(v) for v in ds.ImagePositionPatient])      # mm, centre of voxel [0, 0, 0]
    off = np.array([float(v) for v in ds.GridFrameOffsetVector])
    dy, dx = (float(v) for v in ds.PixelSpacing)
    centre0 = np.array(ph.origin) * 10 + np.array(ph.voxel_size) * 5
    assert ipp == pytest.approx(centre0)
    assert (dx, dy) == pytest.approx((2.0, 2.5)) and np.diff(off) == pytest.approx([3.0] * 5)
