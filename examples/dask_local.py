"""A run split over the workers of a Dask LocalCluster, checked against a local run bit for bit.

The 50 keV point source in a water cube (kerma scoring) runs as one Dask task per chunk of batches
on a ``dask.distributed.LocalCluster`` (separate worker processes). The chunk sums are added in
chunk order, so the result equals a local run with the same seed, batches and chunk bit for bit;
``--check-local`` runs the local run too and says so. The same code runs on any cluster: replace the
LocalCluster with, e.g., a dask-jobqueue ``SLURMCluster`` (docs/distributed.md).

Needs the ``dask`` extra: ``pip install 'iortmc[dask]'``.

    python examples/dask_local.py --workers 2 --histories 1000000 --output dask.h5 --check-local
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import iortmc as mc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    ap.add_argument("--threads", type=int, default=1, help="threads per worker (numba threads per task)")
    ap.add_argument("--histories", type=int, default=1_000_000)
    ap.add_argument("--batches", type=int, default=100)
    ap.add_argument("--chunk", type=int, default=10, help="batches per chunk (= per Dask task)")
    ap.add_argument("--size-cm", type=float, default=10.0, help="edge of the water cube (cm)")
    ap.add_argument("--voxel-cm", type=float, default=0.2)
    ap.add_argument("--output", default="dask_local.h5", help="result file (.h5)")
    ap.add_argument("--check-local", action="store_true", help="also run locally and compare the bits")
    args = ap.parse_args(argv)
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        sys.exit("this example needs Dask: pip install 'iortmc[dask]'")

    n = int(round(args.size_cm / args.voxel_cm))
    phantom = mc.Phantom.box(shape=(n, n, n), voxel_size=args.voxel_cm, material="water")
    source = mc.PointSource(mc.Spectrum.mono(0.050), position=(0.0, 0.0, 0.0))
    run = dict(histories=args.histories, seed=1, batches=args.batches, chunk=args.chunk, scoring="kerma")

    # the workers are new processes: they must import this iortmc (source checkouts: PYTHONPATH)
    src = str(Path(mc.__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    t0 = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=args.threads, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        t1 = time.perf_counter()
        result = mc.simulate(phantom, source, client=client, **run)
    t2 = time.perf_counter()
    result.save(args.output)
    print(f"{args.histories:,} histories on {args.workers} Dask workers x {args.threads} thread(s): "
          f"cluster start {t1 - t0:.1f} s, run {t2 - t1:.1f} s "
          f"({args.histories / (t2 - t1):,.0f} histories/s, worker start-up and kernel loading included)")
    d, u = mc.analysis.point_dose(result, (1.0, 0.0, 0.0))
    print(f"dose at 1 cm: {d:.4e} Gy/history (+- {100 * u:.2g} %); wrote {args.output}")
    if args.check_local:
        local = mc.simulate(phantom, source, threads=args.threads * args.workers, **run)
        same = (np.array_equal(local.dose_sum, result.dose_sum)
                and np.array_equal(local.dose_sum2, result.dose_sum2)
                and local.energy_balance == result.energy_balance)
        print(f"local run ({local.metadata['histories_per_s']:,.0f} histories/s): "
              f"{'bitwise identical' if same else 'DIFFERENT'}")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
