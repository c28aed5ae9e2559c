"""Figures that compare runs: bars of scores, a sweep's heatmap and a Morris plot. Public through
:mod:`symmetrykit.plot`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from ._plot_common import _single_ax

__all__ = ["comparison_bars", "morris", "sweep_heatmap"]


# --------------------------------------------------------------------------------------------
# comparisons
# --------------------------------------------------------------------------------------------


def comparison_bars(labels: Sequence[str], scores: Sequence[Any], *, errors: Any = None,
                    ax: Any = None, ylabel: str = "cos to the minimal generator") -> Figure:
    """Bar chart of one score per method (``None`` scores are drawn as missing bars).

    Parameters
    ----------
    labels, scores
        Method names and their scores (same length).
    errors
        Optional error bars (e.g. the std over seeds), same length.
    ax
        Axes to draw into; a new figure if None.
    ylabel
        Label of the score axis.
    """
    labels = [str(label) for label in labels]
    values = np.array([np.nan if s is None else float(s) for s in scores])
    if len(labels) != len(values) or not labels:
        raise ValueError(f"need one score per label, got {len(labels)} labels and "
                         f"{len(values)} scores")
    err = None if errors is None else np.asarray(errors, dtype=float)
    if err is not None and err.shape != values.shape:
        raise ValueError(f"errors must have shape {values.shape}, got {err.shape}")
    fig, ax = _single_ax(ax, panel_size=(1.2 + 1.1 * len(labels), 3.5))
    positions = np.arange(len(labels))
    ax.bar(positions, np.nan_to_num(values), yerr=err, color=[f"C{i}" for i in positions])
    for x, value in zip(positions, values, strict=True):
        ax.annotate("n/a" if np.isnan(value) else f"{value:.3f}", (x, max(np.nan_to_num(value),
                    0.0)), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(positions)
    ax.set_xticklabels(labels)
    ax.set_ylabel(ylabel)
    ax.set_ylim(min(-0.1, float(np.nanmin(values)) - 0.05) if np.isfinite(values).any()
                else -0.1, 1.1)
    ax.axhline(0.0, color="black", linewidth=0.5)
    return fig


def sweep_heatmap(summary: Sequence[Mapping[str, Any]], x: str, y: str, *, value: str = "mean",
                  ax: Any = None, vmin: float | None = None,
                  vmax: float | None = None) -> Figure:
    """Heatmap of a sweep summary over two varied parameters (e.g. ``SweepResult.summary()``).

    Every cell is written with its value. The colour range is fixed to ``[0, 1]`` when the
    drawn statistic is a mean, minimum or maximum and every value lies in ``[0, 1]`` (cosines,
    recoveries, projections, accuracies): colours then mean the same in every sweep, and 0.992
    and 0.996 look alike, as they should. Otherwise it is the values' own range; ``vmin`` and
    ``vmax`` override either.

    Parameters
    ----------
    summary
        Cells with keys ``x``, ``y`` and ``value`` (one cell per pair; a missing pair is blank).
    x, y
        The parameters on the horizontal and vertical axis.
    value
        The statistic drawn and written in each cell (default the mean over seeds).
    ax
        Axes to draw into; a new figure if None.
    vmin, vmax
        Limits of the colour range (default: see above).
    """
    cells = list(summary)
    if not cells:
        raise ValueError("the summary is empty: nothing to draw")
    for name in (x, y, value):
        if any(name not in cell for cell in cells):
            raise ValueError(f"every summary cell needs {name!r}; cells have "
                             f"{sorted(cells[0])}")
    xs = list(dict.fromkeys(cell[x] for cell in cells))
    ys = list(dict.fromkeys(cell[y] for cell in cells))
    try:
        xs, ys = sorted(xs), sorted(ys)
    except TypeError:  # mixed types: keep the order the sweep ran them in
        pass
    grid = np.full((len(ys), len(xs)), np.nan)
    for cell in cells:
        v = cell[value]
        if v is not None:
            grid[ys.index(cell[y]), xs.index(cell[x])] = float(v)
    finite = grid[np.isfinite(grid)]
    score = (value in ("mean", "min", "max") and finite.size > 0
             and float(finite.min()) >= 0.0 and float(finite.max()) <= 1.0)
    low = (0.0 if score else None) if vmin is None else float(vmin)
    high = (1.0 if score else None) if vmax is None else float(vmax)
    fig, ax = _single_ax(ax, panel_size=(2.4 + 0.9 * len(xs), 1.6 + 0.6 * len(ys)))
    image = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower", vmin=low, vmax=high)
    norm, cmap = image.norm, image.get_cmap()
    for (i, j), v in np.ndenumerate(grid):
        if np.isfinite(v):
            # Dark text on the light (yellow) end of viridis, white on the dark end.
            red, green, blue, _ = cmap(norm(v))
            light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
            ax.text(j, i, f"{v:.3f}" if score else f"{v:.3g}", ha="center", va="center",
                    fontsize=8, color="black" if light else "white")
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels([f"{v:g}" if isinstance(v, float) else str(v) for v in xs])
    ax.set_yticks(range(len(ys)))
    ax.set_yticklabels([f"{v:g}" if isinstance(v, float) else str(v) for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    metric = cells[0].get("metric", "")
    what = f"{metric} ({value} over seeds)" if metric else value
    data = list(dict.fromkeys(str(cell["data"]) for cell in cells if "data" in cell))
    title = f"Sweep: {what} by {x} and {y}"
    if len(data) == 1:
        title += f"\non {data[0]}"
    ax.set_title(title, fontsize="medium")
    ax.figure.colorbar(image, ax=ax, label=what)
    return fig


def morris(result: Any, *, ax: Any = None) -> Figure:
    """Morris μ* against σ, one labelled point per parameter, with μ*'s confidence interval.

    Parameters
    ----------
    result
        A :class:`symmetrykit.sweeps.MorrisResult` (``names``, ``mu_star``, ``sigma``,
        ``mu_star_conf``).
    ax
        Axes to draw into; a new figure if None.
    """
    mu_star = np.asarray(result.mu_star, dtype=float)
    sigma = np.asarray(result.sigma, dtype=float)
    conf = np.asarray(result.mu_star_conf, dtype=float)
    fig, ax = _single_ax(ax, panel_size=(5.5, 4.5))
    ax.errorbar(mu_star, sigma, xerr=conf, fmt="o", capsize=3)
    for name, u, s in zip(result.names, mu_star, sigma, strict=True):
        ax.annotate(name, (u, s), textcoords="offset points", xytext=(4, 4), fontsize=8)
    top = float(max(np.max(mu_star + conf), np.max(sigma), 1e-12)) * 1.15
    ax.plot([0, top], [0, top], color="grey", linewidth=0.6, linestyle="--")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("μ* (mean |elementary effect|)")
    ax.set_ylabel("σ (spread of the effects)")
    ax.set_title(f"Morris: {result.metric} on {result.data}")
    return fig


