"""Detailed (event-by-event) elastic-scattering reference for the condensed-history electron engine.

A broad parallel electron beam on semi-infinite water: every elastic collision is simulated, screened
Rutherford per element (Moliere eta) times the McKinley-Feshbach factor (by rejection), Z(Z+1);
continuous (CSDA) loss from iortmc's own unrestricted tables, deposited along each straight flight in
0.5 mm depth bins; no energy-loss straggling. An exact solution of the transport equation for that
cross section, to compare with ``simulate(..., hard_collisions=False, bremsstrahlung=False)``
(docs/electron-physics.md, "Independent checks"). About 150 s for 20k histories at 6 MeV on 2 cores.

Usage: python3 tools/detailed_elastic_reference.py E0_MeV HISTORIES [MOTT(1|0)]
"""
import math
import sys
import time

import numpy as np
from numba import njit, prange
import iortmc as mc
from iortmc.transport.packing import pack_electron_tables

ALPHA = 1 / 137.035999
RE = 2.8179403262e-13
NA = 6.02214076e23

def tables(mott=True):
    et = pack_electron_tables([mc.material("water")], hard_collisions=False, bremsstrahlung=False)
    nE = et.dedx.shape[2]
    E = np.exp(et.log_emin + et.dlog * np.arange(nE))
    lnR = et.lnrange[0, 0].copy()
    return et, E, lnR

@njit(cache=True)
def _lerp(x, xs, ys):
    n = xs.shape[0]
    if x <= xs[0]:
        return ys[0]
    if x >= xs[n - 1]:
        return ys[n - 1]
    lo = 0; hi = n - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    f = (x - xs[lo]) / (xs[hi] - xs[lo])
    return ys[lo] + f * (ys[hi] - ys[lo])

@njit(cache=True)
def sigma_el(E, Z, n, mott):
    """Per element: (sigma0 * n [1/cm at rho=1], eta, Rmax)."""
    tau = E / 0.51099895
    p2 = tau * (tau + 2.0)
    b2 = p2 / (tau + 1.0) ** 2
    eta = 0.25 * (ALPHA * Z ** (1.0 / 3.0) / 0.885) ** 2 / p2 * (1.13 + 3.76 * (ALPHA * Z) ** 2 / b2)
    s0 = math.pi * Z * (Z + 1.0) * RE * RE / (p2 * b2) / (eta * (1.0 + eta))
    rmax = 1.0 + (0.25 * math.pi * ALPHA * Z * math.sqrt(b2) if mott else 0.0)
    return s0 * n * rmax, eta, rmax, b2

@njit(cache=True)
def run(E0, nh, seed, zs, ns, lnE, lnR, ecut, dz, nbin, mott, out):
    np.random.seed(seed)
    for h in range(nh):
        E = E0
        z = 0.0
        u = 0.0; v = 0.0; w = 1.0
        while True:
            if E <= ecut:
                b = int(z / dz)
                if 0 <= b < nbin:
                    out[b] += E
                break
            R = math.exp(_lerp(math.log(E), lnE, lnR))
            # longest flight: energy loss <= 2 %
            Elow = max(0.98 * E, ecut)
            Rlow = math.exp(_lerp(math.log(Elow), lnE, lnR))
            smax = R - Rlow
            smaj = 0.0
            for e in range(zs.shape[0]):
                sm, eta, rmax, b2 = sigma_el(Elow, zs[e], ns[e], mott)
                smaj += sm
            t = -math.log(np.random.random()) / smaj
            coll = t < smax
            if not coll:
                t = smax
            # move t along (u, v, w), depositing CSDA loss in z bins
            Rn = R - t
            Rcut = math.exp(_lerp(math.log(ecut), lnE, lnR))
            if Rn <= Rcut * (1.0 + 1e-9) or (not coll and Elow <= ecut):
                En = ecut
            else:
                En = math.exp(_lerp(math.log(Rn), lnR, lnE))
                if En < ecut:
                    En = ecut
            dep = E - En
            z1 = z + w * t
            if z1 < 0.0:
                # leaves through the surface: deposit the part inside, escape
                if w < 0.0 and z > 0.0:
                    f = z / (z - z1)
                    # energy deposited before crossing (linear in path)
                    _deposit(out, z, 0.0, dep * f, dz, nbin)
                break
            _deposit(out, z, z1, dep, dz, nbin)
            z = z1
            E = En
            if z >= nbin * dz:
                break
            if not coll or E <= ecut:
                continue
            # real collision? choose element with the true cross sections at E
            r = np.random.random() * smaj
            acc = 0.0
            chosen = -1
            for e in range(zs.shape[0]):
                sm, eta, rmax, b2 = sigma_el(E, zs[e], ns[e], mott)
                acc += sm
                if r < acc:
                    chosen = e
                    break
            if chosen < 0:
                continue  # fictitious
            sm, eta, rmax, b2 = sigma_el(E, zs[chosen], ns[chosen], mott)
            xi = np.random.random()
            a = 2.0 * eta * xi / (1.0 + eta - xi)   # 1 - mu
            if mott:
                s = math.sqrt(min(max(a / 2.0, 0.0), 1.0))
                rr = 1.0 - b2 * s * s + math.pi * ALPHA * zs[chosen] * math.sqrt(b2) * s * (1.0 - s)
                if np.random.random() * rmax > rr:
                    continue
            cost = 1.0 - a
            sint = math.sqrt(max(0.0, 1.0 - cost * cost))
            phi = 2.0 * math.pi * np.random.random()
            cphi = math.cos(phi); sphi = math.sin(phi)
            rho2 = u * u + v * v
            if rho2 > 1e-20:
                rh = math.sqrt(rho2)
                aa = sint / rh
                un = u * cost + aa * (u * w * cphi - v * sphi)
                vn = v * cost + aa * (v * w * cphi + u * sphi)
                wn = w * cost - rh * sint * cphi
            else:
                un = sint * cphi; vn = sint * sphi; wn = cost if w >= 0 else -cost
            nn = 1.0 / math.sqrt(un * un + vn * vn + wn * wn)
            u = un * nn; v = vn * nn; w = wn * nn

@njit(cache=True)
def _deposit(out, za, zb, dep, dz, nbin):
    lo = min(za, zb); hi = max(za, zb)
    if hi - lo <= 0.0:
        b = int(lo / dz)
        if 0 <= b < nbin:
            out[b] += dep
        return
    b0 = int(lo / dz); b1 = int(hi / dz)
    if b0 == b1:
        if 0 <= b0 < nbin:
            out[b0] += dep
        return
    L = hi - lo
    for b in range(b0, b1 + 1):
        x0 = max(lo, b * dz); x1 = min(hi, (b + 1) * dz)
        if x1 > x0 and 0 <= b < nbin:
            out[b] += dep * (x1 - x0) / L

@njit(parallel=True, cache=True)
def run_par(E0, nh, seed, zs, ns, lnE, lnR, ecut, dz, nbin, mott, nchunk):
    outs = np.zeros((nchunk, nbin))
    for c in prange(nchunk):
        run(E0, nh // nchunk, seed * 1000 + c, zs, ns, lnE, lnR, ecut, dz, nbin, mott, outs[c])
    return outs

if __name__ == "__main__":
    E0 = float(sys.argv[1]); nh = int(sys.argv[2]); mott = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    et, E, lnR = tables()
    zs = np.array([1.0, 8.0]); w = np.array([0.111894, 0.888106]); A = np.array([1.008, 15.999])
    ns = NA * w / A
    dz = 0.05; nbin = int((0.62 * E0 + 1.0) / dz)
    t0 = time.time()
    outs = run_par(E0, nh, 7, zs, ns, np.log(E), lnR, 0.1, dz, nbin, bool(mott), 20)
    d = outs.sum(0) / nh / dz
    dc = outs / (nh / 20) / dz
    sd = dc.std(0, ddof=1) / math.sqrt(20)
    zc = (np.arange(nbin) + 0.5) * dz
    np.savez(f"detailed_{E0:g}MeV_mott{mott}.npz", z=zc, d=d, sd=sd)
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "tests" / "physics"))
    import electron_depth_dose_reference as ref
    print(E0, nh, "mott", mott, f"{time.time()-t0:.1f}s", {k: round(v, 4) for k, v in ref.depth_dose_ranges(zc, d).items()})
