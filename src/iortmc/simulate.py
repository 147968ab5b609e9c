"""simulate(): validate the problem, pack plain arrays, run the kernels in batches, build a DoseResult.

The user never sees kernel arrays; the kernels never see Python objects.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import NamedTuple

import numpy as np

from . import _elements
from .errors import InputError
from .geometry import Phantom
from .sources import ElectronBeam, PencilBeam, PointSource
from .sources.phsp import PhaseSpaceSource
from .tables import base_grid, loglog_interp, material_tables, merge_grid, E_MIN, E_MAX

__all__ = ["simulate", "pack_photon_tables", "MEV_PER_G_TO_GY", "DEFAULT_BATCHES", "DEFAULT_CHUNK"]

#: 1 MeV/g in Gy (J/kg).
MEV_PER_G_TO_GY = 1.602176634e-10
DEFAULT_BATCHES = 100
#: Batches per chunk: the Dask task unit.
DEFAULT_CHUNK = 10
KERMA_DEFAULT_BELOW_MEV = 0.2
_HINT_CELLS = 4096
_SF_NU = 1024
_SF_UMAX = 8.0        # sqrt(x) upper end of the S(x) table, x in 1/Angstrom; S = Z beyond
_FF_NQ = 480          # q = x^2 grid for the Rayleigh cumulative
_ELECTRON_OPTIONS = {"ecut", "ae", "ap", "estepe", "ms_strength", "hard_collisions", "bremsstrahlung",
                     "multiple_scattering"}
_KNOWN_OPTIONS = {"threads", "batches", "scoring", "photon_cutoff", "progress", "metadata",
                  "electrons", "statistics", "primary", "primary_rays", "roulette_radius",
                  "roulette_survival"} | _ELECTRON_OPTIONS
#: Rays of the ray-traced primary per history (``primary="traced"``).
DEFAULT_PRIMARY_RAYS = 1.0
#: Survival probability per shell of the far-field Russian roulette (``roulette_radius``).
DEFAULT_ROULETTE_SURVIVAL = 0.5
# how a run is executed (chunking, checkpoints, Dask): validated by _run_options
_RUN_OPTIONS = {"chunk", "checkpoint", "checkpoint_every", "resume", "client"}
_KNOWN_OPTIONS = _KNOWN_OPTIONS | _RUN_OPTIONS


# ---------------------------------------------------------------------------- table packing
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


def pack_geometry(phantom: Phantom, electrons: bool = True):
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


# ---------------------------------------------------------------------------- validation
def _check_int(name, value, minimum, maximum=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InputError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        rng = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise InputError(f"{name} must be {rng}, got {value}")
    return value


def _max_threads():
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def _validate(phantom, source, histories, seed, options):
    unknown = set(options) - _KNOWN_OPTIONS
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(sorted(unknown))}; known options: "
                         f"{', '.join(sorted(_KNOWN_OPTIONS))}")
    if not isinstance(phantom, Phantom):
        raise InputError(f"phantom must be an iortmc.Phantom, got {type(phantom).__name__}")
    if not isinstance(source, (PointSource, PencilBeam, ElectronBeam, PhaseSpaceSource)):
        raise InputError("source must be an iortmc source (PointSource, PencilBeam, ElectronBeam, "
                         f"PhaseSpaceSource), got {type(source).__name__}")
    histories = _check_int("histories", histories, 1, 2**62)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    threads = options.get("threads")
    maxt = _max_threads()
    threads = maxt if threads is None else _check_int("threads", threads, 1, maxt)
    batches = _check_int("batches", options.get("batches", DEFAULT_BATCHES), 1)
    batches = min(batches, histories)
    # the kernels number histories within a batch in float32 (exact below 2**24)
    batches = max(batches, -(-histories // 2**24))
    electron_source = isinstance(source, ElectronBeam) or (isinstance(source, PhaseSpaceSource)
                                                            and source.has_charged)
    max_energy = source.max_energy if isinstance(source, PhaseSpaceSource) else source.spectrum.max_energy
    scoring = options.get("scoring")
    if scoring is None:
        low_kv = not electron_source and max_energy < KERMA_DEFAULT_BELOW_MEV
        scoring = "kerma" if low_kv else "analog"
    if scoring not in ("kerma", "analog"):
        raise InputError(f"scoring must be 'kerma' or 'analog', got {scoring!r}")
    electrons = options.get("electrons")
    if electrons is None:
        electrons = electron_source or (scoring == "analog" and max_energy >= KERMA_DEFAULT_BELOW_MEV)
    if not isinstance(electrons, (bool, np.bool_)):
        raise InputError(f"electrons must be True or False, got {electrons!r}")
    if electron_source and not electrons:
        raise InputError(f"a source of electrons or positrons ({type(source).__name__}) needs electron "
                         "transport; electrons=False is only for photon sources")
    if electrons and scoring == "kerma":
        raise InputError("scoring='kerma' assumes charged particles deposit on the spot; use "
                         "scoring='analog' with electrons=True, or electrons=False")
    statistics = options.get("statistics")
    if statistics is None:
        statistics = "batch" if scoring == "kerma" and batches >= 10 else "history"
    if statistics not in ("history", "batch"):
        raise InputError(f"statistics must be 'history' or 'batch', got {statistics!r}")
    if statistics == "batch" and batches < 2:
        raise InputError(f"statistics='batch' needs at least 2 batches, got batches={batches}")
    eopts = {k: options[k] for k in _ELECTRON_OPTIONS if k in options}
    if eopts and not electrons:
        raise InputError(f"electron option(s) {sorted(eopts)} given but electron transport is off")
    cutoff = options.get("photon_cutoff", E_MIN)
    try:
        cutoff = float(cutoff)
    except (TypeError, ValueError):
        raise InputError(f"photon_cutoff must be a number in MeV, got {cutoff!r}") from None
    if not math.isfinite(cutoff) or cutoff < E_MIN or cutoff >= E_MAX:
        raise InputError(f"photon_cutoff must be between {E_MIN} and {E_MAX} MeV, got {cutoff}")
    # phantom arrays are validated by Phantom; re-check what users may have edited in place
    if phantom.density.shape != phantom.index.shape:
        raise InputError(f"phantom density shape {phantom.density.shape} differs from index shape {phantom.index.shape}")
    Phantom._check_density(phantom.density)
    if phantom.index.min() < 0 or phantom.index.max() >= len(phantom.materials):
        raise InputError("phantom index refers to a material that does not exist")
    progress = options.get("progress", False)
    if not (isinstance(progress, bool) or callable(progress) or progress is None):
        raise InputError(f"progress must be True/False or a callable progress(done, total), got {progress!r}")
    meta = options.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise InputError(f"metadata must be a dict, got {type(meta).__name__}")
    return histories, seed, threads, batches, scoring, cutoff, progress, bool(electrons), eopts, statistics


def _electron_option_values(et):
    return {"ecut": et.ecut, "ae": et.ae, "ap": et.ap, "estepe": et.estepe,
            "ms_strength": et.ms_strength, "hard_collisions": bool(et.hard),
            "bremsstrahlung": bool(et.brems), "multiple_scattering": bool(et.msc)}


def _primary_option(options, source, scoring, statistics, electrons):
    """Validate ``primary`` and ``primary_rays``; returns ("sampled" | "traced", rays per history)."""
    primary = options.get("primary")
    primary = "sampled" if primary is None else primary
    if primary not in ("sampled", "traced"):
        raise InputError(f"primary must be 'sampled' or 'traced', got {primary!r}")
    rays = options.get("primary_rays")
    if rays is not None and primary != "traced":
        raise InputError("primary_rays is the number of rays per history of primary='traced'; "
                         f"primary is {primary!r}")
    rays = DEFAULT_PRIMARY_RAYS if rays is None else rays
    try:
        rays = float(rays)
    except (TypeError, ValueError):
        raise InputError(f"primary_rays must be a positive number (rays per history), got {rays!r}") from None
    if not math.isfinite(rays) or rays <= 0.0 or rays > 1.0e3:
        raise InputError(f"primary_rays must be > 0 and <= 1000 (rays per history), got {rays}")
    if primary == "traced":
        if type(source) not in (PointSource, PencilBeam):
            raise InputError("primary='traced' needs a photon PointSource or PencilBeam, got "
                             f"{type(source).__name__}")
        if scoring != "kerma" or electrons:
            raise InputError("primary='traced' computes the primary collision kerma: it needs "
                             f"scoring='kerma' (and electrons=False), got scoring={scoring!r}")
        if statistics != "batch":
            raise InputError("primary='traced' needs statistics='batch' (the ray-traced primary is "
                             f"a sum per batch, not per history), got statistics={statistics!r}")
    return primary, rays


def _roulette_option(options, source, scoring, electrons):
    """Validate ``roulette_radius`` and ``roulette_survival``; returns (radius cm or 0, survival)."""
    radius = options.get("roulette_radius")
    surv = options.get("roulette_survival")
    if radius is None:
        if surv is not None:
            raise InputError("roulette_survival needs roulette_radius (cm), the width of the shells")
        return 0.0, 1.0
    try:
        radius = float(radius)
    except (TypeError, ValueError):
        raise InputError(f"roulette_radius must be a distance in cm, got {radius!r}") from None
    if not math.isfinite(radius) or radius <= 0.0:
        raise InputError(f"roulette_radius must be > 0 cm, got {radius}")
    surv = DEFAULT_ROULETTE_SURVIVAL if surv is None else surv
    try:
        surv = float(surv)
    except (TypeError, ValueError):
        raise InputError(f"roulette_survival must be a probability, got {surv!r}") from None
    if not (0.01 <= surv <= 1.0):
        raise InputError(f"roulette_survival must be between 0.01 and 1, got {surv}")
    if type(source) not in (PointSource, PencilBeam):
        raise InputError("roulette_radius needs a photon PointSource or PencilBeam (the shells are "
                         f"centred on it), got {type(source).__name__}")
    if scoring != "kerma" or electrons:
        raise InputError("roulette_radius is for scoring='kerma' without electron transport, got "
                         f"scoring={scoring!r}, electrons={electrons}")
    return radius, surv


# ---------------------------------------------------------------------------- driver
_COMPILED = False


class _Kernels(NamedTuple):
    """Everything the kernels need for a run, as plain arrays: what a Dask task receives."""

    pt: object             # PhotonTables
    et: object             # ElectronTables
    geo: object            # Geometry
    src: object            # SourceData
    opt: object            # Options
    starts: np.ndarray     # int64[batches + 1]: first history of each batch
    batches: int
    chunk: int             # batches per chunk (the second level of the reduction)
    nvox: int


def _run_options(options):
    """Remove and validate the options that say how a run is executed, not what it computes."""
    chunk = options.pop("chunk", None)
    chunk = DEFAULT_CHUNK if chunk is None else _check_int("chunk", chunk, 1)
    path = options.pop("checkpoint", None)
    if path is not None:
        try:
            path = os.fspath(path)
        except TypeError:
            raise InputError(f"checkpoint must be a file path (str or os.PathLike), got {path!r}") from None
    every = options.pop("checkpoint_every", None)
    if every is not None:
        if path is None:
            raise InputError("checkpoint_every needs checkpoint=PATH, the file to write the checkpoints to")
        every = _check_int("checkpoint_every", every, 1)
    resume = options.pop("resume", False)
    if not isinstance(resume, (bool, np.bool_)):
        raise InputError(f"resume must be True or False, got {resume!r}")
    if resume and path is None:
        raise InputError("resume=True needs checkpoint=PATH, the checkpoint file to continue")
    client = options.pop("client", None)
    if client is not None and not (hasattr(client, "submit") and hasattr(client, "scatter")):
        raise InputError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
    return chunk, path, every, bool(resume), client


def _buffers(nslots, nvox, statistics=0):
    """Per-slot tally records, block flags and counters, cleared. ``statistics`` is
    ``Options.statistics``: history statistics keep (acc, s1, s2, last) per voxel (float32
    [slot, voxel, 4]), batch statistics only the batch sum ([slot, voxel, 1]); the flags are one
    byte per block of voxels (:mod:`._kernels.tally`)."""
    from ._kernels import transport
    from ._kernels.tally import n_blocks

    if statistics == 1:
        # zero-filled by the allocator: pages the run never scores in cost no memory
        rec = np.zeros((nslots, nvox, 1), dtype=np.float32)
    else:
        rec = np.empty((nslots, nvox, 4), dtype=np.float32)
        transport.init_records(rec)
    bl = np.zeros((nslots, n_blocks(nvox)), dtype=np.uint8)
    cnt = np.zeros((nslots, 4), dtype=np.int64)
    return rec, bl, cnt


class _Tallies:
    """The float64 totals of a run: ``t1`` (sum of the batch sums T_b, or of the per-history values)
    and ``t2`` (sum of T_b^2 / n_b, or of the squares), MeV/g, each voxel's sums taken in batch
    order (:func:`._kernels.tally.merge_wave`). At the end they become the result's arrays in place."""

    def __init__(self, nvox):
        self.t1 = np.zeros(nvox)
        self.t2 = np.zeros(nvox)

    def set_total(self, total):
        self.t1[:] = total[:, 0]
        self.t2[:] = total[:, 1]

    def add_partial(self, index, rows):
        """A chunk sum stored by an older checkpoint layout (a run resumed mid-chunk)."""
        self.t1[index] += rows[:, 0]
        self.t2[index] += rows[:, 1]

    def total(self):
        """float64 [voxel, 2] copy (checkpoints)."""
        return np.stack([self.t1, self.t2], axis=1)


def _accumulate(k, first, last, tl, ebal, nparts, buffers, after_wave=None):
    """Run batches ``first``..``last - 1`` into the totals ``tl`` (:class:`_Tallies`).

    Waves of ``len(rec)`` batches run in parallel; their float32 batch sums are added in batch order
    into the float64 totals, so that the bits of the totals depend only on the seed and the batches:
    not on the threads, nor on where a run was checkpointed and resumed. ``ebal[b]`` receives batch
    b's energy-balance row; ``after_wave(batches_done)`` is called after every wave.
    """
    from ._kernels import transport

    rec, bl, cnt = buffers
    nslots = rec.shape[0]
    b0 = first
    while b0 < last:
        nb = min(nslots, last - b0)
        transport.run_wave(k.pt, k.et, k.geo, k.src, k.opt, k.starts, b0, nb, rec, bl, cnt, ebal)
        inv_n = 1.0 / np.diff(k.starts[b0:b0 + nb + 1]).astype(np.float64)
        transport.merge_wave(nb, rec, bl, cnt, tl.t1, tl.t2, nparts, inv_n)
        b0 += nb
        if after_wave is not None:
            after_wave(b0)


def _energy_balance(ebal_rows, scored):
    e = np.zeros(ebal_rows.shape[1])
    for row in ebal_rows:  # fixed (batch) order: bitwise reproducible
        e += row
    return {
        "emitted": float(e[0]),
        "deposited": float(e[1]),
        "escaped": float(e[2]),
        "below_cutoff": float(e[3]),
        "scored": float(scored),
        "interactions": float(e[4]),
        "fictitious": float(e[5]),
        "transmitted_unscattered": float(e[6]),
        "transmitted_unscattered_energy": float(e[7]),
    }


def simulate(phantom, source, histories, seed=1, **options):
    """Transport ``histories`` source particles through ``phantom`` and score dose.

    Parameters
    ----------
    phantom : Phantom
    source : PointSource, PencilBeam, ElectronBeam or PhaseSpaceSource
        For a phase space, one history starts one record (see
        :attr:`iortmc.sources.phsp.PhaseSpaceSource.primaries_per_history` for dose per primary).
    histories : int
        Number of source particles (> 0).
    seed : int
        Random seed (0 <= seed < 2**63). Same seed, same answer, for any ``threads``.
    threads : int, optional
        Worker threads (default: all numba threads). With ``client``: numba threads per Dask task
        (default: the worker's number of Dask threads).
    batches : int, optional
        Number of batches (default 100, at most ``histories``); the unit of parallel work.
    chunk : int, optional
        Batches per chunk (default 10): the unit of a Dask task. The batches' tallies are added in
        batch order, so the result is bitwise identical for any ``threads``, with or without
        ``client`` and after a resume, for the same ``seed`` and ``batches``.
    scoring : {"kerma", "analog"}, optional
        ``kerma``: collision-kerma track-length estimator (default for photon sources whose maximum
        energy is below 200 keV, where secondary electrons travel < 0.3 mm); ``analog``: energy
        deposited at interaction sites (charged particles deposit on the spot in this version).
    photon_cutoff : float, optional
        Photons below this energy (MeV, default 1 keV) deposit their energy on the spot.
    electrons : bool, optional
        Transport the electrons and positrons that photons set in motion (class II condensed
        history, docs/electron-physics.md). Default: on for electron sources and for photon
        sources reaching 200 keV or more with analog scoring; off (kerma approximation) otherwise.
    ecut, ae, ap, estepe, ms_strength, hard_collisions, bremsstrahlung, multiple_scattering
        Electron transport options (see :func:`iortmc.electron_tables.pack_electron_tables`):
        cut-off (MeV kinetic, default 0.1), delta-ray and bremsstrahlung production thresholds
        (0.1 and 0.01 MeV), step limits (0.25 fractional energy loss, 0.15 scattering strength), and
        switches for hard collisions, hard bremsstrahlung and multiple scattering.
    statistics : {"history", "batch"}, optional
        Uncertainty estimator. ``history``: history by history (Walters et al. 2002); ``batch``: from
        the spread of the batch sums (no per-history bookkeeping in the voxel walk, about twice as
        fast for kerma scoring; needs >= 2 batches, 100 by default). Default: ``batch`` for kerma
        scoring, ``history`` otherwise. The dose itself is the same either way.
    primary : {"sampled", "traced"}, optional
        ``traced``: the collision kerma of the unscattered photons of a photon ``PointSource`` or
        ``PencilBeam`` is computed by ray tracing through the phantom (exact along each ray,
        randomised quadrature over directions and energies, unbiased), and Monte Carlo samples
        only what follows a primary's first interaction; needs kerma scoring and batch statistics
        (docs/photon-physics.md). Default ``sampled``.
    primary_rays : float, optional
        Rays per history of ``primary="traced"`` (default 1).
    roulette_radius, roulette_survival : float, optional
        Far-field Russian roulette (kerma scoring, photon point source or pencil beam): photons
        interacting in the k-th shell of width ``roulette_radius`` cm around the source survive to
        the weight ``roulette_survival**-k`` (default survival 0.5). Unbiased; fewer, heavier
        photons far from the source. Off by default.
    checkpoint : str or path, optional
        Result file that the run keeps up to date: every ``checkpoint_every`` batches it is
        replaced atomically by a checkpoint (an iortmc result of the histories done so far plus the
        exact running sums), and at the end by the finished result (docs/distributed.md).
    checkpoint_every : int, optional
        Batches between checkpoints (default: ``chunk``; with ``client``, checkpoints fall on chunk
        ends). A run killed at any moment loses at most this many batches.
    resume : bool, optional
        Continue the run in ``checkpoint`` (the same problem, seed, histories, batches and chunk;
        anything else is refused with an :class:`InputError` that names the difference). The result
        equals that of an uninterrupted run bit for bit. A finished checkpoint is returned as it is;
        a missing file starts the run from the beginning. :func:`iortmc.resume` rebuilds the problem
        from the file.
    client : dask.distributed.Client, optional
        Run the chunks as Dask tasks on the client's cluster (:mod:`iortmc.distributed`).
    progress : bool or callable, optional
        ``True`` prints a progress line per wave to stderr; a callable is called as
        ``progress(histories_done, histories_total)`` after every wave (every chunk with ``client``).
    metadata : dict, optional
        Extra JSON-serialisable information stored with the result (e.g. a case title).

    Returns
    -------
    DoseResult
        Dose in Gy per history, [z, y, x], with history-by-history uncertainties.
    """
    global _COMPILED
    chunk, ckpt_path, ckpt_every, resume, client = _run_options(options)
    threads_given = options.get("threads") is not None
    histories, seed, threads, batches, scoring, cutoff, progress, electrons, eopts, statistics = _validate(
        phantom, source, histories, seed, options)
    chunk = min(chunk, batches)
    if electrons:  # validates the electron options too, before any kernel runs
        from .electron_tables import pack_electron_tables

        et = pack_electron_tables(phantom.materials, **eopts)
    else:
        et = null_electron_tables()
    primary, primary_rays = _primary_option(options, source, scoring, statistics, electrons)
    rr_radius, rr_survival = _roulette_option(options, source, scoring, electrons)
    t_start = time.perf_counter()
    cpu_start = time.process_time()

    import numba

    from ._kernels import transport
    from ._kernels.types import Options
    from .result import DoseResult

    from ._kernels.tally import finish_totals, max_density, scored_energy

    geo = pack_geometry(phantom, electrons)
    nm = len(phantom.materials)
    pt = pack_photon_tables(phantom.materials, max_density(geo.mat, geo.rho, nm))
    src = pack_source(source)
    opt = Options(seed=int(seed), scoring=0 if scoring == "kerma" else 1, photon_cutoff=float(cutoff),
                  electrons=int(electrons), statistics=1 if statistics == "batch" else 0,
                  primary=1 if primary == "traced" else 0, primary_rays=float(primary_rays),
                  rr_radius=rr_radius, rr_survival=rr_survival,
                  rr_x=float(src.position[0]), rr_y=float(src.position[1]), rr_z=float(src.position[2]))

    nvox = phantom.index.size
    starts = np.array([(b * histories) // batches for b in range(batches + 1)], dtype=np.int64)
    k = _Kernels(pt=pt, et=et, geo=geo, src=src, opt=opt, starts=starts, batches=batches, chunk=chunk,
                 nvox=nvox)
    opts = {"scoring": scoring, "photon_cutoff": cutoff,
            "threads": (threads if threads_given else None) if client is not None else threads,
            "batches": batches, "chunk": chunk, "electrons": electrons, "statistics": statistics,
            "transport": ("coupled photon-electron (class II condensed history)" if electrons
                          else "photon (charged particles deposit locally)")}
    if electrons:
        opts.update({key: (bool(v) if isinstance(v, (bool, np.bool_)) else float(v))
                     for key, v in _electron_option_values(et).items()})
    if primary == "traced":
        opts.update(primary=primary, primary_rays=float(primary_rays))
    if rr_radius > 0.0:
        opts.update(roulette_radius=rr_radius, roulette_survival=rr_survival)
    volume = float(geo.dx * geo.dy * geo.dz)
    tl = _Tallies(nvox)
    ebal = np.zeros((batches, transport.NEBAL))
    user_meta = dict(options.get("metadata") or {})
    if isinstance(source, PhaseSpaceSource):
        user_meta.setdefault("primaries_per_history", source.primaries_per_history)

    done0 = 0
    ck = None
    if ckpt_path is not None:
        from . import checkpoint

        ident = checkpoint.identity(source, k, histories=histories, seed=seed, options=opts)
        ck = checkpoint.Checkpointer(ckpt_path, ident, phantom, every=ckpt_every or chunk)
        state = ck.start(resume, every_given=ckpt_every is not None)
        if state is not None:
            if state.complete:
                return state.result
            done0 = state.batches_done
            tl.set_total(state.total)
            if state.partial is not None:
                tl.add_partial(*state.partial)
            ebal[:done0] = state.energy_balance
            del state

    shape = phantom.shape
    t_run = None

    def build(done, t1, t2, wall_s, in_place=False):
        """The DoseResult of batches 0..done-1 with totals ``t1``, ``t2`` (MeV/g); ``in_place``: they
        become the result's arrays (no copy: the end of the run)."""
        run_s = time.perf_counter() - t_run
        n = int(starts[done])
        scored = scored_energy(t1, geo.rho, volume)
        if not in_place:
            t1, t2 = t1.copy(), t2.copy()
        finish_totals(t1, t2, n, done, statistics == "batch", MEV_PER_G_TO_GY)
        dose_sum, dose_sum2 = t1.reshape(shape), t2.reshape(shape)
        meta = dict(user_meta)
        meta.update(transport_s=run_s,
                    histories_per_s=(n - int(starts[done0])) / run_s if run_s > 0 else 0.0)
        if done0:
            meta["resumed_at_batch"] = done0
        if client is not None:
            meta["dask_workers"] = len(client.scheduler_info().get("workers", {}))
        timing = {"wall_s": wall_s, "cpu_s": time.process_time() - cpu_start, "compile_s": compile_s}
        return DoseResult(dose_sum, dose_sum2, n, phantom, source=source.describe(), options=opts,
                          energy_balance=_energy_balance(ebal[:done], scored), seed=seed, batches=done,
                          timing=timing, metadata=meta)

    last_ck = done0

    def after(done):
        nonlocal last_ck
        if callable(progress):
            progress(int(starts[done]), histories)
        elif progress:
            print(f"\riortmc: {int(starts[done])}/{histories} histories", end="", file=sys.stderr)
        if ck is not None and done < batches and done - last_ck >= ck.every:
            ck.write(build(done, tl.t1, tl.t2, time.perf_counter() - t_start), done, ebal[:done],
                     total=tl.total())
            last_ck = done

    t_compile = time.perf_counter()
    if client is None:
        numba.set_num_threads(threads)
        nslots = min(threads, batches)
        if not _COMPILED:
            transport.run_wave(pt, et, geo, src, opt, starts, 0, 0, *_buffers(1, 0), ebal)
            t0 = _Tallies(0)
            transport.merge_wave(0, *_buffers(1, 0), t0.t1, t0.t2, 1, np.ones(1))
            _COMPILED = True
        compile_s = time.perf_counter() - t_compile
        t_run = time.perf_counter()
        _accumulate(k, done0, batches, tl, ebal, threads, _buffers(nslots, nvox, opt.statistics), after)
    else:
        from . import distributed

        compile_s = 0.0
        t_run = time.perf_counter()
        distributed.run_chunks(client, k, done0, tl, ebal, threads if threads_given else None, after)
    if progress is True:
        print(file=sys.stderr)
    t1, t2 = tl.t1, tl.t2
    del tl
    result = build(batches, t1, t2, time.perf_counter() - t_start, in_place=True)
    del t1, t2
    if ck is not None:
        ck.write(result, batches, ebal)
    return result
