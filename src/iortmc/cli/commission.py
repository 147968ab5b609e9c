"""``iortmc commission``: fit a source model to measured dose (docs/commissioning.md).

    iortmc commission electron PDD.csv --field-size 15 15 --detector-width 2 -o beam.toml --figure fit.png
    iortmc commission xray RADIAL.csv --normalised-at 1 --filter aluminium -o source.toml --figure fit.png
"""

from __future__ import annotations

import argparse


def add_commission_command(sub) -> None:
    p = sub.add_parser("commission", help="fit an electron beam or a 50 kV spectrum to measured dose",
                       description=__doc__.splitlines()[0])
    kinds = p.add_subparsers(dest="source_kind", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("data", help="CSV: position_cm, dose[, uncertainty] with a header line")
    common.add_argument("-o", "--output", required=True, help="commissioned source file to write (.toml)")
    common.add_argument("--figure", help="report figure (measured vs fitted, residuals), e.g. fit.png")
    common.add_argument("--relative-uncertainty", action="store_true",
                        help="the third column is a relative (not absolute) uncertainty")
    common.add_argument("--histories-per-bin", type=int, default=None, help="histories of each basis run")
    common.add_argument("--final-histories", type=int, default=None,
                        help="histories of the final check simulation (default 10 x per bin; 0 = none)")
    common.add_argument("--method", choices=("parametric", "spectrum"), default="parametric")
    common.add_argument("--regularisation", type=float, default=None, help="penalty of the free-spectrum fit")
    common.add_argument("--seed", type=int, default=1)
    common.add_argument("--threads", type=int, default=None)
    common.add_argument("--name", default=None, help="name stored in the file")

    e = kinds.add_parser("electron", parents=[common], help="IOERT electron beam from a central-axis depth dose")
    g = e.add_mutually_exclusive_group(required=True)
    g.add_argument("--field-size", type=float, nargs=2, metavar=("SX", "SY"), help="rectangular field (cm)")
    g.add_argument("--field-diameter", type=float, help="circular field (cm)")
    e.add_argument("--detector-width", type=float, default=0.0, help="detector lateral size (cm)")
    e.add_argument("--detector-length", type=float, default=0.0, help="detector size along the beam (cm)")
    e.add_argument("--detector-shape", choices=("square", "disc"), default="square")
    e.add_argument("--energy-range", type=float, nargs=2, metavar=("LO", "HI"), help="basis energy range (MeV)")
    e.add_argument("--bin", type=float, default=0.1, help="energy bin of the basis (MeV)")
    e.add_argument("--depth-bin", type=float, default=0.1, help="depth bin of the basis (cm)")
    e.add_argument("--no-spread", action="store_true", help="monoenergetic (do not fit the energy spread)")
    e.add_argument("--no-angle", action="store_true", help="no angular spread (do not fit it)")
    e.add_argument("--fit-source-distance", action="store_true", help="fit a virtual source distance")
    e.set_defaults(func=_cmd_electron)

    x = kinds.add_parser("xray", parents=[common], help="low-kV X-ray spectrum from a radial dose in water")
    x.add_argument("--kvp", type=float, default=50.0)
    x.add_argument("--filter", action="append", default=None,
                   help="material whose thickness is fitted (repeatable; default aluminium)")
    x.add_argument("--fixed-filter", action="append", default=[], metavar="MATERIAL=CM",
                   help="filtration held fixed, e.g. tungsten=0.0002")
    x.add_argument("--fit-l-lines", action="store_true", help="fit the W L-line strength")
    x.add_argument("--fit-kvp", action="store_true")
    x.add_argument("--normalised-at", type=float, default=None,
                   help="the data are a ratio normalised at this radius (cm), e.g. g(r) at 1")
    x.add_argument("--radial-dose-function", action="store_true",
                   help="the data are the TG-43 radial dose function g(r) (needs --normalised-at)")
    x.add_argument("--phantom", type=float, default=30.0, help="water cube side (cm)")
    x.add_argument("--voxel", type=float, default=0.2, help="voxel size (cm)")
    x.set_defaults(func=_cmd_xray)


def _finish(res, args) -> int:
    import sys

    from ..clinical.commission import plot_fit

    res.provenance["command"] = "iortmc " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["commission"] else \
        "iortmc commission (called from Python)"
    res.save(args.output)
    print(res.summary())
    print(f"wrote {args.output}")
    if args.figure:
        try:
            plot_fit(res, args.figure)
            print(f"wrote {args.figure}")
        except ImportError as exc:  # pragma: no cover - matplotlib missing
            print(f"no figure: {exc}")
    return 0


def _cmd_electron(args) -> int:
    from ..clinical import commission as C

    m = C.read_measurement(args.data, kind="depth",
                           relative_uncertainty=True if args.relative_uncertainty else None)
    geom = C.WaterBeamGeometry(field_size_cm=tuple(args.field_size) if args.field_size else None,
                               field_diameter_cm=args.field_diameter, detector_width_cm=args.detector_width,
                               detector_length_cm=args.detector_length, detector_shape=args.detector_shape,
                               bin_cm=args.depth_bin)
    kw = {}
    if args.histories_per_bin is not None:
        kw["histories_per_bin"] = args.histories_per_bin
    if args.regularisation is not None:
        kw["regularisation"] = args.regularisation
    res = C.commission_electron(m, geom, energy_range_MeV=args.energy_range, bin_MeV=args.bin,
                                fit_spread=not args.no_spread, fit_angle=not args.no_angle,
                                fit_source_distance=args.fit_source_distance, method=args.method,
                                final_histories=args.final_histories, seed=args.seed, threads=args.threads,
                                name=args.name or "commissioned IOERT beam", **kw)
    return _finish(res, args)


def _cmd_xray(args) -> int:
    from ..clinical import commission as C
    from ..errors import InputError

    m = C.read_measurement(args.data, kind="radial", normalised_at_cm=args.normalised_at,
                           relative_uncertainty=True if args.relative_uncertainty else None)
    fixed = {}
    for item in args.fixed_filter:
        name, _, val = item.partition("=")
        try:
            fixed[name] = float(val)
        except ValueError:
            raise InputError(f"--fixed-filter must be MATERIAL=CM, got {item!r}") from None
    kw = {}
    if args.histories_per_bin is not None:
        kw["histories_per_bin"] = args.histories_per_bin
    if args.regularisation is not None:
        kw["regularisation"] = args.regularisation
    res = C.commission_xray(m, C.WaterPointGeometry(phantom_cm=args.phantom, voxel_cm=args.voxel), kvp=args.kvp,
                            filters=tuple(args.filter or ("aluminium",)), fixed_filters=fixed,
                            fit_l_lines=args.fit_l_lines, fit_kvp=args.fit_kvp, method=args.method,
                            quantity="radial_dose_function" if args.radial_dose_function else "dose",
                            final_histories=args.final_histories, seed=args.seed, threads=args.threads,
                            name=args.name or "commissioned 50 kV source", **kw)
    return _finish(res, args)
