"""Symmetry augmentation of PDE solutions and a small 1-D FNO (Ko, Kim & Lee 2024, §5).

A solution ``u(x, t)`` sampled on a regular periodic grid is a point cloud ``(x_i, t_j, u_ij)`` on
its graph. A one-parameter symmetry ``V = ξ ∂_x + τ ∂_t + φ ∂_u`` moves that cloud along its flow
(:func:`symmetrykit.flows.flow`, classical RK4), and the moved cloud is put back on the original
``(t, x)`` grid by splatting, as in the authors' code:

* in ``x``: periodic Whittaker–Shannon (Dirichlet-kernel) weights, so a uniform shift of a row by
  ``a`` is exactly the spectral (band-limited) shift, and an integer number of grid steps is a
  periodic roll;
* in ``t``: linear (hat) weights between the two neighbouring grid rows.

The same splat of the constant 1 gives a *support map*. A grid row is kept when its support exceeds
``support_threshold`` (0.8, as in the authors' code) at every ``x``; kept rows are divided by their
support, the others are set to NaN. So time is handled by **cropping**: a time translation by
``s`` leaves the rows that the shifted trajectory no longer covers (at the start or the end of the
window) invalid, and a trajectory with fewer than ``min_valid_rows`` valid rows is replaced by the
untransformed original (reported with ``s = 0`` and symmetry index ``-1``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse
import torch

from ._fields import flow

__all__ = ["AugmentedSolutions", "FNO1d", "augment_solutions", "transform_solutions"]

_SUPPORT_THRESHOLD = 0.8
# The authors reject a transformed trajectory with fewer than 60 of its 140 rows valid.
_MIN_VALID_FRACTION = 60 / 140


@dataclass(frozen=True)
class AugmentedSolutions:
    """Transformed solutions on the original grid.

    Attributes
    ----------
    u : numpy.ndarray, shape (B, nt, nx)
        Resampled solutions; rows that are not ``valid`` are NaN.
    valid : numpy.ndarray of bool, shape (B, nt)
        Rows whose support exceeds the threshold at every ``x``.
    symmetry : numpy.ndarray of int, shape (B,)
        Index of the symmetry applied to each trajectory, ``-1`` when the original was kept.
    s : numpy.ndarray, shape (B,)
        Flow parameter used for each trajectory (0 when the original was kept).
    """

    u: np.ndarray
    valid: np.ndarray
    symmetry: np.ndarray
    s: np.ndarray


def _check_grid(u: Any, x: Any, t: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    u = np.asarray(u, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if x.ndim != 1 or x.size < 4 or x.size % 2:
        raise ValueError(
            f"x must be a 1-D grid with an even number (>= 4) of points, got shape {x.shape}"
        )
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"t must be a 1-D grid with at least 2 points, got shape {t.shape}")
    if u.ndim == 2:
        u = u[None]
    if u.ndim != 3 or u.shape[1:] != (t.size, x.size):
        raise ValueError(
            f"u must have shape (B, {t.size}, {x.size}) (or (nt, nx)) matching t and x, "
            f"got {u.shape}"
        )
    if not np.all(np.isfinite(u)):
        raise ValueError("u must be finite")
    dx, dt = x[1] - x[0], t[1] - t[0]
    if dx <= 0 or not np.allclose(np.diff(x), dx, rtol=1e-9, atol=0):
        raise ValueError("x must be uniformly spaced and increasing")
    if dt <= 0 or not np.allclose(np.diff(t), dt, rtol=1e-9, atol=0):
        raise ValueError("t must be uniformly spaced and increasing")
    return u, x, t, float(dx), float(dt)


def _as_velocity(symmetry: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    """``(N, 3)`` torch points -> ``(N, 3)`` torch velocities for a symmetry-like object."""
    if not callable(symmetry):
        raise ValueError(f"each symmetry must be callable, got {type(symmetry).__name__}")
    # PointSymmetry (and anything with the same calling convention) takes x, t, u separately.
    takes_components = hasattr(symmetry, "components")

    def velocity(points: torch.Tensor) -> torch.Tensor:
        if takes_components:
            array = points.detach().cpu().numpy()
            values = np.stack(symmetry(array[:, 0], array[:, 1], array[:, 2]), axis=-1)
        else:
            with torch.no_grad():
                values = symmetry(points)
            if isinstance(values, torch.Tensor):
                values = values.detach().cpu().numpy()
            values = np.asarray(values, dtype=np.float64)
        if values.shape != tuple(points.shape):
            raise ValueError(
                f"a symmetry returned shape {values.shape} for points {tuple(points.shape)}"
            )
        return torch.as_tensor(values, dtype=points.dtype)

    return velocity


def _splat(
    moved: np.ndarray, values: np.ndarray, t0: float, dt: float, nt: int, nx: int, period: float
) -> tuple[np.ndarray, np.ndarray]:
    """Splat ``values`` at moved ``(x, t)`` points onto the grid; returns (sum, support)."""
    rows = (moved[:, 1] - t0) / dt
    lower = np.floor(rows)
    frac = rows - lower
    lower = lower.astype(np.int64)
    source = np.arange(moved.shape[0])
    row_idx = np.concatenate([lower, lower + 1])
    col_idx = np.concatenate([source, source])
    weights = np.concatenate([1.0 - frac, frac])
    keep = (row_idx >= 0) & (row_idx < nt) & (weights > 0)
    hat = scipy.sparse.csr_matrix(
        (weights[keep], (row_idx[keep], col_idx[keep])), shape=(nt, moved.shape[0])
    )
    # Dirichlet-kernel splat in x = a non-uniform DFT of the moved row, then an inverse rfft.
    # irfft keeps only the real part of the Nyquist coefficient, i.e. the symmetric kernel.
    k = 2.0 * np.pi * np.arange(nx // 2 + 1) / period
    phases = np.exp(-1j * np.outer(moved[:, 0], k))
    total = np.fft.irfft(hat @ (values[:, None] * phases), n=nx, axis=-1)
    support = np.fft.irfft(hat @ phases, n=nx, axis=-1)
    return total, support


def transform_solutions(
    u: Any,
    x: Any,
    t: Any,
    symmetry: Any,
    s: Any,
    *,
    n_steps: int = 4,
    support_threshold: float = _SUPPORT_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray]:
    """Move solutions along one symmetry's flow and resample them onto the original grid.

    Parameters
    ----------
    u : array_like, shape (B, nt, nx) or (nt, nx)
        Solutions, ``u[b, j, i] = u(x[i], t[j])``, periodic in ``x``.
    x, t : array_like, shapes (nx,) and (nt,)
        Uniform grids; the period in ``x`` is ``nx * (x[1] - x[0])``.
    symmetry : PointSymmetry or callable
        A :class:`symmetrykit.datasets.PointSymmetry` (called as ``sym(x, t, u)``), or a callable
        mapping a float64 torch tensor of points ``(N, 3)`` in the same ``(x, t, u)`` coordinates
        as the inputs to velocities ``(N, 3)`` (torch tensor or array), e.g. a learned field.
    s : float or array_like, shape (B,)
        Flow parameter per trajectory.
    n_steps : int, default 4
        RK4 steps of the flow.
    support_threshold : float, default 0.8
        A row is valid when its splat support exceeds this at every ``x``.

    Returns
    -------
    u_new : numpy.ndarray, shape (B, nt, nx)
        Transformed solutions; invalid rows are NaN.
    valid : numpy.ndarray of bool, shape (B, nt)
    """
    u, x, t, dx, dt = _check_grid(u, x, t)
    n_traj, nt, nx = u.shape
    s = np.asarray(s, dtype=np.float64)
    if s.ndim == 0:
        s = np.full(n_traj, float(s))
    if s.shape != (n_traj,) or not np.all(np.isfinite(s)):
        raise ValueError(f"s must be a finite scalar or have shape ({n_traj},), got {s.shape}")
    if int(n_steps) < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if not 0 < support_threshold < 1.5:
        raise ValueError(f"support_threshold must lie in (0, 1.5), got {support_threshold}")
    velocity = _as_velocity(symmetry)
    grid_t, grid_x = np.meshgrid(t, x, indexing="ij")
    out = np.full(u.shape, np.nan)
    valid = np.zeros((n_traj, nt), dtype=bool)
    for b in range(n_traj):
        points = np.stack([grid_x.ravel(), grid_t.ravel(), u[b].ravel()], axis=-1)
        if s[b] == 0.0:
            out[b], valid[b] = u[b], True
            continue
        moved = flow(velocity, torch.as_tensor(points), float(s[b]), n_steps=int(n_steps))
        moved = moved.numpy()
        if not np.all(np.isfinite(moved)):
            raise ValueError("the flow produced non-finite points; reduce s or check the field")
        total, support = _splat(moved, moved[:, 2], t[0], dt, nt, nx, nx * dx)
        rows = np.all(support > support_threshold, axis=-1)
        valid[b] = rows
        out[b, rows] = total[rows] / support[rows]
    return out, valid


def augment_solutions(
    u: Any,
    x: Any,
    t: Any,
    symmetries: Sequence[Any],
    *,
    s_range: float | Sequence[float],
    random_state: np.random.Generator | int | None,
    n_steps: int = 4,
    min_valid_rows: int | None = None,
    support_threshold: float = _SUPPORT_THRESHOLD,
) -> AugmentedSolutions:
    """Apply one random symmetry transformation to each solution of a batch.

    For each trajectory one symmetry is drawn uniformly from ``symmetries`` and a flow parameter
    ``s ~ U(-s_range_k, s_range_k)``; the solution is moved along that flow and resampled onto the
    regular grid by :func:`transform_solutions` (periodic Whittaker–Shannon in ``x``, linear in
    ``t``, rows with too little support cropped to NaN). Trajectories with fewer than
    ``min_valid_rows`` valid rows are replaced by the original.

    Parameters
    ----------
    u : array_like, shape (B, nt, nx)
        Solutions on the grid ``(t, x)``.
    x, t : array_like
        Uniform grids, shapes ``(nx,)`` and ``(nt,)``, in the coordinates the symmetries use
        (absolute time for :attr:`symmetrykit.datasets.PDEDataset.symmetries`).
    symmetries : sequence
        :class:`~symmetrykit.datasets.PointSymmetry` objects (e.g. ``data.reference_symmetries``)
        or callables ``(N, 3) -> (N, 3)`` on torch tensors (learned fields).
    s_range : float or sequence of float
        Half-width of the uniform draw of ``s``, one for all or one per symmetry (> 0).
    random_state : numpy.random.Generator or int or None
        Source of randomness (an int seeds a new generator; None is not reproducible).
    n_steps : int, default 4
        RK4 steps.
    min_valid_rows : int, optional
        Minimum number of valid rows to accept a transformed trajectory; default
        ``ceil(nt * 60 / 140)`` as in the authors' code.
    support_threshold : float, default 0.8

    Returns
    -------
    AugmentedSolutions
    """
    u, x, t, _, _ = _check_grid(u, x, t)
    symmetries = list(symmetries)
    if not symmetries:
        raise ValueError("symmetries must not be empty")
    ranges = np.asarray(s_range, dtype=np.float64)
    if ranges.ndim == 0:
        ranges = np.full(len(symmetries), float(ranges))
    if ranges.shape != (len(symmetries),) or not np.all(np.isfinite(ranges)) or np.any(
        ranges < 0
    ):
        raise ValueError(
            f"s_range must be a non-negative number or one per symmetry ({len(symmetries)}), "
            f"got {s_range!r}"
        )
    n_traj, nt, _ = u.shape
    if min_valid_rows is None:
        min_valid_rows = math.ceil(nt * _MIN_VALID_FRACTION)
    if not 1 <= int(min_valid_rows) <= nt:
        raise ValueError(f"min_valid_rows must lie in [1, {nt}], got {min_valid_rows}")
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        random_state = np.random.default_rng(int(random_state))
    elif random_state is None:
        random_state = np.random.default_rng()
    elif not isinstance(random_state, np.random.Generator):
        raise ValueError("random_state must be a numpy.random.Generator, an int seed or None")
    choice = random_state.integers(len(symmetries), size=n_traj)
    s = random_state.uniform(-1.0, 1.0, size=n_traj) * ranges[choice]

    out = np.empty_like(u)
    valid = np.zeros((n_traj, nt), dtype=bool)
    for k, symmetry in enumerate(symmetries):
        members = np.flatnonzero(choice == k)
        if members.size == 0:
            continue
        out[members], valid[members] = transform_solutions(
            u[members], x, t, symmetry, s[members],
            n_steps=n_steps, support_threshold=support_threshold,
        )
    rejected = valid.sum(axis=1) < int(min_valid_rows)
    out[rejected], valid[rejected] = u[rejected], True
    choice = np.where(rejected, -1, choice)
    s = np.where(rejected, 0.0, s)
    return AugmentedSolutions(u=out, valid=valid, symmetry=choice, s=s)


# --------------------------------------------------------------------------- FNO


class _SpectralConv1d(torch.nn.Module):
    """``irfft(W_k · rfft(v)_k)`` on the lowest ``modes`` Fourier modes (others set to zero)."""

    def __init__(self, channels: int, modes: int, rng: torch.Generator | None, dtype):
        super().__init__()
        self.modes = modes
        scale = 1.0 / channels
        shape = (channels, channels, modes)
        self.weight_re = torch.nn.Parameter(
            scale * torch.rand(shape, generator=rng, dtype=dtype)
        )
        self.weight_im = torch.nn.Parameter(
            scale * torch.rand(shape, generator=rng, dtype=dtype)
        )

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        coeffs = torch.fft.rfft(v, dim=-1)
        modes = min(self.modes, coeffs.shape[-1])
        weight = torch.complex(self.weight_re, self.weight_im)[..., :modes]
        mixed = torch.einsum("bim,iom->bom", coeffs[..., :modes], weight)
        out = torch.zeros(
            v.shape[0], weight.shape[1], coeffs.shape[-1], dtype=coeffs.dtype, device=v.device
        )
        out[..., :modes] = mixed
        return torch.fft.irfft(out, n=v.shape[-1], dim=-1)


class FNO1d(torch.nn.Module):
    """A small 1-D Fourier neural operator: past time steps in, future time steps out.

    The architecture of the FNO in the paper's augmentation experiment (Ko, Kim & Lee 2024,
    §5: lift, ``n_layers`` × [spectral convolution + pointwise convolution, GELU], two-layer
    projection; time steps as channels, no coordinates)
    at a reduced width and number of modes, for CPU budgets.

    Parameters
    ----------
    in_steps : int
        Number of input time steps (channels), e.g. 20.
    out_steps : int
        Number of predicted time steps, e.g. 20.
    width : int, default 32
        Hidden channels.
    modes : int, default 12
        Fourier modes kept by each spectral convolution.
    n_layers : int, default 4
        Number of Fourier layers.
    rng : torch.Generator, optional
        Source of the initial weights.
    dtype : torch.dtype, default torch.float32

    Notes
    -----
    ``forward`` maps ``(B, in_steps, nx)`` to ``(B, out_steps, nx)``; the grid is periodic.
    """

    def __init__(
        self,
        in_steps: int,
        out_steps: int,
        width: int = 32,
        modes: int = 12,
        n_layers: int = 4,
        rng: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        for label, value in (("in_steps", in_steps), ("out_steps", out_steps), ("width", width),
                             ("modes", modes), ("n_layers", n_layers)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{label} must be a positive integer, got {value!r}")
        self.in_steps, self.out_steps = int(in_steps), int(out_steps)

        def linear(fan_in: int, fan_out: int) -> torch.nn.Conv1d:
            layer = torch.nn.Conv1d(fan_in, fan_out, 1, dtype=dtype)
            bound = 1.0 / math.sqrt(fan_in)
            with torch.no_grad():
                for p in (layer.weight, layer.bias):
                    p.copy_((2 * torch.rand(p.shape, generator=rng, dtype=dtype) - 1)
                            * bound)
            return layer

        self.lift = linear(in_steps, width)
        self.spectral = torch.nn.ModuleList(
            [_SpectralConv1d(width, int(modes), rng, dtype) for _ in range(n_layers)]
        )
        self.pointwise = torch.nn.ModuleList([linear(width, width) for _ in range(n_layers)])
        self.project_hidden = linear(width, 2 * width)
        self.project_out = linear(2 * width, out_steps)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        if u.ndim != 3 or u.shape[1] != self.in_steps:
            raise ValueError(
                f"input must have shape (B, {self.in_steps}, nx), got {tuple(u.shape)}"
            )
        v = self.lift(u)
        layers = zip(self.spectral, self.pointwise, strict=True)
        for index, (spectral, pointwise) in enumerate(layers):
            v = spectral(v) + pointwise(v)
            if index < len(self.spectral) - 1:
                v = torch.nn.functional.gelu(v)
        return self.project_out(torch.nn.functional.gelu(self.project_hidden(v)))
