"""Per-material interaction tables on one log energy grid, cached on disk.

For each material the tables hold, on a log-spaced grid from 1 keV to 20 MeV (``POINTS_PER_DECADE``
points per decade) merged with every absorption edge of the material's elements (each edge appears
twice, the value just below and the value just above), the photon mass attenuation coefficient by
process (NIST XCOM element cross sections, mixture rule), the mass energy-absorption coefficient (NIST
Table 3 element values, mixture rule), and the electron and positron collision and radiative stopping
powers and CSDA ranges (:mod:`iortmc.physics._stopping`). Values between grid points are interpolated
log-log; at an edge the value above the edge applies from the edge energy up, so edges are exact.

Tables are built on first use (well under a second) and cached as ``.npz`` files keyed by a hash of
the composition, density, I-value, the grid and the shipped data file, in the user cache directory
(``$IORTMC_CACHE_DIR``, else ``$XDG_CACHE_HOME/iortmc``, else ``~/.cache/iortmc``), never inside the
installed package. A cache that cannot be written is skipped silently (tables are rebuilt).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import _elements, _stopping
from ..errors import InputError

__all__ = ["MaterialTables", "material_tables", "base_grid", "cache_dir", "loglog_interp",
           "TABLES_VERSION", "POINTS_PER_DECADE"]

TABLES_VERSION = 2
E_MIN = 1.0e-3
E_MAX = 20.0
POINTS_PER_DECADE = 200
PROCESSES = ("photoelectric", "rayleigh", "compton", "pair", "total")
STOPPING_KINDS = ("collision", "radiative", "total")


def base_grid(points_per_decade: int = POINTS_PER_DECADE) -> np.ndarray:
    """The log-spaced base energy grid (MeV), 1 keV to 20 MeV inclusive."""
    n = int(np.ceil(np.log10(E_MAX / E_MIN) * points_per_decade)) + 1
    return np.exp(np.linspace(np.log(E_MIN), np.log(E_MAX), n))


def cache_dir() -> Path:
    env = os.environ.get("IORTMC_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "iortmc"


def check_energy(E, what: str = "E") -> np.ndarray:
    """Validate energies (MeV) against the table range; return a float64 array."""
    arr = np.asarray(E, dtype=np.float64)
    if arr.size == 0:
        raise InputError(f"{what} is empty; give at least one energy in MeV")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what} must be finite (MeV), got {arr[~np.isfinite(arr)].flat[0]}")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < E_MIN * (1 - 1e-12) or hi > E_MAX * (1 + 1e-12):
        bad = lo if lo < E_MIN else hi
        raise InputError(f"{what} = {bad:g} MeV is outside the tables ({E_MIN:g} to {E_MAX:g} MeV)")
    return arr


def _edge_sides(x: np.ndarray) -> np.ndarray:
    """For a grid with duplicated edge energies: True where a point is the lower copy of a pair."""
    lower = np.zeros(x.shape, dtype=bool)
    dup = x[1:] == x[:-1]
    lower[:-1] = dup
    return lower


def loglog_interp(x_src: np.ndarray, y_src: np.ndarray, x_new: np.ndarray,
                  below_edge: np.ndarray | None = None) -> np.ndarray:
    """Log-log interpolation of y(x) on a grid that may hold duplicated x at discontinuities.

    ``below_edge[i]`` True takes the interval that ends at ``x_new[i]`` (the value just below a
    discontinuity); otherwise the interval that starts there (just above). Intervals with a
    non-positive end point are interpolated linearly. Points outside the source grid are clamped.
    """
    x_src = np.asarray(x_src, dtype=np.float64)
    y_src = np.asarray(y_src, dtype=np.float64)
    x_new = np.asarray(x_new, dtype=np.float64)
    if below_edge is None:
        below_edge = np.zeros(x_new.shape, dtype=bool)
    right = np.searchsorted(x_src, x_new, side="right")
    left = np.searchsorted(x_src, x_new, side="left")
    hi = np.where(below_edge, left, right)
    hi = np.clip(hi, 1, len(x_src) - 1)
    lo = hi - 1
    x0, x1 = x_src[lo], x_src[hi]
    y0, y1 = y_src[lo], y_src[hi]
    xc = np.clip(x_new, x_src[0], x_src[-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        same = x1 == x0
        pos = (y0 > 0) & (y1 > 0) & (x0 > 0) & ~same
        t_log = np.where(pos, np.log(xc / np.where(x0 > 0, x0, 1.0)) / np.log(np.where(same, 2.0, x1 / np.where(x0 > 0, x0, 1.0))), 0.0)
        y_log = np.where(pos, y0 * np.exp(t_log * np.log(np.where(pos, y1 / np.where(y0 > 0, y0, 1.0), 1.0))), 0.0)
        t_lin = np.where(same, 1.0, (xc - x0) / np.where(same, 1.0, x1 - x0))
        y_lin = y0 + t_lin * (y1 - y0)
    return np.where(pos, y_log, y_lin)


def _material_edges(zs) -> np.ndarray:
    edges = []
    for z in zs:
        e = _elements.element(int(z)).photon_energy
        d = e[1:][e[1:] == e[:-1]]
        edges.extend(d.tolist())
        m = _elements.element(int(z)).mu_en_energy
        d = m[1:][m[1:] == m[:-1]]
        edges.extend(d.tolist())
    edges = np.unique(np.array(edges, dtype=np.float64))
    return edges[(edges > E_MIN) & (edges < E_MAX)]


def _material_nodes(zs) -> np.ndarray:
    """Every tabulated energy of the elements' photon and mu_en data (MeV), edges excluded."""
    nodes = []
    for z in zs:
        el = _elements.element(int(z))
        nodes.extend(el.photon_energy.tolist())
        nodes.extend(el.mu_en_energy.tolist())
    nodes = np.unique(np.array(nodes, dtype=np.float64))
    return nodes[(nodes > E_MIN) & (nodes < E_MAX)]


def merge_grid(base: np.ndarray, edges: np.ndarray, nodes: np.ndarray | None = None) -> np.ndarray:
    """Base grid + source data nodes + every edge twice; points within 0.01% of a node or an edge
    are dropped to avoid degenerate intervals. Including the source nodes makes the material
    tables reproduce the mixture of the element data exactly at those energies."""
    special = edges if nodes is None else np.union1d(edges, nodes)
    keep = np.ones(base.shape, dtype=bool)
    if special.size:
        idx = np.searchsorted(special, base)
        for off in (-1, 0):
            j = np.clip(idx + off, 0, special.size - 1)
            keep &= np.abs(base / special[j] - 1.0) > 1e-4
    others = np.setdiff1d(special, edges) if nodes is not None else np.array([])
    return np.sort(np.concatenate([base[keep], others, edges, edges]))


@dataclass
class MaterialTables:
    """Interaction tables of one material (all per unit mass).

    Attributes
    ----------
    energy : (n,) MeV, base grid merged with duplicated edges
    mu_photoelectric, mu_rayleigh, mu_compton, mu_pair, mu_total, mu_en : (n,) cm2/g
    e_energy : (m,) MeV, electron grid (base grid, no edges)
    s_col, s_rad, s_col_pos : (m,) MeV cm2/g (electron collision, radiative; positron collision)
    csda, csda_pos : (m,) g/cm2
    """

    name: str
    energy: np.ndarray
    mu_photoelectric: np.ndarray
    mu_rayleigh: np.ndarray
    mu_compton: np.ndarray
    mu_pair: np.ndarray
    mu_en: np.ndarray
    e_energy: np.ndarray
    s_col: np.ndarray
    s_rad: np.ndarray
    s_col_pos: np.ndarray
    csda: np.ndarray
    csda_pos: np.ndarray

    @property
    def mu_total(self) -> np.ndarray:
        return self.mu_photoelectric + self.mu_rayleigh + self.mu_compton + self.mu_pair

    # ------------------------------------------------------------------ lookups
    def _photon(self, E, y) -> np.ndarray:
        e = check_energy(E)
        out = loglog_interp(self.energy, y, e.ravel())
        return out.reshape(e.shape) if e.ndim else out[0]

    def mu_over_rho(self, E, process: str = "total"):
        if process not in PROCESSES:
            raise InputError(f"process must be one of {', '.join(PROCESSES)}, got {process!r}")
        if process == "total":  # sum of the interpolated parts, so parts always add up exactly
            return sum(self._photon(E, getattr(self, "mu_" + p)) for p in PROCESSES[:-1])
        return self._photon(E, getattr(self, "mu_" + process))

    def mu_en_over_rho(self, E):
        return self._photon(E, self.mu_en)

    def _electron(self, E, y) -> np.ndarray:
        e = check_energy(E)
        out = loglog_interp(self.e_energy, y, e.ravel())
        return out.reshape(e.shape) if e.ndim else out[0]

    def stopping_power(self, E, kind: str = "collision", particle: str = "e-"):
        if kind not in STOPPING_KINDS:
            raise InputError(f"kind must be one of {', '.join(STOPPING_KINDS)}, got {kind!r}")
        if particle not in ("e-", "e+"):
            raise InputError(f"particle must be 'e-' or 'e+', got {particle!r}")
        col = self.s_col if particle == "e-" else self.s_col_pos
        y = {"collision": col, "radiative": self.s_rad, "total": col + self.s_rad}[kind]
        return self._electron(E, y)

    def csda_range(self, E, particle: str = "e-"):
        if particle not in ("e-", "e+"):
            raise InputError(f"particle must be 'e-' or 'e+', got {particle!r}")
        return self._electron(E, self.csda if particle == "e-" else self.csda_pos)

    def to_arrays(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "name"}


def _element_arrays(zs):
    els = [_elements.element(int(z)) for z in zs]
    return els


def build_tables(material) -> MaterialTables:
    """Compute a material's tables from the shipped element data (no cache)."""
    zs = material.elements
    w = material.mass_fractions
    els = _element_arrays(zs)
    edges = _material_edges(zs)
    grid = merge_grid(base_grid(), edges, _material_nodes(zs))
    below = _edge_sides(grid)

    def mix(getter_x, getter_y):
        total = np.zeros_like(grid)
        for wi, el in zip(w, els):
            total += wi * loglog_interp(getter_x(el), getter_y(el), grid, below)
        return total

    ph = mix(lambda el: el.photon_energy, lambda el: el.photoelectric)
    ra = mix(lambda el: el.photon_energy, lambda el: el.coherent)
    co = mix(lambda el: el.photon_energy, lambda el: el.incoherent)
    pa = mix(lambda el: el.photon_energy, lambda el: el.pair_nuclear + el.pair_electron)
    en = mix(lambda el: el.mu_en_energy, lambda el: el.mu_en)

    eg = base_grid()
    A = np.array([el.atomic_weight for el in els])
    shells_b = [el.estar_shell_binding_eV for el in els]
    shells_n = [el.estar_shell_occupancy for el in els]
    kwargs = dict(shell_binding_eV=shells_b, shell_occupancy=shells_n)
    s_col = _stopping.bethe_collision(eg, zs, w, A, material.I_eV, material.density, particle="e-", **kwargs)
    s_col_pos = _stopping.bethe_collision(eg, zs, w, A, material.I_eV, material.density, particle="e+", **kwargs)
    s_rad = _stopping.radiative(eg, w, [el.electron_energy for el in els],
                                [el.radiative_stopping for el in els])
    csda = _stopping.csda_range(eg, s_col + s_rad)
    csda_pos = _stopping.csda_range(eg, s_col_pos + s_rad)
    return MaterialTables(material.name, grid, ph, ra, co, pa, en, eg, np.asarray(s_col, float),
                          np.asarray(s_rad, float), np.asarray(s_col_pos, float),
                          np.asarray(csda, float), np.asarray(csda_pos, float))


@lru_cache(maxsize=1)
def _data_checksum() -> str:
    h = hashlib.sha256()
    with open(_elements.data_path(), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


@lru_cache(maxsize=1)
def _code_checksum() -> str:
    """Hash of the code that computes the tables, so that an edited model never reads stale tables."""
    h = hashlib.sha256()
    for mod in (__file__, _stopping.__file__):
        with open(mod, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def _cache_key(material) -> str:
    payload = json.dumps({
        "code": _code_checksum(),
        "v": TABLES_VERSION,
        "composition": [[s, round(f, 12)] for s, f in material.composition.items()],
        "density": round(material.density, 12),
        "I": round(material.I_eV, 9),
        "grid": [E_MIN, E_MAX, POINTS_PER_DECADE],
        "data": _data_checksum(),
    }, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


_MEMORY: dict[str, MaterialTables] = {}


def material_tables(material) -> MaterialTables:
    """Tables of ``material``: from memory, else the disk cache, else built and cached."""
    key = _cache_key(material)
    if key in _MEMORY:
        return _MEMORY[key]
    path = cache_dir() / f"tables-{key}.npz"
    tables = None
    if path.exists():
        try:
            with np.load(path) as z:
                tables = MaterialTables(material.name, **{k: z[k] for k in z.files})
        except Exception:  # corrupt or stale cache entry: rebuild
            tables = None
    if tables is None:
        tables = build_tables(material)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **tables.to_arrays())
            os.replace(tmp, path)
        except OSError:
            pass
    _MEMORY[key] = tables
    return tables
