"""DoseResult: statistics, merging, normalisation and the versioned HDF5 format."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import h5py
import numpy as np
import pytest

from iortmc.errors import DataError, InputError
from iortmc.geometry import Phantom
from iortmc.physics.materials import Material
from iortmc.results.dose import FILE_TYPE, FORMAT_VERSION, DoseResult, load, merge, restamp

DOC = Path(__file__).resolve().parents[2] / "docs" / "hdf5-format.md"
N_HIST = 200


# ---------------------------------------------------------------------------------------- fixtures
def _phantom(shape=(6, 5, 4), voxel_size=(0.1, 0.2, 0.25), origin=(-0.2, -0.5, 1.0)) -> Phantom:
    gland = Material("gland", density=1.04, composition={"H": 0.106, "C": 0.332, "N": 0.03, "O": 0.527,
                                                          "P": 0.001, "S": 0.002, "Na": 0.001, "Cl": 0.001})
    water = Material("water", density=1.0, formula="H2O", I_eV=75.0)
    index = np.zeros(shape, dtype=np.int32)
    index[:, :, shape[2] // 2:] = 1
    density = np.where(index == 1, 1.04, 1.0)
    density[0, 0, 0] = 1.2
    return Phantom([water, gland], index, density=density, voxel_size=voxel_size, origin=origin)


def _per_history(n=N_HIST, shape=(6, 5, 4), seed=1234) -> np.ndarray:
    """Synthetic per-history doses (Gy): exponential deposits in ~30 % of the voxels, a few voxels never hit."""
    rng = np.random.default_rng(seed)
    x = rng.exponential(1e-12, size=(n, *shape)) * (rng.random((n, *shape)) < 0.3)
    x[:, -1, -1, -1] = 0.0
    return x


def _result(x, phantom=None, seed=7, **kw) -> DoseResult:
    ph = _phantom() if phantom is None else phantom
    kw.setdefault("source", {"type": "point", "position": (0.0, 0.0, 0.0), "energy": 0.05})
    kw.setdefault("options", {"photon_cutoff": 0.001, "threads": 4, "scoring": "kerma"})
    kw.setdefault("energy_balance", {"emitted": 10.0 * len(x), "deposited": 6.0 * len(x),
                                     "escaped": 3.5 * len(x), "below_cutoff": 0.5 * len(x),
                                     "fluorescence_escaped": 0.01 * len(x)})
    kw.setdefault("timing", {"wall_s": 1.5, "cpu_s": 5.0, "compile_s": 0.25})
    kw.setdefault("batches", 10)
    kw.setdefault("metadata", {"label": "unit test"})
    return DoseResult(x.sum(axis=0), (x * x).sum(axis=0), len(x), ph, seed=seed, **kw)


@pytest.fixture()
def result():
    return _result(_per_history())


# ---------------------------------------------------------------------------------------- statistics
def test_dose_and_uncertainty_are_history_by_history_statistics(result):
    """Walters, Kawrakow & Rogers, Med Phys 29 (2002) 2745: s_mean = std(ddof=1)/sqrt(N)."""
    x = _per_history()
    mean = x.mean(axis=0)
    np.testing.assert_allclose(result.dose, mean, rtol=1e-13)
    hit = mean > 0
    expected = x.std(axis=0, ddof=1)[hit] / math.sqrt(N_HIST) / mean[hit]
    np.testing.assert_allclose(result.uncertainty[hit], expected, rtol=1e-9)
    assert result.uncertainty[-1, -1, -1] == 1.0            # never hit: documented as 1.0
    assert result.dose.shape == result.phantom.shape == (6, 5, 4)


def test_uncertainty_is_one_for_a_single_history():
    x = _per_history(n=1)
    assert np.all(_result(x).uncertainty == 1.0)


@pytest.mark.parametrize("kw, match", [
    (dict(dose_sum=np.zeros((2, 2, 2))), "dose_sum must have the phantom shape"),
    (dict(histories=0), "histories must be an integer >= 1"),
    (dict(histories=2.5), "histories must be an integer >= 1"),
    (dict(dose_sum2=-np.ones((6, 5, 4))), "dose_sum2 must be >= 0"),
    (dict(seed=-3), "seed must be an integer"),
    (dict(options={"f": object()}), "options"),
    (dict(timing={"walltime": 3}), "timing keys"),
])
def test_constructor_rejects_bad_input(kw, match):
    args = dict(dose_sum=np.zeros((6, 5, 4)), dose_sum2=np.zeros((6, 5, 4)), histories=10, phantom=_phantom())
    args.update(kw)
    with pytest.raises(InputError, match=match):
        DoseResult(args.pop("dose_sum"), args.pop("dose_sum2"), args.pop("histories"), args.pop("phantom"), **args)


# ---------------------------------------------------------------------------------------- files
def _walk(path) -> dict:
    """Every dataset value and attribute in a file: {path or path@attr: value}."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            key = "/" + name
            if isinstance(obj, h5py.Dataset):
                out[key] = obj[()]
            else:
                out[key] = "<group>"
            for a, v in obj.attrs.items():
                out[f"{key}@{a}"] = v
        for a, v in f.attrs.items():
            out[f"/@{a}"] = v
        f.visititems(visit)
    return out


def _equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def test_round_trip_keeps_every_field(tmp_path, result):
    p1 = tmp_path / "a.h5"
    result.save(p1)
    back = load(p1)
    assert np.array_equal(back.dose_sum, result.dose_sum) and back.dose_sum.dtype == np.float64
    assert np.array_equal(back.dose_sum2, result.dose_sum2)
    assert np.array_equal(back.dose, result.dose)
    assert np.array_equal(back.uncertainty, result.uncertainty)
    assert back.histories == N_HIST and back.seed == 7 and back.batches == 10
    assert back.timing == result.timing
    assert back.energy_balance == result.energy_balance
    assert back.options == result.options and back.source == result.source
    assert back.source["position"] == [0.0, 0.0, 0.0]
    assert back.metadata == result.metadata
    ph, ph0 = back.phantom, result.phantom
    assert ph.voxel_size == ph0.voxel_size and ph.origin == ph0.origin
    assert np.array_equal(ph.index, ph0.index) and np.array_equal(ph.density, ph0.density)
    assert [m.to_dict() for m in ph.materials] == [m.to_dict() for m in ph0.materials]
    # saving the loaded result writes the same file, field by field (creation time aside)
    p2 = tmp_path / "b.h5"
    back.save(p2)
    f1, f2 = _walk(p1), _walk(p2)
    assert set(f1) == set(f2)
    differ = [k for k in f1 if k != "/@created_utc" and not _equal(f1[k], f2[k])]
    assert differ == []


def test_file_reads_in_plain_h5py(tmp_path, result):
    p = tmp_path / "r.h5"
    result.save(p)
    with h5py.File(p, "r") as f:
        assert f.attrs["file_type"] == FILE_TYPE and f.attrs["format_version"] == FORMAT_VERSION
        assert int(f.attrs["histories"]) == N_HIST
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", f.attrs["created_utc"])
        assert list(f.attrs["seed"]) == [7]
        for name, units in [("dose/sum", "Gy"), ("dose/sum2", "Gy^2"), ("dose/dose", "Gy/history"),
                            ("dose/uncertainty", "1"), ("phantom/density", "g/cm3"), ("phantom/index", "1")]:
            ds = f[name]
            assert ds.attrs["units"] == units
            assert ds.shape == (6, 5, 4) and ds.chunks is not None and ds.compression == "gzip"
        np.testing.assert_array_equal(f["phantom"].attrs["voxel_size"], (0.1, 0.2, 0.25))
        m1 = f["phantom/materials/1"]
        assert m1.attrs["name"] == "gland"
        assert abs(float(np.sum(m1.attrs["mass_fractions"])) - 1.0) < 1e-12
        assert json.loads(f["source"].attrs["json"])["energy"] == 0.05
        assert f["energy_balance"].attrs["deposited"] == 6.0 * N_HIST


def test_result_without_optional_inputs_round_trips(tmp_path):
    x = _per_history()
    r = DoseResult(x.sum(0), (x * x).sum(0), N_HIST, _phantom())
    r.save(tmp_path / "bare.h5")
    back = load(tmp_path / "bare.h5")
    assert back.seed is None and back.batches is None and back.energy_balance is None
    assert back.source is None and back.options == {} and math.isnan(back.timing["wall_s"])


# ---------------------------------------------------------------------------------------- bad files
def test_load_rejects_a_non_hdf5_file(tmp_path):
    p = tmp_path / "notes.h5"
    p.write_text("dose,1,2,3\n")
    with pytest.raises(DataError, match="not an HDF5 file"):
        load(p)


def test_load_rejects_a_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load(tmp_path / "nothing.h5")


def test_load_rejects_hdf5_from_another_program(tmp_path):
    p = tmp_path / "other.h5"
    with h5py.File(p, "w") as f:
        f["dose"] = np.zeros((2, 2, 2))
    with pytest.raises(DataError, match="no 'file_type' attribute"):
        load(p)
    with h5py.File(p, "a") as f:
        f.attrs["file_type"] = "opengate-dose"
    with pytest.raises(DataError, match="of type 'opengate-dose', not an iortmc result"):
        load(p)


def test_load_rejects_a_truncated_file(tmp_path, result):
    p = tmp_path / "r.h5"
    result.save(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated"):
        load(p)


def test_load_rejects_a_newer_major_version_and_accepts_a_newer_minor(tmp_path, result):
    p = tmp_path / "r.h5"
    result.save(p)
    with h5py.File(p, "a") as f:
        f.attrs["format_version"] = "1.7"
    with pytest.raises(DataError, match="checksum does not match.*restamp"):   # edited: refused
        load(p)
    restamp(p)                                                             # an intended edit
    assert load(p).histories == N_HIST
    with h5py.File(p, "a") as f:
        f.attrs["format_version"] = "2.0"
    restamp(p)
    with pytest.raises(DataError, match=r"format 2\.0, newer than this iortmc.*upgrade"):
        load(p)


def test_load_names_a_missing_field(tmp_path, result):
    p = tmp_path / "r.h5"
    result.save(p)
    with h5py.File(p, "a") as f:
        del f["dose/sum2"]
    restamp(p)
    with pytest.raises(DataError, match="/dose/sum2 is missing"):
        load(p)


# ---------------------------------------------------------------------------------------- atomic write
def _no_temp_left(directory: Path) -> bool:
    return not [q for q in directory.iterdir() if q.name.endswith(".tmp")]


def test_failed_rename_leaves_the_old_file_intact(tmp_path, result, monkeypatch):
    p = tmp_path / "r.h5"
    old = _result(_per_history(seed=99), seed=99)
    old.save(p)
    before = p.read_bytes()

    def crash(*a, **k):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        result.save(p)
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert load(p).seed == 99
    assert _no_temp_left(tmp_path)


def test_writer_killed_mid_write_leaves_the_old_file_intact(tmp_path, result, monkeypatch):
    p = tmp_path / "r.h5"
    old = _result(_per_history(seed=99), seed=99)
    old.save(p)
    before = p.read_bytes()
    real = h5py.Group.create_dataset
    calls = []

    def dying(self, *a, **k):
        calls.append(a[0] if a else k.get("name"))
        if len(calls) == 3:
            raise KeyboardInterrupt("simulated kill during write")
        return real(self, *a, **k)

    monkeypatch.setattr(h5py.Group, "create_dataset", dying)
    with pytest.raises(KeyboardInterrupt):
        result.save(p)
    monkeypatch.undo()
    assert len(calls) == 3
    assert p.read_bytes() == before
    assert _no_temp_left(tmp_path)
    # and a new file that fails is never created under the target name
    monkeypatch.setattr(h5py.Group, "create_dataset", dying)
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        result.save(tmp_path / "new.h5")
    assert not (tmp_path / "new.h5").exists() and _no_temp_left(tmp_path)


# ---------------------------------------------------------------------------------------- doc sync
CHECKPOINT_SECTION = "## Checkpoints"


def _documented(section: str = "result") -> set[str]:
    """Field rows of docs/hdf5-format.md: the plain result table (``result``), or the table of the
    checkpoint section (``checkpoint``, checked in tests/unit/test_checkpoint.py)."""
    text = DOC.read_text()
    assert CHECKPOINT_SECTION in text
    head, tail = text.split(CHECKPOINT_SECTION, 1)
    rows = set()
    for line in (head if section == "result" else tail).splitlines():
        m = re.match(r"^\|\s*`([^`]+)`\s*\|\s*(attribute|dataset|group)\s*\|", line)
        if m:
            rows.add(m.group(1))
    return rows


def _doc_pattern(field: str) -> re.Pattern:
    pat = re.escape(field).replace(re.escape("<i>"), r"\d+").replace(re.escape("<other>"), r"[^/@]+")
    return re.compile(pat + r"\Z")


def test_doc_and_writer_agree(tmp_path, result):
    """Every field written is documented in docs/hdf5-format.md and every documented field is written
    (the optional calibration group included)."""
    p = tmp_path / "r.h5"
    result.set_calibration({"unit": "MU", "histories_per_unit": 1.5e9, "measured_Gy_per_unit": 0.01,
                            "reference": "test", "reference_dose_Gy_per_history": 6.7e-12,
                            "reference_rel_unc": 0.01, "details": {}})
    result.save(p)
    written = set(_walk(p))
    doc = _documented()
    assert len(doc) > 40
    exact = {d for d in doc if "<" not in d}
    wild = [_doc_pattern(d) for d in doc if "<" in d]
    undocumented = sorted(w for w in written if w not in exact and not any(p.match(w) for p in wild))
    assert undocumented == []
    # wildcards may only cover what the exact rows do not
    not_written = sorted(d for d in doc if not any(_doc_pattern(d).match(w) for w in written))
    assert not_written == []


# ---------------------------------------------------------------------------------------- merging
def test_merge_of_two_halves_equals_the_whole():
    """Sums of independent runs add (Walters et al. 2002): merged statistics are those of one long run."""
    x = _per_history()
    whole = _result(x, seed=1, batches=20,
                    timing={"wall_s": 3.0, "cpu_s": 10.0, "compile_s": 0.5})
    a = _result(x[:80], seed=1)
    b = _result(x[80:], seed=2, options={"photon_cutoff": 0.001, "threads": 1, "scoring": "kerma"})
    m = merge([a, b])
    assert m.histories == N_HIST and m.seed == (1, 2) and m.batches == 20
    np.testing.assert_allclose(m.dose_sum, whole.dose_sum, rtol=1e-14, atol=0)
    np.testing.assert_allclose(m.dose_sum2, whole.dose_sum2, rtol=1e-14, atol=0)
    np.testing.assert_allclose(m.dose, whole.dose, rtol=1e-14, atol=0)
    np.testing.assert_allclose(m.uncertainty, whole.uncertainty, rtol=1e-9)
    for k, v in m.energy_balance.items():
        assert v == pytest.approx(whole.energy_balance[k], rel=1e-14)
    assert m.timing == {"wall_s": 3.0, "cpu_s": 10.0, "compile_s": 0.5}
    assert m.metadata["merged_runs"] == 2
    # the operator forms agree with merge()
    assert np.array_equal((a + b).dose_sum, m.dose_sum)
    assert np.array_equal(sum([a, b]).dose_sum2, m.dose_sum2)


def test_merge_after_file_round_trip_is_exact(tmp_path):
    x = _per_history()
    a, b = _result(x[:100], seed=1), _result(x[100:], seed=2)
    a.save(tmp_path / "a.h5")
    b.save(tmp_path / "b.h5")
    m = load(tmp_path / "a.h5") + load(tmp_path / "b.h5")
    assert np.array_equal(m.dose_sum, (a + b).dose_sum)
    assert np.array_equal(m.dose_sum2, (a + b).dose_sum2)


def _variant(kind):
    x = _per_history(n=50)
    if kind == "shape":
        return _result(_per_history(n=50, shape=(6, 5, 5)), phantom=_phantom(shape=(6, 5, 5)))
    if kind == "voxel_size":
        return _result(x, phantom=_phantom(voxel_size=(0.1, 0.2, 0.3)))
    if kind == "origin":
        return _result(x, phantom=_phantom(origin=(0.0, 0.0, 0.0)))
    if kind == "index":
        ph = _phantom()
        ph.index[0, 0, 0] = 1
        return _result(x, phantom=ph)
    if kind == "density":
        ph = _phantom()
        ph.density[1, 1, 1] = 1.01
        return _result(x, phantom=ph)
    if kind == "materials":
        ph = _phantom()
        ph.materials[1] = Material("gland", density=1.04, formula="H2O")
        return _result(x, phantom=ph)
    if kind == "source":
        return _result(x, source={"type": "point", "position": (0.0, 0.0, 0.1), "energy": 0.05})
    if kind == "options":
        return _result(x, options={"photon_cutoff": 0.002, "threads": 4, "scoring": "kerma"})
    raise AssertionError(kind)


@pytest.mark.parametrize("kind, match", [
    ("shape", "grid shape"), ("voxel_size", "voxel_size"), ("origin", "origin"),
    ("index", "material index arrays differ in 1 voxels"), ("density", "density arrays differ"),
    ("materials", "materials"), ("source", "source"), ("options", "photon_cutoff: 0.002 vs 0.001"),
])
def test_merge_refuses_different_problems(kind, match):
    base = _result(_per_history(n=50), seed=3)
    with pytest.raises(InputError, match=match):
        merge([base, _variant(kind)])


def test_merge_accepts_differing_run_only_options_and_warns_on_shared_seeds():
    x = _per_history(n=40)
    a = _result(x, seed=5, options={"photon_cutoff": 0.001, "threads": 4, "scoring": "kerma", "seed": 5})
    b = _result(x, seed=6, options={"photon_cutoff": 0.001, "threads": 16, "scoring": "kerma", "seed": 6})
    assert (a + b).histories == 80
    with pytest.warns(RuntimeWarning, match=r"seeds \[5\]"):
        merge([a, a])
    with pytest.raises(InputError, match="at least one"):
        merge([])
    with pytest.raises(InputError, match="item 1 is a int"):
        merge([a, 3])


# ---------------------------------------------------------------------------------------- normalisation
def _uniform_result(value=2e-12, n=100):
    ph = Phantom.box(shape=(10, 4, 4), voxel_size=0.5, material=Material("w", 1.0, formula="H2O"))
    x = np.full((n, *ph.shape), value)
    x[::2] *= 1.5
    x[1::2] *= 0.5     # mean = value; population sd = 0.5 value
    return DoseResult(x.sum(0), (x * x).sum(0), n, ph)


def test_scaled_to_a_point_and_a_depth():
    r = _uniform_result()
    s = r.scaled_to(20.0, point_xyz_cm=(0.1, -0.3, 1.2))
    assert s.factor == pytest.approx(20.0 / 2e-12, rel=1e-12)
    np.testing.assert_allclose(s.dose, 20.0, rtol=1e-12)
    # per voxel: population sd / mean = 0.5 -> relative sd of the mean 0.5/sqrt(n-1); interpolating
    # between independent voxels can only lower it
    assert 0 < s.reference_rel_unc < 0.5 / math.sqrt(99)
    np.testing.assert_allclose(r.uncertainty, 0.5 / math.sqrt(99), rtol=1e-9)
    d = r.scaled_to(5.0, depth_cm=2.0)
    assert d.factor == pytest.approx(5.0 / 2e-12, rel=1e-12) and "depth 2" in d.reference
    # central axis of a 4 x 4 cross-section: mean of 2 x 2 independent voxels -> half the voxel value
    assert d.reference_rel_unc == pytest.approx(0.25 / math.sqrt(99), rel=1e-9)
    with pytest.raises(InputError, match="exactly one of"):
        r.scaled_to(5.0)
    with pytest.raises(InputError, match="dose_Gy must be finite and > 0"):
        r.scaled_to(-1.0, depth_cm=1.0)
    with pytest.raises(InputError, match="outside the phantom"):
        r.scaled_to(5.0, point_xyz_cm=(0.0, 0.0, 9.0))


def test_dose_rate_and_treatment_time():
    r = _uniform_result()
    np.testing.assert_allclose(r.dose_rate(histories_per_second=1e10), 2e-2, rtol=1e-12)
    t = r.treatment_time(20.0, histories_per_second=1e10, depth_cm=1.0)
    # 20 Gy at 0.02 Gy/s -> 1000 s
    assert t.time_s == pytest.approx(1000.0, rel=1e-12) and t.time_min == pytest.approx(1000.0 / 60)
    assert t.histories == pytest.approx(1e13, rel=1e-12)
    with pytest.raises(InputError, match="histories_per_second"):
        r.dose_rate(0.0)
