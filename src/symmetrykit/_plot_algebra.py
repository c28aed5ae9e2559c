"""Figures of Lie algebras: a grid of generators, the singular spectrum of a Lie-derivative
operator, and vector fields on a domain. Public through :mod:`symmetrykit.plot`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from ._plot_common import _axes_list, _index_ticks, _single_ax, _to_numpy

__all__ = ["generator_grid", "singular_spectrum", "vector_fields"]


def generator_grid(
    generators: Any,
    singular_values: Any = None,
    *,
    algebra: str | None = None,
    title: str | None = None,
    ncols: int = 4,
    cmap: str = "RdBu_r",
) -> Figure:
    """Every generator of a discovered symmetry algebra as a heatmap, one panel each.

    Panel ``i`` is titled "symmetry i of k" (with its singular value when given) and has its
    own symmetric colour range ``[-m, m]``, ``m`` the largest absolute entry of that generator,
    and its own colour bar, so a generator with small entries is as readable as a large one
    and zero is always the neutral colour. Ticks are the integer row and column indices. With
    no generator (nothing found) the figure says so instead of staying blank.

    Parameters
    ----------
    generators
        ``(k, d, d)`` stack of generator matrices (``k`` may be 0), e.g.
        ``LieDiscovery.algebra.generators``; a single ``(d, d)`` matrix counts as ``k = 1``.
    singular_values
        The ``k`` relative singular values of the generators (the evidence that each is a
        symmetry: 0 for an exact one), shown in the panel titles.
    algebra
        Name of the candidate algebra (e.g. ``"gl(3)"``), for the title.
    title
        Figure title; default "Symmetries found: k generators in ALGEBRA".
    ncols
        Panels per row.
    cmap
        A diverging colour map.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    stack = _to_numpy(generators, "generators")
    if stack.ndim == 2:
        stack = stack[None]
    if stack.ndim != 3 or stack.shape[1] != stack.shape[2]:
        raise ValueError(f"generators must be a (k, d, d) stack, got shape {stack.shape}")
    k = stack.shape[0]
    values = None
    if singular_values is not None:
        values = _to_numpy(singular_values, "singular_values").ravel()
        if values.size != k:
            raise ValueError(f"need one singular value per generator: {values.size} for {k}")
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    where = f" in {algebra}" if algebra else ""
    if title is None:
        title = (f"Symmetries found: {k} generator{'' if k == 1 else 's'}{where}" if k
                 else f"Symmetries found: none{where}")
    if k == 0:
        fig = Figure(figsize=(5.5, 2.2), layout="constrained")
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, "No symmetry was found among the candidates:\nno singular value "
                "stands apart from the rest (see the spectrum).", ha="center", va="center",
                transform=ax.transAxes)
        fig.suptitle(title)
        return fig

    cols = min(int(ncols), k)
    rows = -(-k // cols)
    d = stack.shape[1]
    size = 2.6 + 0.12 * max(d - 6, 0)
    width = max(size * cols + 0.6, 4.5)
    fig = Figure(figsize=(width, size * 0.95 * rows + 1.1), layout="constrained")
    grid = fig.subplots(rows, cols, squeeze=False)
    axes = list(grid.ravel())
    for extra in axes[k:]:
        extra.set_visible(False)
    for i, (ax, matrix) in enumerate(zip(axes, stack, strict=False)):
        finite = np.abs(matrix[np.isfinite(matrix)])
        m = float(finite.max()) if finite.size else 0.0
        m = m if m > 0 else 1.0  # a zero matrix: any symmetric range shows it as neutral
        image = ax.imshow(matrix, cmap=cmap, vmin=-m, vmax=m, interpolation="nearest")
        fig.colorbar(image, ax=ax, shrink=0.8, label="entry")
        panel = f"symmetry {i + 1} of {k}"
        if values is not None:
            panel += f"\nsingular value {values[i]:.2g}"
        ax.set_title(panel, fontsize="medium")
        ax.set_xlabel("column j")
        ax.set_ylabel("row i")
        _index_ticks(ax, matrix.shape)
    notes = ["each panel: a generator matrix L (vector field ξ(x) = L x), most symmetric first"]
    if values is not None:
        notes.append("singular value: its relative Lie derivative (0 = exact symmetry)")
    import textwrap

    # Wrapped to the figure's width (about 13 small characters per inch).
    note = "\n".join(textwrap.wrap("; ".join(notes), width=int(13 * width)))
    fig.suptitle(title, fontsize="large")
    fig.supxlabel(note, fontsize="small")  # a caption under the panels
    return fig




def singular_spectrum(
    singular_values: Any, nullity: int | None = None, *, ax: Any = None, floor: float = 1e-18,
    gap: float | None = None, title: str | None = None,
) -> Figure:
    """The ascending singular spectrum of a Lie-derivative operator on a log scale.

    The first ``nullity`` values (the symmetries found) are drawn in a second colour, so the gap
    that separates them from the rest is visible; a dashed line (in the legend, with the gap
    ratio when given) marks the cut. Exact zeros are drawn at ``floor``. The title says what
    is shown: "Spectrum of the Lie-derivative operator (K candidates): N symmetries below the
    gap".

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
    gap
        The gap ratio of the cut (e.g. :attr:`~symmetrykit.liederiv.LieDiscovery.gap`), for the
        legend.
    title
        Axes title instead of the default.
    """
    values = _to_numpy(singular_values, "singular_values")
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"singular_values must be a non-empty 1-D array, got shape {values.shape}")
    if np.any(values < 0):
        raise ValueError("singular values must be non-negative")
    if nullity is not None and not 0 <= nullity <= values.size:
        raise ValueError(f"nullity must be in [0, {values.size}], got {nullity}")
    fig, ax = _single_ax(ax, panel_size=(max(5.5, 0.25 * values.size + 2.0), 3.8))
    shown = np.maximum(values, floor)
    index = np.arange(1, values.size + 1)
    k = nullity or 0
    if k < values.size:
        ax.semilogy(index[k:], shown[k:], "o", color="C0", label="not symmetries")
    if k:
        ax.semilogy(index[:k], shown[:k], "o", color="C3", label="symmetries")
    if 0 < k < values.size:
        label = "gap" if gap is None or not np.isfinite(gap) else f"gap (ratio {gap:.3g})"
        ax.axvline(k + 0.5, color="gray", linestyle="--", linewidth=0.8, label=label)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("candidate generator (most symmetric first)")
    ax.set_ylabel("relative singular value")
    ax.legend(loc="lower right", fontsize=8)
    if title is None:
        title = f"Spectrum of the Lie-derivative operator ({values.size} candidates)"
        if nullity is not None:
            if k == values.size:
                title += "\nevery candidate is a symmetry"
            else:
                title += (f"\n{k} symmetr{'y' if k == 1 else 'ies'} below the gap" if k
                          else "\nno symmetry found")
    ax.set_title(title, fontsize="medium")
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
    on a symmetric scale per panel with its own colour bar (a constant component, which would
    fill the panel with the scale's darkest colour, is drawn at half strength and its value
    given in the panel's title); for 2-D fields it is the arrow length (constant: likewise).
    Arrows are scaled per panel so the longest spans about one grid cell (learned fields have
    an arbitrary overall scale); a field without in-plane part shows colour only.

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
        title = name
        if rest:
            colour = values[:, rest[0]].reshape(grid_a.shape)
            top = float(np.nanmax(np.abs(colour))) or 1.0
            clim = (-top, top)
            colour_label = labels[rest[0]] + " component"
            colour_map = cmap or "RdBu_r"
        else:
            colour = np.hypot(da, db)
            top = float(np.nanmax(colour)) or 1.0
            clim = (0.0, top)
            colour_label = "length"
            colour_map = cmap or "viridis"
        if float(np.nanmax(colour) - np.nanmin(colour)) <= 1e-6 * top:
            # A constant (e.g. the ∂u of a Galilean boost) at the end of its own range would
            # fill the panel with the scale's darkest colour and hide the arrows: half
            # strength, and its value in the title.
            if float(np.nanmax(np.abs(colour))) > 0:
                clim = (2.0 * clim[0], 2.0 * clim[1])
            title += f"\n({colour_label} ≡ {float(np.nanmean(colour)):.3g})"
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
        ax.set_title(title, fontsize="small")
    return fig
