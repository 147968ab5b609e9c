"""Shared set-up for the photon benchmarks.

Run with ``python3 -m pytest benchmarks --benchmark-enable`` from the repository root. This folder
is outside ``testpaths`` (``tests``), so a plain ``pytest`` never collects it. Measured numbers go to
``benchmark.extra_info`` (saved with ``--benchmark-json=FILE`` or ``--benchmark-autosave``) and are
printed in a summary table at the end of the session.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
try:
    import iortmc  # noqa: F401
except ImportError:  # source checkout without installation
    sys.path.insert(0, str(SRC))
    import iortmc  # noqa: F401

import iortmc as mc

#: Benchmark geometry: 20 cm water cube, 1 mm voxels, source at the centre.
N_VOX = 200
VOXEL_CM = 0.1
#: The voxels "at 1 cm on an axis": the 4 voxels touching each half-axis between 1.0 and 1.1 cm from
#: the source (centres at 1.052 cm), 24 equivalent voxels in all; their mean s^2 gives the efficiency.
EFF_R_CM = 1.0

_SUMMARY: dict[str, dict] = {}


def max_threads() -> int:
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def water_cube(n_vox: int = N_VOX, h: float = VOXEL_CM) -> "mc.Phantom":
    return mc.Phantom.box(shape=(n_vox, n_vox, n_vox), voxel_size=h, material="water")


def source(kind: str) -> "mc.PointSource":
    if kind == "mono50":
        spectrum = mc.Spectrum.mono(0.05)
    elif kind == "intrabeam50":
        spectrum = mc.Spectrum.builtin("intrabeam_50kv_bare")
    else:
        raise ValueError(kind)
    return mc.PointSource(spectrum, position=(0.0, 0.0, 0.0))


def axis_voxels_1cm(phantom) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices (iz, iy, ix) of the 24 voxels adjacent to the six half-axes at 1.0-1.1 cm."""
    nz, ny, nx = phantom.shape
    h = phantom.voxel_size[0]
    x0 = phantom.origin[0]
    far = int(round((EFF_R_CM - x0) / h))          # voxel [1.0, 1.1]
    near = int(round((-EFF_R_CM - x0) / h)) - 1     # voxel [-1.1, -1.0]
    c0, c1 = nx // 2 - 1, nx // 2                   # the two voxels touching the axis
    idx = []
    for a in (far, near):
        for b in (c0, c1):
            for c in (c0, c1):
                idx += [(a, b, c), (b, a, c), (b, c, a)]
    iz, iy, ix = (np.array(v) for v in zip(*idx))
    return iz, iy, ix


def efficiency_1cm(result) -> dict:
    """Efficiency 1/(s^2 T) at 1 cm: s relative uncertainty, T transport wall time (s)."""
    iz, iy, ix = axis_voxels_1cm(result.phantom)
    s = np.asarray(result.uncertainty)[iz, iy, ix]
    d = np.asarray(result.dose)[iz, iy, ix]
    t = float(result.metadata["transport_s"])
    s2 = float(np.mean(s**2)) if np.all(d > 0) else float("inf")
    return {
        "rel_unc_1cm": float(np.sqrt(s2)),
        "dose_1cm_Gy_per_history": float(np.mean(d)),
        "transport_s": t,
        "efficiency_1cm_per_s": (1.0 / (s2 * t)) if s2 > 0 and np.isfinite(s2) else 0.0,
    }


def run_python(code: str, env_extra: dict | None = None, timeout: float = 900.0) -> dict:
    """Run ``code`` in a fresh interpreter; it must print one JSON object as its last stdout line."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(env_extra or {})
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def record(name: str, benchmark, info: dict) -> None:
    """Put ``info`` into ``benchmark.extra_info`` and the end-of-session summary."""
    for k, v in info.items():
        benchmark.extra_info[k] = v
    _SUMMARY[name] = dict(info)


@pytest.fixture(scope="session")
def summary() -> dict:
    return _SUMMARY


@pytest.fixture(scope="session")
def compiled():
    """Compile (or load from cache) the kernels once with a tiny run, so timings exclude it."""
    mc.simulate(water_cube(10, 0.2), source("mono50"), histories=200, seed=1, scoring="kerma")
    return True


def pytest_terminal_summary(terminalreporter):
    if not _SUMMARY:
        return
    tr = terminalreporter
    tr.section("iortmc benchmark results (extra_info)")
    for name, info in _SUMMARY.items():
        if name.startswith("_"):
            continue
        tr.write_line(name)
        for k, v in info.items():
            if isinstance(v, float):
                v = f"{v:.4g}"
            tr.write_line(f"    {k}: {v}")
