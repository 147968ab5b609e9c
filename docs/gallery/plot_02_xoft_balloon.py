"""
Xoft-like source in a saline balloon
====================================

An electronic brachytherapy source (50 kV, Xoft Axxent-like spectrum) at the centre of a 4 cm saline
balloon with a silicone wall, in a breast phantom. The tissue outside the balloon wall receives the
prescription; we compare the dose fall-off in tissue with the inverse-square law to see the attenuation.
"""

import os

import numpy as np

import iortmc as mc
from iortmc import analysis, plot
from iortmc.clinical.applicators import BalloonApplicator
from iortmc.geometry.phantoms import breast_phantom

HISTORIES = 20_000 if os.environ.get("IORTMC_GALLERY") else 5_000_000

# %%
# The balloon (0.5 mm silicone wall, saline fill, a water-filled catheter to the skin) and its source.
app = BalloonApplicator(4.0, catheter_length_cm=1.0)
phantom, info = breast_phantom(0.2, 10.0, breast_cm=6.0, cavity=app, cavity_depth_cm=3.0)
source = info["source"]
source.spectrum

# %%
result = mc.simulate(phantom, source, histories=HISTORIES, seed=2)

# %%
# Radial dose relative to the balloon surface, against pure inverse square
r, d, u = analysis.radial_dose(result, center=info["cavity_center_cm"], r_edges=np.arange(2.0, 4.01, 0.2))
inv_sq = (r[0] / r) ** 2
for ri, di, qi in zip(r, d / d[0], inv_sq):
    print(f"r = {ri:4.2f} cm   D/D(surface) = {di:5.3f}   inverse square alone: {qi:5.3f}")

# %%
fig = plot.radial_dose(result, center=info["cavity_center_cm"], r_max_cm=4.0)
