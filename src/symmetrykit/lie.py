"""Lie-group core shared by every method: generator stacks, exponentials, powers, factories.

A Lie algebra is stored as a stack of generators of shape ``(k, d, d)`` (the EMLP layout). A
discrete one-parameter group (the SymmetryLens case) is described by a single group element ``G``
of shape ``(d, d)``; :func:`matrix_powers` gives its integer powers accurately.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "LieAlgebra",
    "algebra_from_name",
    "as_array",
    "commutator",
    "dst1",
    "gl",
    "matrix_powers",
    "permutation_matrix",
    "random_orthogonal",
    "scaling",
    "se",
    "shift",
    "skew_logarithm",
    "sl",
    "so",
    "so_pq",
    "translations",
]


def as_array(matrix: Any, *, name: str = "matrix") -> np.ndarray:
    """Return ``matrix`` (NumPy array, torch tensor or nested sequence) as a float64 NumPy array.

    Raises
    ------
    ValueError
        If the values are not numeric or not finite.
    """
    # A torch tensor, recognised without importing torch.
    if hasattr(matrix, "detach") and hasattr(matrix, "cpu"):
        matrix = matrix.detach().cpu().numpy()
    try:
        array = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {type(matrix).__name__}: {exc}") from exc
    if not np.all(np.isfinite(array)):
        n_bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} contains {n_bad} non-finite value(s) (NaN or inf)")
    return array


def _as_square(matrix: Any, name: str) -> np.ndarray:
    array = as_array(matrix, name=name)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"{name} must be a square (d, d) matrix, got shape {array.shape}")
    return array


def commutator(a: Any, b: Any) -> np.ndarray:
    """Matrix commutator ``[a, b] = a b - b a`` (broadcasts over leading axes)."""
    a = as_array(a, name="a")
    b = as_array(b, name="b")
    return a @ b - b @ a


@dataclass(frozen=True)
class LieAlgebra:
    """A matrix Lie algebra given by a basis of generators stacked as ``(k, d, d)``.

    Parameters
    ----------
    generators
        Array-like of shape ``(k, d, d)`` (or ``(d, d)`` for a single generator). Stored as a
        read-only float64 array.
    name
        Human-readable name, e.g. ``"so(3)"``.
    affine
        ``True`` for an algebra of affine vector fields ``v(x) = S x + c`` on ``R^n``
        (translations, se(n)), stored in homogeneous coordinates: each generator is
        ``(n+1, n+1)`` with ``S`` in the top-left block, ``c`` in the last column and a zero
        last row. Then :attr:`dim` is ``n + 1`` and :attr:`space_dim` is ``n``.

    Notes
    -----
    The basis need not be orthonormal. Methods that depend on the span only (closure residual,
    structure constants, :func:`symmetrykit.metrics.algebra_distance`) work with any basis of
    linearly independent generators.
    """

    generators: np.ndarray
    name: str = "algebra"
    affine: bool = False
    _flat_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        stack = as_array(self.generators, name="generators")
        if stack.ndim == 2:
            stack = stack[None]
        if stack.ndim != 3 or stack.shape[1] != stack.shape[2]:
            raise ValueError(f"generators must have shape (k, d, d), got {stack.shape}")
        if stack.shape[1] == 0:
            raise ValueError("generators must act on a space of dimension d >= 1")
        stack = np.array(stack, dtype=np.float64, order="C")
        stack.setflags(write=False)
        object.__setattr__(self, "generators", stack)
        object.__setattr__(self, "affine", bool(self.affine))
        if self.affine:
            if stack.shape[1] < 2:
                raise ValueError(
                    "an affine algebra needs generators of shape (k, n+1, n+1) with n >= 1"
                )
            if np.any(stack[:, -1, :] != 0):
                raise ValueError(
                    "affine generators must have a zero last row (homogeneous coordinates)"
                )

    # ------------------------------------------------------------------ basic shape
    @property
    def dim(self) -> int:
        """Dimension ``d`` of the space the matrices act on."""
        return int(self.generators.shape[1])

    @property
    def space_dim(self) -> int:
        """Dimension ``n`` of the space the vector fields live on (``dim − 1`` when affine)."""
        return self.dim - 1 if self.affine else self.dim

    @property
    def linear_parts(self) -> np.ndarray:
        """The linear parts ``S_k`` of the fields ``v_k(x) = S_k x + c_k``, shape ``(k, n, n)``."""
        n = self.space_dim
        return self.generators[:, :n, :n]

    @property
    def offsets(self) -> np.ndarray:
        """The constant parts ``c_k`` of the fields, shape ``(k, n)`` (zeros when linear)."""
        if not self.affine:
            return np.zeros((len(self), self.dim))
        return self.generators[:, :-1, -1]

    def vector_fields(self, points: Any) -> np.ndarray:
        """The infinitesimal generators ``v_k(x) = S_k x + c_k`` at ``points``.

        Parameters
        ----------
        points
            Shape ``(n_points, n)`` with ``n = space_dim``.

        Returns
        -------
        Array of shape ``(k, n_points, n)``.
        """
        x = as_array(points, name="points")
        if x.ndim != 2 or x.shape[1] != self.space_dim:
            raise ValueError(
                f"points must have shape (n_points, {self.space_dim}) for {self.name}, "
                f"got {x.shape}"
            )
        return np.einsum("kij,sj->ksi", self.linear_parts, x) + self.offsets[:, None, :]

    def repeated(self, copies: int) -> LieAlgebra:
        """The same algebra acting block-diagonally on ``copies`` stacked copies of the space.

        E.g. ``so(3).repeated(4)`` rotates four 3-vectors together (a 12-dim state of two
        particles' positions and momenta). Affine algebras are not repeated: a translation of a
        state acts differently on positions and momenta, so build such generators explicitly.
        """
        copies = _check_dim(copies)
        if self.affine:
            raise ValueError("repeated() is defined for linear algebras only")
        eye = np.eye(copies)
        stack = np.stack([np.kron(eye, g) for g in self.generators])
        return LieAlgebra(stack, name=f"{self.name}^{copies}")

    def __len__(self) -> int:
        return int(self.generators.shape[0])

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.generators)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.generators[index]

    def __repr__(self) -> str:
        return f"LieAlgebra(name={self.name!r}, k={len(self)}, d={self.dim})"

    # The dataclass-generated __eq__ would compare arrays element-wise and fail; compare spans
    # explicitly with metrics.algebra_distance instead.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    # Immutable (frozen, read-only generators): a copy is the object itself, so that
    # sklearn.base.clone keeps an estimator's algebra parameter as it is.
    def __copy__(self) -> LieAlgebra:
        return self

    def __deepcopy__(self, memo: dict) -> LieAlgebra:
        return self

    # ------------------------------------------------------------------ group elements
    def element(self, coefficients: Any) -> np.ndarray:
        """Lie-algebra element(s) ``sum_i c_i X_i`` for coefficients ``(k,)`` or ``(n, k)``."""
        coeffs = as_array(coefficients, name="coefficients")
        if coeffs.shape[-1:] != (len(self),) or coeffs.ndim > 2:
            raise ValueError(
                f"coefficients must have shape ({len(self)},) or (n, {len(self)}), "
                f"got {coeffs.shape}"
            )
        return np.tensordot(coeffs, self.generators, axes=([-1], [0]))

    def exp(self, coefficients: Any) -> np.ndarray:
        """Group element(s) ``expm(sum_i c_i X_i)``; shape ``(d, d)`` or ``(n, d, d)``."""
        import scipy.linalg  # here, not at the top: the CLI's data listing needs no scipy

        element = self.element(coefficients)
        if element.ndim == 2:
            return scipy.linalg.expm(element)
        return np.stack([scipy.linalg.expm(e) for e in element])

    # ------------------------------------------------------------------ algebraic structure
    def _flat_basis(self) -> tuple[np.ndarray, np.ndarray]:
        """Orthonormal basis of the span (rows, in R^{d*d}) and its rank."""
        if "onb" not in self._flat_cache:
            flat = self.generators.reshape(len(self), -1)
            u, s, vt = np.linalg.svd(flat, full_matrices=False)
            tol = max(flat.shape) * np.finfo(np.float64).eps * (s[0] if s.size else 0.0)
            rank = int(np.sum(s > tol))
            self._flat_cache["onb"] = (vt[:rank], rank)
        return self._flat_cache["onb"]

    @property
    def rank(self) -> int:
        """Dimension of the span of the generators (``len(self)`` for a proper basis)."""
        return self._flat_basis()[1]

    def commutators(self) -> np.ndarray:
        """All commutators ``[X_i, X_j]``, shape ``(k, k, d, d)``."""
        g = self.generators
        return np.einsum("iab,jbc->ijac", g, g) - np.einsum("jab,ibc->ijac", g, g)

    def structure_constants(self) -> np.ndarray:
        """Structure constants ``c[i, j, l]`` with ``[X_i, X_j] ≈ sum_l c[i, j, l] X_l``.

        Computed by least squares in the Frobenius inner product, so they are exact for a closed
        algebra and the best approximation otherwise (see :meth:`closure_residual`).

        Raises
        ------
        ValueError
            If the generators are linearly dependent (the constants would not be unique).
        """
        k = len(self)
        if self.rank < k:
            raise ValueError(
                f"generators are linearly dependent (rank {self.rank} < {k}); "
                "structure constants are not unique"
            )
        flat = self.generators.reshape(k, -1)
        brackets = self.commutators().reshape(k * k, -1)
        coeffs, *_ = np.linalg.lstsq(flat.T, brackets.T, rcond=None)
        return coeffs.T.reshape(k, k, k)

    def closure_residual(self) -> float:
        """Largest relative distance of a commutator ``[X_i, X_j]`` from the span.

        ``max_ij ||[X_i, X_j] - P[X_i, X_j]||_F / (||X_i||_F ||X_j||_F)`` where ``P`` projects onto
        the span of the generators. Zero (to rounding) exactly when the span is closed under the
        bracket, i.e. is a Lie algebra.
        """
        k = len(self)
        onb, _ = self._flat_basis()
        brackets = self.commutators().reshape(k * k, -1)
        outside = brackets - (brackets @ onb.T) @ onb
        norms = np.linalg.norm(self.generators.reshape(k, -1), axis=1)
        scale = np.outer(norms, norms).reshape(-1)
        scale = np.where(scale > 0, scale, 1.0)
        return float(np.max(np.linalg.norm(outside, axis=1) / scale)) if k else 0.0

    # ------------------------------------------------------------------ transformations
    def conjugate(
        self, q: Any, *, check_orthogonal: bool = True, atol: float = 1e-10
    ) -> LieAlgebra:
        """The algebra ``{Q X Qᵀ}`` seen in the coordinates ``x' = Q x``.

        Data invariant under ``exp(t X)`` become invariant under ``exp(t Q X Qᵀ)`` after the change
        of coordinates.
        """
        q = _as_square(q, "Q")
        if q.shape[0] != self.dim:
            raise ValueError(f"Q has shape {q.shape}, algebra acts on dimension {self.dim}")
        if check_orthogonal:
            err = np.max(np.abs(q.T @ q - np.eye(self.dim)))
            if err > atol:
                raise ValueError(f"Q is not orthogonal (max |QᵀQ − I| = {err:.3g})")
        if self.affine:
            raise ValueError("conjugate() is defined for linear algebras only")
        return LieAlgebra(q @ self.generators @ q.T, name=f"Q {self.name} Qᵀ")

    def orthonormalized(self) -> LieAlgebra:
        """An orthonormal basis (Frobenius inner product) of the same span."""
        onb, _ = self._flat_basis()
        return LieAlgebra(onb.reshape(-1, self.dim, self.dim), name=self.name, affine=self.affine)

    def normalized(self) -> LieAlgebra:
        """The same generators, each scaled to unit Frobenius norm (order and span unchanged)."""
        norms = np.linalg.norm(self.generators.reshape(len(self), -1), axis=1)
        if np.any(norms == 0):
            raise ValueError(f"{self.name} has a zero generator")
        return LieAlgebra(
            self.generators / norms[:, None, None], name=self.name, affine=self.affine
        )


# ---------------------------------------------------------------------- factories
def _check_dim(n: int, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"dimension must be an integer >= {minimum}, got {n!r}")
    return int(n)


def gl(n: int) -> LieAlgebra:
    """gl(n): the ``n²`` matrix units ``E_ij`` (row-major order)."""
    n = _check_dim(n)
    return LieAlgebra(np.eye(n * n).reshape(n * n, n, n), name=f"gl({n})")


def sl(n: int) -> LieAlgebra:
    """sl(n): traceless matrices; off-diagonal units plus ``E_ii − E_{i+1,i+1}``."""
    n = _check_dim(n, 2)
    basis = []
    for i in range(n):
        for j in range(n):
            if i != j:
                e = np.zeros((n, n))
                e[i, j] = 1.0
                basis.append(e)
    for i in range(n - 1):
        h = np.zeros((n, n))
        h[i, i], h[i + 1, i + 1] = 1.0, -1.0
        basis.append(h)
    return LieAlgebra(np.stack(basis), name=f"sl({n})")


def so_pq(p: int, q: int) -> LieAlgebra:
    """so(p, q): generators preserving ``η = diag(+1 × p, −1 × q)``, i.e. ``Xᵀ η + η X = 0``.

    The basis is ``E_ij η − E_ji η`` for ``i < j``: rotations within each signature block and
    boosts between them. ``so_pq(n, 0)`` is so(n).
    """
    p, q = _check_dim(p, 0), _check_dim(q, 0)
    n = p + q
    if n < 2:
        raise ValueError(f"so(p, q) needs p + q >= 2, got p={p}, q={q}")
    eta = np.diag([1.0] * p + [-1.0] * q)
    basis = []
    for i in range(n):
        for j in range(i + 1, n):
            e = np.zeros((n, n))
            e[i, j] = 1.0
            basis.append(e @ eta - e.T @ eta)
    name = f"so({n})" if q == 0 else f"so({p},{q})"
    return LieAlgebra(np.stack(basis), name=name)


def so(n: int) -> LieAlgebra:
    """so(n): antisymmetric matrices ``E_ij − E_ji`` for ``i < j``."""
    return so_pq(_check_dim(n, 2), 0)


def translations(n: int) -> LieAlgebra:
    """t(n): the ``n`` translations ``v_k(x) = e_k`` of ``R^n`` as an affine algebra."""
    n = _check_dim(n)
    stack = np.zeros((n, n + 1, n + 1))
    stack[np.arange(n), np.arange(n), n] = 1.0
    return LieAlgebra(stack, name=f"t({n})", affine=True)


def se(n: int) -> LieAlgebra:
    """se(n): rotations ``E_ij − E_ji`` (i < j, as in :func:`so`) then translations ``e_k``.

    An affine algebra of dimension ``n(n+1)/2`` acting on ``R^n``. Rotations have Frobenius norm
    √2 and translations 1; use :meth:`LieAlgebra.normalized` when they should weigh the same.
    """
    n = _check_dim(n)
    rotations = so(n).generators if n >= 2 else np.zeros((0, n, n))
    stack = np.zeros((len(rotations) + n, n + 1, n + 1))
    stack[: len(rotations), :n, :n] = rotations
    stack[len(rotations) :] = translations(n).generators
    return LieAlgebra(stack, name=f"se({n})", affine=True)


def scaling(n: int) -> LieAlgebra:
    """The one-dimensional algebra of uniform scalings ``v(x) = x`` of ``R^n``."""
    n = _check_dim(n)
    return LieAlgebra(np.eye(n)[None], name=f"scaling({n})")


def shift(n: int, circulant: bool = False) -> np.ndarray:
    """The pixel-shift matrix ``S`` with ``(S x)_i = x_{i+1}`` (ones on the superdiagonal).

    This is the minimal generator of the discrete translation group of 1-D signals. With
    ``circulant=True`` the wrap-around entry ``S[n−1, 0] = 1`` makes it a cyclic permutation (an
    orthogonal matrix); otherwise it is the truncated shift, whose transpose shifts the other way.
    """
    n = _check_dim(n)
    s = np.eye(n, k=1)
    if circulant:
        s[n - 1, 0] = 1.0
    return s


def dst1(n: int) -> np.ndarray:
    """Orthonormal DST-I matrix ``D[a, b] = sin(π a b / (n+1)) / sqrt((n+1)/2)``, ``a, b = 1..n``.

    ``D`` is symmetric and involutive (``D @ D = I``).
    """
    n = _check_dim(n)
    idx = np.arange(1, n + 1)
    return np.sin(np.pi * np.outer(idx, idx) / (n + 1)) / np.sqrt((n + 1) / 2)


def permutation_matrix(perm: Sequence[int] | np.ndarray) -> np.ndarray:
    """Permutation matrix ``P`` with ``P[i, perm[i]] = 1``.

    ``Pᵀ x`` moves entry ``i`` to position ``perm[i]``, i.e. ``(Pᵀ x)[perm[i]] = x[i]``.
    """
    perm = np.asarray(perm)
    n = perm.size
    if perm.ndim != 1 or not np.issubdtype(perm.dtype, np.integer):
        raise ValueError("perm must be a 1-D integer array")
    if not np.array_equal(np.sort(perm), np.arange(n)):
        raise ValueError(f"perm is not a permutation of 0..{n - 1}")
    p = np.zeros((n, n))
    p[np.arange(n), perm] = 1.0
    return p


def random_orthogonal(n: int, random_state: Any = None) -> np.ndarray:
    """A Haar-random orthogonal ``n × n`` matrix from a private ``numpy.random.Generator``."""
    n = _check_dim(n)
    rng = np.random.default_rng(random_state)
    z = rng.standard_normal((n, n))
    q, r = np.linalg.qr(z)
    return q * np.sign(np.diag(r))


def matrix_powers(g: Any, powers: Sequence[int] | np.ndarray, *, atol: float = 1e-10) -> Any:
    """Integer powers ``G^k`` of a square matrix for every ``k`` in ``powers``.

    Positive powers are built by successive products with ``G``; negative ones with ``Gᵀ`` when
    ``G`` is orthogonal (``Gᵀ = G⁻¹``, exact and well conditioned) or with ``G⁻¹`` otherwise.
    Each product loses O(eps), so the powers stay accurate in float64 to about
    ``|k| · 1e-16`` relative error (≈1e-14 for ``|k| ≤ 100``); no eigendecomposition is used, which
    keeps the operation differentiable and stable when eigenvalues are degenerate.

    Works on NumPy arrays and on torch tensors (the result has the input's type, dtype and device,
    and is differentiable in torch).

    Returns
    -------
    Stack of shape ``(len(powers), d, d)`` in the order of ``powers``.
    """
    powers = np.asarray(powers)
    if powers.ndim != 1 or not np.issubdtype(powers.dtype, np.integer):
        raise ValueError("powers must be a 1-D sequence of integers")
    is_numpy = not (hasattr(g, "detach") and hasattr(g, "matmul"))
    if is_numpy:
        g = _as_square(g, "G")
        d = g.shape[0]
        eye = np.eye(d)
        stack = np.stack
    else:
        import torch

        if g.ndim != 2 or g.shape[0] != g.shape[1]:
            raise ValueError(f"G must be a square (d, d) matrix, got shape {tuple(g.shape)}")
        d = g.shape[0]
        eye = torch.eye(d, dtype=g.dtype, device=g.device)
        stack = torch.stack
    if powers.size == 0:
        return stack([eye])[:0]

    high, low = int(powers.max()), int(powers.min())
    table: dict[int, Any] = {0: eye}
    current = eye
    for k in range(1, max(high, 0) + 1):
        current = current @ g
        table[k] = current
    if low < 0:
        g_np = g if is_numpy else g.detach().cpu().double().numpy()
        orthogonal = np.max(np.abs(g_np.T @ g_np - np.eye(d))) <= atol
        if orthogonal:
            inverse = g.T
        elif abs(np.linalg.det(g_np)) < np.finfo(np.float64).eps ** 0.5:
            raise ValueError("negative powers requested but G is (numerically) singular")
        elif is_numpy:
            inverse = np.linalg.inv(g)
        else:
            import torch

            inverse = torch.linalg.inv(g)
        current = eye
        for k in range(-1, low - 1, -1):
            current = current @ inverse
            table[k] = current
    return stack([table[int(k)] for k in powers])



def skew_logarithm(g: Any) -> np.ndarray:
    """A real logarithm of a rotation ``g``: a skew matrix ``L`` with ``expm(L) = g``.

    Principal (angles in ``(−π, π)``) except on the eigenvalue −1, whose (even-dimensional)
    eigenspace gets half turns.

    ``g`` is normal, so its real Schur form ``Zᵀ g Z`` is block diagonal with 1 × 1 blocks ``+1``
    and 2 × 2 rotation blocks, whose logarithms are read off as angles. (``scipy.linalg.logm``
    would do, but its norm estimator draws from NumPy's global random state.)

    Raises
    ------
    ValueError
        If ``g`` has determinant −1 (a reflection has no real logarithm).
    """
    from scipy.linalg import schur  # here, not at the top: the CLI's data listing needs no scipy

    t, z = schur(_as_square(g, "g"), output="real")
    log = np.zeros_like(t)
    size = t.shape[0]
    flipped = []  # 1 × 1 blocks −1: paired into half turns, which exist only in pairs
    i = 0
    while i < size:
        if i + 1 < size and abs(t[i + 1, i]) > 1e-12:
            angle = np.arctan2(t[i + 1, i] - t[i, i + 1], t[i, i] + t[i + 1, i + 1])
            log[i, i + 1], log[i + 1, i] = -angle, angle
            i += 2
        else:
            if t[i, i] < 0:
                flipped.append(i)
            i += 1
    if len(flipped) % 2:
        raise ValueError("the matrix has determinant −1: it is not a rotation and has no real "
                         "logarithm")
    for i, j in zip(flipped[::2], flipped[1::2], strict=True):
        log[i, j], log[j, i] = -np.pi, np.pi
    log = z @ log @ z.T
    return 0.5 * (log - log.T)

_ALGEBRA_FACTORIES = {
    "gl": gl,
    "sl": sl,
    "so": so,
    "t": translations,
    "translations": translations,
    "se": se,
    "scaling": scaling,
}


def algebra_from_name(text: str) -> LieAlgebra:
    """A catalogue algebra from its name: ``"gl(3)"``, ``"sl(2)"``, ``"so(3)"``, ``"so(1,3)"``,
    ``"t(2)"`` (or ``"translations(2)"``), ``"se(3)"``, ``"scaling(4)"``; ``"so(3)^4"`` acts on
    four stacked copies (:meth:`LieAlgebra.repeated`).

    >>> algebra_from_name("so(1,3)")
    LieAlgebra(name='so(1,3)', k=6, d=4)
    >>> algebra_from_name("so(3)^4").dim
    12
    """
    import re

    if not isinstance(text, str):
        raise ValueError(f"algebra name must be a string, got {type(text).__name__}")
    match = re.fullmatch(r"\s*([A-Za-z]+)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*(?:\^\s*(\d+))?\s*",
                         text)
    known = "gl(n), sl(n), so(n), so(p,q), t(n), se(n), scaling(n), optionally followed by ^copies"
    if not match:
        raise ValueError(f"cannot parse algebra {text!r}; expected one of {known}")
    name, first, second, copies = match.groups()
    name = name.lower()
    if second is not None:
        if name != "so":
            raise ValueError(f"only so(p,q) takes two arguments, got {text!r}")
        algebra = so_pq(int(first), int(second))
    else:
        if name not in _ALGEBRA_FACTORIES:
            raise ValueError(f"unknown algebra {name!r}; expected one of {known}")
        algebra = _ALGEBRA_FACTORIES[name](int(first))
    if copies is not None:
        algebra = algebra.repeated(int(copies))
    return algebra
