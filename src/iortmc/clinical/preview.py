"""Geometry preview: three orthogonal material slices through the source or the beam axis, before any run.

:func:`show_geometry` draws the phantom's materials in the planes x = x0, y = y0 and z = z0 through a
point of interest (the point source, or where the beam axis enters the tissue), outlines the
applicator and shielding voxels (device materials, :func:`iortmc.analysis.tissue_mask`) in red,
marks the source position and draws the beam direction. matplotlib is imported when called (extra
``plot``). ``iortmc show CASE.toml -o geometry.png`` calls it for a case file.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["show_geometry", "focus_point"]


def focus_point(phantom, source) -> tuple:
    """The point the slices pass through: for a beam, where its axis enters the tissue; for a point
    source, its position; else the phantom centre (cm, (x, y, z))."""
    from ..analysis import entry_surface

    pos = np.asarray(getattr(source, "position", (np.nan,) * 3), dtype=float)
    d = getattr(source, "direction", None)
    if d is not None and type(source).__name__ != "PointSource" and np.all(np.isfinite(pos)):
        try:
            return tuple(entry_surface(phantom, pos, d).point_cm)
        except InputError:
            pass
    if pos.shape == (3,) and np.all(np.isfinite(pos)) and phantom.contains(tuple(pos)):
        return tuple(float(v) for v in pos)
    return tuple(float(0.5 * (lo + hi)) for lo, hi in phantom.extent)


def show_geometry(phantom, source=None, path=None, *, point=None, title=None, metadata=None):
    """Draw three orthogonal material slices (see the module notes) and return the figure.

    Parameters
    ----------
    phantom : Phantom
    source : PointSource, PencilBeam, ElectronBeam or None
        Marked on the slices (position; direction for beams).
    path : str or Path, optional
        Write the figure (PNG, PDF, SVG by extension).
    point : (x, y, z), optional
        The point the slices pass through (default: :func:`focus_point`).
    title : str, optional
    metadata : dict, optional
        ``{"device_materials": [...]}`` to say which materials to outline (default: the library's
        applicator and shielding materials).
    """
    from ..analysis.plot import _figure, _finish
    from ..analysis import tissue_mask

    if not hasattr(phantom, "index"):
        raise InputError(f"phantom must be a Phantom, got {type(phantom).__name__}")
    p = focus_point(phantom, source) if point is None else tuple(float(v) for v in point)
    if len(p) != 3 or not phantom.contains(p):
        raise InputError(f"point {p} cm lies outside the phantom {phantom.extent} cm")
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    names = [m.name for m in phantom.materials]
    palette = ["#4c9be8", "#f2f2f2", "#e8a04c", "#7b4ce8", "#4ce87b", "#e84c6d", "#8c8c8c", "#c9e84c",
               "#4ce8d9", "#b07040", "#303030", "#e84cc9"]
    cmap = ListedColormap([palette[i % len(palette)] for i in range(len(names))])

    class _V:   # mask as a "phantom-like" for tissue_mask
        pass

    v = _V()
    v.phantom = phantom
    v.metadata = metadata or {}
    device = ~tissue_mask(v) & (np.asarray(phantom.density) >= 0.01)
    fig, axes = _figure(ncols=3, size=(15.0, 5.2))
    vs, org = phantom.voxel_size, phantom.origin
    nz, ny, nx = phantom.shape
    idx = np.asarray(phantom.index)
    src_pos = None if source is None else np.asarray(getattr(source, "position", None), dtype=float)
    src_dir = None if source is None or getattr(source, "direction", None) is None or type(source).__name__ == "PointSource" \
        else np.asarray(source.direction, dtype=float)
    for ax, axis in zip(axes[0], "zyx"):
        a = "xyz".index(axis)
        k = min(max(int((p[a] - org[a]) // vs[a]), 0), (nx, ny, nz)[a] - 1)
        if axis == "z":
            img, dev, h, w = idx[k], device[k], "x", "y"
        elif axis == "y":
            img, dev, h, w = idx[:, k, :], device[:, k, :], "x", "z"
        else:
            img, dev, h, w = idx[:, :, k], device[:, :, k], "y", "z"
        ha, wa = "xyz".index(h), "xyz".index(w)
        ext = [org[ha], org[ha] + (nx, ny, nz)[ha] * vs[ha], org[wa], org[wa] + (nx, ny, nz)[wa] * vs[wa]]
        ax.imshow(img, origin="lower", extent=ext, cmap=cmap, vmin=-0.5, vmax=len(names) - 0.5,
                  interpolation="nearest")
        if dev.any() and not dev.all():
            xs = np.linspace(ext[0], ext[1], img.shape[1] + 1)
            ys = np.linspace(ext[2], ext[3], img.shape[0] + 1)
            ax.contour(0.5 * (xs[1:] + xs[:-1]), 0.5 * (ys[1:] + ys[:-1]), dev.astype(float), levels=[0.5],
                       colors="red", linewidths=1.0)
        if src_pos is not None and src_pos.shape == (3,):
            ax.plot([src_pos[ha]], [src_pos[wa]], marker="*", color="gold", markeredgecolor="k", markersize=14,
                    linestyle="none", label="source")
            if src_dir is not None:
                L = 0.25 * max(ext[1] - ext[0], ext[3] - ext[2])
                ax.annotate("", xy=(src_pos[ha] + L * src_dir[ha], src_pos[wa] + L * src_dir[wa]),
                            xytext=(src_pos[ha], src_pos[wa]),
                            arrowprops=dict(arrowstyle="->", color="gold", lw=2))
        lo_h, hi_h = min(ext[0], src_pos[ha]) if src_pos is not None else ext[0], \
            max(ext[1], src_pos[ha]) if src_pos is not None else ext[1]
        lo_w, hi_w = min(ext[2], src_pos[wa]) if src_pos is not None else ext[2], \
            max(ext[3], src_pos[wa]) if src_pos is not None else ext[3]
        ax.set_xlim(lo_h - 0.2, hi_h + 0.2)
        ax.set_ylim(lo_w - 0.2, hi_w + 0.2)
        ax.set_xlabel(f"{h} (cm)")
        ax.set_ylabel(f"{w} (cm)")
        ax.set_aspect("equal")
        ax.set_title(f"{axis} = {org[a] + (k + 0.5) * vs[a]:.3g} cm", fontsize=10)
    handles = [Patch(color=cmap(i), label=n) for i, n in enumerate(names)]
    handles.append(Patch(facecolor="none", edgecolor="red", label="applicator / shielding"))
    fig.legend(handles=handles, loc="outside right center", fontsize=8)
    fig.suptitle(title or "Geometry (materials); star: source, arrow: beam direction", fontsize=11)
    return _finish(fig, path)
