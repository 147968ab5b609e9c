"""History-by-history dose tallies (numba).

Scoring is history by history (Walters, Kawrakow and Rogers, Med. Phys. 29 (2002) 2745). Each slot
owns a float32 record array ``rec[voxel] = (acc, s1, s2, last)``: 16 bytes, so a voxel step touches one
cache line shared with three neighbours (separate float64 arrays cost four cache misses per step and
ran 4x slower in a 200^3 grid). ``last`` is the history number within the batch (exact in float32
below 2**24, which simulate() guarantees); s1 and s2 hold one batch only (float32 rounding ~1e-6
relative for 1e4 histories) and are added into float64 totals after every batch. When a
history scores in a voxel last scored by an earlier history, that history's sum ``acc`` is folded into
``s1`` (sum of per-history values) and ``s2`` (sum of squares) first; voxels first scored in the
batch join the batch list. A wave runs one batch per slot in parallel; the host then adds the slots'
sums into float64 tallies in increasing batch order, touching only voxels that were scored, in two
levels: batch sums into the sum of their chunk (a fixed number of batches, the ``chunk`` option),
chunk sums into the run's total in chunk order (:func:`merge_wave`). Each history's random stream depends only on (seed,
history number), and the reduction is fixed by (batch, chunk) order alone, so results are bitwise
identical for any number of threads, for runs resumed from a checkpoint and for runs whose chunks
were computed on other machines (:mod:`iortmc.distributed`).

With batch statistics (``cnt[3] == 1``, the default for kerma scoring) only the batch's sum per voxel
is kept (column 0): no per-history bookkeeping in the hot loop, about twice as fast for the
track-length estimator; the uncertainty then comes from the spread of the batch sums. The records
then have one column only, ``rec[vox] = (acc,)`` (4 bytes a voxel instead of 16: a quarter of the
cache and memory traffic in the voxel walk, and of the memory); every function here reads
``rec[vox, 0]`` only in that mode. The photon kerma walk (:func:`.transport.walk_kerma`) writes
batch sums directly, with the same arithmetic as :func:`score`.

Tallies are specific energy in MeV/g; :mod:`iortmc.simulate` converts to Gy.
"""

import numpy as np
from numba import njit, prange

#: Chunk tags (uint8 ``chunk_of``) are chunk numbers modulo CHUNK_TAGS; NO_CHUNK marks "no chunk sum".
CHUNK_TAGS = 255
NO_CHUNK = 255


@njit(cache=True, inline="always")
def score(vox, value, hf, hbase, rec, bl, cnt):
    """Add ``value`` (MeV/g) to voxel ``vox`` for history ``hf`` (number within the batch, as a float).

    ``rec[vox] = (acc, s1, s2, last)``: the running sum of the history that scored last, the batch's
    sums of per-history values and of their squares, and that history's number. A new history
    first folds the previous one's sum into s1 and s2; a voxel first scored in this batch joins the
    batch list ``bl``, which must hold one entry more than there are voxels (the branch-free append
    writes ``bl[n]`` before deciding whether to count it).
    """
    if cnt[3] == 1:
        # batch statistics: only the batch's sum per voxel (column 0); a voxel joins the batch list
        # when its sum is still zero (duplicates add nothing at the merge, which clears the sum)
        a = rec[vox, 0]
        n = cnt[1]
        if a == 0.0 and n < bl.shape[0]:
            bl[n] = vox
            cnt[1] = n + 1
        rec[vox, 0] = a + value
        return
    last = rec[vox, 3]
    if last != hf:
        # fold the previous history's sum (zero if the voxel is unscored in this batch), and list
        # the voxel for the batch merge if it is new in this batch; no data-dependent branch
        a = rec[vox, 0]
        rec[vox, 1] += a
        rec[vox, 2] += a * a
        n = cnt[1]
        bl[n] = vox
        cnt[1] = n + (1 if last < 0.0 else 0)
        rec[vox, 0] = value
        rec[vox, 3] = hf
    else:
        rec[vox, 0] += value


@njit(cache=True)
def end_batch(rec, bl, cnt):
    """Fold the last pending history sums of the batch into s1, s2; mark the voxels unscored."""
    if cnt[3] == 1:
        return
    for t in range(cnt[1]):
        v = bl[t]
        a = rec[v, 0]
        rec[v, 1] += a
        rec[v, 2] += a * a
        rec[v, 0] = 0.0
        rec[v, 3] = -1.0


@njit(cache=True, inline="always")
def _add_chunked(v, c, x1, x2, acc, chunk_of):
    """Add (x1, x2) of a batch of the chunk tagged ``c`` to voxel v's chunk sum ``acc[v, 2:4]``,
    folding the sum of an earlier chunk into the total ``acc[v, 0:2]`` first (lazily)."""
    held = chunk_of[v]
    if held == c:
        acc[v, 2] += x1
        acc[v, 3] += x2
    else:
        if held != NO_CHUNK:
            acc[v, 0] += acc[v, 2]
            acc[v, 1] += acc[v, 3]
        acc[v, 2] = x1          # = 0.0 + x1 exactly: the chunk sum starts from zero
        acc[v, 3] = x2
        chunk_of[v] = c


@njit(cache=True, parallel=True)
def merge_wave(b0, nb, chunk, rec, bl, cnt, acc, chunk_of, nparts, inv_n):
    """Add the batch sums of slots 0..nb-1 (batches b0..b0+nb-1) into the float64 tallies and clear them.

    History statistics: the tallies are (sum of per-history values, sum of their squares); batch
    statistics (``cnt[q, 3] == 1``): (sum of batch sums T_b, sum of T_b^2 / n_b) with
    ``inv_n[q] = 1/n_b``.

    The reduction has two levels: batches are grouped into chunks of ``chunk`` batches; a chunk's
    batches are summed from zero in batch order into ``acc[v, 2:4]``; chunk sums are added to the
    total ``acc[v, 0:2]`` in chunk order. Per voxel this is done lazily: ``chunk_of[v]`` (uint8) tags
    the chunk whose sum ``acc[v, 2:4]`` holds (chunk number modulo ``CHUNK_TAGS``; ``NO_CHUNK``:
    none), and that sum is folded into the total when a later chunk first scores in v, or by
    :func:`fold_chunks` at the end and every ``CHUNK_TAGS`` chunks (so that a tag is never
    ambiguous; the caller does that). Total and chunk sum share a cache line, and the tags take one
    byte per voxel: the merge touches little more memory than a one-level sum. Chunks that never score in v would add zeros, which change
    nothing, so the bits equal those of the eager reduction that :mod:`iortmc.distributed` does
    with chunk sums computed elsewhere. Work is split by blocks of 64 voxels (``(v >> 6) % nparts``),
    so threads never touch the same voxel nor, mostly, the same cache line; within a voxel the slots
    are added in slot (= batch) order, so the result does not depend on ``nparts``.
    """
    for part_id in prange(nparts):
        for q in range(nb):
            r = rec[q]
            b = bl[q]
            c = ((b0 + q) // chunk) % CHUNK_TAGS
            batch = cnt[q, 3] == 1
            for t in range(cnt[q, 1]):
                v = b[t]
                if (v >> 6) % nparts == part_id:
                    if batch:
                        a = np.float64(r[v, 0])
                        _add_chunked(v, c, a, a * a * inv_n[q], acc, chunk_of)
                        r[v, 0] = 0.0
                    else:
                        _add_chunked(v, c, np.float64(r[v, 1]), np.float64(r[v, 2]), acc, chunk_of)
                        r[v, 1] = 0.0
                        r[v, 2] = 0.0
    for q in range(nb):
        cnt[q, 1] = 0


@njit(cache=True, parallel=True)
def fold_chunks(acc, chunk_of):
    """Add every pending chunk sum into the total (``acc[v, 0:2] += acc[v, 2:4]`` where
    ``chunk_of[v] != NO_CHUNK``) and clear it."""
    for v in prange(acc.shape[0]):
        if chunk_of[v] != NO_CHUNK:
            acc[v, 0] += acc[v, 2]
            acc[v, 1] += acc[v, 3]
            acc[v, 2] = 0.0
            acc[v, 3] = 0.0
            chunk_of[v] = NO_CHUNK


@njit(cache=True, parallel=True)
def add_rows(tot, index, rows):
    """``tot[index[i], 0:2] += rows[i]`` (distinct voxels): a chunk sum computed elsewhere, as rows."""
    for i in prange(index.shape[0]):
        v = index[i]
        tot[v, 0] += rows[i, 0]
        tot[v, 1] += rows[i, 1]


@njit(cache=True, parallel=True)
def init_records(rec):
    """Zero the slots' records; no history has scored anywhere (last = -1). Records of one column
    (batch statistics) hold only the batch sum."""
    full = rec.shape[2] == 4
    for q in range(rec.shape[0]):
        r = rec[q]
        for v in prange(r.shape[0]):
            r[v, 0] = 0.0
            if full:
                r[v, 1] = 0.0
                r[v, 2] = 0.0
                r[v, 3] = -1.0
