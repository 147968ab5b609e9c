"""Dask runs: same seed, same bits as a local run, also when a worker dies mid-run.

One LocalCluster (processes=True, 2 workers, 1 thread each) serves the module; its workers import
iortmc from this checkout (PYTHONPATH) and load the kernels from the numba cache.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import iortmc as mc
from iortmc.transport import checkpoint
from iortmc.transport.distributed import chunk_ranges

distributed = pytest.importorskip("distributed")

KW = dict(histories=8000, seed=21, batches=17, chunk=3)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _phantom():
    ph = mc.Phantom.box(shape=(14, 12, 10), voxel_size=0.25, material="water")
    ph.paint_sphere((0.4, 0.0, 0.0), 0.5, "bone_cortical_icrp")
    return ph


def _source():
    return mc.PointSource(mc.Spectrum.builtin("intrabeam_50kv_bare"), position=(0.0, 0.1, 0.0))


def _same(a, b):
    assert np.array_equal(a.dose_sum, b.dose_sum)
    assert np.array_equal(a.dose_sum2, b.dose_sum2)
    assert a.energy_balance == b.energy_balance
    assert a.histories == b.histories


@pytest.fixture(scope="module")
def client():
    src = os.path.join(ROOT, "src")
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([src, old]) if old else src   # the workers' iortmc
    try:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    with cluster, distributed.Client(cluster) as c:
        yield c


def test_chunk_ranges():
    assert chunk_ranges(0, 7, 3) == [(0, 3), (3, 6), (6, 7)]
    assert chunk_ranges(4, 7, 3) == [(4, 6), (6, 7)]       # resumed mid-chunk
    assert chunk_ranges(7, 7, 3) == []


@pytest.mark.parametrize("opts", [dict(), dict(scoring="analog", statistics="history")],
                         ids=["kerma-batch", "analog-history"])
def test_dask_run_equals_local_run_bitwise(client, opts):
    local = mc.simulate(_phantom(), _source(), threads=2, **opts, **KW)
    dask = mc.simulate(_phantom(), _source(), client=client, **opts, **KW)
    _same(dask, local)
    assert dask.metadata["dask_workers"] == 2 and dask.options["chunk"] == 3


class _CrashOnce(distributed.WorkerPlugin):
    """Kills its worker process (os._exit) when the second iortmc chunk task starts on it, once in
    the whole cluster (an O_EXCL marker file): the worker dies mid-run with results it computed."""

    def __init__(self, marker):
        self.marker = marker
        self.started = 0

    def transition(self, key, start, finish, **kwargs):
        if finish != "executing" or "iortmc-chunk" not in str(key):
            return
        self.started += 1
        if self.started < 2:
            return
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, f"{os.getpid()} {key}".encode())
        os.close(fd)
        os._exit(1)


def test_worker_killed_mid_run_changes_nothing(client, tmp_path):
    """A worker process dies while running a chunk; Dask reruns its work elsewhere (or on the
    restarted worker) and the result still equals the local run bit for bit: no batch lost or
    counted twice."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    marker = tmp_path / "crashed"
    name = "iortmc-test-crash-once"
    client.register_plugin(_CrashOnce(str(marker)), name=name)
    try:
        r = mc.simulate(_phantom(), _source(), client=client, **KW)
    finally:
        client.unregister_worker_plugin(name)
    assert marker.exists(), "no worker was killed: the test did not test anything"
    _same(r, mc.simulate(_phantom(), _source(), threads=1, **KW))
    client.wait_for_workers(2, timeout=60)


def test_dask_with_checkpoints_and_resume_of_a_local_checkpoint(client, tmp_path):
    """A local run stopped mid-chunk is resumed on the cluster (and checkpoints from Dask runs
    fall on chunk ends); the answer is the uninterrupted local one."""
    p = tmp_path / "ck.h5"

    class Stop(Exception):
        pass

    def stop(done, total):
        if done >= 2400:   # after batch 5 (500 histories each); the last checkpoint is at batch 4
            raise Stop

    with pytest.raises(Stop):
        mc.simulate(_phantom(), _source(), threads=1, checkpoint=p, checkpoint_every=1, progress=stop,
                    **{**KW, "batches": 16})
    st = checkpoint.read(p)
    assert st.batches_done % 3 != 0   # stopped inside a chunk
    r = mc.simulate(_phantom(), _source(), client=client, checkpoint=p, resume=True, checkpoint_every=2,
                    **{**KW, "batches": 16})
    _same(r, mc.simulate(_phantom(), _source(), threads=2, **{**KW, "batches": 16}))
    _same(mc.load(p), r)
    assert checkpoint.read(p).complete
