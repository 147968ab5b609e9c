"""Packing: the user's objects (materials, phantom, source) into the plain arrays the kernels read.

Tables reach the kernels as NamedTuples of contiguous float64/int arrays, materials concatenated
with offsets, so that one cached compile serves every problem size. Nothing here runs a kernel.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..physics import _elements
from ..physics.materials import Material
from ..physics.tables import base_grid, loglog_interp, material_tables, merge_grid, E_MIN, E_MAX
from ..sources import ElectronBeam
from ..sources.phsp import PhaseSpaceSource

__all__ = ["pack_photon_tables", "pack_electron_tables", "pack_geometry", "pack_source",
           "null_electron_tables"]

_HINT_CELLS = 4096
_SF_NU = 1024
_SF_UMAX = 8.0        # sqrt(x) upper end of the S(x) table, x in 1/Angstrom; S = Z beyond
_FF_NQ = 480          # q = x^2 grid for the Rayleigh cumulative

def _edge_flags(grid):
    lower = np.zeros(grid.shape, dtype=bool)
    lower[:-1] = grid[1:] == grid[:-1]
    return lower


def _problem_grid(tables):
    """Union of the materials' grids (each edge twice), so every material is exact on it."""
    edges, nodes = [], []
    for t in tables:
        e = t.energy
        edges.extend(e[1:][e[1:] == e[:-1]].tolist())
        nodes.extend(e.tolist())
    edges = np.unique(np.array(edges, dtype=np.float64))
    nodes = np.unique(np.array(nodes, dtype=np.float64))
    return merge_grid(base_grid(), edges, nodes[(nodes > E_MIN) & (nodes < E_MAX)])


def _hint(grid):
    lmin = math.log(E_MIN)
    dlog = (math.log(E_MAX) - lmin) / _HINT_CELLS
    starts = np.exp(lmin + dlog * np.arange(_HINT_CELLS))
    hint = np.searchsorted(grid, starts, side="right") - 1
    hint = np.clip(hint, 0, len(grid) - 2).astype(np.int64)
    return hint, lmin, 1.0 / dlog


def _sf_table(material):
    """S(x)/Z of a mixture on a grid uniform in u = sqrt(x)."""
    u = np.linspace(0.0, _SF_UMAX, _SF_NU)
    x = u * u
    num = np.zeros_like(x)
    den = 0.0
    for sym, w in material.composition.items():
        z = _elements.symbol_to_z(sym)
        el = _elements.element(z)
        n = w / el.atomic_weight
        num += n * np.interp(x, el.x, el.incoherent_sf, right=float(z))
        den += n * z
    out = num / den
    out[-1] = 1.0
    return np.minimum(out, 1.0)


def _ff_tables(material, q):
    x = np.sqrt(q)
    f2 = np.zeros_like(q)
    for sym, w in material.composition.items():
        el = _elements.element(_elements.symbol_to_z(sym))
        f = np.interp(x, el.x, el.form_factor, right=0.0)
        f2 += (w / el.atomic_weight) * f * f
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (f2[1:] + f2[:-1]) * np.diff(q))])
    return cum / cum[-1]


def pack_photon_tables(materials, max_density):
    """Build the kernel's PhotonTables for ``materials``; ``max_density[m]`` bounds each material's
    voxel densities (g/cm3; 0 for a material no voxel uses)."""
    from ._kernels.types import PhotonTables

    tabs = [material_tables(m) for m in materials]
    grid = _problem_grid(tabs)
    below = _edge_flags(grid)
    nm, ne = len(materials), len(grid)

    def on_grid(attr):
        return np.array([loglog_interp(t.energy, getattr(t, attr), grid, below) for t in tabs])

    mu_rayl = on_grid("mu_rayleigh")
    mu_compt = on_grid("mu_compton")
    mu_pair = on_grid("mu_pair")
    mu_en = on_grid("mu_en")

    # photoelectric per element (cumulative within each material); the material's photo coefficient
    # is the last cumulative value, so element selection and the total agree exactly.
    atoms: list[int] = []
    el_start = [0]
    el_rows = []
    el_atom = []
    mu_photo = np.zeros((nm, ne))
    for mi, m in enumerate(materials):
        cum = np.zeros(ne)
        for sym, w in m.composition.items():
            z = _elements.symbol_to_z(sym)
            el = _elements.element(z)
            cum = cum + w * loglog_interp(el.photon_energy, el.photoelectric, grid, below)
            el_rows.append(cum.copy())
            if z not in atoms:
                atoms.append(z)
            el_atom.append(atoms.index(z))
        el_start.append(len(el_rows))
        mu_photo[mi] = cum
    mu_total = mu_photo + mu_rayl + mu_compt + mu_pair
    majorant = np.max(mu_total * np.asarray(max_density, dtype=np.float64)[:, None], axis=0)
    if np.any(majorant <= 0):
        raise InputError("the phantom has no material with positive density")

    # atomic relaxation data: shells ordered by decreasing binding energy
    sh_start = [0]
    sh_binding, sh_jump, sh_yield, ln_start, ln_energy, ln_cum = [], [], [], [0], [], []
    for z in atoms:
        el = _elements.element(z)
        order = np.argsort(-np.asarray(el.shell_binding_energy))
        for si in order:
            sh_binding.append(float(el.shell_binding_energy[si]))
            sh_jump.append(float(el.shell_jump_factor[si]))
            sh_yield.append(float(el.shell_fluor_yield[si]))
            sel = np.asarray(el.line_shell) == si
            p = np.asarray(el.line_probability, dtype=np.float64)[sel]
            e = np.asarray(el.line_energy, dtype=np.float64)[sel]
            if p.size and p.sum() > 0:
                c = np.cumsum(p) / p.sum()
                c[-1] = 1.0
                ln_energy.extend(e.tolist())
                ln_cum.extend(c.tolist())
            ln_start.append(len(ln_energy))
        sh_start.append(len(sh_binding))

    q = np.concatenate([[0.0], np.logspace(-8.0, 4.0, _FF_NQ - 1)])
    hint, lmin, inv_dlog = _hint(grid)
    f64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    i64 = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731
    return PhotonTables(
        energy=f64(grid), hint=hint, hint_log_emin=float(lmin), hint_inv_dlog=float(inv_dlog),
        mu_total=f64(mu_total), mu_photo=f64(mu_photo), mu_rayl=f64(mu_rayl), mu_compt=f64(mu_compt),
        mu_pair=f64(mu_pair), mu_en=f64(mu_en), majorant=f64(majorant),
        el_start=i64(el_start), el_photo=f64(np.array(el_rows)), el_atom=i64(el_atom),
        sh_start=i64(sh_start), sh_binding=f64(sh_binding), sh_jump=f64(sh_jump),
        sh_yield=f64(sh_yield), ln_start=i64(ln_start), ln_energy=f64(ln_energy if ln_energy else [0.0]),
        ln_cum=f64(ln_cum if ln_cum else [1.0]),
        sf=f64(np.array([_sf_table(m) for m in materials])), sf_inv_du=float((_SF_NU - 1) / _SF_UMAX),
        ff_q=f64(q), ff_cum=f64(np.array([_ff_tables(m, q) for m in materials])),
    )


def pack_geometry(phantom, electrons: bool = True):
    """The kernel's Geometry. ``mat`` and ``rho`` are views of the phantom's arrays; ``inv_mass``
    (1/(rho V), 8 bytes a voxel) is only built for the electron engine (``electrons``), photons
    compute it."""
    from ._kernels.types import Geometry

    nz, ny, nx = phantom.shape
    dx, dy, dz = phantom.voxel_size
    x0, y0, z0 = phantom.origin
    rho = np.ascontiguousarray(phantom.density.ravel(), dtype=np.float64)
    return Geometry(nx=int(nx), ny=int(ny), nz=int(nz), dx=float(dx), dy=float(dy), dz=float(dz),
                    x0=float(x0), y0=float(y0), z0=float(z0),
                    # a view of the phantom's int32 indices: a copy in one byte would cost a byte a
                    # voxel more memory, for little speed (single-material phantoms never read it
                    # in the voxel walk)
                    mat=np.ascontiguousarray(phantom.index.ravel(), dtype=np.int32),
                    rho=rho,
                    inv_mass=1.0 / (rho * phantom.voxel_volume) if electrons else np.ones(1))


def pack_source(source):
    from ._kernels.types import SourceData

    if isinstance(source, PhaseSpaceSource):
        t, e, pos, d, wgt, _new = source.arrays()
        one = np.ones(1)
        return SourceData(kind=3, position=np.zeros(3), direction=np.array([0.0, 0.0, 1.0]),
                          e_lo=one, e_hi=one.copy(), alias_prob=one.copy(),
                          alias_index=np.zeros(1, dtype=np.int64), shape=np.zeros(6),
                          ps_type=np.ascontiguousarray(t, dtype=np.int32),
                          ps_energy=np.ascontiguousarray(e, dtype=np.float64),
                          ps_pos=np.ascontiguousarray(pos, dtype=np.float64),
                          ps_dir=np.ascontiguousarray(d, dtype=np.float64),
                          ps_weight=np.ascontiguousarray(wgt, dtype=np.float64),
                          ps_recycle=int(source.recycle))
    sp = source.spectrum
    shape = (np.asarray(source.shape_parameters(), dtype=np.float64) if isinstance(source, ElectronBeam)
             else np.zeros(6))
    return SourceData(kind=int(source.kind), position=np.array(source.position, dtype=np.float64),
                      direction=np.array(source.direction, dtype=np.float64),
                      e_lo=np.ascontiguousarray(sp.e_lo), e_hi=np.ascontiguousarray(sp.e_hi),
                      alias_prob=np.ascontiguousarray(sp.alias_prob),
                      alias_index=np.ascontiguousarray(sp.alias_index, dtype=np.int64),
                      shape=np.ascontiguousarray(shape), ps_type=np.zeros(0, dtype=np.int32),
                      ps_energy=np.zeros(0), ps_pos=np.zeros((0, 3)), ps_dir=np.zeros((0, 3)),
                      ps_weight=np.zeros(0), ps_recycle=1)


_NULL_ET = None


def null_electron_tables():
    """Electron tables of the right types but no content, for photon runs without electrons."""
    global _NULL_ET
    if _NULL_ET is None:
        from ._kernels.electron_types import ElectronTables

        z3 = np.zeros((2, 1, 2))
        z2 = np.zeros((1, 2))
        _NULL_ET = ElectronTables(
            log_emin=0.0, dlog=1.0, inv_dlog=1.0, ecut=1.0, ae=1.0, ap=1.0, estepe=0.25,
            ms_strength=0.15, hard=0, brems=0, msc=0, dedx=z3, lnrange=z3.copy(), strength=z3.copy(),
            hardint=z3.copy(), sig_coll=z3.copy(), sig_brem=z2, br_f=np.zeros((1, 2, 2)),
            br_fmax=z2.copy(), ms_log_emin=0.0, ms_inv_dlog=1.0, ms_K=z2.copy(), ms_p0=z2.copy(),
            ms_q=np.zeros((1, 2, 2)))
    return _NULL_ET


_PACK_CACHE: dict = {}


def pack_electron_tables(materials, **options):
    """Electron/positron tables of ``materials`` (index order = phantom material index).

    Parameters
    ----------
    materials : sequence of iortmc.Material
    ecut : float, optional
        Transport cut-off, kinetic energy (MeV); below it a particle deposits its energy on the
        spot (a positron then annihilates at rest). Default 0.1 MeV.
    ae : float, optional
        Delta-ray production threshold, kinetic energy of the delta (MeV). Default 0.1 MeV.
    ap : float, optional
        Bremsstrahlung photon production threshold (MeV). Default 0.01 MeV.
    estepe : float, optional
        Largest fractional energy loss in one multiple-scattering step, in (0, 0.5]. Default 0.25.
    ms_strength : float, optional
        Largest strength K = int ds / lambda_1 of one multiple-scattering step, in (0, 1].
        Default 0.08.
    hard_collisions, bremsstrahlung, multiple_scattering : bool, optional
        Switch hard Moller/Bhabha collisions (off: unrestricted collision stopping power),
        hard bremsstrahlung (off: full radiative stopping power, no photons) and multiple
        scattering (off: straight tracks). All True by default.

    Returns
    -------
    ElectronTables
    """
    try:
        mats = list(materials)
    except TypeError:
        raise InputError(f"materials must be a sequence of iortmc.Material, got {materials!r}") from None
    if not mats:
        raise InputError("materials is empty; give at least one iortmc.Material")

    for m in mats:
        if not isinstance(m, Material):
            raise InputError(f"materials must hold iortmc.Material objects, got {m!r}")
    from ..physics.electron_tables import _material_block, _validate as _electron_options
    from ._kernels.electron_types import ElectronTables

    o = _electron_options(options)
    key = (tuple((m.name, m.key()) for m in mats), tuple(sorted(o.items())))
    if key in _PACK_CACHE:
        return _PACK_CACHE[key]
    E = base_grid()
    blocks = [_material_block(m, o, E) for m in mats]

    def per_particle(name):
        return np.ascontiguousarray(np.array([[b[name][c] for b in blocks] for c in (0, 1)]))

    def per_mat(name):
        return np.ascontiguousarray(np.array([b[name] for b in blocks]))

    lnE = np.log(E)
    dlog = float(lnE[1] - lnE[0])
    ms_lo, ms_inv = blocks[0]["ms_grid"]
    et = ElectronTables(
        log_emin=float(lnE[0]), dlog=dlog, inv_dlog=1.0 / dlog,
        ecut=o["ecut"], ae=o["ae"], ap=o["ap"], estepe=o["estepe"], ms_strength=o["ms_strength"],
        hard=int(o["hard_collisions"]), brems=int(o["bremsstrahlung"]),
        msc=int(o["multiple_scattering"]),
        dedx=per_particle("dedx"), lnrange=per_particle("lnrange"),
        strength=per_particle("strength"), hardint=per_particle("hardint"),
        sig_coll=per_particle("sig_coll"),
        sig_brem=per_mat("sig_brem"), br_f=per_mat("br_f"), br_fmax=per_mat("br_fmax"),
        ms_log_emin=float(ms_lo), ms_inv_dlog=float(ms_inv),
        ms_K=per_mat("ms_K"), ms_p0=per_mat("ms_p0"), ms_q=per_mat("ms_q"),
    )
    if len(_PACK_CACHE) > 8:
        _PACK_CACHE.clear()
    _PACK_CACHE[key] = et
    return et
