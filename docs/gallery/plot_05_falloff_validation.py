"""
Validating the dose fall-off of a 50 keV point source
=====================================================

A check a physicist can run in a notebook: the dose around a monoenergetic 50 keV point source in water
against an independent reference, the point-kernel formula r^2 D ~ exp(-mu r) B(mu r) with the
ANSI/ANS-6.4.3 geometric-progression buildup factor. The shell doses are multiplied by r^2, which removes
the inverse square and leaves attenuation and build-up. (Download this page as a notebook below.)
"""

import os

import numpy as np

import iortmc as mc
from iortmc import analysis
from iortmc.cli.validate import point_kernel_water_50kev

HISTORIES = 50_000 if os.environ.get("IORTMC_GALLERY") else 2_000_000

# %%
# A 12 cm water cube in 2 mm voxels with the source at its centre (on a voxel corner)
phantom = mc.Phantom.box(shape=(60, 60, 60), voxel_size=0.2, material="water", origin=(-6, -6, -6))
source = mc.PointSource(mc.Spectrum.mono(0.05), position=(0.0, 0.0, 0.0))
result = mc.simulate(phantom, source, histories=HISTORIES, seed=5)

# %%
# r^2 D in shells, normalised at 1 cm, next to the point kernel
edges = np.arange(0.6, 5.01, 0.4)
r, d, u = analysis.radial_dose(result, center=(0, 0, 0), r_edges=edges)
r2d = d * (edges[1:] ** 3 - edges[:-1] ** 3) / (3 * (edges[1:] - edges[:-1]))   # exact r^2 for 1/r^2
kernel = point_kernel_water_50kev(r)
i1 = int(np.argmin(abs(r - 1.0)))
for ri, a, b, ui in zip(r, r2d / r2d[i1], kernel / kernel[i1], u):
    print(f"r = {ri:4.2f} cm   iortmc {a:6.3f} +- {a * ui:5.3f}   point kernel {b:6.3f}   ratio {a / b:6.3f}")

# %%
from matplotlib.figure import Figure  # noqa: E402

fig = Figure(figsize=(6.4, 4.4), layout="constrained")
ax = fig.subplots()
ax.errorbar(r, r2d / r2d[i1], yerr=u * r2d / r2d[i1], fmt="o", label="iortmc")
ax.plot(r, kernel / kernel[i1], "-", label="point kernel (ANSI/ANS-6.4.3 buildup)")
ax.set_xlabel("r (cm)")
ax.set_ylabel("r^2 D, relative to 1 cm")
ax.legend()
