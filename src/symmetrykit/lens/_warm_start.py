"""A closed-form warm start for SymmetryLens: find a local basis, order it, build the shift.

SymmetryLens has to move a ``3N × 3N`` skew matrix a long way from the identity, and at N = 33
gradient descent from ``G ≈ I`` barely gets started in thousands of steps. For local signals the
learned representation is (up to the filter) an orthogonal change of basis ``Q̂`` in which every
sample is a few localised bumps, ordered so that neighbouring components are correlated. Both
halves have cheap unsupervised estimates:

1. **Local basis.** Local bump signals are sparse in their own basis, so an orthogonal rotation
   that maximises the summed fourth moments ``Σ_i E[z_i⁴]`` of ``z = Rᵀ x`` recovers it up to
   order and signs. The objective is convex in ``R``, so the update ``R ← polar(E[x (z³)ᵀ])``
   (maximise its linearisation over the orthogonal group) increases it monotonically; it
   converges in a few dozen iterations from a random rotation. It only uses fourth moments, so it
   is equivariant under any orthogonal data map ``x ↦ Q x`` — the natural, permuted and
   frequency-shifted representations are all treated alike.
2. **Order and signs.** Components adjacent in the symmetry are the most correlated ones, so the
   order is the path through all components that maximises the summed ``|corr|`` of neighbours
   (a small travelling-salesman problem: greedy chains from every start, then 2-opt). Signs are
   chained so that neighbours correlate positively. If the two ends of the path are about as
   correlated as neighbours are, the symmetry is cyclic.
3. **Generator.** With ``Q̂`` the ordered, signed basis, the padded group element is
   ``blockdiag(I, Q̂, I) · C_M · blockdiag(I, Q̂, I)ᵀ`` (``C_M`` the cyclic shift of the whole padded
   space, whose central crop is the truncated shift) or, for cyclic data,
   ``blockdiag(I, Q̂ C_N Q̂ᵀ, I)``. Its real skew logarithm initialises ``A``.

Where the data are *smooth* rather than sparse (Legendre bumps, MNIST strokes) step 1 finds a
multi-band, wavelet-like basis instead of the pixels and does not converge. For such data a second
candidate is cheap and often right: the **coordinates as given** (``basis="coordinates"``), only
reordered and sign-aligned by step 2. It recovers the shift exactly whenever the data arrive in a
local basis up to order and signs (pixels, scrambled pixels), however smooth the signals, and it
costs nothing when they do not: the estimator refines every usable candidate and keeps a run by
the unsupervised loss (among the runs verified shift-invariant, :mod:`._selection`), never
consulting the ground truth.

Smooth data in a *rotated* basis (the frequency-shifted Legendre set) need a third candidate,
``basis="frequency"`` (:func:`frequency_rotation`): the coordinates read as sine-transform
coefficients. Their order comes from seriating the correlations of their *magnitudes*
(neighbouring frequencies share the bumps' amplitudes and scales; the plain correlations vanish
in this basis), their signs from making the covariance of the reconstructed signals Toeplitz
(translation invariance at second order). The order is the key: covariance eigenvalues do not
follow frequency for band-pass signals, the magnitude correlations do. What was tried before
and how it measured is in ``docs/decisions.md`` (section "SymmetryLens").

Stationary signals that are not local (periodic spike trains, anti-correlated processes) defeat
every order built on neighbour correlation. A fourth candidate, ``basis="stationary"``
(:mod:`symmetrykit.lens._stationary`), reads the coordinates as given and judges them by
stationarity instead: a Toeplitz covariance. It is ordered and signed already, so it skips the
seriation below, and it is cyclic only if its covariance is circulant as well.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg import polar, toeplitz

from .._validation import as_samples
from ..lie import skew_logarithm
from ..metrics import generator_similarity

__all__ = ["WARM_BASES", "WarmStart", "distinct_warm_starts", "frequency_rotation", "seriate",
           "shift_logarithm", "sparse_rotation", "warm_start", "warm_start_from_fields"]

#: Candidate local bases of :func:`warm_start`.
WARM_BASES = ("rotation", "coordinates", "frequency", "stationary")


@dataclass(frozen=True)
class WarmStart:
    """A closed-form SymmetryLens initialisation.

    ``basis`` is ``Q̂`` (N × N, columns ordered along the symmetry and sign-aligned),
    ``filter`` its middle column (a delta in the local basis, the resolving filter that goes with
    it), ``padded_generator`` the orthogonal ``M × M`` group element and ``skew`` its real logarithm
    (the initial ``A``). ``cyclic`` says whether the ends of the order were joined;
    ``chain_similarity`` is the mean ``|corr|`` of neighbours along the order and
    ``closure_similarity`` that of its two ends; ``iterations`` counts rotation updates and
    ``converged`` says whether the rotation settled before the iteration limit. It does for sparse
    data; for smooth data (Legendre bumps, MNIST strokes) it does not, and what it finds there
    is a multi-band filter bank, not the pixels — an unsupervised sign that the warm start is
    unreliable.
    ``source`` names the candidate basis: ``"rotation"`` (the fourth-moment rotation),
    ``"coordinates"`` (the data's own coordinates, reordered; always ``converged``, with
    ``iterations = 0``) or ``"frequency"`` (the coordinates as sine coefficients; ``converged``
    means usable, ``iterations`` counts sign flips).
    """

    basis: np.ndarray
    filter: np.ndarray
    padded_generator: np.ndarray
    skew: np.ndarray
    cyclic: bool
    chain_similarity: float
    closure_similarity: float
    iterations: int
    converged: bool
    source: str = "rotation"


def sparse_rotation(X: np.ndarray, rng: np.random.Generator, *, max_iter: int = 200,
                    tol: float = 1e-7) -> tuple[np.ndarray, int, bool]:
    """Orthogonal ``R`` maximising ``Σ_i E[(Rᵀx)_i⁴]`` over the centred rows of ``X``.

    Returns ``R``, the number of updates made and whether the last update moved no entry by
    more than ``tol``.
    """
    centred = X - X.mean(axis=0)
    centred = centred / (centred.std() + 1e-12)
    n, dim = centred.shape
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    rotation = q * np.sign(np.diag(r))
    iterations, converged = 0, False
    while iterations < max_iter and not converged:
        iterations += 1
        z = centred @ rotation
        # z * z * z, not z**3: numpy's float power is ~20× slower and this loop is most of the
        # warm start's time.
        updated, _ = polar(centred.T @ (z * z * z) / n)
        converged = bool(np.max(np.abs(updated - rotation)) < tol)
        rotation = updated
    return rotation, iterations, converged


def _neighbour_correlation(z: np.ndarray) -> float:
    """Mean over components of their two largest |corr| with others: how local a basis is."""
    with np.errstate(invalid="ignore", divide="ignore"):
        similarity = np.abs(np.nan_to_num(np.corrcoef(z.T)))
    np.fill_diagonal(similarity, 0.0)
    return float(np.mean(np.sort(similarity, axis=1)[:, -2:]))


@functools.lru_cache(maxsize=8)
def _diagonals(dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and lags of the upper triangle and the length of each diagonal.

    Computed once per dimension: the sign search evaluates thousands of deviations of one
    size, and building the indices took 40 % of its time at 31 features.
    """
    rows, cols = np.triu_indices(dim)
    lag = cols - rows
    return rows, cols, lag, np.bincount(lag, minlength=dim)


def _toeplitz_deviation(covariance: np.ndarray, *, from_lag: int = 0) -> float:
    """How far a covariance is from Toeplitz: summed squared spread along each diagonal (the
    diagonals of lag ``from_lag`` and up)."""
    dim = covariance.shape[0]
    rows, cols, lag, counts = _diagonals(dim)
    values = covariance[rows, cols]
    sums = np.bincount(lag, weights=values, minlength=dim)
    squares = np.bincount(lag, weights=values**2, minlength=dim)
    return float(np.sum((squares - sums**2 / counts)[from_lag:]))


def frequency_rotation(X: np.ndarray, rng: np.random.Generator, *, n_orders: int = 6,
                       n_restarts: int = 6) -> tuple[np.ndarray, int, bool]:
    """Orthogonal ``R`` mapping coordinates read as sine coefficients back to local signals.

    For data given as (reordered, sign-flipped) sine-transform coefficients of local signals:

    1. **Order.** Neighbouring frequencies share the bumps' amplitudes and scales, so the
       magnitudes ``|x_i|`` of adjacent frequencies are the most correlated; seriation of
       ``|corr(|x_i|, |x_j|)|`` recovers the frequency order up to reversal. (Reversal is the
       alternating-sign modulation of the signals, which the sign chaining of
       :func:`warm_start` undoes.) Where the spectrum is flat it can misplace a few, so
       ``n_orders`` candidate orders are drawn (all samples, then random halves).
    2. **Signs.** A translation-invariant distribution has a Toeplitz covariance in its local
       basis. The sine basis diagonalises a Toeplitz matrix only approximately; the small
       off-diagonal couplings that remain are what the signs change. So the signs are chosen to
       make the covariance of the reconstructed signals ``z = Rᵀ x`` as Toeplitz as possible:
       greedy single flips from ``n_restarts`` random sign vectors, then exchanges of nearby
       frequencies with their signs. (Signs of the even and of the odd frequencies are fixed
       relative to each other only up to the reflection of the signals, which turns the shift
       into its inverse: harmless.) The order and signs with the most Toeplitz reconstruction
       are kept.

    3. **As given.** The coordinates read in their own order and signs compete with the
       searched reading; the more local reconstruction is kept. When the given reading is
       already more local than the quick first reading, the search is skipped.

    Returns ``R``, the number of sign flips and exchanges made for the kept order, and whether
    the candidate is *usable*: components of the reconstructed signals correlate with their
    neighbours more than the coordinates as given do — the unsupervised sign that the data were
    sine coefficients of local signals at all.
    """
    from ..lie import dst1

    centred = X - X.mean(axis=0)
    n, dim = centred.shape
    covariance = np.cov(centred.T)
    sines = dst1(dim)  # symmetric and orthogonal: signals = sines @ coefficients
    magnitudes = np.abs(centred)

    def deviation(order: np.ndarray, signs: np.ndarray) -> float:
        ordered = covariance[np.ix_(order, order)]
        return _toeplitz_deviation(sines @ (signs[:, None] * ordered * signs) @ sines)

    def rotation_of(order: np.ndarray, signs: np.ndarray) -> np.ndarray:
        rotation = np.zeros((dim, dim))
        rotation[order] = signs[:, None] * sines  # z = (x[order] * signs) @ sines = x @ R
        return rotation

    def magnitude_order(rows: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            similarity = np.abs(np.nan_to_num(np.corrcoef(rows.T)))
        np.fill_diagonal(similarity, 0.0)
        return np.array(seriate(similarity))

    own_locality = _neighbour_correlation(centred)
    # A quick look first: the magnitude order with signs from greedy flips (no randomness, so
    # the search below is unchanged). If even that reading is not more local than the data as
    # given, the data are not sine coefficients of local signals, and the search — thousands of
    # O(N³) deviations, minutes at N = 129 — is skipped. On the Table-1 sets this decides like
    # the full search: the frequency sets pass, the other six fail.
    first_order = magnitude_order(magnitudes)
    ones = np.ones(dim)
    # The reading "as given": the coordinates already in frequency order with their own signs
    # (the plain sine transform of the signals, as in the paper's frequency sets). The search
    # below cannot find order and signs of aligned, non-stationary signals (recorded events,
    # e.g. the UCR series): their covariance is Toeplitz under no reading. It can find this
    # one, and it is kept whenever its reconstruction is more local than the search's.
    given = rotation_of(np.arange(dim), ones)
    given_locality = _neighbour_correlation(centred @ given)
    _, quick_signs, quick_moves = _flip_signs(first_order, ones, deviation(first_order, ones),
                                              deviation, dim)
    quick = rotation_of(first_order, quick_signs)
    quick_locality = _neighbour_correlation(centred @ quick)
    if given_locality > quick_locality:
        # More local than the quick reading: the search (thousands of O(N³) deviations, minutes
        # at N = 75) is skipped.
        return given, 0, given_locality > own_locality
    if not quick_locality > own_locality:  # the quick reading is not usable
        return quick, quick_moves, False

    best = (np.inf, None, None, 0)
    for attempt in range(n_orders):
        order = (first_order if attempt == 0
                 else magnitude_order(magnitudes[rng.random(n) < 0.5]))
        value, signs, moves = _best_signs(order, deviation, dim, rng, n_restarts)
        value, order, signs, polish = _exchange_neighbours(order, signs, value, deviation, dim)
        moves += polish
        if best[1] is None or value < best[0]:
            best = (value, order, signs, moves)
    _, order, signs, moves = best
    rotation = rotation_of(order, signs)
    locality = _neighbour_correlation(centred @ rotation)
    if given_locality > locality:
        return given, 0, given_locality > own_locality
    return rotation, moves, locality > own_locality


def _flip_signs(order, signs, value, deviation, dim, rng=None):
    """Single sign flips while one lowers ``deviation``; returns the flips made."""
    signs, moves, improved = signs.copy(), 0, True
    while improved:
        improved = False
        for j in (rng.permutation(dim) if rng is not None else range(dim)):
            signs[j] = -signs[j]
            trial = deviation(order, signs)
            if trial < value - 1e-12 * max(value, 1.0):
                value, improved, moves = trial, True, moves + 1
            else:
                signs[j] = -signs[j]
    return value, signs, moves


def _best_signs(order, deviation, dim, rng, n_restarts):
    """Greedy single sign flips minimising ``deviation`` from random starts; the best kept."""
    best_value, best_signs, best_moves = np.inf, None, 0
    for _ in range(n_restarts):
        signs = rng.choice([-1.0, 1.0], size=dim)
        value, signs, moves = _flip_signs(order, signs, deviation(order, signs), deviation,
                                          dim, rng)
        # The first start is always kept, so that a NaN deviation (which compares false)
        # cannot leave no signs at all.
        if best_signs is None or value < best_value:
            best_value, best_signs, best_moves = value, signs, moves
    return best_value, best_signs, best_moves


def _exchange_neighbours(order, signs, value, deviation, dim, reach: int = 5):
    """Exchange frequencies at most ``reach`` apart (any signs), or flip one sign: the best such
    move while it lowers ``deviation`` (best rather than first improvement: first-improvement
    exchanges wander into worse local minima)."""
    moves = 0
    while True:
        best = (value, None, None)
        for j in range(dim):
            trial_signs = signs.copy()
            trial_signs[j] = -trial_signs[j]
            trial = deviation(order, trial_signs)
            if trial < best[0]:
                best = (trial, order, trial_signs)
        for i in range(dim - 1):
            for j in range(i + 1, min(i + reach + 1, dim)):
                trial_order = order.copy()
                trial_order[[i, j]] = trial_order[[j, i]]
                for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    trial_signs = signs.copy()
                    trial_signs[i], trial_signs[j] = si * signs[j], sj * signs[i]
                    trial = deviation(trial_order, trial_signs)
                    if trial < best[0]:
                        best = (trial, trial_order, trial_signs)
        if best[1] is None or not best[0] < value - 1e-12 * max(value, 1.0):
            return value, order, signs, moves
        value, order, signs = best
        moves += 1


def _path_score(similarity: np.ndarray, order: list[int]) -> float:
    return float(similarity[order[:-1], order[1:]].sum())


def seriate(similarity: np.ndarray) -> list[int]:
    """An order of the components maximising the summed similarity of neighbours.

    Greedy chains grown at both ends from every start, the best improved by 2-opt reversals
    until no reversal helps. Exact enough for the few dozen components SymmetryLens handles.
    """
    similarity = np.asarray(similarity, dtype=float)
    dim = similarity.shape[0]
    if dim <= 2:
        return list(range(dim))
    best_order, best_score = None, -np.inf
    for start in range(dim):
        order = [start]
        free = np.ones(dim, dtype=bool)
        free[start] = False
        while free.any():
            head = np.where(free, similarity[order[0]], -np.inf)
            tail = np.where(free, similarity[order[-1]], -np.inf)
            if head.max() > tail.max():
                order.insert(0, int(head.argmax()))
                free[order[0]] = False
            else:
                order.append(int(tail.argmax()))
                free[order[-1]] = False
        score = _path_score(similarity, order)
        if score > best_score:
            best_order, best_score = order, score
    order = best_order
    improved = True
    while improved:
        improved = False
        for i in range(dim - 1):
            for j in range(i + 1, dim):
                # Reversing order[i..j] changes only the two edges at its ends.
                before = (similarity[order[i - 1], order[i]] if i > 0 else 0.0) + (
                    similarity[order[j], order[j + 1]] if j < dim - 1 else 0.0)
                after = (similarity[order[i - 1], order[j]] if i > 0 else 0.0) + (
                    similarity[order[i], order[j + 1]] if j < dim - 1 else 0.0)
                if after > before + 1e-12:
                    order[i:j + 1] = order[i:j + 1][::-1]
                    improved = True
    return order


def shift_logarithm(size: int, *, negacyclic: bool = False) -> np.ndarray:
    """The principal real logarithm of the cyclic shift ``C`` of ``size`` coordinates.

    ``C[i, i+1] = 1`` and ``C[size−1, 0] = 1`` (``−1`` with ``negacyclic``, the sign flip that
    makes a cycle of even length a rotation). ``C`` has the eigenvectors ``(λ^j)_j`` with
    ``λ^size = ±1``, i.e. the eigen-angles ``φ_k = 2π(k + δ)/size`` (``δ = ½`` if negacyclic),
    so its logarithm is the skew Toeplitz matrix ``L[a, b] = f(a − b)`` with
    ``f(d) = −(1/size) Σ_k θ_k sin(φ_k d)`` (``θ_k`` the angle wrapped into ``(−π, π]``),
    evaluated by one FFT. No eigenvalue is −1 when ``size`` is odd and cyclic or even and
    negacyclic (the two cases :func:`warm_start` builds), so the logarithm is real and unique.
    It replaces a real Schur decomposition, whose QR iterations converge slowly on a matrix
    whose eigenvalues all have modulus one (over 40 s at 1,203 coordinates).
    """
    offset = 0.5 if negacyclic else 0.0
    angles = 2 * np.pi * (np.arange(size) + offset) / size
    angles = np.where(angles > np.pi, angles - 2 * np.pi, angles)
    lags = np.arange(size)
    column = -np.imag(np.exp(2j * np.pi * offset * lags / size) * np.fft.ifft(angles))
    return toeplitz(column, -column)


def _conjugate_middle(matrix: np.ndarray, basis: np.ndarray, padding: int) -> np.ndarray:
    """``E matrix Eᵀ`` for ``E = blockdiag(I_P, basis, I_P)``, in ``O(M² N)`` not ``O(M³)``."""
    dim = basis.shape[0]
    middle = slice(padding, padding + dim)
    out = np.array(matrix, dtype=float)
    out[middle, :] = basis @ out[middle, :]
    out[:, middle] = out[:, middle] @ basis.T
    return out


def warm_start(X: np.ndarray, padding: int, rng: np.random.Generator, *,
               basis: str = "rotation", cyclic_threshold: float = 0.5) -> WarmStart:
    """Closed-form initial group element for SymmetryLens from samples ``X`` (n, N).

    ``basis``: ``"rotation"`` looks for a local basis by the fourth-moment rotation (any
    orthogonal representation of sparse signals); ``"coordinates"`` takes the data's own
    coordinates (any signals, smooth ones included, given in a local basis up to order and
    signs); ``"frequency"`` reads the coordinates as sine coefficients of local signals
    (:func:`frequency_rotation`). Either way the basis is then ordered, sign-aligned and turned
    into the shift.
    ``cyclic_threshold``: the order is closed into a cycle when the similarity of its two ends is
    at least this fraction of the median neighbour similarity along it.
    """
    # Overflowing or vanishing data would turn the moments below into NaN (and the sign search
    # of the frequency candidate into an AttributeError): refuse them with one line instead.
    X = as_samples(X, owner="warm_start", warn_constant=False)
    dim, source = X.shape[1], basis
    if basis == "rotation":
        rotation, iterations, converged = sparse_rotation(X, rng)
    elif basis == "coordinates":
        rotation, iterations, converged = np.eye(dim), 0, True
    elif basis == "frequency":
        rotation, iterations, converged = frequency_rotation(X, rng)
    elif basis == "stationary":
        from ._stationary import stationary_rotation

        rotation, iterations, converged = stationary_rotation(X)
    else:
        raise ValueError(f"basis must be one of {', '.join(map(repr, WARM_BASES))}, "
                         f"got {basis!r}")
    z = (X - X.mean(axis=0)) @ rotation
    # A constant component (an always-dark pixel) has no correlation: treat it as unrelated.
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.corrcoef(z.T))
    similarity = np.abs(corr)
    np.fill_diagonal(similarity, 0.0)
    if source == "stationary":  # already ordered and signed, by stationarity not locality
        order, signs = list(range(dim)), np.ones(dim)
    else:
        order = seriate(similarity)
        corr = corr[np.ix_(order, order)]
        signs = np.ones(dim)
        for i in range(1, dim):
            signs[i] = signs[i - 1] * (1.0 if corr[i - 1, i] >= 0 else -1.0)
    basis = rotation[:, order] * signs
    chain = np.abs(np.diag(corr, 1))
    closure = float(abs(corr[0, -1]))
    cyclic = closure >= cyclic_threshold * float(np.median(chain))
    if source == "stationary":  # neighbours need not correlate: ask the covariance instead
        from ._stationary import circulant

        cyclic = cyclic and circulant(np.cov((X - X.mean(axis=0)).T))

    # A cycle of even length is an odd permutation (determinant −1), which no exp(skew)
    # reaches; one sign flip where the window never looks makes it a rotation.
    # The logarithm of g is the conjugated logarithm of the shift, known in closed form
    # (shift_logarithm), except for an even cycle flipped in the padding: there the two
    # eigenvalues −1 pair into a half turn that the Schur form finds.
    size = dim + 2 * padding
    if cyclic:
        cycle = np.roll(np.eye(dim), 1, axis=1)  # (C x)_i = x_{i+1 mod N}
        g = np.eye(size)
        middle = slice(padding, padding + dim)
        if dim % 2 == 0:
            if padding:
                g[0, 0] = -1.0
            else:
                cycle[-1, 0] = -1.0
        g[middle, middle] = basis @ cycle @ basis.T
        if dim % 2 == 0 and padding:
            skew = skew_logarithm(g)
        else:
            skew = np.zeros((size, size))
            skew[middle, middle] = basis @ shift_logarithm(
                dim, negacyclic=dim % 2 == 0) @ basis.T
    else:
        cycle = np.roll(np.eye(size), 1, axis=1)
        if size % 2 == 0:
            cycle[-1, 0] = -1.0  # the wrap from the last padding entry to the first
        g = _conjugate_middle(cycle, basis, padding)
        skew = _conjugate_middle(shift_logarithm(size, negacyclic=size % 2 == 0), basis,
                                 padding)
    skew = 0.5 * (skew - skew.T)
    return WarmStart(basis=basis, filter=basis[:, dim // 2].copy(), padded_generator=g,
                     skew=skew, cyclic=bool(cyclic), chain_similarity=float(chain.mean()),
                     closure_similarity=closure, iterations=iterations,
                     converged=converged, source=source)


def warm_start_from_fields(arrays: Mapping[str, np.ndarray], fields: Mapping[str, Any]
                           ) -> WarmStart:
    """A :class:`WarmStart` from its arrays and its JSON fields (as saved)."""
    return WarmStart(basis=arrays["basis"], filter=arrays["filter"],
                     padded_generator=arrays["padded_generator"], skew=arrays["skew"],
                     cyclic=bool(fields["cyclic"]),
                     chain_similarity=float(fields["chain_similarity"]),
                     closure_similarity=float(fields["closure_similarity"]),
                     iterations=int(fields["iterations"]), converged=bool(fields["converged"]),
                     # Runs saved before the coordinates candidate existed used the rotation.
                     source=str(fields.get("source", "rotation")))


# Two candidates whose generators are this similar (|cos|, central crops) are estimates of the same
# symmetry: refining both costs a second run and ends in the same place. Different symmetries
# are far apart (cos(S, S²) = 0 for a shift; a wrong basis gives |cos| ≈ 0.1).
SAME_SYMMETRY = 0.9


def distinct_warm_starts(candidates: list[WarmStart], padding: int, dim: int
                         ) -> list[WarmStart]:
    """The usable candidates (converged rotations), one per symmetry: of candidates whose
    generators agree to ``SAME_SYMMETRY`` the most local one (highest ``chain_similarity``) is
    kept, in the place of the first.

    At 257 features the fourth-moment rotation estimates the pixel shift to cos 0.988 and the
    coordinates candidate exactly; with a threshold of 0.99 both were refined, doubling the fit.
    """
    kept: list[WarmStart] = []
    for candidate in candidates:
        if not candidate.converged:
            continue
        crop = candidate.padded_generator[padding:padding + dim, padding:padding + dim]
        for index, other in enumerate(kept):
            other_crop = other.padded_generator[padding:padding + dim, padding:padding + dim]
            if abs(generator_similarity(crop, other_crop)) >= SAME_SYMMETRY:
                if candidate.chain_similarity > other.chain_similarity:
                    kept[index] = candidate
                break
        else:
            kept.append(candidate)
    return kept
