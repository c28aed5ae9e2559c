"""Discover, promote and enforce point symmetries of operators on fields (neural operators).

* **discover** — :func:`discover_operator`: the SVD of the sampled map ``V ↦ L_V F`` over a
  candidate list of point symmetries (columns normalised per unit of input change); its
  nullspace, counted by the same gap rules as :func:`discover`, is the operator's symmetry
  algebra inside the candidates.
* **promote** — :class:`OperatorSymmetryPenalty`: the nuclear norm (or a group lasso) of that
  matrix, differentiable in the operator's parameters, to add to a training loss (Otto, Zolman,
  Kutz & Brunton 2023: promote what the data support, not a fixed group).
* **enforce** — :class:`GalileanFrame`: exact equivariance to a Galilean boost
  ``v t ∂x + ∂u`` (or, with ``velocity=0``, to the shift ``∂u``) by a change of frame: the input is
  boosted to zero mean, the operator applied, the output boosted back. Translation equivariance
  in ``x`` needs no wrapper: spectral and pointwise layers without coordinate inputs (such as
  :class:`symmetrykit.flows.FNO1d`) have it by construction, up to the aliasing of pointwise
  nonlinearities between grid points. Time translation has no such construction for a
  time-stepper; promote it, or augment the data.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..datasets._pde import wavenumbers
from ._discover import _select_nullity
from ._field_operators import FieldGrid, GridAction, _check_fields, operator_lie_derivative
from ._nuclear import nuclear_norm

__all__ = [
    "GalileanFrame",
    "OperatorDiscovery",
    "OperatorSymmetryPenalty",
    "discover_operator",
    "galilean_boost",
]


#: Relative singular values below this count as this value when the gap is sought: the rounding
#: of forward-mode derivatives through float64 operators, FFTs and finite differences.
RESOLUTION = 1e-8


@dataclass(frozen=True)
class _Combination:
    """A linear combination of point symmetries, itself a point symmetry."""

    name: str
    parts: tuple
    weights: tuple

    def __call__(self, x: Any, t: Any, u: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        total = None
        for weight, part in zip(self.weights, self.parts, strict=True):
            values = [weight * np.asarray(v, dtype=np.float64) for v in part(x, t, u)]
            total = values if total is None else [a + b for a, b in zip(total, values,
                                                                         strict=True)]
        shape = np.broadcast(np.asarray(x), np.asarray(t), np.asarray(u)).shape
        return tuple(np.broadcast_to(v, shape).copy() for v in total)


@dataclass(frozen=True)
class OperatorDiscovery:
    """The symmetry algebra of an operator on fields, inside a list of candidate point symmetries.

    Attributes
    ----------
    names
        The candidates' names, in the order given.
    singular_values
        Spectrum of the normalised Lie-derivative matrix, ascending, divided by :attr:`scale`;
        ``singular_values[:nullity]`` belong to the symmetries.
    nullity
        Number of symmetries found.
    gap
        ``singular_values[nullity] / singular_values[nullity − 1]`` (``nan`` when ``nullity`` is 0;
        the distance to 1 when every candidate is a symmetry).
    directions
        ``(S, S)``: row ``i`` is the combination of the *normalised* candidates (each scaled to unit
        RMS change of the input fields) belonging to ``singular_values[i]``.
    candidate_scales
        RMS of each candidate's input characteristic on the sampled fields (the normalisation).
    coefficients
        ``(nullity, S)``: the symmetries as combinations of the candidates as given.
    symmetries
        The symmetries found, as point symmetries (callables ``(x, t, u) -> (ξ, τ, φ)``).
    relative_lie_derivatives
        Per candidate, ``‖L_V F‖ / ‖Q_out‖``: how far the operator is from respecting it alone.
    scale
        What the spectrum is divided by: the larger of its largest value and the operator's
        natural magnitude (the RMS of the two terms of the Lie derivative without cancellation).
    details
        The number of fields and grid sizes, CPU seconds.
    """

    names: tuple[str, ...]
    singular_values: np.ndarray
    nullity: int
    gap: float
    directions: np.ndarray
    candidate_scales: np.ndarray
    coefficients: np.ndarray
    symmetries: tuple = field(repr=False)
    relative_lie_derivatives: dict[str, float]
    scale: float
    method: str = "forward-mode"
    details: dict = field(default_factory=dict)

    def angle(self, candidate: str | int | Sequence[float]) -> float:
        """Angle in degrees between a candidate (name, index, or a combination of the normalised
        candidates) and the discovered span; 90 when nothing was found."""
        if isinstance(candidate, str):
            if candidate not in self.names:
                raise ValueError(f"unknown candidate {candidate!r}; candidates: {list(self.names)}")
            candidate = self.names.index(candidate)
        if isinstance(candidate, int | np.integer):
            vector = np.zeros(len(self.names))
            vector[int(candidate)] = 1.0
        else:
            vector = np.asarray(candidate, dtype=np.float64)
            if vector.shape != (len(self.names),):
                raise ValueError(f"a combination needs {len(self.names)} weights")
        norm = np.linalg.norm(vector)
        if not norm > 0:
            raise ValueError("a zero combination has no angle")
        if self.nullity == 0:
            return 90.0
        basis = self.directions[: self.nullity]
        cosine = min(1.0, float(np.linalg.norm(basis @ (vector / norm))))
        return float(np.degrees(np.arccos(cosine)))

    def angle_within(self, candidate: str | int, dimension: int) -> float:
        """Angle in degrees between a candidate and the span of the ``dimension`` most symmetric
        directions, whatever the gap says: a continuous score of how nearly it is respected."""
        if not 1 <= dimension <= len(self.names):
            raise ValueError(f"dimension must be in [1, {len(self.names)}], got {dimension}")
        index = self.names.index(candidate) if isinstance(candidate, str) else int(candidate)
        cosine = min(1.0, float(np.linalg.norm(self.directions[:dimension, index])))
        return float(np.degrees(np.arccos(cosine)))

    def formulas(self) -> tuple[str, ...]:
        """The symmetries found, as combinations of the candidates' names."""
        out = []
        for row in self.coefficients:
            biggest = np.max(np.abs(row))
            terms = [f"{c / biggest:+.3g}·{n}" for c, n in zip(row, self.names, strict=True)
                     if abs(c) > 1e-3 * biggest]
            out.append(" ".join(terms))
        return tuple(out)

    def summary(self) -> str:
        """The count with its gap, the spectrum, and per candidate its relative Lie derivative."""
        spectrum = ", ".join(f"{v:.2e}" for v in self.singular_values)
        lines = [
            f"{self.nullity} symmetr{'y' if self.nullity == 1 else 'ies'} of {len(self.names)} "
            f"candidates; gap {self.gap:.3g}; spectrum (relative, ascending): {spectrum}"
        ]
        lines += [f"  {i + 1}. {f}" for i, f in enumerate(self.formulas())]
        lines += [f"  ‖L F‖ / ‖Q_out‖ along {name}: {value:.3g}"
                  for name, value in self.relative_lie_derivatives.items()]
        return "\n".join(lines)


def _iter_batches(u: torch.Tensor, batch_size: int):
    for start in range(0, u.shape[0], batch_size):
        yield u[start:start + batch_size]


def discover_operator(
    operator: Callable[[torch.Tensor], torch.Tensor],
    u: Any,
    symmetries: Sequence[Any],
    grid: FieldGrid,
    *,
    rtol: float | None = None,
    n_symmetries: int | None = None,
    gap_ratio: float | None = 10.0,
    batch_size: int = 16,
) -> OperatorDiscovery:
    """The symmetries of an operator among candidate point symmetries, from the spectrum of its
    Lie derivative sampled on the fields ``u``.

    Parameters
    ----------
    operator
        A torch module or function ``(B, n_in, nx) -> (B, n_out, nx)``; evaluated without
        gradients with respect to its parameters.
    u
        Input windows ``(B, n_in, nx)`` on ``grid`` — typical inputs (held-out data), since an
        operator's symmetry is judged where it is used.
    symmetries
        Candidate point symmetries (e.g. a data set's ``symmetries`` that act on the grid, or
        :attr:`PDEDiscovery.symmetries`).
    grid
        The fields' :class:`FieldGrid`.
    rtol, n_symmetries, gap_ratio
        How the symmetries are counted, as in :func:`discover`: ``n_symmetries`` if given, else
        the largest multiplicative gap of at least ``gap_ratio`` in the spectrum (closed by 1),
        else the relative singular values below ``rtol``. The default gap is small because a
        trained network's symmetries are approximate: an FNO commutes exactly with shifts by
        whole grid steps, but its pointwise nonlinearities alias, so its Lie derivative along the
        continuous ``∂x`` is about 1e-2 of its natural size on KdV data (rounding level on
        band-limited, slowly varying fields).
    batch_size
        Fields per forward-mode pass (memory).

    Returns
    -------
    OperatorDiscovery
    """
    start = time.process_time()
    action = GridAction(symmetries, grid, dtype=_dtype_of(u))
    u = _check_fields(u, grid)
    if rtol is None and n_symmetries is None and gap_ratio is None:
        raise ValueError("give rtol, n_symmetries or gap_ratio")
    n_sym = len(action)
    triangle = np.zeros((0, n_sym))  # R of a QR of the stacked Lie-derivative matrix
    q_in_power, tangent_power, q_out_power = np.zeros(n_sym), np.zeros(n_sym), np.zeros(n_sym)
    n_values = 0
    for chunk in _iter_batches(u, batch_size):
        with torch.no_grad():
            q_in = action.characteristic(chunk)
            lie, output = operator_lie_derivative(operator, chunk, action, return_output=True)
            q_out = action.characteristic(chunk, output).double()
        lie = lie.double()
        flat = lie.reshape(n_sym, -1).T.numpy()
        # A running QR keeps small singular values accurate (a Gram matrix would square them).
        triangle = np.linalg.qr(np.vstack([triangle, flat]), mode="r")
        q_in_power += q_in.double().pow(2).sum(dim=(1, 2, 3)).numpy()
        tangent_power += (lie + q_out).pow(2).reshape(n_sym, -1).sum(dim=1).numpy()
        q_out_power += q_out.pow(2).reshape(n_sym, -1).sum(dim=1).numpy()
        n_values += flat.shape[0]
    n_inputs = u[0].numel() * u.shape[0]
    q_in_rms = np.sqrt(q_in_power / n_inputs)
    if np.any(q_in_rms == 0):
        zero = [n for n, r in zip(action.names, q_in_rms, strict=True) if r == 0]
        raise ValueError(f"candidates {zero} do not change these fields (Q_in = 0)")
    # normalised columns, RMS over the output values: M = L / (rms(Q_in) √P)
    scaling = 1.0 / (q_in_rms * math.sqrt(n_values))
    _, values, vt = np.linalg.svd(triangle * scaling[None, :])
    full = np.zeros(n_sym)
    full[: values.size] = values
    order = np.argsort(full, kind="stable")
    values, directions = full[order], vt[order]
    natural = float(np.max(np.sqrt(np.maximum(tangent_power, q_out_power) / n_values)
                           / q_in_rms))
    scale = max(float(values[-1]), natural)
    if not scale > 0:
        scale = 1.0
    relative = values / scale
    # Values below the resolution of a forward-mode derivative count as that resolution, so
    # that rounding-level zeros do not make the largest gap.
    floored = np.maximum(relative, RESOLUTION)
    nullity = _select_nullity(floored, rtol, n_symmetries, gap_ratio)
    if nullity == 0:
        gap = float("nan")
    else:
        above = floored[nullity] if nullity < floored.size else 1.0
        gap = float(above / floored[nullity - 1])
    # sign convention: the largest entry of each direction positive
    signs = np.sign(directions[np.arange(len(directions)), np.argmax(np.abs(directions), 1)])
    directions = directions * signs[:, None]
    coefficients = directions[:nullity] / q_in_rms[None, :]
    found = tuple(
        _Combination(f"symmetry {i + 1}", action.symmetries, tuple(float(c) for c in row))
        for i, row in enumerate(coefficients)
    )
    column_power = np.sum(triangle**2, axis=0)
    per_candidate = np.sqrt(column_power / np.maximum(q_out_power, 1e-300))
    return OperatorDiscovery(
        names=action.names,
        singular_values=relative,
        nullity=int(nullity),
        gap=gap,
        directions=directions,
        candidate_scales=q_in_rms,
        coefficients=coefficients,
        symmetries=found,
        relative_lie_derivatives={n: float(v) for n, v in zip(action.names, per_candidate,
                                                              strict=True)},
        scale=scale,
        details={"n_fields": int(u.shape[0]), "nx": grid.nx, "n_in": int(grid.t_in.size),
                 "n_out": int(grid.t_out.size), "cpu_seconds": time.process_time() - start},
    )


def _dtype_of(u: Any) -> torch.dtype:
    return u.dtype if isinstance(u, torch.Tensor) and u.is_floating_point() else torch.float64


class OperatorSymmetryPenalty(torch.nn.Module):
    """``‖V ↦ L_V F‖`` over candidate point symmetries, to add to an operator's training loss.

    ``penalty(operator, u)`` evaluates the Lie derivative of ``operator`` on the first
    ``n_fields`` windows of the batch ``u`` along every candidate (normalised per unit RMS change
    of the input), stacks them as the columns of ``M`` (rows divided by ``√P``) and returns

    * ``kind="nuclear"``: ``Σ sqrt(σ_i² + eps²) − eps`` over the singular values of ``M`` (a
      smoothed nuclear norm: promotes the largest subalgebra the data allow, Otto et al.), or
    * ``kind="group-lasso"``: ``Σ_j ‖M_{:, j}‖`` (promotes candidates one by one).

    The result is differentiable with respect to the operator's parameters; the cost is about one
    forward-mode pass over ``len(symmetries) × n_fields`` windows and its backward pass.

    Parameters
    ----------
    symmetries
        Candidate point symmetries acting on the grid.
    grid
        The fields' :class:`FieldGrid`.
    kind
        ``"nuclear"`` or ``"group-lasso"``.
    n_fields
        Windows of each batch the penalty is evaluated on (``None``: all).
    eps
        Smoothing of the nuclear norm (its gradient is undefined at zero singular values).

    Attributes
    ----------
    last_singular_values
        The singular values of ``M`` at the last call (a tensor), to watch promotion work.
    """

    KINDS = ("nuclear", "group-lasso")

    def __init__(self, symmetries: Sequence[Any], grid: FieldGrid, *, kind: str = "nuclear",
                 n_fields: int | None = 4, eps: float = 1e-3):
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}, got {kind!r}")
        if n_fields is not None and (isinstance(n_fields, bool) or not isinstance(
                n_fields, int | np.integer) or n_fields < 1):
            raise ValueError(f"n_fields must be a positive integer or None, got {n_fields!r}")
        if isinstance(eps, bool) or not eps >= 0:
            raise ValueError(f"eps must be >= 0, got {eps!r}")
        self.action = GridAction(symmetries, grid, dtype=torch.float32)
        self.grid, self.kind, self.n_fields, self.eps = grid, kind, n_fields, float(eps)
        self.last_singular_values: torch.Tensor | None = None

    def matrix(self, operator: Callable, u: torch.Tensor) -> torch.Tensor:
        """``M`` (values × candidates) on the first ``n_fields`` windows of ``u``."""
        if self.n_fields is not None:
            u = u[: self.n_fields]
        lie = operator_lie_derivative(operator, u, self.action, normalize=True)
        return lie.reshape(len(self.action), -1).T / math.sqrt(lie[0].numel())

    def forward(self, operator: Callable, u: torch.Tensor) -> torch.Tensor:
        matrix = self.matrix(operator, u)
        with torch.no_grad():
            self.last_singular_values = torch.linalg.svdvals(matrix.detach())
        if self.kind == "group-lasso":
            return matrix.norm(dim=0).sum()
        return nuclear_norm(matrix, eps=self.eps)


def _shift_phases(grid: FieldGrid, shifts: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``exp(−i k s)`` for shifts ``s`` of shape ``(B, rows)``: ``f(x) ↦ f(x − s)``. The Nyquist
    mode of an even grid does not move (its spectral derivative is 0, so the shifts form the
    group the Lie derivative's ``∂x`` generates)."""
    k = torch.as_tensor(wavenumbers(grid.nx, grid.length), dtype=shifts.dtype,
                        device=shifts.device)
    return torch.polar(torch.ones((), dtype=shifts.dtype, device=shifts.device),
                       -shifts[..., None] * k).to(dtype)


def _shift(fields: torch.Tensor, shifts: torch.Tensor, grid: FieldGrid) -> torch.Tensor:
    coefficients = torch.fft.rfft(fields, dim=-1)
    moved = coefficients * _shift_phases(grid, shifts, coefficients.dtype)
    return torch.fft.irfft(moved, n=fields.shape[-1], dim=-1)


def galilean_boost(u: torch.Tensor, amount: torch.Tensor | float, times: Any, grid: FieldGrid,
                   velocity: float = 1.0) -> torch.Tensor:
    """The finite boost ``exp(s (v t ∂x + ∂u))`` of fields ``(B, rows, nx)`` at ``times``:
    ``u(x, t) ↦ u(x − s v t, t) + s`` (spectral shift on the periodic grid)."""
    if not grid.periodic:
        raise ValueError("a Galilean boost acts on a periodic grid only")
    amount = torch.as_tensor(amount, dtype=u.dtype, device=u.device)
    if amount.ndim == 0:
        amount = amount.expand(u.shape[0])
    times = torch.as_tensor(np.asarray(times, dtype=np.float64), dtype=u.dtype, device=u.device)
    shifts = amount[:, None] * velocity * times[None, :]
    return _shift(u, shifts, grid) + amount[:, None, None]


class GalileanFrame(torch.nn.Module):
    """Wrap an operator so that it is exactly equivariant to the boost ``v t ∂x + ∂u``.

    The input window is boosted by ``s = −mean(u)`` (a boost adds ``s`` to the mean and the
    spectral shift keeps it), the operator is applied in that zero-mean frame, and its output is
    boosted back by ``−s``. Because boosts with one time origin compose additively, the wrapped
    operator ``F_G`` satisfies ``F_G(g u) = g F_G(u)`` for every boost ``g`` — for any inner
    operator — and keeps the inner operator's translation equivariance. ``velocity`` is ``v``
    in the grid's units: 1 for KdV, Burgers and Kuramoto–Sivashinsky (``t ∂x + ∂u``); 0 makes it
    the shift ``∂u`` (the heat equation).

    Parameters
    ----------
    operator
        The inner torch module ``(B, n_in, nx) -> (B, n_out, nx)``.
    grid
        A periodic :class:`FieldGrid`; its ``t_in``/``t_out`` are the times the boost uses.
    velocity
        ``v`` of the boost.
    """

    def __init__(self, operator: torch.nn.Module, grid: FieldGrid, velocity: float = 1.0):
        super().__init__()
        if not isinstance(grid, FieldGrid):
            raise ValueError(f"grid must be a FieldGrid, got {type(grid).__name__}")
        if not grid.periodic:
            raise ValueError("GalileanFrame needs a periodic grid (a boost shifts x)")
        if isinstance(velocity, bool) or not math.isfinite(float(velocity)):
            raise ValueError(f"velocity must be a finite number, got {velocity!r}")
        self.operator, self.grid, self.velocity = operator, grid, float(velocity)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        amount = -u.mean(dim=(1, 2))
        canonical = galilean_boost(u, amount, self.grid.t_in, self.grid, self.velocity)
        inner = self.operator(canonical)
        return galilean_boost(inner, -amount, self.grid.t_out, self.grid, self.velocity)
