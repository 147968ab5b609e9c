#!/usr/bin/env python
"""Build the X-ray spectrum tables shipped in ``src/iortmc/sources/data/spectra/``.

Run from the repository root::

    python tools/make_spectra.py            # write the tables
    python tools/make_spectra.py --check    # regenerate in memory, compare byte for byte
    python tools/make_spectra.py --report   # print the physics checks quoted in docs/spectra.md

Build-time dependency (never needed at run time): SpekPy, exactly version 2.5.4, the optional
extra ``spectra`` of iortmc (``pip install spekpy==2.5.4``). Other SpekPy versions may give
different numbers, so the script refuses them unless ``--any-spekpy`` is given (and then
``--check`` is expected to fail).

No published spectrum table for either source could be obtained for this build, so both tables
are SpekPy models, each documented in its own CSV header and in ``docs/spectra.md``:

* SpekPy v2: G. Poludniowski, A. Omar, R. Bujila and P. Andreo, Med. Phys. 48 (2021) 3630,
  DOI 10.1002/mp.14945 (bremsstrahlung: A. Omar, P. Andreo and G. Poludniowski, Med. Phys. 47
  (2020) 4763 and 4005, DOI 10.1002/mp.14359 and 10.1002/mp.14360; characteristic K and L lines:
  the same authors, Nucl. Instrum. Meth. B 437 (2018) 36).
* Transmission targets and the gold anode (new in SpekPy 2.5): G. Poludniowski and A. Omar,
  Appl. Radiat. Isot. 229 (2026) 112374 (as cited in SpekPy 2.5.4's source).

File layout: ``#`` comment lines (``# key: value``: name, description, origin, simplifications,
units, date, mean_energy_keV, reference), the last of which names the columns
(``# energy_keV_low,energy_keV_high,weight``), then one row per bin; it reads with
``numpy.loadtxt(path, delimiter=",")``.

Each table is a histogram: bins 0.5 keV wide from 1 to 50 keV (SpekPy's own grid, bin centres
1.25, 1.75, ... 49.75 keV), weight = relative photon fluence in the bin, normalised to sum 1.
Weights below 1e-12 are written as 0 (they are SpekPy's numerical floor below filter edges).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "iortmc" / "sources" / "data" / "spectra"

#: The only SpekPy version these tables were made with.
SPEKPY_VERSION = "2.5.4"
#: Date the shipped tables were made (kept fixed so the files regenerate byte for byte).
DATE_MADE = "2026-11-23"
#: Energy bin width in keV (SpekPy ``dk``).
BIN_WIDTH_KEV = 0.5
#: Weights below this (relative, after normalisation) are written as exactly 0.
WEIGHT_FLOOR = 1e-12
COLUMNS = "energy_keV_low,energy_keV_high,weight"

#: Settings of each shipped spectrum. ``spek`` holds the keyword arguments of ``spekpy.Spek``,
#: ``filters`` the (SpekPy material name, thickness in mm) pairs applied in order.
SPECTRA = {
    "intrabeam_50kv_bare": {
        "description": (
            "Bare 50 kV INTRABEAM-like probe (Carl Zeiss INTRABEAM PRS 500): 50 keV electrons on a "
            "thin gold transmission target, photons leaving forward through a beryllium probe tip; "
            "photon fluence spectrum in vacuum just outside the tip, along the probe axis."
        ),
        "spek": dict(kvp=50.0, targ="Au", trans=True, thick=1.0, th=-90.0, dk=BIN_WIDTH_KEV),
        "filters": [("Be", 0.5)],
        "geometry": (
            "gold transmission target 1.0 um thick (assumed), "
            "emission angle th = -90 deg (SpekPy convention: forward, along the electron beam, "
            "i.e. along the probe axis), filtration 0.5 mm beryllium (the probe tip shell, "
            "assumed thickness); SpekPy default physics for transmission targets ('kqp') and "
            "attenuation data ('pene')"
        ),
        "simplifications": (
            "Model, not measurement. Not modelled: the hemispherical target and tip shape (the "
            "real spectrum changes with emission angle; SpekPy at th = -10 deg gives a mean "
            "energy ~2 keV higher), the biocompatible outer coating of the probe tip, the probe "
            "drift tube, electron backscatter from the tip. Target and Be thicknesses are "
            "assumptions of the order used in published INTRABEAM Monte Carlo models (not "
            "checked against them here), not manufacturer data."
        ),
        "references": [
            "SpekPy v2: Poludniowski et al., Med. Phys. 48 (2021) 3630, DOI 10.1002/mp.14945",
            "SpekPy transmission targets and Au anode: Poludniowski and Omar, "
            "Appl. Radiat. Isot. 229 (2026) 112374",
            "INTRABEAM/PRS design (thin Au target on a Be tip): Yanch and Harte, Med. Phys. 23 "
            "(1996) 1551, DOI 10.1118/1.597885; Ebert and Carruthers, Med. Phys. 30 (2003) 2424, "
            "DOI 10.1118/1.1595611",
            "Beam-quality check used in docs/spectra.md: Armoogum et al., Radiat. Oncol. 2 (2007) "
            "11, DOI 10.1186/1748-717X-2-11 (mean energies 18 and 24 keV behind 5 and 10 mm solid "
            "water, from HVL via ICRU Report 17)",
        ],
        "lines_keV": {"Au L-alpha": 9.71, "Au L-beta": 11.44, "Au L-gamma": 13.38},
    },
    "xoft_axxent_50kv": {
        "description": (
            "50 kV Xoft Axxent-like electronic brachytherapy source (model S700): tungsten "
            "anode, with the tube wall, cooling water and catheter represented by one "
            "aluminium-equivalent filter fitted to the published mean photon energy."
        ),
        "spek": dict(kvp=50.0, targ="W", th=12.0, dk=BIN_WIDTH_KEV),
        "filters": [("Al", 0.54)],
        "geometry": (
            "thick (semi-infinite) tungsten reflection target, anode angle 12 deg (SpekPy "
            "default; not the Axxent geometry), on the central axis, filtration 0.54 mm Al "
            "equivalent (chosen so that the fluence-mean energy is 26.7 keV; see origin); "
            "SpekPy default physics for reflection targets ('casim') and attenuation data "
            "('pene')"
        ),
        "simplifications": (
            "Equivalent-filtration model, not measurement: the thin anode coating of the "
            "real source, its Y/Ag characteristic lines and its angular dependence are not "
            "modelled; the real filtration (tube wall, cooling water, catheter) is replaced by "
            "aluminium whose thickness was fitted to the published mean energy, so the mean "
            "energy agrees by construction and the spectral shape is SpekPy's."
        ),
        "references": [
            "SpekPy v2: Poludniowski et al., Med. Phys. 48 (2021) 3630, DOI 10.1002/mp.14945",
            "Source description: Rivard et al., Med. Phys. 33 (2006) 4020, DOI 10.1118/1.2357021; "
            "Hiatt, Davis and Rivard, Med. Phys. 42 (2015) 2764, DOI 10.1118/1.4919280",
            "Measured spectra: Liu et al., Phys. Med. Biol. 53 (2008) 61, "
            "DOI 10.1088/0031-9155/53/1/005",
            "Mean energy 26.72 keV of an EGS-based Axxent model, stated to agree with the "
            "manufacturer's value within 0.46 % (i.e. 26.6-26.8 keV): 'Development of a "
            "Monte-Carlo model for a miniature 50 kV x-ray source for electronic "
            "brachytherapy' (2026), abstract at https://akademindex.org/en/works/"
            "ABI%3AAkademIndex%2Fopenalex%2F2026.article.009697",
        ],
        "lines_keV": {"W L-alpha": 8.40, "W L-beta": 9.67, "W L-gamma": 11.29},
    },
}


def _spekpy(allow_any_version: bool):
    """Import SpekPy and check its version."""
    try:
        import spekpy  # noqa: PLC0415  (heavy optional build-time dependency)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            f"SpekPy is needed to build the spectra: pip install spekpy=={SPEKPY_VERSION}"
        ) from exc
    version = importlib.metadata.version("spekpy")
    if version != SPEKPY_VERSION and not allow_any_version:
        raise SystemExit(
            f"SpekPy {SPEKPY_VERSION} made the shipped tables, found {version}; "
            "install that version or pass --any-spekpy"
        )
    return spekpy, version


def compute(name: str, spekpy) -> dict:
    """Compute one spectrum with SpekPy.

    Returns a dict with ``low``, ``high`` (bin edges, keV), ``weight`` (normalised relative
    photon fluence per bin) and the SpekPy object ``spek`` (filtered), for diagnostics.
    """
    cfg = SPECTRA[name]
    spek = spekpy.Spek(**cfg["spek"])
    if cfg["filters"]:
        spek.multi_filter(list(cfg["filters"]))
    centre, fluence_per_keV = spek.get_spectrum(edges=False, flu=True, diff=True)
    centre = np.asarray(centre, dtype=np.float64)
    dk = float(cfg["spek"]["dk"])
    # SpekPy's grid is uniform; rebuild the edges exactly on multiples of the bin width.
    low = np.round((centre - 0.5 * dk) / dk) * dk
    high = low + dk
    if not np.allclose(centre, 0.5 * (low + high), rtol=0.0, atol=1e-9):
        raise RuntimeError(f"{name}: SpekPy bins are not the expected {dk} keV grid")
    weight = np.asarray(fluence_per_keV, dtype=np.float64) * dk
    weight = weight / weight.sum()
    weight[weight < WEIGHT_FLOOR] = 0.0
    weight = weight / weight.sum()
    return {"low": low, "high": high, "weight": weight, "spek": spek}


def mean_energy_keV(low, high, weight) -> float:
    """Fluence-weighted mean energy (keV) of a histogram, taking each bin at its centre."""
    weight = np.asarray(weight, dtype=np.float64)
    return float(np.sum(0.5 * (np.asarray(low) + np.asarray(high)) * weight) / np.sum(weight))


def render(name: str, result: dict, spekpy_version: str) -> str:
    """Return the CSV text of one spectrum (header comments, column line, rows)."""
    cfg = SPECTRA[name]
    low, high, weight = result["low"], result["high"], result["weight"]
    # Format first, then compute the mean from the written numbers so the header matches the file.
    rows = [f"{lo:.1f},{hi:.1f},{w:.8e}" for lo, hi, w in zip(low, high, weight)]
    w_written = np.array([float(r.split(",")[2]) for r in rows])
    mean = mean_energy_keV(low, high, w_written)
    spek_args = ", ".join(f"{k}={v!r}" for k, v in cfg["spek"].items())
    filters = "; ".join(f"{m} {t} mm" for m, t in cfg["filters"]) or "none"
    lines = [
        f"# name: {name}",
        f"# description: {cfg['description']}",
        (
            f"# origin: computed with SpekPy {spekpy_version} (spekpy.Spek({spek_args}); "
            f"filters: {filters}) by tools/make_spectra.py; {cfg['geometry']}"
        ),
        f"# simplifications: {cfg['simplifications']}",
        "# units: energy_keV_low and energy_keV_high are histogram bin edges in keV; weight is the "
        "relative photon fluence in the bin (dimensionless), weights sum to 1",
        f"# date: {DATE_MADE}",
        f"# mean_energy_keV: {mean:.3f} (fluence-weighted, bin centres)",
    ]
    lines += [f"# reference: {ref}" for ref in cfg["references"]]
    lines.append(f"# {COLUMNS}")
    lines += rows
    return "\n".join(lines) + "\n"


def build(allow_any_version: bool = False) -> dict[str, tuple[str, dict]]:
    """Compute and render every spectrum: ``{file name: (csv text, result)}``."""
    spekpy, version = _spekpy(allow_any_version)
    out = {}
    for name in SPECTRA:
        result = compute(name, spekpy)
        out[f"{name}.csv"] = (render(name, result, version), result)
    return out


def _peak_ratio(low, weight, line_keV: float) -> float:
    """Weight of the bin holding ``line_keV`` over the mean of the bins two below and two above."""
    i = int(np.searchsorted(low, line_keV, side="right") - 1)
    neighbours = np.r_[weight[max(i - 2, 0) : i], weight[i + 1 : i + 3]]
    return float(weight[i] / neighbours.mean())


def report(built: dict, spekpy) -> None:
    """Print the physics checks quoted in docs/spectra.md."""
    for fname, (_, res) in built.items():
        name = fname[:-4]
        low, high, w = res["low"], res["high"], res["weight"]
        spek = res["spek"]
        print(f"== {name}")
        print(f"   mean energy (>= {low[w > 0][0]:.1f} keV): {mean_energy_keV(low, high, w):.3f} keV")
        for cut in (5.0, 8.0):
            sel = low >= cut
            print(f"   mean energy above {cut} keV: {mean_energy_keV(low[sel], high[sel], w[sel]):.3f} keV"
                  f"  (fraction of photons below: {w[~sel].sum():.4f})")
        print(f"   highest non-zero bin: {low[w > 0][-1]:.1f}-{high[w > 0][-1]:.1f} keV")
        print(f"   HVL1 (air kerma, Al): {spek.get_hvl1():.4f} mm; effective energy {spek.get_eeff():.2f} keV")
        for line, e in SPECTRA[name]["lines_keV"].items():
            print(f"   {line} {e} keV: bin/neighbours = {_peak_ratio(low, w, e):.2f}")
        if name == "intrabeam_50kv_bare":
            # 5 and 10 mm water behind the tip, for Armoogum et al. (2007).
            for t in (5.0, 10.0):
                s = compute(name, spekpy)["spek"]
                s.filter("Water, Liquid", t)
                k, f = s.get_spectrum()
                ww = np.asarray(f) / np.sum(f)
                print(f"   behind {t:.0f} mm water: fluence-mean {np.sum(k * ww):.2f} keV, HVL1 "
                      f"{s.get_hvl1():.4f} mm Al, effective energy {s.get_eeff():.2f} keV")
            # Sensitivity of the mean energy to the assumed emission angle and tip thickness.
            for th in (-90.0, -45.0, -10.0):
                for be_mm in (0.5, 1.0):
                    s = spekpy.Spek(**{**SPECTRA[name]["spek"], "th": th})
                    s.filter("Be", be_mm)
                    k, f = s.get_spectrum()
                    print(f"   variant th={th:.0f} deg, Be {be_mm} mm: mean "
                          f"{np.sum(np.asarray(k) * f) / np.sum(f):.2f} keV")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate in memory and compare with the shipped files")
    parser.add_argument("--report", action="store_true", help="print the physics checks")
    parser.add_argument("--output-dir", type=Path, default=OUT_DIR)
    parser.add_argument("--any-spekpy", action="store_true",
                        help=f"allow a SpekPy version other than {SPEKPY_VERSION}")
    args = parser.parse_args(argv)

    built = build(allow_any_version=args.any_spekpy)
    if args.report:
        report(built, _spekpy(True)[0])
        return 0
    if args.check:
        bad = []
        for fname, (text, _) in built.items():
            path = args.output_dir / fname
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                bad.append(str(path))
        if bad:
            print("differ from a fresh build: " + ", ".join(bad), file=sys.stderr)
            return 1
        print(f"{len(built)} spectrum tables match a fresh build")
        return 0
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for fname, (text, _) in built.items():
        (args.output_dir / fname).write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {args.output_dir / fname}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
