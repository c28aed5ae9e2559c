"""The weak form of ``u_t = Σ_m c_m g_m(t, x) ∂_x^α (u^p)`` on gridded data: no derivative of data.

Each equation term is integrated against smooth compactly supported test functions
``ψ(x, t) = ψ_x(x − x_c) ψ_t(t − t_c)`` and every derivative is moved onto ``ψ`` by parts
(Messenger & Bortz 2021, WSINDy):

    −∫∫ ψ_t u dx dt = Σ_m c_m (−1)^α ∫∫ ∂_x^α(ψ g_m) u^p dx dt,

so noise in ``u`` is averaged, never differentiated, and the bias of ``u^p`` under noise (a
constant ``E n²``) is removed by every ``α ≥ 1``. The test functions are the bumps
``(1 − s²)^q``; their half-widths follow the data's resolved band in ``x`` (wider for noisier
data) and a fixed number of save steps in ``t``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import polynomial as P

__all__ = ["weak_system"]

#: Exponent q of the bump (1 − s²)^q: derivatives up to order q − 1 vanish at its ends.
_BUMP_POWER = 8
#: Half-width of the time test function, in save steps.
_TIME_HALF_WIDTH = 6
#: Half-width of the space test function in units of the shortest resolved wavelength.
_SPACE_WAVELENGTHS = 2.0
#: Fewest points in that half-width: the kernels of order 4 must be resolved on the grid.
_MIN_SPACE_HALF_WIDTH = 16


def _bump_derivative(order: int) -> np.ndarray:
    """Coefficients (ascending in s) of d^order/ds^order (1 − s²)^q."""
    coef = P.polypow([1.0, 0.0, -1.0], _BUMP_POWER)
    return P.polyder(coef, order) if order else coef


def _kernel(half_width: int, step: float, order: int) -> np.ndarray:
    """Samples of d^order/dz^order ψ(z) at z = (−m..m)·step, ψ(z) = (1 − (z/(m·step))²)^q."""
    s = np.arange(-half_width, half_width + 1) / half_width
    scale = (half_width * step) ** -order
    return P.polyval(s, _bump_derivative(order)) * scale


def _windows(values: np.ndarray, axis: int, half_width: int, centres: np.ndarray) -> np.ndarray:
    """Windows of length 2m+1 around ``centres`` along ``axis``, stacked as a new last axis."""
    view = np.lib.stride_tricks.sliding_window_view(values, 2 * half_width + 1, axis=axis)
    return np.take(view, centres - half_width, axis=axis)


def space_half_width(nx: int, kept_modes: int) -> int:
    """Points in the x test function's half-width: two of the shortest resolved wavelengths."""
    shortest = nx / max(kept_modes - 1, 1)
    return int(min(max(_MIN_SPACE_HALF_WIDTH, math.ceil(_SPACE_WAVELENGTHS * shortest)), nx // 4))


def weak_system(
    u: np.ndarray,
    x: np.ndarray,
    t: np.ndarray,
    terms: list[tuple[int, int, int]],
    coefficient_functions,
    *,
    kept_modes: int,
    max_tests: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Rows of the weak-form regression: ``(design (n_tests, P), target (n_tests,), info)``.

    ``terms`` are ``(g index, α, p)``; ``coefficient_functions`` are ``(text, fn(t, x))``.
    """
    n_traj, nt, nx = u.shape
    dx, dt = float(x[1] - x[0]), float(t[1] - t[0])
    mx = space_half_width(nx, kept_modes)
    mt = min(_TIME_HALF_WIDTH, (nt - 1) // 2)
    if mt < 2:
        raise ValueError(f"the weak form needs at least 5 time rows, got {nt}")
    # Test functions do not wrap around the periodic x domain (x-dependent terms need one chart).
    x_centres = np.arange(mx, nx - mx, max(1, mx // 2))
    t_centres = np.arange(mt, nt - mt, max(1, mt // 2))
    n_tests = n_traj * x_centres.size * t_centres.size
    trajectories = np.arange(n_traj)
    if n_tests > max_tests:
        keep = max(1, max_tests // (x_centres.size * t_centres.size))
        trajectories = np.sort(rng.choice(n_traj, size=min(keep, n_traj), replace=False))
    u = u[trajectories]
    max_order = max((a for _, a, _ in terms), default=0)
    x_kernels = [_kernel(mx, dx, a) for a in range(max_order + 1)]
    t_kernel = _kernel(mt, dt, 0)
    t_kernel_d = _kernel(mt, dt, 1)
    offsets = np.arange(-mx, mx + 1) * dx

    window_shape = (nt, x_centres.size, 2 * mx + 1)

    def integrate(field: np.ndarray, x_weights: np.ndarray, t_weights: np.ndarray) -> np.ndarray:
        """∫∫ over every test function: x weights (nt, n_xc, 2mx+1), t weights (2mt+1,)."""
        inner = np.einsum("btcw,tcw->btc", _windows(field, 2, mx, x_centres), x_weights) * dx
        outer = _windows(inner, 1, mt, t_centres)  # (B, n_tc, n_xc, 2mt+1)
        return np.einsum("bscw,w->bsc", outer, t_weights).ravel() * dt

    target = -integrate(u, np.broadcast_to(x_kernels[0], window_shape), t_kernel_d)
    design = np.empty((target.size, len(terms)))
    powers: dict[int, np.ndarray] = {}
    x_local = x[x_centres][:, None] + offsets[None, :]  # unwrapped x inside each window
    eps = 1e-6 * max(1.0, float(np.max(np.abs(x))))

    def on_windows(g_fn, shift: float = 0.0) -> np.ndarray:
        return np.broadcast_to(np.asarray(g_fn(t[:, None, None], x_local[None] + shift),
                                          dtype=np.float64), window_shape)

    # g(t, x) on the window grid, and its x-derivative. g is at most linear in x (checked by the
    # caller), so Leibniz stops after one term: ∂_x^α(ψ g) = g ψ^(α) + α g_x ψ^(α−1), with the
    # constant g_x taken by a central difference. Once per coefficient function.
    g_grids = [(on_windows(fn), (on_windows(fn, eps) - on_windows(fn, -eps)) / (2 * eps))
               for _, fn in coefficient_functions]
    for m, (g, order, p) in enumerate(terms):
        if p not in powers:
            powers[p] = u**p
        g_values, g_x = g_grids[g]
        weights = g_values * x_kernels[order]
        if order:
            weights = weights + order * g_x * x_kernels[order - 1]
        design[:, m] = integrate(powers[p], (-1) ** order * weights, t_kernel)
    info = {"space_half_width": mx, "time_half_width": mt, "n_tests": int(target.size)}
    return design, target, info
