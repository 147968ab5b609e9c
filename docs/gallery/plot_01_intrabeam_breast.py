"""
INTRABEAM spherical applicator in a breast
==========================================

A 50 kV INTRABEAM-like source inside a 4 cm spherical applicator, placed in the lumpectomy cavity of a
layered breast phantom (skin, 50/50 glandular/adipose tissue, pectoral muscle, ribs, lung). The dose is
prescribed at the applicator surface, as in TARGIT-A (20 Gy), and we look at how fast it falls off.
"""

import os

import numpy as np

import iortmc as mc
from iortmc import analysis, plot
from iortmc.clinical.applicators import SphericalApplicator
from iortmc.geometry.phantoms import breast_phantom

# a smooth isodose plot needs about 5e6 histories (a minute or two on two cores)
HISTORIES = 20_000 if os.environ.get("IORTMC_GALLERY") else 5_000_000

# %%
# Geometry
# --------
# The applicator's centre sits 3 cm deep; its probe runs from the sphere to the skin. The builder paints
# the cavity and returns the source placed at the sphere centre.
app = SphericalApplicator(4.0, probe_length_cm=1.0)
phantom, info = breast_phantom(0.2, 10.0, breast_cm=6.0, cavity=app, cavity_depth_cm=3.0)
source = info["source"]
centre = info["cavity_center_cm"]
phantom

# %%
# Transport
# ---------
# Collision-kerma scoring is the default for photon sources below 200 keV: at these energies the
# secondary electrons travel well under a voxel.
result = mc.simulate(phantom, source, histories=HISTORIES, seed=1)
result

# %%
# Dose at and beyond the applicator surface
# -----------------------------------------
# Shell-averaged dose around the source, scaled so that the first millimetre of tissue receives 20 Gy.
r_edges = np.arange(2.0, 4.01, 0.2)
r, d, u = analysis.radial_dose(result, center=centre, r_edges=r_edges)
scale = 20.0 / d[0]
for ri, di, ui in zip(r, d, u):
    print(f"r = {ri:4.2f} cm   {di * scale:6.2f} Gy   (+- {100 * ui:.1f} %)")

# %%
# Isodose lines in the plane through the source
fig = plot.isodose(result, axis="y", value=float(centre[1]))
