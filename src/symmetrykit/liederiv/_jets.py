"""Jets of gridded PDE solutions: checked grids, denoised spatial derivatives, weak time steps.

Trajectories ``u[b, j, i] = u(x_i, t_j)`` on a uniform periodic ``x`` grid and a uniform ``t``
grid give, at each grid point, the jet ``(t, x, u, u_x, u_xx, …)``:

* **space**: spectral derivatives of each row (exact for band-limited periodic data). Noise is
  white, so its power spectrum is flat; the noise floor is read off the highest quarter of the
  modes and every mode whose mean power is below ``_SIGNAL_TO_NOISE`` times that floor is cut
  before differentiating. Clean data keep every mode (their floor is rounding).
* **time**: no time derivative is formed. An evolution equation ``u_t = F`` is fitted in its
  integral form over two steps, ``u(t_{j+1}) − u(t_{j−1}) = ∫ F dt``, by Simpson's rule
  (fourth order in ``dt``), which stays accurate on the coarse save grids of the data sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..datasets._pde import wavenumbers

__all__ = ["PDEJets", "grid_from", "spatial_jets"]

#: Modes whose mean power is below this multiple of the noise floor are cut.
_SIGNAL_TO_NOISE = 10.0
#: A floor below this fraction of the strongest mode's power is rounding, not noise.
_ROUNDING_FLOOR = 1e-20
#: The seam step (last to first point) may be this many times the RMS step inside the grid.
_SEAM_RATIO = 5.0
#: Fewest time rows (Simpson needs three) and grid points.
MIN_TIMES = 3
MIN_POINTS = 16


@dataclass(frozen=True)
class PDEJets:
    """Denoised periodic trajectories and what derivatives can be taken from them.

    Attributes
    ----------
    u : numpy.ndarray, shape (B, nt, nx)
        The (filtered) solutions.
    x, t : numpy.ndarray
        The grids.
    kept_modes : int
        Fourier modes kept in ``x`` (all of them for clean data).
    noise_level : float
        Estimated noise standard deviation relative to the data's (0 for clean data).
    """

    u: np.ndarray
    x: np.ndarray
    t: np.ndarray
    kept_modes: int
    noise_level: float

    @property
    def period(self) -> float:
        return float(self.x.size * (self.x[1] - self.x[0]))

    @property
    def dt(self) -> float:
        return float(self.t[1] - self.t[0])

    def derivatives(self, rows: np.ndarray, order: int) -> np.ndarray:
        """``∂_x^k u`` for ``k = 0..order`` on ``rows`` ((b, j) pairs): shape (order+1, R, nx)."""
        return spatial_jets(self.u[rows[:, 0], rows[:, 1]], self.period, order)


def spatial_jets(rows: np.ndarray, period: float, order: int) -> np.ndarray:
    """Spectral ``∂_x^k`` (k = 0..order) of periodic rows ``(R, nx)``; the Nyquist mode is 0."""
    nx = rows.shape[-1]
    k = wavenumbers(nx, period)
    spectrum = np.fft.rfft(rows, axis=-1)
    out = np.empty((order + 1, *rows.shape))
    out[0] = rows
    factor = np.ones_like(spectrum)
    for m in range(1, order + 1):
        factor = factor * (1j * k)
        out[m] = np.fft.irfft(spectrum * factor, n=nx, axis=-1)
    return out


def _uniform(name: str, grid: Any, minimum: int) -> np.ndarray:
    try:
        grid = np.asarray(grid)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D numeric grid ({exc})") from None
    if grid.dtype.kind == "c":
        raise ValueError(f"{name} is complex; give a real grid")
    if grid.dtype.kind not in "iuf" or grid.ndim != 1:
        raise ValueError(f"{name} must be a 1-D real grid, got dtype {grid.dtype} shape "
                         f"{grid.shape}")
    grid = grid.astype(np.float64)
    if grid.size < minimum:
        raise ValueError(f"{name} has {grid.size} points; at least {minimum} are needed")
    if not np.all(np.isfinite(grid)):
        raise ValueError(f"{name} contains NaN or inf")
    step = np.diff(grid)
    if not step[0] > 0 or not np.allclose(step, step[0], rtol=1e-6, atol=0):
        raise ValueError(
            f"{name} must be uniformly spaced and increasing (steps from {step.min():.6g} to "
            f"{step.max():.6g}); resample non-uniform data onto a uniform grid first"
        )
    return grid


def grid_from(data: Any, x: Any = None, t: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(u, x, t)`` from a data set with ``u``, ``x``, ``t`` attributes or from arrays; checked.

    ``u`` must be real and finite with shape ``(B, nt, nx)`` (or ``(nt, nx)``), ``x`` a uniform
    periodic grid of ``nx`` points and ``t`` a uniform grid of ``nt`` times.
    """
    if x is None and t is None and all(hasattr(data, a) for a in ("u", "x", "t")):
        u, x, t = data.u, data.x, data.t
    elif x is None or t is None:
        raise ValueError("give a PDE data set (with u, x, t) or the arrays u, x and t")
    else:
        u = data
    try:
        u = np.asarray(u)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"u must be a numeric array ({exc})") from None
    if u.dtype.kind == "c":
        raise ValueError("u is complex; split it into real fields (symmetry discovery of "
                         "complex PDEs is not supported)")
    if u.dtype.kind not in "iuf":
        raise ValueError(f"u must be a real numeric array, got dtype {u.dtype}")
    if u.ndim == 2:
        u = u[None]
    if u.ndim != 3:
        raise ValueError(f"u must have shape (n_trajectories, nt, nx), got {u.shape}")
    x = _uniform("x", x, MIN_POINTS)
    t = _uniform("t", t, MIN_TIMES)
    if u.shape[1:] != (t.size, x.size):
        raise ValueError(
            f"u has shape {u.shape} but the grids need (n_trajectories, {t.size}, {x.size}) "
            "(u[b, j, i] = u(x[i], t[j]))"
        )
    u = u.astype(np.float64)
    bad = ~np.isfinite(u)
    if bad.any():
        b, j, i = np.argwhere(bad)[0]
        raise ValueError(f"u contains {int(bad.sum())} NaN/inf values (first at trajectory "
                         f"{b}, time index {j}, x index {i})")
    if not np.std(u) > 0:
        raise ValueError("u is constant; a constant field carries no symmetry information")
    # Spectral x-derivatives need a periodic grid: the step across the seam must look like the
    # steps inside it.
    inside = float(np.sqrt(np.mean(np.diff(u, axis=-1) ** 2)))
    seam = float(np.sqrt(np.mean((u[..., 0] - u[..., -1]) ** 2)))
    if seam > _SEAM_RATIO * inside:
        raise ValueError(
            f"u is not periodic in x: the step from the last grid point to the first is "
            f"{seam / inside:.0f}× the typical step (x must be a periodic grid x_i = x_0 + i·dx "
            "without the repeated end point)"
        )
    return u, x, t


def denoise(u: np.ndarray, x: np.ndarray, t: np.ndarray) -> PDEJets:
    """Cut the Fourier modes in ``x`` that sit in the white-noise floor (none for clean data)."""
    nx = x.size
    spectrum = np.fft.rfft(u, axis=-1)
    power = np.mean(np.abs(spectrum) ** 2, axis=(0, 1))
    n_modes = power.size
    top = power[max(1, (3 * n_modes) // 4):]
    floor = float(np.median(top)) if top.size else 0.0
    strongest = float(power.max())
    if not floor > _ROUNDING_FLOOR * strongest:
        return PDEJets(u=u, x=x, t=t, kept_modes=n_modes, noise_level=0.0)
    # Wiener weights: each mode shrunk by its estimated signal fraction (cut where it is below
    # 1 / _SIGNAL_TO_NOISE), the conditional mean of the signal given the data.
    mask = np.clip(1.0 - floor / np.maximum(power, 1e-300), 0.0, 1.0)
    mask[mask < 1.0 - 1.0 / _SIGNAL_TO_NOISE] = 0.0
    mask[0] = 1.0
    last = int(np.flatnonzero(mask)[-1])
    mask[last + 1:] = 0.0
    filtered = np.fft.irfft(spectrum * mask, n=nx, axis=-1)
    # White noise of variance s² has mean |rfft|² = nx s² per mode.
    noise = float(np.sqrt(floor / nx) / np.std(u))
    return PDEJets(u=filtered, x=x, t=t, kept_modes=last + 1, noise_level=noise)


def simpson_rows(n_trajectories: int, nt: int, n_rows: int,
                 rng: np.random.Generator) -> np.ndarray:
    """``n_rows`` distinct (b, j) centres with 1 <= j <= nt − 2, spread evenly, shape (n, 2)."""
    total = n_trajectories * (nt - 2)
    if n_rows >= total:
        chosen = np.arange(total)
    else:
        chosen = np.sort(rng.choice(total, size=n_rows, replace=False))
    return np.stack([chosen // (nt - 2), chosen % (nt - 2) + 1], axis=-1)
