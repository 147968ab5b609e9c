"""
From a CT series to an RT Dose file
===================================

The clinical path for an image-based plan: read a CT series, convert Hounsfield units to materials and
densities (Schneider et al. 2000 calibration), place a 50 kV source in the cavity, compute the dose,
read structures from an RT Structure Set and write the dose as DICOM RT Dose for a planning system.
We make a small synthetic breast CT first, so the tutorial needs no patient data.
"""

import os
import tempfile
from pathlib import Path

import numpy as np

import iortmc as mc
from iortmc import analysis, dicom, plot

HISTORIES = 20_000 if os.environ.get("IORTMC_GALLERY") else 2_000_000
folder = Path(tempfile.mkdtemp())

# %%
# A synthetic CT: air, skin, adipose tissue, muscle and lung, with a fluid-filled cavity
shape, voxel, origin = (20, 50, 60), (0.2, 0.2, 0.4), (-6.0, -5.0, -4.0)     # [z, y, x]; cm
z, y, x = (o + (np.arange(n) + 0.5) * v for o, n, v in zip(origin[::-1], shape, voxel[::-1]))
zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
hu = np.full(shape, -1000.0)
hu[yy >= -4.0] = 30.0                                       # skin
hu[yy >= -3.8] = -90.0                                      # adipose tissue
hu[yy >= 1.0] = 50.0                                        # muscle
hu[yy >= 3.2] = -800.0                                      # lung
cavity = (xx**2 + (yy + 1.5) ** 2 + zz**2) <= 1.0
hu[cavity] = 10.0
(folder / "ct").mkdir()
files = dicom.write_ct_series(folder / "ct", hu, voxel, origin, patient_name="Phantom^Breast")

# %%
# Read it back as any CT series, convert to a phantom, and add a structure set
ct = dicom.read_ct_series(files)
phantom = dicom.ct_to_phantom(ct)
t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
contours = {"Cavity": [], "PTV_1cm": []}
for zc in ct.centers()[2]:
    for name, radius in (("Cavity", 1.0), ("PTV_1cm", 2.0)):
        h2 = radius**2 - zc**2
        if h2 > 0:
            r = np.sqrt(h2)
            contours[name].append(np.column_stack([r * np.cos(t), -1.5 + r * np.sin(t), np.full(t.size, zc)]))
dicom.write_rtstruct(folder / "RS.dcm", contours, ct)
phantom

# %%
# Dose from a 50 kV source at the cavity centre, prescribed as 20 Gy to the first 2 mm of tissue
source = mc.PointSource(mc.Spectrum.builtin("intrabeam_50kv_bare"), position=(0.0, -1.5, 0.0))
result = mc.simulate(phantom, source, histories=HISTORIES, seed=1)
_, shell, _ = analysis.radial_dose(result, center=(0.0, -1.5, 0.0), r_edges=[1.0, 1.2])
scale = 20.0 / shell[0]

# %%
# Dose-volume histograms of the structures, then the RT Dose file
masks = dicom.read_rtstruct(folder / "RS.dcm", phantom)
for name, mask in masks.items():
    h = analysis.dvh(result.dose * scale, mask, voxel_volume_cm3=phantom.voxel_volume)
    print(f"{name:8s} {h.volume_cm3:6.2f} cm3   mean {h.mean:6.2f} Gy   D90 {h.dose_at_volume(0.9):6.2f} Gy")
info = dicom.write_rtdose(result, folder / "RD.dcm", scale=scale, ct=ct)
print(f"RT Dose written: maximum {info['max_dose_Gy']:.1f} Gy")

# %%
fig = plot.isodose(result, axis="z", value=0.0, reference=float(shell[0]), levels=(150, 100, 50, 20, 10))
