"""pysindy (≥ 2) interop: enforce symmetry in SINDy's constrained optimiser, discover it afterwards.

SINDy models ``ẋ = Ξᵀ Θ(x)`` are dictionary models ``F_W = W φ`` with ``W = coef_`` of shape
``(n_targets, n_features)``. For polynomial libraries the Lie tensor is exact, so

* :func:`sindy_constraints` exports the enforcement constraint ``C vec(Ξ) = 0`` in pysindy's
  coefficient layouts (``"feature"``, its preferred one, or ``"target"``) as a full-row-rank
  matrix (``ConstrainedSR3`` inverts ``C H⁻¹ Cᵀ``, so the raw, rank-deficient sampled matrix
  would not do);
* :func:`sindy_symmetries` reads the symmetry algebra of a fitted SINDy model (duality).

pysindy is an optional dependency (``pip install symmetrykit[sindy]``); these functions only
need objects that behave like its fitted polynomial library (a ``powers_`` exponent table) and
model (``feature_library``, ``optimizer.coef_``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from ..lie import LieAlgebra
from ._checks import _as_output_action, _check_rtol, _required_algebra
from ._dictionary import PolynomialDictionary, n_monomials
from ._discover import LieDiscovery, discover
from ._enforce import _intersect_nullspaces, discrete_constraints
from ._model import DictionaryModel
from ._operators import lie_tensor

__all__ = ["sindy_constraints", "sindy_dictionary_model", "sindy_symmetries"]


def _library_powers(library: Any, n_features: int | None) -> np.ndarray:
    """The exponent table ``(n_library_features, n_inputs)`` of a (possibly unfitted) library."""
    if not hasattr(type(library), "powers_") and not hasattr(library, "powers_"):
        raise ValueError(
            f"{type(library).__name__} has no powers_: only polynomial libraries (pysindy "
            "PolynomialLibrary, sklearn PolynomialFeatures) have an exact Lie tensor here"
        )
    try:
        powers = library.powers_
    except Exception as exc:  # noqa: BLE001 - pysindy/sklearn raise NotFittedError or AttributeError
        if n_features is None:
            raise ValueError(
                "the library is not fitted: fit it (or the SINDy model) first, or pass n_features"
            ) from exc
        fitted = clone(library)
        # pysindy libraries take a list of trajectories; scikit-learn transformers an array.
        try:
            fitted.fit([np.zeros((2, n_features))])
        except Exception:  # noqa: BLE001 - fall back to the scikit-learn convention
            fitted.fit(np.zeros((2, n_features)))
        powers = fitted.powers_
    powers = np.asarray(powers)
    if powers.ndim != 2 or not np.issubdtype(powers.dtype, np.integer) or np.any(powers < 0):
        raise ValueError(f"library powers_ must be a non-negative integer table, got {powers!r}")
    if n_features is not None and powers.shape[1] != n_features:
        raise ValueError(
            f"the library was fitted on {powers.shape[1]} inputs, n_features is {n_features}"
        )
    return powers


def _columns_in_dictionary(powers: np.ndarray) -> tuple[PolynomialDictionary, np.ndarray]:
    """Our complete dictionary of the library's degree, and where each library feature sits."""
    n = powers.shape[1]
    degree = max(int(powers.sum(axis=1).max()), 1)
    dictionary = PolynomialDictionary(n, degree)
    index = {tuple(row): j for j, row in enumerate(dictionary.exponents.tolist())}
    columns = np.array([index[tuple(row)] for row in powers.tolist()], dtype=np.int64)
    if len(set(columns.tolist())) != len(columns):
        raise ValueError("the library repeats a monomial")
    return dictionary, columns


def sindy_constraints(
    library: Any,
    algebra: Any,
    output_algebra: Any = "tangent",
    *,
    discrete: Any = None,
    n_features: int | None = None,
    n_targets: int | None = None,
    order: str = "feature",
    rtol: float = 1e-8,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Equality constraints ``C vec(Ξ) = 0`` that make a SINDy model symmetric.

    Pass them to ``pysindy.ConstrainedSR3(constraint_lhs=C, constraint_rhs=d,
    constraint_order="feature", equality_constraints=True)`` (the same ``order``).

    Parameters
    ----------
    library
        A pysindy ``PolynomialLibrary`` (fitted, or unfitted with ``n_features``), or any object
        with a ``powers_`` exponent table (e.g. scikit-learn ``PolynomialFeatures``).
    algebra
        Generators acting on the state (:class:`~symmetrykit.lie.LieAlgebra` or ``(k, n, n)``).
    output_algebra
        ``"tangent"`` (default: ``ẋ = f(x)`` is a vector field), ``None`` (invariant outputs) or a
        paired linear :class:`LieAlgebra` on the targets.
    discrete
        Optional group elements ``(g_in, g_out)`` (see
        :func:`~symmetrykit.liederiv.discrete_constraints`).
    n_features
        Number of state variables; needed only for an unfitted library.
    n_targets
        Number of model outputs; defaults to the state dimension (or the output algebra's).
    order
        Column layout: ``"feature"`` (pysindy's preferred one; ``coef_.T.reshape(-1)``: the
        targets of the first library feature, then of the second, …) or ``"target"``
        (``coef_.reshape(-1)``, deprecated in pysindy 2).
    rtol
        Relative singular-value threshold of the symmetric subspace.
    random_state
        Seed for the sample points (uniform in ``[−1, 1]^n``; the constraints are polynomial
        identities, exact at any ``n_monomials + 10`` points in general position).

    Returns
    -------
    lhs : ndarray of shape (n_targets · n_library − r, n_targets · n_library)
        Orthonormal rows spanning the complement of the ``r``-dimensional symmetric subspace,
        columns in the requested ``order`` (``coef_`` of shape ``(n_targets, n_library)``).
        Zero rows when every model is symmetric.
    rhs : ndarray of zeros, shape (n_targets · n_library − r,)

    Notes
    -----
    ``ConstrainedSR3`` imposes the constraint on its relaxed coefficients ``coef_full_``; its
    sparse ``coef_`` (the ones ``SINDy.predict`` uses) only approach them as ``relax_coeff_nu``
    shrinks. Use ``coef_full_`` (see :func:`sindy_dictionary_model`) for an exactly symmetric
    model.
    """
    rtol = _check_rtol(rtol)
    if order not in ("feature", "target"):
        raise ValueError(f"order must be 'feature' or 'target', got {order!r}")
    powers = _library_powers(library, n_features)
    dictionary, columns = _columns_in_dictionary(powers)
    n = dictionary.n_features
    algebra = _required_algebra(algebra)
    output = _as_output_action(output_algebra)
    if isinstance(output, LieAlgebra):
        m = output.dim
    elif n_targets is None:
        m = n
    else:
        m = int(n_targets)
    if n_targets is not None and int(n_targets) != m:
        raise ValueError(f"n_targets={n_targets} does not match the output action on R^{m}")

    rng = np.random.default_rng(random_state)
    points = rng.uniform(-1.0, 1.0, size=(n_monomials(n, dictionary.degree) + 10, n))
    blocks = [lie_tensor(dictionary, points, algebra, output, n_outputs=m).constraint_matrix()]
    if discrete is not None:
        blocks.append(discrete_constraints(dictionary, points, discrete, m))
    p = dictionary.n_terms
    # Keep only the library's monomials (the others are absent, i.e. fixed at zero).
    restricted = [
        block.reshape(-1, m, p)[:, :, columns].reshape(-1, m * len(columns)) for block in blocks
    ]
    basis = _intersect_nullspaces(restricted, m * len(columns), rtol)
    u, _, _ = np.linalg.svd(basis, full_matrices=True)
    lhs = u[:, basis.shape[1] :].T  # columns (target, feature)
    if order == "feature":
        lhs = lhs.reshape(-1, m, len(columns)).transpose(0, 2, 1).reshape(lhs.shape[0], -1)
    return np.ascontiguousarray(lhs), np.zeros(lhs.shape[0])


def sindy_dictionary_model(model: Any, *, coefficients: str = "sparse") -> DictionaryModel:
    """A fitted SINDy model as a :class:`~symmetrykit.liederiv.DictionaryModel` (exact Lie
    derivatives).

    Parameters
    ----------
    model
        A fitted ``pysindy.SINDy`` with a polynomial feature library and no control inputs.
    coefficients
        ``"sparse"`` (``optimizer.coef_``, what ``SINDy.predict`` uses) or ``"full"``
        (``optimizer.coef_full_`` of relaxed optimisers such as ``ConstrainedSR3``).
    """
    if coefficients not in ("sparse", "full"):
        raise ValueError(f"coefficients must be 'sparse' or 'full', got {coefficients!r}")
    library = getattr(model, "feature_library", None)
    optimizer = getattr(model, "optimizer", None)
    if library is None or optimizer is None:
        raise ValueError(f"{type(model).__name__} is not a SINDy model")
    if getattr(model, "n_control_features_", 0):
        raise ValueError("SINDy models with control inputs are not supported")
    attribute = "coef_" if coefficients == "sparse" else "coef_full_"
    coef = getattr(optimizer, attribute, None)
    if coef is None:
        raise ValueError(f"the optimizer has no {attribute} (fit the model first)")
    powers = _library_powers(library, None)
    dictionary, columns = _columns_in_dictionary(powers)
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    if coef.shape[1] != len(columns):
        raise ValueError(
            f"coefficients have {coef.shape[1]} columns, the library {len(columns)} features"
        )
    full = np.zeros((coef.shape[0], dictionary.n_terms))
    full[:, columns] = coef
    return DictionaryModel(dictionary, full)


def sindy_symmetries(
    model: Any,
    X: Any,
    algebra: Any,
    output_algebra: Any = "tangent",
    *,
    coefficients: str = "sparse",
    **kwargs: Any,
) -> LieDiscovery:
    """The symmetries of an identified SINDy model among candidate generators.

    :func:`~symmetrykit.liederiv.discover` on :func:`sindy_dictionary_model` (exact Lie
    derivatives); ``kwargs`` go to ``discover`` (``rtol``, ``gap_ratio``, ``n_symmetries``). A
    model identified from noisy data is only approximately symmetric: use ``gap_ratio`` and read
    the spectrum.
    """
    algebra = _required_algebra(algebra)
    dictionary_model = sindy_dictionary_model(model, coefficients=coefficients)
    return discover(dictionary_model, X, algebra, output_algebra=output_algebra, **kwargs)
