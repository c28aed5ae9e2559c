"""Fitted dictionary models ``F(x) = W φ(x)``, and saving and loading the liederiv models.

Every liederiv model is saved in symmetrykit's one run-directory format (``config.json`` with the
estimator's name and format version, ``arrays.npz``, ``metrics.json``) and read back by
:func:`symmetrykit.load`. :func:`save_model` and :func:`load_model` are the liederiv spellings of
the same. Directories written by symmetrykit 0.1's ``save_model`` (a ``"kind"`` entry, no format
version) still load, as a :class:`DictionaryModel`, with a ``DeprecationWarning``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._estimator import SymmetryEstimator, register_estimator
from .._validation import as_samples
from ..lie import LieAlgebra
from ._dictionary import PolynomialDictionary
from ._regression import _DictionaryRegressor, _exact_lie_derivative, _read_dictionary

__all__ = ["DictionaryModel", "load_model", "save_model"]


class DictionaryModel:
    """A linear-in-parameter model ``F(x) = W φ(x)`` with exact Lie derivatives.

    A model given by its coefficients (nothing to fit): a SINDy model
    (:func:`~symmetrykit.liederiv.sindy_dictionary_model`), a least-squares fit, or a run saved
    by symmetrykit 0.1. It can predict and have its symmetries discovered
    (``symmetrykit.liederiv.discover(model, X, algebra)`` uses the exact dictionary Jacobian).

    Parameters
    ----------
    dictionary
        The feature map ``φ``, or its :meth:`~PolynomialDictionary.to_dict` description.
    coef
        ``W`` of shape ``(m, p)`` (or ``(p,)`` for one output).
    """

    def __init__(self, dictionary: PolynomialDictionary | Mapping, coef: Any) -> None:
        if isinstance(dictionary, Mapping):
            dictionary = PolynomialDictionary.from_dict(dictionary)
        if not isinstance(dictionary, PolynomialDictionary):
            raise ValueError(
                f"dictionary must be a PolynomialDictionary, got {type(dictionary).__name__}"
            )
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
        return _exact_lie_derivative(self.dictionary_, self.coef_, as_samples(points), algebra,
                                     output_algebra)

    # ------------------------------------------------------------------ saved form
    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False,
             metrics: Mapping[str, Any] | None = None) -> Path:
        """Write the model to the run directory ``path`` (the format of every estimator).

        Its two parameters, the dictionary's description and the coefficients, go to
        ``config.json`` (floats in their shortest exact form); :func:`symmetrykit.load` builds
        the model back from them. Returns the directory's path.
        """
        from .._persistence import FORMAT_VERSION
        from ..runs import RunDirectory, staged_directory, to_jsonable

        config = to_jsonable({
            "estimator": "DictionaryModel",
            "module": "symmetrykit.liederiv",
            "format_version": FORMAT_VERSION,
            "params": {"dictionary": self.dictionary_.to_dict(), "coef": self.coef_},
            "replaced_params": {},
            "fitted": {},
            "arrays": {},
            "modules": {},
            "extra": {},
            "array_specs": {},  # arrays.npz is empty: any array in it was put there later
        })
        with staged_directory(path, overwrite=overwrite) as stage:
            run = RunDirectory.create(stage, config)
            run.save_arrays()
            run.save_metrics(dict(metrics or {}))
        return Path(path)

    def _load_extra(self, info: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Nothing beyond the parameters is saved."""

    def _after_load(self) -> None:
        """Nothing is derived."""

    @classmethod
    def _read_legacy(cls, path: Any, config: Mapping[str, Any] | None) -> DictionaryModel:
        """A directory written by symmetrykit 0.1's ``save_model`` (``"kind"``, no version).

        The saved dictionary is validated before it is built (a tampered description cannot
        make it enumerate monomials until memory runs out), and the coefficients must be
        finite real numbers of the dictionary's size.
        """
        from .._persistence import check_saved_array
        from ..runs import RunDirectory

        config = config or {}
        try:
            dictionary = _read_dictionary(config.get("dictionary"))
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        try:
            arrays = RunDirectory.open(path).load_arrays()
        except FileNotFoundError:
            raise ValueError(f"{path}: arrays.npz is missing") from None
        except OSError as error:
            raise ValueError(f"{path}: arrays.npz is unreadable ({error})") from None
        # (A ValueError of the reader names the file in one line already.)
        if "coef" not in arrays:
            raise ValueError(f"{path}: arrays.npz has no 'coef'")
        coef = check_saved_array(Path(path) / "arrays.npz", "coef", arrays["coef"])
        if coef.dtype.kind == "b":
            raise ValueError(f"{path}: coef holds booleans; coefficients are numbers (the file "
                             "is damaged or was edited)")
        try:
            return cls(dictionary, coef)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None


register_estimator(DictionaryModel, "DictionaryModel")


def _model_parts(model: Any) -> tuple[PolynomialDictionary, np.ndarray]:
    dictionary = getattr(model, "dictionary_", None)
    coef = getattr(model, "coef_", None)
    if not isinstance(dictionary, PolynomialDictionary) or coef is None:
        raise ValueError(
            f"{type(model).__name__} is not a fitted dictionary model (needs dictionary_ and coef_)"
        )
    return dictionary, np.asarray(coef, dtype=np.float64).reshape(-1, dictionary.n_terms)


def _add_run_config(path: Path, config: Mapping[str, Any]) -> None:
    """Record how a model was made (``config`` under ``"run"`` in ``config.json``)."""
    from ..runs import RunDirectory, atomic_write_text, to_jsonable

    content = RunDirectory.open(path).info()
    content["config"]["run"] = to_jsonable(dict(config))
    atomic_write_text(path / "config.json",
                      json.dumps(to_jsonable(content), indent=2, allow_nan=False) + "\n")


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    config: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Any:
    """Save a fitted model into a run directory: ``model.save(path)``.

    Works for every symmetrykit estimator and :class:`DictionaryModel`; any other object with a
    polynomial ``dictionary_`` and ``coef_`` is saved as a :class:`DictionaryModel`. ``config``
    records how the model was made (under ``"run"`` in ``config.json``). Returns the
    :class:`~symmetrykit.runs.RunDirectory`; an existing non-empty directory is refused unless
    ``overwrite``. Read it back with :func:`load_model` or :func:`symmetrykit.load`.
    """
    from ..runs import RunDirectory, staged_directory

    if not isinstance(model, (SymmetryEstimator, DictionaryModel)):
        model = DictionaryModel(*_model_parts(model))
    # The model and its run record are written aside and appear together (an overwritten
    # run stays whole until then).
    with staged_directory(path, overwrite=overwrite) as stage:
        model.save(stage, overwrite=True)
        if config:
            _add_run_config(stage, config)
    return RunDirectory.open(path)


def load_model(path: str | os.PathLike[str]) -> Any:
    """Load a liederiv model saved by :func:`save_model` (no pickle: JSON and npz only).

    Returns the saved class (:class:`~symmetrykit.liederiv.EquivariantRegressor`,
    :class:`~symmetrykit.liederiv.PromotedRegressor` or :class:`DictionaryModel`); a directory
    of symmetrykit 0.1 loads as a :class:`DictionaryModel` (what it holds: the dictionary and
    the coefficients), with a ``DeprecationWarning``.

    Raises
    ------
    ValueError
        If ``path`` holds no saved liederiv model.
    """
    from .._persistence import load

    try:
        model = load(path)
    except ValueError as error:
        raise ValueError(f"{path} does not hold a saved dictionary model ({error})") from None
    if not isinstance(model, (DictionaryModel, _DictionaryRegressor)):
        raise ValueError(f"{path} does not hold a saved dictionary model but a "
                         f"{type(model).__name__}")
    return model
