"""The Lie derivative of an operator on fields along Lie point symmetries ``ξ ∂x + τ ∂t + φ ∂u``.

An operator ``F`` maps a window of a field, ``u(x_i, t_j)`` at input times ``t_in``, to a field on
the same spatial grid at output times ``t_out`` (a time-stepper, a forecaster, a solution
operator). A point symmetry moves the graph of a field; to first order it changes the field by its
*characteristic*

    ``Q[u] = φ(x, t, u) − ξ(x, t, u) u_x − τ(x, t, u) u_t``

(Olver, *Applications of Lie Groups to Differential Equations*, §2.3 and §5.1). The exact solution
operator of a PDE with the symmetry maps the transformed input window to the transformed output
window, so its Lie derivative

    ``L_V F(u) = DF(u)[Q_in[u]] − Q_out[F(u)]``

vanishes; for a learned operator ``‖L_V F‖`` measures how far it is from respecting ``V``
(Otto, Zolman, Kutz & Brunton 2023, the Lie derivative of a model under a group action, here for
operators acting on fields). ``DF(u)[·]`` is a forward-mode derivative (:func:`torch.func.jvp`)
through any torch module; gradients with respect to its parameters flow through it.

How the derivatives are taken:

* ``u_x`` on a **periodic** grid is spectral (exact for the trigonometric interpolant, so a
  spectral convolution's Lie derivative along ``∂x`` vanishes to rounding); on a non-periodic
  grid it is a fourth-order finite difference.
* ``u_t`` is a finite difference along time (fourth order with five or more times): on the input
  window for ``Q_in``, and on the input window followed by the operator's output for ``Q_out``,
  so a candidate with ``τ ≠ 0`` needs output times that continue the input times with the same
  step. A time-stepper that does not see absolute time is not automatically time-translation
  equivariant in this sense: ``L_{∂t} F = −DF[u_t] + ∂t F`` asks that advancing the input window
  advances the forecast, which only a consistent stepper does.

Candidates must act on the grid: on a periodic grid every component must be periodic in ``x``
(a scaling ``x ∂x`` changes the period and is refused); on a non-periodic grid ``ξ`` must vanish at
both ends (a translation would move the ends). ``ξ`` and ``τ`` must not depend on ``u`` and ``φ``
must be affine in ``u`` — true for the point symmetries of the evolution equations in
:func:`symmetrykit.datasets.pde` and for those :func:`discover_pde` finds with its default library.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..datasets._pde import wavenumbers

__all__ = ["FieldGrid", "GridAction", "operator_lie_derivative"]

_UNIFORM_RTOL = 1e-6
_PERIODIC_RTOL = 1e-8
_AFFINE_RTOL = 1e-9


def _uniform_step(values: np.ndarray, name: str) -> float:
    if values.size < 2:
        return float("nan")
    steps = np.diff(values)
    step = float(np.mean(steps))
    if not step > 0 or np.max(np.abs(steps - step)) > _UNIFORM_RTOL * abs(step):
        raise ValueError(f"{name} must be strictly increasing with a uniform step")
    return step


def _as_axis(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if np.iscomplexobj(array):
        raise ValueError(f"{name} is complex; grids are real")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    array = np.atleast_1d(array.astype(np.float64))
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf")
    return array


@dataclass(frozen=True)
class FieldGrid:
    """The grid of an operator's fields: space ``x``, input times ``t_in``, output times ``t_out``.

    Parameters
    ----------
    x
        Spatial grid points, uniform and increasing (``nx`` points).
    t_in, t_out
        Times of the input window's rows and of the output's rows, each uniform and increasing.
        Times are absolute in the sense the candidates use them (a Galilean boost ``t ∂x + ∂u``
        depends on ``t``); for an autonomous equation any origin gives the same algebra.
    periodic
        Whether ``x`` is periodic with period :attr:`length`.
    length
        The period; by default ``nx`` grid steps (the grid excludes the right end).

    Examples
    --------
    >>> import numpy as np
    >>> grid = FieldGrid.uniform(nx=64, length=2 * np.pi, n_in=3, n_out=2, dt=0.1)
    >>> grid.x.shape, grid.t_in, grid.t_out
    ((64,), array([0. , 0.1, 0.2]), array([0.3, 0.4]))
    """

    x: np.ndarray
    t_in: np.ndarray
    t_out: np.ndarray
    periodic: bool = True
    length: float | None = None

    def __post_init__(self) -> None:
        x = _as_axis(self.x, "x")
        if x.size < 4:
            raise ValueError(f"x needs at least 4 points, got {x.size}")
        dx = _uniform_step(x, "x")
        t_in, t_out = _as_axis(self.t_in, "t_in"), _as_axis(self.t_out, "t_out")
        _uniform_step(t_in, "t_in")
        _uniform_step(t_out, "t_out")
        if not isinstance(self.periodic, (bool, np.bool_)):
            raise ValueError(f"periodic must be True or False, got {self.periodic!r}")
        length = self.length
        if length is None:
            length = dx * x.size if self.periodic else float(x[-1] - x[0])
        elif isinstance(length, bool) or not (math.isfinite(float(length)) and length > 0):
            raise ValueError(f"length must be a positive number, got {length!r}")
        if self.periodic and abs(float(length) - dx * x.size) > 1e-6 * float(length):
            raise ValueError(
                f"a periodic grid of {x.size} points with step {dx:.6g} has period "
                f"{dx * x.size:.6g}, not length={float(length):.6g} (the grid excludes the "
                "right end)"
            )
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "t_in", t_in)
        object.__setattr__(self, "t_out", t_out)
        object.__setattr__(self, "periodic", bool(self.periodic))
        object.__setattr__(self, "length", float(length))

    @classmethod
    def uniform(cls, *, nx: int, length: float, n_in: int, n_out: int, dt: float,
                t0: float = 0.0, periodic: bool = True) -> FieldGrid:
        """A periodic grid ``x = 0, L/nx, …`` with ``n_out`` output times right after the input."""
        x = np.arange(nx) * (length / nx) if periodic else np.linspace(0.0, length, nx)
        times = t0 + dt * np.arange(n_in + n_out)
        return cls(x, times[:n_in], times[n_in:], periodic=periodic, length=length)

    @classmethod
    def from_dataset(cls, dataset: Any, n_in: int, n_out: int, start: int = 0) -> FieldGrid:
        """The grid of a :class:`~symmetrykit.datasets.PDEDataset` window (rows from ``start``)."""
        t = np.asarray(dataset.t, dtype=np.float64)
        if start < 0 or start + n_in + n_out > t.size:
            raise ValueError(
                f"a window of {n_in} + {n_out} rows from row {start} does not fit the "
                f"{t.size} time rows of {dataset.name}"
            )
        x = np.asarray(dataset.x, dtype=np.float64)
        length = float(dataset.params.get("length", (x[1] - x[0]) * x.size))
        rows = t[start:start + n_in + n_out]
        return cls(x, rows[:n_in], rows[n_in:], periodic=True, length=length)

    @property
    def nx(self) -> int:
        return int(self.x.size)

    @property
    def dx(self) -> float:
        return float(self.x[1] - self.x[0])

    def continues(self) -> bool:
        """Whether the output times continue the input times with the same step."""
        times = np.concatenate([self.t_in, self.t_out])
        try:
            step = _uniform_step(times, "times")
        except ValueError:
            return False
        return times.size >= 2 and step > 0


def _difference_matrix(n: int, step: float, order: int = 4) -> np.ndarray:
    """First-derivative matrix on ``n`` uniform points: ``order + 1``-point stencils, one-sided
    near the ends (fewer points when ``n`` is small)."""
    width = min(order + 1, n)
    if width < 2:
        raise ValueError("a derivative needs at least 2 points")
    matrix = np.zeros((n, n))
    for i in range(n):
        start = min(max(i - width // 2, 0), n - width)
        offsets = np.arange(start, start + width) - i
        vandermonde = np.vander(offsets.astype(np.float64), width, increasing=True).T
        rhs = np.zeros(width)
        rhs[1] = 1.0
        matrix[i, start:start + width] = np.linalg.solve(vandermonde, rhs) / step
    return matrix


def _component_name(symmetry: Any, index: int) -> str:
    return str(getattr(symmetry, "name", f"candidate {index}"))


def _evaluate(symmetry: Callable, x: np.ndarray, t: np.ndarray, u: float) -> tuple:
    values = symmetry(x, t, np.full_like(x, u))
    if not isinstance(values, tuple | list) or len(values) != 3:
        raise ValueError("a point symmetry must return its three components (ξ, τ, φ)")
    return tuple(np.broadcast_to(np.asarray(v, dtype=np.float64), x.shape) for v in values)


class GridAction:
    """Candidate point symmetries bound to a :class:`FieldGrid`: their characteristics on fields.

    Each candidate is split into ``ξ(x, t)``, ``τ(x, t)`` and ``φ = a(x, t) + b(x, t) u`` on the
    grid's input and output rows; :meth:`characteristic` then evaluates ``Q = a + b u − ξ u_x −
    τ u_t`` on a batch of fields, differentiably in ``u``.

    Parameters
    ----------
    symmetries
        :class:`~symmetrykit.datasets.PointSymmetry` objects (or callables ``(x, t, u) ->
        (ξ, τ, φ)``), e.g. a data set's ``symmetries`` or :attr:`PDEDiscovery.symmetries`.
    grid
        The fields' grid.
    dtype, device
        Of the coefficient tensors (those of the operator's fields).
    """

    def __init__(self, symmetries: Sequence[Any], grid: FieldGrid, *,
                 dtype: torch.dtype = torch.float64, device: Any = None):
        if not isinstance(grid, FieldGrid):
            raise ValueError(f"grid must be a FieldGrid, got {type(grid).__name__}")
        if callable(symmetries) or isinstance(symmetries, str | bytes):
            symmetries = [symmetries]
        symmetries = list(symmetries)
        if not symmetries:
            raise ValueError("no candidate symmetries given")
        for i, s in enumerate(symmetries):
            if not callable(s):
                raise ValueError(f"candidate {i} is not a point symmetry (got {type(s).__name__})")
        self.symmetries = tuple(symmetries)
        self.names = tuple(_component_name(s, i) for i, s in enumerate(symmetries))
        self.grid = grid
        self.dtype, self.device = dtype, device
        coefficients = [self._split(s, name) for s, name in zip(symmetries, self.names,
                                                               strict=True)]
        # (S, rows, nx) per part, input rows then output rows
        stacked = {key: np.stack([c[key] for c in coefficients]) for key in coefficients[0]}
        self.uses_time = bool(np.any(stacked["tau"] != 0))
        if self.uses_time and grid.t_in.size < 2:
            raise ValueError(
                "candidates with τ ≠ 0 need u_t of the input window, which needs at least 2 input "
                f"times (got {grid.t_in.size}); leave out: "
                + ", ".join(n for n, c in zip(self.names, coefficients, strict=True)
                            if np.any(c["tau"] != 0))
            )
        if self.uses_time and not grid.continues():
            raise ValueError(
                "candidates with τ ≠ 0 need u_t of the output, taken along the input window "
                "followed by the output; the output times must continue the input times with the "
                "same step"
            )
        k = grid.t_in.size
        self._tensors = {
            key: torch.as_tensor(value, dtype=dtype, device=device) for key, value in
            stacked.items()
        }
        self._in = {key: value[:, :k] for key, value in self._tensors.items()}
        self._out = {key: value[:, k:] for key, value in self._tensors.items()}
        dt_all = _uniform_step(np.concatenate([grid.t_in, grid.t_out]), "times") \
            if grid.continues() else float("nan")
        if grid.t_in.size >= 2:
            self._d_in = torch.as_tensor(
                _difference_matrix(k, float(grid.t_in[1] - grid.t_in[0])), dtype=dtype,
                device=device)
        else:
            self._d_in = None
        if grid.continues():
            full = _difference_matrix(k + grid.t_out.size, dt_all)
            self._d_out = torch.as_tensor(full[k:], dtype=dtype, device=device)
        else:
            self._d_out = None
        nx = grid.nx
        if grid.periodic:
            # the Nyquist mode of an even grid has no real derivative (wavenumber 0)
            self._ik = torch.as_tensor(1j * wavenumbers(nx, grid.length), device=device)
            self._dx_matrix = None
        else:
            self._ik = None
            self._dx_matrix = torch.as_tensor(_difference_matrix(nx, grid.dx), dtype=dtype,
                                              device=device)

    def __len__(self) -> int:
        return len(self.symmetries)

    def _split(self, symmetry: Callable, name: str) -> dict[str, np.ndarray]:
        grid = self.grid
        times = np.concatenate([grid.t_in, grid.t_out])
        x, t = np.meshgrid(grid.x, times)  # (rows, nx)
        try:
            at0, at1, at2 = (_evaluate(symmetry, x, t, u) for u in (0.0, 1.0, 2.0))
        except ValueError:
            raise
        except Exception as error:  # a user's callable failing on the grid
            raise ValueError(f"candidate {name!r} cannot be evaluated on the grid: {error}") \
                from error
        # u-dependence at the rounding level of the candidate's own size counts as none (the
        # generators discover_pde returns carry ~1e-12 of every library function).
        size = max(float(np.max(np.abs(v))) for values in (at0, at1, at2) for v in values)
        atol = _AFFINE_RTOL * max(size, 1e-300)
        for label, part in (("ξ", 0), ("τ", 1)):
            if not np.allclose(at0[part], at1[part], rtol=0, atol=atol) or not np.allclose(
                    at0[part], at2[part], rtol=0, atol=atol):
                raise ValueError(
                    f"candidate {name!r}: {label} depends on u; an operator's grid takes point "
                    "symmetries with ξ, τ independent of u and φ affine in u"
                )
        phi_a, phi_b = at0[2], at1[2] - at0[2]
        if not np.allclose(at2[2], phi_a + 2 * phi_b, rtol=0, atol=atol):
            raise ValueError(
                f"candidate {name!r}: φ is not affine in u; an operator's grid takes point "
                "symmetries with φ = a(x, t) + b(x, t) u"
            )
        parts = {"xi": at0[0], "tau": at0[1], "a": phi_a, "b": phi_b}
        for label, value in parts.items():
            if not np.all(np.isfinite(value)):
                raise ValueError(f"candidate {name!r} is not finite on the grid ({label})")
        self._check_domain(symmetry, name, x, t, parts)
        return parts

    def _check_domain(self, symmetry: Callable, name: str, x: np.ndarray, t: np.ndarray,
                      parts: dict[str, np.ndarray]) -> None:
        grid = self.grid
        if grid.periodic:
            shifted = {}
            for u in (0.0, 1.0):
                values = _evaluate(symmetry, x + grid.length, t, u)
                shifted[u] = values
            moved = {"xi": shifted[0.0][0], "tau": shifted[0.0][1], "a": shifted[0.0][2],
                     "b": shifted[1.0][2] - shifted[0.0][2]}
            for label, value in parts.items():
                scale = max(float(np.max(np.abs(value))), 1.0)
                if np.max(np.abs(moved[label] - value)) > _PERIODIC_RTOL * scale:
                    symbol = {"xi": "ξ", "tau": "τ", "a": "φ", "b": "φ"}[label]
                    raise ValueError(
                        f"candidate {name!r} does not preserve the periodic grid: {symbol} is not "
                        f"periodic in x with period {grid.length:.6g} (a field such as x ∂x "
                        "changes the period); leave it out or use a non-periodic grid"
                    )
        else:
            ends = parts["xi"][:, [0, -1]]
            if np.max(np.abs(ends)) > 1e-12 * max(1.0, float(np.max(np.abs(parts["xi"])))):
                raise ValueError(
                    f"candidate {name!r} does not preserve the non-periodic grid: ξ ≠ 0 at its "
                    f"ends x = {grid.x[0]:.6g} and {grid.x[-1]:.6g}, so it moves the boundary "
                    "(a translation needs a periodic grid)"
                )

    # ------------------------------------------------------------------ derivatives
    def x_derivative(self, u: torch.Tensor) -> torch.Tensor:
        """``∂u/∂x`` along the last axis: spectral on a periodic grid, else finite differences."""
        if self._ik is not None:
            coefficients = torch.fft.rfft(u, dim=-1)
            return torch.fft.irfft(coefficients * self._ik.to(coefficients.dtype), n=u.shape[-1],
                                   dim=-1)
        return u @ self._dx_matrix.to(u.dtype).T

    def _t_derivative(self, matrix: torch.Tensor, series: torch.Tensor) -> torch.Tensor:
        return torch.einsum("ij,...jx->...ix", matrix.to(series.dtype), series)

    def characteristic(self, u: torch.Tensor, output: torch.Tensor | None = None) -> torch.Tensor:
        """``Q`` of every candidate: on the input window ``u`` (``(B, n_in, nx)``), or — with
        ``output`` ``(B, n_out, nx)`` — on the output, whose ``u_t`` is taken along the input
        window followed by the output. Returns ``(S, B, rows, nx)``."""
        target = u if output is None else output
        part = self._in if output is None else self._out
        dtype = target.dtype
        xi, tau, a, b = (part[key].to(dtype)[:, None] for key in ("xi", "tau", "a", "b"))
        q = a + b * target[None] - xi * self.x_derivative(target)[None]
        if self.uses_time:
            if output is None:
                u_t = self._t_derivative(self._d_in, u)
            else:
                u_t = self._t_derivative(self._d_out, torch.cat([u.to(dtype), output], dim=1))
            q = q - tau * u_t[None]
        return q


def _check_fields(u: Any, grid: FieldGrid, name: str = "u") -> torch.Tensor:
    if not isinstance(u, torch.Tensor):
        array = np.asarray(u)
        if np.iscomplexobj(array):
            raise ValueError(f"{name} is complex; fields are real")
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"{name} must be a floating-point array, got dtype {array.dtype}")
        u = torch.as_tensor(array)
    if u.is_complex():
        raise ValueError(f"{name} is complex; fields are real")
    if not u.is_floating_point():
        raise ValueError(f"{name} must be floating point, got {u.dtype}")
    expected = (grid.t_in.size, grid.nx)
    if u.ndim != 3 or tuple(u.shape[1:]) != expected:
        raise ValueError(
            f"{name} must have shape (batch, {expected[0]}, {expected[1]}) — input times × grid "
            f"points — got {tuple(u.shape)}"
        )
    if u.shape[0] == 0:
        raise ValueError(f"{name} holds no fields")
    if not bool(torch.isfinite(u).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return u


def _check_output(output: torch.Tensor, grid: FieldGrid, batch: int) -> None:
    if output.ndim != 3:
        raise ValueError(
            f"the operator must return fields of shape (batch, n_out, nx), got shape "
            f"{tuple(output.shape)}"
        )
    if output.shape[-1] != grid.nx:
        raise ValueError(
            f"the operator's output grid has {output.shape[-1]} points but its input grid "
            f"{grid.nx}: the Lie derivative compares fields on one grid"
        )
    if output.shape[1] != grid.t_out.size or output.shape[0] != batch:
        raise ValueError(
            f"the operator returned shape {tuple(output.shape)}; the grid expects (batch={batch}, "
            f"n_out={grid.t_out.size}, nx={grid.nx})"
        )


def operator_lie_derivative(
    operator: Callable[[torch.Tensor], torch.Tensor],
    u: Any,
    symmetries: Sequence[Any] | GridAction,
    grid: FieldGrid | None = None,
    *,
    normalize: bool = False,
    return_output: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """``L_V F(u) = DF(u)[Q_in] − Q_out[F(u)]`` for every candidate ``V``: ``(S, B, n_out, nx)``.

    Parameters
    ----------
    operator
        A torch module or function mapping ``(B, n_in, nx)`` to ``(B, n_out, nx)`` fields.
    u
        Input windows ``(B, n_in, nx)`` on ``grid`` (tensor or array; kept in its dtype).
    symmetries
        Candidate point symmetries, or a prepared :class:`GridAction`.
    grid
        The fields' grid (not needed with a :class:`GridAction`).
    normalize
        Divide each candidate's Lie derivative by the RMS of its input characteristic ``Q_in``
        over ``u``, so that candidates of different lengths are compared per unit of input change.
    return_output
        Also return ``F(u)``.

    The forward-mode derivative costs about as much as ``S`` extra evaluations of the operator;
    the result is differentiable with respect to the operator's parameters.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from symmetrykit.datasets import PointSymmetry
    >>> shift = PointSymmetry("x-translation", lambda x, t, u: (1.0, 0.0, 0.0))
    >>> grid = FieldGrid.uniform(nx=32, length=2 * np.pi, n_in=1, n_out=1, dt=0.1)
    >>> smooth = lambda v: torch.fft.irfft(torch.fft.rfft(v) * 0.5, n=32)  # a convolution
    >>> u = torch.randn(4, 1, 32, dtype=torch.float64)
    >>> float(operator_lie_derivative(smooth, u, [shift], grid).abs().max()) < 1e-12
    True
    """
    if isinstance(symmetries, GridAction):
        action = symmetries
        if grid is not None and grid is not action.grid:
            raise ValueError("give the grid either in the GridAction or here, not both")
        grid = action.grid
    else:
        if grid is None:
            raise ValueError("grid is required with a list of symmetries")
        u_dtype = u.dtype if isinstance(u, torch.Tensor) else torch.float64
        action = GridAction(symmetries, grid, dtype=u_dtype)
    u = _check_fields(u, grid)
    q_in = action.characteristic(u)  # (S, B, k, nx)
    n_sym, batch = q_in.shape[0], u.shape[0]
    repeated = u.repeat(n_sym, 1, 1)  # a copy: forward-mode needs its own memory
    with warnings.catch_warnings():
        # torch loads its forward-mode decompositions on first use through torch.jit.script,
        # which warns about its own deprecation; nothing for the caller to act on.
        warnings.filterwarnings(
            "ignore", message=".*torch.jit.script.*deprecated", category=DeprecationWarning
        )
        output, tangent = torch.func.jvp(operator, (repeated,),
                                         (q_in.reshape(repeated.shape),))
    _check_output(output, grid, n_sym * batch)
    output = output[:batch]
    tangent = tangent.reshape(n_sym, batch, *output.shape[1:])
    lie = tangent - action.characteristic(u, output)
    if normalize:
        rms = q_in.detach().pow(2).mean(dim=(1, 2, 3)).sqrt()
        if bool((rms == 0).any()):
            zero = [n for n, r in zip(action.names, rms.tolist(), strict=True) if r == 0]
            raise ValueError(f"candidates {zero} do not change these fields (Q_in = 0)")
        lie = lie / rms[:, None, None, None]
    return (lie, output) if return_output else lie
