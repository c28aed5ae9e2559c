"""Sphinx configuration of the symmetrykit documentation site.

Build (offline, warnings as errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The site builds and renders without network access: intersphinx is not loaded, no page
contains math (so the MathJax script that Sphinx would take from a CDN is never referenced;
``tests/test_docs.py`` checks that no page loads anything remote), and furo's styles and
scripts are copied into the site (system fonts, no web fonts). The gallery
(``examples/gallery``) is executed at build time by sphinx-gallery; the API pages are written
from each module's ``__all__`` by ``docs/_ext/api_pages.py``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the gallery's figures are saved, never shown

import symmetrykit  # noqa: E402

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))  # the API page generator and the gallery's scraper

import api_pages  # noqa: E402

# -- project -----------------------------------------------------------------------------------
project = "symmetrykit"
author = "the symmetrykit authors"
copyright = "the symmetrykit authors"  # noqa: A001 (Sphinx's name)
release = symmetrykit.__version__
version = ".".join(release.split(".")[:2])

# -- extensions --------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    # napoleon rather than numpydoc: the docstrings are NumPy style but often free-form
    # (parameters without types, "Returns" with a bare type or a tuple description, extra prose
    # sections); numpydoc validates and rewrites them strictly and rejects several of these
    # forms, while napoleon renders them as written.
    "sphinx.ext.napoleon",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
]

smartquotes = False  # included README tables hold JSON and command lines: keep them verbatim
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# The build's outputs, the helpers, and sphinx-gallery's timing pages (generated, orphans).
exclude_patterns = ["_build", "_ext", "_static", "sg_execution_times.rst",
                    "**/sg_execution_times.rst"]

# -- MyST --------------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3  # README-style links to "#a-section" resolve inside a page

# -- autodoc / napoleon ------------------------------------------------------------------------
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "groupwise"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_class_signature = "mixed"
autosummary_generate = False  # the API pages are written by docs/_ext/api_pages.py
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True
python_use_unqualified_type_names = True

# -- HTML --------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"symmetrykit {release}"
html_static_path = ["_static"]
html_css_files = ["tables.css"]
html_show_sourcelink = False
html_theme_options = {"navigation_with_keys": True}

copybutton_prompt_text = r"\$ |>>> |\.\.\. "
copybutton_prompt_is_regexp = True

# -- sphinx-gallery ----------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples/gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # execute every example (all are named plot_*.py)
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "plot_gallery": True,
    # Figures drawn by symmetrykit.plot (matplotlib's object-oriented API, no pyplot registry)
    # are collected from the example's variables; pyplot figures as usual.
    "image_scrapers": ("matplotlib", "gallery_figures.scrape_figures"),
    "download_all_examples": False,
    "remove_config_comments": True,
    "write_computation_times": True,
    "show_memory": False,
    "show_signature": False,
    "min_reported_time": 1,
    "capture_repr": (),
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
}

# One BLAS/torch thread (set before api_pages imports torch): the gallery's timings are those
# of one core, and the build leaves the machine's other cores alone. An explicit setting wins.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")

# -- the API pages -----------------------------------------------------------------------------
api_pages.write_pages(DOCS / "api" / "generated")


def _skip_member(app, what, name, obj, skip, options):  # noqa: ARG001 (Sphinx's signature)
    # scikit-learn adds set_fit_request & co. to every estimator (metadata routing); they are
    # not symmetrykit's API, and their docstrings refer to scikit-learn's own glossary.
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def _flat_namespace(app, env, node, contnode):
    # ``symmetrykit.SymmetryLens`` (the flat namespace, as users write it) resolves to the entry
    # in its module, e.g. ``symmetrykit.lens.SymmetryLens``.
    if node.get("refdomain") != "py":
        return None
    home = api_pages.FLAT_HOMES.get(node.get("reftarget", ""))
    if home is None:
        return None
    return env.domains["py"].resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                          home, node, contnode)


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("missing-reference", _flat_namespace)
