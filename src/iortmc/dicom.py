"""DICOM input and output: CT series, HU calibration, RT Structure Sets and RT Dose.

Everything here is described in ``docs/dicom.md``. In short:

- :func:`read_ct_series` reads an axial CT series into a :class:`CTVolume` (HU, ``[z, y, x]``), sorting
  the slices by their position along the slice normal and checking that they form one regular grid.
- :class:`HUCalibration` maps HU to a library material (by HU bins) and to a mass density (piecewise
  linear in HU), after Schneider, Bortfeld and Schlegel, Phys. Med. Biol. 45 (2000) 459,
  https://doi.org/10.1088/0031-9155/45/2/314. :func:`ct_to_phantom` applies it, optionally after
  resampling the HU volume to another voxel size by volume averaging.
- :func:`read_rtstruct` turns the closed planar contours of an RT Structure Set into voxel masks on a
  CT or phantom grid (for :func:`iortmc.analysis.dvh`).
- :func:`write_rtdose` writes a :class:`~iortmc.results.dose.DoseResult`, scaled to Gy, as an RT Dose file
  that treatment-planning systems import next to the CT.
- :func:`write_ct_series` and :func:`write_rtstruct` write synthetic CT series and structure sets (for
  tests, examples and phantoms made in iortmc).

Coordinates: DICOM patient coordinates are in mm; iortmc uses cm. Only the axial orientation with
identity direction cosines (``ImageOrientationPatient = [1, 0, 0, 0, 1, 0]``) is supported; then the
iortmc axes x, y, z are the patient axes x, y, z (cm = mm / 10), array index ``[k, j, i]`` is
slice ``k``, row ``j``, column ``i``, and the phantom origin (outer corner of voxel ``[0, 0, 0]``) is
the DICOM ``ImagePositionPatient`` of the first slice (the *centre* of its first voxel) minus half a
voxel.

pydicom is an optional dependency (``pip install iortmc[dicom]``), imported on first use.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .errors import InputError
from .physics.materials import Material, material as _library_material

__all__ = ["CTVolume", "HUCalibration", "HUBin", "RTDoseGrid", "default_calibration", "read_ct_series",
           "ct_to_phantom", "read_rtstruct", "write_rtdose", "read_rtdose", "write_ct_series",
           "write_rtstruct", "CT_IMAGE_STORAGE", "RT_DOSE_STORAGE", "RT_STRUCTURE_SET_STORAGE"]

#: SOP class UIDs (DICOM PS3.4 Annex B).
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
RT_DOSE_STORAGE = "1.2.840.10008.5.1.4.1.1.481.2"
RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"

_IDENTITY_ORIENTATION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
#: Tolerance on direction cosines (ImageOrientationPatient) for "axial".
_ORIENTATION_TOL = 1.0e-4
#: Relative tolerance on slice spacing (fraction of the median spacing) and absolute position tolerance.
_SPACING_RTOL = 1.0e-3
_POSITION_TOL_MM = 1.0e-3
_UINT32_MAX = 2**32 - 1


def _pydicom():
    try:
        import pydicom
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("iortmc.dicom needs pydicom: install the 'dicom' extra "
                          "(pip install 'iortmc[dicom]' or pip install pydicom)") from exc
    return pydicom


# ================================================================================= calibration
@dataclass(frozen=True)
class HUBin:
    """HU interval ``[hu_low, hu_high)`` assigned to one material (the last bin includes ``hu_high``)."""

    hu_low: float
    hu_high: float
    material: Material


class HUCalibration:
    """CT number (HU) to material and mass density.

    Parameters
    ----------
    bins : sequence of (hu_low, hu_high, material)
        Contiguous HU intervals in increasing order (``hu_high`` of a bin is ``hu_low`` of the next);
        ``material`` is a library name or a :class:`~iortmc.physics.materials.Material`. A voxel with
        ``hu_low <= HU < hu_high`` gets the bin's material (the last bin includes its ``hu_high``).
    density_breakpoints : sequence of (HU, density_g_cm3)
        Mass density (g/cm3) is linear in HU between consecutive breakpoints. HU strictly increasing;
        densities finite and > 0 (a step, as at the soft-tissue/bone break of Schneider et al., is made
        by two breakpoints 1 HU apart). The breakpoints must span the bins.
    name : str
        Label for messages and files.

    Notes
    -----
    The material of a voxel sets its elemental composition (hence its cross sections per gram); its
    density comes from the breakpoints, independently of the material's nominal density. HU outside
    ``[hu_min, hu_max]`` are clipped into it (:func:`ct_to_phantom` warns about HU above ``hu_max``,
    e.g. metal; HU below ``hu_min``, such as the -2048 or -3024 padding outside the reconstruction
    circle, become ``hu_min`` silently).
    """

    def __init__(self, bins, density_breakpoints, name: str = "user") -> None:
        self.name = str(name)
        try:
            rows = [tuple(b) for b in bins]
        except TypeError:
            raise InputError(f"HUCalibration {self.name!r}: bins must be a sequence of "
                             f"(hu_low, hu_high, material), got {bins!r}") from None
        if not rows:
            raise InputError(f"HUCalibration {self.name!r}: bins is empty; give at least one "
                             "(hu_low, hu_high, material)")
        clean = []
        for n, row in enumerate(rows):
            if len(row) != 3:
                raise InputError(f"HUCalibration {self.name!r}: bin {n} must be (hu_low, hu_high, "
                                 f"material), got {row!r}")
            lo, hi, mat = row
            try:
                lo, hi = float(lo), float(hi)
            except (TypeError, ValueError):
                raise InputError(f"HUCalibration {self.name!r}: bin {n} limits must be numbers (HU), "
                                 f"got {row[0]!r}, {row[1]!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise InputError(f"HUCalibration {self.name!r}: bin {n} limits must be finite, "
                                 f"got [{lo}, {hi})")
            if not hi > lo:
                raise InputError(f"HUCalibration {self.name!r}: bin {n} must have hu_high > hu_low, "
                                 f"got [{lo:g}, {hi:g})")
            if clean and lo != clean[-1].hu_high:
                raise InputError(
                    f"HUCalibration {self.name!r}: bins must be contiguous and increasing; bin {n} "
                    f"starts at {lo:g} HU but bin {n - 1} ends at {clean[-1].hu_high:g} HU")
            mat = mat if isinstance(mat, Material) else _library_material(mat)
            clean.append(HUBin(lo, hi, mat))
        self.bins: tuple[HUBin, ...] = tuple(clean)

        try:
            bp = np.asarray([tuple(p) for p in density_breakpoints], dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"HUCalibration {self.name!r}: density_breakpoints must be a sequence of "
                             f"(HU, density_g_cm3) pairs, got {density_breakpoints!r}") from None
        if bp.ndim != 2 or bp.shape[1] != 2 or bp.shape[0] < 2:
            raise InputError(f"HUCalibration {self.name!r}: density_breakpoints must hold at least two "
                             f"(HU, density_g_cm3) pairs, got shape {bp.shape}")
        if not np.all(np.isfinite(bp)):
            raise InputError(f"HUCalibration {self.name!r}: density_breakpoints must be finite, "
                             f"got {bp.tolist()}")
        steps = np.diff(bp[:, 0])
        if np.any(steps <= 0):
            n = int(np.argmax(steps <= 0))
            raise InputError(f"HUCalibration {self.name!r}: density breakpoint HU must increase "
                             f"strictly; {bp[n + 1, 0]:g} HU follows {bp[n, 0]:g} HU")
        if np.any(bp[:, 1] <= 0):
            n = int(np.argmax(bp[:, 1] <= 0))
            raise InputError(f"HUCalibration {self.name!r}: densities must be > 0 g/cm3, got "
                             f"{bp[n, 1]:g} at {bp[n, 0]:g} HU")
        if bp[0, 0] > self.hu_min or bp[-1, 0] < self.hu_max:
            raise InputError(
                f"HUCalibration {self.name!r}: density breakpoints ({bp[0, 0]:g} to {bp[-1, 0]:g} HU) "
                f"must cover the bins ({self.hu_min:g} to {self.hu_max:g} HU)")
        self.density_breakpoints = bp
        self._edges = np.array([b.hu_low for b in self.bins] + [self.hu_max])

    @property
    def hu_min(self) -> float:
        return self.bins[0].hu_low

    @property
    def hu_max(self) -> float:
        return self.bins[-1].hu_high

    @property
    def materials(self) -> list[Material]:
        """Materials of the bins, in bin order (index ``n`` is bin ``n``)."""
        return [b.material for b in self.bins]

    def clip(self, hu) -> np.ndarray:
        return np.clip(np.asarray(hu, dtype=np.float64), self.hu_min, self.hu_max)

    def bin_index(self, hu) -> np.ndarray:
        """Bin (= index into :attr:`materials`) of each HU value (clipped into the range)."""
        h = self.clip(hu)
        k = np.searchsorted(self._edges, h, side="right") - 1
        return np.clip(k, 0, len(self.bins) - 1).astype(np.int32)

    def density(self, hu) -> np.ndarray:
        """Mass density in g/cm3 of each HU value (clipped into the range), piecewise linear."""
        bp = self.density_breakpoints
        return np.interp(self.clip(hu), bp[:, 0], bp[:, 1])

    def material_of(self, hu: float) -> Material:
        return self.bins[int(self.bin_index(np.array([hu]))[0])].material

    def table(self) -> str:
        """The calibration as Markdown tables (bins, then density breakpoints)."""
        lines = [f"Calibration {self.name!r}", "",
                 "| HU from | HU to | material | density at the bin ends (g/cm3) |", "|---|---|---|---|"]
        for b in self.bins:
            lo, hi = (float(v) for v in self.density([b.hu_low, b.hu_high]))
            lines.append(f"| {b.hu_low:g} | {b.hu_high:g} | {b.material.name} | {lo:.4g} to {hi:.4g} |")
        lines += ["", "| HU | density (g/cm3) |", "|---|---|"]
        lines += [f"| {h:g} | {d:.6g} |" for h, d in self.density_breakpoints]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"name": self.name,
                "bins": [[b.hu_low, b.hu_high, b.material.name] for b in self.bins],
                "density_breakpoints": self.density_breakpoints.tolist()}

    def __repr__(self) -> str:
        names = ", ".join(f"{b.material.name} [{b.hu_low:g}, {b.hu_high:g})" for b in self.bins)
        return f"HUCalibration({self.name!r}: {names})"


#: Mass density versus HU: the two-line fit of Schneider, Bortfeld and Schlegel (2000) through their
#: tabulated tissues (soft tissues up to 100 HU, skeletal tissues from 101 HU), as tabulated in the
#: GATE distribution (Schneider2000DensitiesTable), extended to -1024 HU (air density) and linearly to
#: 3071 HU (the top of 12-bit CT).
SCHNEIDER2000_DENSITY = (
    (-1024.0, 0.00121), (-1000.0, 0.00121), (-98.0, 0.93), (-97.0, 0.930486), (14.0, 1.03),
    (23.0, 1.031), (100.0, 1.1199), (101.0, 1.0762), (1600.0, 1.9642), (3000.0, 2.8),
    (3071.0, 2.8 + 71.0 * (2.8 - 1.9642) / 1400.0),
)
#: Material bins (HU ranges after the tissue groups of Schneider et al. 2000, reduced to the iortmc
#: library materials).
SCHNEIDER2000_BINS = (
    (-1024.0, -950.0, "air"),
    (-950.0, -120.0, "lung_icrp"),
    (-120.0, -20.0, "adipose_icrp"),
    (-20.0, 20.0, "soft_tissue_icrp"),
    (20.0, 100.0, "muscle_icrp"),
    (100.0, 3071.0, "bone_cortical_icrp"),
)


def default_calibration() -> HUCalibration:
    """The default HU calibration (Schneider et al. 2000 densities, six library materials).

    Reference: Schneider, Bortfeld and Schlegel, Correlation between CT numbers and tissue parameters
    needed for Monte Carlo simulations of clinical dose distributions, Phys. Med. Biol. 45 (2000) 459,
    https://doi.org/10.1088/0031-9155/45/2/314. Densities are the paper's piecewise-linear fit;
    the materials are a coarse version of its tissue groups (``docs/dicom.md``): every voxel above
    100 HU takes the cortical-bone composition (spongy bone and marrow mixtures are not separated).
    A calibration measured on the user's scanner should replace it for clinical use.
    """
    return HUCalibration(SCHNEIDER2000_BINS, SCHNEIDER2000_DENSITY, name="schneider2000")


# ================================================================================= CT volume
@dataclass
class CTVolume:
    """An axial CT volume.

    Attributes
    ----------
    hu : ndarray of float32, shape (nz, ny, nx)
        CT numbers (HU) after RescaleSlope/RescaleIntercept, ``[z, y, x]`` = [slice, row, column],
        slices in increasing patient z.
    voxel_size : (dx, dy, dz)
        Voxel size in cm: column spacing, row spacing (PixelSpacing[1], PixelSpacing[0]) and slice
        spacing (from the slice positions, not SliceThickness).
    origin : (x0, y0, z0)
        Outer corner of voxel [0, 0, 0] in cm, in patient coordinates (as :class:`~iortmc.Phantom`).
    orientation : tuple of 6 floats
        ImageOrientationPatient (always identity here).
    frame_of_reference_uid, patient_position, study_instance_uid, series_instance_uid, patient_id,
    patient_name : str
        Copied from the series ("" when absent).
    files : list of str
        The files, in slice order.
    """

    hu: np.ndarray
    voxel_size: tuple
    origin: tuple
    orientation: tuple = _IDENTITY_ORIENTATION
    frame_of_reference_uid: str = ""
    patient_position: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    patient_id: str = ""
    patient_name: str = ""
    files: list = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.hu.shape)

    @property
    def image_position_mm(self) -> tuple[float, float, float]:
        """ImagePositionPatient of the first slice (centre of voxel [0, 0, 0]) in mm."""
        return tuple(10.0 * (o + 0.5 * d) for o, d in zip(self.origin, self.voxel_size))

    def centers(self):
        """Voxel-centre coordinates (x, y, z) in cm as three 1-D arrays."""
        nz, ny, nx = self.shape
        return tuple(self.origin[a] + (np.arange(n) + 0.5) * self.voxel_size[a]
                     for a, n in enumerate((nx, ny, nz)))

    @property
    def extent(self):
        nz, ny, nx = self.shape
        return tuple((self.origin[a], self.origin[a] + n * self.voxel_size[a])
                     for a, n in enumerate((nx, ny, nz)))

    def __repr__(self) -> str:
        return (f"CTVolume(shape={self.shape} [z,y,x], voxel_size={self.voxel_size} cm, "
                f"origin={self.origin} cm, HU {float(self.hu.min()):g} to {float(self.hu.max()):g})")


def _floats(ds, keyword, n, path):
    value = ds.get(keyword)
    if value is None:
        raise InputError(f"{path}: missing {keyword} (needed to place the slice)")
    try:
        out = tuple(float(v) for v in (value if n > 1 else [value]))
    except (TypeError, ValueError):
        raise InputError(f"{path}: {keyword} must hold {n} numbers, got {value!r}") from None
    if len(out) != n or not all(math.isfinite(v) for v in out):
        raise InputError(f"{path}: {keyword} must hold {n} finite numbers, got {value!r}")
    return out


def _list_files(source) -> tuple[list[str], bool]:
    if isinstance(source, (str, os.PathLike)):
        p = os.fspath(source)
        if os.path.isdir(p):
            names = sorted(n for n in os.listdir(p) if not n.startswith("."))
            files = [os.path.join(p, n) for n in names if os.path.isfile(os.path.join(p, n))]
            if not files:
                raise InputError(f"CT directory {p!r} holds no files")
            return files, True
        if not os.path.exists(p):
            raise InputError(f"CT series: {p!r} does not exist")
        return [p], False
    files = [os.fspath(f) for f in source]
    if not files:
        raise InputError("CT series: the list of files is empty")
    for f in files:
        if not os.path.isfile(f):
            raise InputError(f"CT series: {f!r} is not a file")
    return files, False


def _read_dataset(path, **kw):
    """Read a DICOM file. Files without the 128-byte preamble and 'DICM' prefix (as some vendors and
    older software write them) are read too, when what follows parses as a DICOM data set with a
    SOP Class UID or a Modality; anything else is refused with InputError."""
    pydicom = _pydicom()
    try:
        return pydicom.dcmread(path, **kw)
    except pydicom.errors.InvalidDicomError as exc:
        first = exc
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise InputError(f"{path}: cannot be read as DICOM ({type(exc).__name__}: {exc})") from None
    # no preamble: read the data set directly, and accept it only if it looks like a DICOM object
    try:
        ds = pydicom.dcmread(path, force=True, **kw)
        ok = bool(str(ds.get("SOPClassUID", "")) or str(ds.get("Modality", "")))
    except Exception:   # noqa: BLE001 - any parse failure of a forced read means "not DICOM"
        ok = False
    if not ok:
        raise InputError(f"{path}: not a DICOM file ({first})") from None
    if "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
        # a file without meta information: pydicom guesses the encoding; record it for pixel data
        try:
            from pydicom.uid import ImplicitVRLittleEndian
            ds.file_meta = getattr(ds, "file_meta", pydicom.dataset.FileMetaDataset())
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if ds.is_implicit_VR else \
                pydicom.uid.ExplicitVRLittleEndian
        except Exception:   # noqa: BLE001 - only needed for pixel data
            pass
    return ds


def read_ct_series(source, *, series_instance_uid: str | None = None) -> CTVolume:
    """Read an axial CT series.

    Parameters
    ----------
    source : path of a directory, path of a file, or sequence of file paths
        A directory is read whole (hidden files skipped); files in it that are DICOM but not CT images
        (an RT Structure Set, a DICOMDIR) are skipped, any other file is an error. With a list,
        every file must be a CT image.
    series_instance_uid : str, optional
        Which series to read when the files hold several.

    Returns
    -------
    CTVolume
        HU ``[z, y, x]`` in increasing patient z, voxel size and origin in cm.

    Notes
    -----
    Slices are sorted by the projection of ImagePositionPatient on the slice normal (row x column
    direction), never by file name or InstanceNumber. Every slice must have the same orientation,
    Rows, Columns, PixelSpacing and in-plane position, and the slices must be evenly spaced (relative
    tolerance 1e-3): a missing slice is an error naming the files on both sides of the gap. HU =
    stored value x RescaleSlope + RescaleIntercept, per slice. Only ImageOrientationPatient
    [1, 0, 0, 0, 1, 0] is accepted (oblique and flipped series are refused).
    """
    files, is_dir = _list_files(source)
    slices = []
    for f in files:
        ds = _read_dataset(f)
        sop = str(ds.get("SOPClassUID", ""))
        if sop != CT_IMAGE_STORAGE or "PixelData" not in ds:
            if is_dir and (sop or "DirectoryRecordSequence" in ds):
                continue   # an RT Structure Set, RT Dose, DICOMDIR, ... next to the images
            raise InputError(f"{f}: not a CT image (SOPClassUID {sop or 'missing'}, modality "
                             f"{ds.get('Modality', 'missing')}); expected CT Image Storage {CT_IMAGE_STORAGE}")
        slices.append((f, ds))
    if not slices:
        raise InputError(f"CT series: no CT image among the {len(files)} file(s) of {os.fspath(source)!r}"
                         if is_dir else "CT series: no CT image given")

    series = {}
    for f, ds in slices:
        series.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((f, ds))
    if series_instance_uid is not None:
        if series_instance_uid not in series:
            raise InputError(f"series_instance_uid {series_instance_uid!r} is not among the series read: "
                             f"{sorted(series)}")
        slices = series[series_instance_uid]
    elif len(series) > 1:
        desc = ", ".join(f"{uid!r} ({len(v)} slices)" for uid, v in series.items())
        raise InputError(f"CT series: the files hold {len(series)} series ({desc}); choose one with "
                         "series_instance_uid=")

    f0, ds0 = slices[0]
    orient = _floats(ds0, "ImageOrientationPatient", 6, f0)
    if not np.allclose(orient, _IDENTITY_ORIENTATION, rtol=0, atol=_ORIENTATION_TOL):
        raise InputError(
            f"{f0}: ImageOrientationPatient {list(orient)} is not axial with identity direction "
            f"cosines [1, 0, 0, 0, 1, 0]; oblique, sagittal, coronal and flipped (e.g. prone) series are "
            "not supported: resample the series to an axial identity orientation first")
    row_dir = np.array(orient[:3])
    col_dir = np.array(orient[3:])
    normal = np.cross(row_dir, col_dir)
    for f, ds in slices:
        if ds.get("Rows") is None or ds.get("Columns") is None:
            raise InputError(f"{f}: missing Rows or Columns")
    rows0, cols0 = int(ds0.Rows), int(ds0.Columns)
    spacing0 = _floats(ds0, "PixelSpacing", 2, f0)
    if min(spacing0) <= 0:
        raise InputError(f"{f0}: PixelSpacing must be > 0 mm, got {list(spacing0)}")

    entries = []
    for f, ds in slices:
        o = _floats(ds, "ImageOrientationPatient", 6, f)
        if not np.allclose(o, orient, rtol=0, atol=_ORIENTATION_TOL):
            raise InputError(f"{f}: ImageOrientationPatient {list(o)} differs from {list(orient)} "
                             f"of {f0}")
        if (int(ds.Rows), int(ds.Columns)) != (rows0, cols0):
            raise InputError(f"{f}: image size {int(ds.Rows)} x {int(ds.Columns)} (rows x columns) "
                             f"differs from {rows0} x {cols0} of {f0}")
        sp = _floats(ds, "PixelSpacing", 2, f)
        if not np.allclose(sp, spacing0, rtol=1e-6, atol=1e-6):
            raise InputError(f"{f}: PixelSpacing {list(sp)} mm differs from {list(spacing0)} mm of {f0}")
        ipp = np.array(_floats(ds, "ImagePositionPatient", 3, f))
        entries.append((float(ipp @ normal), ipp, f, ds))
    entries.sort(key=lambda e: e[0])
    pos = np.array([e[0] for e in entries])
    for a, b in zip(entries[:-1], entries[1:]):
        if b[0] - a[0] < _POSITION_TOL_MM:
            raise InputError(f"{b[2]}: same slice position ({b[0]:g} mm along the normal) as {a[2]}; "
                             "duplicate slices or two series mixed")
    ipp0 = entries[0][1]
    for p, ipp, f, _ in entries:
        inplane = (ipp - ipp0) - ((ipp - ipp0) @ normal) * normal
        if np.max(np.abs(inplane)) > max(_POSITION_TOL_MM, 1e-3 * min(spacing0)):
            raise InputError(f"{f}: ImagePositionPatient {ipp.tolist()} mm is shifted in-plane by "
                             f"{inplane.tolist()} mm from the first slice ({entries[0][2]})")
    if len(entries) > 1:
        gaps = np.diff(pos)
        dz = float(np.median(gaps))
        bad = np.flatnonzero(np.abs(gaps - dz) > max(_SPACING_RTOL * dz, _POSITION_TOL_MM))
        if bad.size:
            n = int(bad[0])
            raise InputError(
                f"CT series: slices are not evenly spaced: {gaps[n]:g} mm between {entries[n][2]} and "
                f"{entries[n + 1][2]}, expected {dz:g} mm (a missing slice?); spacings found: "
                f"{sorted(set(np.round(gaps, 4).tolist()))} mm")
        dz = float((pos[-1] - pos[0]) / (len(pos) - 1))
    else:
        st = ds0.get("SliceThickness")
        dz = float(st) if st not in (None, "") else 0.0
        if not dz > 0:
            raise InputError(f"{f0}: a single slice needs SliceThickness > 0 mm to make a volume")

    hu = np.empty((len(entries), rows0, cols0), dtype=np.float32)
    for k, (_, _, f, ds) in enumerate(entries):
        try:
            arr = ds.pixel_array
        except Exception as exc:  # pydicom raises various types for unsupported transfer syntaxes
            raise InputError(f"{f}: cannot decode the pixel data ({type(exc).__name__}: {exc}); "
                             "compressed images need a pydicom pixel-data plugin "
                             "(e.g. pylibjpeg)") from None
        if arr.shape != (rows0, cols0):
            raise InputError(f"{f}: pixel data has shape {arr.shape}, expected ({rows0}, {cols0}) "
                             "(one frame of Rows x Columns)")
        slope = float(ds.get("RescaleSlope", 1.0) or 1.0)
        intercept = float(ds.get("RescaleIntercept", 0.0) or 0.0)
        hu[k] = arr.astype(np.float64) * slope + intercept

    dy_mm, dx_mm = spacing0        # PixelSpacing = [row spacing (y), column spacing (x)]
    voxel = (dx_mm / 10.0, dy_mm / 10.0, dz / 10.0)
    first = entries[0][1] / 10.0
    origin = tuple(float(first[a] - 0.5 * voxel[a]) for a in range(3))
    return CTVolume(hu=hu, voxel_size=voxel, origin=origin, orientation=tuple(orient),
                    frame_of_reference_uid=str(ds0.get("FrameOfReferenceUID", "")),
                    patient_position=str(ds0.get("PatientPosition", "")),
                    study_instance_uid=str(ds0.get("StudyInstanceUID", "")),
                    series_instance_uid=str(ds0.get("SeriesInstanceUID", "")),
                    patient_id=str(ds0.get("PatientID", "")),
                    patient_name=str(ds0.get("PatientName", "")),
                    files=[e[2] for e in entries])


# ================================================================================= resampling
def _overlap_matrix(n_old: int, d_old: float, o_old: float, n_new: int, d_new: float, o_new: float):
    """W[a, b]: fraction of new cell a covered by old cell b, normalised over the covered part."""
    e_old = o_old + d_old * np.arange(n_old + 1)
    e_new = o_new + d_new * np.arange(n_new + 1)
    lo = np.maximum(e_new[:-1, None], e_old[None, :-1])
    hi = np.minimum(e_new[1:, None], e_old[None, 1:])
    w = np.clip(hi - lo, 0.0, None)
    s = w.sum(axis=1, keepdims=True)
    if np.any(s <= 0):  # pragma: no cover - the new grid always overlaps the old one
        raise InputError("resampling: a new voxel lies outside the CT")
    return w / s


def _resample_mean(hu: np.ndarray, voxel_old, origin_old, voxel_new):
    """Volume-averaged resampling of ``hu`` [z, y, x] to ``voxel_new`` (x, y, z), same centre."""
    shape_old = hu.shape[::-1]  # (nx, ny, nz)
    n_new, origin_new, mats = [], [], []
    for a in range(3):
        length = shape_old[a] * voxel_old[a]
        n = max(1, int(round(length / voxel_new[a])))
        o = origin_old[a] + 0.5 * length - 0.5 * n * voxel_new[a]
        n_new.append(n)
        origin_new.append(o)
        mats.append(_overlap_matrix(shape_old[a], voxel_old[a], origin_old[a], n, voxel_new[a], o))
    out = np.asarray(hu, dtype=np.float64)
    out = out @ mats[0].T                                       # x (last axis)
    out = np.einsum("zyx,Yy->zYx", out, mats[1], optimize=True)  # y
    out = np.einsum("zyx,Zz->Zyx", out, mats[2], optimize=True)  # z
    return out, tuple(origin_new)


def ct_to_phantom(ct: CTVolume, calibration: HUCalibration | None = None, voxel_size=None):
    """An iortmc :class:`~iortmc.Phantom` from a CT volume.

    Parameters
    ----------
    ct : CTVolume
        From :func:`read_ct_series`.
    calibration : HUCalibration, optional
        HU to material and density; default :func:`default_calibration`.
    voxel_size : float or (dx, dy, dz), optional
        Voxel size of the phantom in cm. Default: the CT grid unchanged.

    Returns
    -------
    Phantom
        In patient coordinates (cm): the phantom origin is the CT's outer corner (first voxel centre
        minus half a voxel). Its materials are the calibration materials present, in bin order, and
        each voxel's density is the calibration density of its HU.

    Notes
    -----
    Resampling averages HU over volume (each new voxel takes the overlap-weighted mean of the CT
    voxels it covers, exact and separable per axis), then calibrates the averaged HU: a new voxel half
    in bone and half in muscle gets the mean HU and the material and density of that HU. The new grid
    has ``round(L / d)`` voxels of exactly ``d`` along an axis of CT length ``L`` and the same centre as
    the CT, so its extent differs from the CT's by less than half a voxel at each end (none when ``d``
    divides ``L``). When the extents match, the mean HU is conserved exactly.
    """
    from .geometry.phantom import Phantom, _vector3

    if not isinstance(ct, CTVolume):
        raise InputError(f"ct must be a CTVolume (from read_ct_series), got {type(ct).__name__}")
    cal = default_calibration() if calibration is None else calibration
    if not isinstance(cal, HUCalibration):
        raise InputError(f"calibration must be an HUCalibration, got {type(cal).__name__}")
    hu = np.asarray(ct.hu)
    voxel, origin = tuple(ct.voxel_size), tuple(ct.origin)
    if voxel_size is not None:
        new = _vector3("voxel_size", voxel_size, positive=True)
        if not np.allclose(new, voxel, rtol=1e-9, atol=0):
            hu, origin = _resample_mean(hu, voxel, origin, new)
            voxel = new
    if not np.all(np.isfinite(hu)):
        raise InputError("ct.hu must be finite everywhere")
    above = int(np.count_nonzero(hu > cal.hu_max))
    if above:
        warnings.warn(f"{above} voxel(s) above {cal.hu_max:g} HU (up to {float(hu.max()):g} HU, metal?) "
                      f"are treated as {cal.hu_max:g} HU ({cal.bins[-1].material.name})", stacklevel=2)
    bins = cal.bin_index(hu)
    used = np.unique(bins)
    remap = np.full(len(cal.bins), -1, dtype=np.int32)
    remap[used] = np.arange(used.size, dtype=np.int32)
    index = remap[bins]
    density = cal.density(hu)
    return Phantom([cal.bins[int(u)].material for u in used], index, density, voxel_size=voxel,
                   origin=origin)


# ================================================================================= RT Structure Set
def _grid_of(grid):
    """(nx, ny, nz), voxel (x, y, z) cm, origin cm of a CTVolume, Phantom or DoseResult."""
    if hasattr(grid, "phantom") and hasattr(grid, "dose"):
        grid = grid.phantom
    if isinstance(grid, CTVolume) or (hasattr(grid, "shape") and hasattr(grid, "voxel_size")
                                      and hasattr(grid, "origin")):
        nz, ny, nx = tuple(grid.shape)
        return (nx, ny, nz), tuple(float(v) for v in grid.voxel_size), tuple(float(v) for v in grid.origin)
    raise InputError(f"grid must be a CTVolume, Phantom or DoseResult, got {type(grid).__name__}")


def _fill_polygon(mask2d: np.ndarray, xs: np.ndarray, ys: np.ndarray, px: np.ndarray, py: np.ndarray):
    """XOR into ``mask2d`` [y, x] the voxels whose centre (xs[i], ys[j]) lies inside the polygon.

    Even-odd rule by scanlines: on the row through ``ys[j]`` the edges crossing it (half-open in y,
    so a vertex is counted once) give sorted x crossings; centres between crossings 2m and 2m+1 are
    inside.
    """
    x0, y0 = px, py
    x1, y1 = np.roll(px, -1), np.roll(py, -1)
    rows = np.flatnonzero((ys >= py.min()) & (ys <= py.max()))
    for j in rows:
        y = ys[j]
        cross = (y0 <= y) != (y1 <= y)
        if not np.any(cross):
            continue
        t = (y - y0[cross]) / (y1[cross] - y0[cross])
        xc = np.sort(x0[cross] + t * (x1[cross] - x0[cross]))
        # number of crossings left of each centre; odd = inside
        count = np.searchsorted(xc, xs, side="right")
        mask2d[j] ^= (count % 2 == 1)


def read_rtstruct(path, grid, *, check_frame_of_reference: bool = True) -> dict[str, np.ndarray]:
    """Voxel masks of the structures of an RT Structure Set.

    Parameters
    ----------
    path : str or path
        The RTSTRUCT file.
    grid : CTVolume, Phantom or DoseResult
        The grid to build masks on, in patient coordinates (cm), as :func:`ct_to_phantom` gives.
    check_frame_of_reference : bool
        With a CTVolume, refuse a structure set whose FrameOfReferenceUID differs from the CT's.

    Returns
    -------
    dict
        ROI name -> boolean mask ``[z, y, x]`` of the grid shape (duplicate names get `` (n)`` with the
        ROI number appended). A ROI with no usable contour gets an all-False mask.

    Notes
    -----
    Only CLOSED_PLANAR contours are used (POINT and OPEN_* are skipped). Each contour must lie in one
    axial plane. Each grid slice takes the contours of the plane nearest its centre, if that plane
    lies within half a slice (on a grid with thicker slices than the CT, the other planes are not
    used); contours outside the grid are dropped with a warning. A voxel is inside when its *centre* is inside the polygon;
    several contours of one ROI on one slice combine by the even-odd rule (an inner contour is a
    hole).
    """
    ds = _read_dataset(os.fspath(path))
    if str(ds.get("Modality", "")) != "RTSTRUCT" and str(ds.get("SOPClassUID", "")) != RT_STRUCTURE_SET_STORAGE:
        raise InputError(f"{os.fspath(path)}: not an RT Structure Set (Modality "
                         f"{ds.get('Modality', 'missing')}, SOPClassUID {ds.get('SOPClassUID', 'missing')})")
    (nx, ny, nz), vs, org = _grid_of(grid)
    if check_frame_of_reference and isinstance(grid, CTVolume) and grid.frame_of_reference_uid:
        frames = {str(r.get("ReferencedFrameOfReferenceUID", ""))
                  for r in ds.get("StructureSetROISequence", [])} - {""}
        if frames and grid.frame_of_reference_uid not in frames:
            raise InputError(f"{os.fspath(path)}: FrameOfReferenceUID {sorted(frames)} differs from the "
                             f"CT's {grid.frame_of_reference_uid!r}: the structures belong to another "
                             "image set (pass check_frame_of_reference=False to override)")
    xs = org[0] + (np.arange(nx) + 0.5) * vs[0]
    ys = org[1] + (np.arange(ny) + 0.5) * vs[1]
    zs = org[2] + (np.arange(nz) + 0.5) * vs[2]
    names = {}
    for roi in ds.get("StructureSetROISequence", []):
        names[int(roi.ROINumber)] = str(roi.get("ROIName", f"ROI {int(roi.ROINumber)}"))
    out: dict[str, np.ndarray] = {}
    dropped = 0
    seen = set()
    for rc in ds.get("ROIContourSequence", []):
        number = int(rc.ReferencedROINumber)
        name = names.get(number, f"ROI {number}")
        if name in seen:
            name = f"{name} ({number})"
        seen.add(name)
        planes: dict[float, list[np.ndarray]] = {}
        for c in rc.get("ContourSequence", []):
            if str(c.get("ContourGeometricType", "CLOSED_PLANAR")) != "CLOSED_PLANAR":
                continue
            pts = np.asarray([float(v) for v in c.ContourData], dtype=np.float64).reshape(-1, 3) / 10.0
            if len(pts) < 3:
                continue
            z = pts[:, 2]
            if np.ptp(z) > 1e-4:
                raise InputError(f"{os.fspath(path)}: ROI {name!r} has a contour that is not axial (z from "
                                 f"{10 * z.min():g} to {10 * z.max():g} mm)")
            planes.setdefault(round(float(z.mean()), 5), []).append(pts)
        mask = np.zeros((nz, ny, nx), dtype=bool)
        # each grid slice takes the contour plane nearest its centre, if within half a slice
        best: dict[int, float] = {}
        for zp in planes:
            k = int(np.round((zp - zs[0]) / vs[2]))
            if not (0 <= k < nz) or abs(zp - zs[k]) > 0.5 * vs[2] + 1e-7:
                dropped += len(planes[zp])
                continue
            if k not in best or abs(zp - zs[k]) < abs(best[k] - zs[k]):
                best[k] = zp
        for k, zp in best.items():
            for pts in planes[zp]:
                _fill_polygon(mask[k], xs, ys, pts[:, 0], pts[:, 1])
        out[name] = mask
    for number, name in names.items():
        if name not in out:
            out[name] = np.zeros((nz, ny, nx), dtype=bool)
    if dropped:
        warnings.warn(f"{os.fspath(path)}: {dropped} contour(s) lie outside the grid's slices and were "
                      "ignored", stacklevel=2)
    return out


# ================================================================================= writing
def _ds(x: float) -> str:
    """A DICOM decimal string (at most 16 characters) for ``x``."""
    x = float(x)
    if x == 0:
        return "0"
    for p in range(16, 0, -1):
        s = f"{x:.{p}g}"
        if len(s) <= 16:
            return s
    raise InputError(f"cannot write {x!r} as a DICOM decimal string")  # pragma: no cover


def _now():
    t = _dt.datetime.now()
    return t.strftime("%Y%m%d"), t.strftime("%H%M%S")


def _new_dataset(sop_class: str, sop_instance: str):
    _pydicom()
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID

    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"iortmc {_version()}"[:16]
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\x00" * 128)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    date, time = _now()
    ds.InstanceCreationDate, ds.InstanceCreationTime = date, time
    return ds


def _version() -> str:
    try:
        from . import __version__
        return str(__version__)
    except Exception:  # pragma: no cover
        return "unknown"


def _patient_study(ds, ct: CTVolume | None, patient_name, patient_id, study_instance_uid):
    date, time = _now()
    ds.PatientName = patient_name if patient_name is not None else (ct.patient_name if ct else "iortmc^phantom")
    ds.PatientID = patient_id if patient_id is not None else (ct.patient_id if ct else "iortmc")
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyInstanceUID = (study_instance_uid or (ct.study_instance_uid if ct else "")
                           or _pydicom().uid.generate_uid())
    ds.StudyDate, ds.StudyTime = date, time
    ds.ReferringPhysicianName = ""
    ds.StudyID = "iortmc"
    ds.AccessionNumber = ""
    ds.Manufacturer = "iortmc"
    ds.ManufacturerModelName = "iortmc"
    ds.SoftwareVersions = _version()


def _save_dataset(ds, fileobj) -> None:
    """Encode ``ds`` as a DICOM file (preamble, file meta) into an open binary file."""
    from pydicom.filewriter import dcmwrite

    dcmwrite(fileobj, ds, enforce_file_format=True)


def _atomic_write(ds, path) -> None:
    """Write ``ds`` to ``path`` atomically (:func:`iortmc._atomic.atomic_write`)."""
    from ._atomic import atomic_write

    def create(tmp):
        with open(tmp, "xb") as fh:
            _save_dataset(ds, fh)

    atomic_write(path, create)


def write_ct_series(directory, hu, voxel_size, origin, *, frame_of_reference_uid: str | None = None,
                    study_instance_uid: str | None = None, series_instance_uid: str | None = None,
                    patient_name: str = "iortmc^phantom", patient_id: str = "iortmc",
                    orientation=_IDENTITY_ORIENTATION, rescale_slope: float = 1.0,
                    rescale_intercept: float = -1024.0, prefix: str = "CT") -> list[str]:
    """Write a synthetic axial CT series, one file per slice.

    Parameters
    ----------
    directory : path
        Existing directory; files ``{prefix}{k:04d}.dcm`` are written into it.
    hu : array, shape (nz, ny, nx)
        CT numbers ``[z, y, x]``; stored as ``round((HU - intercept) / slope)`` in 16 unsigned bits.
    voxel_size : float or (dx, dy, dz)
        cm.
    origin : (x0, y0, z0)
        Outer corner of voxel [0, 0, 0] in cm (patient coordinates).
    orientation : 6 floats
        ImageOrientationPatient written as given (slices are stacked along row x column); anything but
        the identity is for testing the reader's refusal.

    Returns
    -------
    list of str
        The files, slice 0 first. The FrameOfReferenceUID etc. are generated when not given.
    """
    pydicom = _pydicom()
    from .geometry.phantom import _vector3

    arr = np.asarray(hu, dtype=np.float64)
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise InputError(f"hu must be a 3-D array [z, y, x], got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError("hu must be finite")
    vs = _vector3("voxel_size", voxel_size, positive=True)
    org = _vector3("origin", origin)
    if not (math.isfinite(rescale_slope) and rescale_slope > 0):
        raise InputError(f"rescale_slope must be > 0, got {rescale_slope!r}")
    stored = np.round((arr - rescale_intercept) / rescale_slope)
    if stored.min() < 0 or stored.max() > 65535:
        raise InputError(f"HU {arr.min():g} to {arr.max():g} do not fit 16 unsigned bits with slope "
                         f"{rescale_slope:g} and intercept {rescale_intercept:g}")
    stored = stored.astype(np.uint16)
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise InputError(f"directory {directory!r} does not exist")
    uid = pydicom.uid.generate_uid
    for_uid = frame_of_reference_uid or uid()
    study = study_instance_uid or uid()
    series = series_instance_uid or uid()
    o = np.asarray(orientation, dtype=np.float64)
    normal = np.cross(o[:3], o[3:])
    first = np.array([org[a] + 0.5 * vs[a] for a in range(3)]) * 10.0
    nz, ny, nx = arr.shape
    files = []
    for k in range(nz):
        ds = _new_dataset(CT_IMAGE_STORAGE, uid())
        _patient_study(ds, None, patient_name, patient_id, study)
        ds.Modality = "CT"
        ds.SeriesInstanceUID = series
        ds.SeriesNumber = 1
        ds.FrameOfReferenceUID = for_uid
        ds.PositionReferenceIndicator = ""
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.InstanceNumber = k + 1
        ds.PatientPosition = "HFS"
        ds.KVP = "120"
        ds.AcquisitionNumber = 1
        ipp = first + normal * (10.0 * vs[2] * k)
        ds.ImagePositionPatient = [_ds(v) for v in ipp]
        ds.ImageOrientationPatient = [_ds(v) for v in o]
        ds.SliceLocation = _ds(ipp @ normal)
        ds.SliceThickness = _ds(10.0 * vs[2])
        ds.PixelSpacing = [_ds(10.0 * vs[1]), _ds(10.0 * vs[0])]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = ny, nx
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
        ds.PixelRepresentation = 0
        ds.RescaleIntercept = _ds(rescale_intercept)
        ds.RescaleSlope = _ds(rescale_slope)
        ds.RescaleType = "HU"
        ds.PixelData = np.ascontiguousarray(stored[k]).astype("<u2").tobytes()
        path = os.path.join(directory, f"{prefix}{k:04d}.dcm")
        _atomic_write(ds, path)
        files.append(path)
    return files


def write_rtstruct(path, structures: Mapping[str, Sequence], ct: CTVolume, *,
                   label: str = "iortmc") -> None:
    """Write an RT Structure Set of closed planar contours referencing a CT series.

    Parameters
    ----------
    path : path
        Output file (written atomically).
    structures : mapping name -> sequence of contours
        Each contour is an array (n, 3) of points (x, y, z) in cm, patient coordinates, all with one z
        (an axial polygon, not closed explicitly).
    ct : CTVolume
        The image set (FrameOfReferenceUID, study, patient and the referenced slices).
    """
    pydicom = _pydicom()
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DSequence

    if not isinstance(ct, CTVolume):
        raise InputError(f"ct must be a CTVolume, got {type(ct).__name__}")
    uid = pydicom.uid.generate_uid
    ds = _new_dataset(RT_STRUCTURE_SET_STORAGE, uid())
    _patient_study(ds, ct, None, None, None)
    ds.Modality = "RTSTRUCT"
    ds.SeriesInstanceUID = uid()
    ds.SeriesNumber = 1
    ds.FrameOfReferenceUID = ct.frame_of_reference_uid or uid()
    ds.StructureSetLabel = label[:16]
    date, time = _now()
    ds.StructureSetDate, ds.StructureSetTime = date, time
    ref_for = Dataset()
    ref_for.FrameOfReferenceUID = ds.FrameOfReferenceUID
    ds.ReferencedFrameOfReferenceSequence = DSequence([ref_for])
    rois, roi_contours, observations = [], [], []
    for n, (name, contours) in enumerate(structures.items(), start=1):
        roi = Dataset()
        roi.ROINumber = n
        roi.ReferencedFrameOfReferenceUID = ds.FrameOfReferenceUID
        roi.ROIName = str(name)
        roi.ROIGenerationAlgorithm = "MANUAL"
        rois.append(roi)
        rc = Dataset()
        rc.ReferencedROINumber = n
        rc.ROIDisplayColor = [255, (60 * n) % 256, 0]
        seq = []
        for c in contours:
            pts = np.asarray(c, dtype=np.float64)
            if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) < 3:
                raise InputError(f"structure {name!r}: each contour must be an array (n >= 3, 3) of "
                                 f"points (x, y, z) in cm, got shape {pts.shape}")
            cd = Dataset()
            cd.ContourGeometricType = "CLOSED_PLANAR"
            cd.NumberOfContourPoints = len(pts)
            cd.ContourData = [_ds(v) for v in (10.0 * pts).ravel()]
            seq.append(cd)
        rc.ContourSequence = DSequence(seq)
        roi_contours.append(rc)
        obs = Dataset()
        obs.ObservationNumber = n
        obs.ReferencedROINumber = n
        obs.RTROIInterpretedType = ""
        obs.ROIInterpreter = ""
        observations.append(obs)
    ds.StructureSetROISequence = DSequence(rois)
    ds.ROIContourSequence = DSequence(roi_contours)
    ds.RTROIObservationsSequence = DSequence(observations)
    _atomic_write(ds, path)


def write_rtdose(result, path, *, scale: float | None = None, prescription=None, ct: CTVolume | None = None,
                 frame_of_reference_uid: str | None = None, study_instance_uid: str | None = None,
                 patient_name: str | None = None, patient_id: str | None = None,
                 referenced_rt_plan_uid: str | None = None, comment: str | None = None) -> dict:
    """Write a dose result as a DICOM RT Dose file (Gy), atomically.

    Parameters
    ----------
    result : DoseResult
        Dose per history (Gy) on the phantom grid, taken to be in patient coordinates (cm), as for a
        phantom from :func:`ct_to_phantom`.
    path : path
        Output file; written to a temporary file in the same directory, then renamed over ``path``.
    scale : float, optional
        Number of source particles (histories) delivered: the file holds ``result.dose * scale`` Gy.
        For a treatment time ``t`` (s) and an output of ``R`` particles/s, ``scale = R * t``.
    prescription : ScaledDose, optional
        From ``result.scaled_to(dose_Gy, point_xyz_cm=...)``: ``scale = prescription.factor`` (the
        dose that delivers the prescription at its reference). Give exactly one of ``scale`` and
        ``prescription``.
    ct : CTVolume, optional
        The planning CT: its FrameOfReferenceUID, StudyInstanceUID and patient name/ID are copied so
        that planning systems register the dose to it.
    frame_of_reference_uid, study_instance_uid, patient_name, patient_id : str, optional
        Override (or, without ``ct``, set) those attributes; missing UIDs are generated.
    referenced_rt_plan_uid : str, optional
        SOPInstanceUID of an RT Plan to reference (ReferencedRTPlanSequence).
    comment : str, optional
        DoseComment, at most 64 characters (default: histories and the scale).

    Returns
    -------
    dict
        ``dose_grid_scaling`` (Gy per pixel unit), ``max_dose_Gy``, ``frame_of_reference_uid``,
        ``sop_instance_uid``.

    Notes
    -----
    DoseUnits GY, DoseType PHYSICAL, DoseSummationType PLAN; one frame per phantom slice, 32-bit
    unsigned pixels = round(dose / DoseGridScaling) with DoseGridScaling = max dose / (2^32 - 1)
    (written with at most 16 characters; the pixels are computed with the value written), so each
    voxel is reproduced within DoseGridScaling / 2. ImagePositionPatient is the centre of voxel
    [0, 0, 0] in mm, GridFrameOffsetVector the slice-centre z offsets from it (mm).
    """
    pydicom = _pydicom()
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DSequence
    from pydicom.tag import Tag

    if not (hasattr(result, "dose") and hasattr(result, "phantom")):
        raise InputError(f"result must be a DoseResult, got {type(result).__name__}")
    if (scale is None) == (prescription is None):
        raise InputError("give exactly one of scale (source particles delivered; Gy = dose per history x "
                         "scale) or prescription (a ScaledDose from result.scaled_to(...)), got "
                         f"scale={scale!r}, prescription={prescription!r}")
    if prescription is not None:
        if not hasattr(prescription, "factor"):
            raise InputError(f"prescription must be a ScaledDose from result.scaled_to(...), got "
                             f"{type(prescription).__name__}")
        scale = prescription.factor
    try:
        scale = float(scale)
    except (TypeError, ValueError):
        raise InputError(f"scale must be a number (source particles), got {scale!r}") from None
    if not (math.isfinite(scale) and scale > 0):
        raise InputError(f"scale must be finite and > 0 (source particles), got {scale!r}")
    if ct is not None and not isinstance(ct, CTVolume):
        raise InputError(f"ct must be a CTVolume, got {type(ct).__name__}")

    ph = result.phantom
    dose = np.asarray(result.dose, dtype=np.float64) * scale
    if not np.all(np.isfinite(dose)) or dose.min() < 0:
        raise InputError("the scaled dose must be finite and >= 0 Gy everywhere")
    dmax = float(dose.max())
    if dmax > 0:
        grid_scaling = float(_ds(dmax / _UINT32_MAX))
        if dmax / grid_scaling > _UINT32_MAX:        # rounding of the string went down
            grid_scaling = float(_ds(grid_scaling * (1 + 1e-12)))
            while dmax / grid_scaling > _UINT32_MAX:  # pragma: no cover
                grid_scaling = float(_ds(grid_scaling * (1 + 1e-9)))
    else:
        warnings.warn("write_rtdose: the dose is zero everywhere", stacklevel=2)
        grid_scaling = 1.0
    pixels = np.clip(np.rint(dose / grid_scaling), 0, _UINT32_MAX).astype("<u4")

    uid = pydicom.uid.generate_uid
    sop = uid()
    ds = _new_dataset(RT_DOSE_STORAGE, sop)
    _patient_study(ds, ct, patient_name, patient_id, study_instance_uid)
    ds.Modality = "RTDOSE"
    ds.SeriesInstanceUID = uid()
    ds.SeriesNumber = 1
    ds.SeriesDescription = "iortmc Monte Carlo dose"
    ds.OperatorsName = ""
    ds.FrameOfReferenceUID = (frame_of_reference_uid or (ct.frame_of_reference_uid if ct else "") or uid())
    ds.PositionReferenceIndicator = ""
    ds.InstanceNumber = 1
    date, time = _now()
    ds.ContentDate, ds.ContentTime = date, time
    nz, ny, nx = ph.shape
    dx, dy, dz = (float(v) for v in ph.voxel_size)
    first = [10.0 * (float(ph.origin[a]) + 0.5 * float(ph.voxel_size[a])) for a in range(3)]
    ds.ImagePositionPatient = [_ds(v) for v in first]
    ds.ImageOrientationPatient = [_ds(v) for v in _IDENTITY_ORIENTATION]
    ds.PixelSpacing = [_ds(10.0 * dy), _ds(10.0 * dx)]
    ds.SliceThickness = _ds(10.0 * dz)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = ny, nx
    ds.NumberOfFrames = nz
    ds.FrameIncrementPointer = Tag(0x3004, 0x000C)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 32, 32, 31
    ds.PixelRepresentation = 0
    ds.DoseUnits = "GY"
    ds.DoseType = "PHYSICAL"
    ds.DoseSummationType = "PLAN"
    ds.TissueHeterogeneityCorrection = "IMAGE" if ct is not None else "ROI_OVERRIDE"
    ds.GridFrameOffsetVector = [_ds(10.0 * dz * k) for k in range(nz)]
    ds.DoseGridScaling = _ds(grid_scaling)
    if comment is None:
        comment = f"iortmc MC, {result.histories} histories, x {scale:.6g} particles"
    ds.DoseComment = str(comment)[:64]   # LO: at most 64 characters
    if referenced_rt_plan_uid:
        ref = Dataset()
        ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.481.5"
        ref.ReferencedSOPInstanceUID = referenced_rt_plan_uid
        ds.ReferencedRTPlanSequence = DSequence([ref])
    ds.PixelData = pixels.tobytes()
    _atomic_write(ds, path)
    return {"dose_grid_scaling": grid_scaling, "max_dose_Gy": dmax,
            "frame_of_reference_uid": str(ds.FrameOfReferenceUID), "sop_instance_uid": sop}


@dataclass
class RTDoseGrid:
    """A dose grid read from an RT Dose file: ``dose_Gy`` [z, y, x], voxel size and origin in cm."""

    dose_Gy: np.ndarray
    voxel_size: tuple
    origin: tuple
    frame_of_reference_uid: str = ""

    @property
    def shape(self):
        return tuple(self.dose_Gy.shape)


def read_rtdose(path) -> RTDoseGrid:
    """Read an RT Dose file (identity orientation, evenly spaced frames) into Gy on a cm grid."""
    ds = _read_dataset(os.fspath(path))
    p = os.fspath(path)
    if str(ds.get("Modality", "")) != "RTDOSE":
        raise InputError(f"{p}: not an RT Dose file (Modality {ds.get('Modality', 'missing')})")
    orient = _floats(ds, "ImageOrientationPatient", 6, p)
    if not np.allclose(orient, _IDENTITY_ORIENTATION, rtol=0, atol=_ORIENTATION_TOL):
        raise InputError(f"{p}: ImageOrientationPatient {list(orient)} is not [1, 0, 0, 0, 1, 0]")
    arr = np.asarray(ds.pixel_array, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    dose = arr * float(ds.DoseGridScaling)
    offsets = np.asarray([float(v) for v in ds.get("GridFrameOffsetVector", [0.0])])
    nz = dose.shape[0]
    if len(offsets) != nz:
        raise InputError(f"{p}: GridFrameOffsetVector has {len(offsets)} values for {nz} frames")
    if nz > 1:
        gaps = np.diff(offsets)
        if np.any(np.abs(gaps - gaps[0]) > max(_SPACING_RTOL * abs(gaps[0]), _POSITION_TOL_MM)) or gaps[0] <= 0:
            raise InputError(f"{p}: frames are not evenly spaced along +z: {offsets.tolist()} mm")
        dz = float(gaps.mean())
    else:
        dz = float(ds.get("SliceThickness", 0) or 0)
    dy, dx = _floats(ds, "PixelSpacing", 2, p)
    ipp = _floats(ds, "ImagePositionPatient", 3, p)
    vs = (dx / 10.0, dy / 10.0, dz / 10.0)
    first = (ipp[0], ipp[1], ipp[2] + offsets[0])
    origin = tuple(first[a] / 10.0 - 0.5 * vs[a] for a in range(3))
    return RTDoseGrid(dose, vs, origin, str(ds.get("FrameOfReferenceUID", "")))
