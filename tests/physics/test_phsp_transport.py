"""Transport of IAEA phase-space sources: a phase space must give the dose of the
source it was made from.

Reference: the analytic beam sources of iortmc itself, which are validated against physics elsewhere
(narrow-beam attenuation, CSDA ranges, point-kernel falloff). A phase space written from the same
particle distribution is an independent path through the code (file format, record replay, weights),
so agreement within statistics (chi-square over the voxels that matter, fixed seeds) checks the
replay; exact energy bookkeeping (emitted = sum of record energies x copies) checks the weights.
"""

from __future__ import annotations

import numpy as np
import pytest

import iortmc as mc
from iortmc.errors import InputError
from iortmc.sources.phsp import PHSP_DTYPE, PhaseSpace, PhaseSpaceSource, write_iaea_phsp


def _records(n, rng, *, kind=1, energy=0.1, radius=0.0, z=-1.0, weight=1.0):
    p = np.zeros(n, dtype=PHSP_DTYPE)
    p["type"] = kind
    p["energy"] = energy
    r = radius * np.sqrt(rng.random(n))
    ph = 2 * np.pi * rng.random(n)
    p["x"] = r * np.cos(ph)
    p["y"] = r * np.sin(ph)
    p["z"] = z
    p["w"] = 1.0
    p["weight"] = weight
    p["new_history"] = True
    return p


def _chi2_per_dof(a, b, frac=0.1):
    da, db = a.dose, b.dose
    sa, sb = a.uncertainty * da, b.uncertainty * db
    m = (da > frac * da.max()) & (sa > 0) & (sb > 0)
    chi2 = np.sum((da[m] - db[m]) ** 2 / (sa[m] ** 2 + sb[m] ** 2))
    return chi2 / m.sum(), int(m.sum())


def test_photon_phase_space_matches_the_pencil_beam(tmp_path):
    """100 keV photons along +z through a water slab: phase-space replay vs PencilBeam."""
    ph = mc.Phantom.box(shape=(20, 5, 5), voxel_size=(0.4, 0.4, 0.5), origin=(-1, -1, 0))
    n = 20000
    write_iaea_phsp(tmp_path / "pencil", _records(n, np.random.default_rng(1)), original_histories=n)
    src = PhaseSpaceSource(tmp_path / "pencil")
    a = mc.simulate(ph, src, n, seed=3, threads=1)
    b = mc.simulate(ph, mc.PencilBeam(mc.Spectrum.mono(0.1), position=(0, 0, -1.0)), n, seed=4, threads=1)
    assert a.options["scoring"] == "kerma" and a.metadata["primaries_per_history"] == 1.0
    chi2, dof = _chi2_per_dof(a, b, frac=0.002)
    assert dof > 100
    assert chi2 < 1.0 + 5 * np.sqrt(2.0 / dof), chi2
    eb = a.energy_balance
    assert eb["emitted"] == pytest.approx(n * float(np.float32(0.1)), rel=1e-12)  # float32 in the file


def test_electron_phase_space_matches_the_electron_beam():
    """6 MeV electrons, 2 cm diameter parallel field: replay vs ElectronBeam, central-axis voxels."""
    ph = mc.Phantom.box(shape=(20, 7, 7), voxel_size=(0.5, 0.5, 0.2), origin=(-1.75, -1.75, 0))
    n = 3000
    rec = _records(n, np.random.default_rng(2), kind=2, energy=6.0, radius=1.0, z=0.0)
    src = PhaseSpaceSource(PhaseSpace(rec, original_histories=2 * n))
    a = mc.simulate(ph, src, n, seed=5, threads=1)
    b = mc.simulate(ph, mc.ElectronBeam(6.0, field_diameter=2.0, position=(0, 0, 0)), n, seed=6,
                    threads=1)
    assert a.options["electrons"] and a.metadata["primaries_per_history"] == 2.0
    chi2, dof = _chi2_per_dof(a, b, frac=0.2)
    assert dof > 50
    assert chi2 < 1.0 + 5 * np.sqrt(2.0 / dof), chi2
    eb = a.energy_balance
    assert eb["emitted"] == pytest.approx(6.0 * n, rel=1e-12)
    assert abs(eb["deposited"] + eb["escaped"] + eb["below_cutoff"] - eb["emitted"]) < 1e-9 * eb["emitted"]


def test_weights_are_split_and_rouletted_without_bias():
    ph = mc.Phantom.box(shape=(10, 4, 4), voxel_size=0.5, origin=(-1, -1, 0))
    n = 20000
    rng = np.random.default_rng(7)
    one = mc.simulate(ph, PhaseSpaceSource(PhaseSpace(_records(n, rng), n)), n, seed=8, threads=1)
    two = mc.simulate(ph, PhaseSpaceSource(PhaseSpace(_records(n, rng, weight=2.0), n)), n, seed=8,
                      threads=1)
    half = mc.simulate(ph, PhaseSpaceSource(PhaseSpace(_records(n, rng, weight=0.5), n)), n, seed=8,
                       threads=1)
    # integer weights: exactly that many copies
    assert two.energy_balance["emitted"] == pytest.approx(2 * n * 0.1, rel=1e-12)
    # weight 1/2: binomial number of starts, mean n/2, sd sqrt(n)/2
    starts = half.energy_balance["emitted"] / 0.1
    assert abs(starts - n / 2) < 4 * np.sqrt(n) / 2
    d1 = one.dose.sum()
    d2 = two.dose.sum()
    s1 = np.sqrt(np.sum((one.uncertainty * one.dose) ** 2))
    s2 = np.sqrt(np.sum((two.uncertainty * two.dose) ** 2))
    assert abs(d2 - 2 * d1) < 4 * np.hypot(s2, 2 * s1)


def test_phase_space_runs_are_bitwise_identical_for_any_thread_count():
    ph = mc.Phantom.box(shape=(10, 5, 5), voxel_size=0.4, origin=(-1, -1, 0))
    rec = _records(500, np.random.default_rng(3), kind=2, energy=2.0, radius=0.5, z=0.0, weight=1.5)
    src = PhaseSpaceSource(PhaseSpace(rec, 500), recycle=2)
    a = mc.simulate(ph, src, 800, seed=9, threads=1, batches=8)
    b = mc.simulate(ph, src, 800, seed=9, threads=2, batches=8)
    np.testing.assert_array_equal(a.dose_sum, b.dose_sum)
    np.testing.assert_array_equal(a.dose_sum2, b.dose_sum2)


def test_charged_phase_space_needs_electron_transport():
    ph = mc.Phantom.box(shape=(4, 4, 4), voxel_size=0.5)
    rec = _records(10, np.random.default_rng(4), kind=3, energy=1.0)
    src = PhaseSpaceSource(PhaseSpace(rec, 10))
    with pytest.raises(InputError, match=r"PhaseSpaceSource.*needs electron transport"):
        mc.simulate(ph, src, 10, electrons=False)
    bad = rec.copy()
    bad["weight"][0] = np.nan
    with pytest.raises(InputError, match=r"weights must be finite"):
        PhaseSpaceSource(PhaseSpace(bad, 10))


def test_phase_space_in_a_case_file(tmp_path):
    from iortmc.cli.case import load_case

    rec = _records(200, np.random.default_rng(5), kind=1, energy=0.05, radius=0.5, z=-1.0)
    write_iaea_phsp(tmp_path / "beam", rec, original_histories=1000)
    (tmp_path / "c.toml").write_text('''
histories = 400
seed = 2
[phantom]
type = "box"
size_cm = [2.0, 2.0, 2.0]
voxel_size_cm = 0.5
material = "water"
[source]
type = "phase_space"
file = "beam"
recycle = 2
translate_cm = [0.0, 0.0, 0.5]
''')
    case = load_case(tmp_path / "c.toml")
    assert isinstance(case.source, PhaseSpaceSource) and case.source.recycle == 2
    res = case.run()
    assert res.metadata["primaries_per_history"] == pytest.approx(5.0)
    assert res.source["type"] == "PhaseSpaceSource" and res.dose.max() > 0
    (tmp_path / "d.toml").write_text('histories = 4\n[phantom]\nsize_cm = [2.0, 2.0, 2.0]\n'
                                     'voxel_size_cm = 0.5\n[source]\ntype = "phase_space"\n')
    with pytest.raises(InputError, match=r"phase_space needs file"):
        load_case(tmp_path / "d.toml")
