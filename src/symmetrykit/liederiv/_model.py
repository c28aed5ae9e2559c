"""Fitted dictionary models ``F(x) = W φ(x)`` and their run-directory format (JSON + npz)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._validation import as_samples
from ..lie import LieAlgebra
from ._dictionary import PolynomialDictionary
from ._operators import lie_tensor

__all__ = ["DictionaryModel", "load_model", "save_model"]

_MODEL_KIND = "symmetrykit.liederiv.DictionaryModel"


class DictionaryModel:
    """A linear-in-parameter model ``F(x) = W φ(x)`` with exact Lie derivatives.

    This is what a saved enforced or promoted regressor loads back as: enough to predict and to
    discover its symmetries (``symmetrykit.liederiv.discover(model, X, algebra)`` uses the exact
    dictionary Jacobian).

    Parameters
    ----------
    dictionary
        The feature map ``φ``.
    coef
        ``W`` of shape ``(m, p)`` (or ``(p,)`` for one output).
    """

    def __init__(self, dictionary: PolynomialDictionary, coef: Any) -> None:
        coef = np.asarray(coef, dtype=np.float64)
        if coef.ndim == 1:
            coef = coef[None]
        if coef.ndim != 2 or coef.shape[1] != dictionary.n_terms:
            raise ValueError(
                f"coef must have shape (m, {dictionary.n_terms}) for this dictionary, "
                f"got {coef.shape}"
            )
        if not np.all(np.isfinite(coef)):
            raise ValueError("coef contains NaN or inf")
        self.dictionary_ = dictionary
        self.coef_ = coef
        self.n_features_in_ = dictionary.n_features

    def __repr__(self) -> str:
        return f"DictionaryModel({self.dictionary_!r}, outputs={self.coef_.shape[0]})"

    def predict(self, X: Any) -> np.ndarray:
        """``F(X)``, shape ``(n_samples, m)``."""
        return self.dictionary_.transform(X) @ self.coef_.T

    def __call__(self, X: Any) -> np.ndarray:
        return self.predict(X)

    def lie_derivative(
        self, points: Any, algebra: LieAlgebra, output_algebra: Any = None
    ) -> np.ndarray:
        """Exact ``L_{ξ_k} F`` at ``points``, shape ``(k, N, m)``."""
        points = as_samples(points)
        m = self.coef_.shape[0]
        tensor = lie_tensor(self.dictionary_, points, algebra, output_algebra, n_outputs=m)
        return np.einsum("ksilj,lj->ksi", tensor.array, self.coef_)


def _model_parts(model: Any) -> tuple[PolynomialDictionary, np.ndarray]:
    dictionary = getattr(model, "dictionary_", None)
    coef = getattr(model, "coef_", None)
    if not isinstance(dictionary, PolynomialDictionary) or coef is None:
        raise ValueError(
            f"{type(model).__name__} is not a fitted dictionary model (needs dictionary_ and coef_)"
        )
    return dictionary, np.asarray(coef, dtype=np.float64).reshape(-1, dictionary.n_terms)


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    config: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Any:
    """Save a fitted dictionary model (coefficients + dictionary) into a run directory.

    ``config`` adds entries to ``config.json`` (e.g. how the model was fitted). Returns the
    :class:`~symmetrykit.runs.RunDirectory`; an existing non-empty directory is refused unless
    ``overwrite``.
    """
    from ..runs import RunDirectory

    dictionary, coef = _model_parts(model)
    full = {
        "kind": _MODEL_KIND,
        "estimator": type(model).__name__,
        "dictionary": dictionary.to_dict(),
        **(config or {}),
    }
    run = RunDirectory.create(path, full, overwrite=overwrite)
    run.save_arrays(coef=coef)
    return run


def load_model(path: str | os.PathLike[str]) -> DictionaryModel:
    """Load a model written by :func:`save_model` (no pickle: JSON and npz only)."""
    from ..runs import RunDirectory

    run = RunDirectory.open(path)
    config = run.config()
    if config.get("kind") != _MODEL_KIND:
        raise ValueError(f"{path} does not hold a saved dictionary model")
    arrays = run.load_arrays()
    if "coef" not in arrays:
        raise ValueError(f"{path}: arrays.npz has no 'coef'")
    return DictionaryModel(PolynomialDictionary.from_dict(config["dictionary"]), arrays["coef"])
