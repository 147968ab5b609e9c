"""Phantom builders and painting, spectra and point sources: behaviour and validation errors."""

import numpy as np
import pytest

import iortmc as mc
from iortmc import InputError
from iortmc.sources import PencilBeam


def test_box_is_centred_and_indexed_z_y_x():
    ph = mc.Phantom.box(shape=(4, 6, 8), voxel_size=0.5, material="water")
    assert ph.shape == (4, 6, 8)
    assert ph.origin == (-2.0, -1.5, -1.0)
    x, y, z = ph.centers()
    assert (x.size, y.size, z.size) == (8, 6, 4)
    assert x[0] == pytest.approx(-1.75) and z[-1] == pytest.approx(0.75)
    assert np.all(ph.density == 1.0)
    assert ph.voxel_of((1.9, 0.0, -0.9)) == (0, 3, 7)  # [k, j, i]


def test_slabs_stack_along_an_axis():
    ph = mc.Phantom.slabs([1.0, 0.5, 2.0], ["water", "bone_cortical_icrp", "lung_icrp"], axis="z",
                          lateral_cm=4.0, voxel_size=0.5)
    assert ph.shape == (7, 8, 8)
    assert ph.origin[2] == 0.0
    np.testing.assert_array_equal(ph.index[:, 0, 0], [0, 0, 1, 2, 2, 2, 2])
    assert ph.density[2, 0, 0] == pytest.approx(mc.material("bone_cortical_icrp").density)
    phx = mc.Phantom.slabs([1.0, 1.0], ["water", "lead"], axis="x", lateral_cm=2.0, voxel_size=0.5)
    np.testing.assert_array_equal(phx.index[0, 0, :], [0, 0, 1, 1])


def test_painting_sphere_cylinder_box_uses_voxel_centres():
    ph = mc.Phantom.box(shape=(21, 21, 21), voxel_size=0.1, material="breast_50_50")
    ph.paint_sphere((0, 0, 0), 0.5, "saline")
    slot = [m.name for m in ph.materials].index("saline")
    x, y, z = ph.centers()
    zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
    inside = xx**2 + yy**2 + zz**2 <= 0.25
    np.testing.assert_array_equal(ph.index == slot, inside)
    assert np.all(ph.density[inside] == mc.material("saline").density)
    ph.paint_cylinder((0, 0, 0), 0.2, 2.0, "air", axis="x")
    ph.paint_box((-1.1, -1.1, 0.85), (1.1, 1.1, 1.1), "lead", density=11.0)
    assert np.all(ph.density[-1] == 11.0)
    assert len(ph.materials) == 4
    # painting the same material again reuses its slot
    ph.paint_sphere((0.5, 0.5, 0.5), 0.1, "saline")
    assert len(ph.materials) == 4


@pytest.mark.parametrize("kwargs,match", [
    (dict(materials=["water"], index=np.zeros((2, 2))), "3-D"),
    (dict(materials=["water"], index=np.ones((2, 2, 2), int)), "material 1"),
    (dict(materials=["water"], index=-np.ones((2, 2, 2), int)), "material -1"),
    (dict(materials=["water"], index=np.zeros((2, 2, 2)), density=np.zeros((2, 2, 2))), "> 0"),
    (dict(materials=["water"], index=np.zeros((2, 2, 2)), density=np.full((2, 2, 2), np.nan)), "finite"),
    (dict(materials=["water"], index=np.zeros((2, 2, 2)), density=np.ones((2, 2, 3))), "shape"),
    (dict(materials=["water"], index=np.zeros((2, 2, 2)), voxel_size=-0.1), "voxel_size"),
    (dict(materials=["water"], index=np.zeros((2, 2, 2)), voxel_size=(0.1, 0.1)), "voxel_size"),
    (dict(materials=["water"], index=np.zeros((2, 2, 2)), origin=(0, np.nan, 0)), "origin"),
    (dict(materials=["kryptonite"], index=np.zeros((2, 2, 2))), "unknown material"),
    (dict(materials=[], index=np.zeros((2, 2, 2))), "at least one"),
    (dict(materials=["water"], index=np.full((2, 2, 2), 0.5)), "integers"),
])
def test_bad_phantoms_raise(kwargs, match):
    with pytest.raises(InputError, match=match):
        mc.Phantom(**kwargs)


def test_bad_painting_raises():
    ph = mc.Phantom.box(shape=(4, 4, 4), voxel_size=0.5)
    with pytest.raises(InputError, match="radius"):
        ph.paint_sphere((0, 0, 0), -1.0, "air")
    with pytest.raises(InputError, match="upper"):
        ph.paint_box((0, 0, 0), (0, 1, 1), "air")
    with pytest.raises(InputError, match="axis"):
        ph.paint_cylinder((0, 0, 0), 1, 1, "air", axis="w")
    with pytest.raises(InputError, match="density"):
        ph.paint_sphere((0, 0, 0), 1.0, "air", density=-2)
    with pytest.raises(InputError, match="whole number"):
        mc.Phantom.slabs([0.33], ["water"], voxel_size=0.1)


def test_spectrum_mono_arrays_histogram_and_sampling():
    s = mc.Spectrum.mono(0.05)
    assert s.mean_energy == 0.05 and np.all(s.sample(10) == 0.05)
    lines = mc.Spectrum.from_arrays(energies=[0.02, 0.06], weights=[3, 1])
    assert lines.mean_energy == pytest.approx(0.03)
    e = lines.sample(200_000, seed=1)
    assert abs(np.mean(e == 0.02) - 0.75) < 4 * np.sqrt(0.75 * 0.25 / 2e5)
    h = mc.Spectrum.from_arrays(edges=[0.01, 0.02, 0.04], weights=[1, 1])
    assert h.mean_energy == pytest.approx(0.5 * 0.015 + 0.5 * 0.03)
    e = h.sample(200_000, seed=2)
    assert e.min() >= 0.01 and e.max() <= 0.04
    assert abs(e.mean() - h.mean_energy) < 4 * e.std() / np.sqrt(e.size)


def test_alias_sampling_matches_weights_chi_square():
    from scipy import stats

    w = np.random.default_rng(0).random(37)
    s = mc.Spectrum.from_arrays(energies=np.linspace(0.01, 0.05, 37), weights=w)
    e = s.sample(300_000, seed=3)
    counts = np.array([(e == x).sum() for x in s.e_lo])
    assert stats.chisquare(counts, 300_000 * s.weights).pvalue > 1e-3


@pytest.mark.parametrize("kwargs,match", [
    (dict(energies=[], weights=[]), "empty"),
    (dict(energies=[0.05], weights=[-1.0]), ">= 0"),
    (dict(energies=[0.05, 0.06], weights=[0.0, 0.0]), "zero"),
    (dict(energies=[0.0005], weights=[1.0]), "outside the tables"),
    (dict(energies=[25.0], weights=[1.0]), "outside the tables"),
    (dict(energies=[np.nan], weights=[1.0]), "non-finite"),
    (dict(energies=[0.05, 0.06], weights=[1.0]), "differ in length"),
    (dict(edges=[0.02, 0.01], weights=[1.0]), "increasing"),
    (dict(edges=[0.01, 0.02], weights=[1.0, 2.0]), "len"),
    (dict(energies=[0.05], edges=[0.01, 0.02], weights=[1.0]), "not both"),
])
def test_bad_spectra_raise(kwargs, match):
    with pytest.raises(InputError, match=match):
        mc.Spectrum(**kwargs)


def test_spectrum_files(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("# my tube\nenergy_keV,weight\n20,1\n30,3\n")
    s = mc.Spectrum.from_file(p)
    assert s.mean_energy == pytest.approx(0.0275)
    q = tmp_path / "h.txt"
    q.write_text("# low high weight\n10 20 1\n20 30 1\n")
    assert mc.Spectrum.from_file(q).is_histogram
    bad = tmp_path / "bad.csv"
    bad.write_text("20,1\n30,x\n")
    with pytest.raises(InputError, match="line 2"):
        mc.Spectrum.from_file(bad)
    with pytest.raises(InputError, match="cannot read"):
        mc.Spectrum.from_file(tmp_path / "missing.csv")
    gap = tmp_path / "gap.csv"
    gap.write_text("10,20,1\n25,30,1\n")
    with pytest.raises(InputError, match="contiguous"):
        mc.Spectrum.from_file(gap)
    with pytest.raises(InputError, match="energy_unit"):
        mc.Spectrum.from_file(p, energy_unit="J")


def test_builtin_spectra_load():
    for name in ("intrabeam_50kv_bare", "xoft_axxent_50kv"):
        s = mc.Spectrum.builtin(name)
        assert s.max_energy <= 0.0500001 and 0.01 < s.mean_energy < 0.035
        assert s.origin
    with pytest.raises(InputError, match="unknown built-in"):
        mc.Spectrum.builtin("cobalt")


@pytest.mark.parametrize("pos", [(0, np.nan, 0), (0, 0), "here", (np.inf, 0, 0)])
def test_bad_source_positions(pos):
    with pytest.raises(InputError, match="position"):
        mc.PointSource(mc.Spectrum.mono(0.05), position=pos)


def test_bad_source_spectrum_and_direction():
    with pytest.raises(InputError, match="spectrum"):
        mc.PointSource("fifty keV")
    with pytest.raises(InputError, match="zero vector"):
        PencilBeam(0.05, direction=(0, 0, 0))
    assert mc.PointSource(0.05).spectrum.mean_energy == 0.05
    d = PencilBeam(0.05, direction=(0, 3, 4)).direction
    np.testing.assert_allclose(d, [0, 0.6, 0.8])
