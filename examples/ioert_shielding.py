"""9 MeV IOERT electrons through a 6 cm flat PMMA applicator onto water with a lead disc at 2 cm depth.

The applicator (iortmc.applicators.IOERTApplicator) is a PMMA
cylinder, 6 cm inner diameter, 0.5 cm wall, 10 cm long, standing on the water surface (z = 0); the
beam (monoenergetic 9 MeV, 0.03 rad Gaussian angular spread, parallel) starts 0.5 cm above its top.
The shielding disc (iortmc.applicators.ShieldingDisc) is 8 cm in diameter and 4 mm of lead, its
beam-side face at 2 cm depth. Voxels 2 mm; the water is 12 x 12 x 6 cm.

The script runs the shielded set-up and the same field without the disc, and prints, along the
central axis (mass-weighted mean over a 1 cm radius column):

* Dmax of the open field and its depth,
* the largest dose behind the disc, relative to the open-field Dmax (acceptance: < 5 %),
* the backscatter dose enhancement: shielded / open dose in the voxel just in front of the disc and
  5 mm further up.

It writes the shielded result to ``--output``, the open field next to it (``*_open.h5``), and a
depth-dose comparison figure.

    python examples/ioert_shielding.py --histories 400000 --output ioert_shielding.h5
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import iortmc as mc
from iortmc.clinical.applicators import IOERTApplicator, ShieldingDisc

ENERGY_MEV = 9.0
DISC_DEPTH_CM = 2.0
LEAD_CM = 0.4


def central_depth_dose(result, radius_cm=1.0):
    """(z_cm, dose, sigma): mass-weighted mean dose per z slice in a column of ``radius_cm``."""
    ph = result.phantom
    x, y, z = ph.centers()
    core = (x[None, :] ** 2 + y[:, None] ** 2) < radius_cm ** 2
    m = ph.voxel_mass() * core
    msum = m.sum(axis=(1, 2))
    d = (result.dose * m).sum(axis=(1, 2)) / msum
    s = np.sqrt(((result.dose * result.uncertainty * m) ** 2).sum(axis=(1, 2))) / msum
    return z, d, s


def build(voxel_cm=0.2, disc=True):
    """The phantom (water, air above, applicator wall, optional lead disc) and the beam."""
    app = IOERTApplicator(6.0, wall_thickness_cm=0.5, length_cm=10.0, bevel_deg=0)
    ph, beam = app.build(ENERGY_MEV, depth_cm=6.0, lateral_cm=12.0, voxel_size_cm=voxel_cm)
    if disc:
        ShieldingDisc([("lead", LEAD_CM)], diameter_cm=8.0, depth_cm=DISC_DEPTH_CM).paint(ph)
    return ph, beam, app


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--histories", type=int, default=400_000, help="histories per run (two runs)")
    ap.add_argument("--output", default="ioert_shielding.h5", help="result file (.h5) of the shielded run")
    ap.add_argument("--voxel-cm", type=float, default=0.2)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)

    opts = {} if args.threads is None else {"threads": args.threads}
    results = {}
    for name, disc in (("open", False), ("shielded", True)):
        ph, beam, app = build(args.voxel_cm, disc)
        results[name] = mc.simulate(ph, beam, histories=args.histories, seed=3,
                                    metadata={"case": f"ioert_shielding_{name}", "applicator": app.describe()},
                                    **opts)
    out = Path(args.output)
    open_path = out.with_name(out.stem + "_open.h5")
    results["shielded"].save(out)
    results["open"].save(open_path)
    wall = sum(r.timing["wall_s"] for r in results.values())
    print(f"{args.histories:,} histories per run of {ENERGY_MEV:g} MeV electrons, 6 cm PMMA applicator, "
          f"{10 * LEAD_CM:g} mm Pb disc at {DISC_DEPTH_CM:g} cm; {wall:.1f} s for both runs")

    z, d0, s0 = central_depth_dose(results["open"])
    _, d1, s1 = central_depth_dose(results["shielded"])
    water = z > 0
    i_max = int(np.argmax(np.where(water, d0, -np.inf)))
    dmax = d0[i_max]
    print(f"open field: Dmax = {dmax:.4e} Gy/history at z = {z[i_max]:.1f} cm (+- {100 * s0[i_max] / dmax:.1f} %)")
    behind = z > DISC_DEPTH_CM + LEAD_CM
    j = int(np.argmax(np.where(behind, d1, -np.inf)))
    print(f"behind the disc: max {100 * d1[j] / dmax:.2f} % of Dmax at z = {z[j]:.1f} cm "
          f"(+- {100 * s1[j] / dmax:.2f} %; acceptance < 5 %)")
    h = results["open"].phantom.voxel_size[2]
    for up in (0.0, 0.5):
        k = int(np.argmin(np.abs(z - (DISC_DEPTH_CM - 0.5 * h - up))))
        ratio = d1[k] / d0[k]
        sig = ratio * np.hypot(s0[k] / d0[k], s1[k] / d1[k])
        print(f"backscatter in the voxel z = {z[k] - 0.5 * h:.1f}-{z[k] + 0.5 * h:.1f} cm in front of the disc: "
              f"shielded/open = {ratio:.3f} +- {sig:.3f} ({100 * (ratio - 1):+.1f} %)")

    try:
        from iortmc import plot

        png = f"{out.with_suffix('')}_depth.png"
        # central-axis profile along z (absolute z: the water surface is z = 0, air and PMMA above)
        plot.compare(results["open"], results["shielded"], png, kind="profile", axis="z", point=(0.0, 0.0, 0.0),
                     labels=("open field", f"{10 * LEAD_CM:g} mm Pb at {DISC_DEPTH_CM:g} cm"), normalize=None)
        print(f"wrote {out}, {open_path} and {png}")
    except ImportError as exc:
        print(f"wrote {out} and {open_path}; no figure: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
