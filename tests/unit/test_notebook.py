"""The example notebook runs (its code cells executed in order, with a tiny history count)."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_tour_notebook_runs(tmp_path, monkeypatch):
    nb = json.loads((ROOT / "examples" / "quick_tour.ipynb").read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert code[0].startswith("HISTORIES =")
    code[0] = "HISTORIES = 2000"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for cell in code:
        exec(compile(cell, "quick_tour.ipynb", "exec"), namespace)
    assert namespace["res"].histories == 2000
