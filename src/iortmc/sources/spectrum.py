"""Photon (or particle) energy spectra with O(1) sampling (Walker's alias method).

A :class:`Spectrum` is either a set of discrete lines (energies with relative intensities) or a
histogram (bin edges with relative fluence per bin; energies uniform within a bin). Energies in MeV.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["Spectrum", "alias_table", "BUILTIN_SPECTRA"]

E_MIN = 1.0e-3
E_MAX = 20.0

#: Built-in spectra (files in iortmc/sources/data/spectra; origins in docs/spectra.md).
BUILTIN_SPECTRA = {
    "intrabeam_50kv_bare": "intrabeam_50kv_bare.csv",
    "xoft_axxent_50kv": "xoft_axxent_50kv.csv",
    "xoft_axxent_50kv_commissioned": "xoft_axxent_50kv_commissioned.toml",
    "ir192": "ir192.csv",
}

_UNITS = {"MeV": 1.0, "keV": 1.0e-3, "eV": 1.0e-6}


def alias_table(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table for probabilities ``p`` (sum 1): (accept probability, alias index)."""
    n = len(p)
    scaled = np.asarray(p, dtype=np.float64) * n
    prob = np.zeros(n)
    alias = np.arange(n, dtype=np.int64)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s = small.pop()
        g = large.pop()
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = scaled[g] + scaled[s] - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    for i in large + small:
        prob[i] = 1.0
    return prob, alias


def _array(name, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numbers, got {values!r}") from None
    if arr.size == 0:
        raise InputError(f"{name} is empty; a spectrum needs at least one energy")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains a non-finite value ({arr[~np.isfinite(arr)][0]})")
    return arr


class Spectrum:
    """An energy spectrum: discrete lines or a histogram.

    Parameters
    ----------
    energies : array, MeV, optional
        Line energies (discrete spectrum).
    weights : array
        Relative intensities of the lines, or relative fluence per histogram bin (>= 0, not all 0).
    edges : array, MeV, optional
        Histogram bin edges (len(weights) + 1, increasing) instead of ``energies``.
    name, origin : str
        Label and provenance (kept in results).
    """

    def __init__(self, energies=None, weights=None, edges=None, name: str = "", origin: str = "") -> None:
        if (energies is None) == (edges is None):
            raise InputError("give either energies (lines) or edges (histogram bins), not both or neither")
        if weights is None:
            raise InputError("weights are required (relative intensity per line or bin)")
        w = _array("weights", weights)
        if np.any(w < 0):
            raise InputError(f"weights must be >= 0, got {w[w < 0][0]}")
        if w.sum() <= 0:
            raise InputError("weights must not all be zero")
        if energies is not None:
            e = _array("energies", energies)
            if e.shape != w.shape:
                raise InputError(f"energies and weights differ in length ({e.size} vs {w.size})")
            lo, hi = e, e
        else:
            ed = _array("edges", edges)
            if ed.size != w.size + 1:
                raise InputError(f"edges must have len(weights) + 1 = {w.size + 1} values, got {ed.size}")
            if np.any(np.diff(ed) <= 0):
                raise InputError("edges must be strictly increasing")
            lo, hi = ed[:-1], ed[1:]
        emin, emax = float(lo.min()), float(hi.max())
        if emin < E_MIN * (1 - 1e-9) or emax > E_MAX * (1 + 1e-9):
            bad = emin if emin < E_MIN else emax
            raise InputError(
                f"spectrum energy {bad:g} MeV is outside the tables ({E_MIN:g} to {E_MAX:g} MeV)"
            )
        keep = w > 0
        self.e_lo = np.ascontiguousarray(lo[keep])
        self.e_hi = np.ascontiguousarray(hi[keep])
        self.weights = w[keep] / w[keep].sum()
        self.is_histogram = edges is not None
        self.name = name
        self.origin = origin
        self.alias_prob, self.alias_index = alias_table(self.weights)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def mono(cls, energy: float) -> "Spectrum":
        """A single line at ``energy`` (MeV)."""
        return cls(energies=[energy], weights=[1.0], name=f"mono {float(energy) * 1e3:g} keV")

    @classmethod
    def from_arrays(cls, energies=None, weights=None, edges=None, name="", origin="") -> "Spectrum":
        return cls(energies=energies, weights=weights, edges=edges, name=name, origin=origin)

    @classmethod
    def from_file(cls, path, energy_unit: str = "keV", name: str | None = None) -> "Spectrum":
        """Read a text/CSV spectrum file.

        Two columns (energy, weight) give lines; three columns (bin low, bin high, weight) give a
        histogram. Separators: commas or whitespace; ``#`` starts a comment; one header line of
        non-numbers is skipped. ``energy_unit`` is ``keV`` (default), ``MeV`` or ``eV``.
        A ``.toml`` file is read as a commissioned source file (:meth:`from_commissioned`).
        """
        if energy_unit not in _UNITS:
            raise InputError(f"energy_unit must be one of {', '.join(_UNITS)}, got {energy_unit!r}")
        p = Path(path)
        if p.suffix.lower() == ".toml":
            return cls.from_commissioned(p, name=name)
        try:
            text = p.read_text()
        except OSError as exc:
            raise InputError(f"cannot read spectrum file {str(p)!r}: {exc.strerror or exc}") from None
        rows = []
        origin = []
        for n, line in enumerate(text.splitlines(), 1):
            body = line.split("#", 1)[0].strip()
            if line.lstrip().startswith("#"):
                origin.append(line.lstrip("# ").rstrip())
            if not body:
                continue
            parts = [x for x in body.replace(",", " ").replace(";", " ").split()]
            try:
                rows.append([float(x) for x in parts])
            except ValueError:
                if not rows:
                    continue  # a header line
                raise InputError(f"spectrum file {str(p)!r} line {n}: not numbers: {line!r}") from None
        if not rows:
            raise InputError(f"spectrum file {str(p)!r} holds no data rows")
        ncol = {len(r) for r in rows}
        if len(ncol) != 1 or ncol.pop() not in (2, 3):
            raise InputError(f"spectrum file {str(p)!r}: every row must have 2 (energy, weight) or 3 "
                             "(low, high, weight) columns")
        a = np.array(rows)
        f = _UNITS[energy_unit]
        label = name or p.stem
        if a.shape[1] == 2:
            return cls(energies=a[:, 0] * f, weights=a[:, 1], name=label, origin="\n".join(origin))
        lo, hi = a[:, 0] * f, a[:, 1] * f
        if np.any(np.abs(lo[1:] - hi[:-1]) > 1e-9 * np.abs(hi[:-1])):
            raise InputError(f"spectrum file {str(p)!r}: histogram bins must be contiguous")
        edges = np.append(lo, hi[-1])
        return cls(edges=edges, weights=a[:, 2], name=label, origin="\n".join(origin))

    @classmethod
    def from_commissioned(cls, path, name: str | None = None) -> "Spectrum":
        """The energy spectrum of a commissioned source file (``iortmc commission``, docs/commissioning.md).

        Works for both kinds of file: the photon spectrum of a commissioned X-ray source, or the
        kinetic-energy spectrum of a commissioned electron beam. Energies in the file are in MeV.
        """
        from .commissioned import read_commissioned

        doc = read_commissioned(path)
        sp = doc["spectrum"]
        lo = np.asarray(sp["e_lo_MeV"], dtype=np.float64)
        hi = np.asarray(sp["e_hi_MeV"], dtype=np.float64)
        origin = f"commissioned source file {doc['_path']} ({doc.get('created', '')}): {doc.get('description', '')}"
        label = name or str(doc.get("name", Path(path).stem))
        if np.all(hi > lo) and np.allclose(lo[1:], hi[:-1], rtol=1e-9, atol=1e-12):
            return cls(edges=np.append(lo, hi[-1]), weights=sp["weights"], name=label, origin=origin)
        if np.all(hi == lo):
            return cls(energies=lo, weights=sp["weights"], name=label, origin=origin)
        raise InputError(f"{doc['_path']!r}: [spectrum] must be contiguous histogram bins or lines")

    @classmethod
    def builtin(cls, name: str) -> "Spectrum":
        """A shipped spectrum (files, origins and simplifications in docs/spectra.md).

        ``intrabeam_50kv_bare`` and ``xoft_axxent_50kv`` are 50 kV histograms (relative photon
        fluence per bin); ``xoft_axxent_50kv_commissioned`` is a commissioned source file (a 50 kV
        tungsten spectrum commissioned to the published radial dose function of the Xoft S700
        source, docs/tg43-xoft.md), the default of the Xoft-like balloon applicator; ``ir192`` holds the 39 Ir-192 photon lines (ENSDF via NuDat 2.6) with their
        intensities in photons per decay (2.300 in all). Every file gives energies in keV; like every
        Spectrum the result is in MeV with weights normalised to 1, i.e. per emitted photon: multiply a
        per-history dose from an ``ir192`` run by 2.300 for dose per decay.
        """
        if name not in BUILTIN_SPECTRA:
            raise InputError(f"unknown built-in spectrum {name!r}; known: {', '.join(BUILTIN_SPECTRA)}")
        ref = resources.files("iortmc.sources") / "data" / "spectra" / BUILTIN_SPECTRA[name]
        with resources.as_file(ref) as path:
            if path.suffix == ".toml":
                return cls.from_commissioned(path, name=name)
            return cls.from_file(path, energy_unit="keV", name=name)

    # ------------------------------------------------------------------ properties
    @property
    def mean_energy(self) -> float:
        """Fluence-weighted mean energy (MeV)."""
        return float(np.sum(self.weights * 0.5 * (self.e_lo + self.e_hi)))

    @property
    def max_energy(self) -> float:
        return float(self.e_hi.max())

    @property
    def min_energy(self) -> float:
        return float(self.e_lo.min())

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` energies (MeV) by the alias method (numpy generator; for checks and plots)."""
        rng = np.random.default_rng(seed)
        nb = len(self.weights)
        r = rng.random(n) * nb
        b = np.minimum(r.astype(np.int64), nb - 1)
        use_alias = (r - b) >= self.alias_prob[b]
        b = np.where(use_alias, self.alias_index[b], b)
        return self.e_lo[b] + rng.random(n) * (self.e_hi[b] - self.e_lo[b])

    def describe(self) -> dict:
        return {
            "name": self.name,
            "kind": "histogram" if self.is_histogram else "lines",
            "e_lo_MeV": self.e_lo.tolist(),
            "e_hi_MeV": self.e_hi.tolist(),
            "weights": self.weights.tolist(),
            "mean_energy_MeV": self.mean_energy,
            "origin": self.origin,
        }

    def _repr_html_(self) -> str:
        from .._html import spectrum

        return spectrum(self)

    def __repr__(self) -> str:
        kind = "histogram" if self.is_histogram else "lines"
        return (f"Spectrum({self.name!r}, {kind}, {len(self.weights)} bins, "
                f"mean {self.mean_energy * 1e3:.4g} keV, max {self.max_energy * 1e3:.4g} keV)")
