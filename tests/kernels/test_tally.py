"""History-by-history tally bookkeeping (iortmc._kernels.tally), run as plain Python so that every
array access is bounds-checked."""

import numpy as np

from iortmc.transport._kernels import tally


def _score(*args):
    tally.score.py_func(*args)


def test_every_voxel_scored_by_many_histories_stays_in_bounds_and_sums_exactly():
    nv = 3
    rec = np.zeros((nv, 4), dtype=np.float32)
    rec[:, 3] = -1.0
    bl = np.zeros(nv + 1, dtype=np.int64)   # what simulate() allocates
    cnt = np.zeros(4, dtype=np.int64)
    values = {v: [] for v in range(nv)}
    for h in range(6):
        for v in range(nv):                 # every history scores in every voxel, twice
            for x in (0.25 * (h + 1), 0.5):
                _score(v, x, float(h), 0.0, rec, bl, cnt)
            values[v].append(0.25 * (h + 1) + 0.5)
    tally.end_batch.py_func(rec, bl, cnt)
    assert cnt[1] == nv and sorted(bl[:nv]) == [0, 1, 2]
    for v in range(nv):
        x = np.array(values[v])
        assert rec[v, 1] == np.float32(x.sum())
        assert abs(rec[v, 2] - np.sum(x * x)) < 1e-5 * np.sum(x * x)
        assert rec[v, 3] == -1.0 and rec[v, 0] == 0.0


def test_batch_list_without_the_spare_entry_would_overflow():
    """The branch-free append writes bl[n] before deciding whether to count it: with all voxels
    listed it writes one past the end (this guards the spare entry that simulate() allocates)."""
    rec = np.zeros((1, 4), dtype=np.float32)
    rec[:, 3] = -1.0
    cnt = np.zeros(4, dtype=np.int64)
    bl = np.zeros(1, dtype=np.int64)
    _score(0, 1.0, 0.0, 0.0, rec, bl, cnt)
    try:
        _score(0, 1.0, 1.0, 0.0, rec, bl, cnt)
    except IndexError:
        pass
    else:
        raise AssertionError("expected the unguarded append to index past a list of nvox entries")
