"""Figures for symmetry discovery: generators, their errors, training curves and signals.

matplotlib is imported inside the functions, never at module import, so the rest of the library
stays usable (and fast to import) without it. Figures are built with the object-oriented API
(:class:`matplotlib.figure.Figure`) rather than pyplot: no global figure registry, nothing to
close, and it works on headless machines without choosing a backend. Every function returns the
figure it drew into; pass ``ax``/``axes`` to draw into an existing figure instead.

The figures of PDE symmetry discovery (:func:`pde_spectrum`, :func:`pde_generator_maps`) live in
:mod:`symmetrykit._plot_pde` and are reached through this module (loaded on first use, so this
file imports nothing of the package at import time); so does the picture of a built-in PDE data
set (:func:`pde_dataset`, in :mod:`symmetrykit._plot_data`). Figures of algebras (generator grids,
spectra, vector fields) and of comparisons (bars, sweep heatmaps, Morris plots) are defined in
:mod:`symmetrykit._plot_algebra` and :mod:`symmetrykit._plot_results` and re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from ._plot_algebra import generator_grid, singular_spectrum, vector_fields
from ._plot_common import (
    _axes_list,
    _index_ticks,
    _matrix,
    _new_figure,
    _pick_rows,
    _samples,
    _single_ax,
    _to_numpy,
)
from ._plot_results import comparison_bars, morris, sweep_heatmap

__all__ = [
    "before_after",
    "comparison_bars",
    "error_histogram",
    "generator_grid",
    "generator_heatmaps",
    "lens_adapter",  # noqa: F822 (module __getattr__)
    "loss_curves",
    "morris",
    "pde_dataset",  # noqa: F822 (module __getattr__)
    "pde_generator_maps",  # noqa: F822 (module __getattr__)
    "pde_spectrum",  # noqa: F822 (module __getattr__)
    "signal_samples",
    "singular_spectrum",
    "sweep_heatmap",
    "vector_fields",
]

_PDE_FIGURES = ("pde_generator_maps", "pde_spectrum")


def __getattr__(name: str) -> Any:
    if name in _PDE_FIGURES:
        from . import _plot_pde

        return getattr(_plot_pde, name)
    if name in ("pde_dataset", "lens_adapter"):
        from . import _plot_data

        return getattr(_plot_data, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")



# --------------------------------------------------------------------------------------------
# generators
# --------------------------------------------------------------------------------------------


def generator_heatmaps(
    learned: Any,
    true: Any = None,
    *,
    axes: Any = None,
    titles: Sequence[str] = ("learned", "true", "error (true − learned)"),
    cmap: str = "RdBu_r",
) -> Figure:
    """Heatmaps of a learned generator, the true one and their difference.

    All panels share one symmetric colour scale (``vmin = -vmax`` with ``vmax`` the largest
    absolute entry shown) and one colour bar, so that colours mean the same in every panel and
    zero is always the neutral colour of a diverging map.

    Parameters
    ----------
    learned
        Square ``(d, d)`` matrix (numpy array or torch tensor).
    true
        Ground-truth matrix of the same shape, or ``None`` to show only ``learned``.
    axes
        One Axes (when ``true`` is None) or three Axes to draw into; a new figure if None.
    titles
        Panel titles, in the order learned, true, error.
    cmap
        A diverging colour map.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If a matrix is not 2-D or not square, the shapes differ, or ``axes`` has the wrong size.
    """
    learned_m = _matrix(learned, "learned")
    panels = [learned_m]
    if true is not None:
        true_m = _matrix(true, "true")
        if true_m.shape != learned_m.shape:
            raise ValueError(f"shapes differ: learned {learned_m.shape} vs true {true_m.shape}")
        panels += [true_m, true_m - learned_m]
    titles = list(titles)
    if len(titles) < len(panels):
        raise ValueError(f"need {len(panels)} titles, got {len(titles)}")

    finite = np.concatenate([p[np.isfinite(p)] for p in panels])
    vmax = float(np.max(np.abs(finite))) if finite.size else 0.0
    # A zero matrix would give an empty colour range; any symmetric range shows it as neutral.
    if vmax == 0.0:
        vmax = 1.0

    if axes is None:
        fig, ax_list = _new_figure(len(panels), panel_size=(3.6, 3.4), extra_width=0.8)
    else:
        ax_list = _axes_list(axes, len(panels))
        fig = ax_list[0].figure

    image = None
    for ax, matrix, title in zip(ax_list, panels, titles, strict=False):
        image = ax.imshow(matrix, cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set_title(title)
        ax.set_xlabel("column")
        ax.set_ylabel("row")
        _index_ticks(ax, matrix.shape)
    fig.colorbar(image, ax=ax_list, shrink=0.85, label="matrix entry")
    return fig




def error_histogram(
    learned: Any,
    true: Any,
    *,
    ax: Any = None,
    bin_width: float = 0.05,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> Figure:
    """Histogram of the entry-wise error ``true − learned``.

    Defaults follow the usual presentation in the literature: bins of width 0.05 over
    ``[-1, 1]``. Errors outside ``value_range`` are clipped into the first or last bin and their
    number is stated in the title, so large errors are never silently dropped.

    Parameters
    ----------
    learned, true
        Arrays (or tensors) of the same shape, typically ``(d, d)`` generators.
    ax
        Axes to draw into; a new figure if None.
    bin_width
        Width of each bin; must divide the range into a whole number of bins.
    value_range
        ``(low, high)`` limits of the histogram.

    Returns
    -------
    matplotlib.figure.Figure
    """
    learned_a = _to_numpy(learned, "learned")
    true_a = _to_numpy(true, "true")
    if learned_a.shape != true_a.shape:
        raise ValueError(f"shapes differ: learned {learned_a.shape} vs true {true_a.shape}")
    low, high = (float(v) for v in value_range)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"value_range must be finite with low < high, got {value_range!r}")
    if not (np.isfinite(bin_width) and bin_width > 0):
        raise ValueError(f"bin_width must be positive, got {bin_width!r}")
    n_bins_float = (high - low) / bin_width
    n_bins = round(n_bins_float)
    if n_bins < 1 or not np.isclose(n_bins_float, n_bins, rtol=0, atol=1e-6):
        raise ValueError(
            f"bin_width {bin_width} does not divide value_range {value_range} into whole bins"
        )
    edges = np.linspace(low, high, n_bins + 1)

    errors = (true_a - learned_a).ravel()
    n_nonfinite = int(np.count_nonzero(~np.isfinite(errors)))
    errors = errors[np.isfinite(errors)]
    n_outside = int(np.count_nonzero((errors < low) | (errors > high)))
    clipped = np.clip(errors, low, high)

    from matplotlib.ticker import MaxNLocator

    fig, ax = _single_ax(ax)
    ax.hist(clipped, bins=edges, color="C0", edgecolor="white", linewidth=0.5)
    ax.set_xlim(low, high)
    ax.set_xlabel("error (true − learned)")
    ax.set_ylabel("number of entries")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    title = f"entry-wise error, bin width {bin_width:g}"
    notes = []
    if n_outside:
        notes.append(f"{n_outside} outside [{low:g}, {high:g}] clipped into end bins")
    if n_nonfinite:
        notes.append(f"{n_nonfinite} non-finite dropped")
    if notes:
        title += "\n(" + "; ".join(notes) + ")"
    ax.set_title(title)
    return fig


# --------------------------------------------------------------------------------------------
# training curves
# --------------------------------------------------------------------------------------------


def _history_columns(history: Any) -> dict[str, list[Any]]:
    if isinstance(history, Mapping):
        return {str(key): list(values) for key, values in history.items()}
    if isinstance(history, Sequence) and not isinstance(history, (str, bytes)):
        names: list[str] = []
        for i, entry in enumerate(history):
            if not isinstance(entry, Mapping):
                raise ValueError(
                    f"history entries must be dicts, entry {i} is {type(entry).__name__}"
                )
            names += [str(k) for k in entry if str(k) not in names]
        # A term missing from some logged steps becomes NaN there, which leaves a gap.
        return {name: [entry.get(name, np.nan) for entry in history] for name in names}
    raise ValueError(
        f"history must be a dict of sequences or a list of dicts, got {type(history).__name__}"
    )


def _float_series(values: Sequence[Any], name: str) -> np.ndarray:
    try:
        series = np.array([float(v) for v in values], dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"history[{name!r}] must hold numbers: {exc}") from exc
    return series


def loss_curves(
    history: Mapping[str, Sequence[float]] | Sequence[Mapping[str, float]],
    *,
    ax: Any = None,
    keys: Sequence[str] | None = None,
    logy: bool = False,
    separate: bool = False,
    events: Mapping[str, float] | None = None,
    title: str | None = None,
    xlabel: str = "step",
) -> Figure:
    """One line per logged loss term against the training step.

    With ``separate=True`` every term gets an axis of its own (stacked, sharing the step axis),
    so terms of very different sizes stay readable. ``events`` marks steps at which training
    changed (a term switched on, a learning-rate drop) with a vertical line on every axis and a
    legend entry, so a jump in the curves is explained on the figure.

    Parameters
    ----------
    history
        Either a dict ``name -> sequence of values`` or a list with one dict per logged step.
        A ``"step"`` entry, if present, is used as the x axis; otherwise the position.
    ax
        Axes to draw into; a new figure if None.
    keys
        Terms to plot, in order; all except ``"step"`` by default.
    logy
        Logarithmic y axis; every plotted finite value must then be positive.
    separate
        One axis per term (a new figure; ``ax`` must then be None).
    events
        ``{description: step}`` of the changes to mark.
    title
        Figure (``separate``) or axes title.
    xlabel
        Label of the step axis (e.g. ``"iteration"``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if separate and ax is not None:
        raise ValueError("separate=True draws a figure of its own; pass ax=None")
    columns = _history_columns(history)
    steps_raw = columns.pop("step", None)
    if keys is None:
        keys = list(columns)
    else:
        keys = [str(k) for k in keys]
        missing = [k for k in keys if k not in columns]
        if missing:
            raise ValueError(f"keys {missing} not in history (available: {sorted(columns)})")
    if not keys:
        raise ValueError("history has nothing to plot")

    series = {key: _float_series(columns[key], key) for key in keys}
    lengths = {len(s) for s in series.values()}
    if len(lengths) != 1:
        raise ValueError(
            "history terms have different lengths: "
            + ", ".join(f"{k}={len(s)}" for k, s in series.items())
        )
    (length,) = lengths
    if steps_raw is None:
        steps = np.arange(length)
    else:
        steps = _float_series(steps_raw, "step")
        if len(steps) != length:
            raise ValueError(f"'step' has length {len(steps)} but the terms have length {length}")
    if logy:
        for key, s in series.items():
            if np.any(s[np.isfinite(s)] <= 0):
                raise ValueError(
                    f"logy=True needs positive values, history[{key!r}] has values <= 0"
                )

    marker = "." if length < 30 else None
    marks = [(str(name), float(step)) for name, step in (events or {}).items()]
    if separate:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.0, 1.2 + 1.5 * len(series)), layout="constrained")
        ax_list = list(fig.subplots(len(series), 1, sharex=True, squeeze=False)[:, 0])
        for i, (axis, (key, s)) in enumerate(zip(ax_list, series.items(), strict=True)):
            axis.plot(steps, s, color=f"C{i % 10}", marker=marker)
            axis.set_ylabel(key)
            axis.grid(True, alpha=0.3)
            if logy:
                axis.set_yscale("log")
        ax_list[-1].set_xlabel(xlabel)
        fig.supylabel("value of each term", fontsize="medium")
        if title:
            fig.suptitle(title)
    else:
        fig, ax = _single_ax(ax)
        ax_list = [ax]
        for key, s in series.items():
            ax.plot(steps, s, label=key, marker=marker)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("value")
        ax.grid(True, alpha=0.3)
        if title:
            ax.set_title(title)
    styles = ("--", ":", "-.")
    for j, (name, step) in enumerate(marks):
        for i, axis in enumerate(ax_list):
            axis.axvline(step, color="black", linestyle=styles[j % len(styles)], linewidth=1.0,
                         label=name if i == 0 else None)
    if separate:
        if marks:
            ax_list[0].legend(loc="best", fontsize="small")
    else:
        ax_list[0].legend(loc="best", fontsize="small")
    return fig


# --------------------------------------------------------------------------------------------
# signals
# --------------------------------------------------------------------------------------------


def signal_samples(
    X: Any,
    *,
    n: int = 9,
    ax: Any = None,
    random_state: Any = None,
    title: str | None = None,
) -> Figure:
    """Line plots of ``n`` randomly chosen rows of ``X`` against pixel index.

    Parameters
    ----------
    X
        ``(n_samples, dim)`` signals.
    n
        Number of rows to show (all rows if fewer).
    ax
        Axes to draw into; a new figure if None.
    random_state
        Seed for a private generator; the global numpy state is not touched.
    title
        Axes title; a default naming the number of samples if None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = _samples(X, "X")
    rows = _pick_rows(data.shape[0], n, random_state)
    pixels = np.arange(data.shape[1])

    fig, ax = _single_ax(ax, panel_size=(7.0, 4.0))
    for row in rows:
        ax.plot(pixels, data[row], linewidth=1.0, label=f"#{row}")
    ax.set_xlabel("pixel index")
    ax.set_ylabel("value")
    ax.set_title(title if title is not None else f"{len(rows)} of {data.shape[0]} samples")
    if len(rows) <= 12:
        ax.legend(loc="best", fontsize="x-small", ncols=min(len(rows), 3))
    return fig


def before_after(
    X: Any,
    Y: Any,
    *,
    n: int = 4,
    axes: Any = None,
    random_state: Any = None,
) -> Figure:
    """Show ``n`` random signals before (``X``) and after (``Y``) a transformation.

    Row ``i`` of ``Y`` is taken to be the transform of row ``i`` of ``X``; a pair is drawn in
    the same colour in both panels.

    Parameters
    ----------
    X, Y
        ``(n_samples, dim)`` arrays of the same shape.
    n
        Number of pairs to show.
    axes
        Two Axes to draw into; a new figure if None.
    random_state
        Seed for a private generator.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = _samples(X, "X")
    y = _samples(Y, "Y")
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: X {x.shape} vs Y {y.shape}")
    rows = _pick_rows(x.shape[0], n, random_state)
    pixels = np.arange(x.shape[1])

    if axes is None:
        fig, ax_list = _new_figure(2, panel_size=(5.0, 3.8))
    else:
        ax_list = _axes_list(axes, 2)
        fig = ax_list[0].figure
    ax_x, ax_y = ax_list
    for colour, row in enumerate(rows):
        ax_x.plot(pixels, x[row], color=f"C{colour % 10}", linewidth=1.0, label=f"#{row}")
        ax_y.plot(pixels, y[row], color=f"C{colour % 10}", linewidth=1.0, label=f"#{row}")
    ax_x.set_title("before (x)")
    ax_y.set_title("after (y)")
    for ax in (ax_x, ax_y):
        ax.set_xlabel("pixel index")
    ax_x.set_ylabel("value")
    if len(rows) <= 12:
        ax_x.legend(loc="best", fontsize="x-small")
    return fig
