"""Measure the electron physics against its references and write docs/electron-physics-measured.md
(+ figures in docs/figures/electron_*.png). The numbers quoted in docs/electron-physics.md come from
this file; rerun it after any change of the electron physics or of its defaults.

Measures (default transport options unless stated):
1. broad-beam depth dose in water at 4, 9, 12 MeV on the PENELOPE-2018 reference set-up
   (iortmc.cli.validate.penelope_broad_beam_run) with the reference analysis: Dmax, R90, R50, Rp and the
   worst bin, and the Rogers & Bielajew (1986) R50 for information;
2. step-size dependence at 4 MeV (ms_strength 0.15 / default / 0.02);
3. transport mean free paths of water against PENELOPE-2018's elastic table;
4. Lockwood's 1 MeV calorimetry in carbon and aluminium, with PENELOPE-2018 on the same set-up;
5. R50 shift behind 1 cm of ICRP cortical bone at 1-2 cm (9 MeV);
6. speed: 6 MeV, 10 cm field on a 20 cm water cube in 2 mm voxels, 1 thread, CPU time, with the load.

Usage: python3 tools/electron_physics_report.py [--quick]   (about 10 min on 2 cores; --quick: ~2 min)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "physics"))

import iortmc as mc  # noqa: E402
from iortmc.physics import electron_tables as etb  # noqa: E402
from iortmc.cli import validate as val  # noqa: E402

QUICK = "--quick" in sys.argv
OUT = ROOT / "docs" / "electron-physics-measured.md"
FIG = ROOT / "docs" / "figures"


def cpu():
    t = os.times()
    return t.user + t.system


def table(head, rows):
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                     + ["| " + " | ".join(r) + " |" for r in rows])


def main():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = ["# Electron physics: measured", "",
             f"Written by `tools/electron_physics_report.py`{' (quick mode)' if QUICK else ''} on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, iortmc {mc.__version__}, "
             f"load average at start {os.getloadavg()[0]:.1f} (2-core machine). Do not edit by hand.", ""]
    # ------------------------------------------------------------------ 1. depth dose vs PENELOPE
    hist = {4.0: 3_000_000, 9.0: 2_000_000, 12.0: 2_000_000}
    rows = []
    fig, axes = plt.subplots(2, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    for E in val.PENELOPE_ELECTRON_ENERGIES:
        n = hist[E] // (10 if QUICK else 1)
        z, d, u = val.penelope_broad_beam_run(E, n, seed=7, threads=2)
        zr, dr, ur = val.penelope_depth_dose(E)
        c = val.compare_depth_dose(z, d, u, zr, dr, ur)
        s = val.depth_dose_figure_sigmas(z, d, u)
        f = c["figures"]
        sel = c["sel"]
        rows.append([f"{E:g}", f"{n:,}", f"{100 * (c['dmax_ratio'] - 1):+.2f} ± {100 * s['D_max']:.2f}",
                     f"{f['R90']:.3f} ({10 * c['delta']['R90']:+.2f})", f"{f['R50']:.3f} ({10 * c['delta']['R50']:+.2f})",
                     f"{f['Rp']:.3f} ({10 * c['delta']['Rp']:+.2f})", f"{100 * np.max(np.abs(c['diff'][sel])):.1f}",
                     f"{int((~c['bins_ok']).sum())} of {int(sel.sum())}",
                     f"{val.rogers_bielajew_r50(E):.3f}"])
        line, = axes[0].plot(z, d * 1e12, "-", lw=1.2, label=f"iortmc {E:g} MeV")
        axes[0].plot(zr, dr * 1e12, "o", ms=2.5, color=line.get_color(), label=f"PENELOPE-2018 {E:g} MeV")
        axes[1].plot(zr[sel], 100 * c["diff"][sel], "-o", ms=2.5, color=line.get_color())
    axes[0].set_ylabel("dose per electron (pGy)")
    axes[0].legend(fontsize=7)
    axes[1].axhline(2, ls=":", color="grey")
    axes[1].axhline(-2, ls=":", color="grey")
    axes[1].set_ylabel("iortmc - PENELOPE (% Dmax)")
    axes[1].set_xlabel("depth in water (cm)")
    for a in axes:
        a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(FIG / "electron_depth_dose_penelope.png", dpi=110)
    plt.close(fig)
    lines += ["## Broad-beam depth dose in water vs PENELOPE-2018", "",
              "PENELOPE-2018 set-up rebuilt (15 x 15 cm field, 30 cm cube, column |x|, |y| < 1 cm, 1 mm bins), "
              "seed 7, default options. Dmax: iortmc / PENELOPE - 1 (± our statistical sigma); R in cm with "
              "iortmc - PENELOPE in mm; worst bin: largest |dD| where D > 20 % Dmax (% of Dmax); failing bins: "
              "off by more than 2 % Dmax and 0.5 mm. Last column: R50 of Rogers & Bielajew 1986 (information).",
              "", table(["E0 (MeV)", "histories", "dDmax (%)", "R90 cm (mm)", "R50 cm (mm)", "Rp cm (mm)",
                         "worst bin (%)", "failing bins", "R50 R&B (cm)"], rows),
              "", "![depth dose vs PENELOPE](figures/electron_depth_dose_penelope.png)", ""]
    # ------------------------------------------------------------------ 2. step size
    rows = []
    n = 1_000_000 // (5 if QUICK else 1)
    zr, dr, ur = val.penelope_depth_dose(4.0)
    for k in (0.15, etb.DEFAULTS["ms_strength"], 0.02):
        z, d, u = val.penelope_broad_beam_run(4.0, n, seed=7, threads=2, ms_strength=k)
        c = val.compare_depth_dose(z, d, u, zr, dr, ur)
        rows.append([f"{k:g}", f"{100 * (c['dmax_ratio'] - 1):+.2f}", f"{10 * c['delta']['R90']:+.2f}",
                     f"{10 * c['delta']['R50']:+.2f}", f"{10 * c['delta']['Rp']:+.2f}"])
    # the same with the Goudsmit-Saunderson shape of the plain screened Rutherford DCS (Moliere's
    # screening, Z(Z + xi)-weighted geometric mean over the elements): lambda_1 unchanged, lambda_2 longer
    orig = etb.material_transport_data

    def plain_sr(material, E, charge=-1, mott=True, ae=None, atomic_electrons=True):
        k1, k2, _ = orig(material, E, charge, mott, ae, atomic_electrons)
        E = np.atleast_1d(np.asarray(E, dtype=float))
        lne, ws = np.zeros(E.shape), np.zeros(E.shape)
        for zz, w in zip(material.elements, material.mass_fractions):
            el = etb._elements.element(int(zz))
            eta = etb.moliere_eta(E, zz)
            xi = etb.electron_scattering_xi(E, zz, eta, el.I_eV, ae=ae, charge=charge)
            n = w / el.atomic_weight * zz * (zz + xi)
            lne += n * np.log(eta)
            ws += n
        return k1, k2, np.exp(lne / ws)

    etb.material_transport_data = plain_sr
    etb._PACK_CACHE.clear()
    try:
        z, d, u = val.penelope_broad_beam_run(4.0, n, seed=7, threads=2)
    finally:
        etb.material_transport_data = orig
        etb._PACK_CACHE.clear()
    c = val.compare_depth_dose(z, d, u, zr, dr, ur)
    rows.append([f"{etb.DEFAULTS['ms_strength']:g}, plain SR shape", f"{100 * (c['dmax_ratio'] - 1):+.2f}",
                 f"{10 * c['delta']['R90']:+.2f}", f"{10 * c['delta']['R50']:+.2f}", f"{10 * c['delta']['Rp']:+.2f}"])
    lines += ["## Step size and angular shape (4 MeV, PENELOPE set-up)", "",
              "Last row: default steps, but each step's Goudsmit-Saunderson distribution from the plain "
              "screened Rutherford DCS with Moliere's screening (same lambda_1, lambda_2 about 3 % too long).", "",
              f"{n:,} histories each (sigma of dDmax about {0.24 * (1e6 / n) ** 0.5:.2f} %); estepe "
              f"{etb.DEFAULTS['estepe']:g}.", "",
              table(["ms_strength", "dDmax (%)", "dR90 (mm)", "dR50 (mm)", "dRp (mm)"], rows), ""]
    # ------------------------------------------------------------------ 3. transport mean free paths
    t = np.loadtxt(ROOT / "tests" / "physics" / "data" / "penelope2018_water_elastic.csv", delimiter=",",
                   comments="#", skiprows=5)
    t = t[(t[:, 0] >= 0.1 - 1e-9) & (t[:, 0] <= 20 + 1e-9)]
    water = mc.material("water")
    k1, k2, _ = etb.material_transport_data(water, t[:, 0], atomic_electrons=False)
    ka, _, _ = etb.material_transport_data(water, t[:, 0])
    ks, _, _ = etb.material_transport_data(water, t[:, 0], ae=etb.DEFAULTS["ae"])
    # the screened Rutherford shape with Moliere's screening (the model before lambda_2 was matched)
    eta_o = etb.moliere_eta(t[:, 0], 8.0)
    g1 = 2 * eta_o * ((1 + eta_o) * np.log1p(1 / eta_o) - 1)
    g2 = 6 * eta_o * (1 + eta_o) * ((1 + 2 * eta_o) * np.log1p(1 / eta_o) - 2)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.semilogx(t[:, 0], 100 * (1 / k1 / t[:, 2] - 1), label="λ1 elastic: iortmc / PENELOPE - 1")
    ax.semilogx(t[:, 0], 100 * (1 / k2 / t[:, 3] - 1), label="λ2 elastic: iortmc / PENELOPE - 1")
    ax.semilogx(t[:, 0], 100 * ((k2 / k1) / (t[:, 2] / t[:, 3]) - 1), "--", label="λ1/λ2 (GS shape) vs PENELOPE")
    ax.semilogx(t[:, 0], 100 * ((g2 / g1) / (t[:, 2] / t[:, 3]) - 1), ":",
                label="λ1/λ2 of screened Rutherford with Moliere η (oxygen)")
    ax.semilogx(t[:, 0], 100 * (t[:, 2] * ka - 1), label="total (with atomic electrons) vs elastic table")
    ax.set_xlabel("electron energy (MeV)")
    ax.set_ylabel("%")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(FIG / "electron_transport_mfp.png", dpi=110)
    plt.close(fig)
    pick = [np.argmin(np.abs(t[:, 0] - e)) for e in (0.1, 0.5, 1, 2, 4, 6, 10, 20)]
    rows = [[f"{t[i, 0]:g}", f"{t[i, 2]:.4g}", f"{100 * (1 / k1[i] / t[i, 2] - 1):+.2f}", f"{t[i, 3]:.4g}",
             f"{100 * (1 / k2[i] / t[i, 3] - 1):+.2f}", f"{t[i, 2] / t[i, 3]:.3f}", f"{k2[i] / k1[i]:.3f}",
             f"{g2[i] / g1[i]:.3f}", f"{100 * (ka[i] * t[i, 2] - 1):+.1f}", f"{100 * (ks[i] * t[i, 2] - 1):+.1f}"]
            for i in pick]
    lines += ["## Transport mean free paths of water vs PENELOPE-2018 (elastic table)", "",
              "λ in g/cm²; deviations in %. 'SR' = screened Rutherford with Moliere's η of oxygen (the shape "
              "used before the second transport cross section was matched). The last two columns: our total "
              "k1 (with the atomic electrons: every collision / soft ones below the default ae) over the "
              "elastic table's.", "",
              table(["E (MeV)", "λ1 PEN", "λ1 dev", "λ2 PEN", "λ2 dev", "λ1/λ2 PEN", "λ1/λ2 ours",
                     "λ1/λ2 SR", "k1 all / el", "k1 soft / el"], rows),
              "", "![transport mean free paths](figures/electron_transport_mfp.png)", ""]
    # ------------------------------------------------------------------ 4. Lockwood
    import test_lockwood_energy_deposition as L

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    rows = []
    for ax, case in zip(axes, (L.CARBON_1MEV, L.ALUMINIUM_1033KEV)):
        mat, e0, r0, xm, dm, rel = case
        x, d, u = L._deposition(mat, e0, r0, histories=100_000 // (2 if QUICK else 1))
        ours = np.interp(xm, x, d)
        pen, _ = L._penelope(mat, xm)
        for i in range(xm.size):
            rows.append([mat, f"{xm[i]:.4f}", f"{dm[i]:.2f}", f"{100 * (ours[i] / dm[i] - 1):+.1f}",
                         f"{100 * (pen[i] / dm[i] - 1):+.1f}"])
        rows.append([mat, "R50", f"{L._r50(xm, dm):.3f}", f"{L._r50(xm, ours):.3f}", f"{L._r50(xm, pen):.3f}"])
        ax.plot(x, d, "-", label="iortmc")
        ax.plot(xm, pen, "s", ms=3, label="PENELOPE-2018")
        ax.errorbar(xm, dm, yerr=rel * dm, fmt="o", ms=3, label="Lockwood et al.")
        ax.set_title(f"{mat} {e0:g} MeV")
        ax.set_xlabel("depth / r0")
        ax.set_ylabel("MeV cm²/g per electron")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(FIG / "electron_lockwood.png", dpi=110)
    plt.close(fig)
    lines += ["## Lockwood calorimetry (1 MeV, C and Al), with PENELOPE-2018", "",
              "ecut = ae = 10 keV, 0.025 r0 bins. Deviations from the measurement (%); R50 rows: measured, "
              "iortmc, PENELOPE (r0).", "",
              table(["material", "x/r0", "measured", "iortmc (%)", "PENELOPE (%)"], rows),
              "", "![Lockwood](figures/electron_lockwood.png)", ""]
    # ------------------------------------------------------------------ 5. bone slab
    import test_electron_interfaces as B

    nb = 200_000 // (2 if QUICK else 1)
    z, d0, u0 = B._depth_dose([], histories=nb)
    _, d1, u1 = B._depth_dose([("bone_cortical_icrp", 1.0, 2.0)], histories=nb)
    f0, f1 = val.depth_dose_figures(z, d0), val.depth_dose_figures(z, d1)
    lines += ["## Bone slab (9 MeV, 1 cm ICRP cortical bone at 1-2 cm)", "",
              f"R50 {f0['R50']:.3f} cm without, {f1['R50']:.3f} cm with the slab: shift "
              f"{f0['R50'] - f1['R50']:.3f} cm ({nb:,} histories each; CET from the relative electron density "
              "1.74, from TG-25's compact bone 1.65).", ""]
    # ------------------------------------------------------------------ 6. speed
    cube = mc.Phantom.box(shape=(100, 100, 100), voxel_size=0.2, material="water", origin=(-10.0, -10.0, 0.0))
    beam = mc.ElectronBeam(6.0, field_diameter=10.0, position=(0.0, 0.0, -1.0))
    mc.simulate(cube, beam, histories=200, seed=1, threads=1)
    n = 40_000
    load = os.getloadavg()[0]
    c0 = cpu()
    r = mc.simulate(cube, beam, histories=n, seed=5, threads=1)
    dt = cpu() - c0
    lines += ["## Speed", "",
              f"6 MeV, 10 cm diameter parallel beam, 20 cm water cube in 2 mm voxels, 1 thread, {n:,} histories: "
              f"{n / dt:,.0f} histories per CPU-second ({n / r.metadata['transport_s']:,.0f} per wall-second "
              f"of transport); load average {load:.1f} on 2 cores.", ""]
    text = "\n".join(lines) + "\n"
    from iortmc._atomic import atomic_write

    atomic_write(OUT, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    print(text)


if __name__ == "__main__":
    main()
