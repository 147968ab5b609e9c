"""Photon point sources."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .spectrum import Spectrum

__all__ = ["PointSource", "PencilBeam"]


def _position(value) -> np.ndarray:
    try:
        p = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"position must be 3 numbers (x, y, z) in cm, got {value!r}") from None
    if p.shape != (3,):
        raise InputError(f"position must be 3 numbers (x, y, z) in cm, got {value!r}")
    if not np.all(np.isfinite(p)):
        raise InputError(f"position must be finite, got {tuple(p.tolist())}")
    return p


def _direction(value) -> np.ndarray:
    try:
        d = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"direction must be 3 numbers (u, v, w), got {value!r}") from None
    if d.shape != (3,) or not np.all(np.isfinite(d)):
        raise InputError(f"direction must be 3 finite numbers (u, v, w), got {value!r}")
    n = float(np.linalg.norm(d))
    if n == 0.0:
        raise InputError("direction must not be the zero vector")
    return d / n


def _spectrum(value) -> Spectrum:
    if isinstance(value, Spectrum):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Spectrum.mono(float(value))
    raise InputError(f"spectrum must be an iortmc.Spectrum or an energy in MeV, got {value!r}")


class PointSource:
    """An isotropic point source of photons.

    Parameters
    ----------
    spectrum : Spectrum or float
        Energy spectrum (a float is a single line in MeV).
    position : (x, y, z), cm
        Inside or outside the phantom (outside: straight flight through vacuum to the phantom).
    """

    particle = "photon"
    kind = 0

    def __init__(self, spectrum, position=(0.0, 0.0, 0.0)) -> None:
        self.spectrum = _spectrum(spectrum)
        self.position = _position(position)
        self.direction = np.array([0.0, 0.0, 1.0])

    def describe(self) -> dict:
        return {"type": "PointSource", "particle": self.particle,
                "position_cm": self.position.tolist(), "spectrum": self.spectrum.describe()}

    def __repr__(self) -> str:
        return f"PointSource({self.spectrum!r}, position={tuple(self.position.tolist())} cm)"


class PencilBeam(PointSource):
    """A monodirectional pencil beam of photons from ``position`` along ``direction``."""

    kind = 1

    def __init__(self, spectrum, position=(0.0, 0.0, 0.0), direction=(0.0, 0.0, 1.0)) -> None:
        super().__init__(spectrum, position)
        self.direction = _direction(direction)

    def describe(self) -> dict:
        d = super().describe()
        d.update(type="PencilBeam", direction=self.direction.tolist())
        return d

    def __repr__(self) -> str:
        return (f"PencilBeam({self.spectrum!r}, position={tuple(self.position.tolist())} cm, "
                f"direction={tuple(self.direction.tolist())})")
