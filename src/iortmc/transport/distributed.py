"""Distributed runs with Dask: ``simulate(..., client=client)``.

The batches of a run are grouped into chunks of ``chunk`` batches (an option of
:func:`iortmc.simulate`, 10 by default). Each chunk is one Dask task: the worker runs the chunk's
batches with its numba threads and returns each batch's sums where it scored (float32 rows, as the
local run's batch buffers hold them) with the chunk's energy-balance rows. The client adds the
batches to the float64 totals in batch order, with the arithmetic of a local run
(:func:`iortmc.transport.engine._accumulate`), so a distributed run gives the same bits as a local run with
the same seed and batches, whatever the number of workers, the order in which tasks finish, or the workers that died on the way: Dask reruns the task of
a lost worker (``distributed.scheduler.allowed-failures``, 3 by default) and the client takes exactly
one result per chunk, so no batch is counted twice or lost.

Workers need iortmc (the same version as the client) and its numba cache; each worker process runs
one chunk at a time with as many numba threads as it has Dask threads (``threads=`` overrides). Use
workers with one Dask thread each and several cores, e.g. ``LocalCluster(n_workers=2,
threads_per_worker=1)`` on a 2-core machine, or a dask-jobqueue ``SLURMCluster`` (docs/distributed.md).
Dask is an optional dependency (``pip install iortmc[dask]``), imported only here.
"""

from __future__ import annotations

import threading
import uuid

import numpy as np

__all__ = ["run_chunks", "chunk_ranges"]

# one chunk at a time per worker process: numba's default (workqueue) threading layer does not allow
# parallel kernels to be launched from two threads at once
_LOCK = threading.Lock()
# writable copies of the problem per worker process, by run token (deserialised arrays may be read-only,
# which would make numba compile the kernels anew for read-only array types)
_PROBLEMS: dict = {}


def chunk_ranges(first: int, batches: int, chunk: int) -> list[tuple[int, int]]:
    """The (first batch, end batch) of each chunk from batch ``first`` on; the first range may start
    inside a chunk (a run resumed from a checkpoint taken mid-chunk)."""
    out = []
    b = first
    while b < batches:
        end = min(batches, (b // chunk + 1) * chunk)
        out.append((b, end))
        b = end
    return out


def _writable(obj):
    if isinstance(obj, np.ndarray):
        return obj if obj.flags.writeable and obj.flags.c_contiguous else np.array(obj, order="C")
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_writable(v) for v in obj))
    return obj


def _worker_threads() -> int:
    try:
        from distributed import get_worker

        w = get_worker()
        n = getattr(w.state, "nthreads", None) if hasattr(w, "state") else None
        return int(n or w.nthreads)
    except (ImportError, ValueError, AttributeError):
        return 1


def _run_chunk(token, problem, first, last, threads):
    """Dask task: batches ``first``..``last - 1`` (within one chunk).

    Returns ``(rows, energy-balance rows float64[last - first, 8])`` with ``rows`` a list of one
    ``(voxels int64[n], float32[n, 2])`` per batch: the batch's sums in the ``n`` voxels it scored
    (:func:`iortmc.transport._kernels.tally.take_rows`).
    """
    import numba

    from ._kernels import transport
    from .engine import _buffers

    with _LOCK:
        k = _PROBLEMS.get(token)
        if k is None:
            _PROBLEMS.clear()  # keep one problem per worker process
            k = _PROBLEMS[token] = _writable(problem)
        n = threads if threads is not None else _worker_threads()
        n = max(1, min(int(n), int(numba.config.NUMBA_NUM_THREADS)))
        numba.set_num_threads(n)
        c = first // k.chunk
        if (last - 1) // k.chunk != c:
            raise ValueError(f"batches {first}..{last - 1} span more than one chunk of {k.chunk}")
        ebal = np.zeros((k.batches, transport.NEBAL))
        rec, bl, cnt = _buffers(min(n, last - first), k.nvox, k.opt.statistics)
        batch = k.opt.statistics == 1
        out = []
        b0 = first
        while b0 < last:
            nb = min(rec.shape[0], last - b0)
            transport.run_wave(k.pt, k.et, k.geo, k.src, k.opt, k.starts, b0, nb, rec, bl, cnt, ebal)
            for q in range(nb):
                out.append(transport.take_rows(rec[q], bl[q], batch))
            b0 += nb
        return out, ebal[first:last].copy()


def run_chunks(client, kernels, first, tallies, ebal, threads, after) -> None:
    """Run batches ``first``..``kernels.batches - 1`` on ``client``'s cluster, one task per chunk.

    The batches' sums are added into ``tallies`` (:class:`iortmc.transport.engine._Tallies`) in batch order
    as the chunks are gathered (at most one chunk's rows are held on the client); the first range
    may start inside a chunk (a run resumed from a checkpoint). ``after(batches_done)`` is called
    after each chunk (progress, checkpoints).
    """
    from ._kernels import transport

    token = uuid.uuid4().hex
    # a list of one item: scatter would otherwise send the fields of the NamedTuple one by one
    [problem] = client.scatter([kernels], broadcast=True, hash=False)
    ranges = chunk_ranges(first, kernels.batches, kernels.chunk)
    futures = []
    for b0, b1 in ranges:
        futures.append(client.submit(_run_chunk, token, problem, b0, b1, threads, pure=False,
                                     key=f"iortmc-chunk-{token}-{b0}"))
    batch = kernels.opt.statistics == 1
    starts = kernels.starts
    try:
        for (b0, b1), fut in zip(ranges, futures):
            rows, eb = fut.result()
            ebal[b0:b1] = eb
            for b, (index, sums) in zip(range(b0, b1), rows):
                inv_n = 1.0 / float(starts[b + 1] - starts[b])
                transport.add_batch_rows(tallies.t1, tallies.t2, index, sums, batch, inv_n)
            fut.release()
            del rows
            after(b1)
    finally:  # on an error or an interrupt, do not leave the remaining chunks running
        for fut in [*futures, problem]:
            try:
                fut.cancel()
            except Exception:  # pragma: no cover - already released
                pass
