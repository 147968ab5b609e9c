"""Module-level NamedTuples of flat arrays handed to the kernels.

Array types in numba ignore shape, so one cached compilation serves every problem size. Everything
is float64 / int32 / int64 and C-contiguous; :mod:`iortmc.simulate` builds these from the user objects.
"""

from typing import NamedTuple

import numpy as np


class PhotonTables(NamedTuple):
    # energy grid (MeV) with duplicated edges, and an O(1) hint table uniform in ln E
    energy: np.ndarray          # (nE,)
    hint: np.ndarray            # (nH,) int64: index i with energy[i] <= E at the cell start
    hint_log_emin: float
    hint_inv_dlog: float
    # per material (nM, nE), mass coefficients cm2/g
    mu_total: np.ndarray
    mu_photo: np.ndarray
    mu_rayl: np.ndarray
    mu_compt: np.ndarray
    mu_pair: np.ndarray
    mu_en: np.ndarray
    majorant: np.ndarray        # (nE,) cm^-1, max over voxels of rho * mu_total
    # photoelectric element selection: slots el_start[m]..el_start[m+1]-1 of material m
    el_start: np.ndarray        # (nM+1,) int64
    el_photo: np.ndarray        # (nSlots, nE) w_i * photo_i (cm2/g), cumulative within a material
    el_atom: np.ndarray         # (nSlots,) int64 index of the element in the atomic arrays
    # atomic relaxation data, per distinct element a: shells sh_start[a]..sh_start[a+1]-1
    sh_start: np.ndarray        # (nA+1,) int64
    sh_binding: np.ndarray      # (nS,) MeV
    sh_jump: np.ndarray         # (nS,)
    sh_yield: np.ndarray        # (nS,)
    ln_start: np.ndarray        # (nS+1,) int64, lines of shell i: ln_start[i]..ln_start[i+1]-1
    ln_energy: np.ndarray       # (nL,) MeV
    ln_cum: np.ndarray          # (nL,) cumulative probability within the shell
    # Compton: S(x)/Z per material on a grid uniform in sqrt(x)
    sf: np.ndarray              # (nM, nU)
    sf_inv_du: float
    # Rayleigh: q = x^2 grid and cumulative F^2 per material
    ff_q: np.ndarray            # (nQ,)
    ff_cum: np.ndarray          # (nM, nQ)


class Geometry(NamedTuple):
    nx: int
    ny: int
    nz: int
    dx: float
    dy: float
    dz: float
    x0: float
    y0: float
    z0: float
    mat: np.ndarray             # (nvox,) int32 material index, flat [z, y, x]
    rho: np.ndarray             # (nvox,) float64 g/cm3
    inv_mass: np.ndarray        # (nvox,) 1/(rho V) in 1/g, for the electron engine; photon-only runs
                                # pass a 1-element placeholder (photons use 1/(rho V) directly)


class SourceData(NamedTuple):
    kind: int                   # 0 = isotropic photon point source, 1 = photon pencil beam,
                                # 2 = electron/positron beam (ElectronBeam), 3 = phase space
    position: np.ndarray        # (3,) cm
    direction: np.ndarray       # (3,) unit vector (beams)
    e_lo: np.ndarray            # (nB,) MeV, bin lower edges (== e_hi for lines)
    e_hi: np.ndarray            # (nB,)
    alias_prob: np.ndarray      # (nB,) Walker alias table
    alias_index: np.ndarray     # (nB,) int64
    shape: np.ndarray           # (6,) ElectronBeam.shape_parameters(); zeros for photon sources
    # phase-space records (kind 3; length 0 otherwise): history h starts record
    # (h // ps_recycle) % n, split/rouletted to unit weight
    ps_type: np.ndarray         # (n,) int32: 1 photon, 2 electron, 3 positron
    ps_energy: np.ndarray       # (n,) MeV kinetic
    ps_pos: np.ndarray          # (n, 3) cm
    ps_dir: np.ndarray          # (n, 3) unit vectors
    ps_weight: np.ndarray       # (n,) statistical weight (> 0)
    ps_recycle: int


class Options(NamedTuple):
    seed: int
    scoring: int                # 0 = kerma (track length), 1 = analog
    photon_cutoff: float        # MeV
    electrons: int              # 1: photon-made electrons and positrons are transported
    statistics: int             # 0: history by history, 1: batch statistics
    primary: int = 0            # 1: primary kerma by ray tracing (primary.py), Monte Carlo after it
    primary_rays: float = 0.0   # rays per history of the ray-traced primary
    # Russian roulette beyond shells of radius rr_radius, 2 rr_radius, ... about (rr_x, rr_y, rr_z):
    # a photon interacting in shell k plays to weight rr_survival**-k (0: off; kerma only)
    rr_radius: float = 0.0
    rr_survival: float = 1.0
    rr_x: float = 0.0
    rr_y: float = 0.0
    rr_z: float = 0.0
