"""
IOERT: bevelled applicator and a lead shielding disc
====================================================

A 9 MeV electron beam through a PMMA applicator (6 cm inner diameter) onto water. First a flat
applicator with a 4 mm lead disc at 2 cm depth, which protects the tissue beneath the target and
backscatters electrons into the tissue in front of it; then a 30 degree bevelled applicator, whose
oblique incidence pulls the depth dose towards the surface. Depths are measured from the tissue
surface along the beam axis (the air inside the applicator is left out), and the open field is turned
into monitor units for 20 Gy at the 90 % isodose with a stated output calibration.
"""

import os

import numpy as np

import iortmc as mc
from iortmc import plot
from iortmc.analysis import depth_dose, ranges
from iortmc.clinical.applicators import IOERTApplicator, ShieldingDisc
from iortmc.clinical.calibration import MonitorUnitCalibration
from iortmc.clinical.prescription import Prescription

HISTORIES = 15_000 if os.environ.get("IORTMC_GALLERY") else 400_000


def central_axis(result, radius_cm=1.0):
    """Mass-weighted mean dose per depth slab within ``radius_cm`` of the axis."""
    ph = result.phantom
    x, y, z = ph.centers()
    m = ph.voxel_mass() * ((x[None, :] ** 2 + y[:, None] ** 2) < radius_cm**2)
    return z, (result.dose * m).sum(axis=(1, 2)) / m.sum(axis=(1, 2))


# %%
# Flat applicator, with and without the disc
# ------------------------------------------
results = {}
for name, disc in (("open", False), ("shielded", True)):
    app = IOERTApplicator(6.0, wall_thickness_cm=0.5, length_cm=10.0)
    phantom, beam = app.build(9.0, depth_cm=6.0, lateral_cm=12.0, voxel_size_cm=0.2)
    if disc:
        ShieldingDisc([("lead", 0.4)], diameter_cm=8.0, depth_cm=2.0).paint(phantom)
    results[name] = mc.simulate(phantom, beam, histories=HISTORIES, seed=3)

z, open_ = central_axis(results["open"])
_, shielded = central_axis(results["shielded"])
dmax = open_[z > 0].max()
print(f"dose behind the disc: {100 * shielded[z > 2.4].max() / dmax:.1f} % of the open-field maximum")
k = int(np.argmin(abs(z - 1.9)))
print(f"backscatter in front of the disc: shielded/open = {shielded[k] / open_[k]:.2f}")

# %%
# Ranges from the tissue surface and monitor units
# ------------------------------------------------
# The central axis of the open field, 1 cm diameter detector, depth from where the axis enters the
# water. The calibration is an example output of 1 cGy/MU at the depth of maximum dose of this
# applicator and energy; a clinic uses its own measured value.
dd = depth_dose(results["open"], axis="beam", radius_cm=0.5)
r = ranges(dd.depth_cm, dd.dose, dd.rel_unc)
print(f"tissue surface at {tuple(round(float(v), 2) for v in dd.surface_cm)} cm; "
      f"R90 {r['R90']:.2f} cm, R50 {r['R50']:.2f} cm, Rp {r['Rp']:.2f} cm")
cal = MonitorUnitCalibration(0.01, "dmax", energy_MeV=9, applicator="6 cm flat").calibrate(results["open"])
cal.apply(results["open"])
plan = Prescription(20.0, at="isodose", isodose_percent=90).evaluate(results["open"])
print(plan.line())

# %%
fig = plot.compare(results["open"], results["shielded"], kind="profile", axis="z", point=(0, 0, 0),
                   labels=("open field", "4 mm Pb at 2 cm"), normalize=None)

# %%
# A 30 degree bevel
# -----------------
# The bevelled end rests on the water; the beam axis meets the surface obliquely.
bevel = IOERTApplicator(6.0, wall_thickness_cm=0.5, length_cm=10.0, bevel_deg=30)
phantom, beam = bevel.build(9.0, depth_cm=6.0, lateral_cm=14.0, voxel_size_cm=0.2)
bevelled = mc.simulate(phantom, beam, histories=HISTORIES, seed=4)
fig = plot.isodose(bevelled, axis="y", value=0.0)
