"""Analysis of dose distributions: depth dose, profiles, radial dose, ranges, gamma, DVH, TG-43.

Plain numpy; plotting lives in :mod:`iortmc.plot` (matplotlib, imported lazily).
"""

from .dose import (DVH, GammaResult, TG43Result, depth_dose, dvh, gamma, geometry_factor, point_dose,
                   profile, radial_dose, ranges, tg43)

__all__ = ["point_dose", "depth_dose", "profile", "radial_dose", "ranges", "gamma", "GammaResult",
           "geometry_factor", "dvh", "DVH", "tg43", "TG43Result"]
