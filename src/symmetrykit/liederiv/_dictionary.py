"""Polynomial dictionaries with exact Jacobians: the feature maps of linear-in-parameter models."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from math import comb
from typing import Any

import numpy as np

from .._validation import as_samples
from ._checks import _is_integer

__all__ = ["MAX_TERMS", "PolynomialDictionary", "n_monomials"]

#: The most monomials a :class:`PolynomialDictionary` may have (its exponent table and every
#: feature matrix grow with it; far larger ones would exhaust memory before being useful).
MAX_TERMS = 1_000_000


def n_monomials(n_features: int, degree: int) -> int:
    """Number of monomials of degree ``≤ degree`` in ``n_features`` variables: ``C(n + d, d)``."""
    return comb(n_features + degree, degree)


def _exponents(n_features: int, degree: int, include_bias: bool) -> np.ndarray:
    """Exponent vectors in graded lexicographic order (degree first, then lexicographic)."""
    rows = []
    for total in range(0 if include_bias else 1, degree + 1):
        # combinations_with_replacement yields sorted index tuples: x0^2, x0 x1, ... in lex order.
        for combo in itertools.combinations_with_replacement(range(n_features), total):
            exponent = np.zeros(n_features, dtype=np.int64)
            for index in combo:
                exponent[index] += 1
            rows.append(exponent)
    return np.array(rows, dtype=np.int64).reshape(-1, n_features)


class PolynomialDictionary:
    """All monomials ``x^α`` with ``|α| ≤ degree`` of ``n_features`` variables.

    Parameters
    ----------
    n_features
        Number of input variables ``n``.
    degree
        Largest total degree ``d`` (≥ 1).
    include_bias
        Include the constant monomial (first column).

    Attributes
    ----------
    exponents : ndarray of shape (n_terms, n_features)
        Exponent vector of every feature, graded lexicographic order.

    Examples
    --------
    >>> lib = PolynomialDictionary(2, 2)
    >>> lib.feature_names()
    ['1', 'x0', 'x1', 'x0^2', 'x0 x1', 'x1^2']
    >>> lib.transform([[2.0, 3.0]]).tolist()
    [[1.0, 2.0, 3.0, 4.0, 6.0, 9.0]]
    """

    def __init__(self, n_features: int, degree: int, *, include_bias: bool = True) -> None:
        for name, value in (("n_features", n_features), ("degree", degree)):
            if not _is_integer(value) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        terms = n_monomials(int(n_features), int(degree))
        if terms > MAX_TERMS:
            raise ValueError(
                f"a polynomial dictionary of degree {degree} in {n_features} variables has "
                f"{terms:.3g} monomials, more than the {MAX_TERMS:,} this library builds"
            )
        self.n_features = int(n_features)
        self.degree = int(degree)
        self.include_bias = bool(include_bias)
        self.exponents = _exponents(self.n_features, self.degree, self.include_bias)
        self.exponents.setflags(write=False)

    def __repr__(self) -> str:
        return (
            f"PolynomialDictionary(n_features={self.n_features}, degree={self.degree}, "
            f"include_bias={self.include_bias})"
        )

    @property
    def n_terms(self) -> int:
        """Number of features ``p``."""
        return int(self.exponents.shape[0])

    def feature_names(self, input_names: list[str] | None = None) -> list[str]:
        """Readable names such as ``'x0^2 x1'``."""
        names = input_names or [f"x{i}" for i in range(self.n_features)]
        if len(names) != self.n_features:
            raise ValueError(f"need {self.n_features} input names, got {len(names)}")
        out = []
        for exponent in self.exponents:
            parts = [
                name if power == 1 else f"{name}^{power}"
                for name, power in zip(names, exponent, strict=True)
                if power
            ]
            out.append(" ".join(parts) if parts else "1")
        return out

    def _check(self, X: Any) -> np.ndarray:
        # Evaluating monomials at repeated points is legitimate: no constancy warning here (the
        # estimators warn about constant training data themselves).
        X = as_samples(X, warn_constant=False)
        if X.shape[1] != self.n_features:
            raise ValueError(f"X must have {self.n_features} columns, got {X.shape[1]}")
        return X

    def _power_table(self, X: np.ndarray) -> np.ndarray:
        """``table[s, i, k] = x_{s,i}^k`` for ``k = 0..degree``."""
        table = np.ones((X.shape[0], self.n_features, self.degree + 1))
        for k in range(1, self.degree + 1):
            table[:, :, k] = table[:, :, k - 1] * X
        return table

    def transform(self, X: Any) -> np.ndarray:
        """Feature matrix ``Φ[s, j] = x_s^{α_j}``, shape ``(n_samples, n_terms)``."""
        X = self._check(X)
        factors = self._factors(X)
        return np.prod(factors, axis=2)

    def _factors(self, X: np.ndarray) -> np.ndarray:
        """``factors[s, j, i] = x_{s,i}^{α_{j,i}}``, shape ``(n_samples, n_terms, n_features)``."""
        table = self._power_table(X)
        columns = np.arange(self.n_features)
        return table[:, columns[None, :], self.exponents]

    def jacobian(self, X: Any) -> np.ndarray:
        """Exact Jacobian ``J[s, j, i] = ∂ x^{α_j} / ∂ x_i`` at every sample.

        Products over the other variables use prefix and suffix products, so no division by a
        (possibly zero) coordinate is needed.
        """
        X = self._check(X)
        table = self._power_table(X)
        factors = self._factors(X)
        n_samples, n_terms, n = factors.shape
        prefix = np.ones((n_samples, n_terms, n + 1))
        suffix = np.ones((n_samples, n_terms, n + 1))
        for i in range(n):
            prefix[:, :, i + 1] = prefix[:, :, i] * factors[:, :, i]
            suffix[:, :, n - 1 - i] = suffix[:, :, n - i] * factors[:, :, n - 1 - i]
        others = prefix[:, :, :n] * suffix[:, :, 1:]
        lowered = np.maximum(self.exponents - 1, 0)
        columns = np.arange(n)
        derivative_factor = self.exponents[None] * table[:, columns[None, :], lowered]
        return others * derivative_factor

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (for run directories)."""
        return {
            "kind": "polynomial",
            "n_features": self.n_features,
            "degree": self.degree,
            "include_bias": self.include_bias,
        }

    @classmethod
    def from_dict(cls, data: Any) -> PolynomialDictionary:
        """The dictionary described by :meth:`to_dict`, checked strictly (it may come from a file).

        Integers must be integers (``2.7`` is refused, not truncated) and the number of
        monomials is bounded before any is enumerated.

        Raises
        ------
        ValueError
            For anything but a complete, well-typed description of a dictionary of at most
            ``MAX_TERMS`` monomials.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a dictionary description must be a JSON object, got {data!r}")
        keys = {"kind", "n_features", "degree", "include_bias"}
        if set(data) != keys:
            raise ValueError(f"a dictionary description has the keys {sorted(keys)}, got "
                             f"{sorted(map(str, data))}")
        if data["kind"] != "polynomial":
            raise ValueError(f"unknown dictionary kind {data['kind']!r}")
        if not isinstance(data["include_bias"], bool):
            raise ValueError(f"include_bias must be true or false, got {data['include_bias']!r}")
        return cls(data["n_features"], data["degree"], include_bias=data["include_bias"])
