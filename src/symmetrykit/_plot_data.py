"""The figure of a built-in PDE data set (re-exported by :mod:`symmetrykit.plot`).

* :func:`pde_dataset` — a few trajectories ``u(x, t)`` as images and the true point-symmetry
  fields ``ξ, τ, φ`` on the first trajectory's grid, the picture ``symmetrykit data show kdv``
  saves.
* :func:`lens_adapter` — labelled series raw, scrambled, and through a fitted SymmetryLens.

matplotlib is imported inside the function, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["lens_adapter", "pde_dataset"]

_COMPONENTS = (("ξ", "moves x"), ("τ", "moves t"), ("φ", "moves u"))
# Row heights in inches: a row of trajectories and a row of one symmetry's three fields, each
# with its titles, tick labels and axis labels; laid out by hand (a layout engine is slow for
# dozens of axes with colour bars).
_TRAJECTORY_ROW = 3.0
_SYMMETRY_ROW = 2.1
_HEADER = 0.45


def _field_panel(fig: Any, cell: Any, values: np.ndarray, extent: tuple[float, ...],
                 title: str) -> Any:
    """One component as a diverging heat map, or ``≡ c`` on a blank panel when constant."""
    ax = fig.add_subplot(cell)
    vmax = float(np.max(np.abs(values))) or 1.0
    image = ax.imshow(values, origin="lower", aspect="auto", extent=extent, cmap="RdBu_r",
                      vmin=-vmax, vmax=vmax, interpolation="nearest")
    if float(np.ptp(values)) <= 1e-12 * vmax:
        ax.text(0.5, 0.5, f"≡ {float(values.flat[0]):.3g}", transform=ax.transAxes,
                ha="center", va="center", fontsize="large",
                bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
    else:
        fig.colorbar(image, ax=ax, fraction=0.08, pad=0.03)
    ax.set_title(title, fontsize="small")
    ax.set_xlabel("x", labelpad=1)
    ax.set_ylabel("t", labelpad=1)
    return ax


def pde_dataset(data: Any, n: int = 3, *, title: str | None = None) -> Figure:
    """Trajectories of a PDE data set and its true Lie point symmetries, in one figure.

    The top row shows up to ``n`` trajectories ``u(x, t)`` as images (x across, time up; one
    colour bar per image). Below, one row per symmetry ``ξ ∂x + τ ∂t + φ ∂u`` of
    ``data.symmetries``, titled with its name (marked when it is approximate or outside the
    evaluation reference), shows ``ξ``, ``τ`` and ``φ`` evaluated on the first trajectory's
    ``(x, t, u)``; a constant component reads ``≡ value``. So a reader sees what the samples look
    like and which transformations leave the equation unchanged without reading the code.

    Parameters
    ----------
    data
        A :class:`~symmetrykit.datasets.PDEDataset` (``u``, ``x``, ``t``, ``name``,
        ``equation``, ``symmetries``, ``params``).
    n
        Trajectories to draw (at least 1; at most those held).
    title
        The line above everything; by default the name, the equation and the sizes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    u, x, t = np.asarray(data.u, dtype=float), np.asarray(data.x), np.asarray(data.t)
    symmetries = tuple(data.symmetries)
    shown = min(int(n), u.shape[0])
    extent = (float(x[0]), float(x[-1]), float(t[0]), float(t[-1]))
    length = (data.params or {}).get("length")
    period = f", period {length:g}" if length is not None else ""
    if title is None:
        title = (f"{data.name}: {data.equation} — {u.shape[0]} trajectories on {u.shape[1]} × "
                 f"{u.shape[2]} (t × x) grids")

    height = 0.5 + _TRAJECTORY_ROW + _HEADER + len(symmetries) * _SYMMETRY_ROW
    fig = Figure(figsize=(11.0, height))
    fig.text(0.5, 1 - 0.12 / height, title, ha="center", va="top", fontsize="large")
    top = 1 - 0.55 / height
    rows = fig.add_gridspec(1, max(shown, 3), left=0.07, right=0.95, top=top,
                            bottom=top - (_TRAJECTORY_ROW - 0.75) / height, wspace=0.45)
    for b in range(shown):
        ax = fig.add_subplot(rows[0, b])
        image = ax.imshow(u[b], origin="lower", aspect="auto", extent=extent, cmap="viridis",
                          interpolation="nearest")
        fig.colorbar(image, ax=ax, fraction=0.08, pad=0.03).set_label("u")
        ax.set_title(f"trajectory {b + 1}: u(x, t)", fontsize="medium")
        ax.set_xlabel(f"x (space units{period})")
        ax.set_ylabel("t (time units)")

    top -= _TRAJECTORY_ROW / height
    fig.text(0.5, top - 0.05 / height,
             f"True point symmetries ξ ∂x + τ ∂t + φ ∂u of {data.name}, evaluated on "
             "trajectory 1", ha="center", va="top", fontsize="large")
    if not symmetries:
        return fig
    top -= _HEADER / height
    xx, tt = np.meshgrid(x, t)
    grid = fig.add_gridspec(len(symmetries), 3, left=0.07, right=0.95, top=top - 0.3 / height,
                            bottom=0.45 / height, hspace=0.95, wspace=0.45)
    for k, sym in enumerate(symmetries):
        notes = [] if getattr(sym, "exact", True) else ["approximate"]
        if not getattr(sym, "reference", True):
            notes.append("not in the evaluation reference")
        name = sym.name + (f" ({', '.join(notes)})" if notes else "")
        components = sym(xx, tt, u[0])
        for c, (values, (symbol, what)) in enumerate(zip(components, _COMPONENTS, strict=True)):
            ax = _field_panel(fig, grid[k, c], np.asarray(values, dtype=float), extent,
                              f"{symbol} ({what})")
        # The symmetry's name, centred over its row of three fields.
        fig.text(0.5, ax.get_position().y1 + 0.3 / height, f"{k + 1}. {name}", ha="center",
                 va="bottom", fontsize="medium", fontweight="bold")
    return fig


def lens_adapter(data: Any, lens: Any, *, per_class: int = 2, classes: Any = None,
                 title: str | None = None) -> Figure:
    """Series before and after the SymmetryLens adapter: raw, as the model sees them, and the
    lens's representation (``Φ x``, or the ordered basis with ``representation="basis"``).

    Three panels share the test series drawn (``per_class`` of each of the first two classes,
    one colour per class): the raw series (the view undone with the set's known scramble, for
    reference only), the scrambled series the lens was fitted on, and their representation
    ``lens.transform`` — the input a CNN gets. When the lens has recovered the time axis, the
    third panel looks like the first up to a reflection and a cyclic shift (and, for ``Φ``, a
    slight blur).

    Parameters
    ----------
    data
        A :class:`symmetrykit.datasets.LabelledSignals` (e.g. ``ucr("GunPoint", view=...)``).
    lens
        A SymmetryLens fitted on ``data``'s series.
    per_class, classes
        Series drawn per class, and which classes (default: the first two).
    """
    from matplotlib.figure import Figure

    if isinstance(per_class, bool) or not isinstance(per_class, (int, np.integer)) \
            or per_class < 1:
        raise ValueError(f"lens_adapter: per_class must be a positive integer, got {per_class!r}")
    chosen = list(data.classes[:2] if classes is None else classes)
    rows, colours = [], []
    for index, label in enumerate(chosen):
        members = np.flatnonzero(data.y_test == label)
        if members.size == 0:
            raise ValueError(f"lens_adapter: no test series of class {label!r}")
        rows += list(members[:per_class])
        colours += [f"C{index}"] * min(per_class, members.size)
    seen = data.X_test[rows]
    basis = getattr(lens, "representation", "orbit") == "basis"
    name = "the ordered basis" if basis else "Φ x"
    panels = [(data.unscrambled(seen), "raw series (reference: the view undone)", "time"),
              (seen, f"as seen ({data.params.get('view', 'view')}): the lens's input",
               "coordinate"),
              (np.asarray(lens.transform(seen)), f"lens representation, {name}: CNN input",
               "component n")]
    fig = Figure(figsize=(13.5, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, (values, panel_title, xlabel) in zip(axes, panels, strict=True):
        for series, colour in zip(values, colours, strict=True):
            ax.plot(series, color=colour, lw=1.2, alpha=0.85)
        ax.set_title(panel_title, fontsize="medium")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("value")
    handles = [axes[0].plot([], [], color=f"C{i}", label=f"class {label}")[0]
               for i, label in enumerate(chosen)]
    axes[0].legend(handles=handles, fontsize="small", loc="best")
    fig.suptitle(title or f"{data.name}: {data.description}", fontsize="medium")
    return fig
