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
sums into the totals in increasing batch order, touching only voxels that were scored. Each history's random stream
depends only on (seed, history number), so results are bitwise identical for any number of threads.

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


@njit(cache=True, parallel=True)
def merge_wave(nb, rec, bl, cnt, tot, nparts, inv_n):
    """Add the slots' batch sums into the totals and clear them.

    History statistics: ``tot[v] = (sum of per-history values, sum of their squares)``. Batch
    statistics (``cnt[q, 3] == 1``): ``tot[v] = (sum of batch sums T_b, sum of T_b^2 / n_b)`` with
    ``inv_n[q] = 1/n_b``. Work is split by voxel (``v % nparts``) so threads never touch the same
    voxel; within a voxel the slots are added in slot (= batch) order, so the result does not depend
    on ``nparts``.
    """
    for part in prange(nparts):
        for q in range(nb):
            r = rec[q]
            b = bl[q]
            batch = cnt[q, 3] == 1
            for t in range(cnt[q, 1]):
                v = b[t]
                if v % nparts == part:
                    if batch:
                        a = np.float64(r[v, 0])
                        tot[v, 0] += a
                        tot[v, 1] += a * a * inv_n[q]
                        r[v, 0] = 0.0
                    else:
                        tot[v, 0] += r[v, 1]
                        tot[v, 1] += r[v, 2]
                        r[v, 1] = 0.0
                        r[v, 2] = 0.0
    for q in range(nb):
        cnt[q, 1] = 0


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
