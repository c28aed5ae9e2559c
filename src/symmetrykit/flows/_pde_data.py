"""PDE data in the learning coordinates of generator flows, and the default PDE validity.

* :func:`pde_points` / :func:`pde_reference_fields`: a :class:`~symmetrykit.datasets.PDEDataset`
  and its true symmetries in the coordinates ``(x_n, t_n, u_n)`` the fields are learned in;
  :func:`_grid_samples`: generic samples ``(n, *grid, D)``, checked like any data;
* :class:`PDEValidity`: the floored log residual of the governing equation (Ko, Kim & Lee 2024,
  §5.2), the validity :class:`GeneratorFlow` uses on PDE data unless given another;
* :class:`_PeriodicRaw`: the raw network fields made periodic in ``x_n`` by blending.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._validation import as_samples
from ._fields import GeneratorField
from ._pde_validity import PDEResidual, capped_abs

__all__ = ["PDEValidity", "pde_points", "pde_reference_fields"]

# Width of the periodic blending zone at each end of x_n in [0, 1).
_BLEND_WIDTH = 0.2


def _is_pde_dataset(data: Any) -> bool:
    return all(hasattr(data, name) for name in ("u", "x", "t", "params", "symmetries"))


def _grid_samples(data: Any, owner: str) -> np.ndarray:
    """Generic data as a float64 array ``(n_samples, *grid, D)``, every point checked.

    The points (all axes but the last flattened) go through
    :func:`~symmetrykit._validation.as_samples`: complex data is refused, never cut to its real
    part, and so are non-numeric data, NaN/inf and a scale float32 training cannot carry.
    """
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    raw = np.asarray(data)
    if raw.ndim < 3:
        raise ValueError(
            f"data must be a PDEDataset or an array (n_samples, *grid, D), got {raw.shape}")
    points = as_samples(raw.reshape(-1, raw.shape[-1]), name="data", owner=owner)
    return points.reshape(raw.shape)


def pde_points(data, u: np.ndarray | None = None) -> np.ndarray:
    """Learning coordinates ``(x_n, t_n, u_n)`` of PDE solutions on their grid.

    The normalisation of the paper's PDE experiments (Ko, Kim & Lee 2024, §5.2): every
    coordinate is O(1), so one flow time ``s`` moves all of them comparably.

    ``x_n = (x - x_0) / L``, ``t_n = (t - t_0) / (nt dt)``, ``u_n = c u`` with the data set's
    ``length``, ``dt`` and ``u_scale``.

    Parameters
    ----------
    data : PDEDataset
    u : ndarray, shape (B, nt, nx), optional
        Solutions on the data set's grid; ``data.u`` when omitted.

    Returns
    -------
    ndarray, shape (B, nt, nx, 3), float64
    """
    if not _is_pde_dataset(data):
        raise ValueError("data must be a PDEDataset")
    u = data.u if u is None else np.asarray(u, dtype=np.float64)
    if u.ndim != 3 or u.shape[1:] != (data.t.size, data.x.size):
        raise ValueError(f"u must have shape (B, {data.t.size}, {data.x.size}), got {u.shape}")
    length = float(data.params["length"])
    dt = float(data.params["dt"])
    scale = float(data.params["u_scale"])
    x_n = (data.x - data.x[0]) / length
    t_n = (data.t - data.t[0]) / (data.t.size * dt)
    grid_t, grid_x = np.meshgrid(t_n, x_n, indexing="ij")
    shape = u.shape
    return np.stack(
        [np.broadcast_to(grid_x, shape), np.broadcast_to(grid_t, shape), scale * u], axis=-1
    )


def pde_reference_fields(data, points: np.ndarray, symmetries=None) -> np.ndarray:
    """True symmetry fields of a PDE data set in learning coordinates.

    The Lie point symmetries the paper compares its learned generators with (Ko, Kim & Lee
    2024, §5.2 and Fig. 4).

    Parameters
    ----------
    data : PDEDataset
    points : ndarray, shape (N, 3)
        Points ``(x_n, t_n, u_n)``.
    symmetries : sequence of PointSymmetry, optional
        Defaults to ``data.reference_symmetries``.

    Returns
    -------
    ndarray, shape (J, N, 3)
        ``(xi / L, tau / (nt dt), c phi)`` evaluated at the physical point.
    """
    symmetries = data.reference_symmetries if symmetries is None else symmetries
    length = float(data.params["length"])
    dt = float(data.params["dt"])
    scale = float(data.params["u_scale"])
    t_extent = data.t.size * dt
    points = np.asarray(points, dtype=np.float64)
    x = data.x[0] + points[:, 0] * length
    t = data.t[0] + points[:, 1] * t_extent
    u = points[:, 2] / scale
    fields = []
    for symmetry in symmetries:
        xi, tau, phi = symmetry(x, t, u)
        fields.append(np.stack([xi / length, tau / t_extent, scale * phi], axis=-1))
    return np.stack(fields)


class PDEValidity:
    """Default PDE validity: the floored log residual of points in learning coordinates.

    Converts ``(x_n, t_n, u_n)`` back to physical ``(x, t, u)`` (absolute time) and scores them
    with :class:`~symmetrykit.flows.PDEResidual` (Ko, Kim & Lee 2024, §5.2 and App. D.1). For
    patches that do not span the whole period, the columns whose stencils would wrap around the
    patch edge are dropped (their neighbours are not grid neighbours).

    Parameters
    ----------
    data : PDEDataset
    patched : bool, default False
        Whether the scored grids are patches narrower than the full period.
    method : {"chain", "weno"}, default "chain"
        Derivative estimator on the deformed grid (see :class:`PDEResidual`); ``"chain"``
        is the fast default, ``"weno"`` the authors' scheme.
    **kwargs
        Passed to ``PDEResidual.for_dataset`` (e.g. ``floor``).
    """

    def __init__(self, data, patched: bool = False, method: str = "chain", **kwargs: Any) -> None:
        self.residual = PDEResidual.for_dataset(data, method=method, **kwargs)
        self.length = float(data.params["length"])
        self.x0 = float(data.x[0])
        self.t0 = float(data.t[0])
        self.t_extent = float(data.t.size * float(data.params["dt"]))
        self.u_scale = float(data.params["u_scale"])
        self.patched = bool(patched)
        # Largest x-offset any stencil of this equation uses.
        self.margin = self.residual.columns_reached

    def physical(self, points: torch.Tensor) -> torch.Tensor:
        """``(x_n, t_n, u_n) -> (x, t, u)``."""
        return torch.stack(
            (
                self.x0 + points[..., 0] * self.length,
                self.t0 + points[..., 1] * self.t_extent,
                points[..., 2] / self.u_scale,
            ),
            dim=-1,
        )

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        residual = capped_abs(self.residual.pointwise(self.physical(points)))
        if self.patched:
            residual = residual[:, :, self.margin : residual.shape[2] - self.margin]
        floor = self.residual.floor if self.residual.floor > 0 else 1e-30
        return residual.clamp_min(floor).log().mean(dim=(1, 2))


class _PeriodicRaw:
    """Raw (unnormalised) fields, made periodic in coordinate 0 with period 1 when asked.

    Near the ends of ``[0, 1)`` the network is also evaluated at ``x ∓ 1`` and the two values
    are blended linearly, so the field is continuous across ``0 ≡ 1``; the blend weights are
    1/2 each at the seam. This is how the authors' PDE fields are periodic (Ko, Kim & Lee 2024,
    App. B.1).
    """

    def __init__(self, field: GeneratorField, periodic: bool) -> None:
        self.field = field
        self.periodic = periodic

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        return self._blend(points, self.field.raw)

    def all(self, points: torch.Tensor) -> torch.Tensor:
        """Every field at every point set, ``(S, N, D) -> (S, K, N, D)``."""
        return self._blend(points, self.field.raw_all)

    def _blend(self, points: torch.Tensor, evaluate) -> torch.Tensor:
        if not self.periodic:
            return evaluate(points)
        x = torch.remainder(points[..., :1], 1.0)
        wrapped = torch.cat([x, points[..., 1:]], dim=-1)
        shift = torch.where(x < 0.5, torch.ones_like(x), -torch.ones_like(x))
        partner = torch.cat([x + shift, points[..., 1:]], dim=-1)
        distance = torch.minimum(x, 1.0 - x)  # to the seam
        own = (0.5 + 0.5 * distance / _BLEND_WIDTH).clamp(max=1.0)
        if evaluate is self.field.raw_all:
            own = own[:, None]
        return own * evaluate(wrapped) + (1.0 - own) * evaluate(partner)
