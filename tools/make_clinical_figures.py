"""Make the figures of docs/applicators.md and docs/tg43-xoft.md from full-size runs.

Runs the clinical examples at full size (their own ``main``, so the figures are exactly what a user
gets), copies their PNGs into docs/figures/, adds an isodose map of the IOERT shielding case and the
TG-43 radial dose function of the Xoft-like source, and writes every script's printed output to
docs/figures/clinical_runs.txt (the numbers quoted in the docs).

    python tools/make_clinical_figures.py                 # full size, about 8-10 min on 2 cores
    python tools/make_clinical_figures.py --scale 0.01    # quick smoke run (numbers meaningless)

Full-size history counts (``--scale 1``): intrabeam_breast and xoft_balloon 5e6 photons each (1 mm
voxels), ioert_shielding 4e5 electrons per run (two runs, 2 mm voxels), TG-43 3e6 photons (30 cm
water cube, 2 mm voxels), ct_import 5e6 photons (2 mm voxels). Seeds are the examples' own, so a rerun reproduces the figures bit for bit
on any thread count.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"

FULL = {"intrabeam_breast": 5_000_000, "xoft_balloon": 5_000_000, "ioert_shielding": 400_000, "tg43_xoft": 3_000_000,
        "ct_import": 5_000_000}


def _example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run_example(name, histories, workdir, log, threads):
    out = Path(workdir) / f"{name}.h5"
    argv = ["--histories", str(histories), "--output", str(out)]
    if threads:
        argv += ["--threads", str(threads)]
    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        _example(name).main(argv)
    text = buf.getvalue()
    log.append(f"$ python examples/{name}.py {' '.join(a if a != str(out) else f'{name}.h5' for a in argv)}\n"
               f"{text}(wall {time.perf_counter() - t0:.0f} s)\n")
    print(text, end="")
    return out


def _ioert_isodose(workdir):
    """Isodose map (y = 0 plane) of the shielded field, 100 % = open-field Dmax on the axis."""
    import iortmc as mc
    from iortmc import plot

    mod = _example("ioert_shielding")
    open_res = mc.load(Path(workdir) / "ioert_shielding_open.h5")
    shielded = mc.load(Path(workdir) / "ioert_shielding.h5")
    z, d0, _ = mod.central_depth_dose(open_res)
    dmax = float(d0[z > 0].max())
    plot.isodose(shielded, FIGURES / "ioert_shielding_isodose.png", axis="y", value=0.1, reference=dmax,
                 levels=(150, 120, 100, 90, 80, 50, 20, 10, 5, 2), max_rel_unc=0.1)


def _tg43_xoft(histories, log, threads):
    """g(r) of the Xoft-like point source against Hiatt et al. (2015), as in tests/physics/test_tg43_xoft.py."""
    import iortmc as mc
    from iortmc.analysis.plot import require_matplotlib

    sys.path.insert(0, str(ROOT / "tests" / "physics"))
    from test_tg43_xoft import G_REF, air_kerma_strength_per_history

    ph = mc.Phantom.box(shape=(150, 150, 150), voxel_size=0.2, material="water")
    sp = mc.Spectrum.builtin("xoft_axxent_50kv")
    opts = {"threads": threads} if threads else {}
    res = mc.simulate(ph, mc.PointSource(sp, (0.0, 0.0, 0.0)), histories=histories, seed=7, scoring="kerma", **opts)
    sk = air_kerma_strength_per_history(sp)
    r = [0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    t = mc.analysis.tg43(res, r_cm=r, theta_deg=[0, 30, 60, 90, 120, 150, 180], normalization=sk)
    lines = [f"TG-43, Xoft-like point source, {histories:,} photons, 30 cm water cube, 2 mm voxels, "
             f"{res.timing['wall_s']:.0f} s",
             f"S_K per photon = {sk:.4e} Gy cm2; Lambda = {t.dose_rate_constant:.4f} cGy h-1 U-1 "
             f"(+- {t.dose_rate_constant_rel_unc:.1%})",
             " r_cm  g_iortmc  sigma   g_ref   delta    F(0)   F(30)  F(60)  F(120) F(150) F(180)  sigma_F(90..)"]
    for i, rr in enumerate(t.r_cm):
        ref = G_REF.get(float(rr))
        refs = f"{ref:6.3f}  {t.g[i] / ref - 1:+6.1%}" if ref else "     -       -"
        F = " ".join(f"{v:6.3f}" for k, v in enumerate(t.F[i]) if k != 3)
        lines.append(f" {rr:4.1f}  {t.g[i]:7.4f}  {t.g[i] * t.g_rel_unc[i]:6.4f}  {refs}  {F}  {np.nanmax(t.F_rel_unc[i]):.3f}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    log.append("$ tools/make_clinical_figures.py (TG-43 part)\n" + text)

    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    g, s = t.g, t.g * t.g_rel_unc
    ax.fill_between(t.r_cm, g - s, g + s, alpha=0.3)
    ax.plot(t.r_cm, g, "o-", label="iortmc: isotropic point, SpekPy spectrum (xoft_axxent_50kv)")
    rr = sorted(G_REF)
    ax.plot(rr, [G_REF[k] for k in rr], "ks", label="Hiatt, Davis and Rivard 2015 (MCNP, Axxent S700)")
    ax.set_xlabel("r (cm)")
    ax.set_ylabel("g(r)")
    ax.set_yscale("log")
    ax.set_title("TG-43 radial dose function, 50 kV Xoft-like source in water", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.savefig(FIGURES / "tg43_xoft_g.png", dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the full-size history counts")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--only", nargs="*", choices=sorted(FULL), help="make only these figures")
    ap.add_argument("--workdir", default=None, help="keep the .h5 results here (default: a temporary folder)")
    args = ap.parse_args(argv)
    FIGURES.mkdir(parents=True, exist_ok=True)
    todo = args.only or list(FULL)
    log = []
    n = {k: max(1000, int(round(v * args.scale))) for k, v in FULL.items()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name, png in (("intrabeam_breast", "_isodose.png"), ("xoft_balloon", "_isodose.png"),
                          ("ioert_shielding", "_depth.png"), ("ct_import", "_isodose.png")):
            if name not in todo:
                continue
            out = _run_example(name, n[name], work, log, args.threads)
            shutil.copyfile(out.with_name(out.stem + png), FIGURES / f"{name}{png}")
            if name == "ioert_shielding":
                _ioert_isodose(work)
        if "tg43_xoft" in todo:
            _tg43_xoft(n["tg43_xoft"], log, args.threads)
    if args.scale == 1.0 and not args.only:
        (FIGURES / "clinical_runs.txt").write_text("".join(f"{block}\n" for block in log))
    else:
        print("(partial or scaled run: docs/figures/clinical_runs.txt left unchanged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
