"""Sphinx configuration of the iortmc documentation site.

Build: ``python -m pip install -e ".[docs]" && python -m sphinx -W -b html docs docs/_build/html``.
The gallery (docs/gallery/*.py) runs every tutorial script at a small history count while building.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

import iortmc  # noqa: E402

project = "iortmc"
author = "iortmc developers"
copyright = "2026, iortmc developers"
release = iortmc.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "gallery", "_ext", "Thumbs.db", ".DS_Store", "sg_execution_times.rst"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]   # pages start at level 1 and may skip to level 3 in tables of notes

html_theme = "furo"
html_title = f"iortmc {release}"
html_static_path = []

autodoc_typehints = "none"
autodoc_member_order = "bysource"
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set = set()

# The gallery: each tutorial runs with a small history count (IORTMC_GALLERY=1 is read by the scripts'
# HISTORIES line) so that the whole gallery builds in a few minutes on two cores.
os.environ.setdefault("IORTMC_GALLERY", "1")
sphinx_gallery_conf = {
    "examples_dirs": ["gallery"],
    "gallery_dirs": ["tutorials"],
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "image_scrapers": ("iortmc_scraper.figure_scraper",),
    "reset_modules": (),
    "show_memory": False,
    "plot_gallery": "True",
}
