"""Coupled photon-electron transport through simulate(): energy balance (exact), thread invariance,
positrons, photon-made electrons, and input validation of the electron options."""

import numpy as np
import pytest

import iortmc as mc
from iortmc import InputError


def _slab_phantom():
    ph = mc.Phantom.box(shape=(30, 10, 10), voxel_size=0.4, material="water", origin=(-2, -2, 0))
    ph.paint_box((-2, -2, 2.0), (2, 2, 2.8), "bone_cortical_icrp")
    ph.paint_box((-2, -2, 4.0), (2, 2, 4.4), "lead")
    ph.paint_box((-2, -2, 6.0), (2, 2, 8.0), "lung_icrp", density=0.26)
    return ph


@pytest.mark.parametrize("particle", ["e-", "e+"])
def test_electron_beam_energy_balance_is_exact(particle):
    """Deposited + escaped + below cut-off = emitted (positrons carry 2 m c^2 into annihilation)."""
    beam = mc.ElectronBeam(6.0, field_diameter=2.0, position=(0, 0, -1), particle=particle)
    r = mc.simulate(_slab_phantom(), beam, histories=3000, seed=2, threads=2)
    eb = r.energy_balance
    rest = 2 * 0.51099895 if particle == "e+" else 0.0
    assert eb["emitted"] == pytest.approx(3000 * (6.0 + rest), rel=1e-12)
    assert abs(eb["deposited"] + eb["escaped"] + eb["below_cutoff"] - eb["emitted"]) <= 1e-9 * eb["emitted"]
    assert eb["scored"] == pytest.approx(eb["deposited"] + eb["below_cutoff"], rel=2e-6)
    assert r.options["electrons"] is True and r.options["scoring"] == "analog"


def test_photon_made_electrons_are_transported_and_balance():
    ph = _slab_phantom()
    src = mc.PointSource(mc.Spectrum.mono(5.0), (0, 0, -3.0))
    r = mc.simulate(ph, src, histories=5000, seed=4, threads=2)
    assert r.options["electrons"] is True
    eb = r.energy_balance
    assert abs(eb["deposited"] + eb["escaped"] + eb["below_cutoff"] - eb["emitted"]) <= 1e-9 * eb["emitted"]


def test_secondary_electron_build_up_of_a_photon_beam():
    """5 MeV photons: with electron transport the integral depth dose builds up over ~2 cm (the
    secondary-electron range); in the kerma approximation it starts at its maximum."""
    ph = mc.Phantom.box(shape=(40, 10, 10), voxel_size=(1.0, 1.0, 0.25), origin=(-5, -5, 0))
    src = mc.PencilBeam(mc.Spectrum.mono(5.0), (0, 0, -1.0), (0, 0, 1))
    e = mc.simulate(ph, src, histories=20_000, seed=4, threads=2).dose.sum(axis=(1, 2))
    k = mc.simulate(ph, src, histories=20_000, seed=4, threads=2, electrons=False).dose.sum(axis=(1, 2))
    assert e[0] < 0.25 * e[8:12].mean()
    assert k[0] > 0.6 * k[8:12].mean()


def test_electron_runs_are_bitwise_identical_for_any_thread_count():
    ph = _slab_phantom()
    beam = mc.ElectronBeam(9.0, field_size=(2.0, 2.0), position=(0, 0, -1), angular_spread=0.05)
    r1 = mc.simulate(ph, beam, histories=2000, seed=7, threads=1, batches=8)
    r2 = mc.simulate(ph, beam, histories=2000, seed=7, threads=2, batches=8)
    assert np.array_equal(r1.dose, r2.dose)
    assert np.array_equal(r1.uncertainty, r2.uncertainty)
    assert r1.energy_balance == r2.energy_balance


def test_lead_shields_what_lies_behind_it():
    """A 9 MeV beam stopped by 1 cm of lead: dose behind the lead is bremsstrahlung only (< 5%)."""
    ph = mc.Phantom.box(shape=(40, 10, 10), voxel_size=0.25, material="water", origin=(-1.25, -1.25, 0))
    ph.paint_box((-2, -2, 1.0), (2, 2, 2.0), "lead")
    r = mc.simulate(ph, mc.ElectronBeam(9.0, field_diameter=2.0, position=(0, 0, -1)), histories=3000,
                    seed=3, threads=2)
    dd = r.dose[:, 4:6, 4:6].mean(axis=(1, 2))
    assert dd[10:].max() < 0.05 * dd[:4].max()


@pytest.mark.parametrize("kwargs,match", [
    (dict(electrons=False), "needs electron transport"),
    (dict(scoring="kerma"), "kerma"),
    (dict(ecut=-0.1), "ecut"),
    (dict(ecut=5.0), "ecut"),
    (dict(ae=0.0), "ae"),
    (dict(estepe=0.9), "estepe"),
    (dict(multiple_scattering="yes"), "multiple_scattering"),
    (dict(electrons="on"), "electrons"),
])
def test_electron_option_validation(kwargs, match):
    ph = mc.Phantom.box(shape=(4, 4, 4), voxel_size=0.5)
    with pytest.raises(InputError, match=match):
        mc.simulate(ph, mc.ElectronBeam(6.0, field_diameter=1.0), histories=10, **kwargs)


def test_electron_options_need_electron_transport():
    ph = mc.Phantom.box(shape=(4, 4, 4), voxel_size=0.5)
    with pytest.raises(InputError, match="electron transport is off"):
        mc.simulate(ph, mc.PointSource(0.05), histories=10, ecut=0.05)
    with pytest.raises(InputError, match="kerma"):
        mc.simulate(ph, mc.PointSource(0.05), histories=10, electrons=True)
