"""Figures for symmetry discovery: generators, their errors, training curves and signals.

matplotlib is imported inside the functions, never at module import, so the rest of the library
stays usable (and fast to import) without it. Figures are built with the object-oriented API
(:class:`matplotlib.figure.Figure`) rather than pyplot: no global figure registry, nothing to
close, and it works on headless machines without choosing a backend. Every function returns the
figure it drew into; pass ``ax``/``axes`` to draw into an existing figure instead.

The figures of PDE symmetry discovery (:func:`pde_spectrum`, :func:`pde_generator_maps`) live in
:mod:`symmetrykit._plot_pde` and are reached through this module (loaded on first use, so this
file imports nothing of the package at import time); so does the picture of a built-in PDE data
set (:func:`pde_dataset`, in :mod:`symmetrykit._plot_data`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "before_after",
    "comparison_bars",
    "error_histogram",
    "generator_heatmaps",
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
    if name == "pde_dataset":
        from . import _plot_data

        return _plot_data.pde_dataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _to_numpy(value: Any, name: str) -> np.ndarray:
    # Duck-typed so torch never has to be imported here.
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu()
    array = np.asarray(value)
    if np.iscomplexobj(array):
        raise ValueError(f"{name} is complex; plot its .real or .imag part")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    return array.astype(float, copy=False)


def _matrix(value: Any, name: str) -> np.ndarray:
    array = _to_numpy(value, name)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {array.shape}")
    if array.shape[0] != array.shape[1]:
        raise ValueError(f"{name} must be square, got shape {array.shape}")
    return array


def _samples(value: Any, name: str) -> np.ndarray:
    array = _to_numpy(value, name)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, dim), got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {array.shape}")
    return array


def _new_figure(n_panels: int, *, panel_size: tuple[float, float], extra_width: float = 0.0):
    from matplotlib.figure import Figure

    width = panel_size[0] * n_panels + extra_width
    fig = Figure(figsize=(width, panel_size[1]), layout="constrained")
    axes = fig.subplots(1, n_panels, squeeze=False)[0]
    return fig, list(axes)


def _axes_list(axes: Any, expected: int, name: str = "axes") -> list[Axes]:
    # A single Axes, a list of them, or the ndarray that Figure.subplots returns.
    if hasattr(axes, "figure") and hasattr(axes, "plot"):
        items = [axes]
    else:
        items = list(np.ravel(np.asarray(axes, dtype=object)))
    if len(items) != expected:
        raise ValueError(f"{name} must hold {expected} Axes, got {len(items)}")
    return items


def _single_ax(ax: Any, *, panel_size: tuple[float, float] = (6.0, 4.0)):
    if ax is None:
        fig, axes = _new_figure(1, panel_size=panel_size)
        return fig, axes[0]
    return ax.figure, ax


def _pick_rows(n_rows: int, n: int, random_state: Any) -> np.ndarray:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    rng = np.random.default_rng(random_state)
    chosen = rng.choice(n_rows, size=min(int(n), n_rows), replace=False)
    # Sorted so the legend reads in data order.
    return np.sort(chosen)


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
    fig.colorbar(image, ax=ax_list, shrink=0.85)
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
) -> Figure:
    """One line per logged loss term against the training step.

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

    Returns
    -------
    matplotlib.figure.Figure
    """
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

    fig, ax = _single_ax(ax)
    for key, s in series.items():
        ax.plot(steps, s, label=key, marker="." if length < 30 else None)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("value")
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
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
                  ax: Any = None) -> Figure:
    """Heatmap of a sweep summary over two varied parameters (e.g. ``SweepResult.summary()``).

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
    fig, ax = _single_ax(ax, panel_size=(1.5 + 0.9 * len(xs), 1.2 + 0.6 * len(ys)))
    image = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    for (i, j), v in np.ndenumerate(grid):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=8, color="white")
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels([f"{v:g}" if isinstance(v, float) else str(v) for v in xs])
    ax.set_yticks(range(len(ys)))
    ax.set_yticklabels([f"{v:g}" if isinstance(v, float) else str(v) for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    metric = cells[0].get("metric", "")
    ax.set_title(f"{metric} ({value})" if metric else value)
    ax.figure.colorbar(image, ax=ax)
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


def singular_spectrum(
    singular_values: Any, nullity: int | None = None, *, ax: Any = None, floor: float = 1e-18
) -> Figure:
    """The ascending singular spectrum of a Lie-derivative operator on a log scale.

    The first ``nullity`` values (the symmetries found) are drawn in a second colour, so the gap
    that separates them from the rest is visible. Exact zeros are drawn at ``floor``.

    Parameters
    ----------
    singular_values
        1-D array, ascending (e.g. :attr:`symmetrykit.liederiv.LieDiscovery.singular_values`).
    nullity
        How many leading values count as symmetries (``None``: no highlighting).
    ax
        Axes to draw into; a new figure if None.
    floor
        Positive value at which zeros are drawn.
    """
    values = _to_numpy(singular_values, "singular_values")
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"singular_values must be a non-empty 1-D array, got shape {values.shape}")
    if np.any(values < 0):
        raise ValueError("singular values must be non-negative")
    if nullity is not None and not 0 <= nullity <= values.size:
        raise ValueError(f"nullity must be in [0, {values.size}], got {nullity}")
    fig, ax = _single_ax(ax, panel_size=(max(4.0, 0.25 * values.size + 2.0), 3.5))
    shown = np.maximum(values, floor)
    index = np.arange(1, values.size + 1)
    k = nullity or 0
    ax.semilogy(index[k:], shown[k:], "o", color="C0", label="broken")
    if k:
        ax.semilogy(index[:k], shown[:k], "o", color="C3", label="symmetries")
        ax.axvline(k + 0.5, color="gray", linestyle="--", linewidth=0.8)
    ax.set_xlabel("candidate (most symmetric first)")
    ax.set_ylabel("relative singular value")
    ax.legend(loc="lower right", fontsize=8)
    return fig


# --------------------------------------------------------------------------------------------
# vector fields
# --------------------------------------------------------------------------------------------


def vector_fields(
    fields: Sequence[Any],
    names: Sequence[str] | None = None,
    *,
    plane: tuple[int, int] = (0, 1),
    base_point: Sequence[float] | None = None,
    limits: Sequence[tuple[float, float]] = ((0.0, 1.0), (0.0, 1.0)),
    n: int = 15,
    axes: Any = None,
    ncols: int = 4,
    labels: Sequence[str] | None = None,
    cmap: str | None = None,
) -> Figure:
    """Quiver plots of vector fields on a 2-D slice, one panel per field.

    Arrows show the two in-plane components of each field on an ``n x n`` grid of the plane
    coordinates; for 3-D fields the background colour is the remaining (out-of-plane) component,
    on a symmetric scale per panel with its own colour bar; for 2-D fields it is the arrow
    length. Arrows are scaled per panel so the longest spans about one grid cell (learned fields
    have an arbitrary overall scale); a field without in-plane part shows colour only.

    Parameters
    ----------
    fields
        Callables ``points (N, D) -> values (N, D)`` with ``D`` 2 or 3 (numpy in and out),
        e.g. ``GeneratorFlow.generators_``.
    names
        Panel titles; ``"field k"`` by default.
    plane
        The two coordinates spanning the slice (the panel's x and y axes).
    base_point
        Length-``D`` point whose other coordinates fix the slice (e.g. ``u_n`` for PDE fields);
        zeros by default. Its plane coordinates are ignored.
    limits
        ``((lo, hi), (lo, hi))`` of the two plane coordinates.
    n
        Grid points per plane axis (>= 2).
    axes
        One Axes per field to draw into; a new figure (``ncols`` panels per row) if None.
    ncols
        Panels per row of a new figure.
    labels
        Names of the ``D`` coordinates (axis labels, colour-bar label); ``z0, z1, ...`` by
        default.
    cmap
        Colour map of the background; ``"RdBu_r"`` (out-of-plane component) or ``"viridis"``
        (length) by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fields = list(fields)
    if not fields or not all(callable(f) for f in fields):
        raise ValueError("fields must be a non-empty sequence of callables (N, D) -> (N, D)")
    names = [f"field {k}" for k in range(len(fields))] if names is None else list(names)
    if len(names) != len(fields):
        raise ValueError(f"need one name per field, got {len(names)} names for "
                         f"{len(fields)} fields")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    plane = tuple(int(p) for p in plane)
    limits = [tuple(float(v) for v in pair) for pair in limits]
    if len(plane) != 2 or plane[0] == plane[1]:
        raise ValueError(f"plane must name two different coordinates, got {plane}")
    if len(limits) != 2 or any(len(pair) != 2 or not pair[0] < pair[1] for pair in limits):
        raise ValueError(f"limits must be two (low, high) pairs with low < high, got {limits}")
    if base_point is None:
        dim = max(max(plane) + 1, 2)
        base = np.zeros(dim)
    else:
        base = np.asarray(base_point, dtype=float).ravel()
        dim = base.size
    if dim not in (2, 3) or max(plane) >= dim:
        raise ValueError(f"fields must be 2-D or 3-D with plane coordinates < D; got D = {dim}, "
                         f"plane {plane}")
    labels = [f"z{i}" for i in range(dim)] if labels is None else [str(v) for v in labels]
    if len(labels) != dim:
        raise ValueError(f"need {dim} coordinate labels, got {len(labels)}")

    first = np.linspace(*limits[0], int(n))
    second = np.linspace(*limits[1], int(n))
    grid_a, grid_b = np.meshgrid(first, second, indexing="xy")
    points = np.tile(base, (grid_a.size, 1))
    points[:, plane[0]] = grid_a.ravel()
    points[:, plane[1]] = grid_b.ravel()
    rest = [i for i in range(dim) if i not in plane]
    spacing = (first[1] - first[0], second[1] - second[0])

    if axes is None:
        from matplotlib.figure import Figure

        cols = max(1, min(int(ncols), len(fields)))
        rows = -(-len(fields) // cols)
        fig = Figure(figsize=(3.6 * cols, 3.2 * rows), layout="constrained")
        grid_axes = fig.subplots(rows, cols, squeeze=False)
        ax_list = list(grid_axes.ravel())
        for extra in ax_list[len(fields):]:
            extra.set_visible(False)
        ax_list = ax_list[: len(fields)]
    else:
        ax_list = _axes_list(axes, len(fields))
        fig = ax_list[0].figure

    for ax, field, name in zip(ax_list, fields, names, strict=True):
        values = _to_numpy(field(points.copy()), name)
        if values.shape != points.shape:
            raise ValueError(f"field {name!r} returned shape {values.shape} for points "
                             f"{points.shape}")
        da = values[:, plane[0]].reshape(grid_a.shape)
        db = values[:, plane[1]].reshape(grid_a.shape)
        if rest:
            colour = values[:, rest[0]].reshape(grid_a.shape)
            vmax = float(np.nanmax(np.abs(colour))) or 1.0
            clim = (-vmax, vmax)
            colour_label = labels[rest[0]] + " component"
            colour_map = cmap or "RdBu_r"
        else:
            colour = np.hypot(da, db)
            clim = (0.0, float(np.nanmax(colour)) or 1.0)
            colour_label = "length"
            colour_map = cmap or "viridis"
        mesh = ax.pcolormesh(grid_a, grid_b, colour, cmap=colour_map, vmin=clim[0],
                             vmax=clim[1], shading="nearest")
        fig.colorbar(mesh, ax=ax, shrink=0.8, label=colour_label)
        # The longest arrow spans ~0.9 grid cells; a field with no in-plane part draws none.
        longest = float(np.nanmax(np.hypot(da / spacing[0], db / spacing[1])))
        if longest > 0:
            ax.quiver(grid_a, grid_b, da, db, angles="xy", scale_units="xy",
                      scale=longest / 0.9,
                      pivot="middle", color="black", width=0.006)
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        ax.set_xlabel(labels[plane[0]])
        ax.set_ylabel(labels[plane[1]])
        ax.set_title(name, fontsize="small")
    return fig
