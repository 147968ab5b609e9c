"""iortmc: Monte Carlo dose engine for intraoperative radiotherapy.

Public API (see docs/ and ../shared/DESIGN.md)::

    import iortmc as mc
    water = mc.material("water")
    ph = mc.Phantom.box(shape=(200, 200, 200), voxel_size=0.1, material="water")
    src = mc.PointSource(spectrum=mc.Spectrum.mono(0.05), position=(0, 0, 0))
    res = mc.simulate(ph, src, histories=1_000_000, seed=1)

Heavy modules (numba kernels, plotting) are imported lazily, so ``import iortmc`` stays fast.
"""

from importlib import import_module as _import_module

__version__ = "0.1.0"

from .errors import DataError, InputError, IortmcError  # noqa: E402
from .materials import Material, material  # noqa: E402
from . import materials, units  # noqa: E402
from .geometry import Phantom  # noqa: E402
# imported eagerly (it imports no numba at module level) so that the function, not the module of the
# same name, is what `iortmc.simulate` refers to whatever else imports iortmc.simulate first
from .simulate import simulate  # noqa: E402

_LAZY = {
    "Spectrum": ("iortmc.sources", "Spectrum"),
    "PointSource": ("iortmc.sources", "PointSource"),
    "PencilBeam": ("iortmc.sources", "PencilBeam"),
    "ElectronBeam": ("iortmc.sources", "ElectronBeam"),
    "PhaseSpaceSource": ("iortmc.sources", "PhaseSpaceSource"),
    "read_iaea_phsp": ("iortmc.sources", "read_iaea_phsp"),
    "write_iaea_phsp": ("iortmc.sources", "write_iaea_phsp"),
    "DoseResult": ("iortmc.result", "DoseResult"),
    "load": ("iortmc.result", "load"),
    "merge": ("iortmc.result", "merge"),
    "resume": ("iortmc.checkpoint", "resume"),
    "distributed": ("iortmc.distributed", None),
    "analysis": ("iortmc.analysis", None),
    "plot": ("iortmc.plot", None),
    "load_case": ("iortmc.case", "load_case"),
    "tables": ("iortmc.tables", None),
    "applicators": ("iortmc.applicators", None),
    "phantoms": ("iortmc.phantoms", None),
    "dicom": ("iortmc.dicom", None),
}

__all__ = ["__version__", "DataError", "InputError", "IortmcError", "Material", "material",
           "materials", "units", "Phantom", "simulate", *_LAZY]


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
