"""Regularisers and evaluation of learned generator fields (Ko, Kim & Lee 2024).

The penalties are the paper's eqs. (11), (13) and (23); :func:`field_similarity` is the
comparison with known symmetries behind its generator-similarity tables (Fig. 4, §5.1).

All penalties take field values sampled at points and return one value per field (shape
``(K,)``), so the caller picks the reduction (the paper sums over fields for images and averages
for PDEs) and the weights (§5.1 for images, §5.2 for PDEs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..metrics import principal_angles

__all__ = [
    "field_inner_products",
    "orthogonality_penalty",
    "lipschitz_penalty",
    "sobolev_penalty",
    "FieldSimilarity",
    "field_similarity",
]


# Fields whose singular value is below this fraction of the largest add nothing to a span
# (the square root of _orthonormal_basis's eigenvalue tolerance).
_SPAN_RTOL = 1e-5


def _check_fields(fields: torch.Tensor, name: str = "fields") -> None:
    if not isinstance(fields, torch.Tensor) or fields.ndim != 3:
        shape = getattr(fields, "shape", None)
        raise ValueError(f"{name} must be a torch.Tensor of shape (K, N, D), got {shape}")


def _point_weights(weights, n_points: int, like: torch.Tensor) -> torch.Tensor | None:
    if weights is None:
        return None
    weights = torch.as_tensor(weights, dtype=like.dtype, device=like.device)
    if weights.shape != (n_points,):
        raise ValueError(f"weights must have shape ({n_points},), got {tuple(weights.shape)}")
    if bool((weights < 0).any()) or not float(weights.sum()) > 0:
        raise ValueError("weights must be non-negative with a positive sum")
    return weights / weights.sum()


def field_inner_products(
    fields_a: torch.Tensor, fields_b: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Point-mean inner products ``<A_i, B_j> = sum_p w_p A_i(p)·B_j(p) / sum_p w_p``.

    Parameters
    ----------
    fields_a : torch.Tensor, shape (K, N, D)
    fields_b : torch.Tensor, shape (J, N, D)
    weights : torch.Tensor, shape (N,), optional
        Non-negative point weights; uniform when omitted.

    Returns
    -------
    torch.Tensor, shape (K, J)
    """
    _check_fields(fields_a, "fields_a")
    _check_fields(fields_b, "fields_b")
    if fields_a.shape[1:] != fields_b.shape[1:]:
        raise ValueError(
            f"fields_a {tuple(fields_a.shape)} and fields_b {tuple(fields_b.shape)} must share"
            " (N, D)"
        )
    w = _point_weights(weights, fields_a.shape[1], fields_a)
    if w is None:
        w = torch.full(
            (fields_a.shape[1],),
            1.0 / fields_a.shape[1],
            dtype=fields_a.dtype,
            device=fields_a.device,
        )
    return torch.einsum("knd,jnd,n->kj", fields_a, fields_b, w)


def orthogonality_penalty(
    fields: torch.Tensor,
    weights: torch.Tensor | None = None,
    stop_gradient: bool = True,
) -> torch.Tensor:
    """Sequential orthogonality penalty (Ko, Kim & Lee 2024, eq. (11)).

    ``L_j = sum_{i<j} (pi/2 - arccos |c_ij|)`` with ``c_ij`` the cosine between fields ``i`` and
    ``j`` in the (weighted) point-mean inner product. With ``stop_gradient`` the earlier field
    ``i`` is detached, so only the later slot is pushed away and the slots come out ordered.
    Unit norm is not penalised: it is built into :class:`GeneratorField` (for already unit-norm
    fields the cosine equals the inner product).

    Parameters
    ----------
    fields : torch.Tensor, shape (K, N, D)
    weights : torch.Tensor, shape (N,), optional
    stop_gradient : bool, default True

    Returns
    -------
    torch.Tensor, shape (K,)
        ``L_0 = 0`` always.
    """
    _check_fields(fields)
    norms = field_inner_products(fields, fields, weights).diagonal().sqrt()
    if not bool((norms > 0).all()):
        raise ValueError("every field must be non-zero on the sample points")
    unit = fields / norms[:, None, None]
    earlier = unit.detach() if stop_gradient else unit
    cosines = field_inner_products(earlier, unit, weights)  # [i, j] = <sg(V_i), V_j>
    # arccos has an infinite slope at 1; clamping keeps exact duplicates finite (zero gradient).
    limit = 1.0 - 8.0 * torch.finfo(fields.dtype).eps
    terms = math.pi / 2 - torch.arccos(cosines.abs().clamp(max=limit))
    strictly_earlier = torch.ones_like(cosines, dtype=torch.bool).triu(diagonal=1)
    return (terms * strictly_earlier).sum(dim=0)


def lipschitz_penalty(
    fields: torch.Tensor,
    points: torch.Tensor | None = None,
    tau: float = 3.0,
    axes: Sequence[int] = (0,),
    periodic_axes: Sequence[int] = (),
    coordinate_periods: Sequence[float | None] | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Neighbour-hinge smoothness penalty (Ko, Kim & Lee 2024, eq. (13)).

    For every pair of neighbouring grid points ``(a, b)`` along each axis in ``axes`` the term
    is ``max(|V(a) - V(b)| - tau, 0)`` (``points`` omitted: images, tau = 0.5, ``reduction="sum"``)
    or ``max(|V(a) - V(b)| / |a - b| - tau, 0)`` (``points`` given: PDEs, tau = 3, ``"mean"``).
    Each axis is reduced separately and the axes are added.

    Parameters
    ----------
    fields : torch.Tensor, shape ``(K, *grid, D)``
        Field values on a grid of points.
    points : torch.Tensor, shape ``(*grid, D)``, optional
        The grid points; when given the difference quotient is penalised.
    tau : float, default 3.0
        Allowed slope (or difference) before the hinge becomes active.
    axes : sequence of int, default (0,)
        Grid axes (indices into ``grid``) along which neighbours are compared.
    periodic_axes : sequence of int, default ()
        Subset of ``axes`` that wrap around: the last and first grid points are neighbours too.
    coordinate_periods : sequence of float or None, length D, optional
        Period of each coordinate; differences in a periodic coordinate are unwrapped to
        ``[-P/2, P/2)`` (the PDE ``x`` in ``[0, 1)`` has period 1).
    reduction : {"mean", "sum"}, default "mean"

    Returns
    -------
    torch.Tensor, shape (K,)
    """
    if not isinstance(fields, torch.Tensor) or fields.ndim < 3:
        raise ValueError("fields must be a torch.Tensor of shape (K, *grid, D)")
    grid_ndim = fields.ndim - 2
    dim = fields.shape[-1]
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    if tau < 0:
        raise ValueError(f"tau must be non-negative, got {tau}")
    axes = tuple(int(a) for a in axes)
    if not axes or any(not 0 <= a < grid_ndim for a in axes):
        raise ValueError(f"axes must be non-empty indices in [0, {grid_ndim}), got {axes}")
    if not set(periodic_axes) <= set(axes):
        raise ValueError(f"periodic_axes {tuple(periodic_axes)} must be a subset of axes {axes}")
    if points is not None:
        points = torch.as_tensor(points, dtype=fields.dtype, device=fields.device)
        if points.shape != fields.shape[1:]:
            raise ValueError(
                f"points must have shape {tuple(fields.shape[1:])}, got {tuple(points.shape)}"
            )
    periods = None
    if coordinate_periods is not None:
        if points is None:
            raise ValueError("coordinate_periods needs points")
        if len(coordinate_periods) != dim:
            raise ValueError(f"coordinate_periods must have length {dim}")
        periods = [None if p is None else float(p) for p in coordinate_periods]

    total = fields.new_zeros(fields.shape[0])
    for axis in axes:
        field_axis = axis + 1
        if axis in periodic_axes:
            field_diff = fields - torch.roll(fields, shifts=1, dims=field_axis)
        else:
            field_diff = torch.diff(fields, dim=field_axis)
        terms = torch.linalg.vector_norm(field_diff, dim=-1)
        if points is not None:
            if axis in periodic_axes:
                point_diff = points - torch.roll(points, shifts=1, dims=axis)
            else:
                point_diff = torch.diff(points, dim=axis)
            if periods is not None:
                columns = []
                for d, period in enumerate(periods):
                    column = point_diff[..., d]
                    if period is not None:
                        column = torch.remainder(column + period / 2, period) - period / 2
                    columns.append(column)
                point_diff = torch.stack(columns, dim=-1)
            distances = torch.linalg.vector_norm(point_diff, dim=-1)
            if not bool((distances > 0).all()):
                raise ValueError("neighbouring points coincide; difference quotient undefined")
            terms = terms / distances
        hinge = torch.clamp(terms - tau, min=0.0).flatten(1)
        total = total + (hinge.mean(dim=1) if reduction == "mean" else hinge.sum(dim=1))
    return total


def sobolev_penalty(
    fields: torch.Tensor,
    spacing: float,
    axis: int = -1,
    order: int = 2,
    floor: float = 0.0,
) -> torch.Tensor:
    """Log Sobolev-seminorm penalty along one periodic grid axis (Ko, Kim & Lee 2024, eq. (23)).

    The FFT ``F`` of each field component along ``axis`` is weighted by
    ``(1 + f^2)^order - 1`` with ``f = fftfreq(n, spacing)``; ``|F|^2`` times this weight is
    averaged over frequency, its log is taken, and the logs are averaged over all remaining grid
    axes and components.

    Parameters
    ----------
    fields : torch.Tensor, shape ``(K, *grid, D)``
    spacing : float
        Physical grid spacing along ``axis`` (``dx``).
    axis : int, default -1
        Grid axis (index into ``grid``; negative counts from the end of ``grid``) to transform.
    order : int, default 2
    floor : float, default 0.0
        Lower clamp of the averaged energy before the log; the paper uses none, so a field that
        is exactly constant along ``axis`` gives ``-inf`` unless ``floor > 0``.

    Returns
    -------
    torch.Tensor, shape (K,)
    """
    if not isinstance(fields, torch.Tensor) or fields.ndim < 3:
        raise ValueError("fields must be a torch.Tensor of shape (K, *grid, D)")
    if not spacing > 0:
        raise ValueError(f"spacing must be positive, got {spacing}")
    if int(order) < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    if floor < 0:
        raise ValueError(f"floor must be non-negative, got {floor}")
    grid_ndim = fields.ndim - 2
    if not -grid_ndim <= axis < grid_ndim:
        raise ValueError(f"axis must index one of the {grid_ndim} grid axes, got {axis}")
    field_axis = (axis % grid_ndim) + 1
    n = fields.shape[field_axis]
    freq = torch.fft.fftfreq(n, d=spacing, dtype=fields.dtype, device=fields.device)
    weight = (1.0 + freq**2) ** int(order) - 1.0
    spectrum = torch.fft.fft(fields, dim=field_axis).abs() ** 2
    shape = [1] * fields.ndim
    shape[field_axis] = n
    energy = (spectrum * weight.reshape(shape)).mean(dim=field_axis)
    return torch.log(energy.clamp(min=floor)).flatten(1).mean(dim=1)


@dataclass(frozen=True)
class FieldSimilarity:
    """Comparison of learned fields with ground-truth fields (Ko, Kim & Lee 2024, Fig. 4, §5.1).

    Attributes
    ----------
    inner_products : ndarray, shape (K, J)
        Signed cosines ``<V_k, G_j>`` between unit-norm learned fields and the (orthonormalised,
        if requested) ground-truth fields. The paper's tables show the transpose.
    projection_norms : ndarray, shape (K,)
        Cosine of the angle between ``V_k`` and ``span{G}`` (norm of the orthogonal projection of
        the unit field ``V_k`` onto the span), in ``[0, 1]``.
    principal_angles : ndarray, shape (min(K, rank G),)
        Principal angles (radians, ascending) between ``span{V}`` and ``span{G}``.
    """

    inner_products: np.ndarray
    projection_norms: np.ndarray
    principal_angles: np.ndarray


def _orthonormal_basis(gram: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Coefficients ``C (J, r)`` such that the fields ``C^T G`` are orthonormal."""
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    keep = eigenvalues > rtol * max(float(eigenvalues.max()), 0.0)
    return eigenvectors[:, keep] / np.sqrt(eigenvalues[keep])


def field_similarity(
    learned,
    true,
    weights=None,
    orthonormalize_true: bool = True,
) -> FieldSimilarity:
    """Inner-product table and projection norms of learned vs true fields (Ko et al. 2024, Fig. 4).

    Parameters
    ----------
    learned : array_like or torch.Tensor, shape (K, N, D)
        Learned fields at sample points (normalised here).
    true : array_like or torch.Tensor, shape (J, N, D)
        Ground-truth fields at the same points.
    weights : array_like, shape (N,), optional
        Point weights of the inner product (image weight map); uniform when omitted.
    orthonormalize_true : bool, default True
        Orthonormalise the true fields (Gram-Schmidt in the given order, as for the PDE
        symmetries) before tabulating; otherwise each is only normalised (as for the CIFAR affine
        basis). Projection norms and principal angles always use an orthonormal basis of the span.

    Returns
    -------
    FieldSimilarity
    """

    def as_array(values, name):
        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 3:
            raise ValueError(f"{name} must have shape (n_fields, N, D), got {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} contains NaN or inf values")
        return values

    learned = as_array(learned, "learned")
    true = as_array(true, "true")
    if learned.shape[1:] != true.shape[1:]:
        raise ValueError(f"learned {learned.shape} and true {true.shape} must share (N, D)")
    n_points = learned.shape[1]
    if weights is None:
        w = np.full(n_points, 1.0 / n_points)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (n_points,) or np.any(w < 0) or not w.sum() > 0:
            raise ValueError(f"weights must be non-negative of shape ({n_points},), positive sum")
        w = w / w.sum()

    def inner(a, b):
        return np.einsum("knd,jnd,n->kj", a, b, w)

    learned_norms = np.sqrt(np.diagonal(inner(learned, learned)))
    true_norms = np.sqrt(np.diagonal(inner(true, true)))
    if np.any(learned_norms == 0) or np.any(true_norms == 0):
        raise ValueError("every field must be non-zero on the sample points")
    learned = learned / learned_norms[:, None, None]
    true = true / true_norms[:, None, None]

    if orthonormalize_true:
        # Gram-Schmidt in the given order = Cholesky of the Gram matrix.
        gram = inner(true, true)
        try:
            factor = np.linalg.cholesky(gram)
        except np.linalg.LinAlgError as err:
            raise ValueError("true fields are linearly dependent on the sample points") from err
        table_basis = np.einsum("ij,jnd->ind", np.linalg.inv(factor), true)
    else:
        table_basis = true
    inner_products = inner(learned, table_basis)

    span_coefficients = _orthonormal_basis(inner(true, true))
    span_basis = np.einsum("jr,jnd->rnd", span_coefficients, true)
    projections = inner(learned, span_basis)  # (K, r)
    projection_norms = np.minimum(np.linalg.norm(projections, axis=1), 1.0)

    # Fields as vectors in the weighted L2 product: rows scaled by sqrt(w) are Euclidean.
    root = np.sqrt(w)[None, :, None]
    angles = principal_angles((learned * root).reshape(learned.shape[0], -1),
                              (true * root).reshape(true.shape[0], -1), rtol=_SPAN_RTOL)
    return FieldSimilarity(inner_products, projection_norms, angles)
