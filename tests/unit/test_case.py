"""TOML case files (iortmc.case): every bundled case loads, bad fields raise InputError naming the key."""

from pathlib import Path

import numpy as np
import pytest

from iortmc.cli.case import BUNDLED_CASES, bundled_case, load_case, loads_case
from iortmc.errors import InputError

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = '''
histories = 1000
[phantom]
size_cm = [2.0, 2.0, 2.0]
voxel_size_cm = 0.5
material = "water"
[source]
type = "point"
spectrum = { energy_keV = 50 }
'''


def test_minimal_case_defaults():
    c = loads_case(MINIMAL)
    assert c.phantom.shape == (4, 4, 4)
    assert c.histories == 1000 and c.seed == 1 and c.options == {}
    assert c.source.spectrum.max_energy == pytest.approx(0.05)
    assert c.default_reference_point() == (1.0, 0.0, 0.0)


@pytest.mark.parametrize("name", sorted(BUNDLED_CASES))
def test_bundled_cases_load_and_match_examples_dir(name):
    c = bundled_case(name)
    assert c.histories >= 100_000 and c.title
    assert (ROOT / "examples" / "cases" / f"{name}.toml").read_text() == BUNDLED_CASES[name]


def test_full_case_file(tmp_path):
    (tmp_path / "spec.csv").write_text("# E keV, weight\n20, 1\n40, 3\n")
    (tmp_path / "c.toml").write_text('''
title = "t"
histories = 10
seed = 7
[materials.gland]
density = 1.04
composition = { H = 0.106, C = 0.332, N = 0.03, O = 0.527, P = 0.005 }
[materials.light_breast]
base = "breast_icru44"
density = 0.9
[phantom]
type = "box"
shape = [4, 6, 8]
voxel_size_cm = [0.5, 0.5, 0.25]
material = "light_breast"
[[phantom.paint]]
shape = "sphere"
center_cm = [0, 0, 0]
radius_cm = 0.6
material = "gland"
[[phantom.paint]]
shape = "cylinder"
center_cm = [0, 0, 0]
radius_cm = 0.3
length_cm = 0.5
axis = "x"
material = "air"
[[phantom.paint]]
shape = "box"
lower_cm = [1.0, -1.5, -0.5]
upper_cm = [2.0, 1.5, 0.5]
material = "lead"
density = 11.0
[source]
type = "pencil_beam"
position_cm = [0, 0, -5]
direction = [0, 0, 2]
spectrum = { file = "spec.csv" }
[options]
threads = 1
batches = 5
scoring = "analog"
photon_cutoff_MeV = 0.005
[output]
file = "out.h5"
reference_point_cm = [0, 0, 0.25]
''')
    c = load_case(tmp_path / "c.toml")
    ph = c.phantom
    assert ph.shape == (4, 6, 8) and ph.voxel_size == (0.5, 0.5, 0.25)
    names = [m.name for m in ph.materials]
    assert names[0] == "light_breast" and {"gland", "air", "lead"} <= set(names)
    assert ph.materials[0].density == 0.9
    assert np.isclose(ph.density[ph.index == names.index("lead")], 11.0).all()
    assert np.allclose(c.source.direction, (0, 0, 1))
    assert c.source.spectrum.mean_energy == pytest.approx(0.035)
    assert c.options == {"threads": 1, "batches": 5, "scoring": "analog", "photon_cutoff": 0.005}
    assert c.output_file == "out.h5" and c.reference_point_cm == (0.0, 0.0, 0.25)


def test_slabs_case():
    c = bundled_case("pencil_slabs")
    assert c.phantom.shape == (80, 60, 60)
    assert [m.name for m in c.phantom.materials] == ["water", "bone_cortical_icrp", "water"]
    # the reference point is 1 cm deep on the beam axis
    assert c.default_reference_point() == pytest.approx((0.0, 0.0, 1.0))


def _bad(replace_from, replace_to):
    text = MINIMAL.replace(replace_from, replace_to)
    assert text != MINIMAL
    return text


@pytest.mark.parametrize("text, words", [
    (_bad("histories = 1000", "histories = -5"), ["histories", "between 1"]),
    (_bad("histories = 1000", "histories = 'many'"), ["histories", "integer"]),
    (_bad("histories = 1000", "histories = 1000\nsead = 3"), ["'sead'", "allowed"]),
    (_bad("histories = 1000", ""), ["histories", "required"]),
    (_bad("histories = 1000", "histories = 10\nseed = -1"), ["seed"]),
    (_bad("voxel_size_cm = 0.5", "voxel_size_cm = 0"), ["voxel_size_cm", "> 0"]),
    (_bad("voxel_size_cm = 0.5", "voxel_size_cm = 0.3"), ["size_cm", "whole number"]),
    (_bad("size_cm = [2.0, 2.0, 2.0]", "size_cm = [2.0, 2.0]"), ["size_cm", "3 numbers"]),
    (_bad("size_cm = [2.0, 2.0, 2.0]", "shape = [4, 4, 4]\nsize_cm = [2, 2, 2]"), ["exactly one", "size_cm"]),
    (_bad('material = "water"', 'material = "unobtainium"'), ["[phantom] material", "unobtainium"]),
    (_bad('[phantom]', '[phantom]\ntype = "sphere"'), ["[phantom] type", "'box'"]),
    (_bad('type = "point"', 'type = "electron_beam"\nfield_diameter_cm = -3'), ["field_diameter_cm", "> 0"]),
    (_bad('type = "point"', 'type = "electron_beam"\nenergy_MeV = 6'), ["electron_beam", "exactly one"]),
    (_bad('type = "point"', 'type = "laser"'), ["[source] type", "'point'"]),
    (_bad("spectrum = { energy_keV = 50 }", "spectrum = { energy_keV = -50 }"), ["energy_keV", "> 0"]),
    (_bad("spectrum = { energy_keV = 50 }", "spectrum = { energy_keV = 50, energy_MeV = 0.05 }"),
     ["spectrum", "exactly one"]),
    (_bad("spectrum = { energy_keV = 50 }", 'spectrum = "no_such_tube"'), ["spectrum", "no_such_tube"]),
    (_bad("spectrum = { energy_keV = 50 }", "spectrum = { energy_keV = 50000 }"), ["spectrum", "outside"]),
    (_bad("spectrum = { energy_keV = 50 }", 'spectrum = { file = "missing.csv" }'), ["spectrum", "missing.csv"]),
    (_bad('type = "point"', 'type = "point"\nposition_cm = [0, 0]'), ["position_cm", "3 numbers"]),
    (_bad('type = "point"', 'type = "point"\ndirection = [0, 0, 1]'), ["'direction'"]),
    (MINIMAL + '[options]\nscoring = "fast"\n', ["[options] scoring", "'kerma'"]),
    (MINIMAL + '[options]\nthreads = 0\n', ["[options] threads"]),
    (MINIMAL + '[options]\nphoton_cutof_MeV = 0.01\n', ["photon_cutof_MeV", "allowed"]),
    (MINIMAL + '[output]\nreference_point_cm = [9, 0, 0]\n', ["reference_point_cm", "outside"]),
    (MINIMAL + '[[phantom.paint]]\nshape = "cone"\nmaterial = "air"\n', ["paint", "shape", "'sphere'"]),
    (MINIMAL + '[[phantom.paint]]\nshape = "sphere"\nmaterial = "air"\n', ["sphere", "needs", "radius_cm"]),
    (MINIMAL + '[[phantom.paint]]\nshape = "sphere"\nmaterial = "air"\ncenter_cm = [0,0,0]\nradius_cm = 1\n'
     'height_cm = 2\n', ["height_cm"]),
    (MINIMAL + '[[phantom.paint]]\nshape = "box"\nmaterial = "air"\nlower_cm = [1,1,1]\nupper_cm = [0,2,2]\n',
     ["upper_cm", "lower_cm"]),
    (MINIMAL + '[materials.water]\ndensity = 1\nformula = "H2O"\n', ["[materials.water]", "built-in"]),
    (MINIMAL + '[materials.goo]\ndensity = 1\n', ["[materials.goo]", "composition"]),
    (MINIMAL + '[materials.goo]\nformula = "H2O"\n', ["[materials.goo] density"]),
    (MINIMAL + '[materials.goo]\ndensity = -1\nformula = "H2O"\n', ["[materials.goo] density", "> 0"]),
    (MINIMAL + '[materials.goo]\ndensity = 1\ncomposition = { H = 0.5, Xx = 0.5 }\n', ["[materials.goo]"]),
    ("case_format = 2\n" + MINIMAL, ["case_format must be 1"]),
    ("histories = [", ["not valid TOML"]),
])
def test_bad_fields_raise_input_error_naming_the_key(text, words):
    with pytest.raises(InputError) as info:
        loads_case(text)
    msg = str(info.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"


def test_slab_errors():
    base = '''histories = 1
[phantom]
type = "slabs"
voxel_size_cm = 0.1
{extra}
[source]
type = "point"
spectrum = "intrabeam_50kv_bare"
'''
    with pytest.raises(InputError, match="layers"):
        loads_case(base.format(extra=""))
    with pytest.raises(InputError, match="box"):
        loads_case(base.format(extra='material = "water"\n[[phantom.layers]]\nmaterial = "water"\nthickness_cm = 1'))
    with pytest.raises(InputError, match="thickness"):
        loads_case(base.format(extra='[[phantom.layers]]\nmaterial = "water"\nthickness_cm = 0.15'))


def test_missing_case_file(tmp_path):
    with pytest.raises(InputError, match="cannot read case file"):
        load_case(tmp_path / "nope.toml")


def test_run_adds_case_metadata():
    c = loads_case(MINIMAL)
    res = c.run(histories=200, threads=1, batches=2)
    assert res.histories == 200 and res.seed == 1
    assert res.metadata["case_title"] == "iortmc case"
    assert res.metadata["case"]["phantom"]["material"] == "water"
    assert res.dose.shape == (4, 4, 4) and res.dose.max() > 0
