"""A 4 cm INTRABEAM-like spherical applicator in a lumpectomy cavity of a breast phantom.

The phantom (iortmc.phantoms.breast_phantom) is 10 x 10 cm laterally: 2 mm skin, breast tissue
(50/50 glandular/adipose by mass) to 6 cm depth, 1 cm pectoral muscle, a 1 cm rib layer (cortical-bone
ribs along x at y = -3, 0, 3 cm) and 2 cm of inflated lung. The applicator (solid polyetherimide
sphere, 4 cm diameter, with the 3.2 mm probe running to the skin) sits with its centre 3 cm deep;
the 50 kV bare-probe spectrum is emitted at the sphere centre. The probe's drift tube is a metal tube
(stainless steel, 0.2 mm wall, homogenised over the bore: docs/applicators.md); with
``--drift-tube-wall-cm 0`` the bore is air, as a probe without its metal. Kerma scoring.

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
    ap.add_argument("--drift-tube-wall-cm", type=float, default=0.02,
                    help="wall of the metal drift tube (cm); 0 = an air bore")
    ap.add_argument("--compare-drift-tube", metavar="FIG", default=None,
                    help="run with the tube and with an air bore; plot the skin dose across the probe")
    args = ap.parse_args(argv)
    if args.compare_drift_tube:
        return compare_drift_tube(args)

    R = 0.5 * args.diameter_cm
    depth = 3.0
    phantom, result, app, info = run(args, args.drift_tube_wall_cm)
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
    sk = skin_over_probe(phantom, result, info)
    print(f"skin next to the probe (0.16-0.5 cm from its axis): {100 * sk['probe'] / d_s:.2f} % of the surface dose; "
          f"rings of the surrounding skin (0.5-3 cm): {100 * sk['ring_min'] / d_s:.2f} to {100 * sk['ring_max'] / d_s:.2f} %")

    try:
        from iortmc import plot

        png = f"{Path(args.output).with_suffix('')}_isodose.png"
        plot.isodose(result, png, axis="x", value=0.05, reference=(R + 0.05, 0.0, depth),
                     levels=(200, 100, 50, 20, 10, 5), max_rel_unc=0.3)
        print(f"wrote {args.output} and {png}")
    except ImportError as exc:
        print(f"wrote {args.output}; no figure: {exc}", file=sys.stderr)
    return 0


def run(args, wall_cm, histories=None):
    R = 0.5 * args.diameter_cm
    depth = 3.0
    app = SphericalApplicator(args.diameter_cm, probe_length_cm=depth - R,  # the probe runs up to the skin
                              drift_tube_wall_cm=wall_cm)
    phantom, info = breast_phantom(args.voxel_cm, 10.0, breast_cm=6.0, cavity=app, cavity_depth_cm=depth)
    opts = {} if args.threads is None else {"threads": args.threads}
    result = mc.simulate(phantom, info["source"], histories=histories or args.histories, seed=1,
                         metadata={"case": "intrabeam_breast", "applicator": app.describe()}, **opts)
    return phantom, result, app, info


def skin_map(phantom, result):
    """Mass-weighted mean dose over the skin layer's depth at each (y, x): a 2-D map [y, x]."""
    names = [m.name for m in phantom.materials]
    skin = phantom.index == names.index("skin")
    mass = np.where(skin, phantom.density, 0.0)
    with np.errstate(invalid="ignore"):
        return (result.dose * mass).sum(axis=0) / mass.sum(axis=0)


def skin_over_probe(phantom, result, info):
    """Skin dose in rings about the probe axis (mass-weighted over the skin layer): the ring next
    to the probe (0.16 to 0.5 cm from the axis) against the range of the rings of the surrounding skin
    (0.5 to 3 cm, 0.25 cm wide)."""
    names = [m.name for m in phantom.materials]
    skin = phantom.index == names.index("skin")
    mass = np.where(skin, phantom.density, 0.0)
    energy = result.dose * mass
    x, y, _ = phantom.centers()
    c = info["cavity_center_cm"]
    rho = np.hypot(x[None, :] - c[0], y[:, None] - c[1])

    def ring(a, b):
        sel = (rho > a) & (rho <= b)
        return float(energy[:, sel].sum() / mass[:, sel].sum())

    edges = np.arange(0.5, 3.0001, 0.25)
    rings = [ring(a, b) for a, b in zip(edges[:-1], edges[1:])]
    with np.errstate(invalid="ignore"):
        m = energy.sum(axis=0) / mass.sum(axis=0)
    return {"probe": ring(0.16, 0.5), "ring_min": min(rings), "ring_max": max(rings), "rings": rings,
            "ring_mid": 0.5 * (edges[1:] + edges[:-1]), "map": m, "x": x - c[0], "y": y - c[1]}


def compare_drift_tube(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    R = 0.5 * args.diameter_cm
    for wall, label, style in ((0.0, "air bore (no drift tube)", "C3--"), (args.drift_tube_wall_cm,
                               f"metal drift tube ({10 * args.drift_tube_wall_cm:g} mm steel wall)", "C0-")):
        phantom, result, app, info = run(args, wall)
        edges = [R, R + 0.1]
        _, dose, _ = analysis.radial_dose(result, center=info["cavity_center_cm"], r_edges=edges)
        sk = skin_over_probe(phantom, result, info)
        j = int(np.argmin(np.abs(sk["y"])))
        ax.plot(sk["x"], 100 * sk["map"][j] / dose[0], style, label=label)
        ax2.plot([0.33] + list(sk["ring_mid"]), 100 * np.array([sk["probe"]] + sk["rings"]) / dose[0], style[:2] + "o-"
                 if style.endswith("-") and not style.endswith("--") else style + "o", label=label)
        print(f"{label}: skin next to the probe {100 * sk['probe'] / dose[0]:.1f} % of the dose in the first mm of "
              f"tissue; rings of the surrounding skin {100 * sk['ring_min'] / dose[0]:.1f} to "
              f"{100 * sk['ring_max'] / dose[0]:.1f} %")
    ax2.set_xlabel("distance from the probe axis (cm); first point: 0.16-0.5 cm ring")
    ax2.set_ylabel("skin dose, ring mean (%)")
    ax2.set_yscale("log")
    ax2.legend(fontsize=8)
    ax.set_xlabel("x across the probe at the skin (cm)")
    ax.set_ylabel("skin dose (% of the dose\nin the first mm of tissue)")
    ax.set_title(f"{args.diameter_cm:g} cm spherical applicator 3 cm deep: skin dose over the probe")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.compare_drift_tube, dpi=110)
    print(f"wrote {args.compare_drift_tube}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
