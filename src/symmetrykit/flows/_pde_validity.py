"""Differentiable PDE validity score and the action of a flow on a PDE solution (Ko et al. 2024).

A one-parameter group acts on a solution ``u(x, t)`` through its graph: every grid sample
``(x_i, t_j, u_ij)`` is pushed through the flow ``phi_s`` on ``(x, t, u)``-space, so the transformed
solution is known only at the deformed, irregular points, which keep the ``(t, x)`` index topology
of the original grid (:func:`deform_solution`).

The validity score (:class:`PDEResidual`) re-estimates ``u_x, u_t, u_xx, u_xxx, u_xxxx`` on that
deformed grid with the least-squares "WENO-like" scheme of the authors' code: around each point,
small rectangular sub-stencils of index neighbours (relative physical offsets ``dx, dt``, ``dx``
unwrapped periodically) each determine a polynomial in ``(dx, dt)`` exactly (a square Vandermonde
solve with the monomials ``dx^a dt^b``, ``a < width``, ``b <= 1``); the sub-stencil estimates are
blended with WENO weights ``prior / (IS + 1e-6)^2`` (``IS`` a detached smoothness indicator,
``prior = 100`` for the x-centred sub-stencils). The PDE residual at each interior point is
floored, ``max(|r|, floor)`` with ``floor = 1e-4``, and its log is averaged over the points of each
sample (the mean of ``log|r|``, the log of the geometric mean; Ko, Kim & Lee 2024, §5.2 and
App. D.1).

Everything is plain differentiable PyTorch, so gradients reach the flowed points and through them
the generator field's parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ..datasets import PDE_NAMES
from ._fields import flow

__all__ = ["PDE_RESIDUALS", "PDEResidual", "deform_solution", "pde_residual"]

# A residual for every equation symmetrykit.datasets.pde generates.
PDE_RESIDUALS = PDE_NAMES

_DEFAULT_FLOOR = 1e-4
_DEFAULT_NU = 0.01
_NKDV_RATE = 50.0
_CENTRED_PRIOR = 100.0
_WENO_EPS = 1e-6
_SOLVE_JITTER = 1e-6
_COEFFICIENT_CLAMP = 1e9
_RESIDUAL_CAP = 1e12
# The highest x-derivative each equation needs (selects the widest sub-stencil).
_X_ORDER = {"kdv": 3, "ks": 4, "burgers": 2, "nkdv": 3, "ckdv": 3, "heat": 2}


def deform_solution(
    field_fn: Callable[[torch.Tensor], torch.Tensor],
    u: torch.Tensor,
    x: torch.Tensor,
    t: torch.Tensor,
    s: float | torch.Tensor,
    *,
    n_steps: int = 4,
) -> torch.Tensor:
    """Push the graph of each solution through the flow of ``field_fn`` (the paper's eq. (8)).

    Every sample ``(x_i, t_j, u[b, j, i])`` is integrated along ``dp/dtau = V(p)`` from ``0`` to
    ``s[b]`` with fixed-step RK4 (:func:`symmetrykit.flows.flow`). No normalisation is applied:
    ``field_fn`` sees and returns **physical** coordinates ``(x, t, u)`` (absolute time, ``x``
    not reduced modulo the period, so a field meant to be periodic in ``x`` must be periodic
    itself). To flow a field defined on learning coordinates ``(x_n, t_n, u_n)``, wrap it with
    the chain rule (divide the input, multiply the output components by the scales).

    Parameters
    ----------
    field_fn : callable
        ``(N, 3) -> (N, 3)`` vector field ``(xi, tau, phi)`` at points ``(x, t, u)``.
    u : torch.Tensor, shape (B, nt, nx)
        Solutions, ``u[b, j, i] = u(x[i], t[j])``.
    x : torch.Tensor, shape (nx,)
        Spatial grid.
    t : torch.Tensor, shape (nt,)
        Time grid (absolute times for the time-dependent equations nKdV and cKdV).
    s : float or torch.Tensor of shape () or (B,)
        Flow parameter, shared or one per sample.
    n_steps : int, default 4
        RK4 steps.

    Returns
    -------
    torch.Tensor, shape (B, nt, nx, 3)
        The flowed graph points ``(x', t', u')`` in the original index layout.
    """
    if not isinstance(u, torch.Tensor) or u.ndim != 3:
        raise ValueError(f"u must be a torch.Tensor of shape (B, nt, nx), got {_shape(u)}")
    batch, nt, nx = u.shape
    x = torch.as_tensor(x, dtype=u.dtype, device=u.device)
    t = torch.as_tensor(t, dtype=u.dtype, device=u.device)
    if x.shape != (nx,):
        raise ValueError(f"x must have shape ({nx},) to match u, got {tuple(x.shape)}")
    if t.shape != (nt,):
        raise ValueError(f"t must have shape ({nt},) to match u, got {tuple(t.shape)}")
    s = torch.as_tensor(s, dtype=u.dtype, device=u.device)
    if s.ndim == 0:
        s_points = s.expand(batch * nt * nx)
    elif s.shape == (batch,):
        s_points = s[:, None].expand(batch, nt * nx).reshape(-1)
    else:
        raise ValueError(f"s must be a scalar or have shape ({batch},), got {tuple(s.shape)}")
    points = torch.stack(
        (
            x[None, None, :].expand(batch, nt, nx),
            t[None, :, None].expand(batch, nt, nx),
            u,
        ),
        dim=-1,
    ).reshape(-1, 3)
    moved = flow(field_fn, points, s_points, n_steps=n_steps)
    return moved.reshape(batch, nt, nx, 3)


def _shape(value: Any) -> Any:
    return tuple(value.shape) if hasattr(value, "shape") else type(value).__name__


class _SubStencilFit:
    """Exact polynomial fits on sub-stencils ``width (x) x 2 (t)`` that contain the centre.

    The monomials are ``dx^a dt^b`` with ``a < width`` and ``b <= 1``; sub-stencils start at
    x-offsets ``-(width - 1) .. 0`` and t-offsets ``-1, 0``.
    """

    def __init__(self, width: int):
        self.width = width
        self.exponents = [(a, b) for b in (0, 1) for a in range(width)]
        self.stencils = []
        self.priors = []
        for x_start in range(-(width - 1), 1):
            x_offsets = list(range(x_start, x_start + width))
            # A sub-stencil centred on the point in x (to within half a cell) is preferred.
            centred = abs(sum(x_offsets) / width) <= 0.5
            for t_start in (-1, 0):
                self.stencils.append([(a, b) for b in (t_start, t_start + 1) for a in x_offsets])
                self.priors.append(_CENTRED_PRIOR if centred else 1.0)

    def index(self, a: int, b: int) -> int:
        return self.exponents.index((a, b))

    def coefficients(
        self,
        offsets: dict[tuple[int, int], torch.Tensor],
        hx: float,
        ht: torch.Tensor,
        detach_weights: bool,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Physical coefficients ``(..., S, m)`` and normalised WENO weights ``(..., S)``."""
        rows, rhs = [], []
        for stencil in self.stencils:
            dx = torch.stack([offsets[p][..., 0] for p in stencil], dim=-1) / hx
            dt = torch.stack([offsets[p][..., 1] for p in stencil], dim=-1) / ht
            rows.append(torch.stack([dx**a * dt**b for a, b in self.exponents], dim=-1))
            rhs.append(torch.stack([offsets[p][..., 2] for p in stencil], dim=-1))
        matrix = torch.stack(rows, dim=-3)
        values = torch.stack(rhs, dim=-2)
        scaled, info = torch.linalg.solve_ex(matrix, values)
        if bool((info != 0).any()):
            eye = torch.eye(matrix.shape[-1], dtype=matrix.dtype, device=matrix.device)
            scaled = torch.linalg.solve(matrix + _SOLVE_JITTER * eye, values)
        scaled = torch.nan_to_num(scaled, nan=0.0).clamp(-_COEFFICIENT_CLAMP, _COEFFICIENT_CLAMP)
        # Scaled coefficients are the change of u over one grid cell due to each monomial.
        smoothness = scaled.detach() if detach_weights else scaled
        indicator = (smoothness[..., 1:] ** 2).sum(dim=-1)
        priors = torch.tensor(self.priors, dtype=scaled.dtype, device=scaled.device)
        weights = priors / (indicator + _WENO_EPS) ** 2
        weights = weights / weights.sum(dim=-1, keepdim=True)
        units = torch.stack([hx**a * ht**b for a, b in self.exponents])
        return scaled / units, weights

    def derivative(
        self,
        offsets: dict[tuple[int, int], torch.Tensor],
        hx: float,
        ht: torch.Tensor,
        orders: list[tuple[int, int]],
        detach_weights: bool = True,
    ) -> list[torch.Tensor]:
        """WENO-blended ``d^{a+b} u / dx^a dt^b`` at the centre for each ``(a, b)`` in orders."""
        coefficients, weights = self.coefficients(offsets, hx, ht, detach_weights)
        out = []
        for a, b in orders:
            taylor = coefficients[..., self.index(a, b)] * (math.factorial(a) * math.factorial(b))
            out.append((weights * taylor).sum(dim=-1))
        return out


def capped_abs(residual: torch.Tensor) -> torch.Tensor:
    """``|residual|`` with non-finite or huge values (folded grids) set to the worst score."""
    residual = torch.nan_to_num(residual.abs(), nan=_RESIDUAL_CAP, posinf=_RESIDUAL_CAP)
    return residual.clamp_max(_RESIDUAL_CAP)


def _index_difference(f: torch.Tensor, axis: int, order: int, period: float | None = None):
    """Central difference of ``f`` along an index axis, spacing 1, accuracy ``order`` (2 or 4).

    Along the periodic x axis (``axis=2``) the result keeps its shape (neighbours wrap
    around); along the time axis (``axis=1``) the ``order // 2`` rows at each end are dropped.
    ``period`` unwraps differences of a periodic coordinate (the x positions themselves).
    """

    def gap(a: int) -> torch.Tensor:
        if axis == 2:
            d = torch.roll(f, -a, dims=2) - torch.roll(f, a, dims=2)
        else:
            n = f.shape[1]
            h = order // 2
            d = f[:, h + a : n - h + a] - f[:, h - a : n - h - a]
        if period is not None:
            d = d - period * torch.round(d.detach() / period)
        return d

    if order == 2:
        return 0.5 * gap(1)
    return (8.0 * gap(1) - gap(2)) / 12.0


def _rows(f: torch.Tensor, have: int, want: int) -> torch.Tensor:
    """Rows ``want .. nt - want`` of ``f``, which covers rows ``have .. nt - have``."""
    k = want - have
    return f[:, k : f.shape[1] - k] if k else f


class _ChainRule:
    """Derivatives on the deformed grid by the chain rule through the index map ("chain").

    The deformed graph is a smooth map ``(j, i) -> (x', t', u')`` of the grid indices. Central
    differences in ``(i, j)`` give the Jacobian ``J = d(x', t') / d(i, j)`` and the index
    derivatives of any grid function ``f``; then ``(f_x, f_t) = J^{-T} (f_i, f_j)``, and higher x
    derivatives repeat ``f -> f_x``. Exact when the map is affine in the indices and ``u'`` is a
    polynomial of the stencil's degree; every step is elementwise, so it costs ``O(points)`` with
    no linear solves. Each nested time difference drops ``order_t // 2`` rows at both ends.
    """

    def __init__(self, length: float, order_x: int = 4, order_t: int = 4, order_nested_t: int = 2):
        self.length = length
        self.order_x = order_x
        self.order_t = order_t
        self.order_nested_t = order_nested_t

    def rows_dropped(self, x_order: int) -> int:
        return max(self.order_t // 2, (x_order - 1) * (self.order_nested_t // 2)
                   + self.order_nested_t // 2)

    def columns_reached(self, x_order: int) -> int:
        return x_order * (self.order_x // 2)

    def derivatives(self, points: torch.Tensor, x_order: int, want_second: bool):
        """``u, u_x, u_t, u_xx (or None), u_high`` on rows ``r .. nt - r``, ``r = rows_dropped``."""
        x, t, u = points[..., 0], points[..., 1], points[..., 2]
        r = self.rows_dropped(x_order)
        d_i = {name: _index_difference(f, 2, self.order_x, self.length if name == "x" else None)
               for name, f in (("x", x), ("t", t))}
        jac = {}
        for h, order in ((self.order_t // 2, self.order_t),
                         (self.order_nested_t // 2, self.order_nested_t)):
            if h in jac:
                continue
            x_j = _index_difference(x, 1, order)
            t_j = _index_difference(t, 1, order)
            x_i, t_i = _rows(d_i["x"], 0, h), _rows(d_i["t"], 0, h)
            det = x_i * t_j - x_j * t_i
            # A flow that folds the grid makes the map singular; keep |det| away from zero
            # (relative to the undeformed cell) so the score stays finite, just very bad.
            tiny = 1e-6 * det.detach().abs().mean()
            det = torch.where(det >= 0, det.clamp_min(tiny), det.clamp_max(-tiny))
            jac[h] = (x_i, t_i, x_j, t_j, det)

        def gradient(f: torch.Tensor, have: int, order: int) -> tuple[torch.Tensor, ...]:
            h = order // 2
            x_i, t_i, x_j, t_j, det = (_rows(g, h, have + h) for g in jac[h])
            f_i = _rows(_index_difference(f, 2, self.order_x), have, have + h)
            f_j = _index_difference(f, 1, order)
            return (f_i * t_j - f_j * t_i) / det, (x_i * f_j - x_j * f_i) / det, have + h

        u_x, u_t, have_t = gradient(u, 0, self.order_t)
        f, have = u, 0
        derivatives = []
        for _ in range(x_order):
            f, _, have = gradient(f, have, self.order_nested_t)
            derivatives.append((f, have))
        out_u = _rows(u, 0, r)
        out_x = _rows(u_x, have_t, r)
        out_t = _rows(u_t, have_t, r)
        second = _rows(*derivatives[1], r) if want_second else None
        high = _rows(derivatives[-1][0], derivatives[-1][1], r)
        return out_u, out_x, out_t, second, high


class PDEResidual(torch.nn.Module):
    """Log PDE residual of deformed solutions: the validity score of the paper's PDEs (§5.2).

    Parameters
    ----------
    name : str
        ``"kdv"`` (``u_t + u u_x + u_xxx``), ``"ks"`` (``u_t + u_xx + u_xxxx + u u_x``),
        ``"burgers"`` (``u_t + u u_x - nu u_xx``), ``"nkdv"`` (``e^{-t/50} u_t + u u_x + u_xxx``),
        ``"ckdv"`` (``u_t + u u_x + u_xxx + u / (2t + 2)``) or ``"heat"`` (``u_t - nu u_xx``);
        physical units, absolute ``t``.
    length : float
        Spatial period ``L``; neighbour x-offsets are unwrapped to ``(-L/2, L/2]``.
    floor : float, optional
        Lower clamp of ``|r|`` before the log; default ``1e-4`` (the authors'). ``0`` disables it
        (``|r|`` is then only kept away from exact zero by the smallest positive float).
    nu : float, optional
        Burgers viscosity or heat diffusivity, default ``0.01``.
    t_offset : float, default 0.0
        Added to the time coordinate for the explicitly time-dependent equations (nKdV, cKdV),
        for points whose ``t`` is relative to the window start.
    reduction : {"mean_log", "log_mean_square"}, default "mean_log"
        ``"mean_log"``: mean over points of ``log max(|r|, floor)`` (the paper's).
        ``"log_mean_square"``: ``0.5 log mean max(|r|, floor)^2``, the log RMS residual.
    detach_weights : bool, default True
        Detach the WENO smoothness indicators, as the authors do (the gradient then treats the
        blend weights as constants); ``False`` gives the exact gradient of the score.
    method : {"weno", "chain"}, default "weno"
        Derivative estimator on the deformed grid. ``"weno"``: the authors' blended
        sub-stencil polynomial fits (batched small linear solves). ``"chain"``: fourth-order
        central differences in the grid indices and the chain rule through the deformation
        (no solves; 10-30x cheaper, drops more boundary rows, see :attr:`rows_dropped`).

    Notes
    -----
    The input points ``(B, nt, nx, 3)`` keep the ``(t, x)`` index topology of the original grid:
    neighbours are index neighbours, periodic in x, and the first and last time rows are dropped
    (they lack a neighbour in t). Offsets are measured in physical units and scaled by the grid
    spacings ``hx = L / nx`` and ``ht`` (the mean row spacing of the input) before the
    Vandermonde solves, for conditioning; the estimates are exact for polynomials in ``(dx, dt)``
    of the sub-stencil's degree. The smoothness indicator is the sum of squared non-constant
    coefficients in those grid units (the authors' code uses fourth powers with a different
    scaling; the blend only chooses among consistent estimates). Memory grows like
    ``B nt nx S m^2`` with ``S m^2 = 1000`` for KS (five-wide stencils): use patches of large
    trajectories.
    """

    def __init__(
        self,
        name: str,
        *,
        length: float,
        floor: float | None = None,
        nu: float | None = None,
        t_offset: float = 0.0,
        reduction: str = "mean_log",
        detach_weights: bool = True,
        method: str = "weno",
    ):
        super().__init__()
        if not isinstance(name, str) or name.lower() not in PDE_RESIDUALS:
            raise ValueError(f"unknown PDE {name!r}; choose one of {', '.join(PDE_RESIDUALS)}")
        if (
            isinstance(length, bool)
            or not isinstance(length, (int, float))
            or not (0 < length < math.inf)
        ):
            raise ValueError(f"length must be a positive finite number, got {length!r}")
        floor = _DEFAULT_FLOOR if floor is None else floor
        if (
            isinstance(floor, bool)
            or not isinstance(floor, (int, float))
            or not (0 <= floor < math.inf)
        ):
            raise ValueError(f"floor must be a non-negative finite number, got {floor!r}")
        nu = _DEFAULT_NU if nu is None else nu
        if isinstance(nu, bool) or not isinstance(nu, (int, float)) or not (0 <= nu < math.inf):
            raise ValueError(f"nu must be a non-negative finite number, got {nu!r}")
        if not isinstance(t_offset, (int, float)) or not math.isfinite(t_offset):
            raise ValueError(f"t_offset must be a finite number, got {t_offset!r}")
        if reduction not in ("mean_log", "log_mean_square"):
            raise ValueError(
                f"reduction must be 'mean_log' or 'log_mean_square', got {reduction!r}"
            )
        if method not in ("weno", "chain"):
            raise ValueError(f"method must be 'weno' or 'chain', got {method!r}")
        self.method = method
        self.name = name.lower()
        self.length = float(length)
        self.floor = float(floor)
        self.nu = float(nu)
        self.t_offset = float(t_offset)
        self.reduction = reduction
        self.detach_weights = bool(detach_weights)
        width = _X_ORDER[self.name] + 1
        self._first = _SubStencilFit(2)
        self._highest = _SubStencilFit(width)
        self._second = _SubStencilFit(3) if self.name == "ks" else None
        self._chain = _ChainRule(self.length)

    @property
    def rows_dropped(self) -> int:
        """Time rows lost at each end of the input: :meth:`pointwise` returns ``nt - 2 r``."""
        if self.method == "chain":
            return self._chain.rows_dropped(_X_ORDER[self.name])
        return 1

    @property
    def columns_reached(self) -> int:
        """Largest x-index offset the estimator reads (columns to drop at a patch edge)."""
        if self.method == "chain":
            return self._chain.columns_reached(_X_ORDER[self.name])
        return _X_ORDER[self.name]

    @classmethod
    def for_dataset(cls, data: Any, **kwargs: Any) -> PDEResidual:
        """The residual of a :class:`symmetrykit.datasets.PDEDataset` (name, length, nu).

        Keyword arguments override the values read from ``data.params``.
        """
        params = getattr(data, "params", None)
        if not isinstance(params, dict) or "length" not in params:
            raise ValueError("data must be a PDEDataset with params['length']")
        options: dict[str, Any] = {"length": float(params["length"])}
        if "nu" in params:
            options["nu"] = float(params["nu"])
        options.update(kwargs)
        return cls(str(data.name), **options)

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, length={self.length}, floor={self.floor}, "
                f"method={self.method!r}")

    def _offsets(self, points: torch.Tensor, half_width: int) -> dict:
        """Relative ``(dx, dt, u_neighbour)`` for index offsets ``|a| <= half_width, |b| <= 1``."""
        nt = points.shape[1]
        centre = points[:, 1 : nt - 1]
        offsets = {}
        for b in (-1, 0, 1):
            rows = points[:, 1 + b : nt - 1 + b]
            for a in range(-half_width, half_width + 1):
                neighbour = torch.roll(rows, shifts=-a, dims=2) if a else rows
                dx = neighbour[..., 0] - centre[..., 0]
                # Periodic unwrapping; round() has zero gradient, so dx stays differentiable.
                dx = dx - self.length * torch.round(dx.detach() / self.length)
                dt = neighbour[..., 1] - centre[..., 1]
                offsets[(a, b)] = torch.stack((dx, dt, neighbour[..., 2]), dim=-1)
        return offsets

    def pointwise(self, points: torch.Tensor) -> torch.Tensor:
        """Signed residual at the interior points, shape ``(B, nt - 2 r, nx)``.

        ``r`` is :attr:`rows_dropped` (1 for ``"weno"``).
        """
        if not isinstance(points, torch.Tensor) or points.ndim != 4 or points.shape[-1] != 3:
            raise ValueError(f"points must have shape (B, nt, nx, 3), got {_shape(points)}")
        batch, nt, nx, _ = points.shape
        width = self._highest.width
        rows = self.rows_dropped
        if nt < 2 * rows + 1:
            raise ValueError(f"points need nt >= {2 * rows + 1} time rows, got {nt}")
        if nx < 2 * width - 1:
            raise ValueError(f"{self.name} needs nx >= {2 * width - 1} points in x, got {nx}")
        hx = self.length / nx
        ht = (points[:, -1, :, 1] - points[:, 0, :, 1]).abs().mean() / (nt - 1)
        if not bool(ht > 0):
            raise ValueError("the time rows of points must be distinct (zero time extent)")
        if self.method == "chain":
            u, u_x, u_t, u_xx, u_high = self._chain.derivatives(
                points, width - 1, want_second=self.name == "ks")
        else:
            offsets = self._offsets(points, width - 1)
            detach = self.detach_weights
            u_x, u_t = self._first.derivative(offsets, hx, ht, [(1, 0), (0, 1)], detach)
            (u_high,) = self._highest.derivative(offsets, hx, ht, [(width - 1, 0)], detach)
            u = points[:, 1 : nt - 1, :, 2]
            if self.name == "ks":
                (u_xx,) = self._second.derivative(offsets, hx, ht, [(2, 0)], detach)
        time = points[:, rows : nt - rows, :, 1] + self.t_offset
        advection = u * u_x
        if self.name == "kdv":
            return u_t + advection + u_high
        if self.name == "ks":
            return u_t + u_xx + u_high + advection
        if self.name == "burgers":
            return u_t + advection - self.nu * u_high
        if self.name == "heat":
            return u_t - self.nu * u_high
        if self.name == "nkdv":
            return torch.exp(-time / _NKDV_RATE) * u_t + advection + u_high
        return u_t + advection + u_high + u / (2 * time + 2)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        """Floored log residual per sample.

        Parameters
        ----------
        points : torch.Tensor, shape (B, nt, nx, 3)
            Deformed graph points ``(x', t', u')``, e.g. from :func:`deform_solution`.

        Returns
        -------
        torch.Tensor, shape (B,)
        """
        residual = capped_abs(self.pointwise(points))
        floor = self.floor if self.floor > 0 else torch.finfo(residual.dtype).tiny
        residual = residual.clamp_min(floor)
        if self.reduction == "mean_log":
            return residual.log().mean(dim=(1, 2))
        return 0.5 * (residual * residual).mean(dim=(1, 2)).log()


def pde_residual(name: str, length: float, **kw: Any) -> PDEResidual:
    """The :class:`PDEResidual` of equation ``name`` on a domain of period ``length``.

    Parameters
    ----------
    name : str
        ``"kdv"``, ``"ks"``, ``"burgers"``, ``"nkdv"``, ``"ckdv"`` or ``"heat"``.
    length : float
        Spatial period.
    **kw
        ``floor``, ``nu``, ``t_offset``, ``reduction``, ``detach_weights`` (see
        :class:`PDEResidual`).

    Returns
    -------
    PDEResidual
    """
    return PDEResidual(name, length=length, **kw)
