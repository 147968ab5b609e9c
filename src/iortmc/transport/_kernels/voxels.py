"""Voxel-grid geometry helpers (numba): voxel of a point, entry into the grid box."""

import math

from numba import njit

_BIG = 1.0e30


@njit(cache=True, inline="always")
def _voxel_coord(p, p0, d, n):
    c = int(math.floor((p - p0) / d))
    if c < 0:
        c = 0
    elif c >= n:
        c = n - 1
    return c


@njit(cache=True)
def enter_box(geo, x, y, z, u, v, w):
    """Distance along (u, v, w) at which a point outside the grid enters it, or -1 if it misses."""
    tmin = 0.0
    tmax = _BIG
    lo = (geo.x0, geo.y0, geo.z0)
    hi = (geo.x0 + geo.nx * geo.dx, geo.y0 + geo.ny * geo.dy, geo.z0 + geo.nz * geo.dz)
    p = (x, y, z)
    d = (u, v, w)
    for a in range(3):
        if d[a] == 0.0:
            if p[a] < lo[a] or p[a] >= hi[a]:
                return -1.0
        else:
            t1 = (lo[a] - p[a]) / d[a]
            t2 = (hi[a] - p[a]) / d[a]
            if t1 > t2:
                t1, t2 = t2, t1
            if t1 > tmin:
                tmin = t1
            if t2 < tmax:
                tmax = t2
    if tmax <= tmin:
        return -1.0
    return tmin


@njit(cache=True)
def inside(geo, x, y, z):
    return (geo.x0 <= x < geo.x0 + geo.nx * geo.dx and geo.y0 <= y < geo.y0 + geo.ny * geo.dy
            and geo.z0 <= z < geo.z0 + geo.nz * geo.dz)
