"""Short HTML summaries for Jupyter (``_repr_html_``): a title and a two-column table, escaped."""

from __future__ import annotations

import html

import numpy as np


def table(title: str, rows) -> str:
    """An HTML table of (label, value) rows under a bold title."""
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                   f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<div><b>{html.escape(title)}</b><table>{body}</table></div>"


def material(m) -> str:
    comp = ", ".join(f"{s} {w:.4g}" for s, w in m.composition.items())
    return table(f"Material {m.name}", [
        ("density", f"{m.density:g} g/cm3"), ("I", f"{m.I_eV:.4g} eV ({m.I_source})"),
        ("composition (mass fractions)", comp), ("source", m.citation or "user-defined")])


def phantom(p) -> str:
    (x0, x1), (y0, y1), (z0, z1) = p.extent
    counts = np.bincount(p.index.ravel(), minlength=len(p.materials))
    mats = ", ".join(f"{m.name} {100.0 * c / p.index.size:.3g} %" for m, c in zip(p.materials, counts) if c)
    return table("Phantom", [
        ("shape [z, y, x]", p.shape), ("voxel size (x, y, z)", f"{p.voxel_size} cm"),
        ("extent x / y / z", f"{x0:g}..{x1:g} / {y0:g}..{y1:g} / {z0:g}..{z1:g} cm"),
        ("materials (share of voxels)", mats)])


def spectrum(s) -> str:
    kind = "histogram" if s.is_histogram else "lines"
    return table(f"Spectrum {s.name or '(unnamed)'}", [
        ("kind", f"{kind}, {len(s.weights)} {'bins' if s.is_histogram else 'lines'}"),
        ("mean energy", f"{s.mean_energy * 1e3:.4g} keV"), ("max energy", f"{s.max_energy * 1e3:.4g} keV"),
        ("origin", s.origin or "")])


def dose_result(r) -> str:
    d = r.dose
    imax = np.unravel_index(int(np.argmax(d)), d.shape)
    x, y, z = (c[i] for c, i in zip(r.phantom.centers(), imax[::-1]))
    rows = [("histories", f"{r.histories:,}"), ("grid [z, y, x]", d.shape),
            ("maximum dose", f"{d[imax]:.4g} Gy per history at (x, y, z) = ({x:.3g}, {y:.3g}, {z:.3g}) cm, "
                             f"uncertainty {100.0 * r.uncertainty[imax]:.3g} %"),
            ("source", (r.source or {}).get("type", "")), ("scoring", r.options.get("scoring", "")),
            ("seed", r.seed)]
    if r.timing.get("wall_s"):
        rows.append(("run time", f"{r.timing['wall_s']:.3g} s"))
    return table("DoseResult", rows)
