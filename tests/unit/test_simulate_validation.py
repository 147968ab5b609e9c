"""simulate() rejects every bad argument with an InputError before any kernel runs."""

import numpy as np
import pytest

import iortmc as mc
from iortmc import InputError

PH = mc.Phantom.box(shape=(4, 4, 4), voxel_size=0.5)
SRC = mc.PointSource(mc.Spectrum.mono(0.05), (0, 0, 0))


@pytest.mark.parametrize("kwargs,match", [
    (dict(histories=0), "histories must be"),
    (dict(histories=-10), "histories must be"),
    (dict(histories=10.5), "histories must be an integer"),
    (dict(histories="100"), "histories must be an integer"),
    (dict(histories=100, seed=-1), "seed"),
    (dict(histories=100, threads=0), "threads"),
    (dict(histories=100, threads=10_000), "threads"),
    (dict(histories=100, batches=0), "batches"),
    (dict(histories=100, scoring="tracklength"), "scoring"),
    (dict(histories=100, photon_cutoff=0.0), "photon_cutoff"),
    (dict(histories=100, photon_cutoff=float("nan")), "photon_cutoff"),
    (dict(histories=100, variance_reduction=True), "unknown option"),
])
def test_bad_arguments(kwargs, match, monkeypatch):
    from iortmc.transport._kernels import transport

    def boom(*a, **k):  # any kernel call would be a failure of validation order
        raise AssertionError("kernel ran before validation")

    monkeypatch.setattr(transport, "run_wave", boom)
    with pytest.raises(InputError, match=match):
        mc.simulate(PH, SRC, **kwargs)


def test_bad_phantom_and_source_objects():
    with pytest.raises(InputError, match="phantom"):
        mc.simulate("water", SRC, histories=10)
    with pytest.raises(InputError, match="source"):
        mc.simulate(PH, (0, 0, 0), histories=10)


def test_phantom_edited_in_place_is_rechecked():
    ph = mc.Phantom.box(shape=(4, 4, 4), voxel_size=0.5)
    ph.density[0, 0, 0] = -1.0
    with pytest.raises(InputError, match="density"):
        mc.simulate(ph, SRC, histories=10)
    ph = mc.Phantom.box(shape=(4, 4, 4), voxel_size=0.5)
    ph.density[1, 1, 1] = np.nan
    with pytest.raises(InputError, match="finite"):
        mc.simulate(ph, SRC, histories=10)


def test_defaults_kerma_below_200_keV_and_analog_above():
    r = mc.simulate(PH, SRC, histories=100, seed=1)
    assert r.options["scoring"] == "kerma"
    r = mc.simulate(PH, mc.PointSource(1.0, (0, 0, 0)), histories=100, seed=1)
    assert r.options["scoring"] == "analog"
    assert r.histories == 100 and r.dose.shape == (4, 4, 4)
    assert r.timing["wall_s"] > 0
