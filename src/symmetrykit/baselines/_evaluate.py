"""Scoring a fitted LieGAN or SymmetryGAN against a data set's known symmetry.

Metrics (flat JSON in the :class:`~symmetrykit._methods.Evaluation`):

``cos``
    The common similarity to the true minimal generator with the method's conversion
    (:func:`symmetrykit.baselines.score`): LieGAN ``max_t cos(exp(t L₁), G)``, SymmetryGAN
    ``max_{s≠0} cos(M, G^s)``; ``conversion`` names it. Only with a known generator. On pairs
    (:class:`~symmetrykit.datasets.TwoBodyPairs`, whose truth is a Lie-algebra element ``A``):
    LieGAN ``|cos(L₁, A)|``, SymmetryGAN ``|cos(M − Mᵀ, A)|``.
``cos_on_span``, ``cos_algebra``, ``cos_group``
    Against the data set's whole group where one element is not the whole story: pairs, on
    the data's linear span; a continuous group (``params["algebra_element"]``, e.g.
    ``rotation-invariant``), by the algebra conversion; a dihedral group
    (``params["reflection"]``, e.g. ``gaussian-ring``), the nearest element but the identity.
``final_d_loss``, ``final_g_loss``, ``final_identity_cos``
    The last logged discriminator and generator losses (``log 4`` is a discriminator at
    chance) and the mean ``|cos(g x, x)|`` (1 for the identity).
``steps``, ``max_steps``, ``fit_time.wall_s|cpu_s|monitor_s``, ``seed``, ``device``, ``dataset.*``
    Steps actually run (a ``max_time`` budget may stop early), the cap, and the cost.

Figures: ``generator`` (the learned matrix, beside the true generator when known) and
``loss_curves``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._methods import Evaluation, dataset_metrics, integer_seed
from ..metrics import frobenius_cosine
from ._compare import ALGEBRA_CONVERSIONS, CONVERSIONS, score
from ._liegan import LieGAN
from ._symmetrygan import SymmetryGAN

__all__ = ["dihedral_elements", "evaluate", "prepare"]

# Registry name and the key of baselines.score for each estimator class.
_KEYS = {LieGAN: ("liegan", "liegan"), SymmetryGAN: ("symmetrygan", "symgan")}


def prepare(dataset: Any) -> Any:
    """What ``fit`` takes: ``X``, or ``(X, Y)`` for pairs (one element acts on both)."""
    pairs = getattr(dataset, "Y", None)
    return dataset.X if pairs is None else (dataset.X, pairs)


def _truth_kind(dataset: Any) -> str:
    """``"algebra"`` for data sets whose ``generator`` is a Lie-algebra element (pairs)."""
    from ..datasets import TwoBodyPairs

    return "algebra" if isinstance(dataset, TwoBodyPairs) else "element"


def _cos_on_span(estimator: Any, key: str, dataset: Any) -> float:
    """The algebra conversion with both matrices restricted to the data's linear span.

    Pairs of two-body states fill a subspace (the centre of mass is fixed): a generator's action
    across it is never seen by the data, so this is the part every method can be judged on.
    """
    basis = dataset.span_basis()
    learned = estimator.generators_[0] if key == "liegan" else estimator.generator_
    if key == "symgan":
        learned = learned - learned.T
    truth = np.asarray(dataset.generator)
    return abs(frobenius_cosine(basis.T @ learned @ basis, basis.T @ truth @ basis))


def dihedral_elements(rotation: np.ndarray, reflection: np.ndarray, *,
                      max_order: int = 64) -> list[np.ndarray]:
    """Every element ``R^s F^r`` of the dihedral group of ``rotation`` and ``reflection``,
    identity excluded (``R`` of finite order ≤ ``max_order``)."""
    identity = np.eye(len(rotation))
    powers = [identity]
    while len(powers) <= max_order:
        nxt = powers[-1] @ rotation
        if np.allclose(nxt, identity, atol=1e-8):
            break
        powers.append(nxt)
    else:
        raise ValueError(f"the rotation has no finite order ≤ {max_order}")
    return [*powers[1:], *(p @ reflection for p in powers)]


def _cos_to_group(estimator: Any, key: str, rotation: np.ndarray,
                  reflection: np.ndarray) -> float:
    """``cos`` of the learned transformation to the nearest non-identity group element.

    SymmetryGAN: its element ``M`` directly; LieGAN: ``exp(tL)`` at its best ``t`` (only the
    rotations are reachable: reflections are not exponentials).
    """
    from ._compare import score_matrix

    elements = dihedral_elements(rotation, reflection)
    if key == "liegan":
        return max(score_matrix("liegan", estimator.generators_[0], g) for g in elements)
    return max(frobenius_cosine(estimator.generator_, g) for g in elements)


def evaluate(estimator: Any, dataset: Any) -> Evaluation:
    """Score a fitted :class:`LieGAN` or :class:`SymmetryGAN` on ``dataset``.

    ``dataset`` is a :class:`~symmetrykit.datasets.SymmetryDataset` (or anything with ``X``
    and ``generator``); ``cos`` is included when its generator is known.
    """
    keys = next((v for cls, v in _KEYS.items() if isinstance(estimator, cls)), None)
    if keys is None:
        raise TypeError(f"expected a LieGAN or a SymmetryGAN, got {type(estimator).__name__}")
    estimator._check_is_fitted()
    method, key = keys
    truth = getattr(dataset, "generator", None)
    history = estimator.history_
    metrics: dict[str, Any] = {
        "dataset": dataset_metrics(dataset),
        "steps": int(estimator.n_steps_),
        "max_steps": int(estimator.n_steps),
        "seed": integer_seed(estimator),
        "device": str(estimator.device),
        "fit_time": dict(getattr(estimator, "fit_time_", None) or {}),
    }
    for name in ("d_loss", "g_loss", "identity_cos"):
        if history.get(name):
            metrics[f"final_{name}"] = float(history[name][-1])
    lines = []
    if truth is not None:
        kind = _truth_kind(dataset)
        conversion = (ALGEBRA_CONVERSIONS if kind == "algebra" else CONVERSIONS)[key]
        metrics["cos"] = float(score(key, estimator, np.asarray(truth), truth_kind=kind))
        metrics["conversion"] = conversion
        lines.append(f"cos      {metrics['cos']:.4f}  [{conversion}]")
        if kind == "algebra":
            metrics["cos_on_span"] = _cos_on_span(estimator, key, dataset)
            lines.append(f"         {metrics['cos_on_span']:.4f} on the data's span")
        params = getattr(dataset, "params", None) or {}
        if "algebra_element" in params:  # a continuous group: any of its elements will do
            metrics["cos_algebra"] = float(score(
                key, estimator, np.asarray(params["algebra_element"], dtype=np.float64),
                truth_kind="algebra"))
            lines.append(f"         {metrics['cos_algebra']:.4f} [{ALGEBRA_CONVERSIONS[key]}]")
        if "reflection" in params:  # a dihedral group: any element but the identity will do
            metrics["cos_group"] = _cos_to_group(estimator, key, np.asarray(truth),
                                                 np.asarray(params["reflection"]))
            lines.append(f"         {metrics['cos_group']:.4f} to the nearest element of the "
                         "dihedral group (identity excluded)")
    fit_time = metrics["fit_time"]
    if "wall_s" in fit_time:
        lines.append(f"time     wall {fit_time['wall_s']:.1f} s for {metrics['steps']} steps")
    return Evaluation(method, metrics, figures=_figures(estimator, truth), lines=lines)


def _figures(estimator: Any, truth: Any) -> dict[str, Callable[[], Any]]:
    learned = (estimator.generators_[0] if isinstance(estimator, LieGAN)
               else estimator.generator_)
    title = "learned L₁" if isinstance(estimator, LieGAN) else "learned M"
    history = estimator.history_

    def generator() -> Any:
        from .. import plot

        if truth is None:
            return plot.generator_heatmaps(learned, titles=(title,))
        return plot.generator_heatmaps(learned, truth, titles=(
            title, "true G", "difference (true − learned)"))

    def loss_curves() -> Any:
        from .. import plot

        keys = [k for k in ("d_loss", "g_loss", "penalty", "identity_cos") if k in history]
        return plot.loss_curves(history, keys=keys)

    return {"generator": generator, "loss_curves": loss_curves}
