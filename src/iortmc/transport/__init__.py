"""Transport: :func:`simulate` validates a problem, packs it into kernel arrays and runs the numba
kernels (``transport._kernels``, the only place with compiled code) in batches over threads, with
checkpoints and Dask as ways of executing the same batches."""

from .run import resume, simulate

__all__ = ["simulate", "resume"]
