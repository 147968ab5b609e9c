"""Electron and positron condensed-history transport (class II), numba kernels.

Model (details, references and simplifications in docs/electron-physics.md):

* Continuous loss by the restricted collision + restricted radiative stopping power L(E); between
  hard events the energy is a deterministic function of the mass path s: R(E) - R(E') = s, with
  R the range of the continuous loss. No sub-threshold energy-loss straggling (as EGS).
* Three "clocks" are tabulated per material against energy: R(E), the multiple-scattering
  strength Lambda(E) = int k1/L dE (k1 = 1/lambda_1, the first transport cross section per gram)
  and the hard-interaction number H(E) = int (sigma_hard/L) dE. The next hinge and the next hard
  event are therefore found in energy, exactly for any step length, by inverting the tables; the
  mass path to the event follows from R. Density only scales path lengths (Fano theorem).
* Hard Moller (e-) / Bhabha (e+) collisions above ``ae`` with tracked deltas, hard bremsstrahlung
  above ``ap`` (ESTAR-scaled screened Bethe-Heitler shape) with photons pushed on the photon stack.
* Multiple elastic scattering: random hinge (PENELOPE style) with steps of strength K(E)
  (<= ms_strength and <= the strength of a step losing ``estepe`` of E); at each hinge the polar
  deflection is sampled from the Goudsmit-Saunderson distribution of that step (screened
  Rutherford, Moliere screening, Mott-corrected transport cross section), tabulated as quantiles.
* Straight segments between events are walked voxel by voxel: energy deposited in each voxel from
  the range table; clocks are re-planned only where the material index changes.
* Below ``ecut`` the particle deposits its kinetic energy on the spot; a positron then annihilates
  at rest into two 511 keV photons, back to back, isotropic.

Energy-balance convention for positrons: a positron carries its kinetic energy plus 2 mc^2 (its own
and its annihilation partner's rest energy, which the annihilation photons take away). An escaping
positron is booked as escaped T + 2 mc^2; a source positron must be booked as emitted T + 2 mc^2
(``run_electrons`` does). Photons that do not fit on the photon stack are deposited on the spot
(counted as below cut-off).

Stacks: ``stack`` (photons, float64[n, 7]) and ``estack`` (charged, float64[n, 8]: x, y, z, u, v,
w, E, charge) both keep their count in row 0, column 0; particle q lies in row q.
"""

import math

import numpy as np
from numba import njit

from .photon import ELECTRON_MASS, isotropic, rotate
from .rng import seed_history, uniform
from .tally import end_batch, score
from .voxels import enter_box, inside

TWO_PI = 2.0 * math.pi
_BIG = 1.0e30
_ESTACK = 256
_PSTACK = 64


# ---------------------------------------------------------------------------------------------
# table lookups
# ---------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _index(et, E):
    """(i, f): ln E lies at fraction f of grid interval i."""
    x = (math.log(E) - et.log_emin) * et.inv_dlog
    n = et.dedx.shape[2]
    i = int(x)
    if i < 0:
        i = 0
    elif i > n - 2:
        i = n - 2
    f = x - i
    if f < 0.0:
        f = 0.0
    elif f > 1.0:
        f = 1.0
    return i, f


@njit(cache=True, inline="always")
def _at3(tab, c, m, i, f):
    return tab[c, m, i] + f * (tab[c, m, i + 1] - tab[c, m, i])


@njit(cache=True, inline="always")
def _at2(tab, m, i, f):
    return tab[m, i] + f * (tab[m, i + 1] - tab[m, i])


@njit(cache=True, inline="always")
def _inverse(et, tab, c, m, target, i):
    """Energy at which the non-decreasing table ``tab[c, m]`` (linear in ln E) equals ``target``;
    the search starts at interval i and walks (the answer is usually close below)."""
    n = tab.shape[2]
    if i > n - 2:
        i = n - 2
    while i > 0 and tab[c, m, i] > target:
        i -= 1
    while i < n - 2 and tab[c, m, i + 1] <= target:
        i += 1
    d = tab[c, m, i + 1] - tab[c, m, i]
    f = 0.0
    if d > 0.0:
        f = (target - tab[c, m, i]) / d
    if f < 0.0:
        f = 0.0
    elif f > 1.0:
        f = 1.0
    return math.exp(et.log_emin + (i + f) * et.dlog)


# ---------------------------------------------------------------------------------------------
# samplers (pure functions; tests call them directly)
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def sample_moller(E, cut, s):
    """Kinetic energy W (MeV) of the delta of a hard Moller collision, cut < W <= E/2.

    eps = W/E is drawn from 1/eps^2 on [cut/E, 1/2] and accepted with eps^2 x (Moller bracket) / 2.25
    (the bracket times eps^2 is <= 2.25 everywhere). Requires E > 2 cut.
    """
    g = E / ELECTRON_MASS + 1.0
    a2 = ((g - 1.0) / g) ** 2
    b = (2.0 * g - 1.0) / (g * g)
    e0 = cut / E
    while True:
        eps = e0 / (1.0 - uniform(s) * (1.0 - 2.0 * e0))
        q = eps / (1.0 - eps)
        rej = 1.0 + q * q + a2 * eps * eps - b * q
        if uniform(s) * 2.25 <= rej:
            return eps * E


@njit(cache=True)
def sample_bhabha(E, cut, s):
    """Energy W (MeV) given to the atomic electron in a hard Bhabha collision, cut < W <= E.

    eps = W/E from 1/eps^2 on [cut/E, 1], accepted with beta^2 eps^2 x (Bhabha bracket), which is
    <= 1 (EGS4 SLAC-265 sec. 2.12). Requires E > cut.
    """
    g = E / ELECTRON_MASS + 1.0
    b2 = 1.0 - 1.0 / (g * g)
    y = 1.0 / (g + 1.0)
    y12 = 1.0 - 2.0 * y
    B1 = 2.0 - y * y
    B2 = y12 * (3.0 + y * y)
    B4 = y12 * y12 * y12
    B3 = B4 + y12 * y12
    e0 = cut / E
    while True:
        eps = e0 / (1.0 - uniform(s) * (1.0 - e0))
        rej = 1.0 + b2 * eps * (-B1 + eps * (B2 + eps * (-B3 + eps * B4)))
        if uniform(s) <= rej:
            return eps * E


@njit(cache=True)
def sample_brems(et, m, E, s):
    """Photon energy k (MeV), ap < k < E, from the material's tabulated k dsigma/dk.

    ln k is drawn uniformly on [ln ap, ln E] and accepted with f(x)/fmax, f = k dsigma/dk at the
    same fractional position x = ln(k/ap)/ln(E/ap) on a neighbouring grid energy, chosen by
    stochastic interpolation in ln E.
    """
    i, f = _index(et, E)
    j = i + 1 if uniform(s) < f else i
    if math.exp(et.log_emin + j * et.dlog) <= et.ap * (1.0 + 1e-9) or et.br_fmax[m, j] <= 0.0:
        j = i + 1
    nx = et.br_f.shape[2]
    lr = math.log(E / et.ap)
    while True:
        x = uniform(s)
        t = x * (nx - 1)
        l = int(t)
        if l > nx - 2:
            l = nx - 2
        ft = t - l
        val = et.br_f[m, j, l] + ft * (et.br_f[m, j, l + 1] - et.br_f[m, j, l])
        if uniform(s) * et.br_fmax[m, j] <= val:
            return et.ap * math.exp(x * lr)


@njit(cache=True, inline="always")
def brems_cost(E, s):
    """Polar angle cosine of a bremsstrahlung photon relative to the electron direction.

    Isotropic emission in the electron's rest frame boosted to the lab:
    cos = (c' + beta)/(1 + beta c'), c' uniform in (-1, 1); p(cos) ~ (1 - beta^2)/(1 - beta cos)^2, the
    leading-order form of the Sauter/Koch-Motz distributions, mean angle ~ 1/gamma.
    """
    g = E / ELECTRON_MASS + 1.0
    beta = math.sqrt(1.0 - 1.0 / (g * g))
    cp = 2.0 * uniform(s) - 1.0
    return (cp + beta) / (1.0 + beta * cp)


@njit(cache=True, inline="always")
def binary_cosines(E, W):
    """Polar cosines of the secondary (kinetic W) and of the primary (E - W) after a binary collision
    of a particle with kinetic energy E on a free electron at rest (two-body kinematics)."""
    mc2 = 2.0 * ELECTRON_MASS
    cd = math.sqrt(min(1.0, W * (E + mc2) / (E * (W + mc2))))
    Ep = E - W
    cp = math.sqrt(min(1.0, Ep * (E + mc2) / (E * (Ep + mc2))))
    return cd, cp


@njit(cache=True, inline="always")
def ms_node(et, E, s):
    """Multiple-scattering grid node at E (stochastic interpolation in ln E)."""
    x = (math.log(E) - et.ms_log_emin) * et.ms_inv_dlog
    n = et.ms_K.shape[1]
    j = int(x)
    if uniform(s) < x - j:
        j += 1
    if j < 0:
        j = 0
    elif j > n - 1:
        j = n - 1
    return j


@njit(cache=True)
def sample_gs(et, m, j, s):
    """cos(theta) after one multiple-scattering step of node j of material m (GS distribution)."""
    if uniform(s) < et.ms_p0[m, j]:
        return 1.0
    nq = et.ms_q.shape[2]
    t = (1.0 - math.sqrt(1.0 - uniform(s))) * (nq - 1)
    l = int(t)
    if l > nq - 2:
        l = nq - 2
    f = t - l
    la = et.ms_q[m, j, l] + f * (et.ms_q[m, j, l + 1] - et.ms_q[m, j, l])
    c = 1.0 - math.exp(la)
    if c < -1.0:
        c = -1.0
    return c


# ---------------------------------------------------------------------------------------------
# stacks
# ---------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _push_photon(stack, x, y, z, u, v, w, E):
    n = int(stack[0, 0]) + 1
    if n >= stack.shape[0]:
        return False
    stack[n, 0] = x
    stack[n, 1] = y
    stack[n, 2] = z
    stack[n, 3] = u
    stack[n, 4] = v
    stack[n, 5] = w
    stack[n, 6] = E
    stack[0, 0] = n
    return True


@njit(cache=True, inline="always")
def _push_charged(estack, x, y, z, u, v, w, E, q):
    n = int(estack[0, 0]) + 1
    if n >= estack.shape[0]:
        return False
    estack[n, 0] = x
    estack[n, 1] = y
    estack[n, 2] = z
    estack[n, 3] = u
    estack[n, 4] = v
    estack[n, 5] = w
    estack[n, 6] = E
    estack[n, 7] = q
    estack[0, 0] = n
    return True


# ---------------------------------------------------------------------------------------------
# one charged particle
# ---------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _coord(p, p0, d, n):
    c = int(math.floor((p - p0) / d))
    if c < 0:
        c = 0
    elif c >= n:
        c = n - 1
    return c


@njit(cache=True)
def _track(et, geo, x, y, z, u, v, w, E, charge, s, hf, hbase, rec, bl, cnt, ebal, stack, estack):
    """Follow one electron (charge -1) or positron (+1).

    Returns (path length in cm, fate): fate 0 = stopped in the grid, 1 = escaped through the low-z
    face (z < z0: backscatter for beams along +z), 2 = escaped elsewhere (or missed the grid).
    """
    c = 0 if charge < 0 else 1
    rest = 2.0 * ELECTRON_MASS if c == 1 else 0.0
    path = 0.0
    if not inside(geo, x, y, z):
        t = enter_box(geo, x, y, z, u, v, w)
        if t < 0.0:
            ebal[2] += E + rest
            return path, 2
        x += u * t
        y += v * t
        z += w * t
    nx = geo.nx
    ny = geo.ny
    nz = geo.nz
    i = _coord(x, geo.x0, geo.dx, nx)
    j = _coord(y, geo.y0, geo.dy, ny)
    k = _coord(z, geo.z0, geo.dz, nz)
    vox = (k * ny + j) * nx + i
    m = geo.mat[vox]
    acc = 0.0
    ecut = et.ecut
    any_hard = et.hard == 1 or et.brems == 1
    n_h = -math.log(uniform(s)) if any_hard else _BIG
    # multiple scattering: node, step strength, hinge fraction, strength left to the next hinge
    jms = 0
    Kst = 0.0
    tau = 0.0
    t_ms = _BIG
    if et.msc == 1 and E > ecut:
        jms = ms_node(et, E, s)
        Kst = et.ms_K[m, jms]
        tau = uniform(s)
        t_ms = tau * Kst
    while True:
        if E <= ecut:
            break
        # ---------------------------------------------------------------- plan in material m
        ie, fe = _index(et, E)
        lnR0 = _at3(et.lnrange, c, m, ie, fe)
        R0 = math.exp(lnR0)
        Lam0 = _at3(et.strength, c, m, ie, fe)
        H0 = _at3(et.hardint, c, m, ie, fe)
        ic, fc = _index(et, ecut)
        Et = ecut
        event = 0
        if et.msc == 1:
            Lt = Lam0 - t_ms
            if Lt > _at3(et.strength, c, m, ic, fc):
                Eh = _inverse(et, et.strength, c, m, Lt, ie)
                if Eh > E:
                    Eh = E
                if Eh > Et:
                    Et = Eh
                    event = 1
        if any_hard:
            Ht = H0 - n_h
            if Ht > _at3(et.hardint, c, m, ic, fc):
                Ex = _inverse(et, et.hardint, c, m, Ht, ie)
                if Ex > E:
                    Ex = E
                if Ex > Et:
                    Et = Ex
                    event = 2
        it, ft = _index(et, Et)
        mass = R0 - math.exp(_at3(et.lnrange, c, m, it, ft))
        if mass < 0.0:
            mass = 0.0
        # ---------------------------------------------------------------- straight segment
        Eseg = E
        done = 0.0
        reached = False
        escaped = False
        while True:
            rho = geo.rho[vox]
            if u > 0.0:
                tx = (geo.x0 + (i + 1) * geo.dx - x) / u
            elif u < 0.0:
                tx = (geo.x0 + i * geo.dx - x) / u
            else:
                tx = _BIG
            if v > 0.0:
                ty = (geo.y0 + (j + 1) * geo.dy - y) / v
            elif v < 0.0:
                ty = (geo.y0 + j * geo.dy - y) / v
            else:
                ty = _BIG
            if w > 0.0:
                tz = (geo.z0 + (k + 1) * geo.dz - z) / w
            elif w < 0.0:
                tz = (geo.z0 + k * geo.dz - z) / w
            else:
                tz = _BIG
            db = tx
            ax = 0
            if ty < db:
                db = ty
                ax = 1
            if tz < db:
                db = tz
                ax = 2
            if db < 0.0:
                db = 0.0
            left = mass - done
            if rho * db >= left:
                dl = left / rho if rho > 0.0 else 0.0
                x += u * dl
                y += v * dl
                z += w * dl
                path += dl
                dep = E - Et
                acc += dep
                ebal[1] += dep
                E = Et
                reached = True
                break
            # to the boundary
            x += u * db
            y += v * db
            z += w * db
            path += db
            done += rho * db
            Rb = R0 - done
            Eb = _inverse(et, et.lnrange, c, m, math.log(Rb), ie) if Rb > 0.0 else Et
            if Eb > E:
                Eb = E
            if Eb < Et:
                Eb = Et
            dep = E - Eb
            acc += dep
            ebal[1] += dep
            E = Eb
            if ax == 0:
                i += 1 if u > 0.0 else -1
                out = i < 0 or i >= nx
            elif ax == 1:
                j += 1 if v > 0.0 else -1
                out = j < 0 or j >= ny
            else:
                k += 1 if w > 0.0 else -1
                out = k < 0 or k >= nz
            if acc != 0.0:
                score(vox, acc * geo.inv_mass[vox], hf, hbase, rec, bl, cnt)
                acc = 0.0
            if out:
                escaped = True
                break
            vox = (k * ny + j) * nx + i
            mnew = geo.mat[vox]
            if mnew != m:
                # re-plan the clocks in the new material
                ie2, fe2 = _index(et, E)
                if et.msc == 1:
                    t_ms -= Lam0 - _at3(et.strength, c, m, ie2, fe2)
                    if t_ms < 0.0:
                        t_ms = 0.0
                if any_hard:
                    n_h -= H0 - _at3(et.hardint, c, m, ie2, fe2)
                    if n_h < 0.0:
                        n_h = 0.0
                m = mnew
                break
        if escaped:
            ebal[2] += E + rest
            return path, 1 if k < 0 else 2
        if not reached:
            continue
        # ---------------------------------------------------------------- event at E = Et
        if event == 0:
            break
        if et.msc == 1:
            t_ms -= Lam0 - _at3(et.strength, c, m, it, ft)
        if any_hard:
            n_h -= H0 - _at3(et.hardint, c, m, it, ft)
        if event == 1:
            # hinge: deflect, then schedule the next hinge
            cost = sample_gs(et, m, jms, s)
            u, v, w = rotate(u, v, w, cost, TWO_PI * uniform(s))
            rem = (1.0 - tau) * Kst
            jms = ms_node(et, E, s)
            Kst = et.ms_K[m, jms]
            tau = uniform(s)
            t_ms = rem + tau * Kst
        else:
            n_h = -math.log(uniform(s))
            sc = _at3(et.sig_coll, c, m, it, ft) if et.hard == 1 else 0.0
            sb = _at2(et.sig_brem, m, it, ft) if et.brems == 1 else 0.0
            if sc + sb <= 0.0:
                continue
            if uniform(s) * (sc + sb) < sc:
                # Moller / Bhabha
                if c == 0:
                    if E <= 2.0 * et.ae:
                        continue
                    W = sample_moller(E, et.ae, s)
                else:
                    if E <= et.ae:
                        continue
                    W = sample_bhabha(E, et.ae, s)
                cd, cp = binary_cosines(E, W)
                phi = TWO_PI * uniform(s)
                du, dv, dw = rotate(u, v, w, cd, phi)
                u, v, w = rotate(u, v, w, cp, phi + math.pi)
                E -= W
                if W > ecut and _push_charged(estack, x, y, z, du, dv, dw, W, -1.0):
                    pass
                else:
                    acc += W
                    ebal[3] += W
            else:
                if E <= et.ap:
                    continue
                kph = sample_brems(et, m, E, s)
                cg = brems_cost(E, s)
                gu, gv, gw = rotate(u, v, w, cg, TWO_PI * uniform(s))
                E -= kph
                if not _push_photon(stack, x, y, z, gu, gv, gw, kph):
                    acc += kph
                    ebal[3] += kph
    # ---------------------------------------------------------------- below cut-off
    acc += E
    ebal[3] += E
    if c == 1:
        au, av, aw = isotropic(s)
        for sign in (1.0, -1.0):
            if not _push_photon(stack, x, y, z, sign * au, sign * av, sign * aw, ELECTRON_MASS):
                acc += ELECTRON_MASS
                ebal[3] += ELECTRON_MASS
    if acc != 0.0:
        score(vox, acc * geo.inv_mass[vox], hf, hbase, rec, bl, cnt)
    return path, 0


@njit(cache=True)
def transport_electron(et, geo, x, y, z, u, v, w, E, charge, s, hf, hbase, rec, bl, cnt, ebal, stack,
                       estack):
    """Follow one electron (charge -1) or positron (+1) and all its charged secondaries.

    Energy deposits are scored with :func:`.transport.score`; bremsstrahlung and annihilation
    photons go on ``stack`` (float64[n, 7], count in ``stack[0, 0]``); charged secondaries on
    ``estack`` (float64[n, 8], count in ``estack[0, 0]``), emptied before returning. The particle may
    start outside the grid (straight flight through vacuum; escape if it misses).

    Returns
    -------
    (float, int, int)
        Total path length (cm) of all charged particles followed; the number of them that escaped
        through the grid's low-z face (backscatter for beams along +z); the number that escaped
        elsewhere.
    """
    path, fate = _track(et, geo, x, y, z, u, v, w, E, charge, s, hf, hbase, rec, bl, cnt, ebal, stack,
                        estack)
    nback = 1 if fate == 1 else 0
    nout = 1 if fate == 2 else 0
    while estack[0, 0] > 0:
        n = int(estack[0, 0])
        estack[0, 0] = n - 1
        p, fate = _track(et, geo, estack[n, 0], estack[n, 1], estack[n, 2], estack[n, 3], estack[n, 4],
                       estack[n, 5], estack[n, 6], estack[n, 7], s, hf, hbase, rec, bl, cnt, ebal,
                       stack, estack)
        path += p
        if fate == 1:
            nback += 1
        elif fate == 2:
            nout += 1
    return path, nback, nout


# ---------------------------------------------------------------------------------------------
# a small driver for tests and benchmarks (the lead wires transport_electron into simulate)
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def run_electrons(et, geo, seed, h0, h1, mode, pos, dirn, E0, charge, box, rec, bl, cnt, ebal, out):
    """Histories h0..h1-1 of a simple electron source; photons produced are not transported.

    mode 0: all particles start at ``pos`` along ``dirn``. mode 2: a parallel beam along ``dirn``
    from points uniform on ``box[0] < x < box[1]``, ``box[2] < y < box[3]`` at ``z = pos[2]``. mode 1: uniform per unit mass inside the
    box ``(xmin, xmax, ymin, ymax, zmin, zmax)`` (rejection on the voxel density), isotropic (the
    Fano source). Photon energy put on the stack is booked as escaped (``ebal[2]``) and summed in
    ``out[1]``; ``out[0]`` sums the charged path length (cm), ``out[2]`` its square per history,
    ``out[3]`` counts charged particles escaping through the low-z face.
    """
    s = np.empty(4, dtype=np.uint64)
    stack = np.zeros((_PSTACK, 7))
    estack = np.zeros((_ESTACK, 8))
    rest = 2.0 * ELECTRON_MASS if charge > 0 else 0.0
    rho_max = 0.0
    for q in range(geo.rho.shape[0]):
        if geo.rho[q] > rho_max:
            rho_max = geo.rho[q]
    cnt[0] = 0
    cnt[1] = 0
    cnt[2] = 0
    for h in range(h0, h1):
        seed_history(seed, h, s)
        if mode == 0:
            x = pos[0]
            y = pos[1]
            z = pos[2]
            u = dirn[0]
            v = dirn[1]
            w = dirn[2]
        elif mode == 2:
            x = box[0] + uniform(s) * (box[1] - box[0])
            y = box[2] + uniform(s) * (box[3] - box[2])
            z = pos[2]
            u = dirn[0]
            v = dirn[1]
            w = dirn[2]
        else:
            while True:
                x = box[0] + uniform(s) * (box[1] - box[0])
                y = box[2] + uniform(s) * (box[3] - box[2])
                z = box[4] + uniform(s) * (box[5] - box[4])
                vox = ((_coord(z, geo.z0, geo.dz, geo.nz) * geo.ny + _coord(y, geo.y0, geo.dy, geo.ny))
                       * geo.nx + _coord(x, geo.x0, geo.dx, geo.nx))
                if uniform(s) * rho_max <= geo.rho[vox]:
                    break
            u, v, w = isotropic(s)
        ebal[0] += E0 + rest
        p, nb, no = transport_electron(et, geo, x, y, z, u, v, w, E0, charge, s, float(h), float(h0),
                                       rec, bl, cnt, ebal, stack, estack)
        out[0] += p
        out[2] += p * p
        out[3] += nb
        while stack[0, 0] > 0:
            n = int(stack[0, 0])
            stack[0, 0] = n - 1
            ebal[2] += stack[n, 6]
            out[1] += stack[n, 6]
    end_batch(rec, bl, cnt)
