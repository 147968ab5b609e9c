"""Results: :class:`DoseResult`, merging, and the versioned HDF5 result format."""

from .dose import DoseResult, ScaledDose, TreatmentTime, load, merge

__all__ = ["DoseResult", "ScaledDose", "TreatmentTime", "load", "merge"]
