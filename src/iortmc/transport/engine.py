"""The batch engine: per-slot buffers, the two-level float64 reduction and the wave loop.

Shared by local runs (:func:`iortmc.simulate`), checkpointed runs and Dask tasks, so that the bits of
a total depend only on the seed, the batches and the chunk size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: 1 MeV/g in Gy (J/kg).
MEV_PER_G_TO_GY = 1.602176634e-10


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


def _buffers(nslots, nvox, statistics=0):
    """Per-slot tally records, batch voxel lists and counters, cleared. ``statistics`` is
    ``Options.statistics``: history statistics keep (acc, s1, s2, last) per voxel (float32
    [slot, voxel, 4]), batch statistics only the batch sum ([slot, voxel, 1])."""
    from ._kernels import transport

    rec = np.empty((nslots, nvox, 1 if statistics == 1 else 4), dtype=np.float32)
    # one spare entry: tally.score writes bl[n] before it knows whether the voxel is new (no
    # data-dependent branch), so with all nvox voxels listed it writes bl[nvox]; without the spare
    # entry that write landed in the next slot's list (or past the array), which corrupted doses in
    # small grids (1-D depth-dose phantoms) and broke thread invariance and the heap
    bl = np.zeros((nslots, nvox + 1), dtype=np.int32 if nvox < 2**31 else np.int64)
    cnt = np.zeros((nslots, 4), dtype=np.int64)
    transport.init_records(rec)
    return rec, bl, cnt


class _Tallies:
    """The float64 tallies of a run, reduced in two levels (see :func:`._kernels.tally.merge_wave`).

    ``acc[v] = (total, total2, chunk sum, chunk sum2)``: the sum of the chunk sums folded so far,
    and the sum of the chunk tagged ``chunk_of[v]`` (chunk number modulo ``CHUNK_TAGS``; ``NO_CHUNK``:
    none), not yet in the total.
    """

    def __init__(self, nvox):
        from ._kernels.tally import NO_CHUNK

        self.acc = np.zeros((nvox, 4))
        self.chunk_of = np.full(nvox, NO_CHUNK, dtype=np.uint8)

    @staticmethod
    def tag(c):
        from ._kernels.tally import CHUNK_TAGS

        return c % CHUNK_TAGS

    def set_total(self, total):
        self.acc[:, 0:2] = total

    def set_chunk(self, c, index, rows):
        """Start chunk ``c`` from the sum ``rows`` of its first batches (a run resumed mid-chunk)."""
        self.acc[index, 2:4] = rows
        self.chunk_of[index] = self.tag(c)

    def rows(self, c):
        """(voxels int64[n], float64[n, 2]): the sum of chunk ``c`` where it scored (0 elsewhere)."""
        index = np.flatnonzero(self.chunk_of == self.tag(c))
        return index, self.acc[index, 2:4]

    def split(self, current):
        """(sum over the chunks before chunk ``current``, sum of chunk ``current``), dense [voxel, 2];
        ``current=None``: at a chunk end, everything is in the first."""
        from ._kernels.tally import NO_CHUNK

        cur = (self.chunk_of == self.tag(current)) if current is not None else np.zeros(len(self.acc), bool)
        done = (self.chunk_of != NO_CHUNK) & ~cur
        total = self.acc[:, 0:2].copy()
        total[done] += self.acc[done, 2:4]
        chunk_sum = np.zeros_like(total)
        chunk_sum[cur] = self.acc[cur, 2:4]
        return total, chunk_sum

    def fold(self):
        from ._kernels import transport

        transport.fold_chunks(self.acc, self.chunk_of)

    def finish(self):
        """The total [voxel, 2] after folding the pending chunk sums."""
        self.fold()
        return np.ascontiguousarray(self.acc[:, 0:2])


def _accumulate(k, first, last, tl, ebal, nparts, buffers, after_wave=None):
    """Run batches ``first``..``last - 1`` into the tallies ``tl`` (:class:`_Tallies`).

    Waves of ``len(rec)`` batches run in parallel; their float32 batch sums are merged in batch order
    into the two-level float64 reduction, so that the bits of the total depend only on the seed, the
    batches and the chunk size: not on the threads, on where a run was checkpointed and resumed, or
    on which machine ran a chunk. ``ebal[b]`` receives batch b's energy-balance row;
    ``after_wave(batches_done)`` is called after every wave.
    """
    from ._kernels import transport
    from ._kernels.tally import CHUNK_TAGS

    rec, bl, cnt = buffers
    nslots = rec.shape[0]
    period = CHUNK_TAGS * k.chunk   # chunk tags repeat: fold every pending chunk sum at these batches
    b0 = first
    while b0 < last:
        nb = min(nslots, last - b0, period - b0 % period)
        if b0 % period == 0 and b0 > 0:
            tl.fold()
        transport.run_wave(k.pt, k.et, k.geo, k.src, k.opt, k.starts, b0, nb, rec, bl, cnt, ebal)
        inv_n = 1.0 / np.diff(k.starts[b0:b0 + nb + 1]).astype(np.float64)
        transport.merge_wave(b0, nb, k.chunk, rec, bl, cnt, tl.acc, tl.chunk_of, nparts, inv_n)
        b0 += nb
        if after_wave is not None:
            after_wave(b0)


def _dose_sums(tot, histories, batches, statistics, shape):
    """(dose_sum Gy, dose_sum2 Gy^2), [z, y, x], from the float64 tallies of ``batches`` batches."""
    if statistics == "batch":
        # equivalent per-history sum of squares: N m^2 + (N - 1) sigma^2 with the per-history
        # variance sigma^2 = (sum_b T_b^2/n_b - N m^2) / (B - 1) estimated from the batch sums, so that
        # DoseResult's history formula gives the batch estimate of the variance of the mean
        n = float(histories)
        a1 = tot[:, 0]
        if batches < 2:  # one batch (an early checkpoint): no spread to estimate; 100 % uncertainty
            s2 = a1 * a1
        else:
            m = a1 / n
            var_h = np.maximum(tot[:, 1] - n * m * m, 0.0) / (batches - 1)
            s2 = n * m * m + (n - 1.0) * var_h
        return (a1 * MEV_PER_G_TO_GY).reshape(shape), (s2 * MEV_PER_G_TO_GY**2).reshape(shape)
    return (tot[:, 0] * MEV_PER_G_TO_GY).reshape(shape), (tot[:, 1] * MEV_PER_G_TO_GY**2).reshape(shape)


def _energy_balance(ebal_rows, tot, mass):
    e = np.zeros(ebal_rows.shape[1])
    for row in ebal_rows:  # fixed (batch) order: bitwise reproducible
        e += row
    return {
        "emitted": float(e[0]),
        "deposited": float(e[1]),
        "escaped": float(e[2]),
        "below_cutoff": float(e[3]),
        "scored": float(np.dot(tot[:, 0], mass)),
        "interactions": float(e[4]),
        "fictitious": float(e[5]),
        "transmitted_unscattered": float(e[6]),
        "transmitted_unscattered_energy": float(e[7]),
    }
