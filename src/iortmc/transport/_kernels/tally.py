"""Dose tallies (numba): per-slot batch buffers, reduced in batch order into float64 totals.

A wave runs one batch per slot in parallel (:func:`.transport.run_wave`); each slot scores into its
own float32 record array ``rec[slot]``:

* batch statistics (``cnt[3] == 1``, the default for kerma scoring): ``rec[vox] = (acc,)``, the
  batch's sum per voxel, 4 bytes a voxel: a voxel step is one read-modify-write of 4 bytes and no
  per-history bookkeeping; the uncertainty comes from the spread of the batch sums;
* history statistics: ``rec[vox] = (acc, s1, s2, last)`` (Walters, Kawrakow and Rogers, Med. Phys.
  29 (2002) 2745; Sempau et al. 2001): the running sum of the history that scored last in the
  voxel, the batch's sums of per-history values and of their squares, and that history's number
  (exact in float32 below 2**24, which simulate() guarantees). A history that scores in a voxel last
  scored by an earlier one first folds that history's sum into s1 and s2 (lazily, per voxel).

A score sets the voxel's block flag ``bl[vox >> BLOCK_SHIFT] = 1`` (blocks of 8 voxels; ``bl``
holds a byte per block and slot, 6.5 MB for a 512 x 512 x 200 CT); the hot loops (the kerma walk and
the ray tracer) set it only when the voxel's batch sum was still zero. At the end of a wave,
:func:`merge_wave` sweeps the flagged blocks, adds the slots' batch sums into the float64 totals
``tot1`` and ``tot2`` in batch order and clears them: a streaming pass over the scored voxels, with
no per-batch voxel lists, no sorting and no random access beyond the walk's. Batch statistics
accumulate ``(sum of T_b, sum of T_b^2 / n_b)``, history statistics ``(sum of s1, sum of s2)``.

Each history's random stream depends only on (seed, history number), and every voxel's totals are
sums in increasing batch order, so the bits depend only on the seed and the batches: not on the
number of threads, on where a run was checkpointed and resumed (the totals are the exact running
sums), nor on which machine ran a batch (:mod:`iortmc.transport.distributed` returns each batch's sums, which
the client adds in batch order with :func:`add_batch_rows`).

Tallies are specific energy in MeV/g; :mod:`iortmc.simulate` converts to Gy.
"""

import numpy as np
from numba import njit, prange

#: Voxels per block flag: 2**BLOCK_SHIFT.
BLOCK_SHIFT = 3


def n_blocks(nvox):
    """Number of block flags per slot for ``nvox`` voxels."""
    return (nvox + (1 << BLOCK_SHIFT) - 1) >> BLOCK_SHIFT


@njit(cache=True, inline="always")
def score(vox, value, hf, hbase, rec, bl, cnt):
    """Add ``value`` (MeV/g) to voxel ``vox`` for history ``hf`` (number within the batch, as a float).

    Batch statistics (``cnt[3] == 1``): ``rec[vox, 0]`` is the batch sum. History statistics:
    ``rec[vox] = (acc, s1, s2, last)``; a new history first folds the previous one's sum into s1 and
    s2 (no data-dependent branch). ``bl[vox >> BLOCK_SHIFT]`` flags the voxel's block as scored.
    """
    bl[vox >> BLOCK_SHIFT] = 1
    if cnt[3] == 1:
        rec[vox, 0] += value
        return
    if rec[vox, 3] != hf:
        a = rec[vox, 0]
        rec[vox, 1] += a
        rec[vox, 2] += a * a
        rec[vox, 0] = value
        rec[vox, 3] = hf
    else:
        rec[vox, 0] += value


@njit(cache=True)
def end_batch(rec, bl, cnt):
    """Fold the last pending history sums of the batch into s1, s2 (history statistics) in the
    flagged blocks; mark the voxels unscored. Nothing to do with batch statistics."""
    if cnt[3] == 1:
        return
    nvox = rec.shape[0]
    nblk = (nvox + (1 << BLOCK_SHIFT) - 1) >> BLOCK_SHIFT
    for b in range(min(nblk, bl.shape[0])):
        if bl[b] != 0:
            v1 = min(nvox, (b + 1) << BLOCK_SHIFT)
            for v in range(b << BLOCK_SHIFT, v1):
                if rec[v, 3] >= 0.0:
                    a = rec[v, 0]
                    rec[v, 1] += a
                    rec[v, 2] += a * a
                    rec[v, 0] = 0.0
                    rec[v, 3] = -1.0


@njit(cache=True, parallel=True)
def merge_wave(nb, rec, bl, cnt, tot1, tot2, nparts, inv_n):
    """Add the batch sums of slots 0..nb-1 (consecutive batches, in slot order) into the float64
    totals and clear the slots.

    Batch statistics (``cnt[q, 3] == 1``): ``tot1 += T_b``, ``tot2 += T_b^2 * inv_n[q]`` (``inv_n[q]
    = 1/n_b``); history statistics: ``tot1 += s1``, ``tot2 += s2``. The blocks are split into
    ``nparts`` contiguous ranges, one per thread; within a voxel the slots are added in slot (=
    batch) order, so the bits do not depend on ``nparts``.
    """
    nvox = tot1.shape[0]
    nblk = bl.shape[1] if bl.shape[0] > 0 else 0
    for part in prange(nparts):
        b_lo = (part * nblk) // nparts
        b_hi = ((part + 1) * nblk) // nparts
        for b in range(b_lo, b_hi):
            v0 = b << BLOCK_SHIFT
            v1 = min(nvox, v0 + (1 << BLOCK_SHIFT))
            for q in range(nb):
                if bl[q, b] == 0:
                    continue
                bl[q, b] = 0
                r = rec[q]
                if cnt[q, 3] == 1:
                    # branch-free (vectorisable): adding a zero leaves a total's bits unchanged
                    w = inv_n[q]
                    for v in range(v0, v1):
                        x = np.float64(r[v, 0])
                        tot1[v] += x
                        tot2[v] += x * x * w
                        r[v, 0] = 0.0
                else:
                    for v in range(v0, v1):
                        a = r[v, 1]
                        if a != 0.0:
                            tot1[v] += np.float64(a)
                            tot2[v] += np.float64(r[v, 2])
                            r[v, 1] = 0.0
                            r[v, 2] = 0.0
    for q in range(nb):
        cnt[q, 1] = 0


@njit(cache=True)
def take_rows(r, flags, batch):
    """A slot's batch sums where it scored, as (voxels int64[n], float32[n, 2]) rows, and clear the
    slot: ``(T_b, 0)`` (batch statistics) or ``(s1, s2)`` (history statistics)."""
    nvox = r.shape[0]
    n = 0
    for b in range(flags.shape[0]):
        if flags[b] != 0:
            v1 = min(nvox, (b + 1) << BLOCK_SHIFT)
            for v in range(b << BLOCK_SHIFT, v1):
                if r[v, 0 if batch else 1] != 0.0:
                    n += 1
    index = np.empty(n, dtype=np.int64)
    rows = np.zeros((n, 2), dtype=np.float32)
    n = 0
    for b in range(flags.shape[0]):
        if flags[b] != 0:
            flags[b] = 0
            v1 = min(nvox, (b + 1) << BLOCK_SHIFT)
            for v in range(b << BLOCK_SHIFT, v1):
                if batch:
                    if r[v, 0] != 0.0:
                        index[n] = v
                        rows[n, 0] = r[v, 0]
                        r[v, 0] = 0.0
                        n += 1
                elif r[v, 1] != 0.0:
                    index[n] = v
                    rows[n, 0] = r[v, 1]
                    rows[n, 1] = r[v, 2]
                    r[v, 1] = 0.0
                    r[v, 2] = 0.0
                    n += 1
    return index, rows


@njit(cache=True)
def add_batch_rows(tot1, tot2, index, rows, batch, inv_n):
    """Add one batch's rows (:func:`take_rows`) into the totals, with the arithmetic of
    :func:`merge_wave` (so that the bits equal a local run's when batches are added in order)."""
    for i in range(index.shape[0]):
        v = index[i]
        if batch:
            x = np.float64(rows[i, 0])
            tot1[v] += x
            tot2[v] += x * x * inv_n
        else:
            tot1[v] += np.float64(rows[i, 0])
            tot2[v] += np.float64(rows[i, 1])


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


@njit(cache=True, parallel=True)
def finish_totals(tot1, tot2, histories, batches, batch_stats, scale):
    """Turn the totals into DoseResult's (dose_sum, dose_sum2) in place (``scale``: MeV/g to Gy).

    Batch statistics: the equivalent per-history sum of squares N m^2 + (N - 1) sigma^2 with the
    per-history variance sigma^2 = (sum_b T_b^2/n_b - N m^2) / (B - 1) estimated from the batch sums,
    so that DoseResult's history formula gives the batch estimate of the variance of the mean; one
    batch: no spread to estimate, 100 % uncertainty.
    """
    n = np.float64(histories)
    for v in prange(tot1.shape[0]):
        a1 = tot1[v]
        if a1 == 0.0 and tot2[v] == 0.0:
            continue        # stays 0 (and a page never scored in stays unwritten: no memory)
        if batch_stats:
            if batches < 2:
                s2 = a1 * a1
            else:
                m = a1 / n
                var_h = max(tot2[v] - n * m * m, 0.0) / (batches - 1)
                s2 = n * m * m + (n - 1.0) * var_h
        else:
            s2 = tot2[v]
        tot1[v] = a1 * scale
        tot2[v] = s2 * (scale * scale)


@njit(cache=True)
def scored_energy(tot1, rho, volume):
    """Energy scored (MeV): sum over voxels of the specific-energy total times the voxel mass (in
    voxel order, so the bits do not depend on the threads)."""
    s = 0.0
    for v in range(tot1.shape[0]):
        s += tot1[v] * (rho[v] * volume)
    return s


@njit(cache=True)
def max_density(mat, rho, nmat):
    """Largest density (g/cm3) of each material's voxels; 0 for a material no voxel uses (one pass,
    no temporary arrays: a whole CT needs no extra memory)."""
    out = np.zeros(nmat)
    for v in range(mat.shape[0]):
        m = mat[v]
        if rho[v] > out[m]:
            out[m] = rho[v]
    return out
