"""The batch engine: per-slot buffers, the batch-ordered float64 totals and the wave loop.

Shared by local runs (:func:`iortmc.simulate`), checkpointed runs and Dask tasks, so that the bits of
a total depend only on the seed and the batches.
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
    chunk: int             # batches per chunk (the Dask task unit)
    nvox: int


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
