"""Voxel phantoms.

A :class:`Phantom` is a regular grid of voxels indexed ``[z, y, x]`` (as DICOM and SimpleITK give
them). Each voxel holds a material index into :attr:`Phantom.materials` and a mass density (g/cm3).
Vectors (``voxel_size``, ``origin``, positions) are ``(x, y, z)``. ``origin`` is the outer corner of
voxel ``[0, 0, 0]``; voxel ``[k, j, i]`` has its centre at
``origin + ((i + 0.5) dx, (j + 0.5) dy, (k + 0.5) dz)``.

Painting (:meth:`Phantom.paint_sphere`, :meth:`Phantom.paint_cylinder`, :meth:`Phantom.paint_box`)
assigns whole voxels by the voxel-centre rule: a voxel takes the new material when its centre lies
inside the shape. Partial volumes are not represented; use voxels small against the shape.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..physics.materials import Material, material as _library_material

__all__ = ["Phantom"]

_AXES = {"x": 0, "y": 1, "z": 2}


def _as_material(m) -> Material:
    if isinstance(m, Material):
        return m
    return _library_material(m)


def _vector3(name: str, value, positive: bool = False) -> tuple[float, float, float]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.repeat(arr, 3)
    if arr.shape != (3,):
        raise InputError(f"{name} must be a number or 3 numbers (x, y, z), got {value!r}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite, got {tuple(arr.tolist())}")
    if positive and np.any(arr <= 0):
        raise InputError(f"{name} must be > 0 cm in every direction, got {tuple(arr.tolist())}")
    return tuple(float(v) for v in arr)


def _axis_number(axis) -> int:
    if isinstance(axis, str) and axis.lower() in _AXES:
        return _AXES[axis.lower()]
    if axis in (0, 1, 2):
        return int(axis)
    raise InputError(f"axis must be 'x', 'y' or 'z', got {axis!r}")


class Phantom:
    """A voxelized phantom.

    Parameters
    ----------
    materials : sequence of Material or str
        The materials that ``index`` refers to (library names are looked up).
    index : array of int, shape (nz, ny, nx)
        Material index per voxel, ``[z, y, x]``.
    density : array of float, shape (nz, ny, nx), optional
        Mass density per voxel in g/cm3. Default: each voxel's material density.
    voxel_size : float or (dx, dy, dz)
        Voxel edge lengths in cm.
    origin : (x0, y0, z0), optional
        Outer corner of voxel [0, 0, 0] in cm. Default: the grid is centred on (0, 0, 0).
    """

    def __init__(self, materials, index, density=None, voxel_size=0.1, origin=None) -> None:
        if isinstance(materials, (str, Material)):
            materials = [materials]
        mats = [_as_material(m) for m in materials]
        if not mats:
            raise InputError("materials must list at least one material")
        idx = np.asarray(index)
        if idx.ndim != 3:
            raise InputError(f"index must be a 3-D array [z, y, x], got shape {idx.shape}")
        if min(idx.shape) < 1:
            raise InputError(f"index must have at least one voxel per axis, got shape {idx.shape}")
        if not np.issubdtype(idx.dtype, np.integer):
            if np.issubdtype(idx.dtype, np.floating) and np.all(np.isfinite(idx)) and np.all(idx == np.round(idx)):
                idx = idx.astype(np.int64)
            else:
                raise InputError(f"index must hold integers (material indices), got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= len(mats)):
            bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
            raise InputError(
                f"index refers to material {bad}, but only indices 0..{len(mats) - 1} exist "
                f"({len(mats)} materials)"
            )
        self.materials: list[Material] = mats
        self.index = np.ascontiguousarray(idx, dtype=np.int32)
        self.voxel_size = _vector3("voxel_size", voxel_size, positive=True)
        shape = self.index.shape
        if origin is None:
            origin = tuple(-0.5 * n * d for n, d in zip(shape[::-1], self.voxel_size))
        self.origin = _vector3("origin", origin)
        if density is None:
            rho = np.array([m.density for m in mats], dtype=np.float64)[self.index]
        else:
            rho = np.asarray(density, dtype=np.float64)
            if rho.shape != shape:
                raise InputError(f"density must have the shape of index {shape}, got {rho.shape}")
            self._check_density(rho)
            rho = np.ascontiguousarray(rho)
        self.density = rho

    # ------------------------------------------------------------------ builders
    @classmethod
    def box(cls, shape, voxel_size=0.1, material="water", origin=None) -> "Phantom":
        """A homogeneous box of ``shape`` (nz, ny, nx) voxels, centred on (0, 0, 0) by default."""
        shp = tuple(int(n) for n in np.atleast_1d(shape))
        if len(shp) == 1:
            shp = shp * 3
        if len(shp) != 3 or min(shp) < 1:
            raise InputError(f"shape must be 3 positive integers (nz, ny, nx), got {shape!r}")
        return cls([material], np.zeros(shp, dtype=np.int32), voxel_size=voxel_size, origin=origin)

    @classmethod
    def slabs(cls, thicknesses_cm: Sequence[float], materials: Sequence, axis="z", lateral_cm=20.0,
              voxel_size=0.1, origin=None) -> "Phantom":
        """Slabs stacked along ``axis``: ``thicknesses_cm[i]`` of ``materials[i]``.

        Each thickness must be a whole number of voxels along the axis. ``lateral_cm`` is the
        extent (cm) in the two other directions. The slab stack starts at the low end of the axis;
        by default the stack starts at 0 on ``axis`` and is centred on 0 laterally.
        """
        a = _axis_number(axis)
        if len(thicknesses_cm) != len(materials) or not thicknesses_cm:
            raise InputError("thicknesses_cm and materials must be non-empty and of equal length")
        vs = _vector3("voxel_size", voxel_size, positive=True)
        counts = []
        for t in thicknesses_cm:
            n = float(t) / vs[a]
            if not math.isfinite(n) or n <= 0 or abs(n - round(n)) > 1e-6:
                raise InputError(
                    f"slab thickness {t} cm is not a positive whole number of {vs[a]} cm voxels"
                )
            counts.append(int(round(n)))
        lat = _vector3("lateral_cm", lateral_cm, positive=True)
        n_xyz = [max(1, int(round(lat[i] / vs[i]))) for i in range(3)]
        n_xyz[a] = sum(counts)
        shape = (n_xyz[2], n_xyz[1], n_xyz[0])
        layer = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        view = [1, 1, 1]
        view[2 - a] = -1
        index = np.broadcast_to(layer.reshape(view), shape).copy()
        if origin is None:
            origin = [-0.5 * n_xyz[i] * vs[i] for i in range(3)]
            origin[a] = 0.0
        return cls(list(materials), index, voxel_size=vs, origin=origin)

    # ------------------------------------------------------------------ geometry
    @property
    def shape(self) -> tuple[int, int, int]:
        return self.index.shape

    @property
    def voxel_volume(self) -> float:
        dx, dy, dz = self.voxel_size
        return dx * dy * dz

    @property
    def extent(self) -> tuple[tuple[float, float], ...]:
        """((xmin, xmax), (ymin, ymax), (zmin, zmax)) in cm."""
        nz, ny, nx = self.shape
        n = (nx, ny, nz)
        return tuple((self.origin[i], self.origin[i] + n[i] * self.voxel_size[i]) for i in range(3))

    def centers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Voxel-centre coordinates (x, y, z) as three 1-D arrays (cm)."""
        nz, ny, nx = self.shape
        dx, dy, dz = self.voxel_size
        x0, y0, z0 = self.origin
        return (x0 + (np.arange(nx) + 0.5) * dx, y0 + (np.arange(ny) + 0.5) * dy,
                z0 + (np.arange(nz) + 0.5) * dz)

    def voxel_mass(self) -> np.ndarray:
        """Mass of each voxel in g, [z, y, x]."""
        return self.density * self.voxel_volume

    def contains(self, position) -> bool:
        p = _vector3("position", position)
        return all(lo <= v < hi for v, (lo, hi) in zip(p, self.extent))

    def voxel_of(self, position) -> tuple[int, int, int]:
        """Index [k, j, i] of the voxel containing ``position`` (x, y, z); InputError if outside."""
        p = _vector3("position", position)
        if not self.contains(p):
            raise InputError(f"position {p} cm lies outside the phantom {self.extent}")
        i, j, k = (int((p[a] - self.origin[a]) // self.voxel_size[a]) for a in range(3))
        nz, ny, nx = self.shape
        return min(k, nz - 1), min(j, ny - 1), min(i, nx - 1)

    # ------------------------------------------------------------------ painting
    def material_slot(self, material) -> int:
        """Index of ``material`` in :attr:`materials`, appending it if absent."""
        m = _as_material(material)
        for i, existing in enumerate(self.materials):
            if existing == m:
                return i
        self.materials.append(m)
        return len(self.materials) - 1

    def _paint(self, mask: np.ndarray, material, density) -> "Phantom":
        slot = self.material_slot(material)
        self.index[mask] = slot
        if density is None:
            self.density[mask] = self.materials[slot].density
        else:
            rho = float(density)
            self._check_density(np.array([rho]))
            self.density[mask] = rho
        return self

    def _grids(self):
        x, y, z = self.centers()
        return np.meshgrid(z, y, x, indexing="ij", sparse=True)

    def paint_sphere(self, center, radius_cm: float, material, density=None) -> "Phantom":
        """Set voxels whose centre lies within ``radius_cm`` of ``center`` (x, y, z) to ``material``."""
        c = _vector3("center", center)
        r = float(radius_cm)
        if not math.isfinite(r) or r <= 0:
            raise InputError(f"radius_cm must be finite and > 0, got {radius_cm!r}")
        zz, yy, xx = self._grids()
        mask = (xx - c[0]) ** 2 + (yy - c[1]) ** 2 + (zz - c[2]) ** 2 <= r * r
        return self._paint(mask, material, density)

    def paint_cylinder(self, center, radius_cm: float, length_cm: float, material, axis="z",
                       density=None) -> "Phantom":
        """Set voxels inside a right cylinder (axis along x, y or z, centred on ``center``)."""
        c = _vector3("center", center)
        a = _axis_number(axis)
        r = float(radius_cm)
        h = float(length_cm)
        if not (math.isfinite(r) and r > 0 and math.isfinite(h) and h > 0):
            raise InputError(f"radius_cm and length_cm must be finite and > 0, got {radius_cm!r}, {length_cm!r}")
        zz, yy, xx = self._grids()
        coords = (xx - c[0], yy - c[1], zz - c[2])
        others = [coords[i] for i in range(3) if i != a]
        mask = (others[0] ** 2 + others[1] ** 2 <= r * r) & (np.abs(coords[a]) <= 0.5 * h)
        return self._paint(mask, material, density)

    def paint_box(self, lower, upper, material, density=None) -> "Phantom":
        """Set voxels whose centre lies in the axis-aligned box ``lower`` <= p <= ``upper`` (x, y, z)."""
        lo = _vector3("lower", lower)
        hi = _vector3("upper", upper)
        if any(h <= l for l, h in zip(lo, hi)):
            raise InputError(f"upper {hi} must exceed lower {lo} in every direction")
        zz, yy, xx = self._grids()
        mask = ((xx >= lo[0]) & (xx <= hi[0]) & (yy >= lo[1]) & (yy <= hi[1])
                & (zz >= lo[2]) & (zz <= hi[2]))
        return self._paint(mask, material, density)

    # ------------------------------------------------------------------ misc
    @staticmethod
    def _check_density(rho: np.ndarray) -> None:
        if not np.all(np.isfinite(rho)):
            bad = rho[~np.isfinite(rho)].flat[0]
            raise InputError(f"density must be finite everywhere (g/cm3), found {bad}")
        if np.any(rho <= 0):
            raise InputError(f"density must be > 0 g/cm3 everywhere, found {float(rho.min())}")

    def copy(self) -> "Phantom":
        return Phantom(list(self.materials), self.index.copy(), self.density.copy(), self.voxel_size, self.origin)

    def same_grid(self, other: "Phantom") -> bool:
        return (self.shape == other.shape and np.allclose(self.voxel_size, other.voxel_size, rtol=0, atol=1e-12)
                and np.allclose(self.origin, other.origin, rtol=0, atol=1e-12))

    def _repr_html_(self) -> str:
        from .._html import phantom

        return phantom(self)

    def __repr__(self) -> str:
        names = ", ".join(m.name for m in self.materials)
        return (f"Phantom(shape={self.shape} [z,y,x], voxel_size={self.voxel_size} cm, "
                f"origin={self.origin} cm, materials=[{names}])")
