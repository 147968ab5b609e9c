"""Geometry: the voxel :class:`Phantom`, sub-voxel painting of shapes, and the breast phantom."""

from .phantom import Phantom

__all__ = ["Phantom"]
