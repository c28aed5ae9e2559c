"""The stationary reading of the coordinates: order and signs under which the covariance is
Toeplitz.

A distribution invariant under the time shift has a covariance that depends on the lag only —
a Toeplitz matrix in the true order — whether or not neighbouring samples correlate. The
coordinates warm start orders by neighbour correlation (locality); that fails for stationary
signals that are not local: periodic spike trains, processes anti-correlated at lag 1, narrow-band
oscillations, where the strongest correlations join a sample to its period partners. This reading
orders by stationarity instead.

``stationarity(C)`` measures how Toeplitz a covariance is: the fraction of its off-diagonal
energy ``Σ_{i<j} C_ij²`` that one value per lag explains,
``1 − Σ_lags Σ_{j−i=lag} (C_ij − mean_lag)² / Σ_{i<j} C_ij²``. The diagonal is left out (equal
variances are shared by every order and would inflate the score). In the true order it is about
1 for every stationary set tried (0.993–0.9999: the Table-1 translation sets, MNIST rows,
synthetic spike trains, AR and narrow-band processes, windows of a real appliance record); it
is 0.06 for the permuted Gaussian set and 0.33 for its DST-I view read as given, and 0.43–0.57
for the aligned events of the UCR GunPoint and ArrowHead series, which are not stationary.
"""

from __future__ import annotations

import numpy as np

from ..metrics import generator_similarity
from ._warm_start import (
    SAME_SYMMETRY,
    _exchange_neighbours,
    _flip_signs,
    _toeplitz_deviation,
)

__all__ = ["MAX_EXCHANGE_DIM", "STATIONARY_FIT", "circulant", "representation_invariance",
           "stationarity", "stationary_rotation", "third_order_stationarity"]

#: Up to this many features the stationary reading also tries nearby exchanges (each round
#: costs O(N³)); above it, only sign flips.
MAX_EXCHANGE_DIM = 129

#: The stationarity above which the stationary reading is used.
STATIONARY_FIT = 0.9


def _lag_spread(covariance: np.ndarray) -> tuple[float, float]:
    """Spread of the off-diagonal entries about their lag's mean, and their energy
    ``Σ_{i<j} C_ij²`` (``covariance`` symmetric)."""
    diagonal = np.diag(covariance)
    energy = 0.5 * (float(np.sum(covariance**2)) - float(np.sum(diagonal**2)))
    return _toeplitz_deviation(covariance, from_lag=1), energy


def circulant(covariance: np.ndarray) -> bool:
    """Whether a (Toeplitz) covariance is circulant as well — the data live on a circle: its
    spread about per-*cyclic*-lag means is under twice its spread about per-lag means (for
    windows of a line it is many times larger: the lags ``k`` and ``N − k`` differ)."""
    covariance = np.asarray(covariance, dtype=float)
    dim = covariance.shape[0]
    rows, cols = np.triu_indices(dim, 1)
    values = covariance[rows, cols]
    lag = np.minimum(cols - rows, dim - (cols - rows))
    counts = np.maximum(np.bincount(lag, minlength=dim), 1)
    sums = np.bincount(lag, weights=values, minlength=dim)
    squares = np.bincount(lag, weights=values**2, minlength=dim)
    cyclic_spread = float(np.sum(squares - sums**2 / counts))
    return cyclic_spread < 2.0 * _lag_spread(covariance)[0] + 1e-12 * float(np.sum(values**2))


def stationarity(covariance: np.ndarray) -> float:
    """The fraction of a covariance's off-diagonal energy that a Toeplitz matrix explains (1:
    shift-invariant at second order). ``nan`` when there is no off-diagonal energy."""
    spread, energy = _lag_spread(np.asarray(covariance, dtype=float))
    return 1.0 - spread / energy if energy > 0 else float("nan")


def stationary_rotation(X: np.ndarray, *, max_exchange_dim: int = MAX_EXCHANGE_DIM
                        ) -> tuple[np.ndarray, int, bool]:
    """Signed permutation ``R`` (``z = x @ R``) near the coordinates as given under which the
    covariance is most Toeplitz.

    The coordinates start in their own order and signs and are polished by single sign flips,
    then (up to ``max_exchange_dim`` features: each round costs ``O(N³)``) by exchanges of
    coordinates at most 5 apart, with any signs, while the spread about the per-lag means falls.
    Deterministic. There is no global search over orders (the neighbour-correlation order is
    the coordinates candidate's), so data both permuted and non-local stay out of reach.

    Returns ``R``, the number of flips and exchanges made, and whether the reading is *usable*:
    its stationarity is at least :data:`STATIONARY_FIT` and its correlations stand out of the
    sampling noise (white noise, whose per-lag means fit a few samples' chance correlations, is
    not read as stationary).
    """
    centred = X - X.mean(axis=0)
    dim = centred.shape[1]
    covariance = np.cov(centred.T)

    def deviation(order: np.ndarray, signs: np.ndarray) -> float:
        return _lag_spread(signs[:, None] * covariance[np.ix_(order, order)] * signs)[0]

    order, signs = np.arange(dim), np.ones(dim)
    value, signs, moves = _flip_signs(order, signs, deviation(order, signs), deviation, dim)
    if dim <= max_exchange_dim:
        value, order, signs, exchanges = _exchange_neighbours(order, signs, value, deviation,
                                                              dim)
        moves += exchanges
    rotation = np.zeros((dim, dim))
    rotation[order, np.arange(dim)] = signs
    score = representation_stationarity(centred, rotation.T)
    return rotation, moves, bool(score is not None and score >= STATIONARY_FIT)


def representation_stationarity(X: np.ndarray, rows: np.ndarray) -> float | None:
    """The stationarity of the covariance of the representation ``X @ rows.T``, or ``None``
    when its off-diagonal correlations are within sampling noise (mean squared correlation
    under ``10 / n_samples``: white noise has no second-order structure to judge)."""
    X = np.asarray(X, dtype=float)
    covariance = np.cov((X @ np.asarray(rows, dtype=float).T).T)
    scale = np.sqrt(np.clip(np.diag(covariance), 1e-300, None))
    correlation = covariance / np.outer(scale, scale)
    off_diagonal = correlation[np.triu_indices(correlation.shape[0], 1)]
    if not np.mean(off_diagonal**2) >= 10.0 / X.shape[0]:
        return None
    return stationarity(covariance)


def third_order_stationarity(Z: np.ndarray) -> float | None:
    """How shift-invariant the third moments of samples ``Z`` (n_samples, N) are: the fraction of
    the off-diagonal energy of the co-skewness ``M_ij = E[z_i² z_j]`` (``z`` centred and
    standardised) that one value per signed lag ``j − i`` explains; ``None`` when the
    co-skewness is within sampling noise (mean ``M_ij²`` under ``30 / n_samples``, ten times
    its level for independent Gaussian components), as for Gaussian data.

    Second moments cannot tell the time order of a stationary signal from the same signal with
    every other sample's sign flipped (``D x``, ``D = diag(±1)`` alternating): ``D C D`` is
    Toeplitz whenever ``C`` is. Third moments can, unless they vanish: ``E[(Dx)_i² (Dx)_j] =
    (−1)^j E[x_i² x_j]`` alternates in sign along every lag. On a skewed (spiky) record the
    alternating-sign shift is therefore no symmetry of the distribution.
    """
    Z = np.asarray(Z, dtype=float)
    n_samples, dim = Z.shape
    Z = Z - Z.mean(axis=0)
    Z = Z / np.clip(Z.std(axis=0), 1e-300, None)
    moments = (Z**2).T @ Z / n_samples
    rows, cols = np.nonzero(~np.eye(dim, dtype=bool))
    values = moments[rows, cols]
    if not np.mean(values**2) >= 30.0 / n_samples:
        return None
    lag = cols - rows + dim - 1
    counts = np.maximum(np.bincount(lag, minlength=2 * dim - 1), 1)
    sums = np.bincount(lag, weights=values, minlength=2 * dim - 1)
    squares = np.bincount(lag, weights=values**2, minlength=2 * dim - 1)
    return 1.0 - float(np.sum(squares - sums**2 / counts)) / float(np.sum(values**2))


def representation_invariance(X: np.ndarray, rows: np.ndarray) -> tuple[float | None,
                                                                         float | None]:
    """Second- and third-order stationarity of the representation ``X @ rows.T``
    (:func:`representation_stationarity`, :func:`third_order_stationarity`); ``None`` where
    that order has nothing to judge."""
    X = np.asarray(X, dtype=float)
    rows = np.asarray(rows, dtype=float)
    return representation_stationarity(X, rows), third_order_stationarity(X @ rows.T)


def stationarity_warning(starts: list, generator: np.ndarray, padding: int,
                         losses: list[float], best: int, value: float | None,
                         checks: list | None = None) -> str | None:
    """The warning for a fit whose kept generator is not the shift of a stationary reading that
    was refined (the data are shift-invariant in their given order, the kept answer is another
    symmetry); ``None`` otherwise. ``checks`` are the runs' invariance checks
    (:func:`~._selection.check_run`), ``None`` for a random start or where none were made."""
    index = next((i for i, start in enumerate(starts) if start.source == "stationary"), None)
    if index is None:
        return None
    dim = generator.shape[0]
    reading = starts[index].padded_generator[padding:padding + dim, padding:padding + dim]
    agreement = abs(generator_similarity(generator, reading))
    if agreement >= SAME_SYMMETRY:
        return None
    kept = "" if value is None else f" (stationarity of its representation {value:.2f})"
    check = checks[best] if checks is not None and best < len(checks) else None
    if check is not None and check.verified:
        why = ("Its representation is as shift-invariant at the orders tested (second "
               f"{check.second_order:.3f}, third "
               f"{'–' if check.third_order is None else format(check.third_order, '.3f')}): the "
               "data have both symmetries there (for example Gaussian data, whose every other "
               "sign can be flipped), and the loss chose the other one")
    else:
        why = ("The paper's loss rewards positively correlated neighbours and prefers another "
               "answer on data that are not local (anti-correlated, narrow-band or exactly "
               "periodic); the kept generator is likely not the time shift")
    return (f"SymmetryLens: the data are shift-invariant in their given order (a stationary "
            f"reading: Toeplitz covariance), but the kept generator is another symmetry{kept}, "
            f"|cos| {agreement:.2f} to that shift: the run from the stationary reading ended at "
            f"loss {losses[index]:.4g}, the kept run at {losses[best]:.4g}. {why} "
            "(README: 'When does SymmetryLens work'). selection='invariance' (the default) "
            "keeps that run when it is verified shift-invariant and the other is not; "
            "warm_bases=('stationary',) fits that reading alone")
