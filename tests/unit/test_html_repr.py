"""Jupyter summaries: Material, Phantom, Spectrum and DoseResult render a short, escaped HTML table."""

import numpy as np

import iortmc as mc


def test_material_phantom_spectrum_html():
    water = mc.material("water")
    h = water._repr_html_()
    assert "<table>" in h and "75 eV" in h and "H 0.1119" in h
    ph = mc.Phantom.box((4, 5, 6), 0.2, "water")
    ph.paint_box((-0.2, -0.2, -0.2), (0.2, 0.2, 0.2), "air")
    h = ph._repr_html_()
    assert "(4, 5, 6)" in h and "air" in h and "water" in h
    sp = mc.Spectrum(energies=[0.03, 0.05], weights=[1, 1], name="<two lines>")
    h = sp._repr_html_()
    assert "&lt;two lines&gt;" in h and "40 keV" in h      # names are escaped; mean energy shown


def test_dose_result_html_names_the_maximum():
    ph = mc.Phantom.box((5, 5, 5), 0.2, "water", origin=(-0.5, -0.5, -0.5))
    res = mc.simulate(ph, mc.PointSource(mc.Spectrum.mono(0.05), (0.0, 0.0, 0.0)), 500, seed=3, threads=1)
    h = res._repr_html_()
    i = np.unravel_index(np.argmax(res.dose), res.dose.shape)
    assert "500" in h and f"{res.dose[i]:.4g}" in h and "PointSource" in h
