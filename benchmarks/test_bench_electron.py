"""Electron benchmark: 6 and 12 MeV, 10 cm diameter parallel beam normally incident
on a 20 cm water cube in 2 mm voxels.

Reported in ``benchmark.extra_info``: electron histories/s per thread (transport only, after a warm-up
that compiles the kernels), the depth of the dose maximum on the central axis (mean over the central
1 cm x 1 cm column), its relative uncertainty s, the efficiency 1/(s^2 T) there, and the wall time
predicted to reach s = 1% at d_max (T x (s / 1%)^2). Speed is reported; only a loose floor is asserted.
"""

from __future__ import annotations

import numpy as np
import pytest

import iortmc as mc

from conftest import max_threads, record

SANITY_FLOOR_PER_THREAD = 200.0
HISTORIES = {6.0: 100_000, 12.0: 60_000}


@pytest.fixture(scope="module")
def cube():
    return mc.Phantom.box(shape=(100, 100, 100), voxel_size=0.2, material="water",
                          origin=(-10.0, -10.0, 0.0))


@pytest.fixture(scope="module")
def electrons_compiled(cube):
    mc.simulate(mc.Phantom.box(shape=(5, 5, 5), voxel_size=0.4), mc.ElectronBeam(6.0, field_diameter=1.0),
                histories=50, seed=1)
    return True


def _dmax_stats(result, phantom):
    x, y, z = phantom.centers()
    core = (np.abs(x) < 0.5)[None, None, :] & (np.abs(y) < 0.5)[None, :, None]
    w = np.where(core, 1.0, 0.0)
    n = w.sum(axis=(1, 2))
    d = (result.dose * w).sum(axis=(1, 2)) / n
    # the column mean's uncertainty, treating the voxels as independent
    var = ((result.dose * result.uncertainty) ** 2 * w).sum(axis=(1, 2)) / n**2
    k = int(np.argmax(d))
    return float(z[k]), float(np.sqrt(var[k]) / d[k])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("energy", [6.0, 12.0])
def test_electron_beam_10cm_field(benchmark, cube, electrons_compiled, threads, energy):
    if threads > max_threads():
        pytest.skip(f"needs {threads} numba threads")
    beam = mc.ElectronBeam(energy, field_diameter=10.0, position=(0.0, 0.0, -1.0))
    n = HISTORIES[energy] // (2 if threads == 1 else 1)
    holder = {}

    def run():
        holder["r"] = mc.simulate(cube, beam, histories=n, seed=5, threads=threads)

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    r = holder["r"]
    T = float(r.metadata["transport_s"])
    hps = n / T
    zmax, s = _dmax_stats(r, cube)
    info = {"energy_MeV": energy, "threads": threads, "histories": n, "voxels": "100^3 x 2 mm",
            "histories_per_s": hps, "histories_per_s_per_thread": hps / threads,
            "d_max_cm": zmax, "rel_unc_at_dmax": s, "efficiency_dmax_per_s": 1.0 / (s * s * T),
            "time_to_1pct_at_dmax_s": T * (s / 0.01) ** 2}
    record(f"electron {energy:g} MeV threads={threads}", benchmark, info)
    assert hps / threads > SANITY_FLOOR_PER_THREAD
