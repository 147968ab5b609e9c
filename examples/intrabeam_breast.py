"""A 4 cm INTRABEAM-like spherical applicator in a lumpectomy cavity of a breast phantom.

The phantom (iortmc.phantoms.breast_phantom) is 10 x 10 cm laterally: 2 mm skin, breast tissue
(50/50 glandular/adipose by mass) to 6 cm depth, 1 cm pectoral muscle, a 1 cm rib layer (cortical-bone
ribs along x at y = -3, 0, 3 cm) and 2 cm of inflated lung. The applicator (solid polyetherimide
sphere, 4 cm diameter, with the 3.2 mm probe bore running to the skin) sits with its centre 3 cm deep;
the 50 kV bare-probe spectrum is emitted at the sphere centre. Kerma scoring (photons below 200 keV).

The script prints the dose at the applicator surface (the usual prescription point: 20 Gy in
TARGIT-A) and at 5, 10 and 20 mm into the tissue, the skin, rib and lung maxima relative to the
surface dose, and writes the result and an isodose figure.

    python examples/intrabeam_breast.py --histories 5000000 --output intrabeam_breast.h5
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import iortmc as mc
from iortmc import analysis
from iortmc.clinical.applicators import SphericalApplicator
from iortmc.geometry.phantoms import breast_phantom


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--histories", type=int, default=5_000_000)
    ap.add_argument("--output", default="intrabeam_breast.h5", help="result file (.h5); a PNG goes next to it")
    ap.add_argument("--diameter-cm", type=float, default=4.0, help="applicator diameter (1.5 to 5.0 cm)")
    ap.add_argument("--voxel-cm", type=float, default=0.1)
    ap.add_argument("--prescription-gy", type=float, default=20.0, help="dose at the applicator surface (Gy)")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)

    R = 0.5 * args.diameter_cm
    depth = 3.0
    app = SphericalApplicator(args.diameter_cm, probe_length_cm=depth - R)  # bore runs up to the skin
    phantom, info = breast_phantom(args.voxel_cm, 10.0, breast_cm=6.0, cavity=app, cavity_depth_cm=depth)
    source = info["source"]
    opts = {} if args.threads is None else {"threads": args.threads}
    result = mc.simulate(phantom, source, histories=args.histories, seed=1,
                         metadata={"case": "intrabeam_breast", "applicator": app.describe()}, **opts)
    result.save(args.output)
    centre = info["cavity_center_cm"]
    print(f"{args.histories:,} histories, {args.diameter_cm:g} cm spherical applicator at depth {depth:g} cm, "
          f"{result.timing['wall_s']:.1f} s")

    # mass-weighted dose in 1 mm shells outside the applicator surface (away from the probe bore)
    t = np.array([0.0, 0.5, 1.0, 2.0])
    edges = np.ravel([[R + a, R + a + 0.1] for a in t])
    _, dose, unc = analysis.radial_dose(result, center=centre, r_edges=edges)
    d_s, u_s = dose[0], unc[0]
    print(f"dose in the first mm of tissue: {d_s:.4e} Gy/history (+- {100 * u_s:.1f} %)")
    for a, d, u in zip(t[1:], dose[2::2], unc[2::2]):
        print(f"  {10 * a:4.0f} mm into tissue: {100 * d / d_s:6.2f} % of the surface dose (+- {100 * u:.1f} %)")
    names = [m.name for m in phantom.materials]
    for organ in ("skin", "bone_cortical_icrp", "lung_inflated"):
        # maximum over the voxels known to better than 20 % (a single noisy voxel is not a maximum)
        sel = (phantom.index == names.index(organ)) & (result.dose > 0) & (result.uncertainty < 0.2)
        top = f"{100 * result.dose[sel].max() / d_s:6.2f} %" if sel.any() else "   n/a  "
        print(f"  max dose in {organ:18s} {top} of the surface dose (voxels with < 20 % uncertainty)")
    print(f"{args.prescription_gy:g} Gy at the surface needs {args.prescription_gy / d_s:.3e} source photons")

    try:
        from iortmc import plot

        png = f"{Path(args.output).with_suffix('')}_isodose.png"
        plot.isodose(result, png, axis="x", value=0.05, reference=(R + 0.05, 0.0, depth),
                     levels=(200, 100, 50, 20, 10, 5), max_rel_unc=0.3)
        print(f"wrote {args.output} and {png}")
    except ImportError as exc:
        print(f"wrote {args.output}; no figure: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
