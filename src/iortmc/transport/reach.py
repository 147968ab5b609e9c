"""Can the source reach the phantom? A geometric test made before any transport.

The engine has no medium outside the voxel grid: a particle that leaves the grid, or that starts
outside it heading away, is lost. A source that cannot put particles into the phantom gives a dose of
zero and an exit status of success, which is worse than an error. :func:`check_reach` raises an
:class:`~iortmc.errors.InputError` for the two cases that are certain from the geometry alone:

* an isotropic point source outside the grid that sees the grid under less than
  :data:`MIN_SOLID_ANGLE_FRACTION` (5 %) of all directions: at most that fraction of its photons
  can reach the phantom (through vacuum), so at least 95 % of the emitted energy is lost by
  construction. Every IORT set-up has its source inside tissue, an applicator or a modelled air gap;
  a source far outside the grid is a mistake of position or units. The message gives the fraction.
  (A source just outside the grid, as in some benchmark set-ups, is allowed.)
* a beam (pencil or electron) none of whose rays can meet the grid: the rays start on the source
  disc or rectangle (or at the point of a pencil beam), leave it within the largest angle the
  source can emit (the divergence of a virtual source plus five standard deviations of the Gaussian
  angular spread) and travel forwards. The test is conservative: the grid is enlarged by the field
  radius plus the spread the cone of directions can reach over the longest distance to the grid, and
  only a beam whose axis misses even that enlarged box, or which points entirely away from it, is
  refused. A beam that reaches the grid only in part runs, and the energy-balance warning of
  :func:`iortmc.simulate` then reports how little of it was deposited.

Phase-space sources are not tested here (their particles are checked record by record when read).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError

__all__ = ["check_reach", "solid_angle_fraction", "MIN_SOLID_ANGLE_FRACTION"]

#: A point source outside the grid must see it under at least this fraction of 4 pi.
MIN_SOLID_ANGLE_FRACTION = 0.05

#: Gaussian angular spread counted as the largest emitted angle: this many standard deviations.
_SPREAD_SIGMAS = 5.0


def _box(phantom):
    lo = np.array([e[0] for e in phantom.extent], dtype=np.float64)
    hi = np.array([e[1] for e in phantom.extent], dtype=np.float64)
    return lo, hi


def _ray_box(p, d, lo, hi):
    """Parameter interval [t0, t1] with t >= 0 of the ray p + t d inside the box, or None."""
    t0, t1 = 0.0, math.inf
    for a in range(3):
        if d[a] == 0.0:
            if not lo[a] <= p[a] <= hi[a]:
                return None
            continue
        ta, tb = (lo[a] - p[a]) / d[a], (hi[a] - p[a]) / d[a]
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
    return (t0, t1) if t0 <= t1 else None


def _rect_solid_angle(a, b, d):
    """Solid angle of an a x b rectangle seen from a point at distance d on its normal through a corner."""
    return math.atan(a * b / (d * math.sqrt(a * a + b * b + d * d)))


def _face_solid_angle(p, lo, hi, axis, side):
    """Solid angle (sr) of one box face seen from a point p outside the face's plane, facing it."""
    u, v = [a for a in range(3) if a != axis]
    plane = hi[axis] if side else lo[axis]
    d = abs(p[axis] - plane)
    if d == 0.0:
        return 0.0
    # signed rectangle decomposition about the foot of the perpendicular
    x0, x1 = lo[u] - p[u], hi[u] - p[u]
    y0, y1 = lo[v] - p[v], hi[v] - p[v]

    def s(x, y):
        return math.copysign(1.0, x) * math.copysign(1.0, y) * _rect_solid_angle(abs(x), abs(y), d)

    return s(x1, y1) - s(x0, y1) - s(x1, y0) + s(x0, y0)


def solid_angle_fraction(phantom, point) -> float:
    """Fraction of the directions from ``point`` (outside the grid) that meet the phantom's grid box.

    Exact for a box: the sum of the solid angles of the faces the point sees, over 4 pi."""
    lo, hi = _box(phantom)
    p = np.asarray(point, dtype=np.float64)
    total = 0.0
    for axis in range(3):
        if p[axis] < lo[axis]:
            total += _face_solid_angle(p, lo, hi, axis, False)
        elif p[axis] > hi[axis]:
            total += _face_solid_angle(p, lo, hi, axis, True)
    return max(0.0, min(1.0, total / (4.0 * math.pi)))


def _fmt(v):
    return "(" + ", ".join(f"{float(x):.4g}" for x in v) + ")"


def _extent_text(phantom):
    return ", ".join(f"{'xyz'[a]} {lo:.4g} to {hi:.4g}" for a, (lo, hi) in enumerate(phantom.extent))


def check_reach(phantom, source) -> None:
    """Raise InputError if ``source`` cannot put particles into ``phantom`` (see the module notes)."""
    kind = type(source).__name__
    if kind == "PhaseSpaceSource" or not hasattr(source, "position"):
        return
    lo, hi = _box(phantom)
    p = np.asarray(source.position, dtype=np.float64)
    inside = bool(np.all(p >= lo) and np.all(p <= hi))
    if kind == "PointSource":
        if not inside:
            frac = solid_angle_fraction(phantom, p)
            if frac < MIN_SOLID_ANGLE_FRACTION:
                raise InputError(f"the point source at {_fmt(p)} cm lies outside the phantom "
                                 f"({_extent_text(phantom)} cm): only {100 * frac:.2g} % of its photons could "
                                 f"reach it; place the source inside the voxel grid (model surrounding air "
                                 f"with air voxels)")
        return
    d = np.asarray(source.direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    if inside:
        return
    # field half-width (radius of the disc, half-diagonal of a rectangle) and largest emission angle
    fd = getattr(source, "field_diameter", None)
    fs = getattr(source, "field_size", None)
    r = 0.5 * fd if fd else (0.5 * math.hypot(*fs) if fs else 0.0)
    alpha = _SPREAD_SIGMAS * float(getattr(source, "angular_spread", 0.0) or 0.0)
    sd = getattr(source, "source_distance", None)
    if sd:
        alpha += math.atan(r / sd)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    along = (corners - p) @ d
    what = "pencil beam" if kind == "PencilBeam" else "electron beam"
    if alpha < 0.5 * math.pi and np.all(along < 0.0):
        raise InputError(f"the {what} at {_fmt(p)} cm points along {_fmt(d)}, away from the phantom "
                         f"({_extent_text(phantom)} cm): the whole phantom lies behind its start plane; "
                         f"reverse the direction or move the source")
    reach = float(np.max(np.linalg.norm(corners - p, axis=1)))
    grow = r + (math.tan(min(alpha, 1.5)) * reach if alpha > 0 else 0.0)
    if _ray_box(p, d, lo - grow, hi + grow) is None:
        raise InputError(f"the {what} at {_fmt(p)} cm along {_fmt(d)} misses the phantom "
                         f"({_extent_text(phantom)} cm): no ray of the field (half-width {r:.3g} cm, largest "
                         f"angle {math.degrees(alpha):.3g} deg) meets it; aim the beam at the phantom")
