"""The documentation site builds offline with no warnings, its gallery executed (slow).

The build runs on a copy of ``docs/``, ``examples/gallery/`` and ``README.md`` in a temporary
directory, so what it generates (sphinx-gallery's ``auto_examples``, the API pages) never lands
in the repository and parallel test runs cannot collide.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What a build in docs/ generates; a copy of it would only be rebuilt (or be stale).
GENERATED = ("_build", "auto_examples", "generated", "sg_execution_times.rst", "__pycache__")
PAGES = (
    "index.html",
    "getting-started.html",
    "own-data.html",
    "choosing-a-method.html",
    "results.html",
    "architecture.html",
    "api/index.html",
    "api/generated/symmetrykit.html",
    "api/generated/symmetrykit.liederiv.html",
    "auto_examples/index.html",
    "auto_examples/plot_1_symmetrylens.html",
)


@pytest.mark.slow
def test_docs_build_offline_without_warnings(tmp_path: Path) -> None:
    for module in ("sphinx", "myst_parser", "furo", "sphinx_gallery", "sphinx_copybutton"):
        pytest.importorskip(module)
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns(*GENERATED))
    gallery = tmp_path / "examples" / "gallery"
    shutil.copytree(ROOT / "examples" / "gallery", gallery,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "README.md", tmp_path / "README.md")
    sources = sorted(path.name for path in gallery.iterdir())
    html = tmp_path / "html"
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}

    completed = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(tmp_path / "docs"), str(html)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False,
    )

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-6000:]
    for page in PAGES:
        assert (html / page).is_file(), f"{page} was not built"
    # Every gallery example ran and drew its figures.
    examples = sorted(gallery.glob("plot_*.py"))
    assert examples
    for example in examples:
        page = (html / "auto_examples" / f"{example.stem}.html").read_text(encoding="utf-8")
        assert "sphx-glr-single-img" in page or "sphx-glr-multi-img" in page, example.name
    # The site renders offline: no page loads a script or a style sheet from the network.
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', text)
        assert not remote, f"{page.relative_to(html)} loads {remote[0]}"
    # The examples wrote nothing beside themselves.
    assert sorted(path.name for path in gallery.iterdir()) == sources
