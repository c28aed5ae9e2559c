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
from ..lie import LieAlgebra
from ._dictionary import PolynomialDictionary
from ._operators import _lie_derivative_with_method, output_matrices

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
        The whole spectrum of the (normalised) Lie-derivative operator, ascending, relative to its
        largest value; ``singular_values[:nullity]`` belong to the symmetries.
    nullity
        Number of symmetries found.
    gap
        ``singular_values[nullity] / singular_values[nullity − 1]``: how clearly the symmetries
        stand apart (``inf`` for exact zeros; ``nan`` when ``nullity`` is 0 or all candidates are
        symmetries).
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

    def summary(self) -> str:
        """One line: nullity, gap and the smallest singular values."""
        head = ", ".join(
            f"{v:.2e}"
            for v in self.singular_values[: min(len(self.singular_values), self.nullity + 3)]
        )
        return (
            f"{self.nullity} symmetr{'y' if self.nullity == 1 else 'ies'} of "
            f"{len(self.singular_values)} candidates ({self.candidates.name}); gap "
            f"{self.gap:.3g}; closure residual {self.closure_residual:.2e}; "
            f"spectrum (relative, ascending): {head}, ..."
        )


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
        if isinstance(n_symmetries, bool) or not isinstance(n_symmetries, (int, np.integer)):
            raise ValueError(f"n_symmetries must be an integer, got {n_symmetries!r}")
        if not 0 <= n_symmetries <= k:
            raise ValueError(f"n_symmetries must be in [0, {k}], got {n_symmetries}")
        return int(n_symmetries)
    if gap_ratio is not None:
        # The largest multiplicative gap, if it is at least gap_ratio.
        floor = np.maximum(relative, np.finfo(np.float64).tiny)
        ratios = floor[1:] / floor[:-1]
        if ratios.size == 0:
            return 0
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
) -> LieDiscovery:
    """SVD of ``matrix`` (rows: samples, columns: orthonormal candidates) into a result."""
    _, s, vt = np.linalg.svd(matrix, full_matrices=True)
    k = candidates.shape[0]
    values = np.zeros(k)
    values[: s.size] = s
    # Ascending order: most symmetric first. Rows of vt beyond len(s) have zero singular value.
    order = np.argsort(values, kind="stable")
    values = values[order]
    directions = vt[order]
    largest = values[-1] if values[-1] > 0 else 1.0
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
    if 0 < nullity < k:
        gap = (
            float(relative[nullity] / relative[nullity - 1])
            if relative[nullity - 1] > 0
            else (float("inf"))
        )
    else:
        gap = float("nan")
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
    )


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
        A candidate is a symmetry when its singular value relative to the largest is below
        ``rtol`` (default ``1e-6``, for exact models in float64; use ``gap_ratio`` for noisy or
        fitted models).
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
    X = as_samples(X)
    if rtol is not None and gap_ratio is None and not 0 < rtol < 1:
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
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
    )


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
    nullspace needs no density estimate (spec otto2023 §3.2).

    Second-order test functions alone cannot single out a generator (any Gaussian has a whole
    conjugated so(n) of symmetries); cubic ones see the data's higher moments.

    Parameters
    ----------
    X
        Samples, shape ``(N, n)``.
    algebra
        Candidate generators (linear or affine) on ``R^n``.
    degree
        Largest degree of the monomial test functions.
    standardize
        Centre and scale the coordinates of the *test functions* by the data's mean and standard
        deviation (the fields ``v_ξ`` act on the raw coordinates), which keeps monomials of
        different degrees comparable.
    weighting
        ``"noise"`` divides each test function's row by the standard error of its sample means
        (rows become z-scores; the spectrum then measures statistical evidence against each
        candidate), ``"none"`` keeps raw means.
    rtol, n_symmetries, gap_ratio
        As in :func:`discover`; with none of them given, the single most symmetric candidate is
        returned (``n_symmetries=1``).
    chunk_size
        Samples per block (bounds memory at ``chunk_size × #tests × n`` floats).
    """
    if not isinstance(algebra, LieAlgebra):
        raise ValueError(f"algebra must be a LieAlgebra, got {type(algebra).__name__}")
    X = as_samples(X)
    n = algebra.space_dim
    if X.shape[1] != n:
        raise ValueError(f"X has {X.shape[1]} features but {algebra.name} acts on R^{n}")
    if weighting not in ("noise", "none"):
        raise ValueError(f"weighting must be 'noise' or 'none', got {weighting!r}")
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, (int, np.integer))
        or (chunk_size < 1)
    ):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    dictionary = PolynomialDictionary(n, degree, include_bias=False)
    if X.shape[0] < 2 * dictionary.n_terms:
        raise ValueError(
            f"need at least {2 * dictionary.n_terms} samples for {dictionary.n_terms} test "
            f"functions of degree {degree}, got {X.shape[0]}"
        )
    if rtol is None and n_symmetries is None and gap_ratio is None:
        n_symmetries = 1
    mean = X.mean(axis=0) if standardize else np.zeros(n)
    scale = X.std(axis=0) if standardize else np.ones(n)
    if np.any(scale == 0):
        raise ValueError("a coordinate of X is constant; drop it or use standardize=False")

    _, inputs, _ = _orthonormal_pairs(algebra, None)
    candidates = LieAlgebra(inputs, name=algebra.name, affine=algebra.affine)
    q, p = len(candidates), dictionary.n_terms
    total = np.zeros((p, q))
    total_sq = np.zeros((p, q))
    for start in range(0, X.shape[0], chunk_size):
        block = X[start : start + chunk_size]
        fields = candidates.vector_fields(block)  # (q, B, n) in raw coordinates
        # Chain rule: φ(z) with z = (x − mean)/scale, so ∇_x φ = ∇_z φ / scale.
        gradients = dictionary.jacobian((block - mean) / scale) / scale  # (B, p, n)
        values = np.einsum("bpn,qbn->bpq", gradients, fields)
        total += values.sum(axis=0)
        total_sq += np.einsum("bpq,bpq->pq", values, values)
    count = X.shape[0]
    means = total / count
    if weighting == "noise":
        variance = np.maximum(total_sq / count - means**2, 0.0)
        noise = np.sqrt(variance.mean(axis=1) / count)
        noise = np.where(noise > 0, noise, 1.0)
        means = means / noise[:, None]
    return _result_from_matrix(
        means,
        inputs,
        None,
        algebra,
        rtol=rtol,
        n_symmetries=n_symmetries,
        gap_ratio=gap_ratio,
        method="weak-form",
        details={"degree": degree, "n_tests": p, "n_samples": count, "weighting": weighting},
    )


def discover_tangent(
    X: Any,
    algebra: LieAlgebra,
    *,
    manifold_dim: int,
    n_neighbors: int = 20,
    rtol: float | None = None,
    n_symmetries: int | None = None,
    gap_ratio: float | None = None,
) -> LieDiscovery:
    """Symmetries of a sampled submanifold: fields that stay tangent to it (Lie-PCA).

    Tangent spaces are estimated by PCA of each sample's ``n_neighbors`` nearest neighbours
    (the ``manifold_dim`` leading directions); a generator is a symmetry of the manifold when its
    field has no normal component, so the stacked normal components
    ``P⊥(x_s) v_ξ(x_s)`` form a linear map of ``ξ`` whose nullspace is the symmetry algebra.

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
    rtol, n_symmetries, gap_ratio
        As in :func:`discover`; with none given, cut at the largest spectral gap of at least 10.
    """
    from scipy.spatial import cKDTree

    if not isinstance(algebra, LieAlgebra):
        raise ValueError(f"algebra must be a LieAlgebra, got {type(algebra).__name__}")
    X = as_samples(X)
    n = algebra.space_dim
    if X.shape[1] != n:
        raise ValueError(f"X has {X.shape[1]} features but {algebra.name} acts on R^{n}")
    if (
        isinstance(manifold_dim, bool)
        or not isinstance(manifold_dim, (int, np.integer))
        or not (1 <= manifold_dim < n)
    ):
        raise ValueError(f"manifold_dim must be an integer in [1, {n - 1}], got {manifold_dim!r}")
    if (
        isinstance(n_neighbors, bool)
        or not isinstance(n_neighbors, (int, np.integer))
        or (n_neighbors <= manifold_dim)
    ):
        raise ValueError(f"n_neighbors must be an integer > manifold_dim, got {n_neighbors!r}")
    if X.shape[0] <= n_neighbors:
        raise ValueError(f"need more than n_neighbors={n_neighbors} samples, got {X.shape[0]}")
    if rtol is None and n_symmetries is None and gap_ratio is None:
        gap_ratio = 10.0

    _, neighbours = cKDTree(X).query(X, k=n_neighbors + 1)
    patches = X[neighbours] - X[neighbours].mean(axis=1, keepdims=True)  # (N, K+1, n)
    _, _, vt = np.linalg.svd(patches, full_matrices=False)
    tangent = vt[:, :manifold_dim, :]  # (N, r, n)

    _, inputs, _ = _orthonormal_pairs(algebra, None)
    candidates = LieAlgebra(inputs, name=algebra.name, affine=algebra.affine)
    fields = candidates.vector_fields(X)  # (q, N, n)
    along = np.einsum("srn,qsn->qsr", tangent, fields)
    normal = fields - np.einsum("qsr,srn->qsn", along, tangent)
    matrix = normal.reshape(len(candidates), -1).T / np.sqrt(X.shape[0])
    return _result_from_matrix(
        matrix,
        inputs,
        None,
        algebra,
        rtol=rtol,
        n_symmetries=n_symmetries,
        gap_ratio=gap_ratio,
        method="tangent-space",
        details={"manifold_dim": manifold_dim, "n_neighbors": n_neighbors},
    )
