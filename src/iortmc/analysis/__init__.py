"""Analysis of dose distributions: depth dose, profiles, radial dose, ranges, gamma, DVH, TG-43.

Plain numpy; plotting lives in :mod:`iortmc.plot` (matplotlib, imported lazily).
"""

from .dose import (DVH, DepthDose, DoseMax, EntrySurface, GammaResult, TG43Result, beam_axis, depth_dose,
                   dose_max, dvh, entry_surface, gamma, geometry_factor, point_dose, points_dose, profile,
                   radial_dose, ranges, tg43, tissue_mask)

__all__ = ["point_dose", "points_dose", "depth_dose", "profile", "radial_dose", "ranges", "gamma",
           "GammaResult", "geometry_factor", "dvh", "DVH", "tg43", "TG43Result", "entry_surface",
           "EntrySurface", "DepthDose", "tissue_mask", "dose_max", "DoseMax", "beam_axis"]
