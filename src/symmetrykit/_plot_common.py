"""Helpers shared by the figure modules (:mod:`symmetrykit.plot` and its private parts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes


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


def _index_ticks(ax: Any, shape: tuple[int, ...]) -> None:
    """Integer matrix indices as ticks (every index up to 10 rows/columns), never ±0.5."""
    from matplotlib.ticker import MaxNLocator

    for axis, size in ((ax.yaxis, shape[0]), (ax.xaxis, shape[1])):
        if size <= 10:
            axis.set_ticks(range(size))
        else:
            axis.set_major_locator(MaxNLocator(integer=True))


def _pick_rows(n_rows: int, n: int, random_state: Any) -> np.ndarray:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    rng = np.random.default_rng(random_state)
    chosen = rng.choice(n_rows, size=min(int(n), n_rows), replace=False)
    # Sorted so the legend reads in data order.
    return np.sort(chosen)

