"""Checkpoint and resume: long runs keep their result file up to date and continue after a crash.

``simulate(..., checkpoint="run.h5", checkpoint_every=K)`` replaces ``run.h5`` atomically (temporary
file, fsync, :func:`os.replace`) every K batches with a *checkpoint*: a normal iortmc result file
of the histories done so far (``iortmc.load`` reads it) plus a ``/checkpoint`` group holding what a
bitwise-exact continuation needs: the float64 running sums (the total over finished chunks and the
sum of the current chunk), the energy-balance row of every finished batch, and the identity of the
run (histories, seed, batches, chunk, transport options, source description and digests of the
packed source and physics tables). At the end the file is replaced by the finished result, whose
``/checkpoint`` group keeps the identity and the energy-balance rows but no running sums.

``simulate(..., checkpoint="run.h5", resume=True)`` (or :func:`iortmc.resume`, which rebuilds the problem
from the file) continues from the last checkpoint. Because the batches' tallies are added in batch
order into exact float64 running sums (:func:`iortmc.transport.engine._accumulate`), the resumed result
equals an uninterrupted run with the same seed and batches bit for bit.
A checkpoint of another problem is refused with an :class:`~iortmc.errors.InputError` that names
what differs. The file format is in ``docs/hdf5-format.md``; the guarantees in
``docs/distributed.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, InputError

__all__ = ["Checkpointer", "identity", "source_from_description", "CHECKPOINT_VERSION"]

#: Version of the ``/checkpoint`` group layout (``/checkpoint@version``).
CHECKPOINT_VERSION = 1
#: Columns of ``/checkpoint/energy_balance`` (the kernels' per-batch energy-balance record).
EBAL_COLUMNS = ("emitted", "deposited", "escaped", "below_cutoff", "interactions", "fictitious",
                "transmitted_unscattered", "transmitted_unscattered_energy")
# options that describe how a run was executed, not what it computes: not compared on resume
_EXECUTION = ("threads", "batches", "chunk")
# metadata entries the engine writes itself (not carried over by resume())
_ENGINE_META = ("transport_s", "histories_per_s", "resumed_at_batch", "dask_workers")


# ---------------------------------------------------------------------------------------- identity
def _update_digest(h, obj) -> None:
    if isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj)
        h.update(f"array {a.dtype.str} {a.shape}".encode())
        h.update(a.tobytes())
    elif isinstance(obj, tuple):  # NamedTuples of the kernels, plain tuples
        h.update(f"{type(obj).__name__}({len(obj)})".encode())
        for field in obj:
            _update_digest(h, field)
    else:
        h.update(f"{type(obj).__name__} {obj!r}".encode())


def _digest(obj) -> str:
    h = hashlib.sha256()
    _update_digest(h, obj)
    return h.hexdigest()


def _dump(value) -> str:
    return json.dumps(value, sort_keys=True, allow_nan=True)


def identity(source, kernels, *, histories: int, seed: int, options: dict) -> dict:
    """What makes a run the same run: compared when a checkpoint is resumed.

    ``kernels`` is the packed problem (:class:`iortmc.transport.engine._Kernels`); the phantom is compared
    separately, array by array, with the one stored in the file.
    """
    from ..results.dose import _jsonable

    problem_options = {k: v for k, v in options.items() if k not in _EXECUTION}
    return {
        "histories": int(histories),
        "seed": int(seed),
        "batches": int(kernels.batches),
        "chunk": int(kernels.chunk),
        "options": _dump(_jsonable(problem_options, "options")),
        "source": _dump(_jsonable(source.describe(), "source")),
        "source_sha256": _digest(kernels.src),
        "physics_sha256": _digest((kernels.pt, kernels.et, kernels.opt)),
    }


# ---------------------------------------------------------------------------------------- reading
@dataclass
class CheckpointState:
    """A checkpoint read from a file."""

    path: str
    identity: dict
    complete: bool
    batches_done: int
    every: int
    result: object                 # DoseResult of the histories done
    energy_balance: np.ndarray     # float64[batches_done, 8]
    total: np.ndarray | None       # float64[nvox, 2]: sum over finished chunks (None when complete)
    partial: tuple | None          # (voxels int64[n], float64[n, 2]): the current chunk's sum where
                                   # not zero; None when complete or at a chunk boundary


def _str(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def read(path) -> CheckpointState:
    """Read the checkpoint in ``path`` (a result file with a ``/checkpoint`` group).

    Raises
    ------
    DataError
        If the file is not an iortmc result (see :func:`iortmc.load`) or holds no checkpoint.
    """
    import h5py

    from ..results.dose import load

    path = os.fspath(path)
    result = load(path)  # checks file type, version and every result field
    try:
        with h5py.File(path, "r") as f:
            if "checkpoint" not in f:
                raise DataError(f"{path!r} is an iortmc result without checkpoint data (it was not written "
                                f"by a run with checkpoint=...): there is nothing to resume")
            g = f["checkpoint"]
            a = g.attrs
            version = int(a["version"])
            if version > CHECKPOINT_VERSION:
                raise DataError(f"{path!r}: checkpoint layout version {version} is newer than this iortmc "
                                f"reads ({CHECKPOINT_VERSION}); upgrade iortmc")
            ident = {"histories": int(a["histories"]), "seed": int(a["seed"]), "batches": int(a["batches"]),
                     "chunk": int(a["chunk"]), "options": _str(a["options"]), "source": _str(a["source"]),
                     "source_sha256": _str(a["source_sha256"]),
                     "physics_sha256": _str(a["physics_sha256"])}
            complete = bool(a["complete"])
            done = int(a["batches_done"])
            ebal = np.asarray(g["energy_balance"][()], dtype=np.float64).reshape(done, len(EBAL_COLUMNS))
            total = partial = None
            if not complete:
                total = np.empty((result.dose_sum.size, 2))
                total[:, 0] = g["total_sum"][()].ravel()
                total[:, 1] = g["total_sum2"][()].ravel()
                c1 = g["chunk_sum"][()].ravel()
                c2 = g["chunk_sum2"][()].ravel()
                index = np.flatnonzero((c1 != 0.0) | (c2 != 0.0))
                if index.size:
                    partial = (index.astype(np.int64), np.stack([c1[index], c2[index]], axis=1))
            every = int(a["checkpoint_every"])
    except DataError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise DataError(f"{path!r}: the checkpoint data is incomplete or damaged ({type(exc).__name__}: "
                        f"{exc})") from exc
    return CheckpointState(path=path, identity=ident, complete=complete, batches_done=done, every=every,
                           result=result, energy_balance=ebal, total=total, partial=partial)


def _peek(path) -> tuple[bool, int, int] | None:
    """(complete, batches_done, batches) of the checkpoint in ``path``, or None if it holds none."""
    import h5py

    try:
        if not h5py.is_hdf5(path):
            return None
        with h5py.File(path, "r") as f:
            if "checkpoint" not in f:
                return None
            a = f["checkpoint"].attrs
            return bool(a["complete"]), int(a["batches_done"]), int(a["batches"])
    except (OSError, KeyError, ValueError):
        return None


def refuse_unfinished(path) -> None:
    """Raise :class:`InputError` if ``path`` holds an unfinished checkpoint (that writing a new
    result over it would throw away)."""
    info = _peek(os.fspath(path)) if os.path.exists(path) else None
    if info is not None and not info[0]:
        raise InputError(f"{os.fspath(path)!r} holds an unfinished checkpoint ({info[1]} of {info[2]} "
                         f"batches done); pass resume=True (iortmc run --resume) to continue it, or remove "
                         f"the file to start again")


def _compare_phantom(path, stored, phantom) -> None:
    what = f"the checkpoint {path!r} is of another phantom"
    if tuple(stored.shape) != tuple(phantom.shape):
        raise InputError(f"{what}: grid shape {tuple(stored.shape)} there, {tuple(phantom.shape)} requested "
                         f"[z, y, x]")
    for name in ("voxel_size", "origin"):
        a = tuple(float(v) for v in getattr(stored, name))
        b = tuple(float(v) for v in getattr(phantom, name))
        if a != b:
            raise InputError(f"{what}: {name} {a} cm there, {b} cm requested")
    ma = [_dump(m.to_dict()) for m in stored.materials]
    mb = [_dump(m.to_dict()) for m in phantom.materials]
    if ma != mb:
        raise InputError(f"{what}: materials {[m.name for m in stored.materials]} there, "
                         f"{[m.name for m in phantom.materials]} requested (names, compositions, densities "
                         f"or I-values differ)")
    if not np.array_equal(np.asarray(stored.index), np.asarray(phantom.index)):
        n = int(np.sum(np.asarray(stored.index) != np.asarray(phantom.index)))
        raise InputError(f"{what}: the material index differs in {n} voxels")
    if not np.array_equal(stored.density, phantom.density):
        n = int(np.sum(stored.density != phantom.density))
        raise InputError(f"{what}: the density differs in {n} voxels")


def verify(state: CheckpointState, ident: dict, phantom) -> None:
    """Raise :class:`InputError` unless ``state`` is a checkpoint of the run ``ident`` on ``phantom``."""
    path = state.path
    got = state.identity
    for key in ("histories", "seed", "batches", "chunk"):
        if got[key] != ident[key]:
            raise InputError(f"the checkpoint {path!r} is of another run: {key} = {got[key]} there, "
                             f"{ident[key]} requested")
    if got["options"] != ident["options"]:
        a, b = json.loads(got["options"]), json.loads(ident["options"])
        keys = sorted(k for k in set(a) | set(b) if a.get(k, "<absent>") != b.get(k, "<absent>"))
        diffs = ", ".join(f"{k}: {a.get(k, '<absent>')!r} there, {b.get(k, '<absent>')!r} requested"
                          for k in keys)
        raise InputError(f"the checkpoint {path!r} is of another run: transport options differ ({diffs})")
    if got["source"] != ident["source"]:
        a, b = json.loads(got["source"]), json.loads(ident["source"])
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        raise InputError(f"the checkpoint {path!r} is of another source: {', '.join(keys)} differ "
                         f"({a.get('type')} there, {b.get('type')} requested)")
    if got["source_sha256"] != ident["source_sha256"]:
        raise InputError(f"the checkpoint {path!r}: the source's sampling data (energy tables, alias "
                         f"tables, geometry) differ bit for bit from those of the checkpointed run although "
                         f"the descriptions agree; resume with the original source object")
    _compare_phantom(path, state.result.phantom, phantom)
    if got["physics_sha256"] != ident["physics_sha256"]:
        from ..results.dose import _version

        raise InputError(f"the checkpoint {path!r}: the interaction data or transport tables differ from "
                         f"those of the checkpointed run (this is iortmc {_version()}; check the version "
                         f"that wrote the file with 'iortmc info'); a resumed run would not continue the "
                         f"same calculation")


# ---------------------------------------------------------------------------------------- writing
def _write_group(f, ident, every, done, ebal_rows, total, chunk_sum, shape) -> None:
    g = f.create_group("checkpoint")
    a = g.attrs
    a["version"] = np.int64(CHECKPOINT_VERSION)
    a["complete"] = total is None
    a["batches_done"] = np.int64(done)
    a["batches"] = np.int64(ident["batches"])
    a["chunk"] = np.int64(ident["chunk"])
    a["histories"] = np.int64(ident["histories"])
    a["seed"] = np.uint64(ident["seed"])
    a["checkpoint_every"] = np.int64(every)
    for key in ("options", "source", "source_sha256", "physics_sha256"):
        a[key] = ident[key]
    ds = g.create_dataset("energy_balance", data=np.asarray(ebal_rows, dtype=np.float64))
    ds.attrs["units"] = "MeV or count (see columns)"
    ds.attrs["description"] = "energy-balance record of each finished batch, in batch order"
    ds.attrs["columns"] = ",".join(EBAL_COLUMNS)
    if total is None:
        return
    kw = dict(chunks=True, compression="gzip", compression_opts=1, shuffle=True)
    partial = np.zeros((1, 2)) if chunk_sum is None else chunk_sum
    for name, arr, col, units, text in (
            ("total_sum", total, 0, "MeV/g", "sum in batch order over the finished batches"),
            ("total_sum2", total, 1, "(MeV/g)^2", "second-moment tally, summed like total_sum"),
            ("chunk_sum", partial, 0, "MeV/g", "zero (kept for the layout)"),
            ("chunk_sum2", partial, 1, "(MeV/g)^2", "zero (kept for the layout)")):
        data = (np.zeros(shape) if arr.shape[0] != int(np.prod(shape))
                else np.ascontiguousarray(arr[:, col]).reshape(shape))
        d = g.create_dataset(name, data=data, **kw)
        d.attrs["units"] = units
        d.attrs["description"] = text


class Checkpointer:
    """Writes the checkpoints of one run to ``path`` (used by :func:`iortmc.simulate`)."""

    def __init__(self, path, ident: dict, phantom, every: int) -> None:
        self.path = os.fspath(path)
        self.ident = ident
        self.phantom = phantom
        self.every = int(every)
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise InputError(f"checkpoint: directory {directory!r} does not exist (for {self.path!r})")

    def start(self, resume: bool, every_given: bool = True) -> CheckpointState | None:
        """The state to continue from (None: start from batch 0); checks what is in the file."""
        if not os.path.exists(self.path):
            return None
        if not resume:
            refuse_unfinished(self.path)
            return None
        state = read(self.path)
        verify(state, self.ident, self.phantom)
        if not every_given:
            self.every = state.every
        return state

    def write(self, result, done: int, ebal_rows, total=None, chunk_sum=None) -> None:
        """Replace the file atomically: a checkpoint after ``done`` batches with the running sums
        ``total`` and ``chunk_sum`` (float64 [voxel, 2]; None: zero), or (``total`` None) the
        finished result."""
        from ..results.dose import _atomic_write

        shape = tuple(result.phantom.shape)

        def fill(f):
            result._write(f)
            _write_group(f, self.ident, self.every, done, ebal_rows, total, chunk_sum, shape)

        _atomic_write(self.path, fill)


# ---------------------------------------------------------------------------------------- resume
def _spectrum_from_description(d: dict):
    from ..sources import Spectrum
    from ..sources.spectrum import alias_table

    e_lo = np.asarray(d["e_lo_MeV"], dtype=np.float64)
    e_hi = np.asarray(d["e_hi_MeV"], dtype=np.float64)
    w = np.asarray(d["weights"], dtype=np.float64)
    sp = Spectrum(energies=e_lo, weights=w, name=d.get("name", ""), origin=d.get("origin", ""))
    # keep the stored (already normalised) weights bit for bit, so the alias tables are the same
    sp.e_lo = np.ascontiguousarray(e_lo)
    sp.e_hi = np.ascontiguousarray(e_hi)
    sp.weights = w
    sp.is_histogram = d.get("kind") == "histogram"
    sp.alias_prob, sp.alias_index = alias_table(w)
    return sp


def source_from_description(d: dict):
    """Rebuild a source from its ``describe()`` dictionary (PointSource, PencilBeam, ElectronBeam).

    Raises
    ------
    InputError
        For other sources (phase-space files, applicator models): resume those with
        ``simulate(phantom, source, histories, seed, checkpoint=PATH, resume=True)``.
    """
    from ..sources import ElectronBeam, PencilBeam, PointSource

    kind = d.get("type") if isinstance(d, dict) else None
    try:
        if kind == "PointSource":
            return PointSource(_spectrum_from_description(d["spectrum"]), position=d["position_cm"])
        if kind == "PencilBeam":
            s = PencilBeam(_spectrum_from_description(d["spectrum"]), position=d["position_cm"],
                           direction=d["direction"])
            s.direction = np.asarray(d["direction"], dtype=np.float64)  # stored already normalised
            return s
        if kind == "ElectronBeam":
            s = ElectronBeam(_spectrum_from_description(d["spectrum"]), field_diameter=d["field_diameter_cm"],
                             field_size=d["field_size_cm"], position=d["position_cm"],
                             direction=d["direction"], angular_spread=d["angular_spread_rad"],
                             source_distance=d["source_distance_cm"], particle=d["particle"])
            s.direction = np.asarray(d["direction"], dtype=np.float64)
            s.energy_spread = float(d["energy_spread_fwhm_MeV"])
            return s
    except KeyError as exc:
        raise InputError(f"the source description lacks {exc} and cannot be rebuilt") from None
    raise InputError(f"a source of type {kind!r} cannot be rebuilt from its description in the file; "
                     f"continue the run with simulate(phantom, source, histories, seed, checkpoint=PATH, "
                     f"resume=True) and the original source (PointSource, PencilBeam and ElectronBeam "
                     f"are rebuilt)")
