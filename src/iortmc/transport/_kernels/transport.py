"""Photon histories, batches and waves (numba).

Tracking: Woodcock (delta) tracking with a per-energy majorant over the voxel grid (voxel densities
included). In kerma mode the flight is also walked voxel by voxel (Amanatides-Woo traversal) to score
the collision-kerma track-length estimator E * l * (mu_en/rho) / V_voxel; in analog mode only the
interaction sites are located.

Scoring: see :mod:`.tally`. Tallies are specific energy in MeV/g; :mod:`iortmc.simulate` converts to Gy.

Energy-balance record per batch (``ebal`` columns):
0 emitted, 1 deposited at interaction sites (analog), 2 escaped, 3 below cut-off (deposited on the
spot), 4 real interactions, 5 fictitious interactions, 6 primaries transmitted unscattered (count),
7 their energy.
"""

import math

import numpy as np
from numba import njit, prange

from .photon import (ELECTRON_MASS, isotropic, rotate, sample_compton, sample_fluorescence,
                     sample_photoelectric_shell, sample_rayleigh)
from .beam import _sample_energy as sample_source_energy, sample_beam_particle
from .electron import transport_electron
from .rng import seed_history, uniform
from .tally import (BLOCK_SHIFT, add_batch_rows, end_batch, init_records, merge_wave,  # noqa: F401
                    score, take_rows)  # (re-exported)
from .primary import trace_primary
from .voxels import _voxel_coord, enter_box, inside  # noqa: F401  (re-exported)

# The two hottest functions are compiled without numba's reference counting (the private ``_nrt``
# target option, numba >= 0.59): they create no arrays, and the atomic incref/decref of every array
# they were handed cost more than the voxel walk itself (docs/benchmarks.md). Should a numba version
# drop the option, they compile normally (slower, same results).
try:
    from numba.core.options import TargetOptions as _TO

    _NO_REFCOUNT = {"_nrt": False} if hasattr(_TO, "_nrt") else {}
except ImportError:  # pragma: no cover
    _NO_REFCOUNT = {}

NEBAL = 8
_BIG = 1.0e30
_STACK = 1024


@njit(cache=True, inline="always")
def energy_index(pt, E):
    """(i, f): E lies in [energy[i], energy[i+1]) at fraction f (the upper copy at an edge)."""
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
    e0 = pt.energy[i]
    e1 = pt.energy[i + 1]
    f = (E - e0) / (e1 - e0)
    if f < 0.0:
        f = 0.0
    elif f > 1.0:
        f = 1.0
    return i, f


@njit(cache=True, inline="always")
def lerp2(a, m, i, f):
    return a[m, i] + f * (a[m, i + 1] - a[m, i])


@njit(cache=True, inline="always")
def lerp1(a, i, f):
    return a[i] + f * (a[i + 1] - a[i])


@njit(cache=True, **_NO_REFCOUNT)
def walk_kerma(mat, rho, mu_total, kf, nx, ny, nz, x0, y0, z0, dx, dy, dz, x, y, z, u, v, w, i, j, k,
               ie, fe, mu_maj, s, hf, hbase, rec, bl, cnt):
    """Woodcock flight from (x, y, z) in voxel (i, j, k), walking voxel by voxel (Amanatides-Woo) to
    score the collision-kerma track-length estimator ``kf[m] * l`` (``kf[m] = E (mu_en/rho)_m / V``).

    Returns (escaped, distance travelled, i, j, k, voxel of the real interaction, fictitious
    interactions). Takes plain arrays and scalars, never the NamedTuples: numba increfs every array
    of a NamedTuple argument at entry and exit, and an inlined function with array arguments
    (``score``) did so at every voxel step, atomic operations on reference counts that all threads
    share (``rec[q]`` is a view of one array), which cost more than the step itself and made two
    threads slower per thread than one. With batch statistics (``cnt[3] == 1``) the loop writes the
    tally directly; history statistics go through :func:`.tally.score`.
    """
    batch = cnt[3] == 1
    single = kf.shape[0] == 1          # one material: no material look-up per step
    kf0 = kf[0]
    nfict = 0
    escaped = False
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
    # flat index steps: vox = (k ny + j) nx + i is updated incrementally
    dvx = sx
    dvy = sy * nx
    dvz = sz * nx * ny
    vox = (k * ny + j) * nx + i
    t = 0.0
    left = -math.log(uniform(s)) / mu_maj
    while True:
        tnext = tmx
        if tmy < tnext:
            tnext = tmy
        if tmz < tnext:
            tnext = tmz
        real = t + left < tnext
        seg = left if real else tnext - t
        if seg > 0.0:
            value = (kf0 if single else kf[mat[vox]]) * seg
            if batch:
                a = rec[vox, 0]
                if a == 0.0:        # first score of the batch here: flag the block
                    bl[vox >> BLOCK_SHIFT] = 1
                rec[vox, 0] = a + value
            else:
                score(vox, value, hf, hbase, rec, bl, cnt)
        if real:
            t += left
            mu_real = rho[vox] * lerp2(mu_total, mat[vox], ie, fe)
            if uniform(s) * mu_maj <= mu_real:
                break
            nfict += 1
            left = -math.log(uniform(s)) / mu_maj
        else:
            if seg > 0.0:
                left -= seg
                t = tnext
            if tmx <= tmy and tmx <= tmz:
                i += sx
                tmx += tdx
                vox += dvx
                if i < 0 or i >= nx:
                    escaped = True
                    break
            elif tmy <= tmz:
                j += sy
                tmy += tdy
                vox += dvy
                if j < 0 or j >= ny:
                    escaped = True
                    break
            else:
                k += sz
                tmz += tdz
                vox += dvz
                if k < 0 or k >= nz:
                    escaped = True
                    break
    return escaped, t, i, j, k, vox, nfict


@njit(cache=True, **_NO_REFCOUNT)
def transport_photon(pt, geo, opt, x, y, z, u, v, w, E, primary, wt, s, hf, hbase, rec, bl, cnt, ebal,
                     stack, kf, et, estack):
    """Follow one photon of statistical weight ``wt`` to absorption, escape or cut-off; secondary
    photons go on ``stack`` (column 7: their weight).

    With ``opt.rr_radius > 0`` (kerma scoring only) a photon that interacts in the k-th shell of
    width ``rr_radius`` about ``(opt.rr_x, opt.rr_y, opt.rr_z)`` plays Russian roulette up to the
    weight ``rr_survival**-k`` of that shell: it survives with probability wt / W and then carries
    weight W (unbiased; the far field is followed by fewer, heavier photons).

    With ``opt.electrons`` the electrons and positrons it sets in motion are transported at once by
    :func:`.electron.transport_electron` (which may push bremsstrahlung and annihilation photons on
    ``stack``); otherwise they deposit their energy on the spot (kerma approximation).
    """
    coupled = opt.electrons == 1
    nx = geo.nx
    ny = geo.ny
    nz = geo.nz
    kerma = opt.scoring == 0
    # primary kerma computed by ray tracing (primary.py): the primary's first flight only locates its
    # first interaction (Woodcock jumps, no scoring)
    traced = opt.primary == 1
    rr = opt.rr_radius > 0.0
    nmat = pt.mu_total.shape[0]
    inv_vol = 1.0 / (geo.dx * geo.dy * geo.dz)
    if not inside(geo, x, y, z):
        t = enter_box(geo, x, y, z, u, v, w)
        if t < 0.0:
            ebal[2] += wt * E
            if primary:
                ebal[6] += 1.0
                ebal[7] += E
            return
        x += u * t
        y += v * t
        z += w * t
    i = _voxel_coord(x, geo.x0, geo.dx, nx)
    j = _voxel_coord(y, geo.y0, geo.dy, ny)
    k = _voxel_coord(z, geo.z0, geo.dz, nz)
    while True:
        vox = (k * ny + j) * nx + i
        if E < opt.photon_cutoff:
            ebal[3] += wt * E
            score(vox, wt * E * inv_vol / geo.rho[vox], hf, hbase, rec, bl, cnt)
            return
        ie, fe = energy_index(pt, E)
        mu_maj = lerp1(pt.majorant, ie, fe)
        escaped = False
        if kerma and not (primary and traced):
            for m in range(nmat):
                kf[m] = wt * E * lerp2(pt.mu_en, m, ie, fe) * inv_vol
            escaped, t, i, j, k, vox, nfict = walk_kerma(
                geo.mat, geo.rho, pt.mu_total, kf, nx, ny, nz, geo.x0, geo.y0, geo.z0, geo.dx, geo.dy,
                geo.dz, x, y, z, u, v, w, i, j, k, ie, fe, mu_maj, s, hf, hbase, rec, bl, cnt)
            ebal[5] += nfict
            if escaped:
                ebal[2] += wt * E
                if primary:
                    ebal[6] += 1.0
                    ebal[7] += E
                return
            x += u * t
            y += v * t
            z += w * t
        else:
            while True:
                d = -math.log(uniform(s)) / mu_maj
                x += u * d
                y += v * d
                z += w * d
                if not inside(geo, x, y, z):
                    escaped = True
                    break
                i = _voxel_coord(x, geo.x0, geo.dx, nx)
                j = _voxel_coord(y, geo.y0, geo.dy, ny)
                k = _voxel_coord(z, geo.z0, geo.dz, nz)
                vox = (k * ny + j) * nx + i
                mu_real = geo.rho[vox] * lerp2(pt.mu_total, geo.mat[vox], ie, fe)
                if uniform(s) * mu_maj <= mu_real:
                    break
                ebal[5] += 1.0
            if escaped:
                ebal[2] += wt * E
                if primary:
                    ebal[6] += 1.0
                    ebal[7] += E
                return
        # ---------------------------------------------------------------- real interaction
        primary = False
        ebal[4] += 1.0
        if rr:
            ddx = x - opt.rr_x
            ddy = y - opt.rr_y
            ddz = z - opt.rr_z
            shell = int(math.sqrt(ddx * ddx + ddy * ddy + ddz * ddz) / opt.rr_radius)
            if shell > 0:
                target = opt.rr_survival ** (-shell)
                if wt < target:
                    if uniform(s) * target >= wt:
                        return
                    wt = target
        m = geo.mat[vox]
        mu_m = lerp2(pt.mu_total, m, ie, fe)
        r = uniform(s) * mu_m
        p_photo = lerp2(pt.mu_photo, m, ie, fe)
        if r < p_photo:
            # photoelectric: element, shell, fluorescence
            lo = pt.el_start[m]
            hi = pt.el_start[m + 1]
            slot = hi - 1
            for q in range(lo, hi):
                if r < lerp2(pt.el_photo, q, ie, fe):
                    slot = q
                    break
            a = pt.el_atom[slot]
            shell = sample_photoelectric_shell(E, pt.sh_start[a], pt.sh_start[a + 1], pt.sh_binding,
                                               pt.sh_jump, s)
            ef = 0.0
            if shell >= 0:
                ef = sample_fluorescence(shell, pt.sh_yield, pt.ln_start, pt.ln_energy, pt.ln_cum, s)
            binding = pt.sh_binding[shell] if shell >= 0 else 0.0
            local = E
            if ef >= opt.photon_cutoff and ef < E and stack[0, 0] < _STACK - 1:
                n = int(stack[0, 0]) + 1
                fu, fv, fw = isotropic(s)
                stack[n, 0] = x
                stack[n, 1] = y
                stack[n, 2] = z
                stack[n, 3] = fu
                stack[n, 4] = fv
                stack[n, 5] = fw
                stack[n, 6] = ef
                stack[n, 7] = wt
                stack[0, 0] = n
                local = E - ef
            if coupled and E - binding > 0.0:
                # photoelectron along the photon direction (simplification: no Sauter distribution);
                # the binding energy not carried off by fluorescence is deposited on the spot
                local -= E - binding
                ebal[1] += local
                score(vox, local * inv_vol / geo.rho[vox], hf, hbase, rec, bl, cnt)
                transport_electron(et, geo, x, y, z, u, v, w, E - binding, -1.0, s, hf, hbase, rec, bl,
                                   cnt, ebal, stack, estack)
            elif not kerma:
                ebal[1] += local
                score(vox, local * inv_vol / geo.rho[vox], hf, hbase, rec, bl, cnt)
            return
        r -= p_photo
        p_rayl = lerp2(pt.mu_rayl, m, ie, fe)
        if r < p_rayl:
            cost = sample_rayleigh(E, pt.ff_q, pt.ff_cum[m], s)
            u, v, w = rotate(u, v, w, cost, 2.0 * math.pi * uniform(s))
            continue
        r -= p_rayl
        p_compt = lerp2(pt.mu_compt, m, ie, fe)
        if r < p_compt or E <= 2.0 * ELECTRON_MASS:
            Ep, cost = sample_compton(E, pt.sf[m], pt.sf_inv_du, s)
            phi = 2.0 * math.pi * uniform(s)
            if coupled:
                # Compton electron: cot(theta_e) = (1 + k) tan(theta/2), opposite azimuth
                kappa = E / ELECTRON_MASS
                th = math.sqrt(max(0.0, (1.0 - cost) / (1.0 + cost))) if cost > -1.0 else 1.0e30
                a = (1.0 + kappa) * th
                cose = a / math.sqrt(1.0 + a * a)
                eu, ev, ew = rotate(u, v, w, cose, phi + math.pi)
                transport_electron(et, geo, x, y, z, eu, ev, ew, E - Ep, -1.0, s, hf, hbase, rec, bl,
                                   cnt, ebal, stack, estack)
            elif not kerma:
                ebal[1] += E - Ep
                score(vox, (E - Ep) * inv_vol / geo.rho[vox], hf, hbase, rec, bl, cnt)
            E = Ep
            u, v, w = rotate(u, v, w, cost, phi)
            continue
        # pair production
        local = E - 2.0 * ELECTRON_MASS
        if coupled:
            # kinetic energy shared uniformly (simplification of the Bethe-Heitler sharing; pair
            # production is rare at IORT photon energies), both along the photon direction; the
            # positron annihilates when it stops (electron engine)
            tm = uniform(s) * local
            transport_electron(et, geo, x, y, z, u, v, w, tm, -1.0, s, hf, hbase, rec, bl, cnt, ebal,
                               stack, estack)
            transport_electron(et, geo, x, y, z, u, v, w, local - tm, 1.0, s, hf, hbase, rec, bl, cnt,
                               ebal, stack, estack)
            return
        # kerma approximation: charged particles deposit locally, annihilation photons at the site
        if not kerma:
            ebal[1] += local
            score(vox, local * inv_vol / geo.rho[vox], hf, hbase, rec, bl, cnt)
        au, av, aw = isotropic(s)
        for sign in (1.0, -1.0):
            n = int(stack[0, 0]) + 1
            if n >= _STACK:
                ebal[3] += wt * ELECTRON_MASS
                score(vox, wt * ELECTRON_MASS * inv_vol / geo.rho[vox], hf, hbase, rec, bl, cnt)
                continue
            stack[n, 0] = x
            stack[n, 1] = y
            stack[n, 2] = z
            stack[n, 3] = sign * au
            stack[n, 4] = sign * av
            stack[n, 5] = sign * aw
            stack[n, 6] = ELECTRON_MASS
            stack[n, 7] = wt
            stack[0, 0] = n
        return


@njit(cache=True)
def run_batch(pt, et, geo, src, opt, h0, h1, rec, bl, cnt, ebal):
    """Histories h0..h1-1 into one slot's buffers; ``ebal`` is this batch's energy-balance row."""
    s = np.empty(4, dtype=np.uint64)
    stack = np.zeros((_STACK, 8))
    rr = opt.rr_radius > 0.0
    estack = np.zeros((256, 8))
    kf = np.zeros(pt.mu_total.shape[0])
    cnt[0] = 0
    cnt[1] = 0
    cnt[2] = 0
    cnt[3] = opt.statistics
    for h in range(h0, h1):
        seed_history(opt.seed, h, s)
        hf = float(h - h0)
        ncopy = 1
        r = 0
        if src.kind == 3:
            # phase-space record; a weight w starts int(w) copies plus one more with probability
            # w - int(w) (splitting / Russian roulette: unbiased, unit-weight particles)
            r = (h // src.ps_recycle) % src.ps_energy.shape[0]
            wgt = src.ps_weight[r]
            ncopy = int(wgt)
            frac = wgt - ncopy
            if frac > 0.0 and uniform(s) < frac:
                ncopy += 1
        for _c in range(ncopy):
            if src.kind == 3:
                E = src.ps_energy[r]
                x = src.ps_pos[r, 0]
                y = src.ps_pos[r, 1]
                z = src.ps_pos[r, 2]
                u = src.ps_dir[r, 0]
                v = src.ps_dir[r, 1]
                w = src.ps_dir[r, 2]
                t = src.ps_type[r]
                if t == 1:
                    ebal[0] += E
                    transport_photon(pt, geo, opt, x, y, z, u, v, w, E, True, 1.0, s, hf, 0.0, rec, bl,
                                     cnt, ebal, stack, kf, et, estack)
                else:
                    charge = 1.0 if t == 3 else -1.0
                    ebal[0] += E + (2.0 * ELECTRON_MASS if charge > 0.0 else 0.0)
                    transport_electron(et, geo, x, y, z, u, v, w, E, charge, s, hf, 0.0, rec, bl, cnt,
                                       ebal, stack, estack)
            elif src.kind == 2:
                x, y, z, u, v, w, E = sample_beam_particle(src, src.shape, s)
                charge = src.shape[5]
                ebal[0] += E + (2.0 * ELECTRON_MASS if charge > 0.0 else 0.0)
                transport_electron(et, geo, x, y, z, u, v, w, E, charge, s, hf, 0.0, rec, bl, cnt, ebal,
                                   stack, estack)
            else:
                E = sample_source_energy(src, s)
                ebal[0] += E
                if src.kind == 0:
                    u, v, w = isotropic(s)
                else:
                    u = src.direction[0]
                    v = src.direction[1]
                    w = src.direction[2]
                transport_photon(pt, geo, opt, src.position[0], src.position[1], src.position[2], u, v,
                                 w, E, True, 1.0, s, hf, 0.0, rec, bl, cnt, ebal, stack, kf, et, estack)
            while stack[0, 0] > 0:
                n = int(stack[0, 0])
                stack[0, 0] = n - 1
                # column 7 (weight) is only written by photon code; electrons push photons only in
                # coupled runs, where roulette is off
                transport_photon(pt, geo, opt, stack[n, 0], stack[n, 1], stack[n, 2], stack[n, 3],
                                 stack[n, 4], stack[n, 5], stack[n, 6], False, stack[n, 7] if rr else 1.0,
                                 s, hf, 0.0, rec, bl, cnt, ebal, stack, kf, et, estack)
    if opt.primary == 1:
        trace_primary(pt, geo, src, opt, h0, h1 - h0, rec, bl, cnt)
    end_batch(rec, bl, cnt)


@njit(cache=True, parallel=True)
def run_wave(pt, et, geo, src, opt, starts, b0, nb, rec, bl, cnt, ebal):
    """Batches b0..b0+nb-1 in parallel, batch b0+q in slot q."""
    for q in prange(nb):
        b = b0 + q
        run_batch(pt, et, geo, src, opt, starts[b], starts[b + 1], rec[q], bl[q], cnt[q], ebal[b])


