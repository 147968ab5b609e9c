"""The package layout: imports point one way along the data flow, and no module imports itself back.

Layers (a package may import only from the layers after it):
cli -> clinical -> transport -> (sources, geometry) -> physics; transport -> results -> geometry;
analysis -> results. ``errors``, ``units`` and the private helpers at the top are importable by all.
Every import statement counts, including those inside functions (lazy imports).
"""

from __future__ import annotations

import ast
import importlib
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "src" / "iortmc"

#: subpackage -> the subpackages it may import
ALLOWED = {
    "physics": set(),
    "sources": {"physics"},
    "geometry": {"physics"},
    "results": {"geometry", "physics", "sources"},
    "transport": {"physics", "geometry", "sources", "results"},
    "analysis": {"results", "geometry", "physics"},
    "clinical": {"physics", "geometry", "sources", "transport", "results", "analysis"},
    "cli": {"physics", "geometry", "sources", "transport", "results", "analysis", "clinical", "dicom"},
    "dicom": {"physics", "geometry", "results"},
}
BASE = {"errors", "units", "_atomic", "_compat", "_html", "__init__"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of the iortmc modules ``path`` imports (a ``from X import y`` counts X and X.y)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("iortmc"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("iortmc"):
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)
    modules = {_module_name(p) for p in ROOT.rglob("*.py")}
    return {m for m in out if m in modules}


def _graph():
    return {_module_name(p): _imports(p) for p in ROOT.rglob("*.py")}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_subpackages_import_only_downstream():
    bad = []
    for mod, deps in _graph().items():
        src = _layer(mod)
        if src in BASE:
            continue
        for dep in deps:
            dst = _layer(dep)
            if dst in BASE or dst == src:
                continue
            if dst not in ALLOWED.get(src, set()):
                bad.append(f"{mod} imports {dep}")
    assert not bad, "imports against the data flow:\n" + "\n".join(sorted(bad))


def test_no_import_cycles():
    graph = _graph()
    # a module's package __init__ is imported with it: count that edge only where __init__ imports back
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if d == m or m.startswith(d + "."):   # a module importing its own package's names
                continue
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_kernels_are_imported_only_by_transport():
    bad = [f"{m} imports {d}" for m, deps in _graph().items() for d in deps
           if ".transport._kernels" in d and not m.startswith("iortmc.transport")]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("old, new, public", [
    ("iortmc.result", "iortmc.results.dose", False),
    ("iortmc.checkpoint", "iortmc.transport.checkpoint", False),
    ("iortmc.case", "iortmc.cli.case", False),
    ("iortmc._kernels.photon", "iortmc.transport._kernels.photon", False),
    ("iortmc.tables", "iortmc.physics.tables", True),
    ("iortmc.plot", "iortmc.analysis.plot", True),
    ("iortmc.applicators", "iortmc.clinical.applicators", True),
])
def test_flat_layout_import_paths_still_work(old, new, public):
    import sys

    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mod = importlib.import_module(old)
    assert mod is importlib.import_module(new)
    assert mod.__spec__.name == new          # one module object, not a second copy under the old name
    moved = [w for w in caught if issubclass(w.category, DeprecationWarning) and new in str(w.message)]
    assert bool(moved) != public


def test_simulate_stays_the_function():
    import iortmc as mc
    from iortmc.simulate import simulate     # the flat layout's module path

    assert callable(mc.simulate) and simulate is mc.simulate
