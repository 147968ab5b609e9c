"""iortmc: Monte Carlo dose engine for intraoperative radiotherapy.

Public API (see docs/)::

    import iortmc as mc
    water = mc.material("water")
    ph = mc.Phantom.box(shape=(200, 200, 200), voxel_size=0.1, material="water")
    src = mc.PointSource(spectrum=mc.Spectrum.mono(0.05), position=(0, 0, 0))
    res = mc.simulate(ph, src, histories=1_000_000, seed=1)

Heavy modules (numba kernels, plotting) are imported lazily, so ``import iortmc`` stays fast.
"""

from importlib import import_module as _import_module

__version__ = "0.1.0"

import sys as _sys  # noqa: E402

from .errors import DataError, InputError, IortmcError  # noqa: E402
from .physics import materials  # noqa: E402
from .physics.materials import Material, material  # noqa: E402
from . import units  # noqa: E402
from .geometry import Phantom  # noqa: E402
# imported eagerly (no numba at module level); the flat layout's module ``iortmc.simulate`` is
# registered under its old name here, so that the attribute ``iortmc.simulate`` stays the function
from .transport.run import resume, simulate  # noqa: E402
from . import _compat  # noqa: E402

_sys.modules.setdefault("iortmc.simulate", _sys.modules["iortmc.transport.run"])
_compat.install()

_LAZY = {
    "Spectrum": ("iortmc.sources", "Spectrum"),
    "PointSource": ("iortmc.sources", "PointSource"),
    "PencilBeam": ("iortmc.sources", "PencilBeam"),
    "ElectronBeam": ("iortmc.sources", "ElectronBeam"),
    "PhaseSpaceSource": ("iortmc.sources", "PhaseSpaceSource"),
    "read_iaea_phsp": ("iortmc.sources", "read_iaea_phsp"),
    "write_iaea_phsp": ("iortmc.sources", "write_iaea_phsp"),
    "DoseResult": ("iortmc.results", "DoseResult"),
    "load": ("iortmc.results", "load"),
    "merge": ("iortmc.results", "merge"),
    "distributed": ("iortmc.transport.distributed", None),
    "analysis": ("iortmc.analysis", None),
    "plot": ("iortmc.analysis.plot", None),
    "load_case": ("iortmc.cli.case", "load_case"),
    "tables": ("iortmc.physics.tables", None),
    "applicators": ("iortmc.clinical.applicators", None),
    "phantoms": ("iortmc.geometry.phantoms", None),
    "dicom": ("iortmc.dicom", None),
    "commission": ("iortmc.clinical.commission", None),
}

__all__ = ["__version__", "DataError", "InputError", "IortmcError", "Material", "material",
           "materials", "units", "Phantom", "simulate", "resume", *_LAZY]


def __getattr__(name):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'iortmc' has no attribute {name!r}") from None
    mod = _import_module(module)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
