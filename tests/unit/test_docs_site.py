"""The documentation site builds with no warning (warnings are errors), gallery included.

The same command a user runs (README, docs/conf.py): ``python -m sphinx -W -b html docs OUT``. The gallery
runs every tutorial with a small history count (IORTMC_GALLERY=1), so a tutorial that stops working
fails this test, and so does a broken cross-reference or a docstring that no longer parses.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_site_builds_without_warnings(tmp_path):
    env = dict(os.environ, IORTMC_GALLERY="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    # run_stale_examples: run every tutorial again, even if its script did not change since the last build
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
                           "-D", "sphinx_gallery_conf.run_stale_examples=True",
                           "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(tmp_path / "html")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    html = tmp_path / "html"
    for page in ("index.html", "getting-started.html", "api/index.html", "tutorials/index.html",
                 "electron-physics.html", "benchmarks.html"):
        assert (html / page).is_file(), page
    tutorials = sorted((html / "tutorials").glob("plot_*.html"))
    assert len(tutorials) >= 5
    for page in tutorials:                      # every tutorial ran and shows at least one figure
        assert "<img" in page.read_text(), page.name
