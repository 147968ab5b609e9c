"""Particle sources: energy spectra and source geometries."""

from .spectrum import Spectrum
from .point import PencilBeam, PointSource
from .electron import ElectronBeam
from .phsp import PhaseSpace, PhaseSpaceSource, read_iaea_phsp, write_iaea_phsp

__all__ = ["Spectrum", "PointSource", "PencilBeam", "ElectronBeam", "PhaseSpace", "PhaseSpaceSource",
           "read_iaea_phsp", "write_iaea_phsp"]
