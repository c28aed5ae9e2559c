"""Discover: the symmetry algebra of a model (or of data) is a nullspace over the generators.

For a fixed model ``F`` the map ``ξ ↦ L_ξ F`` is linear; its kernel is a Lie subalgebra (the Lie
derivative is a representation of the algebra), so an SVD of the sampled operator gives the whole
symmetry algebra at once, with its singular spectrum as the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import as_samples
from ..lie import LieAlgebra, translations
from ._checks import _is_integer
from ._dictionary import PolynomialDictionary, _exponents
from ._operators import _lie_derivative_with_method, directional_derivatives, output_matrices

__all__ = ["LieDiscovery", "discover", "discover_density", "discover_tangent"]


@dataclass(frozen=True)
class LieDiscovery:
    """Result of a discovery: the symmetry algebra and the spectrum that supports it.

    Attributes
    ----------
    algebra
        The discovered generators (input side), most symmetric first; ``None`` when no symmetry
        was found (``nullity == 0``).
    output_algebra
        The paired output generators (equivariant discovery), else ``None``.
    singular_values
        The whole spectrum of the (normalised) Lie-derivative operator, ascending, divided by
        :attr:`scale`; ``singular_values[:nullity]`` belong to the symmetries.
    nullity
        Number of symmetries found.
    gap
        ``singular_values[nullity] / singular_values[nullity − 1]``: how clearly the symmetries
        stand apart (``inf`` for exact zeros). When every candidate is a symmetry it is the
        distance to the reference scale, ``1 / singular_values[-1]``; ``nan`` when ``nullity`` is
        0.
    closure_residual
        :meth:`~symmetrykit.lie.LieAlgebra.closure_residual` of the discovered span (a true
        symmetry algebra is closed under the bracket); ``nan`` when ``nullity < 2``.
    candidates
        The orthonormalised candidate generators, ordered as the spectrum (most symmetric first):
        ``candidates[:nullity]`` spans ``algebra``.
    output_candidates
        The paired output generators of ``candidates`` (equivariant discovery), else ``None``.
    method
        How derivatives were computed (``"exact"``, ``"torch"``, ``"complex-step"``,
        ``"finite-difference"``, ``"weak-form"`` or ``"tangent-space"``).
    details
        Method-specific records (e.g. the weak form's degree and number of test functions).
    scale
        The absolute value the spectrum is divided by: the largest singular value, or the
        operator's natural magnitude when that is larger (see :func:`discover`), so that a model
        symmetric under *every* candidate shows a spectrum of rounding-level values instead of
        rounding noise blown up to 1.
    """

    algebra: LieAlgebra | None
    singular_values: np.ndarray
    nullity: int
    gap: float
    closure_residual: float
    candidates: LieAlgebra
    output_algebra: LieAlgebra | None = None
    output_candidates: LieAlgebra | None = None
    method: str = ""
    details: dict = field(default_factory=dict)
    scale: float = float("nan")

    def summary(self) -> str:
        """One line: nullity, gap and the smallest singular values."""
        head = ", ".join(
            f"{v:.2e}"
            for v in self.singular_values[: min(len(self.singular_values), self.nullity + 3)]
        )
        # Closure is a property of two or more generators; one always closes, none has no gap.
        gap = "no gap (nothing found)" if self.nullity == 0 else f"gap {self.gap:.3g}"
        closure = ("" if self.nullity < 2
                   else f"; closure residual {self.closure_residual:.2e}")
        return (
            f"{self.nullity} symmetr{'y' if self.nullity == 1 else 'ies'} of "
            f"{len(self.singular_values)} candidates ({self.candidates.name}); {gap}{closure}; "
            f"spectrum (relative, ascending): {head}, ..."
        )


def _samples_for(X: Any, algebra: Any) -> tuple[np.ndarray, int]:
    """The samples as an ``(N, n)`` array, checked against the candidates acting on ``R^n``."""
    if not isinstance(algebra, LieAlgebra):
        raise ValueError(f"algebra must be a LieAlgebra, got {type(algebra).__name__}")
    X = as_samples(X)
    n = algebra.space_dim
    if X.shape[1] != n:
        raise ValueError(f"X has {X.shape[1]} features but {algebra.name} acts on R^{n}")
    return X, n


def _orthonormal_pairs(
    algebra: LieAlgebra, outputs: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Orthonormalise the candidates (Frobenius, jointly with paired outputs).

    Returns the change of basis ``R`` (new = R @ old, shape (r, k)), the new input stack and the
    new output stack.
    """
    k = len(algebra)
    flat = algebra.generators.reshape(k, -1)
    if outputs is not None:
        flat = np.concatenate([flat, outputs.reshape(k, -1)], axis=1)
    u, s, vt = np.linalg.svd(flat, full_matrices=False)
    tol = max(flat.shape) * np.finfo(np.float64).eps * (s[0] if s.size else 0.0)
    rank = int(np.sum(s > tol))
    if rank < k:
        raise ValueError(
            f"the candidate generators of {algebra.name} are linearly dependent (rank {rank} < {k})"
        )
    change = (u / s).T  # rows: coefficients of orthonormal elements in the old basis
    inputs = np.tensordot(change, algebra.generators, axes=1)
    paired = None if outputs is None else np.tensordot(change, outputs, axes=1)
    return change, inputs, paired


def _select_nullity(
    relative: np.ndarray, rtol: float | None, n_symmetries: int | None, gap_ratio: float | None
) -> int:
    k = relative.size
    if n_symmetries is not None:
        if not _is_integer(n_symmetries):
            raise ValueError(f"n_symmetries must be an integer, got {n_symmetries!r}")
        if not 0 <= n_symmetries <= k:
            raise ValueError(f"n_symmetries must be in [0, {k}], got {n_symmetries}")
        return int(n_symmetries)
    if gap_ratio is not None:
        if isinstance(gap_ratio, bool) or not gap_ratio > 1:
            raise ValueError(f"gap_ratio must be a number > 1, got {gap_ratio!r}")
        # The largest multiplicative gap, if it is at least gap_ratio. The spectrum is closed by
        # the reference value 1, so a spectrum far below its natural scale (every candidate a
        # symmetry) has its gap at the end.
        floor = np.maximum(np.append(relative, 1.0), np.finfo(np.float64).tiny)
        ratios = floor[1:] / floor[:-1]
        best = int(np.argmax(ratios))
        return best + 1 if ratios[best] >= gap_ratio else 0
    if rtol is None or not 0 < rtol < 1:
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
    return int(np.sum(relative < rtol))


def _result_from_matrix(
    matrix: np.ndarray,
    candidates: np.ndarray,
    outputs: np.ndarray | None,
    algebra: LieAlgebra,
    *,
    rtol: float | None,
    n_symmetries: int | None,
    gap_ratio: float | None,
    method: str,
    output_name: str | None = None,
    details: dict | None = None,
    reference: float = 0.0,
) -> LieDiscovery:
    """SVD of ``matrix`` (rows: samples, columns: orthonormal candidates) into a result.

    The spectrum is divided by ``max(largest singular value, reference)``; ``reference`` is the
    operator's natural magnitude without cancellations (0 when unknown).
    """
    # Every right singular vector is needed, the left ones never: a full U of a tall matrix
    # (many samples) would be samples × samples.
    _, s, vt = np.linalg.svd(matrix, full_matrices=matrix.shape[0] < matrix.shape[1])
    k = candidates.shape[0]
    values = np.zeros(k)
    values[: s.size] = s
    # Ascending order: most symmetric first. Rows of vt beyond len(s) have zero singular value.
    order = np.argsort(values, kind="stable")
    values = values[order]
    directions = vt[order]
    largest = max(float(values[-1]), float(reference))
    if not largest > 0:
        largest = 1.0
    relative = values / largest
    nullity = _select_nullity(relative, rtol, n_symmetries, gap_ratio)

    inputs = np.tensordot(directions, candidates, axes=1)
    paired = None if outputs is None else np.tensordot(directions, outputs, axes=1)
    ordered = LieAlgebra(inputs, name=f"{algebra.name} (spectral basis)", affine=algebra.affine)
    ordered_out = None if paired is None else LieAlgebra(paired, name=output_name or "outputs")

    found = found_out = None
    closure = float("nan")
    if nullity:
        found = LieAlgebra(inputs[:nullity], name=f"sym ⊂ {algebra.name}", affine=algebra.affine)
        if paired is not None:
            found_out = LieAlgebra(paired[:nullity], name=f"sym ⊂ {output_name}")
        if nullity >= 2:
            closure = found.closure_residual()
    if nullity == 0:
        gap = float("nan")
    else:
        above = relative[nullity] if nullity < k else (1.0 if reference > 0 else float("nan"))
        gap = float(above / relative[nullity - 1]) if relative[nullity - 1] > 0 else float("inf")
    return LieDiscovery(
        algebra=found,
        singular_values=relative,
        nullity=nullity,
        gap=gap,
        closure_residual=closure,
        candidates=ordered,
        output_algebra=found_out,
        output_candidates=ordered_out,
        method=method,
        details=details or {},
        scale=largest,
    )


def _natural_scale(
    f: Any, X: np.ndarray, candidates: LieAlgebra, outputs: np.ndarray | None, method: str
) -> float:
    """The magnitude ``L_ξ F`` would have without cancellations, per orthonormal candidate.

    ``sqrt(mean_k mean_s (‖DF(x_s)‖² ‖v_k(x_s)‖² + ‖B_k‖² ‖F(x_s)‖²))`` bounds ``‖L_ξ F‖`` up
    to a factor √2 (Cauchy–Schwarz) and does not cancel, so a spectrum far below it is rounding
    noise, even when every candidate is a symmetry and the largest singular value is itself
    rounding-level. Returns 0 when the model cannot give its Jacobian.
    """
    n = X.shape[1]
    try:
        if method == "exact":
            # The Jacobian's columns are the Lie derivatives along the translations.
            jacobian = np.asarray(f.lie_derivative(X, translations(n), None), dtype=np.float64)
            values = np.asarray(f(X), dtype=np.float64) if callable(f) else None
        else:
            axes = np.broadcast_to(np.eye(n)[:, None, :], (n, X.shape[0], n))
            values, jacobian, _ = directional_derivatives(f, X, np.ascontiguousarray(axes), method)
    except (ValueError, TypeError, RuntimeError):
        return 0.0
    if jacobian.ndim != 3 or jacobian.shape[:2] != (n, X.shape[0]):
        return 0.0
    jacobian_sq = np.sum(jacobian**2, axis=(0, 2))  # ‖DF(x_s)‖²_F
    fields_sq = np.sum(candidates.vector_fields(X) ** 2, axis=2)  # (q, N)
    total = float(np.mean(fields_sq * jacobian_sq[None]))
    if outputs is not None and values is not None:
        values = values.reshape(X.shape[0], -1)
        b_sq = np.sum(outputs**2, axis=(1, 2))
        total += float(np.mean(b_sq) * np.mean(np.sum(values**2, axis=1)))
    return float(np.sqrt(total)) if np.isfinite(total) else 0.0


def discover(
    f: Any,
    X: Any,
    algebra: LieAlgebra,
    *,
    output_algebra: Any = None,
    rtol: float | None = 1e-6,
    n_symmetries: int | None = None,
    gap_ratio: float | None = None,
    method: str = "auto",
) -> LieDiscovery:
    """The symmetries of a model among candidate generators: the nullspace of ``ξ ↦ L_ξ F``.

    Parameters
    ----------
    f
        The model (see :func:`~symmetrykit.liederiv.lie_derivative`): a callable ``(N, n) → (N, m)``
        or ``(N,)``, torch or NumPy, or a fitted dictionary regressor (exact derivatives).
    X
        Points where the operator is sampled, shape ``(N, n)``; use points from the region where
        the symmetry should hold (for a level set, points *on* it).
    algebra
        Candidate generators acting on the inputs (e.g. ``sk.lie.gl(3)``, ``sk.lie.se(3)``). They
        are orthonormalised first (Frobenius): the result does not depend on their scaling.
    output_algebra
        ``None`` (invariance), ``"tangent"`` (vector fields) or a :class:`LieAlgebra` paired one to
        one with ``algebra`` (equivariance; the pairs are orthonormalised jointly).
    rtol
        A candidate is a symmetry when its singular value relative to the spectrum's
        :attr:`~LieDiscovery.scale` is below ``rtol`` (default ``1e-6``, for exact models in
        float64; use ``gap_ratio`` for noisy or fitted models). The scale is the largest
        singular value or, when that is larger, the magnitude the Lie derivatives would have
        without cancellations, ``sqrt(mean ‖DF‖² ‖v_ξ‖² + ‖B_ξ‖² ‖F‖²)`` (one more Jacobian per
        point), so a model symmetric under every candidate is recognised as such.
    n_symmetries
        Take exactly this many (overrides ``rtol`` and ``gap_ratio``).
    gap_ratio
        Instead of ``rtol``: cut at the largest multiplicative gap of the spectrum if it is at
        least this ratio (e.g. ``100``), else report no symmetry.
    method
        Differentiation method for callables (``"auto"``, ``"torch"``, ``"complex-step"``,
        ``"finite-difference"``).

    Returns
    -------
    LieDiscovery

    Examples
    --------
    >>> import numpy as np, symmetrykit as sk
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> res = sk.liederiv.discover(lambda x: (x**2).sum(axis=1), X, sk.lie.gl(3))
    >>> res.nullity
    3
    >>> gens = res.algebra.generators
    >>> bool(np.allclose(gens, -gens.transpose(0, 2, 1)))  # so(3): antisymmetric
    True
    """
    if not isinstance(algebra, LieAlgebra):
        raise ValueError(f"algebra must be a LieAlgebra, got {type(algebra).__name__}")
    # Points where a model is probed, not data whose variation is the evidence: repeated
    # points are legitimate (the symmetries of the model at that point).
    X = as_samples(X, warn_constant=False)
    if rtol is not None and gap_ratio is None and not 0 < rtol < 1:
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
    if gap_ratio is not None and (isinstance(gap_ratio, bool) or not gap_ratio > 1):
        raise ValueError(f"gap_ratio must be a number > 1, got {gap_ratio!r}")
    derivatives, used = _lie_derivative_with_method(f, X, algebra, output_algebra, method=method)
    q, n_points, m = derivatives.shape
    outputs = None
    if isinstance(output_algebra, LieAlgebra) or (
        isinstance(output_algebra, str) and output_algebra == "tangent"
    ):
        outputs = output_matrices(algebra, output_algebra, m)
    change, inputs, paired = _orthonormal_pairs(algebra, outputs)
    # The Lie derivative is linear in the generator, so the orthonormal candidates' derivatives
    # are the same linear combinations of the original ones.
    matrix = np.tensordot(change, derivatives, axes=1)  # (q, N, m)
    matrix = matrix.reshape(q, n_points * m).T / np.sqrt(n_points)
    candidates = LieAlgebra(inputs, name=algebra.name, affine=algebra.affine)
    reference = _natural_scale(f, X, candidates, paired, used)
    output_name = output_algebra.name if isinstance(output_algebra, LieAlgebra) else "tangent"
    return _result_from_matrix(
        matrix,
        inputs,
        paired,
        algebra,
        rtol=rtol,
        n_symmetries=n_symmetries,
        gap_ratio=gap_ratio,
        method=used,
        output_name=output_name if outputs is not None else None,
        reference=reference,
    )


def _lookup_rows(table: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of the row of ``table`` equal to each row of ``queries`` (all must occur)."""
    stacked = np.concatenate([table, queries])
    _, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    position = np.full(int(inverse.max()) + 1, -1)
    position[inverse[: len(table)]] = np.arange(len(table))
    found = position[inverse[len(table) :]]
    if np.any(found < 0):  # pragma: no cover - the exponent tables are built to contain them
        raise RuntimeError("a lowered exponent is missing from the monomial table")
    return found


def _lower_monomials(z: np.ndarray, degree: int) -> np.ndarray:
    """Monomials of degree ``≤ degree`` (bias first, graded lexicographic), shape ``(N, P)``."""
    if degree == 0:
        return np.ones((z.shape[0], 1))
    return PolynomialDictionary(z.shape[1], degree, include_bias=True).transform(z)


#: Floats per block of test-function gradients (bounds the memory of the noise estimate).
_BLOCK_FLOATS = 1 << 22


def discover_density(
    X: Any,
    algebra: LieAlgebra,
    *,
    degree: int = 3,
    standardize: bool = True,
    weighting: str = "noise",
    rtol: float | None = None,
    n_symmetries: int | None = None,
    gap_ratio: float | None = None,
    chunk_size: int = 8192,
) -> LieDiscovery:
    """Symmetries of the distribution of samples, from the weak form of ``div(p v_ξ) = 0``.

    A density ``p`` is invariant under the flow of ``v_ξ`` iff ``E_p[∇φ(x) · v_ξ(x)] = 0`` for
    every test function ``φ`` (integrate ``φ div(p v) = 0`` by parts). With monomial test
    functions of degree ``1..degree`` this is a ``(#tests × k)`` matrix of sample means, whose
    nullspace needs no density estimate (Otto et al. 2023, discovering the symmetries of a
    distribution from samples, in weak form).

    For linear or affine candidates and monomial test functions, ``∇φ_a · v_k`` is a fixed
    combination of the moments ``E[z^β x̃ᵀ]`` (``z^β`` a monomial of degree ``< degree``,
    ``x̃ = (x, 1)``), so the matrix costs one pass of ``N × #monomials × (n+1)`` products: a
    fraction of a second for 10⁵ samples in ``R^7`` with cubic tests.

    Second-order test functions alone cannot single out a generator (any Gaussian has a whole
    conjugated so(n) of symmetries); cubic ones see the data's third moments. A discrete symmetry
    (e.g. a cyclic pixel shift) is not a continuous one: its logarithm is then only the *least
    broken* candidate and the spectrum shows no exact zero, only the ordering. Only moments up to
    order ``degree`` are tested, so a candidate that preserves them is reported symmetric even
    where it does not preserve the whole density.

    Parameters
    ----------
    X
        Samples, shape ``(N, n)``.
    algebra
        Candidate generators (linear or affine) on ``R^n``. They are orthonormalised first
        (Frobenius), so the result does not depend on their scaling.
    degree
        Largest degree of the monomial test functions (default 3; see Notes).
    standardize
        Centre and scale the coordinates of the *test functions* by the data's mean and standard
        deviation (the fields ``v_ξ`` act on the raw coordinates). The test-function space, hence
        every exact symmetry, is unchanged; only the weighting of the rows is, which keeps the
        monomials well conditioned for data far from the origin or with mixed units.
    weighting
        ``"noise"`` (default) divides each test function's row by the standard error of its
        sample means (averaged over the candidates), so rows become z-scores and the spectrum
        measures statistical evidence against each candidate; ``"none"`` keeps the raw means.
        The standard errors cost ``N × #tests × n²`` more products (about 1 s for 10⁵ samples
        in ``R^7`` with cubic tests, against 0.05 s for the means); use ``"none"`` when that is
        too much (e.g. cubic tests in ``R^33``: 7139 of them).
    rtol, n_symmetries, gap_ratio
        As in :func:`discover`; with none of them given, the single most symmetric candidate is
        returned (``n_symmetries=1``).
    chunk_size
        Samples per block (the noise estimate further caps a block at about 4·10⁶ floats).

    Returns
    -------
    LieDiscovery
        ``method="weak-form"``; ``details`` records the degree, the number of test functions and
        samples, the weighting and the standardisation.

    Notes
    -----
    The defaults (standardised cubic tests, noise weighting) were chosen on the 7-pixel circulant
    Gaussian-bump set, where noise weighting is the more robust with few samples; the
    measurements behind them, and the variants that did worse (whitened rows, quartic tests),
    are in ``docs/decisions.md`` ("Lie-derivative framework") and ``benchmarks/otto_discovery.py``.
    A discrete symmetry such as a cyclic pixel shift has no exact continuous counterpart: its
    spectrum then shows an ordering, not a gap.

    Examples
    --------
    >>> import numpy as np, symmetrykit as sk
    >>> rng = np.random.default_rng(0)
    >>> angle = rng.uniform(0, 2 * np.pi, 20000)
    >>> radius = rng.gamma(3.0, size=20000)  # axisymmetric about the z axis, not Gaussian
    >>> X = np.c_[radius * np.cos(angle), radius * np.sin(angle), rng.exponential(size=20000)]
    >>> res = sk.liederiv.discover_density(X, sk.lie.so(3))
    >>> generator = res.algebra.generators[0]
    >>> print(f"{abs(generator[0, 1]) / np.linalg.norm(generator):.3f}")  # rotation about z
    0.707
    """
    X, n = _samples_for(X, algebra)
    if weighting not in ("noise", "none"):
        raise ValueError(f"weighting must be 'noise' or 'none', got {weighting!r}")
    if not _is_integer(chunk_size) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    tests = PolynomialDictionary(n, degree, include_bias=False)  # validates degree
    p = tests.n_terms
    if X.shape[0] < 2 * p:
        raise ValueError(
            f"need at least {2 * p} samples for {p} test functions of degree {degree}, "
            f"got {X.shape[0]}"
        )
    if rtol is None and n_symmetries is None and gap_ratio is None:
        n_symmetries = 1
    mean = X.mean(axis=0) if standardize else np.zeros(n)
    scale = X.std(axis=0) if standardize else np.ones(n)
    if np.any(scale == 0):
        raise ValueError("a coordinate of X is constant; drop it or use standardize=False")

    _, inputs, _ = _orthonormal_pairs(algebra, None)
    candidates = LieAlgebra(inputs, name=algebra.name, affine=algebra.affine)
    q = len(candidates)
    # Fields v_k(x) = Ã_k x̃ with x̃ = (x, 1): the top n rows of the homogeneous generators.
    homogeneous = (
        inputs[:, :n, :]
        if algebra.affine
        else np.concatenate([inputs, np.zeros((q, n, 1))], axis=2)
    )

    # ∂φ_a/∂x_i = (α_ai / scale_i) z^(α_a − e_i): a coefficient times a lower monomial.
    exponents = tests.exponents
    lower = _exponents(n, degree - 1, include_bias=True)
    present = exponents > 0
    lowered = (exponents[:, None, :] - np.eye(n, dtype=np.int64)[None]).reshape(-1, n)
    index = np.zeros(p * n, dtype=np.int64)
    index[present.reshape(-1)] = _lookup_rows(lower, lowered[present.reshape(-1)])
    index = index.reshape(p, n)
    coefficient = exponents / scale[None, :]  # zero where α_ai = 0

    count = X.shape[0]
    moments = np.zeros((len(lower), n + 1))  # Σ_s z^β(x_s) x̃_s
    second = np.zeros(p)  # Σ_s Σ_k (∇φ_a · v_k)²
    bound = np.zeros(p)  # Σ_s ‖∇φ_a‖² Σ_k ‖v_k‖² (Cauchy–Schwarz scale of `second`)
    rows = chunk_size
    if weighting == "noise":
        rows = max(1, min(chunk_size, _BLOCK_FLOATS // (p * n)))
    for start in range(0, count, rows):
        block = X[start : start + rows]
        monomials = _lower_monomials((block - mean) / scale, degree - 1)
        extended = np.concatenate([block, np.ones((len(block), 1))], axis=1)
        moments += monomials.T @ extended
        if weighting == "noise":
            gradients = coefficient[None] * monomials[:, index]  # (B, p, n)
            fields = candidates.vector_fields(block)  # (q, B, n)
            outer = np.einsum("kbi,kbj->bij", fields, fields)  # Σ_k v_k v_kᵀ per sample
            second += np.einsum("bpi,bpi->p", np.matmul(gradients, outer), gradients)
            bound += np.einsum("bpi,b->p", gradients**2, np.trace(outer, axis1=1, axis2=2))
    moments /= count
    # E[∂_i φ_a · x̃_j], contracted with the candidates' homogeneous rows.
    expectations = coefficient[:, :, None] * moments[index]  # (p, n, n+1)
    means = expectations.reshape(p, -1) @ homogeneous.reshape(q, -1).T  # (p, q)
    if weighting == "noise":
        variance = second / (count * q) - np.mean(means**2, axis=1)
        # A row that is (almost) constant over the samples is decided by its mean alone; the
        # floor keeps its weight finite and keeps rounding-level rows from being amplified.
        variance = np.maximum(variance, 1e-10 * bound / (count * q))
        noise = np.sqrt(variance / count)
        weights = np.divide(1.0, noise, out=np.zeros(p), where=noise > 0)
        means = means * weights[:, None]
    return _result_from_matrix(
        means, inputs, None, algebra, rtol=rtol, n_symmetries=n_symmetries, gap_ratio=gap_ratio,
        method="weak-form",
        details={"degree": degree, "n_tests": p, "n_samples": count, "weighting": weighting,
                 "standardize": bool(standardize)},
    )


def _tangent_spaces(
    X: np.ndarray, neighbourhoods: np.ndarray, dim: int, *, quadratic: bool
) -> np.ndarray:
    """Orthonormal tangent bases ``(N, dim, n)`` from neighbourhoods ``(N, K, n)``."""
    centred = neighbourhoods - neighbourhoods.mean(axis=1, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    tangent = vt[:, :dim, :]
    if not quadratic:
        return tangent
    normal = vt[:, dim:, :]
    # Local graph ν(t) = B t + quadratic terms through the sample itself (no intercept): its
    # slope B tilts the PCA plane onto the tangent plane at the sample, removing the error
    # that the curvature puts into a plane fitted to the whole neighbourhood.
    offsets = neighbourhoods - X[:, None, :]
    t = np.einsum("skn,srn->skr", offsets, tangent)
    nu = np.einsum("skn,smn->skm", offsets, normal)
    upper = np.triu_indices(dim)
    squares = (t[:, :, :, None] * t[:, :, None, :])[:, :, upper[0], upper[1]]
    design = np.concatenate([t, squares], axis=2)  # (N, K, dim + dim(dim+1)/2)
    slopes = (np.linalg.pinv(design) @ nu)[:, :dim, :]  # (N, dim, n − dim)
    tilted = tangent + np.einsum("srm,smn->srn", slopes, normal)
    basis, _ = np.linalg.qr(np.transpose(tilted, (0, 2, 1)))
    return np.transpose(basis, (0, 2, 1))


def discover_tangent(
    X: Any,
    algebra: LieAlgebra,
    *,
    manifold_dim: int,
    n_neighbors: int = 20,
    tangent_fit: str = "auto",
    rtol: float | None = None,
    n_symmetries: int | None = None,
    gap_ratio: float | None = None,
) -> LieDiscovery:
    """Symmetries of a sampled submanifold: fields that stay tangent to it (Lie-PCA).

    Tangent spaces are estimated by PCA of each sample's ``n_neighbors`` nearest neighbours
    (the ``manifold_dim`` leading directions), optionally refined by a local quadratic fit; a
    generator is a symmetry of the manifold when its field has no normal component, so the
    stacked normal components ``P⊥(x_s) v_ξ(x_s)`` form a linear map of ``ξ`` whose nullspace is
    the symmetry algebra. The spectrum is relative to the fields' root-mean-square size, so it
    reads as the fraction of each candidate's field that leaves the manifold.

    Parameters
    ----------
    X
        Samples on (or near) the manifold, shape ``(N, n)``.
    algebra
        Candidate generators on ``R^n``.
    manifold_dim
        Intrinsic dimension of the manifold (``1 ≤ manifold_dim < n``).
    n_neighbors
        Neighbourhood size for the local PCA (more than ``manifold_dim``).
    tangent_fit
        ``"linear"``: the PCA plane of the neighbourhood (error of order the neighbourhood's
        size times the curvature). ``"quadratic"``: fit the normal coordinates of the neighbours
        as a quadratic function of the tangent ones through the sample itself and take the
        tangent plane of that graph (error an order smaller: about 6–10 times less normal leakage
        on an ellipsoid with 400–1000 samples). ``"auto"`` (default): quadratic when
        ``n_neighbors`` is at least twice the number of fitted coefficients per normal
        direction, ``r + r(r+1)/2`` for ``r = manifold_dim``.
    rtol, n_symmetries, gap_ratio
        As in :func:`discover`; with none given, cut at the largest spectral gap of at least 10
        (the spectrum is closed by the reference value 1, so a manifold symmetric under every
        candidate is recognised).

    Examples
    --------
    >>> import numpy as np, symmetrykit as sk
    >>> x = np.random.default_rng(0).normal(size=(500, 3))
    >>> sphere = x / np.linalg.norm(x, axis=1, keepdims=True)
    >>> res = sk.liederiv.discover_tangent(sphere, sk.lie.gl(3), manifold_dim=2)
    >>> res.nullity, bool(sk.metrics.algebra_distance(res.algebra, sk.lie.so(3)).max() < 0.05)
    (3, True)
    """
    from scipy.spatial import cKDTree

    X, n = _samples_for(X, algebra)
    if not _is_integer(manifold_dim) or not 1 <= manifold_dim < n:
        raise ValueError(f"manifold_dim must be an integer in [1, {n - 1}], got {manifold_dim!r}")
    if not _is_integer(n_neighbors) or n_neighbors <= manifold_dim:
        raise ValueError(f"n_neighbors must be an integer > manifold_dim, got {n_neighbors!r}")
    if X.shape[0] <= n_neighbors:
        raise ValueError(f"need more than n_neighbors={n_neighbors} samples, got {X.shape[0]}")
    if tangent_fit not in ("auto", "linear", "quadratic"):
        raise ValueError(
            f"tangent_fit must be 'auto', 'linear' or 'quadratic', got {tangent_fit!r}"
        )
    n_coefficients = manifold_dim + manifold_dim * (manifold_dim + 1) // 2
    if tangent_fit == "auto":
        tangent_fit = "quadratic" if n_neighbors >= 2 * n_coefficients else "linear"
    elif tangent_fit == "quadratic" and n_neighbors < n_coefficients:
        raise ValueError(
            f"a quadratic fit in {manifold_dim} dimensions needs n_neighbors >= {n_coefficients}, "
            f"got {n_neighbors}"
        )
    if rtol is None and n_symmetries is None and gap_ratio is None:
        gap_ratio = 10.0

    _, neighbours = cKDTree(X).query(X, k=n_neighbors + 1)
    tangent = _tangent_spaces(X, X[neighbours], manifold_dim, quadratic=tangent_fit == "quadratic")

    _, inputs, _ = _orthonormal_pairs(algebra, None)
    candidates = LieAlgebra(inputs, name=algebra.name, affine=algebra.affine)
    fields = candidates.vector_fields(X)  # (q, N, n)
    along = np.einsum("srn,qsn->qsr", tangent, fields)
    normal = fields - np.einsum("qsr,srn->qsn", along, tangent)
    matrix = normal.reshape(len(candidates), -1).T / np.sqrt(X.shape[0])
    # The fields' own size: a candidate whose normal part is a small fraction of it is tangent,
    # even when every candidate is (then the largest singular value is itself small).
    reference = float(np.sqrt(np.mean(np.sum(fields**2, axis=2))))
    return _result_from_matrix(
        matrix, inputs, None, algebra, rtol=rtol, n_symmetries=n_symmetries, gap_ratio=gap_ratio,
        method="tangent-space", reference=reference,
        details={"manifold_dim": manifold_dim, "n_neighbors": n_neighbors,
                 "tangent_fit": tangent_fit},
    )
