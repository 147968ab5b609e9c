"""Property-based tests (hypothesis): thousands of malformed case files, API arguments and damaged
result files. Every one must end in an InputError or DataError whose message is one line, or in a
correct object; never in another exception, a hang or a crash of the process.

Budget: about a minute in the default suite (fixed derandomised seeds, many cheap examples).
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import iortmc as mc  # noqa: E402
from iortmc.cli.case import case_from_dict, loads_case  # noqa: E402
from iortmc.clinical.calibration import DoseRateCalibration, MonitorUnitCalibration  # noqa: E402
from iortmc.clinical.prescription import Prescription  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "examples" / "cases"
SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def _ok_error(exc):
    assert isinstance(exc, (mc.InputError, mc.DataError)), f"{type(exc).__name__}: {exc}"
    msg = str(exc)
    assert msg and "\n" not in msg, repr(msg)


def _load_toml(name):
    import tomllib

    return tomllib.loads((CASES / f"{name}.toml").read_text())


# cheap cases (no CT, no large phantom) to mutate; the parser and the phantom builders run for each
BASES = {}
for _n in ("flat_applicator", "ioert_shielding", "xoft_balloon", "needle_applicator", "pencil_slabs",
           "breast_intrabeam", "ioert_flat"):
    _d = _load_toml(_n)
    if _d["phantom"].get("voxel_size_cm") == 0.1:   # keep each example fast: 4 mm voxels
        _d["phantom"]["voxel_size_cm"] = 0.4
        _d["phantom"].pop("size_cm", None) if _d["phantom"].get("type") == "box" else None
        if _d["phantom"].get("type", "box") == "box":
            _d["phantom"]["size_cm"] = [4.0, 4.0, 4.0] if _n != "flat_applicator" else [8.0, 8.0, 6.4]
    if _d["phantom"].get("voxel_size_cm") == 0.2:
        _d["phantom"]["voxel_size_cm"] = 0.5
        _d["phantom"]["depth_cm"] = 5.0
    BASES[_n] = _d

JUNK = st.sampled_from([-1, 0, -0.0, 1e300, -1e300, math.nan, math.inf, -math.inf, "x", "", [], {}, True,
                        [1, 2], [1.0, 2.0, 3.0], [math.nan, 0, 0], 0.5, 3, 10, 2**70, "water", "lead",
                        {"a": 1}, [[1]], "dmax", "applicator", "ioert", "spherical"])


def _paths(d, prefix=()):
    out = []
    if isinstance(d, dict):
        for k, v in d.items():
            out.append(prefix + (k,))
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out.append(prefix + (i,))
            out.extend(_paths(v, prefix + (i,)))
    return out


@st.composite
def mutated_case(draw):
    name = draw(st.sampled_from(sorted(BASES)))
    d = copy.deepcopy(BASES[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(d)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = d
        for p in path[:-1]:
            parent = parent[p]
        op = draw(st.sampled_from(["junk", "delete", "unknown"]))
        if op == "junk":
            parent[path[-1]] = draw(JUNK)
        elif op == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["colour", "Gy_per_mu", "kind2"]))] = 1
    return d


@settings(max_examples=700, **SETTINGS)
@given(mutated_case())
def test_mutated_case_files_give_an_input_error_or_a_case(data):
    try:
        case = case_from_dict(data, base_dir=CASES)
    except Exception as exc:   # noqa: BLE001 - the property: only InputError/DataError
        _ok_error(exc)
    else:
        assert case.histories >= 1 and case.phantom.index.size > 0


@settings(max_examples=3000, **SETTINGS)
@given(st.text(max_size=200))
def test_random_text_is_never_a_crash(text):
    try:
        loads_case(text)
    except Exception as exc:   # noqa: BLE001
        _ok_error(exc)


# ---------------------------------------------------------------------------------------- API
ARG = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True),
                st.text(max_size=5), st.lists(st.floats(-10, 10), max_size=4))


@pytest.fixture(scope="module")
def small():
    ph = mc.Phantom.box((10, 8, 8), voxel_size=0.25, origin=(-1, -1, 0))
    beam = mc.ElectronBeam(6.0, field_diameter=1.0, position=(0, 0, -0.5), direction=(0, 0, 1))
    return ph, beam, mc.simulate(ph, beam, histories=300, seed=1, threads=1, progress=False)


@settings(max_examples=400, **SETTINGS)
@given(histories=ARG, seed=ARG, threads=ARG, batches=ARG, scoring=ARG, progress=ARG)
def test_simulate_arguments(small, histories, seed, threads, batches, scoring, progress):
    ph, beam, _ = small
    from iortmc.transport import run as run_mod

    try:
        # validation only: a valid combination is not run (the kernels are tested elsewhere)
        run_mod._validate(ph, beam, histories, seed, {"threads": threads, "batches": batches,
                                                      "scoring": scoring, "progress": progress})
    except Exception as exc:   # noqa: BLE001
        _ok_error(exc)


@settings(max_examples=400, **SETTINGS)
@given(axis=st.one_of(st.sampled_from(["x", "y", "z", "beam", "w"]), ARG), through=ARG, radius=ARG, step=ARG,
       surface=st.one_of(st.sampled_from(["tissue", "phantom"]), ARG))
def test_depth_dose_arguments(small, axis, through, radius, step, surface):
    _, _, r = small
    try:
        dd = mc.analysis.depth_dose(r, axis=axis, through=through, radius_cm=radius if radius is not None else 0.0,
                                    step_cm=step, surface=surface)
    except Exception as exc:   # noqa: BLE001
        _ok_error(exc)
    else:
        assert np.all(np.isfinite(dd.depth_cm)) and len(dd.depth_cm) == len(dd.dose)


@settings(max_examples=400, **SETTINGS)
@given(dose=ARG, at=st.one_of(st.sampled_from(["depth", "isodose", "surface", "point"]), ARG), a=ARG, b=ARG,
       gy=ARG, ref=st.one_of(st.sampled_from(["dmax"]), ARG))
def test_prescription_and_calibration_arguments(small, dose, at, a, b, gy, ref):
    _, _, r = small
    kw = {"depth": {"depth_cm": a}, "isodose": {"isodose_percent": a}, "surface": {"radius_cm": a},
          "point": {"point_cm": b}}.get(at, {"depth_cm": a}) if isinstance(at, str) else {}
    for make in (lambda: Prescription(dose, at, **kw).evaluate(r),
                 lambda: MonitorUnitCalibration(gy, ref).calibrate(r),
                 lambda: DoseRateCalibration.from_dose_rate(gy, point_cm=b).calibrate(r)):
        try:
            out = make()
        except Exception as exc:   # noqa: BLE001
            _ok_error(exc)
        else:
            assert out is not None


# ---------------------------------------------------------------------------------------- files
@pytest.fixture(scope="module")
def result_bytes(small, tmp_path_factory):
    _, _, r = small
    MonitorUnitCalibration(0.01).calibrate(r).apply(r)
    p = tmp_path_factory.mktemp("r") / "r.h5"
    r.save(p)
    return p.read_bytes()


@settings(max_examples=600, **SETTINGS)
@given(cut=st.integers(0, 10**6), flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                                                 max_size=6))
def test_damaged_result_files(result_bytes, tmp_path_factory, cut, flips):
    data = bytearray(result_bytes)
    n = len(data)
    for pos, val in flips:
        data[pos % n] = val
    if cut % 3 == 0:
        data = data[: cut % n]
    p = tmp_path_factory.getbasetemp() / f"damaged_{os.getpid()}.h5"
    p.write_bytes(bytes(data))
    try:
        back = mc.load(p)
    except Exception as exc:   # noqa: BLE001
        _ok_error(exc)
    else:
        assert back.dose.shape == (10, 8, 8)


@pytest.fixture(scope="module")
def plain_file(small, tmp_path_factory):
    """A result written without the checksum block (as format 1.1 files are), to damage field by field."""
    import h5py

    _, _, r = small
    p = tmp_path_factory.mktemp("plain") / "plain.h5"
    with h5py.File(p, "w") as f:
        r._write(f)
    return p


def _objects(p):
    import h5py

    names = []
    with h5py.File(p, "r") as f:
        f.visit(names.append)
        attrs = [("/", k) for k in f.attrs] + [(n, k) for n in names for k in f[n].attrs]
    return names, attrs


@settings(max_examples=400, **SETTINGS)
@given(which=st.integers(0, 10**6), how=st.sampled_from(["delete", "attr", "dataset"]), value=JUNK)
def test_semantically_damaged_result_files(plain_file, tmp_path_factory, which, how, value):
    import shutil

    import h5py

    p = tmp_path_factory.getbasetemp() / f"sem_{os.getpid()}.h5"
    shutil.copyfile(plain_file, p)
    names, attrs = _objects(p)
    with h5py.File(p, "r+") as f:
        if how == "delete":
            del f[names[which % len(names)]]
        elif how == "attr":
            obj, key = attrs[which % len(attrs)]
            try:
                f[obj].attrs[key] = value
            except (TypeError, ValueError):
                f[obj].attrs[key] = str(value)
        else:
            ds = [n for n in names if isinstance(f[n], h5py.Dataset)]
            n = ds[which % len(ds)]
            del f[n]
            try:
                f[n] = np.asarray(value)
            except (TypeError, ValueError):
                f[n] = str(value)
    try:
        back = mc.load(p)
    except Exception as exc:   # noqa: BLE001
        _ok_error(exc)
    else:
        assert back.dose.ndim == 3
