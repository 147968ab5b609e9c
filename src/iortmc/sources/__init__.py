"""Particle sources: energy spectra and source geometries."""

from .spectrum import Spectrum
from .point import PencilBeam, PointSource

__all__ = ["Spectrum", "PointSource", "PencilBeam"]
