"""A sphinx-gallery image scraper for the figures that ``symmetrykit.plot`` returns.

``symmetrykit.plot`` builds figures with matplotlib's object-oriented API
(``matplotlib.figure.Figure``), which pyplot does not track, so sphinx-gallery's own matplotlib
scraper never sees them. This scraper saves every ``Figure`` that an example holds in a
top-level variable (also inside a list, tuple or dict) after each code block, once each, in the
order the variables were first assigned.
"""

from __future__ import annotations

import weakref
from pathlib import PurePosixPath
from typing import Any

_SAVED: weakref.WeakSet = weakref.WeakSet()


def _figures(values: Any) -> list[Any]:
    from matplotlib.figure import Figure

    found = []
    for value in values:
        if isinstance(value, Figure):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found += [item for item in value if isinstance(item, Figure)]
        elif isinstance(value, dict):
            found += [item for item in value.values() if isinstance(item, Figure)]
    return found


def _alt_text(figure: Any) -> str:
    titles = [figure.get_suptitle()] if hasattr(figure, "get_suptitle") else []
    titles += [ax.get_title() for ax in figure.axes]
    return "; ".join(title for title in titles if title) or "figure"


def scrape_figures(block: Any, block_vars: dict, gallery_conf: dict, **kwargs: Any) -> str:
    """Save the example's new ``Figure`` objects and return the reST that shows them."""
    from sphinx_gallery.scrapers import figure_rst

    new = []
    for figure in _figures(list(block_vars["example_globals"].values())):
        if figure not in _SAVED and all(figure is not other for other in new):
            new.append(figure)
    paths, titles = [], []
    for figure, path in zip(new, block_vars["image_path_iterator"], strict=False):
        figure.savefig(path)  # the library lays its figures out itself (no tight box)
        _SAVED.add(figure)
        paths.append(PurePosixPath(path))
        titles.append(_alt_text(figure))
    if not paths:
        return ""
    return figure_rst(paths, gallery_conf["src_dir"], fig_titles="; ".join(titles))
