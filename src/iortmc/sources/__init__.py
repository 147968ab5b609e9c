"""Particle sources: energy spectra and source geometries."""

from .spectrum import Spectrum
from .point import PencilBeam, PointSource
from .electron import ElectronBeam

__all__ = ["Spectrum", "PointSource", "PencilBeam", "ElectronBeam"]
