"""From a DICOM CT series to an RT Dose file: a 50 kV source in a breast lumpectomy cavity.

The script writes a synthetic axial CT series of a breast-like slab (skin, adipose tissue with a
glandular region, a fluid-filled lumpectomy cavity, pectoral muscle, two ribs and lung, with a little
noise) and an RT Structure Set, then does what one does with a patient CT:

1. read the series (:func:`iortmc.dicom.read_ct_series`),
2. convert HU to materials and densities (default Schneider et al. 2000 calibration) on 2 mm voxels
   (:func:`iortmc.dicom.ct_to_phantom`),
3. simulate a 50 kV INTRABEAM-like point source at the cavity centre (kerma scoring),
4. prescribe 20 Gy to the first 2 mm of tissue around the cavity, print a DVH summary of the
   structures (:func:`iortmc.dicom.read_rtstruct`, :func:`iortmc.analysis.dvh`),
5. save the result (HDF5) and export the dose as DICOM RT Dose (:func:`iortmc.dicom.write_rtdose`)
   in the CT's frame of reference.

Files: ``OUTPUT`` (result), ``OUTPUT`` with ``.dcm`` (RT Dose) and the folder ``<stem>_dicom/`` (CT
slices and ``RS.dcm``); load the folder and the RT Dose into a DICOM viewer or a planning system.

    python examples/ct_import.py --histories 2000000 --output ct_import.h5
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import iortmc as mc
from iortmc import analysis, dicom

CAVITY_CENTER = (0.0, -1.5, 0.0)   # cm, patient coordinates (x left, y posterior, z superior)
CAVITY_RADIUS = 1.0                 # cm
RIBS_Z = (-2.0, 1.6)                # cm, rib axes run along x at y = RIB_Y
RIB_Y, RIB_R = 2.6, 0.5


def synthetic_ct(seed=7):
    """HU [z, y, x] on 1 mm x 1 mm pixels and 2 mm slices, with its voxel size and origin (cm)."""
    voxel = (0.1, 0.1, 0.2)
    shape = (40, 100, 120)                       # 8 cm x 10 cm x 12 cm (z, y, x)
    origin = (-6.0, -5.0, -4.0)
    nz, ny, nx = shape
    x = origin[0] + (np.arange(nx) + 0.5) * voxel[0]
    y = origin[1] + (np.arange(ny) + 0.5) * voxel[1]
    z = origin[2] + (np.arange(nz) + 0.5) * voxel[2]
    zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
    hu = np.full(shape, -1000.0)                                   # air in front of the patient
    hu[yy >= -4.0] = 30.0                                          # skin (2 mm)
    hu[yy >= -3.8] = -90.0                                         # adipose breast tissue
    gland = ((xx / 3.5) ** 2 + ((yy + 1.2) / 1.8) ** 2 + (zz / 2.5) ** 2) <= 1.0
    hu[gland & (yy >= -3.8) & (yy < 1.0)] = 40.0                   # fibroglandular tissue
    hu[yy >= 1.0] = 50.0                                           # pectoral and intercostal muscle
    for zr in RIBS_Z:
        d2 = (yy - RIB_Y) ** 2 + (zz - zr) ** 2
        hu[d2 <= RIB_R**2] = 1200.0                                # cortical shell
        hu[d2 <= (0.6 * RIB_R) ** 2] = 250.0                       # marrow / spongy bone
    lung = (yy >= 3.2)
    hu[lung] = -800.0
    cav = sum((c - c0) ** 2 for c, c0 in zip((xx, yy, zz), CAVITY_CENTER)) <= CAVITY_RADIUS**2
    hu[cav] = 10.0                                                 # seroma fluid in the cavity
    hu += np.random.default_rng(seed).normal(0.0, 6.0, size=shape) * (hu > -1000)
    return np.round(hu), voxel, origin


def structures(ct):
    """Contours (cm) on every CT slice: cavity, 1 cm tissue shell around it (PTV), ribs, lung."""
    x0, y0, zc = CAVITY_CENTER
    t = np.linspace(0.0, 2.0 * np.pi, 72, endpoint=False)
    (xlo, xhi), (ylo, yhi), _ = ct.extent
    out = {"Cavity": [], "PTV_1cm": [], "Rib": [], "Lung": []}
    for z in ct.centers()[2]:
        def circle(r):
            return np.column_stack([x0 + r * np.cos(t), y0 + r * np.sin(t), np.full(t.size, z)])
        h2 = CAVITY_RADIUS**2 - (z - zc) ** 2
        if h2 > 0:
            out["Cavity"].append(circle(np.sqrt(h2)))
        h2_outer = (CAVITY_RADIUS + 1.0) ** 2 - (z - zc) ** 2
        if h2_outer > 0:
            out["PTV_1cm"].append(circle(np.sqrt(h2_outer)))
            if h2 > 0:
                out["PTV_1cm"].append(circle(np.sqrt(h2)))         # inner contour: a hole (even-odd)
        for zr in RIBS_Z:
            if abs(z - zr) < RIB_R:
                hw = np.sqrt(RIB_R**2 - (z - zr) ** 2)
                out["Rib"].append(np.array([[xlo + 0.05, RIB_Y - hw, z], [xhi - 0.05, RIB_Y - hw, z],
                                            [xhi - 0.05, RIB_Y + hw, z], [xlo + 0.05, RIB_Y + hw, z]]))
        out["Lung"].append(np.array([[xlo + 0.05, 3.2, z], [xhi - 0.05, 3.2, z], [xhi - 0.05, yhi - 0.05, z],
                                     [xlo + 0.05, yhi - 0.05, z]]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--histories", type=int, default=2_000_000)
    ap.add_argument("--output", default="ct_import.h5", help="result file (.h5); RT Dose and DICOM go next to it")
    ap.add_argument("--voxel-cm", type=float, default=0.2, help="phantom voxel size after resampling (cm)")
    ap.add_argument("--prescription-gy", type=float, default=20.0,
                    help="mean dose in the first 2 mm of tissue around the cavity (Gy)")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)

    out = Path(args.output)
    folder = out.parent / f"{out.stem}_dicom"
    folder.mkdir(parents=True, exist_ok=True)
    hu, voxel, origin = synthetic_ct()
    files = dicom.write_ct_series(folder, hu, voxel, origin, patient_name="Phantom^Breast",
                                  patient_id="IORTMC-CT-IMPORT")

    ct = dicom.read_ct_series(files)            # sorted by position, HU rescaled, checked
    dicom.write_rtstruct(folder / "RS.dcm", structures(ct), ct)
    phantom = dicom.ct_to_phantom(ct, voxel_size=args.voxel_cm)
    ct_mm = " x ".join(f"{10 * v:g}" for v in ct.voxel_size)
    print(f"CT: {len(files)} slices of {ct.shape[1]} x {ct.shape[2]} pixels, voxels {ct_mm} mm; "
          f"phantom {phantom.shape} [z,y,x] of {args.voxel_cm * 10:g} mm voxels")
    counts = np.bincount(phantom.index.ravel(), minlength=len(phantom.materials))
    for m, n in zip(phantom.materials, counts):
        rho = phantom.density[phantom.index == phantom.materials.index(m)]
        print(f"  {m.name:20s} {n:7d} voxels, density {rho.min():.3f} to {rho.max():.3f} g/cm3")

    source = mc.PointSource(spectrum=mc.Spectrum.builtin("intrabeam_50kv_bare"), position=CAVITY_CENTER)
    opts = {} if args.threads is None else {"threads": args.threads}
    result = mc.simulate(phantom, source, histories=args.histories, seed=1, scoring="kerma", **opts)
    result.save(out)
    print(f"{args.histories:,} histories in {result.timing['wall_s']:.1f} s")

    R, d = CAVITY_RADIUS, args.voxel_cm
    _, shell, shell_unc = analysis.radial_dose(result, center=CAVITY_CENTER, r_edges=[R, R + d])
    scale = args.prescription_gy / shell[0]
    print(f"dose in the first {10 * d:g} mm of tissue: {shell[0]:.4e} Gy/history (+- {100 * shell_unc[0]:.1f} %);"
          f" {args.prescription_gy:g} Gy needs {scale:.3e} source photons")

    masks = dicom.read_rtstruct(folder / "RS.dcm", phantom)
    print(f"{'structure':10s} {'cm3':>7s} {'mean Gy':>8s} {'max Gy':>8s} {'D90 Gy':>8s}")
    for name, mask in masks.items():
        if not mask.any():
            continue
        h = analysis.dvh(result.dose * scale, mask, voxel_volume_cm3=phantom.voxel_volume)
        print(f"{name:10s} {h.volume_cm3:7.2f} {h.mean:8.2f} {h.maximum:8.2f} {h.dose_at_volume(0.9):8.2f}")

    rtdose = out.with_suffix(".dcm")
    info = dicom.write_rtdose(result, rtdose, scale=scale, ct=ct,
                              comment=f"iortmc ct_import example, {args.prescription_gy:g} Gy at the cavity surface")
    print(f"wrote {out}, {rtdose} (max {info['max_dose_Gy']:.1f} Gy, DoseGridScaling "
          f"{info['dose_grid_scaling']:.3e} Gy) and {folder}/ (CT + RS.dcm)")
    try:
        from iortmc import plot

        png = out.with_name(out.stem + "_isodose.png")
        plot.isodose(result, png, axis="z", value=CAVITY_CENTER[2], reference=float(shell[0]),
                     levels=(150, 100, 80, 50, 20, 10, 5), max_rel_unc=0.2)
        print(f"wrote {png} (100 % = the prescription, mean dose of the first {10 * d:g} mm of tissue)")
    except ImportError as exc:
        print(f"no figure: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
