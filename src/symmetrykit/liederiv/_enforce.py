"""Enforce: models with a given symmetry are the nullspace of ``W ↦ L_ξ F_W`` over coefficients.

For a linear-in-parameter model ``F_W(x) = W φ(x)`` the Lie derivative along every generator is
linear in ``W``, so the symmetric models form a linear subspace: the nullspace of the constraint
matrix of the Lie tensor (Otto et al. 2023, enforcing symmetry in basis-function regression).
Lie derivatives only see the identity component of a group (ibid., the Lie derivative
characterises symmetry under connected groups only); a disconnected group such as O(2) adds one
linear constraint ``W φ(g x) = ρ_out(g) W φ(x)`` per representative ``g`` of the other components
(:func:`discrete_constraints`). :func:`symmetric_basis` intersects all of these nullspaces.

On top of the basis:

* :class:`EquivariantRegressor` — projected (ridge) least squares ``min_c ‖Φ (Q c) − Y‖²`` with a
  polynomial dictionary, sklearn style; its exact :meth:`~EquivariantRegressor.lie_derivative`
  lets :func:`~symmetrykit.liederiv.discover` read the symmetries of a fitted model back (duality).
* :class:`EquivariantLinear` — a torch affine layer ``x ↦ W x + b`` whose weight and bias are
  trainable combinations of a precomputed basis of solutions of ``W A_in − A_out W = 0``,
  ``A_out b = 0`` (Otto et al. 2023, enforcing symmetry in multilayer perceptrons).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from .._estimator import torch_generator
from .._validation import Integer, Real, as_samples
from ..lie import LieAlgebra, as_array
from ._checks import (
    ALGEBRA,
    DISCRETE_ELEMENTS,
    NUMPY_RANDOM_STATE,
    OUTPUT_ALGEBRA,
    _as_algebra,
    _as_output_action,
    _as_targets,
    _check_rtol,
)
from ._dictionary import PolynomialDictionary, n_monomials
from ._operators import LieTensor, lie_tensor
from ._regression import _DictionaryRegressor

__all__ = [
    "EquivariantLinear",
    "EquivariantRegressor",
    "discrete_constraints",
    "symmetric_basis",
]


# ---------------------------------------------------------------------------- nullspaces
def _intersect_nullspaces(blocks: Sequence[np.ndarray], n_columns: int, rtol: float) -> np.ndarray:
    """Orthonormal basis ``(n_columns, r)`` of the vectors annihilated by every block.

    The blocks are applied one after the other, each restricted to the nullspace of the previous
    ones. A block's threshold is ``rtol`` times *its own* largest singular value: constraints of
    different kinds (Lie derivatives sampled at points, group elements, algebraic equations) have
    unrelated scales, and measuring a restricted block against itself would turn rounding noise
    into a scale when the restriction already satisfies it.
    """
    basis = np.eye(n_columns)
    restricted_yet = False
    for block in blocks:
        if basis.shape[1] == 0:
            break
        if block.shape[0] == 0:
            continue
        restricted = block @ basis if restricted_yet else block
        rows, cols = restricted.shape
        # The full V is needed (directions beyond the rank are null), the full U never is: it
        # would be (rows × rows) for the tall sampled matrices.
        _, s, vt = np.linalg.svd(restricted, full_matrices=rows < cols)
        full_scale = float(np.linalg.norm(block, 2)) if restricted_yet else float(s.max())
        if full_scale == 0.0:
            continue
        values = np.zeros(cols)
        values[: s.size] = s
        basis = basis @ vt[values < rtol * full_scale].T
        restricted_yet = True
    return np.ascontiguousarray(basis)


def _as_constraint_blocks(discrete: Any, n_columns: int | None) -> list[np.ndarray]:
    if discrete is None:
        return []
    if isinstance(discrete, np.ndarray) or hasattr(discrete, "detach"):
        items = [discrete]
    elif isinstance(discrete, Sequence) and not isinstance(discrete, str):
        items = list(discrete)
    else:
        raise ValueError(
            "discrete must be a constraint matrix (from discrete_constraints) or a list of them, "
            f"got {type(discrete).__name__}"
        )
    blocks = []
    for index, item in enumerate(items):
        block = as_array(item, name=f"discrete[{index}]")
        if block.ndim != 2:
            raise ValueError(
                f"discrete[{index}] must be a 2-D constraint matrix, got shape {block.shape}"
            )
        if n_columns is not None and block.shape[1] != n_columns:
            raise ValueError(
                f"discrete[{index}] has {block.shape[1]} columns, the coefficient vector has "
                f"{n_columns} entries"
            )
        blocks.append(block)
    widths = {block.shape[1] for block in blocks}
    if len(widths) > 1:
        raise ValueError(f"discrete constraint matrices have different widths {sorted(widths)}")
    return blocks


def symmetric_basis(
    tensor: LieTensor | None, *, rtol: float = 1e-8, discrete: Any = None
) -> np.ndarray:
    """Orthonormal basis ``Q`` (shape ``(m·p, r)``) of the symmetric coefficient vectors.

    ``vec(W) = Q c`` (row-major ``W`` of shape ``(m, p)``) ranges over exactly the models
    ``F_W = W φ`` with ``L_ξ F_W = 0`` for every generator of the tensor and, when ``discrete`` is
    given, ``F_W(g x) = ρ_out(g) F_W(x)`` for every listed group element.

    Parameters
    ----------
    tensor
        The Lie tensor of the dictionary at sample points (:func:`lie_tensor`); ``None`` for
        discrete constraints only.
    rtol
        A direction is symmetric when its singular value is below ``rtol`` times the largest
        singular value of the constraint matrix (applied per constraint block, see Notes).
    discrete
        A constraint matrix from :func:`discrete_constraints` (shape ``(rows, m·p)``) or a list
        of them: the discrete symmetries Lie derivatives cannot see (reflections, other
        components of a disconnected group, finite groups).

    Returns
    -------
    Array of shape ``(m·p, r)`` with orthonormal columns (``r`` may be 0).

    Notes
    -----
    The Lie constraints are solved first by an SVD of :meth:`LieTensor.constraint_matrix`; each
    discrete block is then solved on the nullspace found so far, with its threshold relative to
    its own largest singular value, so blocks of different scales do not mask each other.

    Examples
    --------
    >>> import numpy as np, symmetrykit as sk
    >>> from symmetrykit.liederiv import PolynomialDictionary, lie_tensor
    >>> lib = PolynomialDictionary(2, 3)
    >>> X = np.random.default_rng(0).uniform(-1, 1, size=(20, 2))
    >>> T = lie_tensor(lib, X, sk.lie.so(2), "tangent")  # SO(2)-equivariant vector fields
    >>> symmetric_basis(T).shape  # a0 x + b0 Jx + a1 |x|² x + b1 |x|² Jx
    (20, 4)
    """
    rtol = _check_rtol(rtol)
    if tensor is not None and not isinstance(tensor, LieTensor):
        raise ValueError(f"tensor must be a LieTensor or None, got {type(tensor).__name__}")
    n_columns = None
    blocks = []
    if tensor is not None:
        n_columns = tensor.n_outputs * tensor.n_terms
        blocks.append(tensor.constraint_matrix())
    extra = _as_constraint_blocks(discrete, n_columns)
    if n_columns is None:
        if not extra:
            raise ValueError("symmetric_basis needs a Lie tensor or discrete constraints")
        n_columns = extra[0].shape[1]
    return _intersect_nullspaces(blocks + extra, n_columns, rtol)


# ---------------------------------------------------------------------------- group elements
def _as_input_element(matrix: Any, n: int, name: str) -> np.ndarray:
    """``g_in`` as a homogeneous ``(n+1, n+1)`` matrix (linear ``(n, n)`` input accepted)."""
    g = as_array(matrix, name=name)
    if g.shape == (n, n):
        out = np.eye(n + 1)
        out[:n, :n] = g
        return out
    if g.shape == (n + 1, n + 1):
        bottom = np.zeros(n + 1)
        bottom[-1] = 1.0
        if not np.array_equal(g[-1], bottom):
            raise ValueError(
                f"{name} is ({n + 1}, {n + 1}): an affine map in homogeneous coordinates needs the "
                f"last row (0, …, 0, 1), got {g[-1]}"
            )
        return g
    raise ValueError(
        f"{name} must be a ({n}, {n}) matrix or a ({n + 1}, {n + 1}) homogeneous affine matrix, "
        f"got shape {g.shape}"
    )


def _as_output_element(matrix: Any, g_in: np.ndarray, n_outputs: int, name: str) -> np.ndarray:
    if matrix is None:
        return np.eye(n_outputs)
    if isinstance(matrix, str):
        if matrix != "tangent":
            raise ValueError(
                f"{name} must be a matrix, None (invariance) or 'tangent', got {matrix!r}"
            )
        n = g_in.shape[0] - 1
        if n_outputs != n:
            raise ValueError(
                f"{name}='tangent' needs as many outputs as inputs ({n}), got {n_outputs}"
            )
        return g_in[:n, :n].copy()
    g = as_array(matrix, name=name)
    if g.shape != (n_outputs, n_outputs):
        raise ValueError(f"{name} must have shape ({n_outputs}, {n_outputs}), got {g.shape}")
    return g


def _as_element_pairs(elements: Any) -> list[tuple[Any, Any]]:
    if not isinstance(elements, Sequence) or isinstance(elements, str):
        raise ValueError(
            f"elements must be a list of (g_in, g_out) pairs, got {type(elements).__name__}"
        )
    pairs = []
    for index, item in enumerate(elements):
        if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 2:
            raise ValueError(
                f"elements[{index}] must be a pair (g_in, g_out) (g_out may be None), "
                f"got {type(item).__name__}"
            )
        pairs.append((item[0], item[1]))
    return pairs


def discrete_constraints(
    dictionary: PolynomialDictionary, points: Any, elements: Any, n_outputs: int = 1
) -> np.ndarray:
    """Constraint matrix of ``W φ(g_in x) = g_out W φ(x)`` at ``points`` for each group element.

    Parameters
    ----------
    dictionary
        The model's feature map ``φ`` (``p`` features of ``n`` inputs).
    points
        Shape ``(N, n)``. For a polynomial dictionary of degree ``d`` and linear or affine
        ``g_in`` the constraint is a polynomial of degree ``≤ d``, so ``N ≥ n_monomials(n, d)``
        points in general position make it exact.
    elements
        A list of pairs ``(g_in, g_out)``: ``g_in`` an ``(n, n)`` matrix (or an ``(n+1, n+1)``
        homogeneous affine map), ``g_out`` an ``(m, m)`` matrix, ``None`` (invariance: the
        identity) or ``"tangent"`` (vector fields: the linear part of ``g_in``). One
        representative per non-identity component of the group suffices when the identity
        component is enforced through Lie derivatives (e.g. one reflection for O(2)); a finite
        group needs its generators.
    n_outputs
        ``m``, the number of model outputs (rows of ``W``).

    Returns
    -------
    Array of shape ``(n_elements · N · m, m · p)``; rows ordered ``(element, point, output)``,
    columns ``vec(W)`` row-major, scaled by ``1/√N`` like :meth:`LieTensor.constraint_matrix`.

    Examples
    --------
    >>> import numpy as np
    >>> from symmetrykit.liederiv import PolynomialDictionary
    >>> lib = PolynomialDictionary(2, 2)
    >>> X = np.random.default_rng(0).uniform(-1, 1, size=(10, 2))
    >>> C = discrete_constraints(lib, X, [(np.diag([-1.0, 1.0]), None)])  # even in x0
    >>> symmetric_basis(None, discrete=C).shape  # 1, x1, x0², x1²
    (6, 4)
    """
    if not isinstance(dictionary, PolynomialDictionary):
        raise ValueError(
            f"dictionary must be a PolynomialDictionary, got {type(dictionary).__name__}"
        )
    if isinstance(n_outputs, bool) or not isinstance(n_outputs, (int, np.integer)) or n_outputs < 1:
        raise ValueError(f"n_outputs must be an integer >= 1, got {n_outputs!r}")
    m = int(n_outputs)
    points = as_samples(points, name="points")
    n = dictionary.n_features
    if points.shape[1] != n:
        raise ValueError(f"points have {points.shape[1]} features, the dictionary {n}")
    if points.shape[0] < 1:
        raise ValueError("need at least one point")
    pairs = _as_element_pairs(elements)
    if not pairs:
        raise ValueError("elements is empty")
    features = dictionary.transform(points)  # (N, p)
    n_points, p = features.shape
    eye = np.eye(m)
    blocks = []
    for index, (g_in, g_out) in enumerate(pairs):
        g = _as_input_element(g_in, n, f"elements[{index}][0]")
        rho = _as_output_element(g_out, g, m, f"elements[{index}][1]")
        moved = dictionary.transform(points @ g[:n, :n].T + g[:n, n])
        # Row (s, i), column (l, j): δ_il φ_j(g x_s) − ρ_il φ_j(x_s).
        block = (
            eye[None, :, :, None] * moved[:, None, None, :]
            - rho[None, :, :, None] * features[:, None, None, :]
        )
        blocks.append(block.reshape(n_points * m, m * p))
    return np.concatenate(blocks, axis=0) / np.sqrt(n_points)


# ---------------------------------------------------------------------------- regression
def _power_of_two_scale(X: np.ndarray) -> float:
    """A power of two near ``max |X|``: rescaling by it is exact in floating point."""
    largest = float(np.max(np.abs(X))) if X.size else 0.0
    if largest == 0.0:
        return 1.0
    return float(2.0 ** np.round(np.log2(largest)))


def _scaled_algebra(algebra: LieAlgebra, scale: float) -> LieAlgebra:
    """The algebra seen in the coordinates ``y = x / scale``.

    Linear fields commute with the scaling; affine offsets shrink by ``scale``.
    """
    if not algebra.affine or scale == 1.0:
        return algebra
    generators = np.array(algebra.generators)
    generators[:, :-1, -1] /= scale
    return LieAlgebra(generators, name=algebra.name, affine=True)


class EquivariantRegressor(_DictionaryRegressor):
    """Polynomial regression restricted to models with a given symmetry (Otto et al.'s "enforce").

    The model is ``F(x) = W φ(x)`` with ``φ`` all monomials of degree ``≤ degree``. Fitting builds
    the Lie tensor of ``φ`` at sample points, takes the orthonormal basis ``Q`` of its nullspace
    (intersected with the discrete constraints) and solves the projected least-squares problem
    ``min_c ‖Φ (Q c) − Y‖² + alpha ‖c‖²``, ``vec(W) = Q c``. Every fitted model is exactly
    symmetric; only ``r = n_free_parameters_`` numbers are learned from the data. ``save(path)``
    writes the fitted model to a run directory; ``symmetrykit.load(path)`` reads it back.

    Parameters
    ----------
    degree
        Largest monomial degree of the dictionary (≥ 1).
    algebra
        Generators acting on the inputs (:class:`~symmetrykit.lie.LieAlgebra`, linear or affine,
        or a ``(k, n, n)`` array); ``None``: no continuous symmetry (plain least squares unless
        ``discrete`` is given).
    output_algebra
        The output action paired with ``algebra``: ``None``/``"invariant"`` (every output
        invariant), ``"tangent"`` (the model is a vector field, ``ẋ = F(x)``), or a linear
        :class:`LieAlgebra` with one generator per input generator (equivariance).
    discrete
        Group elements the Lie derivatives cannot see: a list of pairs ``(g_in, g_out)`` (see
        :func:`discrete_constraints`; ``g_out`` ``None`` means invariance, ``"tangent"`` the
        linear part of ``g_in``).
    alpha
        Ridge penalty on the coefficients ``c`` in the orthonormal symmetric basis (of the
        internally rescaled dictionary, see Notes); 0: least squares (minimum-norm solution if
        underdetermined).
    rtol
        Relative singular-value threshold of the nullspace (:func:`symmetric_basis`).
    n_points
        Points at which the constraints are sampled; default ``n_monomials(n, degree) + 10``.
        Fewer than ``n_monomials(n, degree)`` would leave the polynomial constraints
        underdetermined and is refused.
    random_state
        Seed or :class:`numpy.random.Generator` for the constraint points.

    Attributes
    ----------
    coef_ : ndarray of shape (m, p)
        ``W``: ``predict(X) = dictionary_.transform(X) @ coef_.T``.
    basis_ : ndarray of shape (m·p, r)
        Orthonormal basis of the symmetric coefficient vectors ``vec(coef_)`` (row-major).
    n_free_parameters_ : int
        ``r``, the dimension of the symmetric model space.
    dictionary_ : PolynomialDictionary
    n_features_in_ : int
    n_outputs_ : int
    constraint_points_ : ndarray of shape (n_points, n)
        Where the constraints were sampled.

    Notes
    -----
    * The constraint points are uniform in the centred cube ``[−s, s]^n``, ``s = max|X|``, which
      contains the data's bounding box. The constraints are polynomial identities, exact at any
      set of enough points in general position; a cube centred at the origin keeps the monomial
      matrix well conditioned even when the data sit in a thin or off-centre box.
    * Internally the dictionary is evaluated at ``x / s₂`` with ``s₂`` the power of two nearest
      ``max|X|`` (an exact rescaling that conjugates linear actions to themselves and shrinks
      affine offsets), again for conditioning; ``coef_`` and ``basis_`` are reported for the
      unscaled monomials of ``dictionary_``.

    Examples
    --------
    >>> import numpy as np, symmetrykit as sk
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1.5, 1.5, size=(15, 2))
    >>> r2 = (X**2).sum(axis=1, keepdims=True)
    >>> J = np.array([[0.0, -1.0], [1.0, 0.0]])
    >>> Y = (1 - r2) * X + 0.5 * X @ J.T
    >>> model = EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=0).fit(X, Y)
    >>> model.n_free_parameters_
    4
    >>> bool(np.allclose(model.predict(X), Y))
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "degree": [Integer(1)],
        "algebra": [ALGEBRA, None],
        "output_algebra": OUTPUT_ALGEBRA,
        "discrete": [DISCRETE_ELEMENTS, None],
        "alpha": [Real(0)],
        "rtol": [Real(0, 1, closed="neither")],
        "n_points": [Integer(1), None],
        "random_state": NUMPY_RANDOM_STATE,
    }

    def __init__(
        self,
        degree: int = 3,
        algebra: Any = None,
        output_algebra: Any = None,
        discrete: Any = None,
        alpha: float = 0.0,
        rtol: float = 1e-8,
        n_points: int | None = None,
        random_state: Any = None,
    ) -> None:
        self._store_params(locals())

    # ------------------------------------------------------------------ checks
    def _check_params(self, n: int) -> tuple[LieAlgebra | None, Any, int]:
        """What depends on the data's ``n`` features (the table checked the rest)."""
        algebra = _as_algebra(self.algebra, "algebra")
        output = _as_output_action(self.output_algebra)
        if algebra is None and output is not None:
            raise ValueError("output_algebra needs an algebra acting on the inputs")
        if algebra is not None and algebra.space_dim != n:
            raise ValueError(
                f"algebra {algebra.name} acts on R^{algebra.space_dim}, X has {n} columns"
            )
        minimum = n_monomials(n, int(self.degree))
        if self.n_points is None:
            n_points = minimum + 10
        else:
            if self.n_points < minimum:
                raise ValueError(
                    f"n_points={self.n_points} is below the {minimum} monomials of degree "
                    f"<= {self.degree} in {n} variables: the sampled constraints would not "
                    "determine the polynomial Lie derivatives"
                )
            n_points = int(self.n_points)
        return algebra, output, n_points

    # ------------------------------------------------------------------ fit
    def _fit(self, X: Any, Y: Any) -> None:
        X = as_samples(X, owner=self._name())
        n_samples, n = X.shape
        Y, one_d = _as_targets(Y, n_samples, name="Y", owner=self._name())
        m = Y.shape[1]
        algebra, output, n_points = self._check_params(n)
        if isinstance(output, str) and output == "tangent" and m != n:
            raise ValueError(f"output_algebra='tangent' needs Y with {n} columns, got {m}")
        if isinstance(output, LieAlgebra) and output.dim != m:
            raise ValueError(f"output_algebra acts on R^{output.dim}, Y has {m} columns")

        dictionary = PolynomialDictionary(n, int(self.degree))
        scale = _power_of_two_scale(X)
        rng = np.random.default_rng(self.random_state)
        half_width = float(np.max(np.abs(X))) or 1.0
        points = rng.uniform(-half_width, half_width, size=(n_points, n))

        # Everything below lives in the rescaled coordinates y = x / scale.
        blocks = []
        if algebra is not None:
            tensor = lie_tensor(
                dictionary, points / scale, _scaled_algebra(algebra, scale), output, n_outputs=m
            )
            blocks.append(tensor.constraint_matrix())
        if self.discrete is not None:
            elements = _as_element_pairs(self.discrete)
            scaled = []
            for index, (g_in, g_out) in enumerate(elements):
                g = _as_input_element(g_in, n, f"discrete[{index}][0]")
                rho = _as_output_element(g_out, g, m, f"discrete[{index}][1]")
                g = g.copy()
                g[:n, n] /= scale
                scaled.append((g, rho))
            blocks.append(discrete_constraints(dictionary, points / scale, scaled, m))
        p = dictionary.n_terms
        basis = _intersect_nullspaces(blocks, m * p, float(self.rtol))

        features = dictionary.transform(X / scale)  # (N, p)
        r = basis.shape[1]
        # Design in the free coordinates: (D Q)[(s, i), c] = Σ_j Φ[s, j] Q[(i, j), c].
        design = np.einsum("sj,ijc->sic", features, basis.reshape(m, p, r)).reshape(
            n_samples * m, r
        )
        target = Y.reshape(n_samples * m)
        if self.alpha > 0 and r:
            design = np.concatenate([design, np.sqrt(self.alpha) * np.eye(r)])
            target = np.concatenate([target, np.zeros(r)])
        free = np.linalg.lstsq(design, target, rcond=None)[0] if r else np.zeros(0)
        scaled_coef = (basis @ free).reshape(m, p)

        # Undo the rescaling: the monomial x^α of the dictionary is s^|α| times (x/s)^α.
        power = scale ** -dictionary.exponents.sum(axis=1).astype(np.float64)
        self.coef_ = scaled_coef * power[None, :]
        unscaled_basis = (basis.reshape(m, p, r) * power[None, :, None]).reshape(m * p, r)
        if scale != 1.0 and r:
            unscaled_basis = np.linalg.qr(unscaled_basis)[0]
        self.basis_ = unscaled_basis
        self.n_free_parameters_ = int(r)
        self.dictionary_ = dictionary
        self.n_features_in_ = int(n)
        self.n_outputs_ = int(m)
        self.constraint_points_ = points
        self._y_is_1d = one_d


# ---------------------------------------------------------------------------- torch layer
def _as_linear_stack(value: Any, name: str) -> np.ndarray:
    if isinstance(value, LieAlgebra):
        if value.affine:
            raise ValueError(f"{name} must act linearly; got the affine algebra {value.name}")
        return np.array(value.generators)
    stack = as_array(value, name=name)
    if stack.ndim == 2:
        stack = stack[None]
    if stack.ndim != 3 or stack.shape[1] != stack.shape[2] or stack.shape[1] == 0:
        raise ValueError(f"{name} must be a (k, d, d) generator stack, got shape {stack.shape}")
    return stack


class EquivariantLinear(torch.nn.Module):
    """Affine layer ``x ↦ W x + b`` equivariant between two representations of a Lie algebra.

    The solutions of ``W A_in,k − A_out,k W = 0`` and ``A_out,k b = 0`` for every generator pair
    (the Lie derivative of an affine map; Otto et al. 2023, enforcing symmetry in multilayer
    perceptrons), plus ``W g_in = g_out W`` and
    ``b = g_out b`` for each discrete pair, are computed once by SVD. ``W = Σ_i c_i Q_i`` and
    ``b = Σ_j d_j q_j`` with orthonormal (Frobenius) bases; only ``c`` and ``d`` are trainable,
    so the layer is equivariant for any parameter values.

    Parameters
    ----------
    in_algebra
        Input representation: a linear :class:`~symmetrykit.lie.LieAlgebra` or an array
        ``(k, a, a)``.
    out_algebra
        Output representation ``(k, b, b)``, generator ``k`` paired with input generator ``k``.
        Zeros give invariant outputs (scalars).
    discrete
        Optional list of pairs ``(g_in, g_out)`` of ``(a, a)`` and ``(b, b)`` matrices (``g_out``
        ``None``: identity) for components of the group Lie derivatives do not see.
    bias
        Include the (equivariant) bias.
    rtol
        Relative singular-value threshold of the nullspaces.
    dtype
        ``torch.float64`` (default) or ``torch.float32``.
    random_state
        Seed, :class:`numpy.random.Generator` or :class:`torch.Generator` for the initial
        coefficients (:func:`symmetrykit._estimator.torch_generator`: an integer seeds a private
        generator directly, ``None`` draws fresh entropy; torch's global generator is not used).

    Attributes
    ----------
    weight_basis : Tensor of shape (r_w, b, a)
    bias_basis : Tensor of shape (r_b, b)
    weight_coefficients, bias_coefficients : Parameter
    n_free_parameters : int

    Examples
    --------
    >>> import torch, symmetrykit as sk
    >>> so3 = sk.lie.so(3)
    >>> layer = EquivariantLinear(so3.repeated(2), so3, random_state=0)  # (x, y) ↦ αx + βy
    >>> layer.n_free_parameters
    2
    >>> layer(torch.ones(5, 6, dtype=torch.float64)).shape
    torch.Size([5, 3])
    """

    def __init__(
        self,
        in_algebra: Any,
        out_algebra: Any,
        *,
        discrete: Any = None,
        bias: bool = True,
        rtol: float = 1e-8,
        dtype: torch.dtype = torch.float64,
        random_state: Any = None,
    ) -> None:
        super().__init__()
        if dtype not in (torch.float64, torch.float32):
            raise ValueError(f"dtype must be torch.float64 or torch.float32, got {dtype!r}")
        rtol = _check_rtol(rtol)
        a_in = _as_linear_stack(in_algebra, "in_algebra")
        a_out = _as_linear_stack(out_algebra, "out_algebra")
        if a_in.shape[0] != a_out.shape[0]:
            raise ValueError(
                f"in_algebra has {a_in.shape[0]} generators, out_algebra {a_out.shape[0]}: they "
                "are paired one to one"
            )
        a, b = a_in.shape[1], a_out.shape[1]
        self.in_features, self.out_features = int(a), int(b)
        eye_a, eye_b = np.eye(a), np.eye(b)

        # Row-major vec: vec(W A) = (I ⊗ Aᵀ) vec W, vec(B W) = (B ⊗ I) vec W.
        weight_blocks = [
            np.concatenate(
                [
                    np.kron(eye_b, gi.T) - np.kron(go, eye_a)
                    for gi, go in zip(a_in, a_out, strict=True)
                ]
            )
        ]
        bias_blocks = [np.concatenate(list(a_out))]
        for index, (g_in, g_out) in enumerate(
            _as_element_pairs([] if discrete is None else discrete)
        ):
            gi = as_array(g_in, name=f"discrete[{index}][0]")
            go = eye_b if g_out is None else as_array(g_out, name=f"discrete[{index}][1]")
            if gi.shape != (a, a):
                raise ValueError(f"discrete[{index}][0] must have shape ({a}, {a}), got {gi.shape}")
            if go.shape != (b, b):
                raise ValueError(f"discrete[{index}][1] must have shape ({b}, {b}), got {go.shape}")
            weight_blocks.append(np.kron(eye_b, gi.T) - np.kron(go, eye_a))
            bias_blocks.append(eye_b - go)

        weight_basis = _intersect_nullspaces(weight_blocks, b * a, rtol)  # (b·a, r_w)
        r_w = weight_basis.shape[1]
        self.register_buffer(
            "weight_basis",
            torch.as_tensor(weight_basis.T.reshape(r_w, b, a).copy(), dtype=dtype),
        )
        gen = torch_generator(random_state)
        # The bases are orthonormal, so ‖W‖_F² = ‖c‖²: coefficients of variance b / r_w give
        # E‖W‖_F² = b, i.e. entries of variance ~1/a (LeCun scale) whatever the subspace's size.
        init = torch.randn(r_w, generator=gen, dtype=dtype) * np.sqrt(b / max(r_w, 1))
        self.weight_coefficients = torch.nn.Parameter(init)
        self.has_bias = bool(bias)
        if self.has_bias:
            bias_basis = _intersect_nullspaces(bias_blocks, b, rtol)  # (b, r_b)
            r_b = bias_basis.shape[1]
            self.register_buffer("bias_basis", torch.as_tensor(bias_basis.T.copy(), dtype=dtype))
            init_b = torch.randn(r_b, generator=gen, dtype=dtype) * np.sqrt(b / (a * max(r_b, 1)))
            self.bias_coefficients = torch.nn.Parameter(init_b)
        else:
            self.register_buffer("bias_basis", torch.zeros(0, b, dtype=dtype))
            self.register_parameter("bias_coefficients", None)

    @property
    def n_free_parameters(self) -> int:
        """Trainable numbers: ``r_w`` weight coefficients plus ``r_b`` bias coefficients."""
        count = int(self.weight_coefficients.numel())
        if self.bias_coefficients is not None:
            count += int(self.bias_coefficients.numel())
        return count

    @property
    def weight(self) -> torch.Tensor:
        """``W = Σ c_i Q_i``, shape ``(out_features, in_features)`` (differentiable)."""
        return torch.tensordot(self.weight_coefficients, self.weight_basis, dims=1)

    @property
    def bias(self) -> torch.Tensor | None:
        """``b = Σ d_j q_j``, shape ``(out_features,)``, or ``None`` without bias."""
        if self.bias_coefficients is None:
            return None
        return self.bias_coefficients @ self.bias_basis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x W^T + b`` for ``x`` of shape ``(..., in_features)``."""
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"input has {x.shape[-1]} features, the layer expects {self.in_features}"
            )
        out = x @ self.weight.T
        bias = self.bias
        return out if bias is None else out + bias

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"n_free_parameters={self.n_free_parameters}, bias={self.has_bias}"
        )
