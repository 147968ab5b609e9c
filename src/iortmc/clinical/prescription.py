"""Prescriptions: a dose at a depth, at an isodose, at an applicator surface or at a point -> MU or minutes.

A :class:`Prescription` names a dose (Gy) and where it applies; :meth:`Prescription.evaluate` finds
the simulated dose per history there and, with the result's calibration
(:mod:`iortmc.clinical.calibration`), the monitor units (IOERT) or treatment minutes (low-kV) that
deliver it::

    units = prescribed_Gy / (D_ref [Gy/history] x histories_per_unit [histories/MU or /min])

Where the prescription applies:

* ``at="depth"``: ``depth_cm`` below the tissue surface on the beam's central axis (IOERT);
* ``at="isodose"``: the ``isodose_percent`` isodose of the central axis, i.e. the dose
  ``isodose_percent / 100 x`` the central-axis maximum in tissue (IOERT; "20 Gy at the 90 %
  isodose" means 20 / 0.9 Gy at the maximum);
* ``at="surface"``: the surface of a spherical or balloon applicator of ``radius_cm`` around the
  source (low-kV): the mean dose over the tissue just outside the sphere, extrapolated to the
  radius from the two innermost tissue shells (log-linear in r; shells one voxel thick;
  :func:`iortmc.clinical.calibration.shell_dose`);
* ``at="point"``: the dose at ``point_cm`` (trilinear interpolation).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["Prescription", "PlanResult", "PRESCRIPTION_KINDS"]

PRESCRIPTION_KINDS = ("depth", "isodose", "surface", "point")


def _pos(name, value, unit):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number in {unit}, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise InputError(f"{name} must be a finite number > 0 {unit}, got {value!r}")
    return v


@dataclass(frozen=True)
class PlanResult:
    """A prescription evaluated on a result.

    Attributes
    ----------
    prescribed_Gy : float
    reference : str
        Where the prescription applies, in words.
    reference_dose_Gy_per_history : float
    rel_unc : float
        Relative statistical uncertainty of the reference dose (of the simulation; the calibration's
        simulated reference adds its own, see ``calibration_rel_unc``).
    unit : str or None
        ``"MU"`` or ``"min"`` with a calibration, None without.
    units : float or None
        Monitor units or minutes that deliver the prescription (None without a calibration).
    calibration_rel_unc : float
        Relative uncertainty of the calibration's simulated reference dose (0 without one).
    histories : float
        Source particles that deliver the prescription.
    """

    prescribed_Gy: float
    reference: str
    reference_dose_Gy_per_history: float
    rel_unc: float
    unit: str | None
    units: float | None
    calibration_rel_unc: float
    histories: float

    @property
    def total_rel_unc(self) -> float:
        """Statistical uncertainty of ``units`` (reference dose and calibration reference combined)."""
        return math.hypot(self.rel_unc, self.calibration_rel_unc)

    def line(self) -> str:
        """One line for summaries."""
        if self.units is None:
            return (f"prescription: {self.prescribed_Gy:g} Gy at {self.reference}: "
                    f"{self.reference_dose_Gy_per_history:.5g} Gy/history there (no calibration: no MU or minutes)")
        what = "monitor units" if self.unit == "MU" else "treatment time"
        unit = "MU" if self.unit == "MU" else "min"
        return (f"prescription: {self.prescribed_Gy:g} Gy at {self.reference}: {what} "
                f"{self.units:.4g} {unit} (+- {100 * self.total_rel_unc:.2g} % statistical)")


class Prescription:
    """A prescribed dose and where it applies (see the module notes).

    Parameters
    ----------
    dose_Gy : float
        Prescribed dose (Gy, > 0).
    at : {"depth", "isodose", "surface", "point"}
    depth_cm : float
        For ``at="depth"``.
    isodose_percent : float
        For ``at="isodose"`` (0 < p <= 100).
    radius_cm : float
        For ``at="surface"``: the applicator radius (cm).
    center_cm : (x, y, z), optional
        For ``at="surface"``: the applicator centre (default: the source position).
    point_cm : (x, y, z)
        For ``at="point"``.
    """

    def __init__(self, dose_Gy, at="depth", *, depth_cm=None, isodose_percent=None, radius_cm=None,
                 center_cm=None, point_cm=None):
        self.dose_Gy = _pos("dose_Gy", dose_Gy, "Gy")
        if at not in PRESCRIPTION_KINDS:
            raise InputError(f"at must be one of {', '.join(map(repr, PRESCRIPTION_KINDS))}, got {at!r}")
        self.at = at
        given = {"depth_cm": depth_cm, "isodose_percent": isodose_percent, "radius_cm": radius_cm,
                 "point_cm": point_cm, "center_cm": center_cm}
        need = {"depth": "depth_cm", "isodose": "isodose_percent", "surface": "radius_cm", "point": "point_cm"}[at]
        allowed = {need} | ({"center_cm"} if at == "surface" else set())
        extra = sorted(k for k, v in given.items() if v is not None and k not in allowed)
        if extra:
            raise InputError(f"a prescription at {at!r} takes {', '.join(sorted(allowed))}, not {', '.join(extra)}")
        if given[need] is None:
            raise InputError(f"a prescription at {at!r} needs {need}")
        self.depth_cm = _pos("depth_cm", depth_cm, "cm") if at == "depth" else None
        self.isodose_percent = None
        if at == "isodose":
            p = _pos("isodose_percent", isodose_percent, "%")
            if p > 100:
                raise InputError(f"isodose_percent must be between 0 and 100 %, got {isodose_percent!r}")
            self.isodose_percent = p
        self.radius_cm = _pos("radius_cm", radius_cm, "cm") if at == "surface" else None
        self.center_cm = self._vec(center_cm, "center_cm") if center_cm is not None else None
        self.point_cm = self._vec(point_cm, "point_cm") if at == "point" else None

    @staticmethod
    def _vec(v, name):
        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            a = np.array([np.nan])
        if a.shape != (3,) or not np.all(np.isfinite(a)):
            raise InputError(f"{name} must be 3 finite numbers (x, y, z) in cm, got {v!r}")
        return tuple(a.tolist())

    def describe(self) -> dict:
        d = {"dose_Gy": self.dose_Gy, "at": self.at}
        for k in ("depth_cm", "isodose_percent", "radius_cm", "center_cm", "point_cm"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        return d

    # ------------------------------------------------------------------ evaluation
    def reference_dose(self, result):
        """(Gy per history, relative uncertainty, where in words) at the prescription reference."""
        from ..analysis import depth_dose, point_dose, ranges

        if self.at == "point":
            if not result.phantom.contains(self.point_cm):
                raise InputError(f"prescription point_cm {self.point_cm} lies outside the phantom "
                                 f"{result.phantom.extent} cm")
            d, u = point_dose(result, self.point_cm)
            p = self.point_cm
            return d, u, f"the point (x, y, z) = ({p[0]:g}, {p[1]:g}, {p[2]:g}) cm"
        if self.at == "surface":
            return self._surface_dose(result)
        dd = depth_dose(result, axis="beam")
        if self.at == "depth":
            if self.depth_cm > dd.depth_cm[-1]:
                raise InputError(f"prescription depth_cm = {self.depth_cm:g} cm lies outside the phantom along "
                                 f"the beam axis (deepest sample {dd.depth_cm[-1]:.3g} cm below the tissue surface)")
            d = float(np.interp(self.depth_cm, dd.depth_cm, dd.dose))
            u = float(np.interp(self.depth_cm, dd.depth_cm, dd.rel_unc))
            return d, u, f"depth {self.depth_cm:g} cm below the tissue surface on the central axis"
        r = ranges(dd.depth_cm, dd.dose, dd.rel_unc)
        k = int(np.argmax(dd.dose))
        p = self.isodose_percent
        depth = r.get(f"R{int(p)}") if float(p).is_integer() and f"R{int(p)}" in r else None
        where = f"the {p:g} % isodose (central-axis maximum {r['R100']:.3g} cm below the tissue surface"
        where += f", R{int(p)} = {depth:.3g} cm)" if depth is not None and not math.isnan(depth) else ")"
        return p / 100.0 * float(r["D_max"]), float(dd.rel_unc[k]), where

    def _surface_dose(self, result):
        from .calibration import shell_dose

        c = self.center_cm
        if c is None:
            src = result.source or {}
            pos = src.get("position_cm") if isinstance(src, dict) else None
            if pos is None:
                raise InputError("prescription at 'surface': give center_cm (the result's source has no position)")
            c = tuple(float(v) for v in pos)
        R = self.radius_cm
        try:
            d, u = shell_dose(result, c, R)
        except InputError as exc:
            raise InputError(f"prescription at the surface of radius {R:g} cm: {exc}") from None
        return d, u, f"the applicator surface (r = {R:g} cm from ({c[0]:g}, {c[1]:g}, {c[2]:g}) cm, in tissue)"

    def evaluate(self, result, calibration=None) -> PlanResult:
        """Monitor units or minutes for this prescription on ``result``.

        ``calibration``: a :class:`~iortmc.clinical.calibration.Calibration` or its dict; default:
        the calibration attached to the result (without one, ``units`` is None)."""
        if not (hasattr(result, "dose") and hasattr(result, "phantom")):
            raise InputError(f"result must be a DoseResult, got {type(result).__name__}")
        d, u, where = self.reference_dose(result)
        if not d > 0:
            raise InputError(f"the simulated dose at {where} is {d:g} Gy/history: no MU or time can deliver "
                             "the prescription there")
        cal = calibration if calibration is not None else getattr(result, "calibration", None)
        if cal is not None and hasattr(cal, "to_dict"):
            cal = cal.to_dict()
        n = self.dose_Gy / d
        if cal is None:
            return PlanResult(self.dose_Gy, where, d, u, None, None, 0.0, n)
        hpu = float(cal["histories_per_unit"])
        return PlanResult(self.dose_Gy, where, d, u, str(cal["unit"]), n / hpu,
                          float(cal.get("reference_rel_unc", 0.0)), n)
