"""Electron/positron tables handed to the condensed-history kernels (:mod:`.electron`).

Built by :func:`iortmc.physics.electron_tables.pack_electron_tables`. All arrays are C-contiguous float64;
per-particle arrays have a leading axis of length 2 (0 = electron, 1 = positron), then the material
index, then the energy grid. The energy grid is uniform in ln E (O(1) lookup):
``E_i = exp(log_emin + i * dlog)``.

Every quantity is per unit mass, so a voxel's density only scales path lengths (Fano theorem).
"""

from typing import NamedTuple

import numpy as np


class ElectronTables(NamedTuple):
    # ------------------------------------------------------------------ grid
    log_emin: float             # ln of the first grid energy (MeV)
    dlog: float                 # grid spacing in ln E
    inv_dlog: float             # 1 / dlog
    # ------------------------------------------------------------------ options
    ecut: float                 # transport cut-off, kinetic energy (MeV)
    ae: float                   # delta-ray production threshold, kinetic energy (MeV)
    ap: float                   # bremsstrahlung photon production threshold (MeV)
    estepe: float               # largest fractional energy loss per multiple-scattering step
    ms_strength: float          # largest multiple-scattering step strength K = int ds / lambda_1
    hard: int                   # 1: hard Moller/Bhabha collisions with tracked deltas
    brems: int                  # 1: hard bremsstrahlung with tracked photons
    msc: int                    # 1: multiple scattering (random hinge + Goudsmit-Saunderson)
    # ------------------------------------------------------------------ (2, nM, nE) per particle
    dedx: np.ndarray            # continuous (restricted) stopping power, MeV cm2/g
    lnrange: np.ndarray         # ln of the range of the continuous loss, ln(g/cm2)
    strength: np.ndarray        # Lambda(E) = int k1/L dE: multiple-scattering strength "range"
    hardint: np.ndarray         # H(E) = int sigma_hard/L dE: hard-interaction number "range"
    sig_coll: np.ndarray        # hard Moller (e-) / Bhabha (e+) cross section, cm2/g
    # ------------------------------------------------------------------ (nM, nE)
    sig_brem: np.ndarray        # hard bremsstrahlung cross section (k > ap), cm2/g
    br_f: np.ndarray            # (nM, nE, nX) k dsigma/dk at k = ap (E/ap)^x_l, x_l = l/(nX-1)
    br_fmax: np.ndarray         # (nM, nE) max over l of br_f (times a 1.02 safety factor)
    # ------------------------------------------------------------------ multiple scattering
    ms_log_emin: float          # ln of the first MS-grid energy (MeV)
    ms_inv_dlog: float          # 1 / spacing of the MS grid in ln E
    ms_K: np.ndarray            # (nM, nMS) step strength K at each MS-grid energy
    ms_p0: np.ndarray           # (nM, nMS) probability of no elastic collision in a step
    ms_q: np.ndarray            # (nM, nMS, nQ) ln(1 - cos theta) at cumulative levels 1 - (1 - t)^2 (t uniform) of the
                                #   continuous part of the Goudsmit-Saunderson distribution
