"""Every examples/*.py runs at a tiny history count (STYLE.md: examples run in the test suite)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from iortmc import load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
SMALL = {"point_source_water.py": ["--size-cm", "8", "--voxel-cm", "0.4"]}


def test_examples_exist():
    names = {p.name for p in EXAMPLES}
    assert {"point_source_water.py", "breast_cavity.py"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, tmp_path):
    """Each example as a script in a fresh interpreter (as a user runs it), at 3000 histories."""
    out = tmp_path / "result.h5"
    cmd = [sys.executable, str(path), "--histories", "3000", "--output", str(out), "--threads", "1",
           *SMALL.get(path.name, [])]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = load(out)
    assert res.histories == 3000 and res.dose.max() > 0
    assert "histories" in proc.stdout
