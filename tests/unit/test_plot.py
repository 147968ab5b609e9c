"""iortmc.analysis.plot writes non-empty images (skipped without matplotlib)."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import iortmc as mc  # noqa: E402
from iortmc import plot  # noqa: E402
from iortmc.errors import InputError  # noqa: E402
from iortmc.results.dose import DoseResult  # noqa: E402


def _result(seed=0):
    """A synthetic result: D ~ exp(-r)/r^2 about the centre of an 11^3 grid, 5 % noise."""
    ph = mc.Phantom.box(shape=(11, 11, 11), voxel_size=0.2, material="water")
    ph.paint_sphere((0, 0, 0), 0.3, "air")
    x, y, z = ph.centers()
    zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
    r = np.sqrt(xx**2 + yy**2 + zz**2) + 0.05
    d = np.exp(-r) / r**2
    n = 100
    rng = np.random.default_rng(seed)
    s1 = d * n * (1 + 0.01 * rng.standard_normal(d.shape))
    s2 = s1**2 / n * 1.05
    return DoseResult(s1, s2, n, ph, source={"type": "PointSource", "position_cm": [0, 0, 0]})


def _png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000


def test_all_figures(tmp_path):
    r = _result()
    plot.depth_dose(r, tmp_path / "dd.png")
    plot.depth_dose(r, tmp_path / "dd_abs.png", normalize=None, axis="x")
    plot.profile(r, tmp_path / "pr.png", axis="y", point=(0.1, 0, 0), normalize=0.0)
    plot.radial_dose(r, tmp_path / "rad.png")
    plot.radial_dose(r, tmp_path / "rad2.png", r2=True)
    plot.isodose(r, tmp_path / "iso.png", axis="z", value=0.0)
    plot.isodose(r, tmp_path / "iso_x.png", axis="x", value=0.3, reference=(0.5, 0, 0), max_rel_unc=0.5)
    for kind in ("depth", "profile", "radial"):
        plot.compare(r, _result(1), tmp_path / f"cmp_{kind}.png", kind=kind, labels=("a", "b"))
    for p in tmp_path.iterdir():
        _png(p)


def test_returns_figure_without_path_and_draws_into_axes():
    r = _result()
    fig = plot.radial_dose(r)
    assert fig.axes and fig.axes[0].get_yscale() == "log"
    fig2 = plot.depth_dose(r, ax=fig.axes[0], label="again")
    assert fig2 is fig


def test_bad_arguments(tmp_path):
    r = _result()
    with pytest.raises(InputError, match="outside the phantom"):
        plot.isodose(r, axis="z", value=5.0)
    with pytest.raises(InputError, match="axis"):
        plot.isodose(r, axis="w")
    with pytest.raises(InputError, match="kind"):
        plot.compare(r, r, kind="spiral")
    with pytest.raises(InputError, match="normalize"):
        plot.depth_dose(r, normalize="min")
    with pytest.raises(InputError, match="does not exist"):
        plot.depth_dose(r, tmp_path / "missing" / "x.png")
