"""Input/output pairs of the planar two-body problem (LieGAN's two-body task).

The task of Yang et al. 2023 ("Generative Adversarial Symmetry Discovery", LieGAN), whose data
follow the recipe of Greydanus et al. 2019 (Hamiltonian Neural Networks): two unit masses under
Newtonian gravity (``G = 1``) in the plane, near-circular random orbits, and pairs ``(x, y)`` with
``y`` the state ``step`` time units after ``x``. The dynamics commute with a common rotation of
every 2-vector, so the true generator is ``block_diag(J, J, J, J)``, ``J = [[0, −1], [1, 0]]``.
Recipe, constants and sizes in ``docs/data.md`` ("Two-body pairs").
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._array_files import NpzArchive, file_signature
from ._common import (
    check_int,
    check_nonnegative,
    check_positive,
    check_range,
    resolve_random_state,
)
from ._core import PAIRS_FORMAT, _as_json_dict, _read_npz_members, write_atomically

__all__ = ["TwoBodyPairs", "rotation_generator", "two_body"]

_DIM = 8
# Total mass of the two unit bodies (times G = 1): the relative motion is Kepler's with mu = 2.
_MU = 2.0
_RTOL = 1e-10
_ATOL = 1e-10
_FORMAT_VERSION = 1


def rotation_generator() -> np.ndarray:
    """``block_diag(J, J, J, J)``: the rotation of all four 2-vectors at once, shape ``(8, 8)``."""
    j = np.array([[0.0, -1.0], [1.0, 0.0]])
    return np.kron(np.eye(_DIM // 2), j)


@dataclass(frozen=True, eq=False)
class TwoBodyPairs:
    """Pairs of two-body states ``step`` time units apart, and their rotation symmetry.

    Attributes
    ----------
    X
        States ``(q1x, q1y, q2x, q2y, p1x, p1y, p2x, p2y)``, shape ``(n, 8)``, float64, in the
        centre-of-mass frame (momentum = velocity for unit masses).
    Y
        The same states evolved by ``params["step"]``, shape ``(n, 8)``.
    generator
        The true generator ``block_diag(J, J, J, J)``, shape ``(8, 8)``.
    name
        ``"two-body"``.
    params
        JSON-serialisable generation parameters (sizes, step, radius and speed ranges, seed).
    """

    X: np.ndarray
    Y: np.ndarray
    generator: np.ndarray
    name: str = "two-body"
    params: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        x = np.ascontiguousarray(self.X, dtype=np.float64)
        y = np.ascontiguousarray(self.Y, dtype=np.float64)
        g = np.ascontiguousarray(self.generator, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != _DIM or y.shape != x.shape:
            raise ValueError(
                f"X and Y must both have shape (n, {_DIM}), got {x.shape} and {y.shape}"
            )
        if g.shape != (_DIM, _DIM):
            raise ValueError(f"generator must have shape ({_DIM}, {_DIM}), got {g.shape}")
        object.__setattr__(self, "X", x)
        object.__setattr__(self, "Y", y)
        object.__setattr__(self, "generator", g)
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "params", _as_json_dict(self.params or {}))

    @property
    def n_samples(self) -> int:
        """Number of pairs."""
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        """State dimension (8)."""
        return _DIM

    def span_basis(self, rtol: float = 1e-8) -> np.ndarray:
        """An orthonormal basis ``(8, r)`` of the states' linear span (``X`` and ``Y`` together).

        The centre of mass is fixed, so the states fill a 4-dimensional subspace: a linear
        map's action across it is never seen by the data. No centring (a linear symmetry fixes
        the origin); directions below ``rtol`` times the largest singular value are dropped.
        """
        _, values, vt = np.linalg.svd(np.vstack([self.X, self.Y]), full_matrices=False)
        return vt[values > rtol * values[0]].T

    def __repr__(self) -> str:
        return f"TwoBodyPairs(name={self.name!r}, n_samples={self.n_samples}, dim={_DIM})"

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the pairs to an ``.npz`` file atomically and return its path.

        The archive holds ``X``, ``Y``, ``generator`` and a ``metadata`` JSON string (format,
        name, params) as plain arrays, so :meth:`load` restores everything without unpickling;
        :func:`~symmetrykit.datasets.load_xy` also reads it (``Y`` as targets). Only ``.npz``
        is offered: ``.npy`` and ``.csv`` would keep one of the two arrays.

        Parameters
        ----------
        path
            Target file, ending in ``.npz``.
        overwrite
            Replace an existing file. Without it an existing file is never touched.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is false.
        ValueError
            For a suffix other than ``.npz``.
        """
        path = Path(path)
        if path.suffix.lower() != ".npz":
            raise ValueError(
                f"{path}: pairs (X, Y) are saved as .npz only, not {path.suffix or '(none)'!r}"
            )
        metadata = json.dumps(
            {"format": PAIRS_FORMAT, "version": _FORMAT_VERSION, "name": self.name,
             "params": self.params}
        )
        arrays = {"X": self.X, "Y": self.Y, "generator": self.generator,
                  "metadata": np.array(metadata)}
        write_atomically(
            path, lambda handle: np.savez(handle, allow_pickle=False, **arrays),
            overwrite=overwrite,
        )
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TwoBodyPairs:
        """Read pairs written by :meth:`save` (never unpickling, sizes checked first).

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            One line naming the path: not an ``.npz`` file of pairs written by :meth:`save`, or
            arrays of the wrong shape.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        try:
            signature = file_signature(path)
        except OSError as exc:
            raise ValueError(f"{path}: cannot be opened ({exc})") from exc
        if signature != "zip":
            raise ValueError(f"{path}: not an .npz archive of pairs written by TwoBodyPairs.save")
        with NpzArchive(path) as archive:
            x, extras, metadata, y = _read_npz_members(archive, path, ("Y",))
        if metadata is None or metadata["format"] != PAIRS_FORMAT or y is None:
            raise ValueError(f"{path}: not a file of pairs written by TwoBodyPairs.save; "
                             "read samples with datasets.load")
        if "generator" not in extras:
            raise ValueError(f"{path}: the pairs file has no 'generator' array")
        try:
            return cls(X=x, Y=y, generator=extras["generator"],
                       name=str(metadata.get("name", path.stem)), params=metadata.get("params"))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None


def _kepler_rhs(tau: np.ndarray):
    """Right-hand side in rescaled time ``s = t / tau`` for stacked relative states ``(r, v)``."""

    def rhs(_s: float, z: np.ndarray) -> np.ndarray:
        z = z.reshape(4, -1)
        r, v = z[:2], z[2:]
        inv_r3 = np.sum(r * r, axis=0) ** -1.5
        return (tau * np.concatenate([v, -_MU * inv_r3 * r])).ravel()

    return rhs


def _flow_relative(r: np.ndarray, v: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, ...]:
    """Evolve each relative state ``(r[:, i], v[:, i])`` by ``times[i]`` in one ODE solve.

    Time is rescaled per column (``t = s · times[i]``, ``s ∈ [0, 1]``) so that a single
    ``solve_ivp`` call carries all columns to their own end times.
    """
    from scipy.integrate import solve_ivp  # here, not at the top: listings need no scipy

    z0 = np.concatenate([r, v]).ravel()
    sol = solve_ivp(
        _kepler_rhs(times), (0.0, 1.0), z0, method="DOP853", t_eval=[1.0], rtol=_RTOL, atol=_ATOL
    )
    if not sol.success:  # pragma: no cover - DOP853 does not fail on these smooth orbits
        raise RuntimeError(f"two_body: ODE solve failed: {sol.message}")
    z = sol.y[:, -1].reshape(4, -1)
    return z[:2], z[2:]


def _bodies(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Centre-of-mass-frame states ``(n, 8)`` from relative position/velocity ``(2, n)`` each."""
    # Unit masses: q1 = r/2, q2 = −r/2, p1 = v/2, p2 = −v/2.
    return 0.5 * np.concatenate([r, -r, v, -v]).T


def two_body(
    n_orbits: int = 1000,
    pairs_per_orbit: int = 15,
    step: float = 0.1,
    noise: float = 0.0,
    random_state: Any = None,
    *,
    radius_range: tuple[float, float] = (0.5, 1.5),
    speed_range: tuple[float, float] = (0.9, 1.1),
) -> TwoBodyPairs:
    """Pairs ``(x, y)`` of planar two-body states, ``y`` the state ``step`` after ``x``.

    Each orbit starts at separation ``r ~ U(radius_range)`` along a random angle (each body at
    ``r/2`` from the origin), with velocities perpendicular to the separation at
    ``f ~ U(speed_range)`` times the circular speed (each body ``√(1/(2r))``) and a random sense
    of rotation. Along each orbit, ``pairs_per_orbit`` times ``t ~ U(0, P)`` are drawn, ``P`` the
    orbit's Kepler period, and ``x`` is the state at ``t``, ``y`` the state at ``t + step``
    (DOP853, ``rtol = atol = 1e-10``; two vectorised ODE solves in all: to ``t``, then by
    ``step``). Details in
    ``docs/data.md`` ("Two-body pairs").

    Parameters
    ----------
    n_orbits, pairs_per_orbit
        Number of random orbits and of pairs drawn along each (``n = n_orbits·pairs_per_orbit``,
        15,000 by default; LieGAN's set has 14,652).
    step
        Time between ``x`` and ``y`` (> 0); the default 0.1 is about a twelfth of the shortest
        period.
    noise
        Standard deviation of Gaussian noise added independently to ``X`` and ``Y`` (absolute
        units; the states are of order 1). With noise the centre-of-mass constraints and energy
        conservation hold only approximately.
    random_state
        None, a non-negative int or a :class:`numpy.random.Generator`.
    radius_range, speed_range
        Ranges of the initial separation and of the speed factor ``f`` (``0 < f < √2`` keeps the
        orbits bound).

    Returns
    -------
    TwoBodyPairs
        ``X``, ``Y`` of shape ``(n, 8)`` and the generator ``block_diag(J, J, J, J)``.

    Raises
    ------
    ValueError
        On a bad parameter; the message names it.
    """
    n_orbits = check_int("n_orbits", n_orbits, 1)
    pairs_per_orbit = check_int("pairs_per_orbit", pairs_per_orbit, 1)
    step = check_positive("step", step)
    noise = check_nonnegative("noise", noise)
    r_low, r_high = check_range("radius_range", radius_range, positive=True)
    f_low, f_high = check_range("speed_range", speed_range, positive=True)
    if f_high >= math.sqrt(2.0):
        raise ValueError(f"speed_range must stay below sqrt(2) (bound orbits), got {speed_range!r}")
    rng, seed = resolve_random_state(random_state)

    radius = rng.uniform(r_low, r_high, n_orbits)
    angle = rng.uniform(0.0, 2.0 * math.pi, n_orbits)
    factor = rng.uniform(f_low, f_high, n_orbits)
    sense = rng.choice([-1.0, 1.0], n_orbits)
    unit = np.stack([np.cos(angle), np.sin(angle)])
    r0 = radius * unit
    v0 = (factor * np.sqrt(_MU / radius) * sense) * np.stack([-unit[1], unit[0]])
    semi_major = radius / (2.0 - factor**2)  # from the energy v²/2 − mu/r = −mu/(2a)
    period = 2.0 * math.pi * np.sqrt(semi_major**3 / _MU)
    times = rng.uniform(0.0, 1.0, (n_orbits, pairs_per_orbit)) * period[:, None]

    # One column per pair, started from its orbit's initial state and carried to its own time;
    # then every x is carried on by ``step`` (a short second solve) to give y.
    orbit = np.repeat(np.arange(n_orbits), pairs_per_orbit)
    n = orbit.size
    r_x, v_x = _flow_relative(r0[:, orbit], v0[:, orbit], times.ravel())
    r_y, v_y = _flow_relative(r_x, v_x, np.full(n, step))
    x, y = _bodies(r_x, v_x), _bodies(r_y, v_y)
    if noise > 0:
        x += noise * rng.standard_normal(x.shape)
        y += noise * rng.standard_normal(y.shape)

    params = {
        "n_orbits": n_orbits,
        "pairs_per_orbit": pairs_per_orbit,
        "n_samples": n,
        "step": step,
        "noise": noise,
        "radius_range": [r_low, r_high],
        "speed_range": [f_low, f_high],
        "time_range": "U(0, orbital period)",
        "G": 1.0,
        "masses": [1.0, 1.0],
        "integrator": {"method": "DOP853", "rtol": _RTOL, "atol": _ATOL},
        "random_state": seed,
    }
    return TwoBodyPairs(X=x, Y=y, generator=rotation_generator(), params=params)
