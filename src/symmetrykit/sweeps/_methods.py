"""The estimators a sweep can run, and how each one gets its data, fits and is scored.

Each :class:`SweepMethod` turns (data spec, estimator parameters, seed) into metrics and an
optional saved run directory. The seed sets both the data set's and the estimator's random
state, as ``symmetrykit discover --seed`` does. New methods can be added with
:func:`register_method`.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._config import DataSpec

__all__ = ["METHODS", "SweepMethod", "get_method", "register_method"]

# Parameters a sweep sets itself: the seed comes from 'seeds', nothing draws progress bars inside
# workers, and runs are saved by the sweep rather than checkpointed by the estimator.
_RESERVED = {"random_state", "progress", "checkpoint"}


@dataclass(frozen=True)
class SweepMethod:
    """One estimator as a sweep runs it.

    Attributes
    ----------
    name
        The name configurations use.
    estimator
        Returns the estimator class (imported lazily, inside workers).
    make_data
        ``(spec, options, seed) -> data``; ``options`` are the spec's options plus any varied
        ``data.*`` parameters.
    fit_and_score
        ``(estimator, data) -> metrics`` (a flat dict of numbers and short strings).
    data_names
        Returns the data set names this method accepts.
    default_score
        The metric summaries use when the configuration names none.
    """

    name: str
    estimator: Callable[[], type]
    make_data: Callable[[DataSpec, dict[str, Any], int], Any]
    fit_and_score: Callable[[Any, Any], dict[str, Any]]
    data_names: Callable[[], list[str]]
    default_score: str = "cos"
    description: str = ""
    aliases: tuple[str, ...] = field(default=())

    def defaults(self) -> dict[str, Any]:
        """The estimator's constructor parameters and their defaults."""
        signature = inspect.signature(self.estimator().__init__)
        return {name: (None if p.default is inspect.Parameter.empty else p.default)
                for name, p in signature.parameters.items()
                if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}

    def check_parameters(self, names: Iterable[str]) -> None:
        """Refuse parameters the estimator does not have (or that a sweep sets itself)."""
        valid = self.defaults()
        for name in names:
            if name in _RESERVED:
                raise ValueError(f"sweep config: {name!r} is set by the sweep itself "
                                 "(seeds -> random_state; progress and checkpoints are off)")
            if name not in valid:
                raise ValueError(
                    f"sweep config: {self.name} has no parameter {name!r}; known: "
                    f"{', '.join(sorted(set(valid) - _RESERVED))} (or data.<option>)")

    def check_data(self, spec: DataSpec, varied: Iterable[str] = ()) -> None:
        known = self.data_names()
        if spec.name.lower().replace("_", "-") not in known:
            raise ValueError(f"sweep config: method {self.name} does not know data set "
                             f"{spec.name!r}; choose from {', '.join(known)}")

    def build(self, params: Mapping[str, Any], seed: int) -> Any:
        """The estimator with ``params`` (integer parameters rounded, e.g. from Morris)."""
        defaults = self.defaults()
        typed = {}
        for name, value in params.items():
            default = defaults.get(name)
            if (isinstance(default, int) and not isinstance(default, bool)
                    and isinstance(value, float) and value.is_integer()):
                value = int(value)
            elif (isinstance(default, int) and not isinstance(default, bool)
                  and isinstance(value, float)):
                value = int(round(value))
            typed[name] = value
        return self.estimator()(**typed, random_state=seed, progress="none")

    def save(self, estimator: Any, directory: Path, metrics: dict[str, Any]) -> None:
        save = estimator.save
        if "metrics" in inspect.signature(save).parameters:
            save(directory, metrics=metrics)
        else:
            save(directory)


METHODS: dict[str, SweepMethod] = {}


def register_method(method: SweepMethod) -> SweepMethod:
    """Make ``method`` available to sweep configurations by its name and aliases."""
    for key in (method.name, *method.aliases):
        METHODS[key] = method
    return method


def get_method(name: Any) -> SweepMethod:
    if not isinstance(name, str) or name not in METHODS:
        known = sorted({m.name for m in METHODS.values()})
        raise ValueError(f"sweep config: unknown method {name!r}; choose from {', '.join(known)}")
    return METHODS[name]


# ----------------------------------------------------------------------------------------------
# vector data: SymmetryLens and the adversarial baselines
# ----------------------------------------------------------------------------------------------


def _vector_data_names() -> list[str]:
    from .. import datasets

    return [info.name for info in datasets.list_datasets()
            if info.name not in {"kdv", "ks", "burgers", "nkdv", "ckdv"}]


def _vector_data(spec: DataSpec, options: dict[str, Any], seed: int) -> Any:
    from .. import datasets

    options = dict(options)
    if "dim" in options and options["dim"] is not None:
        options["dim"] = int(options["dim"])
    if "n_samples" in options and options["n_samples"] is not None:
        options["n_samples"] = int(options["n_samples"])
    return datasets.make_dataset(spec.name, random_state=seed, **options)


def _lens_class() -> type:
    from ..lens import SymmetryLens

    return SymmetryLens


def _lens_fit_and_score(lens: Any, ds: Any) -> dict[str, Any]:
    from ..metrics import generator_similarity, representation_similarity

    lens.fit(ds.X)
    starts = lens.restart_starts_
    metrics: dict[str, Any] = {"final_loss": float(lens.restart_losses_[lens.best_restart_]),
                               "kept_start": starts[lens.best_restart_], "starts": starts,
                               "restart_losses": [float(v) for v in lens.restart_losses_],
                               "filter_argmax": int(np.argmax(np.abs(lens.filter_))),
                               "fit_wall_s": float(lens.fit_time_["wall_s"]),
                               "fit_cpu_s": float(lens.fit_time_["cpu_s"])}
    if ds.generator is not None:
        metrics["cos"] = generator_similarity(lens.generator_, ds.generator)
        metrics["cos2"] = generator_similarity(lens.generator_, ds.generator @ ds.generator)
        if lens.warm_start_ is not None:  # how good the kept run's start was on its own
            pad = lens.padding_
            crop = lens.warm_start_.padded_generator[pad:pad + ds.dim, pad:pad + ds.dim]
            metrics["cos_start"] = generator_similarity(crop, ds.generator)
    if ds.transform is not None:
        metrics["phi_cos"] = representation_similarity(lens.group_convolution_, ds.transform,
                                                       cyclic=ds.cyclic)
    return metrics


def _baseline(key: str, class_name: str) -> tuple[Callable[[], type], Callable]:
    def estimator() -> type:
        from .. import baselines

        return getattr(baselines, class_name)

    def fit_and_score(model: Any, ds: Any) -> dict[str, Any]:
        from ..baselines import score

        model.fit(ds.X)
        return {"cos": score(key, model, ds.generator)} if ds.generator is not None else {}

    return estimator, fit_and_score


register_method(SweepMethod(
    "symmetrylens", _lens_class, _vector_data, _lens_fit_and_score, _vector_data_names,
    description="SymmetryLens (Efe & Ozakin 2025); metrics cos, cos2, phi_cos, final_loss",
    aliases=("lens",)))
for _key, _cls, _name, _alias in (("liegan", "LieGAN", "liegan", ()),
                                  ("symgan", "SymmetryGAN", "symmetrygan", ("symgan",))):
    _estimator, _score = _baseline(_key, _cls)
    register_method(SweepMethod(
        _name, _estimator, _vector_data, _score, _vector_data_names,
        description=f"{_cls} baseline; metric cos (the common similarity of baselines.score)",
        aliases=_alias))


# ----------------------------------------------------------------------------------------------
# PDE data: generator flows (Ko, Kim & Lee 2024)
# ----------------------------------------------------------------------------------------------

_PDE_NAMES = ["kdv", "ks", "burgers", "nkdv", "ckdv"]
# The non-affine symmetry each time-dependent equation is judged on (ko2024 spec §8.4).
_NON_AFFINE = {"nkdv": "t-translation-nkdv", "ckdv": "cylindrical-galilean"}


def _flow_class() -> type:
    from ..flows import GeneratorFlow

    return GeneratorFlow


def _pde_data(spec: DataSpec, options: dict[str, Any], seed: int) -> Any:
    from ..datasets import pde

    options = {k: (int(v) if k in {"n_trajectories", "nx", "nt"} else v)
               for k, v in options.items()}
    # Data seeds are offset from fit seeds as in benchmarks/ko_pde_symmetries.py.
    return pde(spec.name, random_state=1000 + seed, **options)


def _mutual_cosines(flow: Any, data: Any, fraction: float = 0.01) -> np.ndarray:
    """Cosines between the learned slots on ``fraction`` of the data points."""
    from ..flows import pde_points

    grid = pde_points(data).reshape(-1, 3)
    rng = np.random.default_rng(0)
    points = grid[rng.choice(grid.shape[0], size=max(int(fraction * grid.shape[0]), 16),
                             replace=False)]
    values = flow.evaluate(points)
    gram = np.einsum("knd,jnd->kj", values, values) / points.shape[0]
    norms = np.sqrt(np.diag(gram))
    return gram / np.outer(norms, norms)


def _flow_fit_and_score(flow: Any, data: Any) -> dict[str, Any]:
    from ..flows import compare

    wall, cpu = time.perf_counter(), time.process_time()
    flow.fit(data)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    table = compare(flow, data)
    mutual = _mutual_cosines(flow, data)
    projection = np.sort(np.asarray(table.projection_norms, dtype=float))[::-1]
    metrics: dict[str, Any] = {f"projection_{i + 1}": float(p) for i, p in enumerate(projection)}
    galilean = np.abs(np.asarray(table.galilean, dtype=float))
    metrics["best_galilean"] = float(np.nanmax(galilean)) if galilean.size else float("nan")
    name = getattr(data, "name", "")
    if name in _NON_AFFINE:
        column = list(table.reference_names).index(_NON_AFFINE[name])
        metrics["best_non_affine"] = float(np.abs(table.inner_products[:, column]).max())
    metrics["validity"] = float(np.mean(flow.history_["validity"][-50:]))
    off_diagonal = np.abs(mutual[~np.eye(len(mutual), dtype=bool)])
    metrics["max_mutual"] = float(off_diagonal.max()) if off_diagonal.size else 0.0
    metrics["fit_wall_s"], metrics["fit_cpu_s"] = wall, cpu
    # The whole comparison, for reports that need more than the scalar scores.
    metrics["comparison"] = {
        "reference_names": list(table.reference_names), "rows": table.rows,
        "inner_products": np.asarray(table.inner_products).tolist(),
        "projection_norms": np.asarray(table.projection_norms).tolist(),
        "galilean": None if table.galilean is None else np.asarray(table.galilean).tolist(),
        "principal_angles_deg": np.degrees(table.principal_angles).tolist(),
        "identity_validity": table.identity_validity, "mutual": mutual.tolist(),
        "final_validity_per_slot": flow.history_["validity_per_slot"][-50:].mean(0).tolist(),
        "validity_gap": np.asarray(flow.validity_gap_).tolist(),
        "is_symmetry": (None if flow.is_symmetry_ is None
                        else np.asarray(flow.is_symmetry_).tolist())}
    return metrics


register_method(SweepMethod(
    "generator-flow", _flow_class, _pde_data, _flow_fit_and_score, lambda: list(_PDE_NAMES),
    default_score="best_galilean",
    description="GeneratorFlow on PDE data (Ko et al. 2024); metrics projection_k, "
    "best_galilean, best_non_affine, validity", aliases=("flow",)))
