"""Transport mean free paths of electrons in water against PENELOPE-2018.

Reference: ``data/penelope2018_water_elastic.csv``, the elastic mean free path and the first and
second transport mean free paths lambda_1, lambda_2 of liquid water (I = 75 eV) from the PENELOPE-2018
database (ELSEPA partial-wave cross sections for the screened atoms; Salvat, Jablonski and Powell,
Comput. Phys. Commun. 165 (2005) 157), read from PenRed 1.14's material file. The table holds the
elastic scattering by the atoms only: the deflections in collisions with the atomic electrons are not
in it (PENELOPE simulates them in its inelastic model), so our atomic-electron share is checked
separately (consistency of its soft and hard parts, and the total against the table plus the
inelastic deflections of PENELOPE's model).
"""

import math
from pathlib import Path

import numpy as np
import pytest

import iortmc as mc
from iortmc.physics import _elements
from iortmc.physics import electron_tables as etb
from iortmc.transport._kernels import electron as ek
from iortmc.units import AVOGADRO, ELECTRON_MASS, R_ELECTRON

_TABLE = Path(__file__).resolve().parent / "data" / "penelope2018_water_elastic.csv"


def _penelope(emin=0.1, emax=20.0):
    t = np.loadtxt(_TABLE, delimiter=",", comments="#", skiprows=5)
    sel = (t[:, 0] >= emin * (1 - 1e-9)) & (t[:, 0] <= emax * (1 + 1e-9))
    return t[sel, 0], t[sel, 2], t[sel, 3]


def test_elastic_transport_mean_free_paths_vs_penelope():
    """lambda_1 and lambda_2 of our elastic model (screened Rutherford with Moliere screening, Mott
    factors of McKinley and Feshbach on both transport cross sections) within 1.5 % of PENELOPE-2018
    at every tabulated energy from 0.1 to 20 MeV (measured: -1.1 % to -0.6 %). The McKinley-Feshbach
    ratio is a low-Z expansion; 1.5 % is the agreement it can give against partial waves."""
    E, l1, l2 = _penelope()
    assert E.size >= 30
    k1, k2, _ = etb.material_transport_data(mc.material("water"), E, atomic_electrons=False)
    d1 = 1.0 / k1 / l1 - 1.0
    d2 = 1.0 / k2 / l2 - 1.0
    i1, i2 = int(np.argmax(np.abs(d1))), int(np.argmax(np.abs(d2)))
    assert np.all(np.abs(d1) < 0.015), f"lambda_1 off by {100 * d1[i1]:+.2f} % at {E[i1]} MeV"
    assert np.all(np.abs(d2) < 0.015), f"lambda_2 off by {100 * d2[i2]:+.2f} % at {E[i2]} MeV"


def test_goudsmit_saunderson_shape_has_both_transport_cross_sections():
    """The one screened Rutherford DCS that shapes each step (effective screening eta_eff) has the
    model's k2/k1 (to 1e-6), and that ratio is PENELOPE's lambda_1/lambda_2 within 1.5 % for the
    elastic part (2.82 at 1 MeV, 2.87 at 6 MeV; the plain screened Rutherford shape with Moliere's
    eta gives 2.72 and 2.78, too much weight at large angles)."""
    E, l1, l2 = _penelope()
    k1, k2, eta = etb.material_transport_data(mc.material("water"), E, atomic_electrons=False)
    for e, a, b, x in zip(E, k1, k2, eta):
        m = etb.legendre_moments_sr(float(x), 2)
        assert m[2] / m[1] == pytest.approx(b / a, rel=1e-6), e
    assert np.allclose(k2 / k1, l1 / l2, rtol=0.015)


def _moller_deflection_k1(material, E, ae):
    """First transport cross section (1/(g/cm2)) of the primary's deflection in hard Moller collisions
    (W > ae), from the Moller DCS and the two-body kinematics the kernel uses."""
    ne = AVOGADRO * sum(w * z / _elements.element(int(z)).atomic_weight
                        for z, w in zip(material.elements, material.mass_fractions))
    W = np.linspace(ae, E / 2.0, 4001)
    cp = np.array([ek.binary_cosines(E, w)[1] for w in W])
    return ne * np.trapezoid(etb.moller_dcs(E, W / E) / E * (1.0 - cp), W)


@pytest.mark.parametrize("E", [0.5, 1.0, 2.0, 6.0, 12.0, 20.0])
def test_atomic_electron_share_soft_plus_hard_is_the_whole(E):
    """With the default delta threshold ae = 0.1 MeV, the soft share left to the multiple scattering
    (transfers I..ae) plus the deflections of the hard Moller collisions the kernel simulates equal
    the share with every collision in the multiple scattering (I..E/2) within 1 % (no double counting,
    nothing missing; the rest is Moller vs free-electron Rutherford DCS above ae)."""
    water = mc.material("water")
    soft, _, _ = etb.material_transport_data(water, np.array([E]), ae=0.1)
    whole, _, _ = etb.material_transport_data(water, np.array([E]))
    hard = _moller_deflection_k1(water, E, 0.1)
    assert (soft[0] + hard) / whole[0] == pytest.approx(1.0, abs=0.01)


def test_total_transport_cross_section_vs_penelope_model():
    """Our total first transport cross section (elastic + every collision with the atomic electrons)
    against PENELOPE-2018's: its elastic table plus its inelastic deflections, close collisions by
    binary kinematics (as ours) and distant longitudinal ones with recoil energies up to the
    resonance energy, which add 2 pi r_e^2 Z / (p^2 beta^2) per atom (PENELOPE-2018 manual, sec. 3.2;
    this unit is the part of the distant collisions our logarithm, cut at I, does not count).
    Within 1.5 % from 0.1 to 20 MeV (measured -0.8 % to 0)."""
    E, l1, _ = _penelope()
    water = mc.material("water")
    k_all, _, _ = etb.material_transport_data(water, E)
    k_el, _, _ = etb.material_transport_data(water, E, atomic_electrons=False)
    tau = E / ELECTRON_MASS
    p2 = tau * (tau + 2.0)
    b2 = p2 / (tau + 1.0) ** 2
    distant = sum(AVOGADRO * w / _elements.element(int(z)).atomic_weight * z * 2.0 * math.pi * R_ELECTRON**2
                  for z, w in zip(water.elements, water.mass_fractions)) / (p2 * b2)
    pen = 1.0 / l1 + (k_all - k_el) + distant
    assert np.all(np.abs(k_all / pen - 1.0) < 0.015), np.round(k_all / pen - 1.0, 4)
