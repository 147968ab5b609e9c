"""Analysis of dose distributions: depth dose, profiles, radial dose, ranges, gamma, DVH, TG-43.

Plain numpy. Functions that take a ``result`` accept a :class:`~iortmc.DoseResult` (or any
object with ``dose``, ``uncertainty`` and ``phantom``). Arrays are ``[z, y, x]``, points ``(x, y, z)``,
lengths cm, doses in the unit of the input (Gy per history for a DoseResult).

Uncertainties are relative (fractions). Where several voxels are combined (interpolation, shell
averages), the voxels are treated as statistically independent: neighbouring voxels share histories
and are in fact positively correlated, so combined uncertainties are somewhat underestimated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..results.sampling import (_ARR, _VEC, _centres, _parts, _rel, DEVICE_MATERIALS,  # noqa: F401
                                GAS_DENSITY_G_CM3, DepthDose, EntrySurface, beam_axis, depth_dose, entry_surface,
                                point_dose, points_dose, profile, tissue_mask)

__all__ = ["point_dose", "points_dose", "depth_dose", "profile", "radial_dose", "ranges", "gamma",
           "GammaResult", "geometry_factor", "dvh", "DVH", "tg43", "TG43Result", "entry_surface",
           "EntrySurface", "DepthDose", "tissue_mask", "dose_max", "DoseMax", "beam_axis",
           "DEVICE_MATERIALS", "GAS_DENSITY_G_CM3"]


# ---------------------------------------------------------------------------------------- maximum
@dataclass(frozen=True)
class DoseMax:
    """The largest voxel dose in tissue: ``dose`` (unit of the result), ``rel_unc``, ``point_cm``
    (x, y, z of the voxel centre) and ``voxel_zyx`` (array index [z, y, x])."""

    dose: float
    rel_unc: float
    point_cm: tuple
    voxel_zyx: tuple


def dose_max(result, tissue=None) -> DoseMax:
    """The maximum voxel dose over the tissue voxels (:func:`tissue_mask`; ``tissue`` overrides it).

    Air inside an applicator and the applicator or shielding itself are left out by default, so the
    maximum is the one a clinical report means. InputError if no tissue voxel exists."""
    dose, unc, ph = _parts(result)
    m = tissue_mask(result, tissue)
    if not np.any(m):
        raise InputError("dose_max: the phantom has no tissue voxel (all air or device material); "
                         "pass tissue='all' or a list of material names")
    masked = np.where(m, dose, -np.inf)
    k = np.unravel_index(int(np.argmax(masked)), dose.shape)
    c = _centres(ph)
    return DoseMax(float(dose[k]), float(unc[k]), (float(c["x"][k[2]]), float(c["y"][k[1]]), float(c["z"][k[0]])),
                   tuple(int(i) for i in k))

# ---------------------------------------------------------------------------------------- radial
def radial_dose(result, center=(0.0, 0.0, 0.0), r_edges=None):
    """Dose averaged over spherical shells about ``center``.

    Each voxel is assigned whole to the shell containing its centre; the shell dose is the
    mass-weighted mean of its voxels' doses (energy over mass). Shells with no voxel centre give NaN.

    Parameters
    ----------
    center : (x, y, z)
        Centre of the shells in cm.
    r_edges : array, optional
        Increasing shell radii in cm. Default: edges 0, h, 2h, ... with h the smallest voxel edge,
        up to the largest distance of a voxel centre from ``center``.

    Returns
    -------
    r_cm : ndarray
        Shell mid-radius (cm).
    dose : ndarray
        Mass-weighted mean dose in each shell.
    rel_unc : ndarray
        Relative uncertainty of the shell dose, from the voxel uncertainties taken as independent.

    Notes
    -----
    Voxel-centre assignment makes shells thinner than about a voxel noisy in their voxel count; the
    mid-radius differs from the volume-weighted mean radius by (b - a)^2 / (12 r) for a shell [a, b].
    """
    dose, unc, ph = _parts(result)
    c = np.asarray(center, dtype=np.float64)
    if c.shape != (3,) or not np.all(np.isfinite(c)):
        raise InputError(f"center must be 3 finite numbers (x, y, z) in cm, got {center!r}")
    cc = _centres(ph)
    zz, yy, xx = np.meshgrid(cc["z"] - c[2], cc["y"] - c[1], cc["x"] - c[0], indexing="ij", sparse=True)
    r = np.sqrt(xx * xx + yy * yy + zz * zz).ravel()
    if r_edges is None:
        h = min(ph.voxel_size)
        edges = np.arange(0.0, r.max() + h, h)
    else:
        edges = np.asarray(r_edges, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0) or edges[0] < 0:
            raise InputError(f"r_edges must be at least 2 increasing radii >= 0 cm, got {r_edges!r}")
    mass = np.asarray(ph.density, dtype=np.float64).ravel() * (ph.voxel_size[0] * ph.voxel_size[1]
                                                               * ph.voxel_size[2])
    d = dose.ravel()
    s = (unc * dose).ravel()
    shell = np.searchsorted(edges, r, side="right") - 1
    ok = (shell >= 0) & (shell < edges.size - 1)
    nb = edges.size - 1
    m = np.bincount(shell[ok], weights=mass[ok], minlength=nb)
    md = np.bincount(shell[ok], weights=(mass * d)[ok], minlength=nb)
    ms2 = np.bincount(shell[ok], weights=((mass * s) ** 2)[ok], minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = md / m
        sigma = np.sqrt(ms2) / m
    mean[m == 0] = np.nan
    val, rel = _rel(np.nan_to_num(mean), np.nan_to_num(sigma))
    rel[m == 0] = np.nan
    return 0.5 * (edges[:-1] + edges[1:]), mean, rel


# ---------------------------------------------------------------------------------------- ranges
def ranges(depth_cm, dose, rel_unc=None, *, tail="auto") -> dict:
    """Depth-dose ranges: R100, R90, R80, R50, R20, Rp and the 80-20 falloff distance.

    Parameters
    ----------
    depth_cm : array
        Increasing depths (cm).
    dose : array
        Dose at those depths (any unit).
    rel_unc : array, optional
        Relative uncertainty of ``dose``; if given, ``sigma_R90`` ... ``sigma_R20`` are added.
    tail : 'auto', 'zero' or float
        Background the practical range extrapolates to: 'zero', a dose value, or 'auto': the median
        dose of the samples deeper than (zero-background Rp) + (R50 - R80), i.e. the bremsstrahlung tail
        (0 if there are fewer than 2 such samples).

    Returns
    -------
    dict
        ``R100`` (cm): depth of the maximum, refined by the vertex of the parabola through the largest
        sample and its two neighbours; ``D_max``: the largest sample (the 100 % level);
        ``R90``, ``R80``, ``R50``, ``R20`` (cm): first depth beyond R100 where the dose falls to 90,
        80, 50, 20 % of D_max, by linear interpolation between the samples that bracket it;
        ``Rp`` (cm): where the tangent at R50 meets the tail level; ``falloff_80_20`` (cm): R20 - R80;
        ``tail_dose``: the tail level used; ``slope_R50``: the tangent's slope (dose per cm).
        A level never reached gives NaN.

    Notes
    -----
    The tangent at R50 is the least-squares line through the distal samples within 40-60 % of D_max
    (at least the two samples bracketing R50). This follows the usual definition of the practical
    range (ICRU Report 35; AAPM TG-25, Khan et al., Med. Phys. 18 (1991) 73,
    https://doi.org/10.1118/1.596695) with a specified, reproducible fit.
    """
    z = np.asarray(depth_cm, dtype=np.float64)
    d = np.asarray(dose, dtype=np.float64)
    if z.ndim != 1 or z.shape != d.shape or z.size < 3:
        raise InputError(f"depth_cm and dose must be 1-D arrays of equal length >= 3, got shapes "
                         f"{z.shape} and {d.shape}")
    if not np.all(np.diff(z) > 0):
        raise InputError("depth_cm must be strictly increasing")
    if not np.all(np.isfinite(d)):
        raise InputError("dose must be finite")
    imax = int(np.argmax(d))
    dmax = float(d[imax])
    if not dmax > 0:
        raise InputError(f"dose must have a positive maximum, got {dmax}")
    r100 = z[imax]
    if 0 < imax < z.size - 1:
        # vertex of the parabola through the three samples around the maximum
        x0, x1, x2 = z[imax - 1:imax + 2]
        y0, y1, y2 = d[imax - 1:imax + 2]
        den = (x0 - x1) * (x0 - x2) * (x1 - x2)
        A = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / den
        B = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / den
        if A < 0:
            r100 = float(np.clip(-B / (2 * A), x0, x2))
    out = {"R100": float(r100), "D_max": dmax}

    def crossing(level):
        below = np.nonzero(d[imax:] <= level * dmax)[0]
        if below.size == 0:
            return math.nan, -1
        k = imax + int(below[0])
        za, zb, da, db = z[k - 1], z[k], d[k - 1], d[k]
        return float(za + (da - level * dmax) * (zb - za) / (da - db)), k

    ks = {}
    for level in (90, 80, 50, 20):
        out[f"R{level}"], ks[level] = crossing(level / 100.0)
    out["falloff_80_20"] = out["R20"] - out["R80"]

    r50, k50 = out["R50"], ks[50]
    if math.isnan(r50):
        out.update(Rp=math.nan, tail_dose=math.nan, slope_R50=math.nan)
    else:
        distal = np.arange(imax, z.size)
        sel = distal[(d[distal] >= 0.4 * dmax) & (d[distal] <= 0.6 * dmax)]
        sel = np.union1d(sel, [k50 - 1, k50])
        if sel.size >= 3 and np.any(np.diff(sel) > 1):
            sel = np.arange(sel.min(), sel.max() + 1)
        slope = float(np.polyfit(z[sel], d[sel], 1)[0])
        if not slope < 0:
            slope = float((d[k50] - d[k50 - 1]) / (z[k50] - z[k50 - 1]))
        d50 = 0.5 * dmax

        def rp_for(bg):
            return r50 + (d50 - bg) / (-slope)

        if tail == "zero":
            bg = 0.0
        elif tail == "auto":
            rp0 = rp_for(0.0)
            start = rp0 + (r50 - out["R80"])
            deep = d[z > start]
            bg = float(np.median(deep)) if deep.size >= 2 else 0.0
            bg = min(bg, d50)
        else:
            try:
                bg = float(tail)
            except (TypeError, ValueError):
                raise InputError(f"tail must be 'auto', 'zero' or a dose value, got {tail!r}") from None
        out["Rp"] = float(rp_for(bg))
        out["tail_dose"] = bg
        out["slope_R50"] = slope

    if rel_unc is not None:
        u = np.asarray(rel_unc, dtype=np.float64)
        if u.shape != d.shape:
            raise InputError(f"rel_unc must have the shape of dose {d.shape}, got {u.shape}")
        s = u * d
        smax = s[imax]
        for level in (90, 80, 50, 20):
            k = ks[level]
            if k <= 0:
                out[f"sigma_R{level}"] = math.nan
                continue
            slope_k = (d[k] - d[k - 1]) / (z[k] - z[k - 1])
            t = (out[f"R{level}"] - z[k - 1]) / (z[k] - z[k - 1])
            sd = math.hypot((1 - t) * s[k - 1], t * s[k])
            out[f"sigma_R{level}"] = float(math.hypot(sd, level / 100.0 * smax) / abs(slope_k))
    return out


# ---------------------------------------------------------------------------------------- gamma
@dataclass(frozen=True)
class GammaResult:
    """Gamma index distribution.

    Attributes
    ----------
    gamma : ndarray
        Gamma index at each reference point (shape of the reference); NaN where not evaluated (below
        the threshold, or no evaluated dose within the search radius).
    pass_rate : float
        Fraction of evaluated points with gamma <= 1.
    n_evaluated : int
        Number of reference points evaluated.
    dose_percent, dta_mm, local, threshold_percent, search_radius_mm :
        The criteria used. ``dose_criterion`` is the dose difference for global gamma (dose units).
    """

    gamma: np.ndarray
    pass_rate: float
    n_evaluated: int
    dose_percent: float
    dta_mm: float
    local: bool
    threshold_percent: float
    search_radius_mm: float
    dose_criterion: float


def _grid(coords, shape, name):
    if len(shape) == 1 and isinstance(coords, np.ndarray) and coords.ndim == 1:
        coords = (coords,)
    coords = tuple(np.asarray(c, dtype=np.float64) for c in coords)
    if len(coords) != len(shape):
        raise InputError(f"{name} must hold one 1-D coordinate array per array axis ({len(shape)}), "
                         f"got {len(coords)}")
    for ax, (c, n) in enumerate(zip(coords, shape)):
        if c.shape != (n,):
            raise InputError(f"{name}[{ax}] must have {n} coordinates (cm), got shape {c.shape}")
        if n < 2 or not np.all(np.diff(c) > 0):
            raise InputError(f"{name}[{ax}] must be at least 2 strictly increasing coordinates (cm)")
    return coords


def _cell(c, x):
    """Cell index i (c[i] <= x < c[i+1], clipped to the grid) and fraction t in [0, 1] along one axis."""
    d = np.diff(c)
    if np.allclose(d, d[0], rtol=1e-9, atol=0):   # uniform: direct arithmetic, no search
        u = (x - c[0]) / d[0]
        i = np.clip(np.floor(u).astype(np.intp), 0, c.size - 2)
        return i, np.clip(u - i, 0.0, 1.0)
    i = np.clip(np.searchsorted(c, x, side="right") - 1, 0, c.size - 2)
    return i, np.clip((x - c[i]) / (c[i + 1] - c[i]), 0.0, 1.0)


def _interp(values, coords, pts):
    """Multilinear interpolation of ``values`` on the grid ``coords`` at points ``pts`` (n, ndim).

    Points outside the grid give NaN.
    """
    nd = len(coords)
    idx = []
    frac = []
    outside = np.zeros(pts.shape[0], dtype=bool)
    for ax in range(nd):
        c = coords[ax]
        x = pts[:, ax]
        outside |= (x < c[0] - 1e-12) | (x > c[-1] + 1e-12)
        i, t = _cell(c, x)
        idx.append(i)
        frac.append(t)
    out = np.zeros(pts.shape[0])
    for corner in range(1 << nd):
        w = np.ones(pts.shape[0])
        ind = []
        for ax in range(nd):
            bit = (corner >> ax) & 1
            w = w * (frac[ax] if bit else 1.0 - frac[ax])
            ind.append(idx[ax] + bit)
        out += w * values[tuple(ind)]
    out[outside] = np.nan
    return out


def _interp_var(sigma, coords, pts):
    """Variance of the multilinear interpolant of independent values with standard deviations ``sigma``."""
    nd = len(coords)
    idx, frac = [], []
    for ax in range(nd):
        i, t = _cell(coords[ax], pts[:, ax])
        idx.append(i)
        frac.append(t)
    out = np.zeros(pts.shape[0])
    for corner in range(1 << nd):
        w = np.ones(pts.shape[0])
        ind = []
        for ax in range(nd):
            bit = (corner >> ax) & 1
            w = w * (frac[ax] if bit else 1.0 - frac[ax])
            ind.append(idx[ax] + bit)
        out += (w * sigma[tuple(ind)]) ** 2
    return out


def gamma(reference, evaluated, coords_cm, *, evaluated_coords_cm=None, dose_percent=3.0, dta_mm=3.0,
          local=False, threshold_percent=10.0, normalization_dose=None, search_radius_mm=None,
          steps_per_dta=None, refine_levels=4) -> GammaResult:
    """Gamma index (Low, Harms, Mutic and Purdy, Med. Phys. 25 (1998) 656,
    https://doi.org/10.1118/1.598248) of an evaluated dose against a reference, in 1, 2 or 3 dimensions.

    For each reference point r with reference dose above the threshold,
    ``gamma(r)^2 = min over r' of |r' - r|^2 / DTA^2 + (D_eval(r') - D_ref(r))^2 / dD^2``.

    Parameters
    ----------
    reference, evaluated : ndarray
        Dose arrays (1-D, 2-D or 3-D), in the same dose unit.
    coords_cm : 1-D array or tuple of 1-D arrays
        Coordinates (cm) of the reference grid, one increasing array per array axis, in array-axis
        order (``(z, y, x)`` for a ``[z, y, x]`` array). Grids need not be uniform.
    evaluated_coords_cm : tuple of arrays, optional
        Coordinates of the evaluated grid (default: those of the reference).
    dose_percent : float
        Dose-difference criterion in percent: of ``normalization_dose`` (default the reference maximum)
        for global gamma, of the local reference dose for local gamma.
    dta_mm : float
        Distance-to-agreement criterion in mm.
    local : bool
        Local (True) or global (False) dose difference.
    threshold_percent : float
        Reference points below this percentage of the reference maximum are not evaluated.
    search_radius_mm : float, optional
        Largest distance searched (default 2 x dta_mm). A point whose true gamma exceeds
        search_radius / dta returns a value >= that bound (possibly NaN if nothing was in reach).
    steps_per_dta : int, optional
        Search resolution: the evaluated dose is interpolated (multilinear, between grid points) at
        offsets on a Cartesian grid of spacing h = dta / steps_per_dta (default 10 in 1-D and 2-D,
        5 in 3-D, where the offset count grows as steps^3).
    refine_levels : int
        Number of halvings of a compass search (steps h/2, h/4, ...) around each point's best offset.

    Returns
    -------
    GammaResult

    Notes
    -----
    Brute force: the offsets within the search radius are visited in order of increasing distance; a
    point stops searching once the distance term alone exceeds its current minimum. The best offset
    found is then refined by a compass search (steps of h/2, h/4, ... along each axis, two sweeps per
    step). The result is the minimum over the sampled offsets (so never below the true gamma);
    its error is of order (h / 2^refine_levels) / dta, plus that of the multilinear interpolation of
    the evaluated dose between its grid points.
    """
    ref = np.asarray(reference, dtype=np.float64)
    ev = np.asarray(evaluated, dtype=np.float64)
    if ref.ndim not in (1, 2, 3) or ev.ndim != ref.ndim:
        raise InputError(f"reference and evaluated must both be 1-D, 2-D or 3-D arrays, got shapes "
                         f"{ref.shape} and {ev.shape}")
    rc = _grid(coords_cm, ref.shape, "coords_cm")
    ec = rc if evaluated_coords_cm is None else _grid(evaluated_coords_cm, ev.shape, "evaluated_coords_cm")
    if evaluated_coords_cm is None and ev.shape != ref.shape:
        raise InputError(f"evaluated has shape {ev.shape} but reference {ref.shape}: give evaluated_coords_cm")
    for name, v in (("dose_percent", dose_percent), ("dta_mm", dta_mm)):
        if not (math.isfinite(v) and v > 0):
            raise InputError(f"{name} must be finite and > 0, got {v!r}")
    if not (math.isfinite(threshold_percent) and threshold_percent >= 0):
        raise InputError(f"threshold_percent must be >= 0, got {threshold_percent!r}")
    search = 2.0 * dta_mm if search_radius_mm is None else float(search_radius_mm)
    if not (math.isfinite(search) and search > 0):
        raise InputError(f"search_radius_mm must be > 0 mm, got {search_radius_mm!r}")
    if steps_per_dta is None:
        steps_per_dta = 5 if ref.ndim == 3 else 10
    if int(steps_per_dta) < 1:
        raise InputError(f"steps_per_dta must be an integer >= 1, got {steps_per_dta!r}")
    dta = dta_mm / 10.0
    rmax = float(np.max(ref))
    norm = rmax if normalization_dose is None else float(normalization_dose)
    if not norm > 0:
        raise InputError(f"normalization dose must be > 0, got {norm} (reference maximum {rmax})")

    mask = ref >= threshold_percent / 100.0 * rmax
    if local:
        mask &= ref > 0
    flat = np.nonzero(mask.ravel())[0]
    mesh = np.meshgrid(*rc, indexing="ij")
    pts = np.stack([m.ravel()[flat] for m in mesh], axis=1)
    dref = ref.ravel()[flat]
    dd = dose_percent / 100.0 * (dref if local else np.full_like(dref, norm))

    # offsets on a Cartesian grid within the search radius, nearest first
    h = dta / int(steps_per_dta)
    n = int(math.ceil(search / 10.0 / h))
    axes = [np.arange(-n, n + 1) * h] * ref.ndim
    off = np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")], axis=1)
    dist2 = np.sum(off * off, axis=1) / (dta * dta)
    keep = dist2 <= (search / dta_mm) ** 2 * (1 + 1e-12)
    off, dist2 = off[keep], dist2[keep]
    order = np.argsort(dist2, kind="stable")
    off, dist2 = off[order], dist2[order]

    g2 = np.full(flat.size, np.inf)
    best_off = np.zeros((flat.size, ref.ndim))
    active = np.arange(flat.size)
    start, chunk = 0, 1           # chunks grow: most points settle within the first few offsets
    while start < off.shape[0]:
        if active.size == 0:
            break
        d2min = dist2[start]
        active = active[g2[active] > d2min]
        if active.size == 0:
            break
        o = off[start:start + chunk]
        p = (pts[active, None, :] + o[None, :, :]).reshape(-1, ref.ndim)
        de = _interp(ev, ec, p).reshape(active.size, o.shape[0])
        cand = dist2[None, start:start + chunk] + ((de - dref[active, None]) / dd[active, None]) ** 2
        cand = np.where(np.isnan(cand), np.inf, cand)
        k = np.argmin(cand, axis=1)
        cmin = cand[np.arange(active.size), k]
        better = cmin < g2[active]
        upd = active[better]
        g2[upd] = cmin[better]
        best_off[upd] = o[k[better]]
        start += chunk
        chunk = min(2 * chunk, 256)

    # refine around each point's best offset by a pattern search with halving steps (the function
    # is piecewise quadratic in the offset, so this converges to the continuous minimum)
    found = np.nonzero(np.isfinite(g2))[0]
    if found.size:
        best = best_off[found].copy()
        bg2 = g2[found].copy()
        dirs = np.concatenate([np.eye(ref.ndim), -np.eye(ref.ndim)])
        step = h
        for level in range(2 * refine_levels):
            if level % 2 == 0:
                step *= 0.5
            cand_off = best[:, None, :] + step * dirs[None, :, :]                 # (n, k, nd)
            p = (pts[found, None, :] + cand_off).reshape(-1, ref.ndim)
            de = _interp(ev, ec, p).reshape(found.size, dirs.shape[0])
            c2 = (np.sum(cand_off * cand_off, axis=2) / (dta * dta)
                  + ((de - dref[found, None]) / dd[found, None]) ** 2)
            c2 = np.where(np.isnan(c2), np.inf, c2)
            k = np.argmin(c2, axis=1)
            better = c2[np.arange(found.size), k] < bg2
            best[better] = cand_off[better, k[better]]
            bg2[better] = c2[better, k[better]]
        g2[found] = bg2

    gam = np.full(ref.size, np.nan)
    gv = np.sqrt(g2)
    gv[~np.isfinite(gv)] = np.nan
    gam[flat] = gv
    valid = ~np.isnan(gv)
    rate = float(np.mean(gv[valid] <= 1.0)) if valid.any() else math.nan
    return GammaResult(gamma=gam.reshape(ref.shape), pass_rate=rate, n_evaluated=int(valid.sum()),
                       dose_percent=float(dose_percent), dta_mm=float(dta_mm), local=bool(local),
                       threshold_percent=float(threshold_percent), search_radius_mm=search,
                       dose_criterion=math.nan if local else dose_percent / 100.0 * norm)


# ---------------------------------------------------------------------------------------- DVH
@dataclass(frozen=True)
class DVH:
    """Cumulative dose-volume histogram of a structure.

    Attributes
    ----------
    dose : ndarray
        Dose levels (bin edges), increasing, in the dose unit of the input.
    volume_fraction : ndarray
        Fraction of the structure's volume receiving at least ``dose[k]``.
    volume_cm3 : float
        Volume of the structure (cm3); NaN when given a bare array without ``voxel_volume_cm3``.
    mean, minimum, maximum : float
        Mean, minimum and maximum voxel dose in the structure.
    mean_rel_unc : float
        Relative uncertainty of ``mean`` (voxels taken as independent; NaN without uncertainties).
    """

    dose: np.ndarray
    volume_fraction: np.ndarray
    volume_cm3: float
    mean: float
    minimum: float
    maximum: float
    mean_rel_unc: float

    def volume_at_dose(self, dose: float) -> float:
        """Fraction of the volume receiving at least ``dose`` (interpolated between levels)."""
        return float(np.interp(dose, self.dose, self.volume_fraction, right=0.0))

    def dose_at_volume(self, fraction: float) -> float:
        """Dose D_v: the smallest level received by at least ``fraction`` of the volume (interpolated)."""
        if not 0 <= fraction <= 1:
            raise InputError(f"fraction must lie in [0, 1], got {fraction!r}")
        return float(np.interp(fraction, self.volume_fraction[::-1], self.dose[::-1]))


def dvh(result_or_dose, mask, bins=100, *, voxel_volume_cm3=None) -> DVH:
    """Cumulative DVH of the voxels in ``mask``.

    Parameters
    ----------
    result_or_dose : DoseResult or ndarray
        A result (its dose per history is used) or a dose array [z, y, x].
    mask : ndarray of bool
        The structure: True for voxels in it (same shape as the dose). Whole voxels only (no partial
        volumes); every voxel has the same volume, so volume fractions are voxel-count fractions.
    bins : int or array
        Number of equal dose intervals from 0 to the structure's maximum dose, or the dose levels.
    voxel_volume_cm3 : float, optional
        Voxel volume when a bare array is given (taken from the phantom for a result).
    """
    if hasattr(result_or_dose, "dose") and hasattr(result_or_dose, "phantom"):
        dose, unc, ph = _parts(result_or_dose)
        vv = ph.voxel_size[0] * ph.voxel_size[1] * ph.voxel_size[2]
    else:
        dose = np.asarray(result_or_dose, dtype=np.float64)
        unc = None
        vv = math.nan if voxel_volume_cm3 is None else float(voxel_volume_cm3)
    m = np.asarray(mask)
    if m.shape != dose.shape or m.dtype != bool:
        raise InputError(f"mask must be a boolean array of the dose shape {dose.shape}, got "
                         f"{m.dtype} {m.shape}")
    vals = dose[m]
    if vals.size == 0:
        raise InputError("mask selects no voxel")
    if np.ndim(bins) == 0:
        nb = int(bins)
        if nb < 1:
            raise InputError(f"bins must be >= 1, got {bins!r}")
        levels = np.linspace(0.0, float(vals.max()), nb + 1)
    else:
        levels = np.asarray(bins, dtype=np.float64)
        if levels.ndim != 1 or levels.size < 2 or not np.all(np.diff(levels) > 0):
            raise InputError("bins must be an integer or an increasing array of dose levels")
    s = np.sort(vals)
    frac = (s.size - np.searchsorted(s, levels, side="left")) / s.size
    mean = float(vals.mean())
    mu = math.nan
    if unc is not None and mean != 0:
        mu = float(np.sqrt(np.sum((unc[m] * vals) ** 2)) / vals.size / abs(mean))
    return DVH(dose=levels, volume_fraction=frac, volume_cm3=vals.size * vv, mean=mean,
               minimum=float(s[0]), maximum=float(s[-1]), mean_rel_unc=mu)


# ---------------------------------------------------------------------------------------- TG-43
@dataclass(frozen=True)
class TG43Result:
    """TG-43 parameters from a dose distribution (Rivard et al., Med. Phys. 31 (2004) 633,
    https://doi.org/10.1118/1.1646040).

    Attributes
    ----------
    r_cm, theta_deg : ndarray
        Radii (cm) and polar angles (degrees from the +z source axis) of the bins.
    dose_rate_constant : float
        D(r0, theta0) / normalization (Lambda when the normalisation is the air-kerma strength).
    dose_rate_constant_rel_unc : float
    g, g_rel_unc : ndarray
        Radial dose function g(r) on ``r_cm`` and its relative uncertainty.
    F, F_rel_unc : ndarray, shape (len(r_cm), len(theta_deg))
        2-D anisotropy function F(r, theta).
    geometry : str
        'point' or 'line'.
    length_cm : float
        Active length of a line source (0 for a point source).
    r0_cm, theta0_deg : float
        Reference point (1 cm, 90 degrees by default).
    """

    r_cm: np.ndarray
    theta_deg: np.ndarray
    dose_rate_constant: float
    dose_rate_constant_rel_unc: float
    g: np.ndarray
    g_rel_unc: np.ndarray
    F: np.ndarray
    F_rel_unc: np.ndarray
    geometry: str
    length_cm: float
    r0_cm: float
    theta0_deg: float


def geometry_factor(r_cm, theta_rad, length_cm=0.0):
    """TG-43 geometry factor G(r, theta) in cm^-2: 1/r^2 (point) or beta / (L r sin theta) (line).

    On the axis of a line source, 1 / (r^2 - L^2/4). NaN inside the line source.
    """
    r = np.asarray(r_cm, dtype=np.float64)
    th = np.asarray(theta_rad, dtype=np.float64)
    if length_cm == 0:
        with np.errstate(divide="ignore"):
            return 1.0 / (r * r)
    L = float(length_cm)
    rho = r * np.sin(th)
    z = r * np.cos(th)
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.arctan2(L / 2 - z, rho) + np.arctan2(L / 2 + z, rho)
        g_off = beta / (L * rho)
        g_on = 1.0 / (r * r - L * L / 4)
    on_axis = rho < 1e-9 * np.maximum(r, 1e-300)
    out = np.where(on_axis, g_on, g_off)
    out = np.where(on_axis & (np.abs(z) <= L / 2), np.nan, out)
    return out


def tg43(result, *, center=(0.0, 0.0, 0.0), r_cm=None, theta_deg=None, geometry="point", length_cm=0.0,
         normalization=1.0, r0_cm=1.0, theta0_deg=90.0) -> TG43Result:
    """TG-43 dosimetry parameters of a source along z at ``center``.

    The geometry-corrected dose ``Q = D / G(r, theta)`` is formed at every voxel centre (it varies
    slowly, unlike D, which falls as 1/r^2). Q(r, theta) is the average over azimuth of Q
    interpolated trilinearly between voxel centres at the points
    ``center + r (sin theta cos phi, sin theta sin phi, cos theta)``, with phi sampled at least every
    half voxel edge of arc (and at least 8 times). Then

    * dose-rate constant = Q(r0, theta0) G(r0, theta0) / normalization  (= D(r0, theta0) / normalization),
    * g(r) = Q(r, theta0) / Q(r0, theta0)  (= D(r,theta0) G(r0,theta0) / (D(r0,theta0) G(r,theta0))),
    * F(r, theta) = Q(r, theta) / Q(r, theta0).

    Parameters
    ----------
    result : DoseResult
        Dose (e.g. Gy per history) around the source.
    center : (x, y, z)
        Source centre (cm); the source axis is +z, theta is measured from it.
    r_cm, theta_deg : arrays, optional
        Radii (cm) and polar angles (degrees). Defaults: r from 0.5 cm in steps of the largest voxel
        edge up to the largest radius whose sphere stays a voxel inside the phantom; theta 0, 10, ..., 180.
    geometry : {'point', 'line'}
        Geometry factor (:func:`geometry_factor`): point (1/r^2) or line of active length
        ``length_cm`` (cm).
    normalization : float
        The quantity the dose-rate constant is relative to, in the same per-history terms as the dose
        (e.g. the air-kerma strength per history, giving Lambda in Gy per (U s) when the dose is in Gy
        per history and the strength in U s per history); 1 gives D(r0, theta0) itself.
    r0_cm, theta0_deg : float
        Reference point (TG-43: 1 cm, 90 degrees).

    Returns
    -------
    TG43Result
        Points outside the phantom or inside a line source's active length give NaN.

    Notes
    -----
    Rivard et al., Med. Phys. 31 (2004) 633, https://doi.org/10.1118/1.1646040. Simplifications:
    trilinear interpolation of Q smooths structure finer than a voxel (the anisotropy close to the
    source axis at radii of a few voxels); voxels around the source centre where G is undefined are
    left out. Uncertainties: each interpolated sample combines its voxels as independent; the
    azimuthal average takes the samples as fully correlated (they share voxels), a conservative
    choice; the correlation between Q(r, theta) and Q(r0, theta0) is ignored.
    """
    dose, unc, ph = _parts(result)
    if geometry not in ("point", "line"):
        raise InputError(f"geometry must be 'point' or 'line', got {geometry!r}")
    L = float(length_cm) if geometry == "line" else 0.0
    if geometry == "line" and not L > 0:
        raise InputError(f"length_cm must be > 0 cm for a line source, got {length_cm!r}")
    if not (math.isfinite(normalization) and normalization != 0):
        raise InputError(f"normalization must be finite and non-zero, got {normalization!r}")
    c = np.asarray(center, dtype=np.float64)
    if c.shape != (3,) or not np.all(np.isfinite(c)):
        raise InputError(f"center must be 3 finite numbers (x, y, z) in cm, got {center!r}")
    cc = _centres(ph)
    zz, yy, xx = np.meshgrid(cc["z"] - c[2], cc["y"] - c[1], cc["x"] - c[0], indexing="ij")
    r = np.sqrt(xx * xx + yy * yy + zz * zz)
    with np.errstate(invalid="ignore", divide="ignore"):
        th = np.arccos(np.clip(zz / r, -1.0, 1.0))
        G = geometry_factor(r, th, L)
        ok = np.isfinite(G) & (G > 0) & (r > 0)
        Q = np.where(ok, dose / G, np.nan)
        S = np.where(ok, unc * dose / G, np.nan)
    h = max(ph.voxel_size)
    if r_cm is None:
        ext = [min(c[i] - ph.origin[i], ph.origin[i] + ph.shape[2 - i] * ph.voxel_size[i] - c[i])
               for i in range(3)]
        r_cm = np.arange(0.5, min(ext) - h + 1e-9, h)
    rs = np.atleast_1d(np.asarray(r_cm, dtype=np.float64))
    ts = np.arange(0.0, 181.0, 10.0) if theta_deg is None else np.atleast_1d(np.asarray(theta_deg, float))
    if rs.size == 0 or np.any(~np.isfinite(rs)) or np.any(rs <= 0):
        raise InputError(f"r_cm must be radii > 0 cm, got {r_cm!r}")
    if np.any((ts < 0) | (ts > 180)):
        raise InputError(f"theta_deg must lie in [0, 180] degrees, got {theta_deg!r}")
    grid = (cc["z"], cc["y"], cc["x"])

    def q_at(rv, tdeg):
        t = math.radians(tdeg)
        n_phi = max(8, int(math.ceil(2 * math.pi * rv * math.sin(t) / (0.5 * h))))
        phi = np.arange(n_phi) * (2 * math.pi / n_phi)
        pts = np.stack([np.full(n_phi, c[2] + rv * math.cos(t)),
                        c[1] + rv * math.sin(t) * np.sin(phi),
                        c[0] + rv * math.sin(t) * np.cos(phi)], axis=1)
        q = _interp(Q, grid, pts)
        sig = np.sqrt(_interp_var(S, grid, pts))
        good = np.isfinite(q)
        if not good.any():
            return math.nan, math.nan
        val = float(np.mean(q[good]))
        return val, (float(np.mean(sig[good])) / abs(val) if val != 0 else math.nan)

    q0, u0 = q_at(float(r0_cm), float(theta0_deg))
    if not (q0 > 0):
        raise InputError(f"no dose found at the reference point r0={r0_cm} cm, theta0={theta0_deg} deg "
                         f"(is the phantom large enough and the source at center={tuple(c)}?)")
    G0 = float(geometry_factor(np.array(float(r0_cm)), np.array(math.radians(theta0_deg)), L))
    QF = np.empty((rs.size, ts.size))
    U = np.empty_like(QF)
    for i, rv in enumerate(rs):
        for j, tv in enumerate(ts):
            QF[i, j], U[i, j] = q_at(float(rv), float(tv))
    qt = np.array([q_at(float(rv), float(theta0_deg)) for rv in rs])
    g = qt[:, 0] / q0
    return TG43Result(r_cm=rs, theta_deg=ts, dose_rate_constant=q0 * G0 / normalization,
                      dose_rate_constant_rel_unc=u0, g=g, g_rel_unc=np.sqrt(qt[:, 1] ** 2 + u0 ** 2),
                      F=QF / qt[:, :1], F_rel_unc=np.sqrt(U ** 2 + qt[:, 1:2] ** 2), geometry=geometry,
                      length_cm=L, r0_cm=float(r0_cm), theta0_deg=float(theta0_deg))
