"""Commissioning benchmark: a 9 MeV IOERT beam fitted to a central-axis depth dose.

The measured curve is the PENELOPE-2018 broad-beam depth dose in water
(tests/physics/data/commissioning/penelope_e9_broad_water.csv: 15 x 15 cm field, 2 x 2 cm detector
column, 1 mm bins to 7 cm). The run is the default ``commission_electron``: a basis of 30 energy
bins (0.1 MeV) x 2 angular spreads at 20 000 histories each, the fit, and a final full simulation
of 200 000 histories. Reported in ``benchmark.extra_info``: wall and CPU time (all threads), the
fitted mean energy and its uncertainty, and the machine load. Required: under 5 minutes of wall time
(the target for a commissioning run on a 2-core machine); kernels are compiled before timing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


import iortmc as mc
from iortmc.clinical import commission as C

from conftest import max_threads, record

DATA = Path(__file__).resolve().parents[1] / "tests" / "physics" / "data" / "commissioning"
LIMIT_WALL_S = 300.0


def _cpu():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def test_commission_9mev_depth_dose(benchmark):
    # compile the electron kernels first (not part of a commissioning run's cost)
    mc.simulate(mc.Phantom.box(shape=(5, 5, 5), voxel_size=0.4), mc.ElectronBeam(6.0, field_diameter=1.0),
                histories=50, seed=1)
    m = C.read_measurement(DATA / "penelope_e9_broad_water.csv", relative_uncertainty=True)
    geom = C.WaterBeamGeometry(field_size_cm=(15, 15), detector_width_cm=2.0)
    out = {}

    def run():
        t0, c0 = time.perf_counter(), _cpu()
        out["r"] = C.commission_electron(m, geom, histories_per_bin=20_000, final_histories=200_000, seed=3)
        out["wall"], out["cpu"] = time.perf_counter() - t0, _cpu() - c0

    benchmark.pedantic(run, rounds=1, iterations=1)
    r = out["r"]
    load = os.getloadavg()[0]
    info = {"threads": max_threads(), "wall_s": round(out["wall"], 1), "cpu_s": round(out["cpu"], 1),
            "load_1min": round(load, 2), "mean_energy_MeV": round(r.parameters["mean_energy_MeV"], 4),
            "u_mean_energy_MeV": round(r.uncertainties["mean_energy_MeV"], 4),
            "basis_histories": int(r.fit["basis_runs"] * r.fit["basis_histories_per_bin"])}
    record("commission_9MeV", benchmark, info)
    print(info)
    assert out["wall"] < LIMIT_WALL_S, info
