"""Physics data: materials and the built-in library, element interaction data, per-material photon
tables, stopping powers and the electron condensed-history tables."""

from .materials import Material, material

__all__ = ["Material", "material"]
