"""Tally bookkeeping (iortmc.transport._kernels.tally): history folding, block flags, the batch-ordered merge,
and the rows that Dask tasks return. Scoring runs as plain Python so that every array access is
bounds-checked; expected values are computed independently in float64."""

import numpy as np
import pytest

from iortmc.transport._kernels import tally


def _score(*args):
    tally.score.py_func(*args)


def test_every_voxel_scored_by_many_histories_stays_in_bounds_and_sums_exactly():
    nv = 3
    rec = np.zeros((nv, 4), dtype=np.float32)
    rec[:, 3] = -1.0
    bl = np.zeros(tally.n_blocks(nv), dtype=np.uint8)   # what simulate() allocates
    cnt = np.zeros(4, dtype=np.int64)
    values = {v: [] for v in range(nv)}
    for h in range(6):
        for v in range(nv):                 # every history scores in every voxel, twice
            for x in (0.25 * (h + 1), 0.5):
                _score(v, x, float(h), 0.0, rec, bl, cnt)
            values[v].append(0.25 * (h + 1) + 0.5)
    tally.end_batch.py_func(rec, bl, cnt)
    assert list(bl) == [1]
    for v in range(nv):
        x = np.array(values[v])
        assert rec[v, 1] == np.float32(x.sum())
        assert abs(rec[v, 2] - np.sum(x * x)) < 1e-5 * np.sum(x * x)
        assert rec[v, 3] == -1.0 and rec[v, 0] == 0.0


def _scored_slots(nslots, nvox, batch, seed):
    """Slots with random scores in a few voxels (batch sums or history records), flags set."""
    rng = np.random.default_rng(seed)
    rec = np.zeros((nslots, nvox, 1 if batch else 4), dtype=np.float32)
    if not batch:
        rec[:, :, 3] = -1.0
    bl = np.zeros((nslots, tally.n_blocks(nvox)), dtype=np.uint8)
    cnt = np.zeros((nslots, 4), dtype=np.int64)
    cnt[:, 3] = 1 if batch else 0
    for q in range(nslots):
        for h in range(20):
            for v in rng.integers(0, nvox, 5):
                _score(int(v), float(rng.random()), float(h), 0.0, rec[q], bl[q], cnt[q])
        tally.end_batch.py_func(rec[q], bl[q], cnt[q])
    return rec, bl, cnt


@pytest.mark.parametrize("batch", [True, False])
def test_merge_adds_the_batches_in_order_whatever_the_partition(batch):
    """merge_wave must give, voxel by voxel, the sequential float64 sum in batch order (the bits a
    local run, a resumed run and a Dask run all reproduce), for any number of parts, and clear the
    slots and flags."""
    nvox, nslots = 1000, 3
    inv_n = np.array([1 / 20, 1 / 21, 1 / 19])
    rec, bl, cnt = _scored_slots(nslots, nvox, batch, 5)
    want1 = np.zeros(nvox)
    want2 = np.zeros(nvox)
    for q in range(nslots):
        for v in range(nvox):
            if batch:
                x = np.float64(rec[q, v, 0])
                if x != 0.0:
                    want1[v] += x
                    want2[v] += x * x * inv_n[q]
            elif rec[q, v, 1] != 0.0:
                want1[v] += np.float64(rec[q, v, 1])
                want2[v] += np.float64(rec[q, v, 2])
    for nparts in (1, 2, 7):
        r, b, c = rec.copy(), bl.copy(), cnt.copy()
        t1 = np.zeros(nvox)
        t2 = np.zeros(nvox)
        tally.merge_wave(nslots, r, b, c, t1, t2, nparts, inv_n)
        assert np.array_equal(t1, want1) and np.array_equal(t2, want2)
        assert not b.any() and not r[:, :, 0].any()
        # the rows a Dask task returns, added batch by batch, give the same bits
        r, b, c = rec.copy(), bl.copy(), cnt.copy()
        u1 = np.zeros(nvox)
        u2 = np.zeros(nvox)
        for q in range(nslots):
            index, rows = tally.take_rows(r[q], b[q], batch)
            tally.add_batch_rows(u1, u2, index, rows, batch, inv_n[q])
        assert np.array_equal(u1, want1) and np.array_equal(u2, want2)
        assert not b.any()


def test_finish_totals_matches_the_batch_variance_formula():
    """Batch statistics: dose_sum2 = N m^2 + (N - 1) sigma^2 with sigma^2 from the batch sums."""
    T = np.array([3.0, 5.0, 4.0, 6.0])      # batch sums of 4 batches of 10 histories
    n_b = 10.0
    t1 = np.array([T.sum()])
    t2 = np.array([np.sum(T * T / n_b)])
    tally.finish_totals(t1, t2, 40, 4, True, 2.0)
    m = T.sum() / 40
    var_h = (np.sum(T * T / n_b) - 40 * m * m) / 3
    assert t1[0] == pytest.approx(2.0 * T.sum(), rel=1e-15)
    assert t2[0] == pytest.approx(4.0 * (40 * m * m + 39 * var_h), rel=1e-14)
