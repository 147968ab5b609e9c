"""Primary (unscattered) collision kerma by ray tracing (numba).

For a point source (isotropic) or a pencil beam, the collision kerma of the unscattered photons in a
voxel is a deterministic integral: with photons of energy E leaving the source along direction
Omega, the voxel-average primary kerma per source photon is

    K = 1/V * E[ E (mu_en/rho)(E) * integral over the ray inside the voxel of exp(-tau(t)) dt ]

(tau: the optical depth from the source, through every material the ray crosses). In spherical
coordinates about the source the 1/r^2 of the fluence cancels the r^2 of the volume element, so
each ray's contribution is an integral along the ray that is computed exactly, voxel by voxel:
segment [t0, t0 + l] of attenuation coefficient mu contributes
``kf * exp(-tau(t0)) * (1 - exp(-mu l)) / mu`` with ``kf = E (mu_en/rho) / V``. That handles the
source's own voxel and its neighbours (the 1/r^2 singularity) without any sub-voxel sampling; only
the integral over directions and energies is a quadrature.

The quadrature is randomised so that the estimate is exact on average: batch b traces M rays whose
directions are a spherical Fibonacci lattice turned by a uniformly random rotation (each ray is
then isotropic, and the lattice covers the sphere far more evenly than independent directions) and
whose energies are the spectrum's quantiles at ``frac(xi + i * alpha)`` (a rank-1 lattice with a
random shift xi: each ray's energy follows the spectrum exactly, and the M energies are
stratified). Each ray carries the weight n_b / M, so that the batch sum holds the primary kerma of
the batch's n_b histories. Rays whose transmission falls below 1e-3 play Russian roulette (survival
1/2, weight doubled), which is unbiased. The random numbers come from a stream of the batch (keyed
on its first history), so the result does not depend on threads, checkpoints or Dask.

Monte Carlo then samples only what happens after the primary's first interaction (scattered,
fluorescence and annihilation photons): :func:`.transport.transport_photon` locates the first
interaction of a primary photon without scoring its flight.
"""

import math

import numpy as np
from numba import njit

from .rng import seed_history, uniform
from .tally import BLOCK_SHIFT
from .voxels import _voxel_coord, enter_box, inside

_BIG = 1.0e30
_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
_ALPHA = math.sqrt(2.0) - 1.0          # energy lattice generator, unrelated to the golden ratio
_RR_LEVEL = 1.0e-3
#: The ray stream of the batch starting at history h0 is history RAY_STREAM + h0 of the run's seed.
RAY_STREAM = 1 << 62


@njit(cache=True, inline="always")
def _energy_index(pt, E):
    c = int((math.log(E) - pt.hint_log_emin) * pt.hint_inv_dlog)
    nh = pt.hint.shape[0]
    if c < 0:
        c = 0
    elif c >= nh:
        c = nh - 1
    i = pt.hint[c]
    n = pt.energy.shape[0]
    while i < n - 2 and pt.energy[i + 1] <= E:
        i += 1
    f = (E - pt.energy[i]) / (pt.energy[i + 1] - pt.energy[i])
    if f < 0.0:
        f = 0.0
    elif f > 1.0:
        f = 1.0
    return i, f


@njit(cache=True)
def spectrum_cdf(src):
    """(probability, cumulative) of the source's energy bins, recovered from its Walker alias table."""
    nb = src.e_lo.shape[0]
    p = np.zeros(nb)
    for b in range(nb):
        p[b] += src.alias_prob[b] / nb
        if src.alias_prob[b] < 1.0:
            p[src.alias_index[b]] += (1.0 - src.alias_prob[b]) / nb
    cum = np.zeros(nb)
    acc = 0.0
    for b in range(nb):
        acc += p[b]
        cum[b] = acc
    return p, cum


@njit(cache=True, inline="always")
def quantile_energy(src, p, cum, u):
    """The energy at quantile u of the source spectrum (uniform within a bin, as the sampler)."""
    nb = cum.shape[0]
    target = u * cum[nb - 1]
    lo = 0
    hi = nb - 1
    while lo < hi:               # first bin with cum > target
        mid = (lo + hi) >> 1
        if cum[mid] > target:
            hi = mid
        else:
            lo = mid + 1
    b = lo
    e_lo = src.e_lo[b]
    e_hi = src.e_hi[b]
    if e_hi > e_lo and p[b] > 0.0:
        f = (target - (cum[b] - p[b])) / p[b]
        if f < 0.0:
            f = 0.0
        elif f > 1.0:
            f = 1.0
        return e_lo + f * (e_hi - e_lo)
    return e_lo


@njit(cache=True, inline="always")
def random_rotation(s):
    """A uniformly random rotation matrix (Shoemake's random unit quaternion)."""
    u1 = uniform(s)
    u2 = 2.0 * math.pi * uniform(s)
    u3 = 2.0 * math.pi * uniform(s)
    a = math.sqrt(1.0 - u1)
    b = math.sqrt(u1)
    x = a * math.sin(u2)
    y = a * math.cos(u2)
    z = b * math.sin(u3)
    w = b * math.cos(u3)
    R = np.empty((3, 3))
    R[0, 0] = 1.0 - 2.0 * (y * y + z * z)
    R[0, 1] = 2.0 * (x * y - z * w)
    R[0, 2] = 2.0 * (x * z + y * w)
    R[1, 0] = 2.0 * (x * y + z * w)
    R[1, 1] = 1.0 - 2.0 * (x * x + z * z)
    R[1, 2] = 2.0 * (y * z - x * w)
    R[2, 0] = 2.0 * (x * z - y * w)
    R[2, 1] = 2.0 * (y * z + x * w)
    R[2, 2] = 1.0 - 2.0 * (x * x + y * y)
    return R


@njit(cache=True)
def trace_ray(mat, rho, mut, kf, nx, ny, nz, x0, y0, z0, dx, dy, dz, x, y, z, u, v, w, weight, s, rec, bl,
              rr_next, rr_step, rr_survival):
    """Add ``weight`` times the primary kerma integral along the ray from (x, y, z) (inside the grid)
    along (u, v, w) to the batch sums ``rec[:, 0]``; ``mut[m]`` (1/cm per g/cm3) and ``kf[m]`` are
    the material's mass attenuation coefficient and E (mu_en/rho) / V at the ray's energy. Past the
    distances ``rr_next``, ``rr_next + rr_step``, ... the ray plays Russian roulette (survival
    ``rr_survival``, weight divided by it)."""
    single = kf.shape[0] == 1
    i = _voxel_coord(x, x0, dx, nx)
    j = _voxel_coord(y, y0, dy, ny)
    k = _voxel_coord(z, z0, dz, nz)
    if u > 0.0:
        sx = 1
        tmx = (x0 + (i + 1) * dx - x) / u
        tdx = dx / u
    elif u < 0.0:
        sx = -1
        tmx = (x0 + i * dx - x) / u
        tdx = -dx / u
    else:
        sx = 0
        tmx = _BIG
        tdx = _BIG
    if v > 0.0:
        sy = 1
        tmy = (y0 + (j + 1) * dy - y) / v
        tdy = dy / v
    elif v < 0.0:
        sy = -1
        tmy = (y0 + j * dy - y) / v
        tdy = -dy / v
    else:
        sy = 0
        tmy = _BIG
        tdy = _BIG
    if w > 0.0:
        sz = 1
        tmz = (z0 + (k + 1) * dz - z) / w
        tdz = dz / w
    elif w < 0.0:
        sz = -1
        tmz = (z0 + k * dz - z) / w
        tdz = -dz / w
    else:
        sz = 0
        tmz = _BIG
        tdz = _BIG
    dvx = sx
    dvy = sy * nx
    dvz = sz * nx * ny
    vox = (k * ny + j) * nx + i
    mu0 = mut[0]
    kf0 = kf[0]
    t = 0.0
    trans = weight          # weight times exp(-tau) at the segment start
    level = weight * _RR_LEVEL
    while True:
        tnext = tmx
        if tmy < tnext:
            tnext = tmy
        if tmz < tnext:
            tnext = tmz
        seg = tnext - t
        if seg > 0.0:
            if single:
                mu_m = mu0
                kfm = kf0
            else:
                m = mat[vox]
                mu_m = mut[m]
                kfm = kf[m]
            mu = rho[vox] * mu_m
            em = math.expm1(-mu * seg)          # exp(-mu l) - 1
            a = rec[vox, 0]
            if a == 0.0:            # first score of the batch here: flag the block
                bl[vox >> BLOCK_SHIFT] = 1
            rec[vox, 0] = a + kfm * trans * (-em / mu)
            trans *= 1.0 + em
            t = tnext
            if trans < level:
                if uniform(s) < 0.5:
                    return
                trans *= 2.0
            if t >= rr_next:
                if uniform(s) >= rr_survival:
                    return
                trans /= rr_survival
                level /= rr_survival
                rr_next += rr_step
        if tmx <= tmy and tmx <= tmz:
            i += sx
            tmx += tdx
            vox += dvx
            if i < 0 or i >= nx:
                return
        elif tmy <= tmz:
            j += sy
            tmy += tdy
            vox += dvy
            if j < 0 or j >= ny:
                return
        else:
            k += sz
            tmz += tdz
            vox += dvz
            if k < 0 or k >= nz:
                return


@njit(cache=True)
def trace_primary(pt, geo, src, opt, h0, nh, rec, bl, cnt):
    """Add the primary collision kerma of the ``nh`` histories of the batch starting at history
    ``h0`` to the slot's batch sums (batch statistics), by ``round(nh * opt.primary_rays)`` rays
    (at least 1) of weight nh / M each (module docstring)."""
    if nh <= 0:
        return
    nrays = int(nh * opt.primary_rays + 0.5)
    if nrays < 1:
        nrays = 1
    weight = nh / nrays
    s = np.empty(4, dtype=np.uint64)
    seed_history(opt.seed, RAY_STREAM + h0, s)
    R = random_rotation(s)
    xi = uniform(s)
    p, cum = spectrum_cdf(src)
    nmat = pt.mu_total.shape[0]
    mut = np.empty(nmat)
    kf = np.empty(nmat)
    inv_vol = 1.0 / (geo.dx * geo.dy * geo.dz)
    iso = src.kind == 0
    for r in range(nrays):
        q = xi + r * _ALPHA
        E = quantile_energy(src, p, cum, q - math.floor(q))
        if E < opt.photon_cutoff:
            continue            # deposited on the spot by the Monte Carlo part
        if iso:
            zc = 1.0 - (2.0 * r + 1.0) / nrays
            rc = math.sqrt(max(0.0, 1.0 - zc * zc))
            ph = r * _GOLDEN_ANGLE
            a0 = rc * math.cos(ph)
            a1 = rc * math.sin(ph)
            u = R[0, 0] * a0 + R[0, 1] * a1 + R[0, 2] * zc
            v = R[1, 0] * a0 + R[1, 1] * a1 + R[1, 2] * zc
            w = R[2, 0] * a0 + R[2, 1] * a1 + R[2, 2] * zc
            nrm = 1.0 / math.sqrt(u * u + v * v + w * w)
            u *= nrm
            v *= nrm
            w *= nrm
        else:
            u = src.direction[0]
            v = src.direction[1]
            w = src.direction[2]
        x = src.position[0]
        y = src.position[1]
        z = src.position[2]
        t = 0.0
        if not inside(geo, x, y, z):
            t = enter_box(geo, x, y, z, u, v, w)
            if t < 0.0:
                continue
            x += u * t
            y += v * t
            z += w * t
        if opt.rr_radius > 0.0:     # the next shell boundary past the entry point, from there
            rr_next = opt.rr_radius * (math.floor(t / opt.rr_radius) + 1.0) - t
        else:
            rr_next = _BIG
        ie, fe = _energy_index(pt, E)
        for m in range(nmat):
            mut[m] = pt.mu_total[m, ie] + fe * (pt.mu_total[m, ie + 1] - pt.mu_total[m, ie])
            kf[m] = E * (pt.mu_en[m, ie] + fe * (pt.mu_en[m, ie + 1] - pt.mu_en[m, ie])) * inv_vol
        trace_ray(geo.mat, geo.rho, mut, kf, geo.nx, geo.ny, geo.nz, geo.x0, geo.y0, geo.z0, geo.dx,
                  geo.dy, geo.dz, x, y, z, u, v, w, weight, s, rec, bl, rr_next, opt.rr_radius,
                  opt.rr_survival)
