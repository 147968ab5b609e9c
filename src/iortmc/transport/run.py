"""simulate(): validate the problem, pack plain arrays, run the kernels in batches, build a DoseResult.

The user never sees kernel arrays; the kernels never see Python objects.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time

import numpy as np

from ..errors import InputError
from ..geometry import Phantom
from ..physics.tables import E_MIN, E_MAX
from ..sources import ElectronBeam, PencilBeam, PointSource
from ..sources.phsp import PhaseSpaceSource
from .engine import MEV_PER_G_TO_GY, _accumulate, _buffers, _energy_balance, _Kernels, _Tallies
from .packing import null_electron_tables, pack_geometry, pack_photon_tables, pack_source

__all__ = ["simulate", "resume", "MEV_PER_G_TO_GY", "DEFAULT_BATCHES", "DEFAULT_CHUNK"]

DEFAULT_BATCHES = 100
#: Batches per chunk: the Dask task unit.
DEFAULT_CHUNK = 10
KERMA_DEFAULT_BELOW_MEV = 0.2
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
    progress = options.get("progress", None)
    if not (isinstance(progress, bool) or callable(progress) or progress is None):
        raise InputError(f"progress must be True/False or a callable progress(done, total), got {progress!r}")
    meta = options.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise InputError(f"metadata must be a dict, got {type(meta).__name__}")
    from .reach import check_reach

    check_reach(phantom, source)   # a source that cannot reach the phantom: error before transport
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
        Electron transport options (see :func:`iortmc.transport.packing.pack_electron_tables`):
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
        Run the chunks as Dask tasks on the client's cluster (:mod:`iortmc.transport.distributed`).
    progress : bool, callable or None, optional
        Default (None): one updating progress bar (``tqdm.auto``: terminals and notebooks) that appears
        once a run has lasted 2 s, so short runs stay silent; ``True``: the bar from the start;
        ``False``: no output. Without tqdm (``pip install 'iortmc[plot]'``) the bar is a line on
        stderr for ``True`` and nothing for None. A callable is called as
        ``progress(histories_done, histories_total)`` after every wave (every chunk with ``client``).
        A note on stderr says when the transport kernels are being compiled (unless
        ``progress=False``).
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
        from .packing import pack_electron_tables

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
    from ..results.dose import DoseResult

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
    bar = _progress_bar(progress, histories, int(starts[done0]))

    def after(done):
        nonlocal last_ck
        if callable(progress):
            progress(int(starts[done]), histories)
        elif bar is not None:
            bar.update(int(starts[done]) - bar.n)
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
            notice = _compile_notice(progress)
            transport.run_wave(pt, et, geo, src, opt, starts, 0, 0, *_buffers(1, 0), ebal)
            t0 = _Tallies(0)
            transport.merge_wave(0, *_buffers(1, 0), t0.t1, t0.t2, 1, np.ones(1))
            if notice is not None:
                notice.cancel()
            _COMPILED = True
        compile_s = time.perf_counter() - t_compile
        t_run = time.perf_counter()
        try:
            _accumulate(k, done0, batches, tl, ebal, threads, _buffers(nslots, nvox, opt.statistics), after)
        finally:
            if bar is not None:
                bar.close()
    else:
        from . import distributed

        compile_s = 0.0
        t_run = time.perf_counter()
        try:
            distributed.run_chunks(client, k, done0, tl, ebal, threads if threads_given else None, after)
        finally:
            if bar is not None:
                bar.close()
    if progress is True and bar is None:
        print(file=sys.stderr)
    t1, t2 = tl.t1, tl.t2
    tl = None   # the totals become the result's arrays
    result = build(batches, t1, t2, time.perf_counter() - t_start, in_place=True)
    del t1, t2
    if ck is not None:
        ck.write(result, batches, ebal)
    _warn_low_deposit(result.energy_balance)
    return result


#: A run whose phantom absorbs less than this fraction of the emitted energy warns.
LOW_DEPOSIT_FRACTION = 0.01
#: The compile note appears when the kernel warm-up has taken this long (loading them from the cache
#: takes about a second).
_COMPILE_NOTICE_AFTER_S = 3.0


def _warn_low_deposit(eb) -> None:
    """Warn when under 1 % of the emitted energy stayed in the phantom (a mis-aimed source)."""
    if not eb or not eb.get("emitted"):
        return
    kept = 1.0 - eb.get("escaped", 0.0) / eb["emitted"]
    if kept < LOW_DEPOSIT_FRACTION:
        import warnings

        warnings.warn(f"only {100 * kept:.3g} % of the energy emitted by the source was deposited in the "
                      f"phantom ({100 * (1 - kept):.4g} % escaped): check the source position and direction",
                      RuntimeWarning, stacklevel=3)


def _compile_notice(progress):
    """A timer that prints the compile note if the kernel warm-up lasts (None when progress is off)."""
    if progress is False:
        return None
    import threading

    def say():
        print("iortmc: compiling the transport kernels (first run after installation or an update; "
              "about a minute, cached afterwards)", file=sys.stderr, flush=True)

    timer = threading.Timer(_COMPILE_NOTICE_AFTER_S, say)
    timer.daemon = True
    timer.start()
    return timer


def _progress_bar(progress, total, initial):
    """A tqdm.auto bar for progress None (appears after 2 s) or True (at once); None otherwise or
    without tqdm."""
    if progress is not None and progress is not True:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=int(total), initial=int(initial), unit="hist", unit_scale=True, desc="iortmc",
                delay=0.0 if progress is True else 2.0, leave=progress is True, dynamic_ncols=True)


def resume(path, *, threads=None, progress=False, client=None, checkpoint_every=None):
    """Continue the run checkpointed in ``path`` and return its finished :class:`DoseResult`.

    The phantom, source, histories, seed, batches, chunk and transport options are taken from the
    file; the result is written to ``path`` as the run goes on, exactly as by
    ``simulate(..., checkpoint=path, resume=True)``, and equals an uninterrupted run bit for bit.
    A finished checkpoint is returned as it is.

    Parameters
    ----------
    path : str or path
        A file written by ``simulate(..., checkpoint=path)``.
    threads, progress, client :
        As for :func:`iortmc.simulate` (they may differ from the interrupted run's).
    checkpoint_every : int, optional
        Batches between checkpoints (default: as in the interrupted run).

    Raises
    ------
    DataError
        If ``path`` is not a result file or holds no checkpoint.
    InputError
        If the source cannot be rebuilt from the file (see :func:`source_from_description`).
    """
    from .checkpoint import _ENGINE_META, read, source_from_description

    state = read(path)
    if state.complete:
        return state.result
    ident = state.identity
    source = source_from_description(json.loads(ident["source"]))
    opts = json.loads(ident["options"])
    kw = {k: opts[k] for k in ("scoring", "photon_cutoff", "electrons", "statistics") if k in opts}
    if opts.get("electrons"):
        kw.update({k: opts[k] for k in ("ecut", "ae", "ap", "estepe", "ms_strength", "hard_collisions",
                                        "bremsstrahlung", "multiple_scattering") if k in opts})
    meta = {k: v for k, v in state.result.metadata.items() if k not in _ENGINE_META}
    phantom = state.result.phantom
    del state
    return simulate(phantom, source, ident["histories"], ident["seed"], batches=ident["batches"],
                    chunk=ident["chunk"], checkpoint=path, resume=True, checkpoint_every=checkpoint_every,
                    threads=threads, progress=progress, client=client, metadata=meta, **kw)
