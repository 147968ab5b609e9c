"""Exceptions raised by iortmc.

Every error raised because of what a user passed in is an :class:`InputError`
(a ``ValueError``), and its message names the parameter, the bad value and what
was expected. Problems with shipped or cached data files are :class:`DataError`.
"""


class IortmcError(Exception):
    """Base class of every iortmc exception."""


class InputError(IortmcError, ValueError):
    """A user-supplied value is invalid (raised before any kernel runs)."""


class DataError(IortmcError, RuntimeError):
    """A data file (shipped interaction data, cache or result file) is missing or invalid."""
