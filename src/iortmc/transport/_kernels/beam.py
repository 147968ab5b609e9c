"""Sampling of ElectronBeam source particles (numba).

See :class:`iortmc.sources.ElectronBeam` for the beam model.
"""

import math

from numba import njit

from .rng import uniform as _u


@njit(cache=True, inline="always")
def _sample_energy(src, s):
    nb = src.e_lo.shape[0]
    r = _u(s) * nb
    b = int(r)
    if b >= nb:
        b = nb - 1
    if r - b >= src.alias_prob[b]:
        b = src.alias_index[b]
    lo = src.e_lo[b]
    hi = src.e_hi[b]
    if hi > lo:
        return lo + _u(s) * (hi - lo)
    return lo


@njit(cache=True)
def _frame(u, v, w):
    """Unit vectors a, b with (a, b, d) right-handed; a is the global x axis made perpendicular to
    d = (u, v, w) (the y axis if d is close to x)."""
    if abs(u) < 0.9:
        ex, ey, ez = 1.0, 0.0, 0.0
    else:
        ex, ey, ez = 0.0, 1.0, 0.0
    dot = ex * u + ey * v + ez * w
    ax, ay, az = ex - dot * u, ey - dot * v, ez - dot * w
    n = math.sqrt(ax * ax + ay * ay + az * az)
    ax /= n
    ay /= n
    az /= n
    bx, by, bz = v * az - w * ay, w * ax - u * az, u * ay - v * ax
    return ax, ay, az, bx, by, bz


@njit(cache=True)
def sample_beam_particle(src, shape, s):
    """One beam particle: (x, y, z, u, v, w, E).

    ``src`` is a :class:`iortmc.transport._kernels.types.SourceData` (position, direction, energy alias table);
    ``shape`` is :meth:`ElectronBeam.shape_parameters`; ``s`` the history's RNG state.
    """
    E = _sample_energy(src, s)
    u0 = src.direction[0]
    v0 = src.direction[1]
    w0 = src.direction[2]
    ax, ay, az, bx, by, bz = _frame(u0, v0, w0)
    code = int(shape[0])
    p = 0.0
    q = 0.0
    if code == 1:
        r = shape[1] * math.sqrt(_u(s))
        ph = 2.0 * math.pi * _u(s)
        p = r * math.cos(ph)
        q = r * math.sin(ph)
    elif code == 2:
        p = (2.0 * _u(s) - 1.0) * shape[1]
        q = (2.0 * _u(s) - 1.0) * shape[2]
    x = src.position[0] + p * ax + q * bx
    y = src.position[1] + p * ay + q * by
    z = src.position[2] + p * az + q * bz
    u = u0
    v = v0
    w = w0
    if shape[4] > 0.0:  # divergent: from the virtual source through the start point
        dxs = p * ax + q * bx + shape[4] * u0
        dys = p * ay + q * by + shape[4] * v0
        dzs = p * az + q * bz + shape[4] * w0
        n = math.sqrt(dxs * dxs + dys * dys + dzs * dzs)
        u = dxs / n
        v = dys / n
        w = dzs / n
    if shape[3] > 0.0:
        # projected Gaussian angles (small-angle): tilt by (tx, ty) in the beam frame
        g1 = math.sqrt(-2.0 * math.log(_u(s)))
        ph = 2.0 * math.pi * _u(s)
        tx = shape[3] * g1 * math.cos(ph)
        ty = shape[3] * g1 * math.sin(ph)
        u = u + tx * ax + ty * bx
        v = v + tx * ay + ty * by
        w = w + tx * az + ty * bz
        n = math.sqrt(u * u + v * v + w * w)
        u /= n
        v /= n
        w /= n
    return x, y, z, u, v, w, E
