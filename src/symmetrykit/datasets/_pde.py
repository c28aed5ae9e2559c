"""Periodic 1-D PDE trajectories with known Lie point symmetries (Ko, Kim & Lee 2024).

The equations, domains, save grids and initial-condition distributions follow the authors' data
(adapted from LPSDA, Brandstetter, Welling & Worrall 2022; table and constants in ``docs/data.md``):
KdV, Kuramoto–Sivashinsky, viscous Burgers, and the variable-coefficient KdV equations nKdV and
cKdV; beside them, the linear heat equation ``u_t = ν u_xx`` on Burgers' domain and grid, a case
whose symmetry algebra is known completely. Time stepping differs from the original on purpose:
instead of dopri5 (impractical on a CPU for these stiff problems, ``docs/data.md``, "Time
stepping") the stiff linear part is integrated exactly with ETDRK4 (Cox–Matthews exponential
Runge–Kutta, coefficients by the Kassam–Trefethen contour-integral average), and the nonlinear
part pseudo-spectrally. Burgers is solved exactly through the Cole–Hopf transform, as in the
original, and the heat equation exactly in Fourier space (``û_k(t) = û_k(0) e^{−ν k² t}``).

FFTs use :mod:`numpy.fft`, which is single-threaded, so generation does not suffer from the erratic
multi-threaded FFT timings of small arrays on few cores. Everything is float64.

Two variable-coefficient equations are reduced to constant-coefficient linear parts first:

* nKdV, ``u_t + e^{t/50}(u u_x + u_xxx) = 0``: with ``s = 50(e^{t/50} − 1)`` it is plain KdV in
  ``(x, s)``, solved in ``s`` and sampled at ``s(t_j)``.
* cKdV, ``u_t + u u_x + u_xxx + u/(2t + 2) = 0``: ``v = √(t+1) u`` obeys
  ``v_t + v_xxx + v v_x / √(t+1) = 0`` (constant linear part, time-dependent nonlinear part).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._common import check_int, resolve_random_state
from ._core import _as_json_dict

__all__ = ["PDE_NAMES", "PDEDataset", "PointSymmetry", "etdrk4_solve", "pde"]

PDE_NAMES = ("kdv", "ks", "burgers", "nkdv", "ckdv", "heat")

_BURGERS_NU = 0.01
_HEAT_NU = 0.01
_NKDV_RATE = 50.0
# Exponent of the inverse Cole–Hopf initial condition psi0 = exp(20 (w − 1/2)), w ∈ [0, 1].
_COLE_HOPF_GAIN = 20.0
_CONTOUR_POINTS = 64


@dataclass(frozen=True)
class _EquationSetup:
    equation: str
    length: float
    t_end: float
    n_saved: int
    n_waves: int
    l_max: int  # exclusive upper bound of the wavenumber draw, as in ``randint(1, l_max)``
    max_step: float  # largest ETDRK4 step (in the integration variable)
    u_scale: float  # the authors' learning-coordinate constant c (u_n = c·u)


_SETUPS = {
    "kdv": _EquationSetup("u_t + u u_x + u_xxx = 0", 128.0, 100.0, 250, 10, 3, 0.02, 0.3463),
    "ks": _EquationSetup("u_t + u_xx + u_xxxx + u u_x = 0", 64.0, 100.0, 500, 10, 3, 0.05, 0.2130),
    "burgers": _EquationSetup(
        "u_t + u u_x = nu u_xx, nu = 0.01 (exact, via Cole–Hopf)",
        2 * math.pi,
        18.0,
        180,
        20,
        7,
        math.inf,
        20.19,
    ),
    "nkdv": _EquationSetup(
        "u_t + exp(t/50) (u u_x + u_xxx) = 0", 128.0, 100.0, 250, 10, 2, 0.02, 0.4345
    ),
    "ckdv": _EquationSetup(
        "u_t + u u_x + u_xxx + u / (2t + 2) = 0", 128.0, 100.0, 250, 10, 3, 0.02, 3.6310
    ),
    "heat": _EquationSetup(
        "u_t = nu u_xx, nu = 0.01 (exact, in Fourier space)",
        2 * math.pi,
        18.0,
        180,
        20,
        7,
        math.inf,
        1.0,
    ),
}
_SOLVERS = {"burgers": "cole-hopf (exact)", "heat": "fourier (exact)"}
_DEFAULT_NT = 140
_DEFAULT_NX = 256


# --------------------------------------------------------------------------- symmetries


@dataclass(frozen=True)
class PointSymmetry:
    """A Lie point symmetry ``ξ ∂_x + τ ∂_t + φ ∂_u`` in physical variables.

    Calling it, ``sym(x, t, u)``, returns the broadcast components ``(ξ, τ, φ)`` as float64
    arrays of the common shape of the inputs. ``t`` is the absolute time (the one stored in
    :attr:`PDEDataset.t`).

    Attributes
    ----------
    name
        Short name, e.g. ``"x-translation"`` or ``"galilean"``.
    components
        ``callable(x, t, u) -> (ξ, τ, φ)``; entries may be scalars (they are broadcast).
    exact
        False for an approximate symmetry (cKdV time translation).
    reference
        Whether the ground-truth set that learned fields are compared with holds it (the
        authors' evaluation set; ``docs/data.md``, "Ground-truth symmetries").
    """

    name: str
    components: Callable[[Any, Any, Any], tuple[Any, Any, Any]] = field(repr=False)
    exact: bool = True
    reference: bool = True

    def __call__(self, x: Any, t: Any, u: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, t, u = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, t, u)))
        xi, tau, phi = self.components(x, t, u)
        shape = x.shape
        return tuple(
            np.broadcast_to(np.asarray(c, dtype=np.float64), shape).copy() for c in (xi, tau, phi)
        )


def _zero(x: np.ndarray) -> np.ndarray:
    return np.zeros_like(x)


def _one(x: np.ndarray) -> np.ndarray:
    return np.ones_like(x)


def _heat_symmetries(nu: float) -> tuple[PointSymmetry, ...]:
    """Point symmetries of ``u_t = ν u_xx``.

    The first three (``∂x``, ``∂t``, ``u ∂u``) are compatible with the periodic domain and form
    the evaluation reference. The rest hold on the line: ``∂u``, the scaling ``x ∂x + 2t ∂t``,
    the Galilean boost ``2νt ∂x − x u ∂u``, the projective field
    ``4t² ∂t + 4tx ∂x − (x²/ν + 2t) u ∂u``, and superpositions ``β(x, t) ∂u``. Every solution
    ``β`` of the heat equation gives a symmetry ``β ∂u`` (an infinite-dimensional subalgebra);
    those listed are the ones with polynomial ``β`` of degree <= 2 (``∂u`` is ``β = 1``):
    ``β = x`` and ``β = x² + 2νt``.
    """
    return (
        PointSymmetry("x-translation", lambda x, t, u: (_one(x), _zero(x), _zero(x))),
        PointSymmetry("t-translation", lambda x, t, u: (_zero(x), _one(x), _zero(x))),
        PointSymmetry("u-scaling", lambda x, t, u: (_zero(x), _zero(x), u)),
        PointSymmetry("u-shift", lambda x, t, u: (_zero(x), _zero(x), _one(x)), reference=False),
        PointSymmetry("scaling", lambda x, t, u: (x, 2 * t, _zero(x)), reference=False),
        PointSymmetry(
            "galilean-heat", lambda x, t, u: (2 * nu * t, _zero(x), -x * u), reference=False
        ),
        PointSymmetry("superposition-x", lambda x, t, u: (_zero(x), _zero(x), x), reference=False),
        PointSymmetry(
            "superposition-quadratic",
            lambda x, t, u: (_zero(x), _zero(x), x * x + 2 * nu * t),
            reference=False,
        ),
        PointSymmetry(
            "projective-heat",
            lambda x, t, u: (4 * t * x, 4 * t * t, -(x * x / nu + 2 * t) * u),
            reference=False,
        ),
    )


def _symmetries(name: str) -> tuple[PointSymmetry, ...]:
    if name == "heat":
        return _heat_symmetries(_HEAT_NU)
    x_translation = PointSymmetry("x-translation", lambda x, t, u: (_one(x), _zero(x), _zero(x)))
    t_translation = PointSymmetry("t-translation", lambda x, t, u: (_zero(x), _one(x), _zero(x)))
    galilean = PointSymmetry("galilean", lambda x, t, u: (t, _zero(x), _one(x)))
    if name == "kdv":
        scaling = PointSymmetry("scaling", lambda x, t, u: (x, 3 * t, -2 * u), reference=False)
        return (x_translation, t_translation, galilean, scaling)
    if name == "ks":
        return (x_translation, t_translation, galilean)
    if name == "burgers":
        return (
            x_translation,
            t_translation,
            galilean,
            PointSymmetry("scaling", lambda x, t, u: (x, 2 * t, -u), reference=False),
            PointSymmetry("projective", lambda x, t, u: (t * x, t * t, x - t * u), reference=False),
        )
    if name == "nkdv":
        rate = _NKDV_RATE
        return (
            x_translation,
            PointSymmetry(
                "t-translation-nkdv",
                lambda x, t, u: (_zero(x), np.exp(-t / rate), _zero(x)),
            ),
            PointSymmetry(
                "galilean-nkdv",
                lambda x, t, u: (rate * np.expm1(t / rate), _zero(x), _one(x)),
            ),
            PointSymmetry(
                "scaling-nkdv",
                lambda x, t, u: (x, 3 * rate * -np.expm1(-t / rate), -2 * u),
                reference=False,
            ),
        )
    # ckdv
    return (
        x_translation,
        PointSymmetry(
            "cylindrical-galilean",
            lambda x, t, u: (np.sqrt(t + 1), _zero(x), 0.5 / np.sqrt(t + 1)),
        ),
        PointSymmetry("t-translation", t_translation.components, exact=False),
        PointSymmetry("scaling-ckdv", lambda x, t, u: (x, 3 * (t + 1), -2 * u), reference=False),
    )


# --------------------------------------------------------------------------- data set


@dataclass(frozen=True, eq=False)
class PDEDataset:
    """Trajectories of a periodic 1-D PDE and its true Lie point symmetries.

    Attributes
    ----------
    name
        One of ``"kdv"``, ``"ks"``, ``"burgers"``, ``"nkdv"``, ``"ckdv"``, ``"heat"``.
    equation
        The PDE in words/symbols (physical units).
    u
        Solutions, shape ``(n_trajectories, nt, nx)``, float64; ``u[b, j, i] = u(x[i], t[j])``.
    x
        Periodic grid ``x_i = i L / nx``, shape ``(nx,)``.
    t
        Absolute save times (the kept window at the end of ``[0, t_end]``), shape ``(nt,)``.
    params
        JSON-serialisable generation parameters, including the domain length ``length``, the
        save step ``dt``, the window start ``t0`` and the authors' learning scale ``u_scale`` (c in
        ``u_n = c·u``, ``x_n = (x − x_0)/L``, ``t_n = (t − t0)/(nt·dt)``).
    symmetries
        The true Lie point symmetries (``docs/data.md``, "Ground-truth symmetries") as
        :class:`PointSymmetry` objects; those with ``reference=True`` form the ground-truth set
        for evaluation.
    """

    name: str
    equation: str
    u: np.ndarray
    x: np.ndarray
    t: np.ndarray
    params: dict[str, Any]
    symmetries: tuple[PointSymmetry, ...]

    def __post_init__(self) -> None:
        u = np.asarray(self.u, dtype=np.float64)
        x = np.asarray(self.x, dtype=np.float64)
        t = np.asarray(self.t, dtype=np.float64)
        if u.ndim != 3 or u.shape[1:] != (t.size, x.size):
            raise ValueError(
                f"u must have shape (n, {t.size}, {x.size}) matching t and x, got {u.shape}"
            )
        object.__setattr__(self, "u", u)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "params", _as_json_dict(self.params))
        object.__setattr__(self, "symmetries", tuple(self.symmetries))

    @property
    def n_trajectories(self) -> int:
        return int(self.u.shape[0])

    @property
    def reference_symmetries(self) -> tuple[PointSymmetry, ...]:
        """The ground-truth subset used for evaluation (``reference=True``)."""
        return tuple(s for s in self.symmetries if s.reference)

    def __repr__(self) -> str:
        names = ", ".join(s.name for s in self.symmetries)
        return f"PDEDataset(name={self.name!r}, u.shape={self.u.shape}, symmetries=[{names}])"


# --------------------------------------------------------------------------- ETDRK4


def wavenumbers(nx: int, length: float) -> np.ndarray:
    """rfft wavenumbers ``2π m / L`` with the Nyquist mode set to zero (as in LPSDA)."""
    k = 2 * np.pi * np.fft.rfftfreq(nx, d=length / nx)
    if nx % 2 == 0:
        k[-1] = 0.0
    return k


def _etdrk4_coefficients(linear: np.ndarray, h: float) -> tuple[np.ndarray, ...]:
    """``(E, E2, Q, f1, f2, f3)`` of ETDRK4 for ``v̂_t = linear · v̂ + N``, step ``h``.

    The phi-function combinations are averaged over a circle of radius 1 around ``h·L`` in the
    complex plane (Kassam & Trefethen 2005), which avoids the cancellation of the closed forms at
    small ``|h L|``; a full circle keeps it valid for imaginary (dispersive) ``L``.
    """
    roots = np.exp(2j * np.pi * (np.arange(_CONTOUR_POINTS) + 0.5) / _CONTOUR_POINTS)
    z = h * linear[:, None] + roots[None, :]
    ez = np.exp(z)
    ez2 = np.exp(z / 2)
    z3 = z**3
    q = h * np.mean((ez2 - 1) / z, axis=1)
    f1 = h * np.mean((-4 - z + ez * (4 - 3 * z + z * z)) / z3, axis=1)
    f2 = h * np.mean((2 + z + ez * (z - 2)) / z3, axis=1)
    f3 = h * np.mean((-4 - 3 * z - z * z + ez * (4 - z)) / z3, axis=1)
    return np.exp(h * linear), np.exp(h * linear / 2), q, f1, f2, f3


def etdrk4_solve(
    linear: np.ndarray,
    nonlinear: Callable[[np.ndarray, float], np.ndarray],
    v0_hat: np.ndarray,
    times: np.ndarray,
    max_step: float,
    t_start: float = 0.0,
) -> np.ndarray:
    """Integrate ``v̂_t = linear · v̂ + nonlinear(v̂, t)`` in Fourier space with ETDRK4.

    Parameters
    ----------
    linear
        Diagonal linear symbol, shape ``(n_modes,)`` (real or complex).
    nonlinear
        ``nonlinear(v_hat, t)`` -> array of ``v_hat``'s shape (batch, n_modes).
    v0_hat
        Initial Fourier coefficients at ``t_start``, shape ``(batch, n_modes)``.
    times
        Increasing save times ``>= t_start``, shape ``(n_times,)``.
    max_step
        Largest step; each save interval is split into equal steps no larger than this.
    t_start
        Initial time.

    Returns
    -------
    numpy.ndarray
        Fourier coefficients at ``times``, shape ``(batch, n_times, n_modes)``, complex128.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size == 0 or np.any(np.diff(times) <= 0) or times[0] < t_start:
        raise ValueError("times must be a non-empty increasing 1-D array with times[0] >= t_start")
    if not max_step > 0:
        raise ValueError(f"max_step must be > 0, got {max_step}")
    linear = np.asarray(linear, dtype=np.complex128)
    v = np.array(v0_hat, dtype=np.complex128)
    out = np.empty((v.shape[0], times.size, v.shape[1]), dtype=np.complex128)
    cache: dict[float, tuple[np.ndarray, ...]] = {}
    t = float(t_start)
    for j, target in enumerate(times):
        interval = float(target) - t
        if interval > 0:
            n_steps = max(1, math.ceil(interval / max_step - 1e-9))
            h = interval / n_steps
            key = round(h, 12)
            if key not in cache:
                cache[key] = _etdrk4_coefficients(linear, h)
            e, e2, q, f1, f2, f3 = cache[key]
            for step in range(n_steps):
                ts = t + step * h
                nv = nonlinear(v, ts)
                a = e2 * v + q * nv
                na = nonlinear(a, ts + h / 2)
                b = e2 * v + q * na
                nb = nonlinear(b, ts + h / 2)
                c = e2 * a + q * (2 * nb - nv)
                nc = nonlinear(c, ts + h)
                v = e * v + f1 * nv + 2 * f2 * (na + nb) + f3 * nc
            t = float(target)
        out[:, j] = v
    return out


def _advection(k: np.ndarray, nx: int) -> Callable[[np.ndarray, float], np.ndarray]:
    """``−(u²/2)_x`` in Fourier space."""
    minus_half_ik = -0.5j * k

    def term(v_hat: np.ndarray, t: float) -> np.ndarray:
        u = np.fft.irfft(v_hat, n=nx, axis=-1)
        return minus_half_ik * np.fft.rfft(u * u, axis=-1)

    return term


# --------------------------------------------------------------------------- generator


def _initial_conditions(
    rng: np.random.Generator, n: int, x: np.ndarray, length: float, n_waves: int, l_max: int
) -> np.ndarray:
    amplitude = rng.uniform(-0.5, 0.5, size=(n, n_waves, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, n_waves, 1))
    wavenumber = rng.integers(1, l_max, size=(n, n_waves, 1))
    return np.sum(amplitude * np.sin(2 * np.pi * wavenumber * x / length + phase), axis=1)


def _cole_hopf_burgers(psi0: np.ndarray, times: np.ndarray, k: np.ndarray, nu: float) -> np.ndarray:
    """Burgers ``u = −2ν ψ_x / ψ`` from the exact heat flow ``ψ_t = ν ψ_xx`` of ``ψ0``."""
    nx = psi0.shape[-1]
    psi_hat = np.fft.rfft(psi0, axis=-1)[:, None, :] * np.exp(-nu * (k * k) * times[:, None])
    psi = np.fft.irfft(psi_hat, n=nx, axis=-1)
    psi_x = np.fft.irfft(1j * k * psi_hat, n=nx, axis=-1)
    return -2 * nu * psi_x / psi


def _solve(name: str, u0: np.ndarray, times: np.ndarray, length: float, max_step: float):
    """Solutions of equation ``name`` from ``u0`` (batch, nx) at absolute ``times`` (from t = 0)."""
    nx = u0.shape[-1]
    k = wavenumbers(nx, length)
    if name == "burgers":
        low = u0.min(axis=1, keepdims=True)
        spread = u0.max(axis=1, keepdims=True) - low
        w = (u0 - low) / np.where(spread > 0, spread, 1.0)
        return _cole_hopf_burgers(np.exp(_COLE_HOPF_GAIN * (w - 0.5)), times, k, _BURGERS_NU)
    u0_hat = np.fft.rfft(u0, axis=-1)
    u0_hat[:, -1] = 0.0  # nx is even: drop the Nyquist mode, as the derivatives do
    if name == "heat":  # exact: each mode decays as e^{−ν k² t}
        u_hat = u0_hat[:, None, :] * np.exp(-_HEAT_NU * (k * k) * times[:, None])
    elif name == "ks":
        u_hat = etdrk4_solve(k**2 - k**4, _advection(k, nx), u0_hat, times, max_step)
    elif name == "kdv":
        u_hat = etdrk4_solve(1j * k**3, _advection(k, nx), u0_hat, times, max_step)
    elif name == "nkdv":
        # KdV in s = 50(e^{t/50} − 1); a save grid uniform in t is not uniform in s.
        s = _NKDV_RATE * np.expm1(times / _NKDV_RATE)
        u_hat = etdrk4_solve(1j * k**3, _advection(k, nx), u0_hat, s, max_step)
    else:  # ckdv, integrated for v = √(t+1) u
        advection = _advection(k, nx)

        def damped_advection(v_hat: np.ndarray, time: float) -> np.ndarray:
            return advection(v_hat, time) / math.sqrt(time + 1.0)

        v_hat = etdrk4_solve(1j * k**3, damped_advection, u0_hat, times, max_step)
        u_hat = v_hat / np.sqrt(times + 1.0)[None, :, None]
    return np.fft.irfft(u_hat, n=nx, axis=-1)


def pde(
    name: str,
    *,
    n_trajectories: int = 32,
    nx: int | None = None,
    nt: int | None = None,
    random_state: Any = None,
    max_step: float | None = None,
) -> PDEDataset:
    """Generate periodic 1-D PDE trajectories as in Ko, Kim & Lee (2024) (``docs/data.md``).

    Each trajectory starts from ``u0(x) = Σ_i A_i sin(2π l_i x / L + φ_i)`` with
    ``A_i ~ U(−0.5, 0.5)``, ``φ_i ~ U(0, 2π)`` and integer ``l_i`` (per-equation count and range),
    is integrated over ``[0, t_end]`` on the authors' save grid, and only the last ``nt`` saved
    steps are kept.

    ========  =================================  ======  =====  ========  =========  ========
    name      equation                           L       t_end  n_saved   N waves    l
    ========  =================================  ======  =====  ========  =========  ========
    kdv       u_t + u u_x + u_xxx = 0            128     100    250       10         {1, 2}
    ks        u_t + u_xx + u_xxxx + u u_x = 0    64      100    500       10         {1, 2}
    burgers   u_t + u u_x = 0.01 u_xx            2π      18     180       20         {1..6}
    nkdv      u_t + e^{t/50}(u u_x + u_xxx) = 0  128     100    250       10         {1}
    ckdv      u_t + u u_x + u_xxx + u/(2t+2)=0   128     100    250       10         {1, 2}
    heat      u_t = 0.01 u_xx                    2π      18     180       20         {1..6}
    ========  =================================  ======  =====  ========  =========  ========

    Burgers is solved exactly by Cole–Hopf (as in the original): ``w`` is ``u0`` min–max
    normalised to ``[0, 1]``, ``ψ0 = exp(20 (w − 1/2))`` evolves by the heat equation exactly in
    Fourier space, and ``u = −2ν ψ_x/ψ`` (spectral ``ψ_x``). The heat equation is solved exactly
    in Fourier space, ``û_k(t) = û_k(0) e^{−ν k² t}`` (Nyquist mode dropped); its learning scale
    ``u_scale`` is 1.

    Parameters
    ----------
    name
        ``"kdv"``, ``"ks"``, ``"burgers"``, ``"nkdv"``, ``"ckdv"`` or ``"heat"``
        (case-insensitive).
    n_trajectories
        Number of trajectories (>= 1).
    nx
        Even number of grid points (>= 16); default 256.
    nt
        Number of kept save steps, counted from the end (1..n_saved); default 140.
    random_state
        None, an int seed or a :class:`numpy.random.Generator`; the only source of randomness.
    max_step
        Largest ETDRK4 step; default 0.02 (KdV family, in the integration variable) or 0.05 (KS).
        Ignored for Burgers and the heat equation, which are exact in time.

    Returns
    -------
    PDEDataset
    """
    if not isinstance(name, str) or name.lower() not in _SETUPS:
        raise ValueError(f"unknown PDE {name!r}; choose one of {', '.join(PDE_NAMES)}")
    name = name.lower()
    setup = _SETUPS[name]
    n_trajectories = check_int("n_trajectories", n_trajectories, 1)
    nx = _DEFAULT_NX if nx is None else check_int("nx", nx, 16)
    if nx % 2:
        raise ValueError(f"nx must be even, got {nx}")
    nt = _DEFAULT_NT if nt is None else check_int("nt", nt, 1)
    if nt > setup.n_saved:
        raise ValueError(f"nt must be <= {setup.n_saved} (saved steps of {name}), got {nt}")
    if max_step is None:
        max_step = setup.max_step
    elif (
        isinstance(max_step, bool)
        or not isinstance(max_step, (int, float))
        or not (0 < max_step < math.inf)
    ):
        raise ValueError(f"max_step must be a positive finite number, got {max_step!r}")
    rng, seed_record = resolve_random_state(random_state)

    length = setup.length
    x = np.arange(nx) * (length / nx)
    dt = setup.t_end / (setup.n_saved - 1)
    t = np.arange(setup.n_saved - nt, setup.n_saved) * dt
    u0 = _initial_conditions(rng, n_trajectories, x, length, setup.n_waves, setup.l_max)

    # An unstable (too coarse) run overflows; report it by the ValueError below, not by warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        u = _solve(name, u0, t, length, max_step)
    if not np.all(np.isfinite(u)):
        raise ValueError(
            f"{name}: the integration produced non-finite values; try a smaller max_step or a "
            "larger nx"
        )
    params = {
        "name": name,
        "n_trajectories": n_trajectories,
        "nx": nx,
        "nt": nt,
        "length": length,
        "t_end": setup.t_end,
        "n_saved": setup.n_saved,
        "dt": dt,
        "t0": float(t[0]),
        "n_waves": setup.n_waves,
        "l_range": [1, setup.l_max - 1],
        "max_step": None if name in ("burgers", "heat") else float(max_step),
        "solver": _SOLVERS.get(name, "etdrk4"),
        "u_scale": setup.u_scale,
        "random_state": seed_record,
    }
    if name == "burgers":
        params["nu"] = _BURGERS_NU
    elif name == "heat":
        params["nu"] = _HEAT_NU
    return PDEDataset(
        name=name,
        equation=setup.equation,
        u=np.ascontiguousarray(u),
        x=x,
        t=t,
        params=params,
        symmetries=_symmetries(name),
    )
