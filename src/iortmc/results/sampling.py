"""Reading a dose grid at points and along lines: the sampling that results and analyses share.

Arrays are ``[z, y, x]``, points ``(x, y, z)``, lengths cm. Functions that take a ``result`` accept a
:class:`~iortmc.DoseResult` (or any object with ``dose``, ``uncertainty`` and ``phantom``).
Uncertainties are relative (fractions); interpolated voxels are treated as independent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["point_dose", "points_dose", "depth_dose", "profile", "entry_surface", "EntrySurface", "DepthDose",
           "GAS_DENSITY_G_CM3", "DEVICE_MATERIALS", "tissue_mask", "beam_axis"]

#: Voxels below this mass density (g/cm3) count as air/vacuum (gas): never the tissue surface, never
#: tissue. Air is 0.0012 g/cm3; the lightest tissue (inflated lung) about 0.26 g/cm3.
GAS_DENSITY_G_CM3 = 0.01
#: Materials that are applicator, shielding or source-housing materials by default, not tissue
#: (library names). A result may name its own in ``metadata["device_materials"]``.
DEVICE_MATERIALS = frozenset({"pmma", "polyetherimide", "silicone_pdms", "lead", "aluminium", "copper",
                              "gold", "stainless_steel", "titanium", "tungsten"})

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


def depth_dose(result, axis: str = "z", through=None, *, surface: str = "tissue", direction=None,
               origin=None, step_cm=None, surface_point=None, radius_cm=0.0):
    """Depth-dose curve, depth measured from the tissue surface.

    Parameters
    ----------
    result : DoseResult
    axis : {'x', 'y', 'z', 'beam'}
        ``'x'``, ``'y'``, ``'z'``: a line along that axis through ``through``, the beam travelling
        towards increasing coordinate; the samples are the voxel centres. ``'beam'``: the central
        axis of the beam, the line from ``origin`` along ``direction`` (default: the position and
        direction of the result's beam source), sampled every ``step_cm`` by trilinear
        interpolation; for an oblique (bevelled-applicator) beam this is the clinical central axis.
    through : (float, float), optional
        For an axis-aligned line: its coordinates in cm in the two other directions, in (x, y, z)
        order with ``axis`` left out (``(x, y)`` for ``axis='z'``). Default: the centre of the
        phantom's cross-section, which for an even number of voxels is the average of the central
        2 x 2 voxels.
    surface : {'tissue', 'phantom'}
        ``'tissue'`` (default): depth 0 is where the line enters the first voxel that is not air or
        vacuum (mass density >= :data:`GAS_DENSITY_G_CM3`), or ``surface_point`` when given; samples
        in front of it (air, the inside of an applicator) are left out. ``'phantom'``: depth 0 is the
        phantom face at the low-coordinate end of ``axis`` and every voxel is returned (not with
        ``axis='beam'``).
    direction, origin : (x, y, z), optional
        With ``axis='beam'``: the line (default: the result's source).
    step_cm : float, optional
        With ``axis='beam'``: sample spacing (default: half the smallest voxel edge).
    radius_cm : float
        With ``axis='beam'``: average the dose over a disc of this radius perpendicular to the axis
        at every depth (points one voxel apart; like a detector of that size), which lowers the noise
        of a central-axis curve; 0 (default) = on the axis only.
    surface_point : (x, y, z), optional
        A known entry point (e.g. the contact point of an applicator,
        ``IOERTApplicator.surface_point``); with ``axis='beam'`` depth is measured along the axis
        from the projection of this point on it.

    Returns
    -------
    DepthDose
        Unpacks as ``depth_cm, dose, rel_unc`` (arrays); also carries ``surface_cm`` (the entry
        point, x, y, z) and ``direction``.

    Raises
    ------
    InputError
        If the line holds no tissue (it misses the phantom or runs through air only).
    """
    dose, unc, ph = _parts(result)
    if surface not in ("tissue", "phantom"):
        raise InputError(f"surface must be 'tissue' or 'phantom', got {surface!r}")
    if isinstance(axis, str) and axis.lower() == "beam":
        if surface == "phantom":
            raise InputError("surface='phantom' is for axis 'x', 'y' or 'z'; along the beam axis depth "
                             "is measured from the tissue surface")
        return _beam_depth_dose(result, dose, unc, ph, origin, direction, step_cm, surface_point, radius_cm)
    a = _axis(axis)
    fixed = _through(ph, a, through, "through")
    coord, (d, u) = _line(dose, unc, ph, a, fixed, "through")
    dvec = np.zeros(3)
    dvec[_VEC[a]] = 1.0
    if surface == "phantom":
        start = np.array([fixed.get(b, ph.origin[_VEC[b]]) for b in "xyz"])
        return DepthDose(coord - ph.origin[_VEC[a]], d, u, tuple(float(v) for v in start), tuple(dvec))
    p0 = np.array([fixed.get(b, 0.0) for b in "xyz"])
    p0[_VEC[a]] = ph.origin[_VEC[a]] - 1.0
    if surface_point is not None:
        sp = _point3(surface_point, "surface_point")
        s0 = float(sp[_VEC[a]])
        surf = p0.copy()
        surf[_VEC[a]] = s0
    else:
        es = entry_surface(ph, p0, dvec, what=f"the depth-dose line along {a} through "
                                              f"{tuple(round(v, 4) for v in fixed.values())} cm")
        s0 = es.point_cm[_VEC[a]]
        surf = np.asarray(es.point_cm)
    depth = coord - s0
    keep = depth >= -1e-9
    if not np.any(keep):
        raise InputError(f"the depth-dose line along {a} holds no voxel beyond the tissue surface at "
                         f"{a} = {s0:.4g} cm")
    return DepthDose(depth[keep], d[keep], u[keep], tuple(float(v) for v in surf), tuple(dvec))


@dataclass(frozen=True)
class DepthDose:
    """A depth-dose curve: ``depth_cm, dose, rel_unc = curve`` unpacks the three arrays.

    Attributes
    ----------
    depth_cm : ndarray
        Depth below the entry surface along the line (cm).
    dose, rel_unc : ndarray
        Dose and its relative uncertainty.
    surface_cm : (x, y, z)
        Where the line enters the tissue (cm).
    direction : (u, v, w)
        Unit direction of the line.
    """

    depth_cm: np.ndarray
    dose: np.ndarray
    rel_unc: np.ndarray
    surface_cm: tuple
    direction: tuple

    def __iter__(self):
        return iter((self.depth_cm, self.dose, self.rel_unc))

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return (self.depth_cm, self.dose, self.rel_unc)[i]


@dataclass(frozen=True)
class EntrySurface:
    """Where a ray first enters tissue: ``distance_cm`` from its start along ``direction`` and the
    ``point_cm`` (x, y, z); ``material`` is the name of the material of the first tissue voxel."""

    distance_cm: float
    point_cm: tuple
    material: str


def _point3(value, name) -> np.ndarray:
    try:
        p = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be 3 finite numbers (x, y, z) in cm, got {value!r}") from None
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise InputError(f"{name} must be 3 finite numbers (x, y, z) in cm, got {value!r}")
    return p


def _unit3(value, name) -> np.ndarray:
    d = _point3(value, name)
    n = float(np.linalg.norm(d))
    if not n > 0:
        raise InputError(f"{name} must not be the zero vector, got {value!r}")
    return d / n


def _box_interval(ph, p, d):
    """Ray parameter interval [t0, t1] (t >= 0) inside the phantom box, or None."""
    t0, t1 = 0.0, math.inf
    for a in range(3):
        lo = ph.origin[a]
        hi = lo + ph.shape[2 - a] * ph.voxel_size[a]
        if d[a] == 0.0:
            if not lo <= p[a] <= hi:
                return None
            continue
        ta, tb = (lo - p[a]) / d[a], (hi - p[a]) / d[a]
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
    return (t0, t1) if t0 < t1 else None


def _gas_voxels(ph) -> np.ndarray:
    """Boolean [z, y, x]: voxels that are air or vacuum (density < GAS_DENSITY_G_CM3)."""
    return np.asarray(ph.density) < GAS_DENSITY_G_CM3


def entry_surface(phantom, origin, direction, *, what: str = "the line") -> EntrySurface:
    """Where the ray from ``origin`` along ``direction`` first enters a voxel that is not air/vacuum.

    The voxels along the ray are visited in order (exact voxel walk); the entry point is where the ray
    crosses into the first voxel whose mass density is at least :data:`GAS_DENSITY_G_CM3`. ``phantom``
    may be a Phantom or a result (its phantom is used). Raises InputError if the ray misses the
    phantom or crosses only air.
    """
    ph = getattr(phantom, "phantom", phantom)
    if not hasattr(ph, "density"):
        raise InputError(f"phantom must be a Phantom or a DoseResult, got {type(phantom).__name__}")
    p = _point3(origin, "origin")
    d = _unit3(direction, "direction")
    iv = _box_interval(ph, p, d)
    if iv is None:
        raise InputError(f"{what} from {tuple(round(float(v), 4) for v in p)} cm along "
                         f"{tuple(round(float(v), 4) for v in d)} misses the phantom "
                         f"(extent {ph.extent} cm)")
    gas = _gas_voxels(ph)
    vs = np.asarray(ph.voxel_size, dtype=np.float64)
    org = np.asarray(ph.origin, dtype=np.float64)
    n = np.array([ph.shape[2], ph.shape[1], ph.shape[0]])
    t = iv[0]
    eps = 1e-9 * float(vs.min())
    while t < iv[1] - eps:
        q = p + (t + eps) * d
        ijk = np.clip(np.floor((q - org) / vs).astype(np.int64), 0, n - 1)
        if not gas[ijk[2], ijk[1], ijk[0]]:
            pt = p + t * d
            m = ph.materials[int(ph.index[ijk[2], ijk[1], ijk[0]])]
            return EntrySurface(float(t), tuple(float(v) for v in pt), m.name)
        # advance to the exit of this voxel
        t_next = math.inf
        for a in range(3):
            if d[a] > 0:
                t_next = min(t_next, (org[a] + (ijk[a] + 1) * vs[a] - p[a]) / d[a])
            elif d[a] < 0:
                t_next = min(t_next, (org[a] + ijk[a] * vs[a] - p[a]) / d[a])
        t = max(t_next, t + eps)
    raise InputError(f"{what} from {tuple(round(float(v), 4) for v in p)} cm along "
                     f"{tuple(round(float(v), 4) for v in d)} crosses only air/vacuum: no tissue surface")


def beam_axis(result):
    """Origin and unit direction (cm, (x, y, z)) of the beam of a result whose source is a pencil or
    electron beam (``result.source``); InputError for other sources."""
    src = getattr(result, "source", None) or {}
    if not isinstance(src, dict) or "direction" not in src or "position_cm" not in src:
        kind = src.get("type", "unknown") if isinstance(src, dict) else type(src).__name__
        raise InputError(f"the result's source ({kind}) has no beam axis; give origin and direction "
                         "explicitly")
    return _point3(src["position_cm"], "source position_cm"), _unit3(src["direction"], "source direction")


def points_dose(result, points_xyz_cm, *, mask=None):
    """Dose and relative uncertainty at many points (array (n, 3), cm), trilinear as :func:`point_dose`.

    ``mask`` (boolean [z, y, x], optional): interpolate among these voxels only (the weights of the
    others are dropped and the rest renormalised), e.g. tissue only, so that a point just below a
    tissue surface does not mix in the dose of the air voxel above it. Points outside the phantom
    raise InputError."""
    dose, unc, ph = _parts(result)
    pts = np.asarray(points_xyz_cm, dtype=np.float64).reshape(-1, 3)
    c = _centres(ph)
    val = np.zeros(len(pts))
    var = np.zeros(len(pts))
    idx = []
    wts = []
    for a in "xyz":
        ca = c[a]
        v = pts[:, _VEC[a]]
        h = ph.voxel_size[_VEC[a]]
        lo, hi = ca[0] - 0.5 * h, ca[-1] + 0.5 * h
        bad = (v < lo - 1e-9) | (v > hi + 1e-9) | ~np.isfinite(v)
        if np.any(bad):
            raise InputError(f"points: {a} = {float(v[bad][0])} cm lies outside the phantom ({lo:.6g} to "
                             f"{hi:.6g} cm)")
        if len(ca) == 1:
            i0 = np.zeros(len(v), dtype=np.int64)
            t = np.zeros(len(v))
        else:
            i0 = np.clip(np.searchsorted(ca, v, side="right") - 1, 0, len(ca) - 2)
            t = np.clip((v - ca[i0]) / (ca[i0 + 1] - ca[i0]), 0.0, 1.0)
        idx.append((i0, np.minimum(i0 + 1, len(ca) - 1)))
        wts.append((1.0 - t, t))
    corners = []
    wsum = np.zeros(len(pts))
    for bx in (0, 1):
        for by in (0, 1):
            for bz in (0, 1):
                w = wts[0][bx] * wts[1][by] * wts[2][bz]
                k, j, i = idx[2][bz], idx[1][by], idx[0][bx]
                if mask is not None:
                    w = np.where(mask[k, j, i], w, 0.0)
                wsum += w
                corners.append((w, k, j, i))
    norm = np.where(wsum > 0, wsum, 1.0)
    for w, k, j, i in corners:
        w = w / norm
        dv = dose[k, j, i]
        val += w * dv
        var += (w * unc[k, j, i] * dv) ** 2
    return _rel(val, np.sqrt(var))


def _disc_offsets(d, radius, h):
    """Offsets (n, 3) of points one step h apart within a disc of ``radius`` perpendicular to ``d``."""
    if not radius > 0:
        return np.zeros((1, 3))
    a = np.array([1.0, 0.0, 0.0]) if abs(d[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(d, a)
    u /= np.linalg.norm(u)
    v = np.cross(d, u)
    k = int(radius // h)
    g = np.arange(-k, k + 1) * h
    gu, gv = np.meshgrid(g, g, indexing="ij")
    keep = gu * gu + gv * gv <= radius * radius + 1e-12
    return gu[keep][:, None] * u[None, :] + gv[keep][:, None] * v[None, :]


def _beam_depth_dose(result, dose, unc, ph, origin, direction, step_cm, surface_point, radius_cm=0.0):
    if origin is None or direction is None:
        o, dv = beam_axis(result)
        origin = o if origin is None else origin
        direction = dv if direction is None else direction
    p = _point3(origin, "origin")
    d = _unit3(direction, "direction")
    iv = _box_interval(ph, p, d)
    if iv is None:
        raise InputError(f"the beam axis from {tuple(p.round(4))} cm along {tuple(d.round(4))} misses the "
                         f"phantom (extent {ph.extent} cm)")
    if surface_point is not None:
        sp = _point3(surface_point, "surface_point")
        t_s = float(np.dot(sp - p, d))
    else:
        t_s = entry_surface(ph, p, d, what="the beam axis").distance_cm
    try:
        h = 0.5 * float(min(ph.voxel_size)) if step_cm is None else float(step_cm)
    except (TypeError, ValueError):
        raise InputError(f"step_cm must be a number > 0 cm, got {step_cm!r}") from None
    if not (math.isfinite(h) and h > 0):
        raise InputError(f"step_cm must be a number > 0 cm, got {step_cm!r}")
    t_end = iv[1] - 1e-9
    if t_end <= t_s:
        raise InputError("the beam axis leaves the phantom at the tissue surface: no depth to sample")
    depth = np.arange(0.0, t_end - t_s, h) + 0.5 * h
    depth = depth[depth < t_end - t_s]
    if depth.size == 0:
        raise InputError("the beam axis has no sample beyond the tissue surface")
    try:
        rad = float(radius_cm)
    except (TypeError, ValueError):
        rad = math.nan
    if not (math.isfinite(rad) and rad >= 0):
        raise InputError(f"radius_cm must be a number >= 0 cm, got {radius_cm!r}")
    offs = _disc_offsets(d, rad, float(min(ph.voxel_size)))
    pts = p[None, :] + (t_s + depth)[:, None] * d[None, :]
    if len(offs) > 1:   # keep the depths at which the whole disc lies in the phantom
        lo = np.array([e[0] for e in ph.extent]) - 1e-9
        hi = np.array([e[1] for e in ph.extent]) + 1e-9
        ok = np.ones(len(depth), dtype=bool)
        for off in offs:
            q = pts + off[None, :]
            ok &= np.all((q >= lo) & (q <= hi), axis=1)
        n_ok = int(np.argmin(ok)) if not ok.all() else len(ok)
        if n_ok == 0:
            raise InputError(f"radius_cm = {rad:g}: the disc about the beam axis does not fit in the phantom "
                             "at the surface")
        depth, pts = depth[:n_ok], pts[:n_ok]
    acc = np.zeros(len(depth))
    var = np.zeros(len(depth))
    tissue = ~_gas_voxels(ph)
    for off in offs:
        di, ui = points_dose(result, pts + off[None, :], mask=tissue)
        acc += di
        var += (ui * di) ** 2
    dd, uu = _rel(acc / len(offs), np.sqrt(var) / len(offs))
    surf = p + t_s * d
    return DepthDose(depth, dd, uu, tuple(float(v) for v in surf), tuple(float(v) for v in d))


def tissue_mask(result, tissue=None) -> np.ndarray:
    """Boolean [z, y, x] mask of the voxels that count as tissue for normalisation and reports.

    Default rule: a voxel is tissue unless it is air/vacuum (mass density below
    :data:`GAS_DENSITY_G_CM3`) or made of a device material: the names in the result's
    ``metadata["device_materials"]`` when present (case files record the applicator and shielding
    materials there), else :data:`DEVICE_MATERIALS` (PMMA, polyetherimide, silicone, metals).

    Parameters
    ----------
    tissue : None, 'all', sequence of material names, or boolean array
        Override: ``'all'`` = every voxel; a list of names = voxels of those materials (gas excluded);
        a boolean array of the grid shape = that mask.
    """
    ph = getattr(result, "phantom", result)
    if not hasattr(ph, "index"):
        raise InputError(f"tissue_mask needs a DoseResult or Phantom, got {type(result).__name__}")
    shape = tuple(ph.shape)
    if isinstance(tissue, str):
        if tissue != "all":
            raise InputError(f"tissue must be None, 'all', a list of material names or a boolean mask, "
                             f"got {tissue!r}")
        return np.ones(shape, dtype=bool)
    if isinstance(tissue, np.ndarray) and tissue.dtype == bool:
        if tissue.shape != shape:
            raise InputError(f"tissue mask must have the grid shape {shape} [z, y, x], got {tissue.shape}")
        return tissue
    names = [m.name for m in ph.materials]
    if tissue is None:
        meta = getattr(result, "metadata", None) or {}
        dev = meta.get("device_materials") if isinstance(meta, dict) else None
        device = set(dev) if isinstance(dev, list) and all(isinstance(x, str) for x in dev) else DEVICE_MATERIALS
        ok_slot = np.array([n not in device for n in names], dtype=bool)
    else:
        try:
            wanted = [str(x) for x in tissue] if not isinstance(tissue, (bytes, dict)) else None
        except TypeError:
            wanted = None
        if wanted is None or any(not isinstance(x, str) for x in tissue):
            raise InputError(f"tissue must be None, 'all', a list of material names or a boolean mask, "
                             f"got {tissue!r}")
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            raise InputError(f"tissue: material(s) {unknown} are not in the phantom (materials: {names})")
        ok_slot = np.array([n in wanted for n in names], dtype=bool)
    return ok_slot[np.asarray(ph.index)] & ~_gas_voxels(ph)


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
