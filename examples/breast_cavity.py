"""A 50 kV INTRABEAM-like source in a surgical cavity in breast tissue.

After a lumpectomy the source sits at the centre of the cavity (here a sphere of saline, or of air if
the cavity is not filled) surrounded by breast tissue (50/50 glandular/adipose). The script builds
the phantom, runs the simulation, prints the dose at the cavity surface and at 5, 10 and 20 mm into
the tissue, the treatment time for a prescription, and writes the result and an isodose figure.

The spectrum is the shipped INTRABEAM-like 50 kV bare-probe spectrum (docs/spectra.md); the probe,
its needle and any spherical applicator are not modelled (a point source).

    python examples/breast_cavity.py --histories 2000000 --cavity saline --output cavity.h5
"""

import argparse
import sys
from pathlib import Path

import iortmc as mc
from iortmc import analysis


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--histories", type=int, default=2_000_000)
    ap.add_argument("--output", default="breast_cavity.h5", help="result file (.h5); PNGs go next to it")
    ap.add_argument("--cavity", choices=("saline", "air"), default="saline")
    ap.add_argument("--radius-cm", type=float, default=1.5, help="cavity radius (cm)")
    ap.add_argument("--prescription-gy", type=float, default=20.0, help="dose at the cavity surface (Gy)")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)

    phantom = mc.Phantom.box(shape=(100, 100, 100), voxel_size=0.1, material="breast_50_50")
    phantom.paint_sphere(center=(0.0, 0.0, 0.0), radius_cm=args.radius_cm, material=args.cavity)
    source = mc.PointSource(spectrum=mc.Spectrum.builtin("intrabeam_50kv_bare"), position=(0.0, 0.0, 0.0))
    opts = {} if args.threads is None else {"threads": args.threads}
    result = mc.simulate(phantom, source, histories=args.histories, seed=1, scoring="kerma", **opts)
    result.save(args.output)

    R = args.radius_cm
    print(f"{args.histories:,} histories, {args.cavity} cavity of radius {R:g} cm, "
          f"{result.timing['wall_s']:.1f} s")
    # mass-weighted mean dose in 1 mm thick shells: at the cavity surface and 5, 10, 20 mm into tissue
    import numpy as np

    depths = (0.0, 0.5, 1.0, 2.0)
    edges = np.array([[R + t, R + t + 0.1] for t in depths]).ravel()
    _, dose, unc = analysis.radial_dose(result, r_edges=edges)
    shell = dose[0::2], unc[0::2]
    d_s = shell[0][0]
    print(f"dose in the first mm of tissue: {d_s:.4e} Gy/history (+- {100 * shell[1][0]:.1f} %)")
    for t, d, u in zip(depths[1:], shell[0][1:], shell[1][1:]):
        print(f"  {10 * t:4.0f} mm into tissue: {100 * d / d_s:6.1f} % of the surface dose (+- {100 * u:.1f} %)")
    surface = (R + 0.05, 0.0, 0.0)
    print(f"{args.prescription_gy:g} Gy at the surface needs {args.prescription_gy / d_s:.3e} source photons")

    try:
        from iortmc import plot

        base = Path(args.output).with_suffix("")
        plot.radial_dose(result, f"{base}_radial.png")
        plot.isodose(result, f"{base}_isodose.png", axis="z", value=0.0, reference=surface,
                     levels=(200, 100, 50, 20, 10, 5), max_rel_unc=0.3)
        print(f"wrote {args.output}, {base}_radial.png, {base}_isodose.png")
    except ImportError as exc:
        print(f"wrote {args.output}; no figures: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
