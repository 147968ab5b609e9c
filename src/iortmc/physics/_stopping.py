"""Electron and positron stopping powers: collision, radiative, restricted, CSDA range.

Pure numpy/scipy functions on arrays, vectorised over the kinetic energy ``E`` (MeV).
They do no I/O: the table builder (``iortmc.physics.tables``) passes in element data read from the
shipped ``elements.h5``. All results are mass quantities: stopping powers in MeV cm2/g,
ranges in g/cm2.

Element data convention
-----------------------
A material is described by parallel arrays over its ``n`` elements:

``Z``
    atomic numbers (int).
``w``
    mass fractions (they are renormalised to sum to 1).
``A``
    atomic weights (g/mol).
``shell_binding_eV``, ``shell_occupancy``
    optional, for the Sternheimer oscillator density effect: **a list of n 1-D arrays, one
    per element**, exactly as ``elements.h5`` stores them per element
    (``electron/shell_binding_eV``, ``electron/shell_occupancy``; ESTAR's ``BD`` and ``NC``).
    ESTAR's convention is kept: a negative occupancy (always the last, outermost shell of a
    metal) flags conduction electrons. In a single-element material they are treated as free
    (binding energy 0, oscillator strength term ``l^2 = f``); in a compound or mixture they are
    treated as bound with binding energy ``|BD|`` and occupancy ``|NC|`` (Sternheimer, Seltzer
    and Berger 1984; ESTAR).
``element_energy_list``, ``element_srad_list``
    one 1-D array per element: ESTAR's radiative stopping power of the element
    (MeV cm2/g) on its energy grid (MeV).

References
----------
ICRU Report 37, Stopping Powers for Electrons and Positrons (ICRU, Bethesda, 1984).
M. J. Berger and S. M. Seltzer, NBSIR 82-2550 (1982): ESTAR formulas and data.
R. M. Sternheimer, S. M. Seltzer and M. J. Berger, Phys. Rev. B 26 (1982) 6067,
doi:10.1103/PhysRevB.26.6067; At. Data Nucl. Data Tables 30 (1984) 261,
doi:10.1016/0092-640X(84)90002-0.
R. M. Sternheimer and R. F. Peierls, Phys. Rev. B 3 (1971) 3681, doi:10.1103/PhysRevB.3.3681.
W. R. Nelson, H. Hirayama and D. W. O. Rogers, The EGS4 code system, SLAC-265 (1985)
(restricted Moller/Bhabha stopping powers, bremsstrahlung screening functions).
H. W. Koch and J. W. Motz, Rev. Mod. Phys. 31 (1959) 920, doi:10.1103/RevModPhys.31.920.
Y.-S. Tsai, Rev. Mod. Phys. 46 (1974) 815, doi:10.1103/RevModPhys.46.815.

See ``docs/stopping-powers.md`` for the formulas, the measured agreement with ESTAR and the
known limits.
"""

from __future__ import annotations


import numpy as np

from iortmc.errors import InputError
from iortmc.units import AVOGADRO, ELECTRON_MASS, R_ELECTRON

__all__ = [
    "bethe_collision",
    "bremsstrahlung_dcs",
    "csda_range",
    "density_effect",
    "mean_excitation_energy",
    "plasma_energy_eV",
    "radiative",
    "restricted_collision",
    "restricted_radiative",
]

#: 2 pi r_e^2 m c^2 N_A in MeV cm2/mol (= K/2 of the Bethe formula, 0.153537...)
_HALF_K = 2.0 * np.pi * R_ELECTRON**2 * ELECTRON_MASS * AVOGADRO
#: fine-structure constant
_ALPHA = 7.2973525693e-3
#: plasma energy constant: hbar*omega_p = 28.816 sqrt(rho <Z/A>) eV (rho in g/cm3)
_PLASMA_EV = 28.816
#: density below which the general (Sternheimer-Peierls) density-effect formula uses its gas branch
_GAS_DENSITY = 0.01
_LN10 = np.log(10.0)
_LN2 = np.log(2.0)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _energy(E) -> np.ndarray:
    E = np.asarray(E, dtype=float)
    if not np.all(np.isfinite(E)) or np.any(E <= 0.0):
        raise InputError(f"E: kinetic energies must be finite and > 0 MeV, got {E!r}")
    return E


def _elements(Z, w, A):
    Z = np.atleast_1d(np.asarray(Z, dtype=float))
    w = np.atleast_1d(np.asarray(w, dtype=float))
    A = np.atleast_1d(np.asarray(A, dtype=float))
    if not (Z.shape == w.shape == A.shape) or Z.ndim != 1 or Z.size == 0:
        raise InputError(
            f"Z, w, A: expected three 1-D arrays of the same non-zero length, got shapes "
            f"{Z.shape}, {w.shape}, {A.shape}"
        )
    if np.any(Z < 1) or np.any(A <= 0) or np.any(w < 0) or w.sum() <= 0:
        raise InputError(
            f"Z, w, A: expected Z >= 1, A > 0 g/mol and mass fractions w >= 0 with a positive "
            f"sum, got Z={Z.tolist()}, w={w.tolist()}, A={A.tolist()}"
        )
    return Z, w / w.sum(), A


def _z_over_a(Z, w, A) -> float:
    """Mean <Z/A> (mol/g) of a mixture by mass fractions."""
    return float(np.sum(w * Z / A))


def _kinematics(E):
    tau = E / ELECTRON_MASS
    gamma = tau + 1.0
    beta2 = tau * (tau + 2.0) / gamma**2
    return tau, gamma, beta2


def mean_excitation_energy(Z, w, A, I_elements_eV) -> float:
    """Mean excitation energy of a mixture by the Bragg rule (eV).

    ``ln I = sum_i w_i (Z_i/A_i) ln I_i / sum_i w_i (Z_i/A_i)``. ICRU 37 recommends measured
    or adjusted compound I values (e.g. 75 eV for water) where they exist; this rule is the
    fallback for mixtures without one.

    Parameters
    ----------
    Z, w, A : array_like
        Atomic numbers, mass fractions, atomic weights (g/mol) of the elements.
    I_elements_eV : array_like
        Mean excitation energy of each element (eV).

    Returns
    -------
    float
        Mean excitation energy of the mixture (eV).
    """
    Z, w, A = _elements(Z, w, A)
    I = np.atleast_1d(np.asarray(I_elements_eV, dtype=float))
    if I.shape != Z.shape or np.any(I <= 0):
        raise InputError(f"I_elements_eV: expected {Z.size} positive values (eV), got {I.tolist()}")
    g = w * Z / A
    return float(np.exp(np.sum(g * np.log(I)) / np.sum(g)))


def _material_I(Z, w, A, I_eV) -> float:
    I = np.atleast_1d(np.asarray(I_eV, dtype=float))
    if I.size == 1:
        if not I[0] > 0:
            raise InputError(f"I_eV: mean excitation energy must be > 0 eV, got {I_eV!r}")
        return float(I[0])
    return mean_excitation_energy(Z, w, A, I)


def plasma_energy_eV(Z, w, A, density) -> float:
    """Plasma energy hbar*omega_p = 28.816 sqrt(rho <Z/A>) eV (rho in g/cm3)."""
    Z, w, A = _elements(Z, w, A)
    if not density > 0:
        raise InputError(f"density: must be > 0 g/cm3, got {density!r}")
    return _PLASMA_EV * np.sqrt(density * _z_over_a(Z, w, A))


# ---------------------------------------------------------------------------------------------
# density effect
# ---------------------------------------------------------------------------------------------
def _oscillators(Z, w, A, shell_binding_eV, shell_occupancy):
    """Oscillator strengths f_j, binding energies E_j (eV) and the l^2 offset factor alpha_j.

    f_j is the fraction of all electrons of the material in shell j. alpha_j = 2/3 for bound
    shells and 1 for conduction electrons (Sternheimer 1952; Sternheimer, Seltzer and Berger
    1982: l_j^2 = (rho_s E_j / hw_p)^2 + (2/3) f_j for bound, l^2 = f_c for conduction).
    """
    n = Z.size
    if len(shell_binding_eV) != n or len(shell_occupancy) != n:
        raise InputError(
            f"shell_binding_eV, shell_occupancy: expected one array per element ({n}), got "
            f"{len(shell_binding_eV)} and {len(shell_occupancy)}"
        )
    g = w * Z / A
    g = g / g.sum()
    single = n == 1
    f, e, alf = [], [], []
    for i in range(n):
        bd = np.atleast_1d(np.asarray(shell_binding_eV[i], dtype=float))
        nc = np.atleast_1d(np.asarray(shell_occupancy[i], dtype=float))
        if bd.shape != nc.shape or bd.size == 0:
            raise InputError(
                f"shell data of element Z={int(Z[i])}: binding energies and occupancies must "
                f"have the same non-zero length, got {bd.size} and {nc.size}"
            )
        conduction = nc < 0
        nc = np.abs(nc)
        bd = bd.copy()
        a = np.full(bd.size, 2.0 / 3.0)
        if single:
            bd[conduction] = 0.0
            a[conduction] = 1.0
        f.append(g[i] * nc / nc.sum())
        e.append(bd)
        alf.append(a)
    return np.concatenate(f), np.concatenate(e), np.concatenate(alf)


def _delta_oscillator(E, Z, w, A, I_eV, density, shell_binding_eV, shell_occupancy):
    """Sternheimer oscillator-model delta (Sternheimer, Seltzer and Berger 1982, 1984)."""
    f, eb, alf = _oscillators(Z, w, A, shell_binding_eV, shell_occupancy)
    keep = f > 0
    f, eb, alf = f[keep], eb[keep], alf[keep]
    hwp = _PLASMA_EV * np.sqrt(density * _z_over_a(Z, w, A))
    eps = (eb / hwp) ** 2
    target = 2.0 * np.log(I_eV / hwp)
    # adjustment factor: solve sum_j f_j ln(s eps_j + alf_j f_j) = 2 ln(I / hw_p) for s = rho_s^2;
    # monotone increasing in s, so bisect on ln s.
    bound = eps > 0
    if not np.any(bound):
        raise InputError("shell_binding_eV: at least one shell must have a binding energy > 0 eV")

    def fun(s):
        return np.sum(f * np.log(s * eps + alf * f)) - target

    lo, hi = -60.0, 60.0
    if fun(np.exp(lo)) > 0 or fun(np.exp(hi)) < 0:
        raise InputError(
            f"I_eV: no Sternheimer adjustment factor reproduces I = {I_eV} eV with the given "
            f"shell data (plasma energy {hwp:.4g} eV)"
        )
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if fun(np.exp(mid)) > 0:
            hi = mid
        else:
            lo = mid
    s = np.exp(0.5 * (lo + hi))
    ebar2 = s * eps  # (rho_s E_j / hw_p)^2
    l2 = ebar2 + alf * f

    tau, gamma, beta2 = _kinematics(E)
    Y = (tau * (tau + 2.0)).ravel()  # (beta gamma)^2 = beta^2 / (1 - beta^2)
    # L^2 = Q solves sum_j f_j / (ebar_j^2 + Q) = 1 / Y; the left side falls with Q.
    # Insulators: a root with Q > 0 exists only above Y_cut = 1 / sum_j f_j / ebar_j^2.
    conductor = np.any(ebar2 <= 0)
    if conductor:
        active = np.ones(Y.shape, dtype=bool)
    else:
        y_cut = 1.0 / np.sum(f / ebar2)
        active = Y > y_cut
    delta = np.zeros(Y.shape)
    if np.any(active):
        y = Y[active]
        lo = np.log(y) - 80.0
        hi = np.log(y)  # sum f/(ebar2+Q) <= 1/Q, so Q <= Y
        for _ in range(120):
            mid = 0.5 * (lo + hi)
            q = np.exp(mid)
            g = np.sum(f / (ebar2 + q[:, None]), axis=1) - 1.0 / y
            pos = g > 0
            lo = np.where(pos, mid, lo)
            hi = np.where(pos, hi, mid)
        q = np.exp(0.5 * (lo + hi))
        d = np.sum(f * np.log1p(q[:, None] / l2), axis=1) - q / (y + 1.0)
        delta[active] = np.maximum(d, 0.0)
    return delta.reshape(np.shape(E))


def _delta_parameters(E, params):
    """Sternheimer (1984) parametric delta: params = (Cbar, X0, X1, a, m, delta0)."""
    cbar, x0, x1, a, m, delta0 = (float(v) for v in params)
    tau, gamma, beta2 = _kinematics(E)
    X = np.log10(np.sqrt(tau * (tau + 2.0)))
    two_ln10 = 2.0 * _LN10
    mid = two_ln10 * X - cbar + a * np.clip(x1 - X, 0.0, None) ** m
    high = two_ln10 * X - cbar
    low = delta0 * 10.0 ** (2.0 * (X - x0)) if delta0 > 0 else np.zeros_like(X)
    return np.where(X >= x1, high, np.where(X >= x0, mid, low))


def _general_parameters(I_eV, hwp_eV, gas):
    """Sternheimer-Peierls (1971) general parameters (Cbar, X0, X1, a, m=3, delta0=0)."""
    cbar = 2.0 * np.log(I_eV / hwp_eV) + 1.0
    if gas:
        if cbar < 10.0:
            x0, x1 = 1.6, 4.0
        elif cbar < 10.5:
            x0, x1 = 1.7, 4.0
        elif cbar < 11.0:
            x0, x1 = 1.8, 4.0
        elif cbar < 11.5:
            x0, x1 = 1.9, 4.0
        elif cbar < 12.25:
            x0, x1 = 2.0, 4.0
        elif cbar < 13.804:
            x0, x1 = 2.0, 5.0
        else:
            x0, x1 = 0.326 * cbar - 2.5, 5.0
    elif I_eV < 100.0:
        x1 = 2.0
        x0 = 0.2 if cbar < 3.681 else 0.326 * cbar - 1.0
    else:
        x1 = 3.0
        x0 = 0.2 if cbar < 5.215 else 0.326 * cbar - 1.5
    m = 3.0
    a = (cbar - 2.0 * _LN10 * x0) / (x1 - x0) ** m
    return cbar, x0, x1, a, m, 0.0


def density_effect(
    E,
    Z,
    w,
    A,
    I_eV,
    density,
    shell_binding_eV=None,
    shell_occupancy=None,
    *,
    gas=None,
    sternheimer_parameters=None,
):
    """Density-effect correction delta of the collision stopping power (dimensionless).

    Three methods, chosen by the arguments:

    1. ``shell_binding_eV`` and ``shell_occupancy`` given: the Sternheimer oscillator model as
       ESTAR and ICRU 37 use it (Sternheimer, Seltzer and Berger 1982, 1984). Each shell j is an
       oscillator of strength f_j (fraction of the material's electrons) and energy
       ``rho_s E_j``; the factor rho_s is fixed by ``sum_j f_j ln(l_j) = ln(I / hw_p)`` with
       ``l_j^2 = (rho_s E_j / hw_p)^2 + (2/3) f_j`` (``l^2 = f_c`` for conduction electrons).
       Then ``delta = sum_j f_j ln(1 + L^2 / l_j^2) - L^2 (1 - beta^2)`` with L from
       ``1/(beta gamma)^2 = sum_j f_j / ((rho_s E_j / hw_p)^2 + L^2)``; delta = 0 below the
       threshold where no positive root exists (insulators).
    2. ``sternheimer_parameters = (Cbar, X0, X1, a, m, delta0)`` given (Sternheimer, Berger and
       Seltzer 1984 tables; ``Cbar = -C``): the parametric formula in ``X = log10(beta gamma)``.
    3. otherwise: the Sternheimer-Peierls (1971) general parameterisation from I and the plasma
       energy (condensed or gas branch; ``gas=None`` means density < 0.01 g/cm3).

    Parameters
    ----------
    E : array_like
        Kinetic energy (MeV).
    Z, w, A : array_like
        Atomic numbers, mass fractions, atomic weights (g/mol) of the elements.
    I_eV : float or array_like
        Mean excitation energy of the material (eV); an array of one value per element is
        combined by :func:`mean_excitation_energy`.
    density : float
        Mass density (g/cm3); the density effect depends on it through hw_p.
    shell_binding_eV, shell_occupancy : list of array_like, optional
        One array per element (ESTAR ``BD`` and ``NC``); see the module docstring.
    gas : bool, optional
        Branch of the general formula (method 3 only).
    sternheimer_parameters : tuple of 6 floats, optional
        ``(Cbar, X0, X1, a, m, delta0)`` for method 2.

    Returns
    -------
    numpy.ndarray
        delta, same shape as ``E``; 0 where the density effect vanishes. The same delta applies
        to electrons and positrons of the same kinetic energy.
    """
    E = _energy(E)
    Z, w, A = _elements(Z, w, A)
    I = _material_I(Z, w, A, I_eV)
    if not density > 0:
        raise InputError(f"density: must be > 0 g/cm3, got {density!r}")
    if shell_binding_eV is not None or shell_occupancy is not None:
        if shell_binding_eV is None or shell_occupancy is None:
            raise InputError("shell_binding_eV, shell_occupancy: give both or neither")
        return _delta_oscillator(E, Z, w, A, I, density, shell_binding_eV, shell_occupancy)
    if sternheimer_parameters is not None:
        if len(sternheimer_parameters) != 6:
            raise InputError(
                "sternheimer_parameters: expected (Cbar, X0, X1, a, m, delta0), got "
                f"{sternheimer_parameters!r}"
            )
        return _delta_parameters(E, sternheimer_parameters)
    hwp = _PLASMA_EV * np.sqrt(density * _z_over_a(Z, w, A))
    if gas is None:
        gas = density < _GAS_DENSITY
    return _delta_parameters(E, _general_parameters(I, hwp, bool(gas)))


# ---------------------------------------------------------------------------------------------
# collision stopping power
# ---------------------------------------------------------------------------------------------
def _check_particle(particle):
    if particle not in ("e-", "e+"):
        raise InputError(f"particle: expected 'e-' or 'e+', got {particle!r}")


def _f_unrestricted(tau, beta2, particle):
    gamma2 = (tau + 1.0) ** 2
    if particle == "e-":
        return 1.0 - beta2 + (tau**2 / 8.0 - (2.0 * tau + 1.0) * _LN2) / gamma2
    t2 = tau + 2.0
    return 2.0 * _LN2 - beta2 / 12.0 * (23.0 + 14.0 / t2 + 10.0 / t2**2 + 4.0 / t2**3)


def bethe_collision(
    E,
    Z,
    w,
    A,
    I_eV,
    density,
    particle="e-",
    shell_binding_eV=None,
    shell_occupancy=None,
    *,
    gas=None,
    sternheimer_parameters=None,
):
    """Unrestricted mass collision stopping power of electrons or positrons (MeV cm2/g).

    ICRU 37 (eq. 2.1-2.4; Berger and Seltzer 1982)::

        S_col/rho = (K/2) <Z/A> / beta^2 * [ ln( tau^2 (tau + 2) / (2 (I/mc^2)^2) )
                                              + F(tau) - delta ]
        F-(tau) = 1 - beta^2 + [tau^2/8 - (2 tau + 1) ln 2] / (tau + 1)^2          (Moller)
        F+(tau) = 2 ln 2 - beta^2/12 [23 + 14/(tau+2) + 10/(tau+2)^2 + 4/(tau+2)^3] (Bhabha)

    with K/2 = 2 pi r_e^2 mc^2 N_A = 0.153537 MeV cm2/mol, tau = E / mc^2 and delta from
    :func:`density_effect`. No shell correction is applied (as in ICRU 37 and ESTAR), so the
    values are too large below ~10 keV (about 10 % at 1 keV in water).

    Parameters
    ----------
    E : array_like
        Kinetic energy (MeV).
    Z, w, A : array_like
        Atomic numbers, mass fractions, atomic weights (g/mol) of the elements.
    I_eV : float or array_like
        Mean excitation energy of the material (eV), or one per element (Bragg rule).
    density : float
        Mass density (g/cm3), for the density effect.
    particle : {"e-", "e+"}
        Electron (Moller) or positron (Bhabha).
    shell_binding_eV, shell_occupancy : list of array_like, optional
        Per-element shell data for the oscillator density effect; without them the
        Sternheimer-Peierls general formula is used. See :func:`density_effect`.
    gas, sternheimer_parameters
        Passed to :func:`density_effect`.

    Returns
    -------
    numpy.ndarray
        S_col/rho in MeV cm2/g, shape of ``E``.
    """
    _check_particle(particle)
    E = _energy(E)
    Z, w, A = _elements(Z, w, A)
    I = _material_I(Z, w, A, I_eV)
    delta = density_effect(
        E, Z, w, A, I, density, shell_binding_eV, shell_occupancy,
        gas=gas, sternheimer_parameters=sternheimer_parameters,
    )
    tau, gamma, beta2 = _kinematics(E)
    i_red = I * 1e-6 / ELECTRON_MASS
    log_term = np.log(tau**2 * (tau + 2.0) / (2.0 * i_red**2))
    bracket = log_term + _f_unrestricted(tau, beta2, particle) - delta
    return _HALF_K * _z_over_a(Z, w, A) / beta2 * bracket


def restricted_collision(
    E,
    cut_MeV,
    Z,
    w,
    A,
    I_eV,
    density,
    particle="e-",
    shell_binding_eV=None,
    shell_occupancy=None,
    *,
    gas=None,
    sternheimer_parameters=None,
):
    """Restricted mass collision stopping power (MeV cm2/g): energy transfers below ``cut_MeV``.

    Berger-Seltzer form (ICRU 37 eq. 2.9-2.11; EGS4 SLAC-265 sec. 2.13), with
    d = min(cut, W_max) / mc^2, W_max = E/2 for electrons (the faster of two identical
    electrons is the primary) and E for positrons::

        L/rho = (K/2) <Z/A> / beta^2 [ ln( 2 (tau + 2) / (I/mc^2)^2 ) + G(tau, d) - delta ]
        G-(tau, d) = -1 - beta^2 + ln((tau - d) d) + tau / (tau - d)
                     + [d^2/2 + (2 tau + 1) ln(1 - d/tau)] / gamma^2
        G+(tau, d) = ln(tau d) - beta^2/tau [ tau + 2 d - (3/2) d^2 y - (d - d^3/3) y^2
                                              - (d^2/2 - tau d^3/3 + d^4/4) y^3 ],  y = 1/(gamma+1)

    It equals :func:`bethe_collision` when cut >= E/2 (e-) or cut >= E (e+); its derivative in
    the cut is cut x the Moller (Bhabha) cross section per unit energy transfer.

    Parameters
    ----------
    E : array_like
        Kinetic energy (MeV).
    cut_MeV : float or array_like
        Largest energy transfer counted in the continuous loss (MeV), > 0; broadcast with E.
    Z, w, A, I_eV, density, particle, shell_binding_eV, shell_occupancy, gas, sternheimer_parameters
        As in :func:`bethe_collision`.

    Returns
    -------
    numpy.ndarray
        Restricted S_col/rho in MeV cm2/g, shape of ``broadcast(E, cut_MeV)``.
    """
    _check_particle(particle)
    E = _energy(E)
    cut = np.asarray(cut_MeV, dtype=float)
    if not np.all(np.isfinite(cut)) or np.any(cut <= 0):
        raise InputError(
            f"cut_MeV: energy-transfer cut must be finite and > 0 MeV, got {cut_MeV!r}"
        )
    E, cut = np.broadcast_arrays(E, cut)
    Z, w, A = _elements(Z, w, A)
    I = _material_I(Z, w, A, I_eV)
    delta = density_effect(
        E, Z, w, A, I, density, shell_binding_eV, shell_occupancy,
        gas=gas, sternheimer_parameters=sternheimer_parameters,
    )
    tau, gamma, beta2 = _kinematics(E)
    wmax = 0.5 * E if particle == "e-" else E
    d = np.minimum(cut, wmax) / ELECTRON_MASS
    i_red = I * 1e-6 / ELECTRON_MASS
    base = np.log(2.0 * (tau + 2.0) / i_red**2)
    if particle == "e-":
        g = (
            -1.0 - beta2 + np.log((tau - d) * d) + tau / (tau - d)
            + (0.5 * d**2 + (2.0 * tau + 1.0) * np.log1p(-d / tau)) / gamma**2
        )
    else:
        y = 1.0 / (gamma + 1.0)
        poly = (
            tau + 2.0 * d - 1.5 * d**2 * y - (d - d**3 / 3.0) * y**2
            - (0.5 * d**2 - tau * d**3 / 3.0 + 0.25 * d**4) * y**3
        )
        g = np.log(tau * d) - beta2 / tau * poly
    return _HALF_K * _z_over_a(Z, w, A) / beta2 * (base + g - delta)


# ---------------------------------------------------------------------------------------------
# radiative stopping power
# ---------------------------------------------------------------------------------------------
def _element_tables(element_energy_list, element_srad_list, n):
    if len(element_energy_list) != n or len(element_srad_list) != n:
        raise InputError(
            f"element_energy_list, element_srad_list: expected one array per element ({n}), got "
            f"{len(element_energy_list)} and {len(element_srad_list)}"
        )
    out = []
    for i in range(n):
        e = np.asarray(element_energy_list[i], dtype=float)
        s = np.asarray(element_srad_list[i], dtype=float)
        if e.ndim != 1 or e.shape != s.shape or e.size < 2 or np.any(np.diff(e) <= 0):
            raise InputError(
                f"radiative table of element {i}: expected increasing energies and stopping "
                f"powers of the same length >= 2, got {e.size} and {s.size} values"
            )
        if np.any(e <= 0) or np.any(s <= 0):
            raise InputError(f"radiative table of element {i}: energies and S_rad must be > 0")
        out.append((e, s))
    return out


def _loglog(E, e, s):
    if np.any(E < e[0] * (1 - 1e-12)) or np.any(E > e[-1] * (1 + 1e-12)):
        raise InputError(
            f"E: radiative stopping powers are tabulated from {e[0]} to {e[-1]} MeV, got "
            f"values from {np.min(E)} to {np.max(E)} MeV"
        )
    from scipy.interpolate import CubicSpline  # lazy: keeps `import iortmc` fast

    spline = CubicSpline(np.log(e), np.log(s))
    return np.exp(spline(np.log(np.clip(E, e[0], e[-1]))))


def radiative(E, w, element_energy_list, element_srad_list):
    """Radiative (bremsstrahlung) mass stopping power of a mixture (MeV cm2/g).

    ``S_rad/rho = sum_i w_i S_rad,i(E)`` (additivity over elements, as in ESTAR), each element's
    ESTAR radiative stopping power interpolated with a cubic spline in (ln E, ln S) as ESTAR does
    (exact at the tabulated energies). The ESTAR element data (Seltzer and Berger 1985, 1986)
    hold for electrons; positrons radiate somewhat less below a few MeV (not modelled).

    Parameters
    ----------
    E : array_like
        Kinetic energy (MeV), inside the tabulated range.
    w : array_like
        Mass fractions of the elements (renormalised to sum 1).
    element_energy_list, element_srad_list : list of array_like
        One array per element: energies (MeV) and S_rad,i (MeV cm2/g).

    Returns
    -------
    numpy.ndarray
        S_rad/rho in MeV cm2/g, shape of ``E``.
    """
    E = _energy(E)
    w = np.atleast_1d(np.asarray(w, dtype=float))
    if w.ndim != 1 or np.any(w < 0) or w.sum() <= 0:
        raise InputError(f"w: expected non-negative mass fractions with a positive sum, got {w!r}")
    w = w / w.sum()
    tables = _element_tables(element_energy_list, element_srad_list, w.size)
    total = np.zeros(E.shape)
    for wi, (e, s) in zip(w, tables):
        if wi > 0:
            total = total + wi * _loglog(E, e, s)
    return total


def _screening(delta):
    """Screening functions phi1, phi2 (Butcher and Messel 1960 fits, as in EGS4 SLAC-265)."""
    small = delta <= 1.0
    big = 21.12 - 4.184 * np.log(delta + 0.952)
    phi1 = np.where(small, 20.867 - 3.242 * delta + 0.625 * delta**2, big)
    phi2 = np.where(small, 20.209 - 1.930 * delta - 0.086 * delta**2, big)
    return phi1, phi2


def _coulomb_correction(Z):
    """Davies-Bethe-Maximon Coulomb correction f_c(Z)."""
    a2 = (_ALPHA * Z) ** 2
    return a2 * (1.0 / (1.0 + a2) + 0.20206 - 0.0369 * a2 + 0.0083 * a2**2 - 0.002 * a2**3)


def bremsstrahlung_dcs(E, k, Z):
    """Bremsstrahlung cross section per atom differential in photon energy, d sigma/dk (cm2/MeV).

    Screened Bethe-Heitler (extreme-relativistic Born) cross section in the form of Koch and
    Motz (1959) formula 3BS with the Butcher-Messel screening functions used by EGS4
    (SLAC-265 eq. 2.7.x), the electron-electron term through Z^2 -> Z (Z + xi) with
    xi = ln(1440 Z^-2/3) / ln(183 Z^-1/3) (Tsai 1974), and the Coulomb correction f_c(Z)
    above 50 MeV only (as PEGS4: below it the correction over-corrects)::

        d sigma/dk = 4 alpha r_e^2 Z (Z + xi) / k * { (1 + eps^2) [phi1(g)/4 - ln Z/3 - f_c]
                                                     - (2/3) eps [phi2(g)/4 - ln Z/3 - f_c] }
        eps = E'/E0 (total energies after/before), g = 136 mc^2 Z^-1/3 k / (E0 E')

    The bracket is clipped at 0. The formula is used here only for the *shape* in k (the ratio
    in :func:`restricted_radiative`); its absolute value is poor below ~2 MeV, where the
    Seltzer-Berger tables differ from Born theory by tens of percent.

    Parameters
    ----------
    E : array_like
        Electron kinetic energy (MeV).
    k : array_like
        Photon energy (MeV); broadcast with E.
    Z : int
        Atomic number.

    Returns
    -------
    numpy.ndarray
        d sigma/dk in cm2/MeV per atom; 0 for k >= E and for k <= 0.
    """
    E = np.asarray(E, dtype=float)
    k = np.asarray(k, dtype=float)
    E, k = np.broadcast_arrays(E, k)
    Z = float(Z)
    if Z < 1:
        raise InputError(f"Z: atomic number must be >= 1, got {Z}")
    e0 = E + ELECTRON_MASS
    inside = (k > 0) & (k < E)
    kk = np.where(inside, k, 0.5 * np.maximum(E, 1e-12))
    e1 = e0 - kk
    eps = e1 / e0
    z13 = Z ** (1.0 / 3.0)
    g = 136.0 * ELECTRON_MASS / z13 * kk / (e0 * e1)
    phi1, phi2 = _screening(g)
    fc = np.where(E > 50.0, _coulomb_correction(Z), 0.0)
    lnz = np.log(Z) / 3.0
    xi = np.log(1440.0 / z13**2) / np.log(183.0 / z13)
    bracket = (1.0 + eps**2) * (phi1 / 4.0 - lnz - fc) - (2.0 / 3.0) * eps * (phi2 / 4.0 - lnz - fc)
    bracket = np.maximum(bracket, 0.0)
    dcs = 4.0 * _ALPHA * R_ELECTRON**2 * Z * (Z + xi) / kk * bracket
    return np.where(inside, dcs, 0.0)


# Gauss-Legendre nodes on [0, 1] for the k-weighted integrals
_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)
_GL_X = 0.5 * (_GL_X + 1.0)
_GL_W = 0.5 * _GL_W


def _k_moment(E, kmax, Z):
    """integral_0^kmax k dsigma/dk dk (MeV cm2), composite Gauss-Legendre in k.

    k dsigma/dk is bounded and smooth in k on (0, E); four panels with geometric edges resolve
    the region near k = 0 when kmax << E and the region near the tip.
    """
    E = np.asarray(E, dtype=float)
    kmax = np.minimum(np.asarray(kmax, dtype=float), E)
    edges = np.stack([np.zeros_like(kmax), kmax / 64.0, kmax / 8.0, kmax / 2.0, kmax], axis=-1)
    total = np.zeros(np.broadcast(E, kmax).shape)
    for p in range(4):
        a = edges[..., p]
        b = edges[..., p + 1]
        k = a[..., None] + (b - a)[..., None] * _GL_X
        kd = k * bremsstrahlung_dcs(E[..., None], k, Z)
        total = total + (b - a) * np.sum(kd * _GL_W, axis=-1)
    return total


def restricted_radiative(E, k_cut_MeV, Z, w, element_energy_list, element_srad_list):
    """Part of the radiative stopping power due to photons with energy below ``k_cut_MeV``.

    Per element, the ESTAR radiative stopping power times the fraction of the energy-weighted
    cross section below the cut, from the shape of :func:`bremsstrahlung_dcs`::

        S_rad,res/rho = sum_i w_i S_rad,i(E) * int_0^kc k dsigma_i/dk dk / int_0^E k dsigma_i/dk dk

    with kc = min(k_cut, E); equals :func:`radiative` for k_cut >= E.

    Parameters
    ----------
    E : array_like
        Kinetic energy (MeV).
    k_cut_MeV : float or array_like
        Photon-energy cut (MeV), > 0; broadcast with E.
    Z, w : array_like
        Atomic numbers and mass fractions of the elements.
    element_energy_list, element_srad_list : list of array_like
        One array per element: energies (MeV) and ESTAR S_rad,i (MeV cm2/g).

    Returns
    -------
    numpy.ndarray
        Restricted S_rad/rho in MeV cm2/g, shape of ``broadcast(E, k_cut_MeV)``.
    """
    E = _energy(E)
    kc = np.asarray(k_cut_MeV, dtype=float)
    if not np.all(np.isfinite(kc)) or np.any(kc <= 0):
        raise InputError(f"k_cut_MeV: photon cut must be finite and > 0 MeV, got {k_cut_MeV!r}")
    E, kc = np.broadcast_arrays(E, kc)
    Z = np.atleast_1d(np.asarray(Z, dtype=float))
    w = np.atleast_1d(np.asarray(w, dtype=float))
    if Z.shape != w.shape or Z.ndim != 1 or np.any(w < 0) or w.sum() <= 0:
        raise InputError(f"Z, w: expected 1-D arrays of equal length, got {Z!r} and {w!r}")
    w = w / w.sum()
    tables = _element_tables(element_energy_list, element_srad_list, w.size)
    total = np.zeros(E.shape)
    for zi, wi, (e, s) in zip(Z, w, tables):
        if wi <= 0:
            continue
        full = _k_moment(E, E, zi)
        part = np.where(kc >= E, full, _k_moment(E, kc, zi))
        total = total + wi * _loglog(E, e, s) * part / full
    return total


# ---------------------------------------------------------------------------------------------
# CSDA range
# ---------------------------------------------------------------------------------------------
def csda_range(E_grid, S_total):
    """CSDA range R(E) = int dE / S_tot on a grid starting at 1 keV (g/cm2).

    Method (as ESTAR): below the first grid energy E_0 (1 keV in ESTAR and iortmc tables) S_tot is
    taken proportional to 1/E, which gives R(E_0) = E_0 / (2 S_tot(E_0)); above it
    ``R(E) = R(E_0) + int_{E_0}^{E} dE' / S_tot(E')`` with S_tot interpolated by a cubic spline in
    (ln E, ln S) (as ESTAR) and each grid interval integrated by 8-point Gauss-Legendre quadrature
    (exact for a constant S; ESTAR used a 21-point Simpson rule on the same spline).

    Parameters
    ----------
    E_grid : array_like
        Strictly increasing kinetic energies (MeV); the first one is the lower limit
        (use 1e-3 MeV to reproduce ESTAR).
    S_total : array_like
        Total (collision + radiative) mass stopping power on ``E_grid`` (MeV cm2/g).

    Returns
    -------
    numpy.ndarray
        CSDA range at each grid energy (g/cm2).
    """
    E = np.asarray(E_grid, dtype=float)
    S = np.asarray(S_total, dtype=float)
    if E.ndim != 1 or E.shape != S.shape or E.size < 2:
        raise InputError(
            f"E_grid, S_total: expected 1-D arrays of equal length >= 2, got shapes {E.shape} "
            f"and {S.shape}"
        )
    if np.any(E <= 0) or np.any(np.diff(E) <= 0):
        raise InputError("E_grid: energies must be > 0 MeV and strictly increasing")
    if np.any(S <= 0) or not np.all(np.isfinite(S)):
        raise InputError("S_total: stopping powers must be finite and > 0 MeV cm2/g")
    from scipy.interpolate import CubicSpline  # lazy: keeps `import iortmc` fast

    log_s = CubicSpline(np.log(E), np.log(S))
    a, b = E[:-1], E[1:]
    nodes = a[:, None] + (b - a)[:, None] * _GL8_X
    inv_s = np.exp(-log_s(np.log(nodes)))
    pieces = (b - a) * np.sum(inv_s * _GL8_W, axis=1)
    return E[0] / (2.0 * S[0]) + np.concatenate(([0.0], np.cumsum(pieces)))


_GL8_X, _GL8_W = np.polynomial.legendre.leggauss(8)
_GL8_X = 0.5 * (_GL8_X + 1.0)
_GL8_W = 0.5 * _GL8_W
