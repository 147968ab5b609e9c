"""Materials: composition, density and mean excitation energy, with their interaction data.

A :class:`Material` is a named mixture of elements given by mass fractions (or a chemical formula),
a mass density and a mean excitation energy ``I``. Library materials (:func:`material`, :func:`names`)
carry published compositions, densities and ICRU 37/49 I-values with citations (``docs/materials.md``);
for user materials ``I`` follows Bragg additivity with ICRU 37 condensed-phase element values.

Interaction data (photon attenuation by process, energy absorption, electron stopping powers and CSDA
range) come from :mod:`iortmc.physics.tables`, built from the shipped element data on first use and cached on
disk.
"""

from __future__ import annotations

import math
import re
from typing import Mapping

import numpy as np

from . import _elements
from ._library import LIBRARY
from ..errors import InputError

__all__ = ["Material", "material", "names", "E_MIN", "E_MAX"]

#: Lowest and highest energy (MeV) covered by the interaction tables.
E_MIN = 1.0e-3
E_MAX = 20.0

#: Tolerance on the sum of mass fractions; within it fractions are normalised silently.
FRACTION_SUM_TOLERANCE = 1.0e-3

# ICRU Report 37 (1984), section 2.4 / Seltzer and Berger, Int. J. Appl. Radiat. Isot. 33 (1982) 1189:
# element I-values (eV) recommended for the Bragg-additivity estimate of I of condensed compounds.
# Elements not listed use 1.13 times the element's own I-value.
_CONDENSED_I_EV = {1: 19.2, 6: 81.0, 7: 82.0, 8: 106.0, 9: 112.0, 17: 180.0}
_CONDENSED_FACTOR = 1.13

_FORMULA_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*\.?\d*)")


def _parse_formula(formula: str) -> dict[str, float]:
    """Mass fractions of a simple chemical formula such as ``"H2O"`` or ``"C37H24N2O6"``."""
    if not isinstance(formula, str) or not formula.strip():
        raise InputError(f"formula must be a non-empty string such as 'H2O', got {formula!r}")
    text = formula.replace(" ", "")
    pos = 0
    atoms: dict[str, float] = {}
    for match in _FORMULA_TOKEN.finditer(text):
        if match.start() != pos:
            break
        symbol, count = match.group(1), match.group(2)
        n = float(count) if count else 1.0
        if n <= 0:
            raise InputError(f"formula {formula!r}: count of {symbol} must be > 0, got {count}")
        atoms[symbol] = atoms.get(symbol, 0.0) + n
        pos = match.end()
    if pos != len(text) or not atoms:
        raise InputError(
            f"formula {formula!r} is not a plain formula of element symbols and counts (e.g. 'C5H8O2')"
        )
    masses = {}
    for symbol, n in atoms.items():
        z = _elements.symbol_to_z(symbol)
        masses[symbol] = n * _elements.atomic_weight(z)
    total = sum(masses.values())
    return {s: m / total for s, m in masses.items()}


def _check_composition(name: str, composition: Mapping[str, float]) -> dict[str, float]:
    if not isinstance(composition, Mapping):
        raise InputError(
            f"Material {name!r}: composition must be a mapping element symbol -> mass fraction, "
            f"got {type(composition).__name__}"
        )
    if len(composition) == 0:
        raise InputError(f"Material {name!r}: composition is empty; give at least one element")
    clean: dict[str, float] = {}
    for symbol, fraction in composition.items():
        z = _elements.symbol_to_z(symbol)  # raises InputError naming an unknown symbol
        symbol = _elements.z_to_symbol(z)
        try:
            f = float(fraction)
        except (TypeError, ValueError):
            raise InputError(
                f"Material {name!r}: mass fraction of {symbol} must be a number, got {fraction!r}"
            ) from None
        if not math.isfinite(f) or f < 0.0:
            raise InputError(
                f"Material {name!r}: mass fraction of {symbol} must be finite and >= 0, got {f}"
            )
        clean[symbol] = clean.get(symbol, 0.0) + f
    total = sum(clean.values())
    if abs(total - 1.0) > FRACTION_SUM_TOLERANCE:
        raise InputError(
            f"Material {name!r}: mass fractions must sum to 1 (within {FRACTION_SUM_TOLERANCE}), "
            f"got {total:.6g}"
        )
    clean = {s: f / total for s, f in clean.items() if f > 0.0}
    # stable order: by atomic number
    return dict(sorted(clean.items(), key=lambda kv: _elements.symbol_to_z(kv[0])))


def bragg_mean_excitation_energy(composition: Mapping[str, float]) -> float:
    """Mean excitation energy I (eV) of a mixture by Bragg additivity.

    ln I = sum_i w_i (Z_i/A_i) ln I_i / sum_i w_i (Z_i/A_i), with the ICRU 37 values recommended
    for elements bound in condensed compounds (H 19.2, C 81, N 82, O 106, F 112, Cl 180 eV; other
    elements 1.13 x their element I). A pure element keeps its own ICRU 37 I-value.

    References: ICRU Report 37 (1984), sec. 2.4; Seltzer and Berger, Int. J. Appl. Radiat. Isot. 33
    (1982) 1189, doi:10.1016/0020-708X(82)90244-7.
    """
    if len(composition) == 1:
        (symbol,) = composition
        return float(_elements.element(_elements.symbol_to_z(symbol)).I_eV)
    num = 0.0
    den = 0.0
    zs = [_elements.symbol_to_z(s) for s in composition]
    compound = sum(w for s_, w in composition.items()
                   if _elements.symbol_to_z(s_) in _CONDENSED_I_EV) >= 0.01
    for symbol, w in composition.items():
        z = _elements.symbol_to_z(symbol)
        i_ev = _CONDENSED_I_EV.get(z)
        if i_ev is None:
            i_ev = float(_elements.element(z).I_eV) * (_CONDENSED_FACTOR if compound else 1.0)
        zoa = w * z / _elements.atomic_weight(z)
        num += zoa * math.log(i_ev)
        den += zoa
    return math.exp(num / den)


class Material:
    """A material: name, mass density, elemental mass fractions and mean excitation energy.

    Parameters
    ----------
    name : str
        Label used in messages, results and files.
    density : float
        Mass density in g/cm3 (finite, > 0).
    composition : mapping, optional
        Element symbol -> mass fraction. Fractions >= 0 summing to 1 within 1e-3 (then normalised).
    formula : str, optional
        Chemical formula instead of ``composition`` (e.g. ``"H2O"``).
    I_eV : float, optional
        Mean excitation energy in eV. Default: Bragg additivity (:func:`bragg_mean_excitation_energy`).

    Examples
    --------
    >>> gland = Material("gland", density=1.04, composition={"H": 0.102, "C": 0.184, "N": 0.032,
    ...                  "O": 0.677, "P": 0.005})   # illustrative fractions  # doctest: +SKIP
    """

    def __init__(
        self,
        name: str,
        density: float,
        composition: Mapping[str, float] | None = None,
        formula: str | None = None,
        I_eV: float | None = None,
        *,
        citation: str = "",
        description: str = "",
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"Material name must be a non-empty string, got {name!r}")
        self.name = name
        try:
            rho = float(density)
        except (TypeError, ValueError):
            raise InputError(f"Material {name!r}: density must be a number in g/cm3, got {density!r}") from None
        if not math.isfinite(rho) or rho <= 0.0:
            raise InputError(f"Material {name!r}: density must be finite and > 0 g/cm3, got {rho}")
        self.density = rho
        if composition is not None and formula is not None:
            raise InputError(f"Material {name!r}: give composition or formula, not both")
        if composition is None and formula is None:
            raise InputError(f"Material {name!r}: give a composition (mass fractions) or a formula")
        self.formula = formula
        self.composition = _parse_formula(formula) if formula is not None else _check_composition(name, composition)
        if I_eV is None:
            self.I_eV = bragg_mean_excitation_energy(self.composition)
            self.I_source = "Bragg additivity (ICRU 37 condensed-phase element values)"
        else:
            try:
                i_ev = float(I_eV)
            except (TypeError, ValueError):
                raise InputError(f"Material {name!r}: I_eV must be a number in eV, got {I_eV!r}") from None
            if not math.isfinite(i_ev) or i_ev <= 0.0:
                raise InputError(f"Material {name!r}: I_eV must be finite and > 0 eV, got {i_ev}")
            self.I_eV = i_ev
            self.I_source = "given"
        self.citation = citation
        self.description = description

    # ------------------------------------------------------------------ identity
    def key(self) -> tuple:
        """A hashable description of everything the interaction tables depend on."""
        comp = tuple((s, round(f, 12)) for s, f in self.composition.items())
        return (comp, round(self.density, 12), round(self.I_eV, 9))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Material):
            return NotImplemented
        return self.name == other.name and self.key() == other.key()

    def __hash__(self) -> int:
        return hash((self.name, self.key()))

    def __repr__(self) -> str:
        comp = ", ".join(f"{s}: {f:.4g}" for s, f in self.composition.items())
        return f"Material({self.name!r}, density={self.density:g} g/cm3, I={self.I_eV:.4g} eV, {{{comp}}})"

    def _repr_html_(self) -> str:
        from .._html import material

        return material(self)

    def to_dict(self) -> dict:
        """Plain-data description (JSON-serialisable); :meth:`from_dict` rebuilds the material."""
        return {
            "name": self.name,
            "density": self.density,
            "composition": dict(self.composition),
            "I_eV": self.I_eV,
            "citation": self.citation,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "Material":
        return cls(d["name"], density=d["density"], composition=d["composition"], I_eV=d.get("I_eV"),
                   citation=d.get("citation", ""))

    def with_density(self, density: float) -> "Material":
        """The same material at another mass density (g/cm3); I and composition unchanged."""
        return Material(self.name, density=density, composition=self.composition, I_eV=self.I_eV,
                        citation=self.citation, description=self.description)

    @property
    def elements(self) -> np.ndarray:
        """Atomic numbers of the constituents (sorted)."""
        return np.array([_elements.symbol_to_z(s) for s in self.composition], dtype=np.int64)

    @property
    def mass_fractions(self) -> np.ndarray:
        return np.array(list(self.composition.values()), dtype=np.float64)

    @property
    def electron_density_per_gram(self) -> float:
        """Electrons per gram, N_A sum_i w_i Z_i / A_i."""
        from ..units import AVOGADRO

        return AVOGADRO * sum(
            w * _elements.symbol_to_z(s) / _elements.atomic_weight(_elements.symbol_to_z(s))
            for s, w in self.composition.items()
        )

    # ------------------------------------------------------------------ data
    def tables(self):
        """The material's interaction tables (:class:`iortmc.physics.tables.MaterialTables`), cached."""
        from .tables import material_tables

        return material_tables(self)

    def mu_over_rho(self, E, process: str = "total"):
        """Mass attenuation coefficient mu/rho (cm2/g) at photon energy ``E`` (MeV).

        ``process``: ``photoelectric``, ``rayleigh``, ``compton``, ``pair`` (nuclear + electron
        field) or ``total``. Source: NIST XCOM element cross sections, mixture rule.
        """
        return self.tables().mu_over_rho(E, process)

    def mu_en_over_rho(self, E):
        """Mass energy-absorption coefficient mu_en/rho (cm2/g) at photon energy ``E`` (MeV).

        NIST Table 3 element values (Hubbell and Seltzer, NISTIR 5632) with the mixture rule.
        """
        return self.tables().mu_en_over_rho(E)

    def stopping_power(self, E, kind: str = "collision", particle: str = "e-"):
        """Electron (or positron) mass stopping power (MeV cm2/g) at kinetic energy ``E`` (MeV).

        ``kind``: ``collision`` (Bethe with the density effect), ``radiative`` or ``total``.
        """
        return self.tables().stopping_power(E, kind, particle)

    def csda_range(self, E, particle: str = "e-"):
        """CSDA range (g/cm2) at kinetic energy ``E`` (MeV): integral of 1/S_tot from 1 keV."""
        return self.tables().csda_range(E, particle)


def _canonical(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _library_index() -> dict[str, str]:
    index = {}
    for key, entry in LIBRARY.items():
        index[_canonical(key)] = key
        for alias in entry.get("aliases", ()):
            index[_canonical(alias)] = key
    return index


_INDEX = _library_index()
_CACHE: dict[str, Material] = {}


def names() -> list[str]:
    """Names of the built-in library materials (use :func:`material` to get one)."""
    return sorted(LIBRARY)


def material(name: str) -> Material:
    """A built-in library material by name (case-insensitive; aliases accepted).

    Raises
    ------
    InputError
        If the name is unknown; the message lists the known names.
    """
    if isinstance(name, Material):
        return name
    if not isinstance(name, str):
        raise InputError(f"material name must be a string, got {name!r}")
    key = _INDEX.get(_canonical(name))
    if key is None:
        raise InputError(f"unknown material {name!r}; known materials: {', '.join(names())}")
    if key not in _CACHE:
        e = LIBRARY[key]
        _CACHE[key] = Material(
            key,
            density=e["density"],
            composition=e["composition"],
            I_eV=e.get("I_eV"),
            citation=e.get("citation", ""),
            description=e.get("description", ""),
        )
    return _CACHE[key]
