"""Built-in anatomical phantoms for IORT set-ups.

:func:`breast_phantom` builds a layered breast over the chest wall, with a lumpectomy cavity (air,
saline or an applicator from :mod:`iortmc.clinical.applicators`). :func:`breast_tissue` gives the
glandular/adipose mixture it uses.

Layout and coordinates (cm; vectors (x, y, z); arrays [z, y, x])
----------------------------------------------------------------
The patient lies supine; z is the depth below the anterior skin surface (z = 0), increasing towards
the back, so that an IOERT beam along +z enters through the surface. x and y are lateral, the grid is
centred on x = y = 0. Along z::

    [-air_above_cm, 0)               air (optional; room for an applicator or an IOERT cone)
    [0, skin_cm)                     skin
    [skin_cm, breast_cm)             breast tissue (glandular/adipose mixture)
    [breast_cm, + chest_wall_cm)     chest-wall muscle (pectoralis)
    [.., + rib_diameter_cm)          rib layer: intercostal muscle with ribs, cortical-bone
                                     cylinders running along x at the given y positions
    [.., + lung_cm)                  lung

The lumpectomy cavity is a sphere centred on (0, 0, cavity_depth_cm). Layer boundaries are whole
voxels by the voxel-centre rule (choose voxel sizes that divide the layer thicknesses).
"""

from __future__ import annotations

import copy
import math

import numpy as np

from ..errors import InputError
from .phantom import Phantom
from ..physics.materials import Material, material as _library_material

__all__ = ["breast_tissue", "breast_phantom"]


def breast_tissue(gland_fraction: float | None = None) -> Material:
    """Breast tissue as a mixture of glandular and adipose tissue (Hammerstein et al. 1979).

    Parameters
    ----------
    gland_fraction : float or None
        Glandular mass fraction in [0, 1]. None: the library ``breast_50_50``.

    Returns
    -------
    Material
        Mass fractions ``f w_gland + (1 - f) w_adipose``; density from additive volumes,
        ``1 / rho = f / rho_g + (1 - f) / rho_a`` (1.04 and 0.93 g/cm3). At f = 0.5 this is the library
        ``breast_50_50`` (returned as such). Reference: G. R. Hammerstein et al., Radiology 130 (1979)
        485, https://doi.org/10.1148/130.2.485.
    """
    if gland_fraction is None:
        return _library_material("breast_50_50")
    if isinstance(gland_fraction, bool):
        raise InputError(f"gland_fraction must be a number in [0, 1] or None, got {gland_fraction!r}")
    try:
        f = float(gland_fraction)
    except (TypeError, ValueError):
        raise InputError(f"gland_fraction must be a number in [0, 1] or None, got {gland_fraction!r}") from None
    if not (math.isfinite(f) and 0.0 <= f <= 1.0):
        raise InputError(f"gland_fraction must be in [0, 1] (glandular mass fraction), got {f!r}")
    if abs(f - 0.5) < 1e-12:
        return _library_material("breast_50_50")
    g = _library_material("breast_glandular")
    a = _library_material("breast_adipose")
    comp = {}
    for s in set(g.composition) | set(a.composition):
        comp[s] = f * g.composition.get(s, 0.0) + (1.0 - f) * a.composition.get(s, 0.0)
    rho = 1.0 / (f / g.density + (1.0 - f) / a.density)
    return Material(f"breast_g{100 * f:g}", density=rho, composition=comp,
                    citation="Hammerstein et al. 1979, doi:10.1148/130.2.485 (mass mixture)",
                    description=f"breast tissue, {100 * f:g} % glandular by mass")


def _positive(name, value, allow_zero=False):
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number in cm, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number in cm, got {value!r}") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise InputError(f"{name} must be finite and {'>=' if allow_zero else '>'} 0 cm, got {x!r}")
    return x


def breast_phantom(voxel_size_cm=0.1, size_cm=10.0, *, skin_cm=0.2, breast_cm=5.0, gland_fraction=None,
                   chest_wall_cm=1.0, rib_diameter_cm=1.0, rib_y_cm=(-3.0, 0.0, 3.0), lung_cm=2.0,
                   lung_material="lung_inflated", air_above_cm=0.0, cavity="saline", cavity_depth_cm=None,
                   cavity_radius_cm=1.5, supersample=1):
    """A layered breast phantom over the chest wall, with a lumpectomy cavity (see the module notes).

    Parameters
    ----------
    voxel_size_cm : float or (dx, dy, dz)
        Voxel size (cm).
    size_cm : float or (sx, sy)
        Lateral extent in x and y (cm).
    skin_cm : float
        Skin thickness (default 0.2 cm); 0 = no skin.
    breast_cm : float
        Depth of the breast's posterior boundary below the skin surface (skin included; default 5).
    gland_fraction : float or None
        Glandular mass fraction of the breast tissue (:func:`breast_tissue`); None = ``breast_50_50``.
    chest_wall_cm : float
        Pectoral muscle thickness (``muscle_icrp``) under the breast (default 1 cm); 0 = none.
    rib_diameter_cm : float
        Thickness of the rib layer and diameter of each rib (cortical bone, ``bone_cortical_icrp``; the
        marrow is not modelled, which overstates the ribs' density). 0 = no rib layer.
    rib_y_cm : sequence of float
        y positions (cm) of the rib axes (ribs run along x). Empty = intercostal muscle only.
    lung_cm : float
        Lung thickness behind the ribs (default 2 cm); 0 = none.
    lung_material : Material or str
        Default ``lung_inflated`` (0.26 g/cm3).
    air_above_cm : float
        Air above the skin (z < 0), e.g. for an IOERT applicator (default 0).
    cavity : {"air", "saline"}, None, or an applicator
        Cavity content. An applicator (e.g. :class:`~iortmc.clinical.applicators.SphericalApplicator` or
        :class:`~iortmc.clinical.applicators.BalloonApplicator`) is copied, moved to the cavity centre and
        painted there; the cavity radius is then the applicator's radius.
    cavity_depth_cm : float, optional
        Depth of the cavity centre (default: the middle of the breast tissue).
    cavity_radius_cm : float
        Radius of an air or saline cavity (default 1.5 cm).
    supersample : int
        Sub-voxel points per axis used to paint the cavity/applicator and ribs (1 = voxel centres).

    Returns
    -------
    (Phantom, dict)
        The phantom and an info dict: ``cavity_center_cm`` (x, y, z), ``cavity_radius_cm``,
        ``layers_cm`` (name -> (z0, z1)), ``rib_centers_cm`` (list of (y, z)), ``tissue`` (material
        name), and ``source`` (a PointSource, for an applicator cavity; otherwise None).
    """
    vs = np.broadcast_to(np.asarray(voxel_size_cm, dtype=np.float64), (3,)).copy()
    if not np.all(np.isfinite(vs)) or np.any(vs <= 0):
        raise InputError(f"voxel_size_cm must be > 0 cm, got {voxel_size_cm!r}")
    sz = np.broadcast_to(np.asarray(size_cm, dtype=np.float64), (2,)).copy()
    if not np.all(np.isfinite(sz)) or np.any(sz <= 0):
        raise InputError(f"size_cm must be > 0 cm (lateral x, y), got {size_cm!r}")
    skin = _positive("skin_cm", skin_cm, allow_zero=True)
    breast = _positive("breast_cm", breast_cm)
    if breast <= skin:
        raise InputError(f"breast_cm ({breast:g}) must exceed skin_cm ({skin:g})")
    chest = _positive("chest_wall_cm", chest_wall_cm, allow_zero=True)
    rib_d = _positive("rib_diameter_cm", rib_diameter_cm, allow_zero=True)
    lung = _positive("lung_cm", lung_cm, allow_zero=True)
    air = _positive("air_above_cm", air_above_cm, allow_zero=True)
    tissue = breast_tissue(gland_fraction)
    try:
        ribs_y = [float(v) for v in rib_y_cm]
    except (TypeError, ValueError):
        raise InputError(f"rib_y_cm must be a sequence of y positions in cm, got {rib_y_cm!r}") from None
    if not all(math.isfinite(v) for v in ribs_y):
        raise InputError(f"rib_y_cm must be finite, got {rib_y_cm!r}")

    z_skin1 = skin
    z_breast1 = breast
    z_chest1 = z_breast1 + chest
    z_rib1 = z_chest1 + rib_d
    z_lung1 = z_rib1 + lung
    nx = max(1, int(round(sz[0] / vs[0])))
    ny = max(1, int(round(sz[1] / vs[1])))
    nz_air = int(math.ceil(air / vs[2] - 1e-9))
    nz = nz_air + max(1, int(math.ceil(z_lung1 / vs[2] - 1e-9)))
    origin = (-0.5 * nx * vs[0], -0.5 * ny * vs[1], -nz_air * vs[2])
    mats = [tissue, "air", "skin", "muscle_icrp", lung_material]
    z = origin[2] + (np.arange(nz) + 0.5) * vs[2]
    layer = np.zeros(nz, dtype=np.int32)  # tissue
    layer[z < 0.0] = 1
    layer[(z >= 0.0) & (z < z_skin1)] = 2
    layer[(z >= z_breast1) & (z < z_rib1)] = 3
    layer[z >= z_rib1] = 4
    index = np.broadcast_to(layer[:, None, None], (nz, ny, nx)).copy()
    ph = Phantom(mats, index, voxel_size=tuple(vs), origin=origin)

    from .painting import paint_labels

    rib_centres = []
    if rib_d > 0 and ribs_y:
        zc = z_chest1 + 0.5 * rib_d
        r = 0.5 * rib_d

        def rib_label(x, y, zz):
            inside = np.zeros(np.broadcast_shapes(np.shape(x), np.shape(y), np.shape(zz)), dtype=bool)
            for yc in ribs_y:
                inside = inside | ((y - yc) ** 2 + (zz - zc) ** 2 <= r * r)
            return inside.astype(np.int64)

        ext = ph.extent
        paint_labels(ph, rib_label, ["bone_cortical_icrp"],
                     (ext[0], (min(ribs_y) - r, max(ribs_y) + r), (zc - r, zc + r)), supersample)
        rib_centres = [(yc, zc) for yc in ribs_y]

    depth = 0.5 * (z_skin1 + z_breast1) if cavity_depth_cm is None else _positive("cavity_depth_cm", cavity_depth_cm)
    centre = np.array([0.0, 0.0, depth])
    source = None
    if cavity is None:
        radius = 0.0
    elif isinstance(cavity, str):
        if cavity not in ("air", "saline"):
            raise InputError(f"cavity must be 'air', 'saline', None or an applicator, got {cavity!r}")
        radius = _positive("cavity_radius_cm", cavity_radius_cm)
    elif hasattr(cavity, "paint") and hasattr(cavity, "radius_cm"):
        radius = float(cavity.radius_cm)
    else:
        raise InputError(f"cavity must be 'air', 'saline', None or a spherical/balloon applicator, got {cavity!r}")
    if cavity is not None:
        if depth - radius < z_skin1 - 1e-9 or depth + radius > z_breast1 + 1e-9:
            raise InputError(
                f"the cavity (centre depth {depth:g} cm, radius {radius:g} cm) must lie within the breast "
                f"tissue between the skin ({z_skin1:g} cm) and the chest wall ({z_breast1:g} cm)")
        if isinstance(cavity, str):
            def cav_label(x, y, zz):
                return ((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (zz - centre[2]) ** 2
                        <= radius * radius).astype(np.int64)

            paint_labels(ph, cav_label, [cavity], tuple((c - radius, c + radius) for c in centre), supersample)
        else:
            app = copy.copy(cavity)
            app.position = centre.copy()
            source = app.paint(ph, supersample=supersample)
    info = {
        "cavity_center_cm": tuple(centre.tolist()),
        "cavity_radius_cm": radius,
        "layers_cm": {"air": (-nz_air * vs[2], 0.0), "skin": (0.0, z_skin1), "breast": (z_skin1, z_breast1),
                      "chest_wall": (z_breast1, z_chest1), "ribs": (z_chest1, z_rib1), "lung": (z_rib1, z_lung1)},
        "rib_centers_cm": rib_centres,
        "tissue": tissue.name,
        "source": source,
    }
    return ph, info
