"""The ``iortmc`` command, case files and the validation report."""

from .main import main

__all__ = ["main"]
