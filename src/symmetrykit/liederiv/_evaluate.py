"""``evaluate(estimator, dataset)`` for the Lie-derivative framework, and the data it scores on.

A fitted polynomial regressor is asked which symmetries it ended up with: among all linear (or
affine) vector fields, the nullspace of its exact Lie-derivative operator
(:func:`~symmetrykit.liederiv.discover`, "promote, then discover"; Otto et al. 2023). Against
a data set whose symmetry is known, the discovered algebra is compared with the true one by its
dimension and largest principal angle (:func:`symmetrykit.metrics.algebra_distance`), the
numbers ``symmetrykit lie discover`` and ``benchmarks/otto_discovery.py`` report; when the true
coefficients are known, their recovery (relative ℓ∞ error, as in the recovery-dimension
experiments) too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._methods import Evaluation
from .._validation import as_samples
from ..lie import LieAlgebra, gl
from ._checks import _as_algebra, _as_output_action, _as_targets
from ._discover import LieDiscovery, discover

__all__ = ["RegressionData", "discovery_metrics", "evaluate"]

#: Relative ℓ∞ coefficient error below which a fit counts as recovering the true model (the
#: success criterion of the recovery-dimension experiments, ``benchmarks/otto_recovery.py``).
RECOVERY_TOLERANCE = 5e-3
#: Spectral gap that separates the symmetries of a fitted (not exactly symmetric) model.
_GAP_RATIO = 1e3
#: Relative singular values below this are rounding: exact zeros and values of 1e-16 are alike.
_ROUNDING = 1e-12


@dataclass(frozen=True)
class RegressionData:
    """Samples of a function with known symmetry: what the ``"lie"`` method fits and scores.

    Parameters
    ----------
    X
        Inputs, shape ``(N, n)``.
    y
        Targets, shape ``(N,)`` or ``(N, m)``.
    symmetry
        The true symmetry algebra of the function (input side), or ``None`` if unknown.
    coef
        The function's true coefficients in the polynomial dictionary of the fitted degree
        (shape ``(m, p)``), or ``None``.
    name
        Short name for reports.
    """

    X: Any
    y: Any
    symmetry: LieAlgebra | None = None
    coef: Any = None
    name: str = "data"

    def __post_init__(self) -> None:
        # A container: the estimator fitted on it warns about constant samples, not this.
        x = as_samples(self.X, warn_constant=False)
        targets, one_d = _as_targets(self.y, x.shape[0])
        y = targets[:, 0] if one_d else targets
        if self.symmetry is not None and not isinstance(self.symmetry, LieAlgebra):
            raise ValueError(f"symmetry must be a LieAlgebra or None, got "
                             f"{type(self.symmetry).__name__}")
        object.__setattr__(self, "X", x)
        object.__setattr__(self, "y", y)
        if self.coef is not None:
            object.__setattr__(self, "coef", np.asarray(self.coef, dtype=np.float64))


def _prepare(dataset: Any) -> tuple[np.ndarray, np.ndarray]:
    """What the regressors' ``fit`` takes: ``(X, y)``."""
    return dataset.X, dataset.y


def _generators(truth: Any) -> np.ndarray:
    if isinstance(truth, LieAlgebra):
        return np.asarray(truth.generators)
    return np.asarray(truth, dtype=np.float64)


def discovery_metrics(result: LieDiscovery, truth: Any = None) -> dict[str, Any]:
    """The numbers that summarise a discovery, and its comparison with a known algebra.

    Parameters
    ----------
    result
        From :func:`~symmetrykit.liederiv.discover` (or ``discover_density``/``discover_tangent``).
    truth
        The expected symmetry algebra (:class:`~symmetrykit.lie.LieAlgebra` or a ``(k, d, d)``
        stack in the candidates' coordinates), or ``None``.

    Returns
    -------
    dict
        ``nullity``, ``candidates``, ``gap``, ``closure_residual``, ``method``,
        ``largest_null_value``, ``smallest_other_value`` (``None`` when there is none),
        ``singular_values`` and, with ``truth``, ``expected`` and ``largest_principal_angle``
        (``None`` when either algebra is empty).
    """
    from ..metrics import algebra_distance

    values = np.asarray(result.singular_values)
    nullity = int(result.nullity)
    metrics: dict[str, Any] = {
        "nullity": nullity,
        "candidates": int(values.size),
        "gap": float(result.gap),
        "closure_residual": float(result.closure_residual),
        "method": result.method,
        "largest_null_value": float(values[:nullity].max()) if nullity else None,
        "smallest_other_value": float(values[nullity:].min()) if nullity < values.size else None,
        "singular_values": values.tolist(),
    }
    if truth is not None:
        expected = _generators(truth)
        metrics["expected"] = int(len(expected))
        metrics["largest_principal_angle"] = (
            float(np.max(algebra_distance(result.algebra, expected)))
            if nullity and len(expected) else None
        )
    return metrics


def _gap_nullity(relative: np.ndarray) -> int:
    """Symmetries up to the largest gap ≥ ``_GAP_RATIO`` of the spectrum, rounding levelled.

    The spectrum is closed by the reference value 1 (a model symmetric under every candidate)
    and floored at ``_ROUNDING``, so that an exactly symmetric model's exact zeros and
    rounding-level values count as one cluster instead of splitting at an enormous ratio.
    """
    floor = np.maximum(np.append(relative, 1.0), _ROUNDING)
    ratios = floor[1:] / floor[:-1]
    best = int(np.argmax(ratios))
    return best + 1 if ratios[best] >= _GAP_RATIO else 0


def _general_candidates(n: int, affine: bool, output: Any) -> tuple[LieAlgebra, Any]:
    """gl(n) (or gl(n) ⊕ t(n) as affine fields) with the output action of the fit."""
    general = gl(n)
    if affine:
        stack = np.zeros((n * n + n, n + 1, n + 1))
        stack[: n * n, :n, :n] = general.generators
        stack[n * n :, np.arange(n), n] = np.eye(n)
        general = LieAlgebra(stack, name=f"aff({n})", affine=True)
    if isinstance(output, LieAlgebra):
        return general, gl(n)
    return general, output


def _homogeneous(truth: LieAlgebra) -> np.ndarray:
    """Linear generators ``(k, n, n)`` as affine ones ``(k, n+1, n+1)``."""
    generators = np.asarray(truth.generators)
    k, n, _ = generators.shape
    out = np.zeros((k, n + 1, n + 1))
    out[:, :n, :n] = generators
    return out


def evaluate(estimator: Any, dataset: Any) -> Evaluation:
    """Score a fitted liederiv regressor on a data set with (optionally) known symmetry.

    Parameters
    ----------
    estimator
        A fitted :class:`~symmetrykit.liederiv.PromotedRegressor`,
        :class:`~symmetrykit.liederiv.EquivariantRegressor` or
        :class:`~symmetrykit.liederiv.DictionaryModel`.
    dataset
        A :class:`RegressionData` (or any object with ``X``, ``y`` and optionally
        ``symmetry`` and ``coef``).

    Returns
    -------
    Evaluation
        Metrics: ``rmse`` on the data; ``max_relative_lie_derivative``
        (``max |L_ξ F| / max |F|`` over the estimator's own generators, when it has some); the
        symmetries the model ended up with among all linear (affine) fields, cut at the largest
        spectral gap of at least ``1e3`` above rounding level (:func:`discovery_metrics`:
        ``nullity``, ``gap``, ...; with a known
        ``symmetry``, ``expected`` and ``largest_principal_angle``); ``n_free_parameters``
        (enforced models); ``coef_error`` and ``recovered`` when the true coefficients are
        known; ``fit_time``. Figures ``spectrum`` and ``generator`` (the symmetries found).
    """
    X = as_samples(dataset.X)
    y, _ = _as_targets(dataset.y, len(X))
    truth = getattr(dataset, "symmetry", None)
    name = type(estimator).__name__
    algebra = _as_algebra(getattr(estimator, "algebra", None), "algebra")
    output = _as_output_action(getattr(estimator, "output_algebra", None))
    predictions = np.asarray(estimator.predict(X), dtype=np.float64).reshape(len(X), -1)
    rmse = float(np.sqrt(np.mean((predictions - y) ** 2)))
    metrics: dict[str, Any] = {"rmse": rmse}
    lines = []
    if algebra is not None:
        derivative = np.asarray(estimator.lie_derivative(X, algebra, output))
        scale = max(float(np.max(np.abs(predictions))), 1e-300)
        metrics["max_relative_lie_derivative"] = float(np.max(np.abs(derivative)) / scale)
        lines.append(f"{name}: RMSE {rmse:.4g}, max |L_ξ F| / max |F| = "
                     f"{metrics['max_relative_lie_derivative']:.2e} over the {algebra.name} "
                     "generators")
    else:
        lines.append(f"{name}: RMSE {rmse:.4g}")

    # Which symmetries did the fitted model end up with? Asked among all linear (or affine)
    # fields, since a spectrum relative to its own largest value says nothing for one candidate.
    n = X.shape[1]
    affine = bool((algebra is not None and algebra.affine)
                  or (truth is not None and truth.affine))
    if isinstance(output, LieAlgebra) and (affine or output.dim != n):
        candidates, paired = algebra, output  # outputs not like the inputs: the fit's own pairs
    else:
        candidates, paired = _general_candidates(n, affine, output)
    check = discover(estimator, X, candidates, output_algebra=paired, n_symmetries=0)
    check = discover(estimator, X, candidates, output_algebra=paired,
                     n_symmetries=_gap_nullity(check.singular_values))
    compared = truth
    if truth is not None and candidates.affine and not truth.affine:
        compared = _homogeneous(truth)
    metrics.update(discovery_metrics(check, compared))
    if algebra is not None and algebra.dim >= 2 and candidates is not algebra:
        # The question the fit was asked: which of its own candidates did it keep? (Cut as
        # for any fitted model, at a spectral gap of at least 1e3.)
        own = discover(estimator, X, algebra, output_algebra=output, rtol=None, gap_ratio=1e3)
        metrics["candidate_nullity"] = own.nullity
        lines.append(f"symmetries kept among the {algebra.name} candidates: {own.summary()}")
    lines.append(f"symmetries of the fitted model among all {candidates.name} fields: "
                 f"{check.summary()}")
    if truth is not None:
        angle = metrics["largest_principal_angle"]
        shown = "—" if angle is None else f"{angle:.2e}"
        lines.append(f"true symmetry {truth.name}: {metrics['expected']} generators; found "
                     f"{metrics['nullity']}, largest principal angle {shown}")
    free = getattr(estimator, "n_free_parameters_", None)
    if free is not None:
        metrics["n_free_parameters"] = int(free)
    true_coef = getattr(dataset, "coef", None)
    if true_coef is not None:
        true_coef = np.asarray(true_coef, dtype=np.float64).reshape(estimator.coef_.shape)
        error = float(np.max(np.abs(estimator.coef_ - true_coef))
                      / max(float(np.max(np.abs(true_coef))), 1e-300))
        metrics["coef_error"] = error
        metrics["recovered"] = error < RECOVERY_TOLERANCE
        lines.append(f"coefficients: relative ℓ∞ error {error:.2e} "
                     f"({'recovered' if metrics['recovered'] else 'not recovered'})")
    fit_time = getattr(estimator, "fit_time_", None)
    if fit_time is not None:
        metrics["fit_time"] = dict(fit_time)

    def spectrum() -> Any:
        from ..plot import singular_spectrum

        return singular_spectrum(
            check.singular_values, check.nullity, gap=check.gap,
            title=f"Spectrum of the fitted model's Lie-derivative operator\n"
                  f"({check.singular_values.size} {candidates.name} candidates): "
                  f"{check.nullity} symmetr{'y' if check.nullity == 1 else 'ies'} below the gap")

    def generator() -> Any:
        from ..plot import generator_grid

        return generator_grid(check.candidates.generators[:check.nullity],
                              check.singular_values[:check.nullity], algebra=candidates.name,
                              title=f"Symmetries of the fitted model: {check.nullity} "
                                    f"generator{'' if check.nullity == 1 else 's'} in "
                                    f"{candidates.name}")

    return Evaluation("lie", metrics, figures={"spectrum": spectrum, "generator": generator},
                      lines=lines)
