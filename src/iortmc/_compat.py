"""Import paths of the flat layout (``iortmc.result``, ``iortmc._kernels.photon``, ...) kept working.

The modules now live in subpackages (physics, geometry, sources, clinical, transport, results,
analysis, cli). A meta-path finder maps each old dotted name onto the module's new home, so user code
written against the flat layout still imports; names that were never public warn that they moved.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: old module name (under ``iortmc.``) -> new module name; a prefix maps its submodules too
MOVED = {
    "materials": "physics.materials",
    "_library": "physics._library",
    "_elements": "physics._elements",
    "tables": "physics.tables",
    "_stopping": "physics._stopping",
    "electron_tables": "physics.electron_tables",
    "phantoms": "geometry.phantoms",
    "applicators": "clinical.applicators",
    "checkpoint": "transport.checkpoint",
    "distributed": "transport.distributed",
    "_kernels": "transport._kernels",
    "result": "results.dose",
    "plot": "analysis.plot",
    "case": "cli.case",
    "cli_run": "cli.run",
    "validate": "cli.validate",
}
#: modules that are public attributes of ``iortmc`` (``mc.plot``): importing them by the old name is fine
PUBLIC = {"materials", "tables", "phantoms", "applicators", "distributed", "plot"}


def new_name(fullname: str) -> str | None:
    """The new home of ``fullname`` if it is a moved module name, else None."""
    if not fullname.startswith("iortmc."):
        return None
    rest = fullname[len("iortmc."):]
    head, _, tail = rest.partition(".")
    if head not in MOVED:
        return None
    return "iortmc." + MOVED[head] + ("." + tail if tail else "")


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module):
        # the import system has just set __spec__ to the alias spec; the module keeps its real one
        module.__spec__ = self._spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = new_name(fullname)
        if new is None:
            return None
        old_head = fullname.split(".")[1]
        if old_head not in PUBLIC:
            warnings.warn(f"{fullname} moved to {new}; the old import path will be removed in a future "
                          "release", DeprecationWarning, stacklevel=2)
        return importlib.util.spec_from_loader(fullname, _Alias(new))


def install() -> None:
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
