"""Photon benchmarks: 50 keV and 50 kV point sources in a 200^3 water cube, memory of a CT grid.

Run: ``python3 -m pytest benchmarks/test_bench_photon.py --benchmark-enable`` (add
``--benchmark-json=bench.json`` to keep the numbers). What is measured, per test, in
``benchmark.extra_info`` (docs/benchmarks.md):

* ``test_efficiency``: efficiency 1/(s^2 T_cpu) at r = 1, 2 and 3 cm (the 24 voxels equivalent to
  the voxel centred at (0.05, 0.05, r + 0.05) cm, adjacent to the six half-axes; mean s^2), with
  T_cpu the CPU time of the whole simulate() call summed over threads (packing, transport,
  ray-traced primary, merging), after a warm-up run that compiles the kernels; histories per
  CPU-second; and, for the 50 keV source, the ratios to PenRed's KERMA_TRACK_LENGTH tally on the
  same problem and machine kind (103 / 29 / 13.5 per CPU-second at 1 / 2 / 3 cm, 1.15e5 histories
  per CPU-second).
* ``test_kerma_mono50`` and ``test_kerma_intrabeam50``: histories/s per thread and efficiency at
  1 cm in transport wall time (``metadata["transport_s"]``), plain kerma scoring.
* compile time in a fresh interpreter, with an empty numba cache (cold) and with the cache filled.
* peak resident memory of a fresh interpreter: the 200^3 problem on 2 threads, and a 512 x 512 x
  200 grid with the INTRABEAM spectrum on 1, 2 and 8 threads (bytes per voxel; at most 40 on 2
  threads is asserted).

Speed is reported, not asserted, apart from a very loose floor that only catches a broken build.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

import iortmc as mc

from conftest import (efficiency_1cm, max_threads, record, run_python, source, water_cube)

SANITY_FLOOR_PER_THREAD = 1_000.0   # histories/s/thread; real values are 10^4-10^5
MEMORY_LIMIT_MIB = 2048.0           # < 2 GiB for 200^3 on 2 threads

HISTORIES_KERMA = {"mono50": 200_000, "intrabeam50": 400_000}
HISTORIES_ANALOG = 4_000_000


@pytest.fixture(scope="module")
def cube():
    return water_cube()


def _needs(threads):
    if threads > max_threads():
        pytest.skip(f"needs {threads} numba threads, have {max_threads()}")


def _kerma_run(benchmark, cube, kind, threads, compiled):
    _needs(threads)
    src = source(kind)
    n = HISTORIES_KERMA[kind] // (2 if threads == 1 else 1)
    holder = {}

    def run():
        holder["r"] = mc.simulate(cube, src, histories=n, seed=7, threads=threads, scoring="kerma")

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    r = holder["r"]
    hps = float(r.metadata["histories_per_s"])
    info = {"source": kind, "scoring": "kerma", "threads": threads, "histories": n,
            "voxels": "200^3 x 1 mm", "histories_per_s": hps,
            "histories_per_s_per_thread": hps / threads, "wall_s": float(r.timing["wall_s"])}
    info.update(efficiency_1cm(r))
    record(f"kerma {kind} threads={threads}", benchmark, info)
    assert hps / threads > SANITY_FLOOR_PER_THREAD
    return info


@pytest.mark.parametrize("threads", [1, 2])
def test_kerma_mono50(benchmark, cube, compiled, summary, threads):
    """50 keV point source, kerma scoring: histories/s per thread and efficiency at 1 cm."""
    info = _kerma_run(benchmark, cube, "mono50", threads, compiled)
    summary.setdefault("_kerma_mono50", {})[threads] = info


@pytest.mark.parametrize("threads", [1, 2])
def test_kerma_intrabeam50(benchmark, cube, compiled, threads):
    """Bare 50 kV INTRABEAM-like spectrum (``intrabeam_50kv_bare``), kerma scoring."""
    _kerma_run(benchmark, cube, "intrabeam50", threads, compiled)


def test_analog_mono50_efficiency_ratio(benchmark, cube, compiled, summary):
    """50 keV, analog scoring on 2 threads: efficiency at 1 cm and its ratio to kerma scoring.

    Target: kerma efficiency at least 10 times the analog one (reported, not asserted).
    """
    threads = min(2, max_threads())
    src = source("mono50")
    holder = {}

    def run():
        holder["r"] = mc.simulate(cube, src, histories=HISTORIES_ANALOG, seed=8, threads=threads,
                                  scoring="analog")

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    r = holder["r"]
    hps = float(r.metadata["histories_per_s"])
    info = {"source": "mono50", "scoring": "analog", "threads": threads,
            "histories": HISTORIES_ANALOG, "histories_per_s": hps,
            "histories_per_s_per_thread": hps / threads}
    info.update(efficiency_1cm(r))
    kerma = summary.get("_kerma_mono50", {}).get(threads)
    if kerma is None:  # run alone: measure the kerma efficiency here
        n = HISTORIES_KERMA["mono50"]
        rk = mc.simulate(cube, src, histories=n, seed=7, threads=threads, scoring="kerma")
        kerma = {"histories": n, "histories_per_s": float(rk.metadata["histories_per_s"]),
                 **efficiency_1cm(rk)}
    info["kerma_efficiency_1cm_per_s"] = kerma["efficiency_1cm_per_s"]
    if info["efficiency_1cm_per_s"] > 0:
        info["kerma_over_analog_efficiency"] = kerma["efficiency_1cm_per_s"] / info["efficiency_1cm_per_s"]
        # load-independent split of that ratio: variance per history (s^2 N) and speed
        info["analog_over_kerma_variance_per_history"] = (
            info["rel_unc_1cm"] ** 2 * HISTORIES_ANALOG) / (kerma["rel_unc_1cm"] ** 2 * kerma["histories"])
        info["analog_over_kerma_speed"] = hps / kerma["histories_per_s"]
    record(f"analog mono50 threads={threads}", benchmark, info)
    assert hps / threads > SANITY_FLOOR_PER_THREAD


_COMPILE_CODE = """
import json, time
t0 = time.perf_counter()
import iortmc as mc
t_import = time.perf_counter() - t0
ph = mc.Phantom.box(shape=(10, 10, 10), voxel_size=0.2, material="water")
src = mc.PointSource(mc.Spectrum.mono(0.05), position=(0, 0, 0))
r = mc.simulate(ph, src, histories=1000, seed=1, threads=1, scoring="kerma")
print(json.dumps({"import_s": t_import, "compile_s": r.timing["compile_s"],
                  "first_call_wall_s": r.timing["wall_s"]}))
"""


def test_compile_time(benchmark):
    """Kernel compile time of the first simulate() call in a fresh interpreter.

    ``cold``: empty numba cache (NUMBA_CACHE_DIR pointing at a new folder), a true compile;
    ``cached``: the default cache, as a user sees it from the second session on.
    """
    holder = {}

    def run():
        with tempfile.TemporaryDirectory(prefix="iortmc-numba-cache-") as d:
            holder["cold"] = run_python(_COMPILE_CODE, {"NUMBA_CACHE_DIR": d})
        run_python(_COMPILE_CODE)  # make sure the default cache is filled
        holder["cached"] = run_python(_COMPILE_CODE)

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    info = {"compile_cold_s": holder["cold"]["compile_s"],
            "first_call_cold_wall_s": holder["cold"]["first_call_wall_s"],
            "compile_cached_s": holder["cached"]["compile_s"],
            "import_s": holder["cached"]["import_s"]}
    record("compile time (fresh interpreter)", benchmark, info)
    assert info["compile_cold_s"] > 0


_MEMORY_CODE = """
import json, resource
import iortmc as mc

def status_mib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return float(line.split()[1]) / 1024.0
    return float("nan")

ph = mc.Phantom.box(shape=(200, 200, 200), voxel_size=0.1, material="water")
src = mc.PointSource(mc.Spectrum.mono(0.05), position=(0, 0, 0))
rss_before = status_mib("VmRSS")
r = mc.simulate(ph, src, histories=20000, seed=1, threads=THREADS, scoring="kerma")
print(json.dumps({"peak_rss_MiB": status_mib("VmHWM"), "rss_before_simulate_MiB": rss_before,
                  "rss_after_simulate_MiB": status_mib("VmRSS"),
                  "ru_maxrss_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))
"""


def test_memory_200cube_2threads(benchmark):
    """Peak resident memory of a fresh interpreter: 200^3 phantom, kerma scoring, 2 threads.

    The peak is VmHWM of /proc/self/status (Linux): the high-water mark of the child's own address
    space. ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is reported too, but on Linux it keeps the
    parent's peak across fork/exec, so in a subprocess of a busy pytest it overstates the peak.
    Also reported: RSS before simulate() (import and phantom) and after it.
    """
    threads = min(2, max_threads())
    holder = {}

    def run():
        holder["m"] = run_python(_MEMORY_CODE.replace("THREADS", str(threads)))

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    info = {"threads": threads, "voxels": "200^3 x 1 mm", **holder["m"]}
    record("memory 200^3", benchmark, info)
    assert info["peak_rss_MiB"] < MEMORY_LIMIT_MIB


# ------------------------------------------------------------------------------- efficiency per CPU-s
#: PenRed 1.14 (PENELOPE-2018), KERMA_TRACK_LENGTH tally, 50 keV point source in the 200^3 water cube
#: (same problem and machine kind): efficiency per CPU-second at 1, 2, 3 cm, histories per CPU-second.
PENRED_EFFICIENCY = {1: 103.0, 2: 29.0, 3: 13.5}
PENRED_HISTORIES_PER_CPU_S = 1.15e5
EFF_RADII_CM = (1, 2, 3)
#: (simulate options, histories) of each configuration
CONFIGS = {
    "kerma": ({"scoring": "kerma"}, {"mono50": 1_000_000, "intrabeam50": 2_000_000}),
    "traced": ({"scoring": "kerma", "primary": "traced"}, {"mono50": 1_000_000, "intrabeam50": 2_000_000}),
    "traced_roulette": ({"scoring": "kerma", "primary": "traced", "roulette_radius": 4.0,
                         "roulette_survival": 0.25}, {"mono50": 1_000_000, "intrabeam50": 2_000_000}),
}


def axis_voxels(phantom, r_cm):
    """(iz, iy, ix) of the 24 voxels adjacent to the six half-axes between r and r + 1 voxel from the
    centre: by symmetry, each has the expected dose and variance of the voxel centred at
    (0.05, 0.05, r + 0.05) cm."""
    nz, ny, nx = phantom.shape
    h = phantom.voxel_size[0]
    x0 = phantom.origin[0]
    far = int(round((r_cm - x0) / h))
    near = int(round((-r_cm - x0) / h)) - 1
    c0, c1 = nx // 2 - 1, nx // 2
    idx = []
    for a in (far, near):
        for b in (c0, c1):
            for c in (c0, c1):
                idx += [(a, b, c), (b, a, c), (b, c, a)]
    return tuple(np.array(v) for v in zip(*idx))


def _cpu_s():
    t = os.times()
    return t.user + t.system


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("kind", ["mono50", "intrabeam50"])
def test_efficiency(benchmark, cube, compiled, kind, config):
    """Efficiency per CPU-second at 1, 2 and 3 cm, 2 threads, CPU time of the whole run."""
    threads = min(2, max_threads())
    opts, hist = CONFIGS[config]
    n = hist[kind]
    src = source(kind)
    mc.simulate(cube, src, histories=2000, seed=3, threads=threads, **opts)   # compile / warm up
    holder = {}

    def run():
        c0 = _cpu_s()
        holder["r"] = mc.simulate(cube, src, histories=n, seed=7, threads=threads, **opts)
        holder["cpu"] = _cpu_s() - c0

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    r, cpu = holder["r"], holder["cpu"]
    info = {"source": kind, "config": config, "options": dict(opts), "threads": threads,
            "histories": n, "cpu_s": cpu, "wall_s": float(r.timing["wall_s"]),
            "histories_per_cpu_s": n / cpu, "load_average_1min": os.getloadavg()[0]}
    for rad in EFF_RADII_CM:
        ii = axis_voxels(r.phantom, rad)
        s2 = float(np.mean(np.asarray(r.uncertainty)[ii] ** 2))
        info[f"rel_unc_{rad}cm"] = float(np.sqrt(s2))
        info[f"dose_{rad}cm_Gy_per_history"] = float(np.mean(np.asarray(r.dose)[ii]))
        info[f"efficiency_{rad}cm_per_cpu_s"] = 1.0 / (s2 * cpu)
        if kind == "mono50":
            info[f"efficiency_{rad}cm_over_penred"] = info[f"efficiency_{rad}cm_per_cpu_s"] / PENRED_EFFICIENCY[rad]
    if kind == "mono50":
        info["histories_per_cpu_s_over_penred"] = info["histories_per_cpu_s"] / PENRED_HISTORIES_PER_CPU_S
    record(f"efficiency {kind} {config} threads={threads}", benchmark, info)
    assert n / cpu > SANITY_FLOOR_PER_THREAD


# ------------------------------------------------------------------------------------- CT-size memory
_CT_MEMORY_CODE = """
import json, resource
import numpy as np
import iortmc as mc

def status_mib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return float(line.split()[1]) / 1024.0
    return float("nan")

shape = (200, 512, 512)
if CT:   # every voxel's index and density written, as from a CT import
    idx = np.zeros(shape, dtype=np.int32)
    idx[:, :, 256:] = 1
    ph = mc.Phantom([mc.material("water"), mc.material("bone_cortical_icrp")], idx, voxel_size=0.1)
    del idx
else:
    ph = mc.Phantom.box(shape=shape, voxel_size=0.1, material="water")
src = mc.PointSource(mc.Spectrum.builtin("intrabeam_50kv_bare"), position=(0.0, 0.0, 0.0))
rss_before = status_mib("VmRSS")
r = mc.simulate(ph, src, histories=HISTORIES, seed=1, threads=THREADS, scoring="kerma")
nvox = int(np.prod(shape))
peak = status_mib("VmHWM")
print(json.dumps({"voxels": nvox, "peak_rss_MiB": peak, "bytes_per_voxel": peak * 2**20 / nvox,
                  "rss_before_simulate_MiB": rss_before,
                  "ru_maxrss_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))
"""

CT_MEMORY_LIMIT_BYTES_PER_VOXEL = 40.0


@pytest.mark.parametrize("phantom", ["ct_like", "water_box"])
@pytest.mark.parametrize("threads", [1, 2, 8])
def test_memory_512x512x200_intrabeam(benchmark, threads, phantom):
    """Peak resident memory (VmHWM) of a fresh interpreter: 512 x 512 x 200 voxels, INTRABEAM
    spectrum, kerma scoring, few histories (memory does not grow with them), NUMBA_NUM_THREADS =
    threads. ``ct_like`` writes every voxel's material index (a water box's all-zero indices are
    never written, so the allocator never maps them)."""
    holder = {}
    code = (_CT_MEMORY_CODE.replace("THREADS", str(threads)).replace("HISTORIES", "20000")
            .replace("CT:", "True:" if phantom == "ct_like" else "False:"))

    def run():
        holder["m"] = run_python(code, {"NUMBA_NUM_THREADS": str(threads)})

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    info = {"threads": threads, "phantom": phantom, "grid": "512 x 512 x 200", **holder["m"]}
    record(f"memory 512x512x200 {phantom} threads={threads}", benchmark, info)
    if threads == 2:
        assert info["bytes_per_voxel"] <= CT_MEMORY_LIMIT_BYTES_PER_VOXEL
