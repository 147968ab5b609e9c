"""Scaling benchmark: local threads 1 and 2, and Dask with 2 local worker processes.

The 50 keV point source at the centre of the 200^3 water cube in 1 mm voxels (``conftest.py``),
kerma scoring, seed 7, 100 batches in chunks of 10. Reported per test, in ``benchmark.extra_info``:
``histories_per_s`` over the transport (``metadata["transport_s"]``: for Dask, from submitting the
chunk tasks to the last batch added, which includes sending the packed problem to the workers and
the batches' sums back, but not starting the cluster or loading the kernels in the workers, which a
warm-up run does first). The Dask result is checked to equal the local one bit for bit.

Run: ``python3 -m pytest benchmarks/test_bench_scale.py --benchmark-enable``. Needs the ``dask``
extra for the Dask test (skipped without it).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import iortmc as mc

from conftest import SRC, max_threads, record, source, water_cube

HISTORIES = 200_000
RUN = dict(seed=7, scoring="kerma", batches=100, chunk=10)
_LOCAL: dict = {}


@pytest.fixture(scope="module")
def cube():
    return water_cube()


@pytest.mark.parametrize("threads", [1, 2])
def test_scale_local_threads(benchmark, cube, compiled, threads):
    """Local run on 1 and 2 threads (numba prange over batches)."""
    if threads > max_threads():
        pytest.skip(f"needs {threads} numba threads, have {max_threads()}")
    holder = {}

    def run():
        holder["r"] = mc.simulate(cube, source("mono50"), histories=HISTORIES, threads=threads, **RUN)

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    r = holder["r"]
    _LOCAL[threads] = r
    hps = float(r.metadata["histories_per_s"])
    record(f"scale: local threads={threads}", benchmark,
           {"histories": HISTORIES, "threads": threads, "histories_per_s": hps,
            "transport_s": float(r.metadata["transport_s"]), "wall_s": float(r.timing["wall_s"])})


def test_scale_dask_two_local_workers(benchmark, cube, compiled):
    """Dask LocalCluster, 2 worker processes with 1 thread each: one task per chunk of 10 batches."""
    distributed = pytest.importorskip("distributed")
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), old) if p)   # the workers' iortmc
    try:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    holder = {}
    with cluster, distributed.Client(cluster) as client:
        # warm-up: workers import iortmc and load the kernels from the numba cache
        mc.simulate(water_cube(10, 0.2), source("mono50"), histories=2000, client=client, **RUN)

        def run():
            holder["r"] = mc.simulate(cube, source("mono50"), histories=HISTORIES, client=client, **RUN)

        benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    r = holder["r"]
    hps = float(r.metadata["histories_per_s"])
    info = {"histories": HISTORIES, "workers": 2, "threads_per_worker": 1, "histories_per_s": hps,
            "transport_s": float(r.metadata["transport_s"]), "wall_s": float(r.timing["wall_s"])}
    local = _LOCAL.get(2) or _LOCAL.get(1)
    if local is not None:
        info["local_histories_per_s"] = float(local.metadata["histories_per_s"])
        info["dask_over_local"] = hps / info["local_histories_per_s"]
        info["bitwise_equal_to_local"] = bool(np.array_equal(local.dose_sum, r.dose_sum)
                                              and np.array_equal(local.dose_sum2, r.dose_sum2)
                                              and local.energy_balance == r.energy_balance)
        assert info["bitwise_equal_to_local"]
    record("scale: dask 2 local workers", benchmark, info)
