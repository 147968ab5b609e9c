"""Absolute dose: from a measured machine calibration to Gy per MU or Gy per minute.

A simulation gives dose per history (Gy per source particle). A clinic knows its machine by a
measurement at a reference set-up:

* IOERT (electrons): the dose per monitor unit at a reference depth of a reference applicator and
  energy, e.g. 1 cGy/MU at the depth of maximum dose of the 10 cm flat applicator at 9 MeV
  (:class:`MonitorUnitCalibration`).
* low-kV X-ray sources: the dose rate at a reference point in water, e.g. Gy/min at 1 cm from the
  surface of a spherical applicator (:meth:`DoseRateCalibration.from_dose_rate`), or the air-kerma
  strength S_K of the source with its TG-43 dose-rate constant Lambda, which give the dose rate in
  water at 1 cm on the transverse axis: D'(r0) = S_K Lambda (Rivard et al., Med. Phys. 31 (2004) 633,
  https://doi.org/10.1118/1.1646040) (:meth:`DoseRateCalibration.from_air_kerma_strength`).

The measured value is carried to any simulation of the same beam or source model through the
simulated dose per history at the reference: ``histories_per_unit = measured Gy per unit /
simulated Gy per history at the reference``, where the unit is one MU or one minute. A simulation of
a clinical set-up (another applicator, a bevel, a shielding disc, a cavity) then gives
``dose per history x histories_per_unit`` in Gy/MU or Gy/min. The simulated reference must use the
same source model (energy, spectrum, beam description) as the clinical simulation: the calibration
carries the output of the machine, the simulation the change from reference to clinical geometry.

:meth:`Calibration.apply` attaches the calibration to a result (it is saved with it in HDF5, see
``docs/hdf5-format.md``); :attr:`iortmc.results.dose.DoseResult.absolute_dose` is then the dose in
Gy/MU or Gy/min.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

__all__ = ["Calibration", "MonitorUnitCalibration", "DoseRateCalibration", "reference_dose",
           "shell_dose", "CALIBRATION_UNITS"]

#: Units a calibration can express dose in: per monitor unit (IOERT) or per minute (low-kV).
CALIBRATION_UNITS = ("MU", "min")


def _positive(name, value, unit=""):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number{' in ' + unit if unit else ''}, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise InputError(f"{name} must be a finite number > 0{' ' + unit if unit else ''}, got {value!r}")
    return v


def _result(result, what):
    if not (hasattr(result, "dose") and hasattr(result, "phantom") and hasattr(result, "histories")):
        raise InputError(f"{what} must be a DoseResult, got {type(result).__name__}")
    return result


def reference_dose(result, *, depth_cm=None, point_cm=None):
    """Simulated dose per history (Gy) and its relative uncertainty at a reference.

    ``depth_cm``: a depth along the beam's central axis below the tissue surface, or the string
    ``"dmax"`` for the central-axis maximum (R100); ``point_cm``: a point (x, y, z). Returns
    ``(dose, rel_unc, where)`` with ``where`` in words."""
    from ..analysis import depth_dose, point_dose, ranges

    if (depth_cm is None) == (point_cm is None):
        raise InputError("give exactly one of depth_cm (on the beam axis) or point_cm")
    if point_cm is not None:
        d, u = point_dose(result, point_cm)
        p = tuple(float(v) for v in point_cm)
        return d, u, f"point (x, y, z) = ({p[0]:g}, {p[1]:g}, {p[2]:g}) cm"
    dd = depth_dose(result, axis="beam")
    if isinstance(depth_cm, str):
        if depth_cm.lower() != "dmax":
            raise InputError(f"depth_cm must be a depth in cm or 'dmax', got {depth_cm!r}")
        r = ranges(dd.depth_cm, dd.dose, dd.rel_unc)
        k = int(np.argmax(dd.dose))
        return float(r["D_max"]), float(dd.rel_unc[k]), (f"the central-axis maximum (R100 = {r['R100']:.3g} cm "
                                                         f"below the tissue surface)")
    z = _positive("depth_cm", depth_cm, "cm")
    if z > dd.depth_cm[-1]:
        raise InputError(f"depth_cm = {z:g} cm lies beyond the phantom along the beam axis (deepest sample "
                         f"{dd.depth_cm[-1]:.3g} cm below the tissue surface)")
    d = float(np.interp(z, dd.depth_cm, dd.dose))
    u = float(np.interp(z, dd.depth_cm, dd.rel_unc))
    return d, u, f"depth {z:g} cm on the central axis below the tissue surface"


def shell_dose(result, center, r_cm):
    """Dose per history at distance ``r_cm`` from ``center``, averaged over directions in tissue.

    The tissue voxels (:func:`iortmc.analysis.tissue_mask`) are grouped in shells one voxel (the
    smallest edge h) thick: [r - h, r) and [r, r + h), or, where the inner shell holds no dosed tissue (an
    applicator surface), [r, r + h) and [r + h, r + 2h). The mass-weighted mean dose of each shell is
    placed at its mass-weighted mean radius and ln(D) is interpolated (or extrapolated) linearly in r
    to ``r_cm``. For a near-isotropic source this uses every voxel at that distance, not one point.
    Returns ``(dose, rel_unc)``; InputError where the shells hold no dosed tissue."""
    from ..analysis import tissue_mask

    ph = result.phantom
    c = np.asarray(center, dtype=np.float64)
    R = float(r_cm)
    h = float(min(ph.voxel_size))
    x, y, z = ph.centers()
    zz, yy, xx = np.meshgrid(z - c[2], y - c[1], x - c[0], indexing="ij", sparse=True)
    r = np.sqrt(xx * xx + yy * yy + zz * zz)
    m = tissue_mask(result)
    rho = np.asarray(ph.density)
    dose = np.asarray(result.dose)
    s = np.asarray(result.uncertainty) * dose

    def shell(a, b):
        sel = m & (r >= a) & (r < b)
        if not np.any(sel):
            return None
        w = rho[sel]
        return (float(np.sum(w * r[sel]) / np.sum(w)), float(np.sum(w * dose[sel]) / np.sum(w)),
                float(np.sqrt(np.sum((w * s[sel]) ** 2)) / np.sum(w)))

    inner = shell(R - h, R) if R > h else None
    # an inner shell without dose (tissue shielded by the applicator's metal, such as the voxels beside
    # a drift tube) says nothing about the dose at the surface: use the two shells outside it
    pair = ([inner, shell(R, R + h)] if inner is not None and inner[1] > 0
            else [shell(R, R + h), shell(R + h, R + 2 * h)])
    if any(p is None or not p[1] > 0 for p in pair):
        raise InputError(f"no dosed tissue at r = {R:g} cm from ({c[0]:g}, {c[1]:g}, {c[2]:g}) cm (is the "
                         f"distance right, and does the phantom extend beyond it?)")
    (r0, d0, s0), (r1, d1, s1) = pair
    slope = math.log(d1 / d0) / (r1 - r0)
    d = d0 * math.exp(slope * (R - r0))
    t = (R - r0) / (r1 - r0)
    u = math.hypot((1 - t) * s0 / d0, t * s1 / d1)
    return d, u


@dataclass(frozen=True)
class Calibration:
    """A machine calibration tied to a simulated reference: how many histories make one unit.

    Attributes
    ----------
    unit : {"MU", "min"}
        Monitor units (IOERT) or minutes of irradiation (low-kV).
    histories_per_unit : float
        Source particles per MU or per minute.
    measured_Gy_per_unit : float
        The measured dose per MU or per minute at the reference.
    reference : str
        The reference set-up and point, in words.
    reference_dose_Gy_per_history : float
        Simulated dose per history at the reference.
    reference_rel_unc : float
        Its relative statistical uncertainty (it enters every absolute dose).
    details : dict
        What the user gave (e.g. air-kerma strength and dose-rate constant).
    """

    unit: str
    histories_per_unit: float
    measured_Gy_per_unit: float
    reference: str
    reference_dose_Gy_per_history: float
    reference_rel_unc: float
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.unit not in CALIBRATION_UNITS:
            raise InputError(f"calibration unit must be 'MU' or 'min', got {self.unit!r}")
        _positive("histories_per_unit", self.histories_per_unit)

    @property
    def dose_unit(self) -> str:
        """``"Gy/MU"`` or ``"Gy/min"``."""
        return f"Gy/{self.unit}"

    def to_dict(self) -> dict:
        return {"unit": self.unit, "histories_per_unit": self.histories_per_unit,
                "measured_Gy_per_unit": self.measured_Gy_per_unit, "reference": self.reference,
                "reference_dose_Gy_per_history": self.reference_dose_Gy_per_history,
                "reference_rel_unc": self.reference_rel_unc, "details": dict(self.details)}

    @classmethod
    def from_dict(cls, d) -> "Calibration":
        if not isinstance(d, dict):
            raise InputError(f"a calibration must be a dict, got {type(d).__name__}")
        need = ("unit", "histories_per_unit", "measured_Gy_per_unit", "reference",
                "reference_dose_Gy_per_history", "reference_rel_unc")
        missing = [k for k in need if k not in d]
        if missing:
            raise InputError(f"calibration: missing field(s) {missing}")
        return cls(unit=str(d["unit"]), histories_per_unit=float(d["histories_per_unit"]),
                   measured_Gy_per_unit=float(d["measured_Gy_per_unit"]), reference=str(d["reference"]),
                   reference_dose_Gy_per_history=float(d["reference_dose_Gy_per_history"]),
                   reference_rel_unc=float(d["reference_rel_unc"]), details=dict(d.get("details") or {}))

    def apply(self, result):
        """Attach this calibration to ``result`` (in place; saved with it) and return the result."""
        _result(result, "result")
        result.set_calibration(self.to_dict())
        return result

    def lines(self) -> list[str]:
        """The calibration in words, for summaries."""
        return [f"calibration: {self.measured_Gy_per_unit:.5g} {self.dose_unit} at {self.reference}",
                f"  simulated {self.reference_dose_Gy_per_history:.5g} Gy/history there (+- "
                f"{100 * self.reference_rel_unc:.2g} %): {self.histories_per_unit:.5g} histories per {self.unit}"]


class MonitorUnitCalibration:
    """IOERT output: the measured dose per monitor unit at a reference depth.

    Parameters
    ----------
    Gy_per_MU : float
        Measured dose per MU (Gy/MU, > 0), e.g. 0.01 for 1 cGy/MU.
    reference_depth_cm : float or "dmax"
        Where it was measured: a depth on the central axis below the water surface (cm), or
        ``"dmax"`` for the depth of maximum dose (the usual reference of IOERT machines).
    energy_MeV : float, optional
        Nominal energy, for the record.
    applicator : str, optional
        The reference applicator, for the record (e.g. "10 cm flat").
    """

    def __init__(self, Gy_per_MU, reference_depth_cm="dmax", energy_MeV=None, applicator=""):
        self.Gy_per_MU = _positive("Gy_per_MU", Gy_per_MU, "Gy/MU")
        if isinstance(reference_depth_cm, str):
            if reference_depth_cm.lower() != "dmax":
                raise InputError(f"reference_depth_cm must be a depth in cm or 'dmax', got {reference_depth_cm!r}")
            self.reference_depth_cm = "dmax"
        else:
            self.reference_depth_cm = _positive("reference_depth_cm", reference_depth_cm, "cm")
        self.energy_MeV = None if energy_MeV is None else _positive("energy_MeV", energy_MeV, "MeV")
        if not isinstance(applicator, str):
            raise InputError(f"applicator must be a description (string), got {applicator!r}")
        self.applicator = applicator

    def calibrate(self, reference_result) -> Calibration:
        """The :class:`Calibration` from a simulation of the reference set-up (a beam source)."""
        r = _result(reference_result, "reference_result")
        d, u, where = reference_dose(r, depth_cm=self.reference_depth_cm)
        if not d > 0:
            raise InputError(f"the reference simulation has no dose at {where}; cannot calibrate")
        ref = where + (f" of the {self.applicator} applicator" if self.applicator else "") + (
            f" at {self.energy_MeV:g} MeV" if self.energy_MeV else "")
        return Calibration("MU", self.Gy_per_MU / d, self.Gy_per_MU, ref, d, u,
                           {"type": "monitor_units", "Gy_per_MU": self.Gy_per_MU,
                            "reference_depth_cm": self.reference_depth_cm, "energy_MeV": self.energy_MeV,
                            "applicator": self.applicator})


class DoseRateCalibration:
    """Low-kV output: a dose rate at a reference point (Gy/min).

    With ``offset_cm`` (a point relative to the source) the simulated reference dose is the
    direction average at that distance from the source (:func:`shell_dose`): the usual calibration
    of a near-isotropic low-kV source in water, and statistically far better than one voxel. With
    ``point_cm`` it is the dose at that point (trilinear interpolation).

    Use :meth:`from_dose_rate` (a measured dose rate at a point) or :meth:`from_air_kerma_strength`
    (S_K and the TG-43 dose-rate constant; the reference point is 1 cm from the source on its
    transverse axis, in water).
    """

    def __init__(self, Gy_per_min, point_cm=None, *, offset_cm=None, details=None):
        self.Gy_per_min = _positive("Gy_per_min", Gy_per_min, "Gy/min")
        if (point_cm is None) == (offset_cm is None):
            raise InputError("give exactly one of point_cm (absolute) or offset_cm (from the source)")
        vec = point_cm if point_cm is not None else offset_cm
        try:
            v = np.asarray(vec, dtype=np.float64)
        except (TypeError, ValueError):
            v = np.array([np.nan])
        if v.shape != (3,) or not np.all(np.isfinite(v)):
            name = "point_cm" if point_cm is not None else "offset_cm"
            raise InputError(f"{name} must be 3 finite numbers (x, y, z) in cm, got {vec!r}")
        self.point_cm = tuple(v.tolist()) if point_cm is not None else None
        self.offset_cm = tuple(v.tolist()) if offset_cm is not None else None
        self.details = dict(details or {"type": "dose_rate", "Gy_per_min": self.Gy_per_min})

    @classmethod
    def from_dose_rate(cls, Gy_per_min, point_cm=None, *, offset_cm=None):
        """A measured dose rate (Gy/min) at ``point_cm`` (absolute, cm) or ``offset_cm`` from the source."""
        c = cls(Gy_per_min, point_cm, offset_cm=offset_cm)
        c.details = {"type": "dose_rate", "Gy_per_min": c.Gy_per_min, "point_cm": c.point_cm,
                     "offset_cm": c.offset_cm}
        return c

    @classmethod
    def from_air_kerma_strength(cls, air_kerma_strength_U, dose_rate_constant_cGy_per_h_per_U,
                                transverse=(1.0, 0.0, 0.0)):
        """D'(1 cm) = S_K Lambda (TG-43) at 1 cm from the source along ``transverse`` (a unit vector
        perpendicular to the source axis; default +x). 1 U = 1 uGy m^2/h = 1 cGy cm^2/h."""
        sk = _positive("air_kerma_strength_U", air_kerma_strength_U, "U")
        lam = _positive("dose_rate_constant_cGy_per_h_per_U", dose_rate_constant_cGy_per_h_per_U, "cGy/(h U)")
        t = np.asarray(transverse, dtype=np.float64)
        if t.shape != (3,) or not np.all(np.isfinite(t)) or not np.linalg.norm(t) > 0:
            raise InputError(f"transverse must be a non-zero vector (x, y, z), got {transverse!r}")
        t = t / np.linalg.norm(t)
        rate = sk * lam / 100.0 / 60.0   # cGy/h -> Gy/min
        c = cls(rate, offset_cm=tuple(t.tolist()))
        c.details = {"type": "air_kerma_strength", "air_kerma_strength_U": sk,
                     "dose_rate_constant_cGy_per_h_per_U": lam, "reference_distance_cm": 1.0,
                     "Gy_per_min": rate}
        return c

    def calibrate(self, reference_result) -> Calibration:
        """The :class:`Calibration` from a simulation of the reference set-up (a point source)."""
        r = _result(reference_result, "reference_result")
        if self.point_cm is not None:
            p = self.point_cm
        else:
            src = r.source or {}
            pos = src.get("position_cm") if isinstance(src, dict) else None
            if pos is None:
                raise InputError("the reference simulation's source has no position; give point_cm")
            p = tuple(float(a) + float(b) for a, b in zip(pos, self.offset_cm))
        if not r.phantom.contains(p):
            raise InputError(f"the calibration point {p} cm lies outside the reference simulation's phantom "
                             f"{r.phantom.extent} cm")
        if self.offset_cm is not None:
            dist = float(np.linalg.norm(self.offset_cm))
            d, u = shell_dose(r, pos, dist)
            where = (f"{dist:g} cm from the source (direction average in tissue; e.g. (x, y, z) = "
                     f"({p[0]:g}, {p[1]:g}, {p[2]:g}) cm)")
        else:
            d, u, where = reference_dose(r, point_cm=p)
        if not d > 0:
            raise InputError(f"the reference simulation has no dose at {where}; cannot calibrate")
        if self.details.get("type") == "air_kerma_strength":
            where += " (1 cm on the transverse axis, S_K x Lambda)"
        return Calibration("min", self.Gy_per_min / d, self.Gy_per_min, where, d, u, dict(self.details))
