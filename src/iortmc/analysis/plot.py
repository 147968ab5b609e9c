"""Figures of dose results (matplotlib; optional extra ``plot``: ``python -m pip install 'iortmc[plot]'``).

matplotlib is imported inside each function, so ``import iortmc`` never needs it. Figures are built as
:class:`matplotlib.figure.Figure` objects with their own Agg canvas: no pyplot state, no GUI backend, safe
on headless machines and in threads; notebooks display the returned figure.

Every function returns the figure and, when ``path`` is given, also writes it there (PNG, PDF or SVG by
the file extension). Doses are in Gy per history unless a normalisation is asked for; uncertainty bands
are +-1 standard deviation (the result's relative uncertainty).
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import InputError

__all__ = ["depth_dose", "profile", "radial_dose", "isodose", "compare", "require_matplotlib"]

_DPI = 120


def require_matplotlib():
    """Import matplotlib (Agg canvas) or raise ImportError saying how to install it."""
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError as exc:
        raise ImportError("iortmc.plot needs matplotlib, which is not installed; install it with "
                          "python -m pip install 'iortmc[plot]' (or: python -m pip install matplotlib)") from exc
    return matplotlib


def _figure(ncols=1, nrows=1, size=(6.4, 4.4), **kw):
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _finish(fig, path):
    if path is not None:
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise InputError(f"path: directory {directory!r} does not exist (writing {path!r})")
        fig.savefig(path, dpi=_DPI)
    return fig


def _band(ax, x, y, rel, label=None, color=None, **kw):
    y = np.asarray(y, dtype=float)
    sig = np.abs(y) * np.nan_to_num(np.asarray(rel, dtype=float), nan=0.0)
    (line,) = ax.plot(x, y, label=label, color=color, **kw)
    ax.fill_between(x, y - sig, y + sig, color=line.get_color(), alpha=0.25, linewidth=0)
    return line


def _norm(values, rel, normalize, x=None, where="normalize"):
    """Scale to percent of the maximum (``"max"``) or of the value at ``x = normalize`` (a number)."""
    if normalize is None:
        return values, "Gy per history", 1.0
    if isinstance(normalize, str):
        if normalize != "max":
            raise InputError(f"{where} must be None, 'max' or a coordinate in cm, got {normalize!r}")
        ref = float(np.nanmax(values))
        what = "% of maximum"
    else:
        try:
            at = float(normalize)
        except (TypeError, ValueError):
            raise InputError(f"{where} must be None, 'max' or a coordinate in cm, got {normalize!r}") from None
        ok = np.isfinite(values)
        ref = float(np.interp(at, np.asarray(x)[ok], np.asarray(values)[ok]))
        what = f"% of dose at {at:g} cm"
    if not ref > 0:
        raise InputError(f"{where}: the reference dose is {ref}; cannot normalise to it")
    return values * (100.0 / ref), what, 100.0 / ref


# ---------------------------------------------------------------------------------------- lines
def depth_dose(result, path=None, *, axis="z", through=None, normalize="max", label=None, ax=None,
               surface="tissue"):
    """Depth-dose curve along ``axis`` with a +-1 sigma band, depth from the tissue surface.

    Parameters
    ----------
    result : DoseResult
    path : str or Path, optional
        Write the figure here.
    axis, through, surface :
        As in :func:`iortmc.analysis.depth_dose` (``axis='beam'``: the beam's central axis).
    normalize : None, "max" or float
        ``"max"`` (default): percent of the maximum; a number: percent of the dose at that depth (cm);
        None: Gy per history.
    label : str, optional
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    """
    from .. import analysis

    depth, d, u = analysis.depth_dose(result, axis=axis, through=through, surface=surface)
    y, unit, _ = _norm(d, u, normalize, depth)
    fig, ax = _own_axes(ax)
    _band(ax, depth, y, u, label=label)
    where = "the beam axis" if axis == "beam" else axis
    ax.set_xlabel(f"depth along {where} from the {'tissue surface' if surface == 'tissue' else 'phantom face'} (cm)")
    ax.set_ylabel(f"dose ({unit})")
    ax.set_title("Depth dose")
    ax.grid(alpha=0.3)
    if label:
        ax.legend()
    return _finish(fig if fig is not None else ax.figure, path)


def profile(result, path=None, *, axis="x", point=(0.0, 0.0, 0.0), normalize="max", label=None, ax=None):
    """Dose profile along ``axis`` through ``point`` (x, y, z in cm), with a +-1 sigma band."""
    from .. import analysis

    c, d, u = analysis.profile(result, axis, point)
    y, unit, _ = _norm(d, u, normalize, c)
    fig, ax = _own_axes(ax)
    _band(ax, c, y, u, label=label)
    ax.set_xlabel(f"{axis} (cm)")
    ax.set_ylabel(f"dose ({unit})")
    ax.set_title(f"Profile along {axis} through {tuple(float(v) for v in point)} cm")
    ax.grid(alpha=0.3)
    if label:
        ax.legend()
    return _finish(fig if fig is not None else ax.figure, path)


def radial_dose(result, path=None, *, center=(0.0, 0.0, 0.0), r_edges=None, r_max_cm=None, r2=False,
                label=None, ax=None):
    """Shell-averaged dose about ``center`` on a log scale, with a +-1 sigma band.

    Parameters
    ----------
    center : (x, y, z), cm
    r_edges : array, optional
        Shell edges (cm), as in :func:`iortmc.analysis.radial_dose`.
    r_max_cm : float, optional
        Largest radius shown (default: the largest sphere about ``center`` inside the phantom).
    r2 : bool
        Plot D(r) r^2 (Gy cm^2 per history) on a linear scale instead of D(r) on a log scale.
    """
    from .. import analysis

    try:
        c = np.asarray(center, dtype=float)
    except (TypeError, ValueError):
        c = np.array([np.nan])
    if c.shape != (3,) or not np.all(np.isfinite(c)):
        raise InputError(f"radial dose: center must be 3 finite numbers (x, y, z) in cm, got {center!r}")
    ph = result.phantom
    if not ph.contains(tuple(c)):
        ext = ", ".join(f"{'xyz'[a]} {lo:g} to {hi:g}" for a, (lo, hi) in enumerate(ph.extent))
        raise InputError(f"radial dose: the centre ({c[0]:g}, {c[1]:g}, {c[2]:g}) cm lies outside the phantom "
                         f"({ext} cm); a radial dose needs a centre inside it, e.g. the position of a point "
                         f"source (--center X Y Z); for a beam use a depth dose")
    r, d, u = analysis.radial_dose(result, center=center, r_edges=r_edges)
    if r_max_cm is None:
        r_max_cm = min(min(c[a] - lo, hi - c[a]) for a, (lo, hi) in enumerate(ph.extent))
    keep = np.isfinite(d) & (r <= r_max_cm) & (d > 0)
    r, d, u = r[keep], d[keep], u[keep]
    if r.size == 0:
        raise InputError(f"radial dose: no dose in any shell about ({c[0]:g}, {c[1]:g}, {c[2]:g}) cm within "
                         f"r = {r_max_cm:.3g} cm; nothing to plot on a log scale")
    fig, ax = _own_axes(ax)
    if r2:
        _band(ax, r, d * r * r, u, label=label)
        ax.set_ylabel("D(r) r² (Gy cm² per history)")
    else:
        _band(ax, r, d, u, label=label)
        ax.set_yscale("log")
        ax.set_ylabel("dose (Gy per history)")
    ax.set_xlabel("distance from source r (cm)")
    ax.set_title("Radial dose" + (" × r²" if r2 else ""))
    ax.grid(alpha=0.3, which="both")
    if label:
        ax.legend()
    return _finish(fig if fig is not None else ax.figure, path)


def _own_axes(ax):
    if ax is not None:
        return None, ax
    fig, axes = _figure()
    return fig, axes[0, 0]


# ---------------------------------------------------------------------------------------- slices
_AX = {"x": 0, "y": 1, "z": 2}


def _slice(result, axis: str, value: float):
    """Dose, uncertainty and density in the plane ``axis = value`` (nearest voxel) plus its extent."""
    if axis not in _AX:
        raise InputError(f"axis must be 'x', 'y' or 'z', got {axis!r}")
    ph = result.phantom
    a = _AX[axis]
    lo, hi = ph.extent[a]
    v = float(value)
    if not lo <= v <= hi:
        raise InputError(f"slice {axis} = {v} cm lies outside the phantom ({lo:g} to {hi:g} cm)")
    n = ph.shape[2 - a]
    k = min(int((v - lo) // ph.voxel_size[a]), n - 1)
    sl = [slice(None)] * 3
    sl[2 - a] = k
    sl = tuple(sl)
    others = [b for b in "xyz" if b != axis]        # horizontal, vertical axes of the image
    ext = [*ph.extent[_AX[others[0]]], *ph.extent[_AX[others[1]]]]
    dose = np.asarray(result.dose)[sl]
    unc = np.asarray(result.uncertainty)[sl]
    rho = np.asarray(ph.density)[sl]
    idx = np.asarray(ph.index)[sl]
    # the 2-D slice keeps the [z, y, x] order without ``axis``: rows are others[1], columns others[0]
    centre = lo + (k + 0.5) * ph.voxel_size[a]
    return dose, unc, rho, idx, ext, others, centre


def isodose(result, path=None, *, axis="z", value=0.0, levels=(200, 150, 100, 80, 50, 20, 10, 5),
            reference=None, max_rel_unc=None, ax=None, tissue=None):
    """Isodose lines over the phantom in the plane ``axis = value`` (cm; nearest voxel layer).

    Parameters
    ----------
    levels : sequence of float
        Isodose levels in percent of the reference dose.
    reference : None, float or (x, y, z)
        Reference dose for 100 %: None -> the maximum over the slice's tissue voxels outside the
        hottest 1 % of them (a point source has a singular maximum); a float -> that dose (Gy per history);
        3 numbers -> the dose at that point (trilinear interpolation).
    max_rel_unc : float, optional
        Hide dose where the relative uncertainty exceeds this (e.g. 0.2).
    tissue : None, 'all', list of material names or boolean mask
        Which voxels count as tissue for the default reference and for the lines
        (:func:`iortmc.analysis.tissue_mask`; default: not air, not applicator or shielding
        material). Dose in other voxels is not contoured.

    The background shows the mass density (g/cm3) in grey.
    """
    from .. import analysis

    dose, unc, rho, idx, ext, others, centre = _slice(result, axis, value)
    tmask3 = analysis.tissue_mask(result, tissue)
    _, _, _, tm, _, _, _ = _slice(_MaskView(result, tmask3), axis, value)
    tm = np.asarray(tm, dtype=bool)
    if reference is None:
        pos = dose[(dose > 0) & tm]
        ref = float(np.percentile(pos, 99.0)) if pos.size else 0.0
        ref_text = "99th percentile of the slice's tissue"
    elif np.ndim(reference) == 0:
        ref = float(reference)
        ref_text = f"{ref:.4g} Gy per history"
    else:
        ref, _ = analysis.point_dose(result, reference)
        ref_text = f"dose at {tuple(float(v) for v in reference)} cm"
    if not ref > 0:
        raise InputError(f"reference dose is {ref}; cannot draw isodose lines")
    pct = np.where(tm, 100.0 * dose / ref, np.nan)
    if max_rel_unc is not None:
        pct = np.where(unc <= float(max_rel_unc), pct, np.nan)
    fig, ax = _own_axes(ax)
    ax.imshow(rho, origin="lower", extent=ext, cmap="Greys", alpha=0.6, interpolation="nearest")
    nx, ny = pct.shape[1], pct.shape[0]
    xs = np.linspace(ext[0], ext[1], nx + 1)
    ys = np.linspace(ext[2], ext[3], ny + 1)
    xc, yc = 0.5 * (xs[1:] + xs[:-1]), 0.5 * (ys[1:] + ys[:-1])
    lv = sorted(float(v) for v in levels)
    finite = pct[np.isfinite(pct)]
    lv = [v for v in lv if finite.size and finite.min() < v < finite.max()]
    if lv:
        cs = ax.contour(xc, yc, pct, levels=lv, cmap="jet", linewidths=1.2)
        ax.clabel(cs, fmt="%g%%", fontsize=7)
    ax.set_xlabel(f"{others[0]} (cm)")
    ax.set_ylabel(f"{others[1]} (cm)")
    ax.set_aspect("equal")
    ax.set_title(f"Isodose (%) at {axis} = {centre:.3g} cm; 100 % = {ref_text}", fontsize=9)
    return _finish(fig if fig is not None else ax.figure, path)


class _MaskView:
    """A result-like object whose material index is a mask (to slice it like the phantom)."""

    def __init__(self, result, mask):
        self.phantom = _MaskPhantom(result.phantom, mask)
        self.dose = self.uncertainty = mask


class _MaskPhantom:
    def __init__(self, ph, mask):
        self.extent, self.shape, self.voxel_size = ph.extent, ph.shape, ph.voxel_size
        self.density = ph.density
        self.index = mask


# ---------------------------------------------------------------------------------------- compare
def compare(result_a, result_b, path=None, *, kind="depth", labels=("A", "B"), axis="z", through=None,
            point=(0.0, 0.0, 0.0), center=(0.0, 0.0, 0.0), normalize=None):
    """Compare two results: curves with +-1 sigma bands (top) and their ratio B/A with its band (bottom).

    Parameters
    ----------
    kind : {"depth", "profile", "radial"}
        Depth dose (``axis``, ``through``), profile (``axis`` through ``point``) or radial dose about
        ``center``.
    labels : (str, str)
    normalize : None, "max" or float
        Applied to each curve separately (percent of its own maximum or of its value at a coordinate);
        None compares absolute doses per history.
    """
    from .. import analysis

    if kind == "depth":
        xa, da, ua = analysis.depth_dose(result_a, axis=axis, through=through)
        xb, db, ub = analysis.depth_dose(result_b, axis=axis, through=through)
        xlabel = f"depth along {axis} (cm)"
    elif kind == "profile":
        xa, da, ua = analysis.profile(result_a, axis, point)
        xb, db, ub = analysis.profile(result_b, axis, point)
        xlabel = f"{axis} (cm)"
    elif kind == "radial":
        xa, da, ua = analysis.radial_dose(result_a, center=center)
        xb, db, ub = analysis.radial_dose(result_b, center=center)
        xlabel = "r (cm)"
    else:
        raise InputError(f"kind must be 'depth', 'profile' or 'radial', got {kind!r}")
    ya, unit, _ = _norm(da, ua, normalize, xa)
    yb, _, _ = _norm(db, ub, normalize, xb)
    fig, axes = _figure(nrows=2, size=(6.4, 6.0), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    top, bottom = axes[0, 0], axes[1, 0]
    _band(top, xa, ya, ua, label=labels[0])
    _band(top, xb, yb, ub, label=labels[1])
    if kind == "radial":
        top.set_yscale("log")
    top.set_ylabel(f"dose ({unit})")
    top.legend()
    top.grid(alpha=0.3)
    # ratio on the common coordinates of A
    ok = np.isfinite(yb)
    yb_on_a = np.interp(xa, np.asarray(xb)[ok], np.asarray(yb)[ok], left=np.nan, right=np.nan)
    ub_on_a = np.interp(xa, np.asarray(xb)[ok], np.nan_to_num(np.asarray(ub))[ok], left=np.nan, right=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = yb_on_a / ya
        rel = np.sqrt(np.nan_to_num(ua) ** 2 + np.nan_to_num(ub_on_a) ** 2)
    good = np.isfinite(ratio)
    _band(bottom, np.asarray(xa)[good], ratio[good], rel[good], color="k")
    bottom.axhline(1.0, color="grey", lw=0.8)
    bottom.set_ylabel(f"{labels[1]} / {labels[0]}")
    bottom.set_xlabel(xlabel)
    bottom.grid(alpha=0.3)
    return _finish(fig, path)
