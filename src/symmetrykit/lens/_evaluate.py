"""Scoring a fitted SymmetryLens against a data set's known symmetry: one :class:`Evaluation`.

The command line (``symmetrykit lens discover``), sweeps and benchmarks all read these metrics,
so they are computed here once:

``cos`` / ``cos2``
    :func:`~symmetrykit.metrics.generator_similarity` of the learned generator to the true
    minimal generator ``G`` and to ``G²`` (a lens that learned two steps at once).
``ground_truth_similarity.self|identity|square``
    References for reading ``cos``: ``G`` against itself, the identity (an untrained lens)
    and ``G²``.
``cos_start``
    How good the kept run's closed-form warm start was on its own (warm-started runs only).
``phi_cos``
    :func:`~symmetrykit.metrics.representation_similarity` of the group convolution ``Φ`` to
    the data map (when the data set has one).
``final_loss``, ``restart_losses``, ``starts``, ``kept_run``, ``kept_start``, ``kept_loss``
    The last logged training loss of the kept run; every run's final unsupervised loss, how
    every run started and which one was kept (and its loss): how the result was chosen.
``run_steps``, ``stop_reasons``
    Model steps of every run and why it ended (``converged``, ``max_time``, ``n_steps``).
``fit_time.wall_s`` / ``fit_time.cpu_s``, ``steps`` (all runs), ``seed``, ``device``,
``filter_argmax``, ``filter_centre``, ``dataset.*``
    The fit's cost and set-up.

Figures (drawn only when asked): ``generator`` (learned / true / error), ``error_histogram``,
``group_convolution`` (learned / expected ``Φ``), ``loss_curves`` and ``before_after``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .._methods import Evaluation, dataset_metrics, integer_seed
from ..metrics import frobenius_cosine, generator_similarity, representation_similarity

__all__ = ["evaluate", "ground_truth_monitor"]

# History entries that are schedules or bookkeeping rather than loss terms.
_NOT_LOSS_TERMS = {"step", "tau", "model_lr", "restart"}
_TRACKED = ("cos", "cos2", "phi_cos")


Monitor = Callable[[np.ndarray, np.ndarray], dict[str, float]]


def ground_truth_monitor(dataset: Any) -> Monitor | None:
    """A ``monitor`` for :meth:`SymmetryLens.fit` recording ``cos``, ``cos2`` and ``phi_cos``.

    The values are computed against the data set's ground truth at each logged step and only
    recorded in ``history_``; the model never sees them. ``None`` when the data set has no
    known generator.
    """
    if getattr(dataset, "generator", None) is None:
        return None
    truth = np.asarray(dataset.generator)
    truth_squared = truth @ truth
    transform = dataset.transform
    cyclic = bool(getattr(dataset, "cyclic", False))

    def monitor(generator: np.ndarray, group_convolution: np.ndarray) -> dict[str, float]:
        values = {"cos": generator_similarity(generator, truth),
                  "cos2": generator_similarity(generator, truth_squared)}
        if transform is not None:
            values["phi_cos"] = representation_similarity(group_convolution, transform,
                                                          cyclic=cyclic)
        return values

    return monitor


def evaluate(estimator: Any, dataset: Any) -> Evaluation:
    """Score a fitted :class:`~symmetrykit.lens.SymmetryLens` on ``dataset``.

    ``dataset`` is a :class:`~symmetrykit.datasets.SymmetryDataset` (or anything with ``X``,
    ``generator``, ``transform`` and ``cyclic``); similarities to the ground truth are included
    when it is known. See the module docstring for the metrics and figures.
    """
    estimator._check_is_fitted()
    lens = estimator
    dim = int(lens.n_features_in_)
    metrics: dict[str, Any] = {
        "dataset": dataset_metrics(dataset),
        # Runs saved before fits could stop early ran their full schedule.
        "steps": int(sum(getattr(lens, "run_steps_", None) or [lens.n_steps])),
        "seed": integer_seed(lens),
        "device": str(lens.device),
        "fit_time": dict(getattr(lens, "fit_time_", None) or {}),
        "filter_argmax": int(np.argmax(np.abs(lens.filter_))),
        "filter_centre": dim // 2,
    }
    losses = lens.history_.get("loss")
    if losses:
        metrics["final_loss"] = float(losses[-1])
    restart_losses = [float(v) for v in getattr(lens, "restart_losses_", [])]
    starts = [str(s) for s in getattr(lens, "restart_starts_", [])]
    kept = getattr(lens, "best_restart_", None)
    if restart_losses:
        metrics["restart_losses"] = restart_losses
    if getattr(lens, "run_steps_", None):
        metrics["run_steps"] = [int(v) for v in lens.run_steps_]
        metrics["stop_reasons"] = [str(v) for v in lens.stop_reasons_]
    if starts:
        metrics["starts"] = starts
    if kept is not None:
        metrics["kept_run"] = int(kept)
        if kept < len(starts):
            metrics["kept_start"] = starts[kept]
        if kept < len(restart_losses):
            metrics["kept_loss"] = restart_losses[kept]
    truth = getattr(dataset, "generator", None)
    transform = getattr(dataset, "transform", None)
    if truth is not None:
        truth = np.asarray(truth)
        metrics["cos"] = generator_similarity(lens.generator_, truth)
        metrics["cos2"] = generator_similarity(lens.generator_, truth @ truth)
        metrics["ground_truth_similarity"] = {
            "self": generator_similarity(truth, truth),
            "identity": generator_similarity(np.eye(dim), truth),
            "square": generator_similarity(truth @ truth, truth),
        }
        warm = getattr(lens, "warm_start_", None)
        if warm is not None:
            pad = int(lens.padding_)
            crop = warm.padded_generator[pad:pad + dim, pad:pad + dim]
            metrics["cos_start"] = generator_similarity(crop, truth)
    if transform is not None:
        metrics["phi_cos"] = representation_similarity(
            lens.group_convolution_, transform, cyclic=bool(getattr(dataset, "cyclic", False)))
    return Evaluation("lens", metrics, figures=_figures(lens, dataset),
                      lines=_lines(dataset, metrics))


def _lines(dataset: Any, metrics: Mapping[str, Any]) -> list[str]:
    info = metrics["dataset"]
    truth = "ground truth known" if info["ground_truth"] else "no ground truth"
    lines = [f"data     {info['name']}: {info['n_samples']} x {info['dim']}, {truth}"]
    if "cos" in metrics:
        lines.append(f"cos      {metrics['cos']:.4f}  (to G²: {metrics['cos2']:.4f})")
    if "phi_cos" in metrics:
        lines.append(f"phi_cos  {metrics['phi_cos']:.4f}")
    lines.append(f"filter   peak at component {metrics['filter_argmax']} "
                 f"(centre {metrics['filter_centre']})")
    starts, losses = metrics.get("starts", []), metrics.get("restart_losses", [])
    if starts and len(starts) == len(losses):
        lines.append("runs     " + ", ".join(
            f"{start} start: loss {loss:.3f}" + (" (kept)" if i == metrics.get("kept_run")
                                                 else "")
            for i, (start, loss) in enumerate(zip(starts, losses, strict=True))))
    fit_time = metrics.get("fit_time", {})
    if "wall_s" in fit_time and "cpu_s" in fit_time:
        reasons = metrics.get("stop_reasons")
        why = f" ({', '.join(dict.fromkeys(reasons))})" if reasons else ""
        lines.append(f"time     wall {fit_time['wall_s']:.1f} s, CPU {fit_time['cpu_s']:.1f} s "
                     f"for {metrics['steps']} steps{why}")
    return lines


# ------------------------------------------------------------------------------------ figures
def closest_truth(learned: Any, truth: Any) -> tuple[np.ndarray, str]:
    """``G`` or its inverse (pseudo-inverse), whichever the learned generator is closer to."""
    inverse = np.linalg.pinv(truth)
    if frobenius_cosine(learned, inverse) > frobenius_cosine(learned, truth):
        return inverse, "true G⁻¹"
    return np.asarray(truth), "true G"


def expected_group_convolution(phi: Any, transform: Any) -> tuple[np.ndarray, str]:
    """The ideal ``Φ`` closest to the learned one among ``±Qᵀ`` and ``±J Qᵀ`` (J reverses rows).

    The direction of the learned group and the sign of the filter are arbitrary, so the error
    panel is only meaningful against the matching candidate.
    """
    q_t = np.asarray(transform).T
    candidates = [(q_t, "Qᵀ"), (-q_t, "−Qᵀ"), (q_t[::-1], "J Qᵀ"), (-q_t[::-1], "−J Qᵀ")]
    return max(candidates, key=lambda item: frobenius_cosine(phi, item[0]))


def history_panels(history: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """Keys to plot: loss terms in one panel, ground-truth similarities and τ in another."""
    steps = history.get("step", [])
    same_length = [k for k, v in history.items() if len(v) == len(steps) and k != "step"]
    tracked = [k for k in _TRACKED if k in same_length]
    losses = [k for k in same_length if k not in _NOT_LOSS_TERMS and k not in tracked]
    panels = []
    if losses:
        panels.append(("loss terms", losses))
    if tracked:
        panels.append(("similarity to the ground truth, and τ",
                       tracked + (["tau"] if "tau" in same_length else [])))
    return panels


def _figures(lens: Any, dataset: Any) -> dict[str, Callable[[], Any]]:
    """The figures as functions, so that nothing is drawn (or imported) until asked."""
    learned = lens.generator_
    phi = lens.group_convolution_
    truth = getattr(dataset, "generator", None)
    transform = getattr(dataset, "transform", None)
    seed = integer_seed(lens) or 0

    def generator() -> Any:
        from .. import plot

        if truth is None:
            return plot.generator_heatmaps(learned, titles=("learned G",))
        closest, title = closest_truth(learned, truth)
        return plot.generator_heatmaps(learned, closest, titles=(
            "learned G", title, "error (true − learned)"))

    def error_histogram() -> Any:
        from .. import plot

        return plot.error_histogram(learned, closest_truth(learned, truth)[0])

    def group_convolution() -> Any:
        from .. import plot

        if transform is None:
            return plot.generator_heatmaps(phi, titles=("learned Φ",))
        expected, label = expected_group_convolution(phi, transform)
        return plot.generator_heatmaps(phi, expected, titles=(
            "learned Φ", f"expected Φ = {label}", "error (expected − learned)"))

    def loss_curves() -> Any:
        from matplotlib.figure import Figure

        from .. import plot

        panels = history_panels(lens.history_)
        fig = Figure(figsize=(6.0 * len(panels), 4.0), layout="constrained")
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (title, keys) in zip(axes, panels, strict=True):
            plot.loss_curves(lens.history_, keys=keys, ax=ax)
            ax.set_title(title)
        return fig

    def before_after() -> Any:
        from .. import plot

        sample = np.asarray(dataset.X)[:1000]
        return plot.before_after(sample, lens.transform(sample), n=4, random_state=seed)

    figures: dict[str, Callable[[], Any]] = {"generator": generator}
    if truth is not None:
        figures["error_histogram"] = error_histogram
    figures["group_convolution"] = group_convolution
    if history_panels(lens.history_):
        figures["loss_curves"] = loss_curves
    figures["before_after"] = before_after
    return figures
