"""numba-compiled transport kernels. Imported only by :mod:`iortmc.simulate` and tests."""
