"""Figures of PDE symmetry discovery (re-exported by :mod:`symmetrykit.plot`).

* :func:`pde_spectrum` — the symmetry condition's singular spectrum with the gap and the count;
* :func:`pde_generator_maps` — the components ``ξ, τ, φ`` of point-symmetry generators as heat
  maps over ``(x, t)`` along one trajectory.

matplotlib is imported inside the functions; the helpers of :mod:`symmetrykit.plot` too (that
module imports this one at its top).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["pde_generator_maps", "pde_spectrum"]

#: The gap of :func:`~symmetrykit.liederiv.discover_pde` counts values below √ε as √ε.
_FLOOR = float(np.sqrt(np.finfo(np.float64).eps))
_COMPONENTS = (("ξ", "x-component"), ("τ", "t-component"), ("φ", "u-component"))


def _short(value: float) -> str:
    """``1.2e3`` style text of a positive number (``∞`` and ``nan`` spelled out)."""
    if not np.isfinite(value):
        return "∞" if value > 0 else "nan"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def pde_spectrum(singular_values: Any, nullity: int, gap: float | None = None, *,
                 name: str | None = None, ax: Any = None) -> Figure:
    """The ascending relative singular spectrum of a PDE's symmetry condition, log scale.

    Draws :func:`symmetrykit.plot.singular_spectrum` (the first ``nullity`` values, the
    symmetries, in a second colour with a dashed line after them), marks the gap between
    values ``nullity`` and ``nullity + 1`` with a double arrow and its ratio, draws the level
    √ε below which values count as zero, and titles the figure
    "Symmetry condition spectrum: NAME — K symmetries (gap G)".

    Parameters
    ----------
    singular_values
        1-D, ascending, relative (e.g. :attr:`symmetrykit.liederiv.PDEDiscovery.singular_values`).
    nullity
        Number of symmetries found.
    gap
        The reported gap ratio (default: computed from the values with the √ε floor).
    name
        The data's name for the title.
    ax
        Axes to draw into; a new figure if None.
    """
    from .plot import _to_numpy, singular_spectrum

    values = _to_numpy(singular_values, "singular_values")
    fig = singular_spectrum(values, nullity, ax=ax)
    ax = fig.axes[0] if ax is None else ax
    floored = np.maximum(values, _FLOOR)
    if gap is None and 0 < nullity < values.size:
        gap = float(floored[nullity] / floored[nullity - 1])
    ax.axhline(_FLOOR, color="gray", linestyle=":", linewidth=0.8)
    ax.annotate("√ε (numerical zero)", (1, _FLOOR), textcoords="offset points", xytext=(2, 3),
                fontsize=7, color="gray")
    if 0 < nullity < values.size:
        low, high = floored[nullity - 1], floored[nullity]
        ax.annotate("", xy=(nullity + 0.5, high), xytext=(nullity + 0.5, low),
                    arrowprops={"arrowstyle": "<->", "color": "C3"})
        ax.annotate(f"gap {_short(gap)}", (nullity + 0.5, np.sqrt(low * high)),
                    textcoords="offset points", xytext=(5, 0), va="center", fontsize=8,
                    color="C3")
    count = f"{nullity} symmetr{'y' if nullity == 1 else 'ies'}"
    if 0 < nullity < values.size:
        count += f" (gap {_short(gap)})"
    elif nullity == 0:
        count += " (no gap above the threshold)"
    title = "Symmetry condition spectrum" + (f": {name}" if name else "")
    ax.set_title(f"{title} — {count}")
    return fig


def pde_generator_maps(symmetries: Sequence[Any], x: Any, t: Any, u: Any, *,
                       names: Sequence[str] | None = None, cmap: str = "RdBu_r",
                       rtol: float = 1e-8, title: str | None = None) -> Figure:
    """Heat maps of ``ξ, τ, φ`` of each generator over ``(x, t)`` along one trajectory.

    One panel per generator (a row of three maps: ξ, τ and φ, each with its own symmetric
    colour scale and colour bar), titled with its name (e.g. the discovered formula). A
    component that is constant on the trajectory says so (``≡ value``); one below ``rtol``
    of the generator's largest (each component measured in units of its variable's spread)
    is round-off and drawn as ``≡ 0``.

    Parameters
    ----------
    symmetries
        Callables ``(x, t, u) -> (ξ, τ, φ)`` (:class:`~symmetrykit.datasets.PointSymmetry`).
    x, t
        The grids, shapes ``(nx,)`` and ``(nt,)``.
    u
        One trajectory, shape ``(nt, nx)`` (``u[j, i] = u(x[i], t[j])``).
    names
        Panel titles; ``sym.name`` (or ``"generator k"``) by default.
    cmap
        A diverging colour map.
    rtol
        Relative size below which a component counts as zero.
    title
        A line above all panels (e.g. which data and trajectory).
    """
    from matplotlib.figure import Figure

    from .plot import _to_numpy

    symmetries = list(symmetries)
    if not symmetries or not all(callable(s) for s in symmetries):
        raise ValueError("symmetries must be a non-empty sequence of callables (x, t, u) -> "
                         "(ξ, τ, φ)")
    x = _to_numpy(x, "x").ravel()
    t = _to_numpy(t, "t").ravel()
    u = _to_numpy(u, "u")
    if u.shape != (t.size, x.size):
        raise ValueError(f"u must have shape (nt, nx) = ({t.size}, {x.size}), got {u.shape}")
    if names is None:
        names = [getattr(s, "name", f"generator {k + 1}") for k, s in enumerate(symmetries)]
    names = [str(n) for n in names]
    if len(names) != len(symmetries):
        raise ValueError(f"need one name per generator, got {len(names)} for "
                         f"{len(symmetries)}")
    xx, tt = np.meshgrid(x, t)
    extent = (float(x[0]), float(x[-1]), float(t[0]), float(t[-1]))
    # Laid out by hand: a layout engine (or a tight box) costs several seconds more per save
    # for the 3k axes and colour bars. Per row, in inches: the formula, the map titles, the
    # maps, tick labels and the x label.
    n = len(symmetries)
    row, maps, top_pad = 2.45, 1.45, (0.75 if title else 0.3)
    height = n * row + 0.15 + (top_pad - 0.3)  # a title line adds its own height
    fig = Figure(figsize=(10.5, height))
    grid = fig.add_gridspec(n, 3, left=0.06, right=0.94, bottom=0.55 / height,
                            top=1 - (top_pad + 0.25) / height, hspace=(row - maps) / maps,
                            wspace=0.5)
    spreads = [float(np.ptp(v)) or 1.0 for v in (x, t, u)]
    for k, (sym, name) in enumerate(zip(symmetries, names, strict=True)):
        components = [np.broadcast_to(np.asarray(c, dtype=float), u.shape).copy()
                      for c in sym(xx, tt, u)]
        sizes = [float(np.nanmax(np.abs(c))) / s for c, s in zip(components, spreads,
                                                                    strict=True)]
        largest = max(sizes)
        for c, (values, size, (symbol, what)) in enumerate(zip(components, sizes, _COMPONENTS,
                                                               strict=True)):
            ax = fig.add_subplot(grid[k, c])
            if not size > rtol * largest:
                values[...] = 0.0
            vmax = float(np.nanmax(np.abs(values))) or 1.0
            image = ax.imshow(values, origin="lower", aspect="auto", extent=extent, cmap=cmap,
                              vmin=-vmax, vmax=vmax, interpolation="nearest")
            fig.colorbar(image, ax=ax, fraction=0.08, pad=0.03)
            spread = float(np.nanmax(values) - np.nanmin(values))
            if spread <= 1e-9 * vmax:
                ax.text(0.5, 0.5, f"≡ {float(values.flat[0]):.3g}", transform=ax.transAxes,
                        ha="center", va="center", fontsize="large",
                        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
            ax.set_title(f"{symbol} ({what})", fontsize="small")
            ax.set_xlabel("x")
            ax.set_ylabel("t")
        # The generator's title, centred over its row, above the maps' titles.
        top = 1 - (top_pad + 0.25 + k * row) / height
        fig.text(0.5, top + 0.3 / height, f"{k + 1}. {name}", ha="center", va="bottom",
                 fontsize="medium", fontweight="bold")
    if title:
        fig.text(0.5, 1 - 0.12 / height, title, ha="center", va="top", fontsize="large")
    return fig
