"""Unit constants for call sites: ``50 * keV``, ``2 * mm``.

iortmc works in MeV, cm, g/cm3, s and Gy everywhere; these constants convert
other units into those.
"""

MeV = 1.0
keV = 1.0e-3
eV = 1.0e-6
cm = 1.0
mm = 0.1
um = 1.0e-4
m = 100.0
g_per_cm3 = 1.0
Gy = 1.0
cGy = 1.0e-2
s = 1.0
minute = 60.0

#: electron rest energy (MeV), CODATA 2018
ELECTRON_MASS = 0.51099895
#: MeV -> J
MEV_TO_J = 1.602176634e-13
#: Avogadro constant (1/mol)
AVOGADRO = 6.02214076e23
#: classical electron radius (cm)
R_ELECTRON = 2.8179403262e-13
#: h c in MeV cm (for momentum transfer x = sin(theta/2)/lambda)
HC_MEV_CM = 1.23984198e-10
