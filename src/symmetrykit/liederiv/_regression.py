"""What the enforcing and promoting regressors share: ``F(x) = W φ(x)`` with exact Lie derivatives.

:class:`_DictionaryRegressor` holds the parameters both estimators have (the dictionary's degree,
the candidate algebra and its output action, the number of Lie-derivative points and the seed),
the prediction, the exact :meth:`~_DictionaryRegressor.lie_derivative` that lets
:func:`~symmetrykit.liederiv.discover` read a fitted model's symmetries back (the duality of
enforcing and discovering, Otto et al. 2023), and the saved form of the fitted dictionary and
algebras in the one run-directory format (:meth:`symmetrykit._estimator.SymmetryEstimator.save`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.exceptions import NotFittedError

from .._estimator import SymmetryEstimator
from .._validation import as_samples
from ..lie import LieAlgebra
from ._checks import _as_output_action, _required_algebra
from ._dictionary import PolynomialDictionary
from ._operators import lie_tensor

__all__: list[str] = []


def _exact_lie_derivative(
    dictionary: PolynomialDictionary, coef: np.ndarray, points: np.ndarray, algebra: Any,
    output_algebra: Any,
) -> np.ndarray:
    """``L_{ξ_k} F(x_s)`` of ``F = coef φ`` for every generator and point, shape ``(k, N, m)``."""
    algebra = _required_algebra(algebra)
    output = _as_output_action(output_algebra)
    m = coef.shape[0]
    if isinstance(output, LieAlgebra) and output.dim != m:
        raise ValueError(f"output_algebra acts on R^{output.dim}, the model has {m} outputs")
    tensor = lie_tensor(dictionary, points, algebra, output, n_outputs=m)
    if tensor.n_outputs != m:
        raise ValueError(
            f"the output action acts on {tensor.n_outputs} outputs, the model has {m}"
        )
    return tensor.lie_derivatives(coef)


def _read_dictionary(description: Any) -> PolynomialDictionary:
    """A saved dictionary, validated before anything is enumerated."""
    try:
        return PolynomialDictionary.from_dict(description)
    except ValueError as error:
        raise ValueError(f"the saved dictionary is invalid: {error}") from None


def _save_algebras(
    estimator: Any, names: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The attributes ``names`` (each ``None``, a string or a :class:`LieAlgebra`)."""
    info: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for name in names:
        value = getattr(estimator, name)
        if isinstance(value, LieAlgebra):
            info[name] = {"kind": "LieAlgebra", "name": value.name, "affine": value.affine}
            arrays[f"algebra.{name}"] = np.asarray(value.generators)
        elif value is None or isinstance(value, str):
            info[name] = {"kind": "value", "value": value}
        else:
            raise TypeError(f"{type(estimator).__name__}.{name} ({type(value).__name__}) has "
                            "no saved form")
    return info, arrays


def _load_algebras(
    estimator: Any, info: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
    names: tuple[str, ...],
) -> None:
    for name in names:
        entry = info[name]
        if entry["kind"] == "LieAlgebra":
            value: Any = LieAlgebra(arrays[f"algebra.{name}"], name=str(entry["name"]),
                                    affine=bool(entry["affine"]))
        elif entry["kind"] == "value" and (entry["value"] is None
                                           or isinstance(entry["value"], str)):
            value = entry["value"]
        else:
            raise ValueError(f"the saved {name} is malformed")
        setattr(estimator, name, value)


class _DictionaryRegressor(RegressorMixin, SymmetryEstimator):
    """Base of the polynomial regressors ``F(x) = W φ(x)`` (not registered: no ``fit``).

    Subclasses set in ``fit``: ``coef_`` (``(m, p)``), ``dictionary_``, ``n_features_in_``,
    ``n_outputs_`` and ``_y_is_1d`` (``predict`` then returns ``(N,)``).
    """

    _fitted_marker: ClassVar[str] = "coef_"
    # Fitted attributes that may hold a LieAlgebra (saved as arrays by _save_extra).
    _algebra_attributes: ClassVar[tuple[str, ...]] = ()

    def fit(self, X: Any, y: Any) -> _DictionaryRegressor:
        """Fit ``W`` to samples ``X`` ``(N, n)`` and targets ``y`` ``(N,)`` or ``(N, m)``.

        With a one-dimensional ``y``, :meth:`predict` returns ``(N,)``. Sets ``fit_time_``.
        Every parameter is checked against ``_parameter_constraints`` first.

        Returns
        -------
        self
        """
        self._validate_params()
        with self._fit_clock():
            self._fit(X, y)
        return self

    def _fit(self, X: Any, y: Any) -> None:
        raise NotImplementedError

    def _check_is_fitted(self) -> None:
        if not self._is_fitted():
            raise NotFittedError(
                f"this {self._name()} is not fitted yet; call fit(X, y) first")

    def _check_X(self, X: Any) -> np.ndarray:
        self._check_is_fitted()
        X = as_samples(X, owner=self._name(), warn_constant=False)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} columns, the model was fitted with {self.n_features_in_}"
            )
        return X

    def predict(self, X: Any) -> np.ndarray:
        """``F(x) = W φ(x)``: shape ``(N, m)``, or ``(N,)`` when fitted with a 1-D ``y``."""
        X = self._check_X(X)
        values = self.dictionary_.transform(X) @ self.coef_.T
        return values[:, 0] if self._y_is_1d else values

    def lie_derivative(
        self, points: Any, algebra: Any, output_algebra: Any = None
    ) -> np.ndarray:
        """Exact ``L_{ξ_k} F(x_s) = DF(x_s) v_k(x_s) − B_k F(x_s)``, shape ``(k, N, m)``.

        Contracts the Lie tensor of the fitted dictionary with ``coef_``, so
        :func:`~symmetrykit.liederiv.discover` and
        :func:`~symmetrykit.liederiv.lie_derivative` use it directly (no differentiation error).

        Parameters
        ----------
        points
            Shape ``(N, n)``.
        algebra
            Candidate generators acting on the inputs (any, not only the fitted ones): a
            :class:`~symmetrykit.lie.LieAlgebra` or a ``(k, n, n)`` array.
        output_algebra
            ``None``/``"invariant"``, ``"tangent"`` or a paired linear :class:`LieAlgebra`.
        """
        points = self._check_X(points)
        return _exact_lie_derivative(self.dictionary_, self.coef_, points, algebra,
                                     output_algebra)

    # ------------------------------------------------------------------ saved form
    def _custom_attributes(self) -> tuple[str, ...]:
        return ("dictionary_", *self._algebra_attributes)

    def _save_extra(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        algebras, arrays = _save_algebras(self, self._algebra_attributes)
        info = {"dictionary": self.dictionary_.to_dict(), "y_is_1d": bool(self._y_is_1d),
                "algebras": algebras}
        return info, arrays

    def _load_extra(self, info: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        dictionary = _read_dictionary(info["dictionary"])
        coef = np.asarray(self.coef_)
        if coef.ndim != 2 or coef.shape[1] != dictionary.n_terms:
            raise ValueError(f"the saved coefficients have shape {coef.shape}, the dictionary "
                             f"{dictionary.n_terms} terms")
        self.dictionary_ = dictionary
        self._y_is_1d = bool(info["y_is_1d"])
        _load_algebras(self, info["algebras"], arrays, self._algebra_attributes)
