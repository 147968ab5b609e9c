"""Reading a dose grid at points and along lines: the sampling that results and analyses share.

Arrays are ``[z, y, x]``, points ``(x, y, z)``, lengths cm. Functions that take a ``result`` accept a
:class:`~iortmc.DoseResult` (or any object with ``dose``, ``uncertainty`` and ``phantom``).
Uncertainties are relative (fractions); interpolated voxels are treated as independent.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError

__all__ = ["point_dose", "depth_dose", "profile"]

_VEC = {"x": 0, "y": 1, "z": 2}     # position in an (x, y, z) vector
_ARR = {"x": 2, "y": 1, "z": 0}     # array axis of [z, y, x]


# ---------------------------------------------------------------------------------------- helpers
def _parts(result):
    try:
        dose = np.asarray(result.dose, dtype=np.float64)
        unc = np.asarray(result.uncertainty, dtype=np.float64)
        ph = result.phantom
    except AttributeError:
        raise InputError(f"result must be a DoseResult (with dose, uncertainty and phantom), "
                         f"got {type(result).__name__}") from None
    return dose, unc, ph


def _axis(axis) -> str:
    if isinstance(axis, str) and axis.lower() in _VEC:
        return axis.lower()
    raise InputError(f"axis must be 'x', 'y' or 'z', got {axis!r}")


def _centres(ph) -> dict[str, np.ndarray]:
    nz, ny, nx = ph.shape
    n = {"x": nx, "y": ny, "z": nz}
    return {a: ph.origin[_VEC[a]] + (np.arange(n[a]) + 0.5) * ph.voxel_size[_VEC[a]] for a in "xyz"}


def _weights_1d(c: np.ndarray, v: float, name: str, ph, a: str) -> list[tuple[int, float]]:
    """Linear-interpolation weights of voxel centres ``c`` at coordinate ``v`` (nearest beyond the ends)."""
    d = ph.voxel_size[_VEC[a]]
    lo, hi = c[0] - 0.5 * d, c[-1] + 0.5 * d
    if not (lo - 1e-9 <= v <= hi + 1e-9):
        raise InputError(f"{name}: {a} = {v} cm lies outside the phantom ({lo:.6g} to {hi:.6g} cm)")
    if v <= c[0] or len(c) == 1:
        return [(0, 1.0)]
    if v >= c[-1]:
        return [(len(c) - 1, 1.0)]
    i = int(np.searchsorted(c, v, side="right")) - 1
    t = (v - c[i]) / (c[i + 1] - c[i])
    return [(k, w) for k, w in ((i, 1.0 - t), (i + 1, t)) if w > 0.0]


def _line(dose, unc, ph, a: str, fixed: dict[str, float], name: str):
    """Dose and relative uncertainty along axis ``a``, interpolated in the two other coordinates."""
    c = _centres(ph)
    others = [b for b in "xyz" if b != a]
    wb = _weights_1d(c[others[0]], fixed[others[0]], name, ph, others[0])
    wc = _weights_1d(c[others[1]], fixed[others[1]], name, ph, others[1])
    line = 0.0
    var = 0.0
    for ib, w1 in wb:
        for ic, w2 in wc:
            sl = [slice(None)] * 3
            sl[_ARR[others[0]]] = ib
            sl[_ARR[others[1]]] = ic
            d = dose[tuple(sl)]
            w = w1 * w2
            line = line + w * d
            var = var + (w * unc[tuple(sl)] * d) ** 2
    return c[a], _rel(np.asarray(line, dtype=np.float64), np.sqrt(var))


def _rel(value: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    value = np.asarray(value, dtype=np.float64)
    rel = np.ones_like(value)
    nz = value != 0
    rel[nz] = np.asarray(sigma)[nz] / np.abs(value[nz])
    return value, rel


# ---------------------------------------------------------------------------------------- lines
def point_dose(result, point_xyz_cm) -> tuple[float, float]:
    """Dose and relative uncertainty at a point, by trilinear interpolation between voxel centres.

    Within half a voxel of the phantom surface (beyond the outermost centres) the nearest centre
    value is used along that axis. Raises InputError for a point outside the phantom.
    """
    dose, unc, ph = _parts(result)
    p = np.asarray(point_xyz_cm, dtype=np.float64)
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise InputError(f"point_xyz_cm must be 3 finite numbers (x, y, z) in cm, got {point_xyz_cm!r}")
    c = _centres(ph)
    w = {a: _weights_1d(c[a], float(p[_VEC[a]]), "point_xyz_cm", ph, a) for a in "xyz"}
    val = 0.0
    var = 0.0
    for k, wz in w["z"]:
        for j, wy in w["y"]:
            for i, wx in w["x"]:
                ww = wx * wy * wz
                val += ww * dose[k, j, i]
                var += (ww * unc[k, j, i] * dose[k, j, i]) ** 2
    return float(val), (float(math.sqrt(var) / abs(val)) if val != 0 else 1.0)


def depth_dose(result, axis: str = "z", through=None):
    """Depth-dose curve along the beam axis.

    Parameters
    ----------
    result : DoseResult
    axis : {'x', 'y', 'z'}
        Beam axis (the beam travels towards increasing coordinate).
    through : (float, float), optional
        The line's coordinates in cm in the two other directions, in (x, y, z) order with ``axis``
        left out (``(x, y)`` for ``axis='z'``). Default: the centre of the phantom's cross-section,
        which for an even number of voxels is the average of the central 2 x 2 voxels.

    Returns
    -------
    depth_cm : ndarray
        Depth of each voxel centre below the entry surface, the phantom face at the low-coordinate
        end of ``axis`` (cm).
    dose : ndarray
        Dose along the line, bilinearly interpolated between voxel centres across the axis.
    rel_unc : ndarray
        Relative statistical uncertainty of ``dose``.
    """
    dose, unc, ph = _parts(result)
    a = _axis(axis)
    fixed = _through(ph, a, through, "through")
    coord, (d, u) = _line(dose, unc, ph, a, fixed, "through")
    return coord - ph.origin[_VEC[a]], d, u


def _through(ph, a, through, name) -> dict[str, float]:
    others = [b for b in "xyz" if b != a]
    if through is None:
        ext = {b: (ph.origin[_VEC[b]], ph.origin[_VEC[b]] + ph.shape[_ARR[b]] * ph.voxel_size[_VEC[b]])
               for b in others}
        return {b: 0.5 * (ext[b][0] + ext[b][1]) for b in others}
    t = np.asarray(through, dtype=np.float64)
    if t.shape != (2,) or not np.all(np.isfinite(t)):
        raise InputError(f"{name} must be 2 finite numbers ({others[0]}, {others[1]}) in cm, got {through!r}")
    return {others[0]: float(t[0]), others[1]: float(t[1])}


def profile(result, axis: str, point):
    """Dose profile along ``axis`` through ``point``.

    Parameters
    ----------
    axis : {'x', 'y', 'z'}
        Direction of the profile.
    point : (x, y, z)
        A point (cm) on the profile line; its coordinate along ``axis`` is ignored. Across the axis the
        dose is interpolated bilinearly between voxel centres.

    Returns
    -------
    coord_cm, dose, rel_unc : ndarray
        Voxel-centre coordinates along ``axis`` (cm, absolute), dose and its relative uncertainty.
    """
    dose, unc, ph = _parts(result)
    a = _axis(axis)
    p = np.asarray(point, dtype=np.float64)
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise InputError(f"point must be 3 finite numbers (x, y, z) in cm, got {point!r}")
    fixed = {b: float(p[_VEC[b]]) for b in "xyz" if b != a}
    coord, (d, u) = _line(dose, unc, ph, a, fixed, "point")
    return coord, d, u
