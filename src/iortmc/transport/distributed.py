"""Distributed runs with Dask: ``simulate(..., client=client)``.

The batches of a run are grouped into chunks of ``chunk`` batches (an option of
:func:`iortmc.simulate`, 10 by default). Each chunk is one Dask task: the worker runs the chunk's
batches with its numba threads, sums their tallies from zero in batch order into a float64 chunk
sum and returns it with the chunk's energy-balance rows. The client adds the chunk sums to the total
in chunk order, exactly as a local run does (:func:`iortmc.transport.engine._accumulate`), so a distributed
run gives the same bits as a local run with the same seed, batches and chunk, whatever the number of
workers, the order in which tasks finish, or the workers that died on the way: Dask reruns the task of
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


def _run_chunk(token, problem, first, last, partial, threads):
    """Dask task: batches ``first``..``last - 1`` (within one chunk) into a float64 chunk sum.

    Returns ``(voxels int64[n], chunk sums float64[n, 2], energy-balance rows float64[last - first, 8])``:
    the chunk sum of the ``n`` voxels the chunk scored in (the others are zero).
    """
    import numba

    from ._kernels import transport
    from .engine import _accumulate, _buffers, _Tallies

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
        tl = _Tallies(k.nvox)   # within one chunk nothing is folded: the total stays zero
        if partial is not None:
            tl.set_chunk(c, *partial)
        ebal = np.zeros((k.batches, transport.NEBAL))
        _accumulate(k, first, last, tl, ebal, n, _buffers(min(n, last - first), k.nvox, k.opt.statistics))
        index, rows = tl.rows(c)
        return index, rows, ebal[first:last].copy()


def run_chunks(client, kernels, first, tot, partial, ebal, threads, after) -> None:
    """Run batches ``first``..``kernels.batches - 1`` on ``client``'s cluster, one task per chunk.

    Chunk sums are added into ``tot`` in chunk order as they are gathered (at most one chunk sum is
    held on the client); ``partial`` (voxels, rows) is the sum of the batches of ``first``'s chunk
    done before ``first`` (a run resumed mid-chunk, else None): it goes to the first task. ``after(batches_done)`` is called after each
    chunk (progress, checkpoints).
    """
    from ._kernels import transport

    token = uuid.uuid4().hex
    # a list of one item: scatter would otherwise send the fields of the NamedTuple one by one
    [problem] = client.scatter([kernels], broadcast=True, hash=False)
    ranges = chunk_ranges(first, kernels.batches, kernels.chunk)
    futures = []
    for i, (b0, b1) in enumerate(ranges):
        start = partial if i == 0 else None   # resumed mid-chunk: continue from the stored chunk sum
        futures.append(client.submit(_run_chunk, token, problem, b0, b1, start, threads, pure=False,
                                     key=f"iortmc-chunk-{token}-{b0}"))
    try:
        for (b0, b1), fut in zip(ranges, futures):
            index, sums, rows = fut.result()
            ebal[b0:b1] = rows
            transport.add_rows(tot, index, sums)  # tot += chunk sum, in chunk order
            fut.release()
            del index, sums
            after(b1)
    finally:  # on an error or an interrupt, do not leave the remaining chunks running
        for fut in [*futures, problem]:
            try:
                fut.cancel()
            except Exception:  # pragma: no cover - already released
                pass
