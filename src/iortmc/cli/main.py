"""The ``iortmc`` command.

``iortmc materials``            lists the built-in materials;
``iortmc materials NAME``       prints a material's photon and electron data table;
``iortmc run``                  runs a simulation (see ``iortmc run --help``);
``iortmc show``                 draws the geometry of a case file before a run;
``iortmc commission``           fits a source model to measured dose (docs/commissioning.md).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ..errors import IortmcError

_TABLE_ENERGIES = [0.001, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3,
                   0.5, 1.0, 2.0, 5.0, 10.0, 20.0]


def _cmd_materials(args) -> int:
    from ..physics import materials

    if not args.name:
        for name in materials.names():
            m = materials.material(name)
            print(f"{name:22s} {m.density:8.4g} g/cm3  I = {m.I_eV:6.1f} eV  {m.description}")
        return 0
    m = materials.material(args.name)
    E = np.array(_TABLE_ENERGIES)
    print(f"# {m!r}")
    if m.citation:
        print(f"# source: {m.citation}")
    print("# photons: mass attenuation by process (NIST XCOM), mu_en/rho (NIST Table 3), cm2/g")
    print("# electrons: stopping powers (MeV cm2/g) and CSDA range (g/cm2)")
    cols = ["E_MeV", "photo", "rayleigh", "compton", "pair", "mu/rho", "mu_en/rho", "S_col", "S_rad",
            "CSDA"]
    print(" ".join(f"{c:>11s}" for c in cols))
    data = [E, m.mu_over_rho(E, "photoelectric"), m.mu_over_rho(E, "rayleigh"),
            m.mu_over_rho(E, "compton"), m.mu_over_rho(E, "pair"), m.mu_over_rho(E),
            m.mu_en_over_rho(E), m.stopping_power(E, "collision"), m.stopping_power(E, "radiative"),
            m.csda_range(E)]
    for row in np.array(data).T:
        print(" ".join(f"{v:11.4e}" for v in row))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    p = argparse.ArgumentParser(prog="iortmc", description="Monte Carlo dose engine for IORT")
    p.add_argument("--version", action="version", version=f"iortmc {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    pm = sub.add_parser("materials", help="list materials, or print one material's data table")
    pm.add_argument("name", nargs="?", help="material name (e.g. water)")
    pm.set_defaults(func=_cmd_materials)
    try:
        from .run import add_run_commands
    except ImportError:  # pragma: no cover - run commands not available
        pass
    else:
        add_run_commands(sub)
    from .commission import add_commission_command

    add_commission_command(sub)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except IortmcError as exc:
        print(f"iortmc: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
