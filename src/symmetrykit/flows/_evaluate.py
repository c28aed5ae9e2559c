"""``evaluate(estimator, dataset)``: a fitted flow against the data set's known symmetries.

* :class:`GeneratorFlow` on a :class:`~symmetrykit.datasets.PDEDataset`: the paper's comparison
  with the equation's Lie point symmetries (Ko, Kim & Lee 2024, §5.2 and Fig. 4; :func:`compare`:
  inner products, projection norms, principal angles, the Galilean coefficient with ``∂u``
  projected out, validity per slot), the learned slots' mutual cosines and the validity gaps.
* :class:`ImageGeneratorFlow` on :class:`ImageData`: the paper's affine analysis (§5.1): every
  slot's projection onto the six affine fields under the pixel weights, its validity on held-out
  images flowed by ``±s_range``, the affine fields' own validity and the classifier's accuracy.

The metrics are flat (``{"projection_norms": [...], "fit_time.wall_s": ..., ...}``) and the same
for the command line, sweeps and benchmarks; figures are drawn only when asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._methods import Evaluation
from ._compare import compare
from ._estimator import GeneratorFlow
from ._image_flow import ImageData, ImageGeneratorFlow, pixel_tensor
from ._images import AFFINE_FIELD_NAMES, affine_fields, affine_measure, field_validity
from ._pde_data import _is_pde_dataset, pde_points, pde_reference_fields

__all__ = ["evaluate"]

# The non-affine symmetry each time-dependent equation is judged on (the paper's nKdV and cKdV).
NON_AFFINE = {"nkdv": "t-translation-nkdv", "ckdv": "cylindrical-galilean"}
# Iterations at the end of training whose validity is averaged ("final_validity").
_FINAL_ITERATIONS = 50


def evaluate(estimator: Any, dataset: Any, *, random_state: Any = 0,
             n_validity_images: int = 256) -> Evaluation:
    """Compare a fitted flow with the known symmetries of ``dataset``.

    Parameters
    ----------
    estimator : GeneratorFlow or ImageGeneratorFlow
        Fitted (or loaded).
    dataset : PDEDataset or ImageData
        A PDE data set (usually the training data) or images with a held-out part.
    random_state : int, numpy.random.Generator or None, default 0
        PDE data: which points and samples :func:`compare` uses.
    n_validity_images : int, default 256
        Images: held-out images whose validity is measured (the accuracy uses all of them).

    Returns
    -------
    Evaluation
        ``method`` ``"flow"`` or ``"image-flow"``; PDE metrics ``projection_norms`` (per slot),
        ``projection_1`` ... (sorted, largest first), ``inner_products.V<k>.<symmetry>``,
        ``galilean``, ``best_galilean``, ``best_non_affine`` (nKdV, cKdV),
        ``principal_angles_deg``, ``validity``, ``identity_validity``, ``validity_gap``,
        ``is_symmetry``, ``mutual.V<k>``, ``max_mutual``, ``final_loss``, ``final_validity``,
        ``final_validity_per_slot``, ``fit_time.*``; image metrics ``affine_measures``,
        ``inner_products.V<k>.<affine field>``, ``slot_validity``, ``affine_field_validity.*``,
        ``max_abs_mutual_inner_product``, ``classifier.*``, ``iterations``, ``fit_time.*``.
        Figures ``generators`` and ``loss_curves``.
    """
    if isinstance(estimator, ImageGeneratorFlow):
        if not isinstance(dataset, ImageData):
            raise TypeError(f"an ImageGeneratorFlow is evaluated on ImageData, got "
                            f"{type(dataset).__name__}")
        return _evaluate_images(estimator, dataset, int(n_validity_images))
    if isinstance(estimator, GeneratorFlow):
        if not _is_pde_dataset(dataset):
            raise TypeError(f"a GeneratorFlow is evaluated on a PDEDataset, got "
                            f"{type(dataset).__name__}")
        return _evaluate_pde(estimator, dataset, random_state)
    raise TypeError(f"expected a GeneratorFlow or ImageGeneratorFlow, got "
                    f"{type(estimator).__name__}")


def _loss_figure(flow: Any) -> Any:
    """The loss terms per iteration, one axis each, with the schedule's changes marked.

    The Sobolev term (PDE data) is switched on at ``sobolev_start × n_iterations``: before, it
    is not computed (logged as 0; drawn as a gap) and the total loss jumps when it starts. The
    learning rate drops tenfold at ``lr_decay_at × n_iterations``.
    """
    from .. import plot

    history = flow.history_
    columns = {k: np.asarray(v, dtype=float) for k, v in history.items()
               if np.ndim(v) == 1 and len(v) > 0}
    n = max((len(v) for v in columns.values()), default=0)
    params = flow.get_params()
    events: dict[str, float] = {}
    weights = {"orthogonality": params.get("orthogonality_weight"),
               "lipschitz": params.get("lipschitz_weight")}
    if "sobolev" in columns:
        start = int(round(float(params.get("sobolev_start", 0.0)) * flow.n_iterations))
        on = (getattr(flow, "periodic_", True) and float(params.get("sobolev_weight", 0)) > 0
              and start < n)
        if on:
            weights["sobolev"] = params.get("sobolev_weight")
            if start > 0:
                columns["sobolev"] = columns["sobolev"].copy()
                columns["sobolev"][:start] = np.nan
                events[f"Sobolev term switched on (iteration {start})"] = start
        else:
            del columns["sobolev"]  # never computed: all zeros
    if params.get("lr_decay_at") is not None:
        decay = int(round(float(params["lr_decay_at"]) * flow.n_iterations))
        if 0 < decay < n:
            events[f"learning rate × 0.1 (iteration {decay})"] = decay
    formula = " + ".join(["validity"] + [f"{float(w):g}·{name}" for name, w in weights.items()
                                         if name in columns and w is not None])
    title = (f"Training of {type(flow).__name__}: loss terms per iteration\n"
             f"loss = {formula}")
    return plot.loss_curves(columns, separate=True, events=events, title=title,
                            xlabel="iteration")


def _slots(n: int) -> list[str]:
    return [f"V{k + 1}" for k in range(n)]


# ------------------------------------------------------------------------------------ PDEs
def mutual_cosines(flow: GeneratorFlow, data: Any, fraction: float = 0.01) -> np.ndarray:
    """Cosines between the learned slots on ``fraction`` of the data points (a fixed draw)."""
    grid = pde_points(data).reshape(-1, 3)
    rng = np.random.default_rng(0)
    points = grid[rng.choice(grid.shape[0], size=max(int(fraction * grid.shape[0]), 16),
                             replace=False)]
    values = flow.evaluate(points)
    gram = np.einsum("knd,jnd->kj", values, values) / points.shape[0]
    norms = np.sqrt(np.diag(gram))
    return gram / np.outer(norms, norms)


def _evaluate_pde(flow: GeneratorFlow, data: Any, random_state: Any) -> Evaluation:
    flow._check_is_fitted()
    table = compare(flow, data, random_state=random_state)
    mutual = mutual_cosines(flow, data)
    slots = _slots(flow.n_generators)
    names = list(table.reference_names)
    projection = np.asarray(table.projection_norms, dtype=float)
    galilean = None if table.galilean is None else np.asarray(table.galilean, dtype=float)
    off_diagonal = np.abs(mutual[~np.eye(len(mutual), dtype=bool)])
    history = flow.history_
    metrics: dict[str, Any] = {
        "data": {"name": data.name, "equation": data.equation,
                 "n_trajectories": int(data.u.shape[0]), "nt": int(data.t.size),
                 "nx": int(data.x.size)},
        "reference_names": names,
        "projection_norms": projection.tolist(),
        **{f"projection_{i + 1}": float(p) for i, p in enumerate(np.sort(projection)[::-1])},
        "inner_products": {slot: {name: float(table.inner_products[k, j])
                                  for j, name in enumerate(names)}
                           for k, slot in enumerate(slots)},
        "galilean": None if galilean is None else galilean.tolist(),
        "best_galilean": (float(np.nanmax(np.abs(galilean))) if galilean is not None
                          and galilean.size else float("nan")),
    }
    if data.name in NON_AFFINE and NON_AFFINE[data.name] in names:
        column = names.index(NON_AFFINE[data.name])
        metrics["best_non_affine"] = float(np.abs(table.inner_products[:, column]).max())
    metrics.update({
        "principal_angles_rad": np.asarray(table.principal_angles).tolist(),
        "principal_angles_deg": np.degrees(table.principal_angles).tolist(),
        "validity": None if table.validity is None else np.asarray(table.validity).tolist(),
        "identity_validity": table.identity_validity,
        "validity_gap": np.asarray(flow.validity_gap_).tolist(),
        "is_symmetry": (None if flow.is_symmetry_ is None
                        else np.asarray(flow.is_symmetry_).tolist()),
        "mutual": {slot: mutual[k].tolist() for k, slot in enumerate(slots)},
        "max_mutual": float(off_diagonal.max()) if off_diagonal.size else 0.0,
        "final_loss": float(history["loss"][-1]),
        "final_validity": float(np.mean(history["validity"][-_FINAL_ITERATIONS:])),
        "final_validity_per_slot":
            np.asarray(history["validity_per_slot"])[-_FINAL_ITERATIONS:].mean(0).tolist(),
        "fit_time": dict(getattr(flow, "fit_time_", None) or {}),
    })
    wall = metrics["fit_time"].get("wall_s", float("nan"))
    lines = [f"data   {data.name}: {data.u.shape[0]} trajectories of {data.t.size} x "
             f"{data.x.size}; {data.equation}",
             f"fit    {flow.n_iterations} iterations in {wall:.1f} s, final loss "
             f"{metrics['final_loss']:.4g}",
             *table.to_markdown().splitlines()]
    # The whole comparison as matrices, for reports that need more than the flat metrics.
    comparison = {
        "reference_names": names, "rows": table.rows,
        "inner_products": np.asarray(table.inner_products).tolist(),
        "projection_norms": projection.tolist(), "galilean": metrics["galilean"],
        "principal_angles_deg": metrics["principal_angles_deg"],
        "identity_validity": table.identity_validity, "mutual": mutual.tolist(),
        "final_validity_per_slot": metrics["final_validity_per_slot"],
        "validity_gap": metrics["validity_gap"], "is_symmetry": metrics["is_symmetry"]}
    return Evaluation("flow", metrics,
                      figures={"generators": lambda: _pde_figure(flow, data),
                               "loss_curves": lambda: _loss_figure(flow)},
                      lines=lines, details={"comparison": comparison})


def _pde_figure(flow: GeneratorFlow, data: Any) -> Any:
    from .. import plot

    u_typical = float(np.median(pde_points(data)[..., 2]))
    fields = list(flow.generators_)
    names = [f"learned V{k + 1}" for k in range(len(fields))]
    for symmetry in data.reference_symmetries:
        fields.append(lambda p, s=symmetry: pde_reference_fields(data, p, [s])[0])
        names.append(f"true: {symmetry.name}")
    n_true = len(data.reference_symmetries)
    fig = plot.vector_fields(fields, names, base_point=(0.0, 0.0, u_typical),
                             labels=("x_n", "t_n", "u_n"),
                             ncols=max(len(flow.generators_), n_true))
    fig.suptitle(f"{data.name}: learned symmetry fields and the equation's true ones"
                 f"\nin normalised coordinates, on the slice u_n = {u_typical:.3g}; "
                 "arrows: (x_n, t_n) components; colour: u_n component")
    return fig


# ------------------------------------------------------------------------------------ images
def _evaluate_images(flow: ImageGeneratorFlow, data: ImageData,
                     n_validity_images: int) -> Evaluation:
    flow._check_is_fitted()
    k = flow.field_.n_generators
    slots = _slots(k)
    grid = flow.grid_
    weights = flow._weights_tensor()
    measure = flow.affine_measure()
    device = grid.device
    pixels = pixel_tensor(data.test_images).to(device=device, dtype=grid.dtype)
    held_out = pixels[:n_validity_images]
    s_range, n_steps = float(flow.s_range), 2 * int(flow.n_steps)
    validity = flow.validity_
    slot_validity = affine_validity = None
    if validity is not None:
        slot_validity = field_validity(validity, held_out, flow.stacked_field(), s_range,
                                       n_steps=n_steps, stacked=k)
        affine_scales = torch.sqrt((weights * (affine_fields(grid) ** 2).sum(-1)).sum(-1)
                                   / weights.sum())
        affine_validity = [
            float(field_validity(validity, held_out,
                                 lambda p, j=j: affine_fields(p)[j] / affine_scales[j], s_range,
                                 n_steps=n_steps))
            for j in range(6)
        ]
    values = flow.evaluate(grid.cpu().numpy())
    fields = torch.as_tensor(values)
    w = torch.as_tensor(weights, dtype=torch.float64)
    mutual = torch.einsum("knd,jnd,n->kj", fields, fields, w / w.sum()) - torch.eye(k)
    trained = affine_measure(np.einsum("kj,jnd->knd", np.linalg.inv(flow.mixing_), values),
                             grid, weights=weights)
    measures = np.asarray(measure.projection_norms)
    metrics: dict[str, Any] = {
        "data": {"name": data.name, "n_train": int(len(data.images)),
                 "n_test": int(len(data.test_images))},
        "affine_field_names": list(AFFINE_FIELD_NAMES),
        "affine_measures": measures.tolist(),
        "n_slots_measure_above_0.9": int((measures > 0.9).sum()),
        "inner_products": {slot: {name: float(measure.inner_products[i, j])
                                  for j, name in enumerate(AFFINE_FIELD_NAMES)}
                           for i, slot in enumerate(slots)},
        "principal_angles_deg": np.degrees(measure.principal_angles).tolist(),
        "slot_validity": None if slot_validity is None else slot_validity.tolist(),
        "affine_field_validity": (None if affine_validity is None else
                                  dict(zip(AFFINE_FIELD_NAMES, affine_validity, strict=True))),
        "max_abs_mutual_inner_product": float(mutual.abs().max()),
        "trained_slot_affine_measures": np.asarray(trained.projection_norms).tolist(),
        "roughness": None if flow.roughness_ is None else np.asarray(flow.roughness_).tolist(),
        "basis": flow.basis,
        "s_range": s_range,
        "iterations": int(flow.n_iter_),
        "fit_time": dict(getattr(flow, "fit_time_", None) or {}),
    }
    if flow.classifier_ is not None:
        with torch.no_grad():
            predicted = flow.classifier_(pixels).argmax(1).cpu().numpy()
        metrics["classifier"] = {
            "train_accuracy": flow.classifier_train_accuracy_,
            "test_accuracy": float((predicted == np.asarray(data.test_labels)).mean())}
    rows = []
    for i, slot in enumerate(slots):
        row: dict[str, Any] = {"slot": slot, **metrics["inner_products"][slot],
                               "affine measure": float(measures[i])}
        if slot_validity is not None:
            row["validity"] = float(slot_validity[i])
        rows.append(row)
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(v if isinstance(v, str) else f"{v:.2f}" for v in row.values())
              + " |" for row in rows]
    if affine_validity is not None:
        lines += ["", "validity of the affine fields: " + ", ".join(
            f"{n} {v:.3f}" for n, v in zip(AFFINE_FIELD_NAMES, affine_validity, strict=True))]
    return Evaluation("image-flow", metrics,
                      figures={"generators": lambda: _image_figure(flow),
                               "loss_curves": lambda: _loss_figure(flow)},
                      lines=lines)


def _image_figure(flow: ImageGeneratorFlow) -> Any:
    from .. import plot

    k = flow.field_.n_generators
    fields = [lambda p, i=i: flow.evaluate(p)[i] for i in range(k)]
    fields += [lambda p, j=j: affine_fields(p)[j] for j in range(6)]
    names = [f"learned V{i + 1}" for i in range(k)] + list(AFFINE_FIELD_NAMES)
    fig = plot.vector_fields(fields, names, limits=((-1.0, 1.0), (-1.0, 1.0)), n=14,
                             labels=("x", "y"), ncols=max(k, 6))
    for ax in fig.axes:
        if ax.get_xlabel() == "x":  # the field panels, not their colour bars
            ax.invert_yaxis()
    fig.suptitle("pixel fields (image rows downwards); colour: arrow length")
    return fig
