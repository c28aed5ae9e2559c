"""The estimators a sweep can run, and how each one gets its data, fits and is scored.

Each :class:`SweepMethod` turns (data spec, estimator parameters, seed) into metrics and an
optional saved run directory. The seed sets both the data set's and the estimator's random
state, as ``symmetrykit discover --seed`` does. New methods can be added with
:func:`register_method`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._config import DataSpec

__all__ = ["METHODS", "SweepMethod", "get_method", "register_method"]

# Parameters a sweep sets itself: the seed comes from 'seeds', nothing draws progress bars inside
# workers, and runs are saved by the sweep rather than checkpointed by the estimator.
_RESERVED = {"random_state", "progress", "checkpoint"}


@dataclass(frozen=True)
class SweepMethod:
    """One registered method (:func:`symmetrykit.get_method`) as a sweep runs it.

    The estimator, its default preset, the data adapter and ``evaluate`` come from the method
    registry, so a sweep fits and scores exactly as the Python API and the command line do.

    Attributes
    ----------
    name
        The name configurations use.
    registry_name
        The method's name in :mod:`symmetrykit._methods` (``"lens"``, ``"flow"``, ...).
    make_data
        ``(spec, options, seed) -> data``; ``options`` are the spec's options plus any varied
        ``data.*`` parameters.
    data_names
        Returns the data set names this method accepts.
    default_score
        The metric summaries use when the configuration names none.
    """

    name: str
    registry_name: str
    make_data: Callable[[DataSpec, dict[str, Any], int], Any]
    data_names: Callable[[], list[str]]
    default_score: str = "cos"
    description: str = ""
    aliases: tuple[str, ...] = field(default=())

    def method(self) -> Any:
        """The registered method (imported lazily, inside workers)."""
        from .._methods import get_method

        return get_method(self.registry_name)

    def estimator(self) -> type:
        return self.method().estimator

    def defaults(self) -> dict[str, Any]:
        """The estimator's parameters as a sweep builds it: constructor defaults + preset."""
        return self.method().defaults()

    def fit_and_score(self, estimator: Any, data: Any) -> dict[str, Any]:
        """Fit ``estimator`` on ``data`` and return the method's evaluation as metrics.

        The flat metrics of ``evaluate``, its nested details (e.g. the whole flow comparison)
        and ``fit_wall_s`` / ``fit_cpu_s``.
        """
        method = self.method()
        method.fit(estimator, data)
        evaluation = method.evaluate(estimator, data)
        metrics: dict[str, Any] = {**evaluation.metrics, **evaluation.details}
        fit_time = getattr(estimator, "fit_time_", None) or {}
        metrics["fit_wall_s"] = float(fit_time.get("wall_s", float("nan")))
        metrics["fit_cpu_s"] = float(fit_time.get("cpu_s", float("nan")))
        return metrics

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
                    and isinstance(value, float)):
                value = int(value) if value.is_integer() else int(round(value))
            typed[name] = value
        return self.method().make(None, **typed, random_state=seed, progress="none")

    def save(self, estimator: Any, directory: Path, metrics: dict[str, Any]) -> None:
        estimator.save(directory, metrics=metrics)


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
    """Sets of samples ``X`` (what SymmetryLens takes)."""
    from .. import datasets

    return [info.name for info in datasets.list_datasets()
            if getattr(info, "kind", "vectors") == "vectors"
            and info.name not in datasets.PDE_NAMES]


def _adversarial_data_names() -> list[str]:
    """Samples ``X`` or pairs ``(X, Y)`` (what LieGAN and SymmetryGAN take)."""
    from .. import datasets

    return [info.name for info in datasets.list_datasets()
            if info.name not in datasets.PDE_NAMES]


def _vector_data(spec: DataSpec, options: dict[str, Any], seed: int) -> Any:
    from .. import datasets

    options = dict(options)
    if "dim" in options and options["dim"] is not None:
        options["dim"] = int(options["dim"])
    if "n_samples" in options and options["n_samples"] is not None:
        options["n_samples"] = int(options["n_samples"])
    return datasets.make_dataset(spec.name, random_state=seed, **options)


register_method(SweepMethod(
    "symmetrylens", "lens", _vector_data, _vector_data_names,
    description="SymmetryLens (Efe & Ozakin 2025); metrics cos, cos2, phi_cos, final_loss",
    aliases=("lens",)))
register_method(SweepMethod(
    "liegan", "liegan", _vector_data, _adversarial_data_names,
    description="LieGAN baseline; metric cos (the common similarity of baselines.score)"))
register_method(SweepMethod(
    "symmetrygan", "symmetrygan", _vector_data, _adversarial_data_names,
    description="SymmetryGAN baseline; metric cos (the common similarity of baselines.score)",
    aliases=("symgan",)))


# ----------------------------------------------------------------------------------------------
# PDE data: generator flows (Ko, Kim & Lee 2024)
# ----------------------------------------------------------------------------------------------

def _pde_names() -> list[str]:
    from ..datasets import PDE_NAMES

    return list(PDE_NAMES)


def _pde_data(spec: DataSpec, options: dict[str, Any], seed: int) -> Any:
    from ..datasets import pde

    options = {k: (int(v) if k in {"n_trajectories", "nx", "nt"} else v)
               for k, v in options.items()}
    # Data seeds are offset from fit seeds as in benchmarks/ko_pde_symmetries.py.
    return pde(spec.name, random_state=1000 + seed, **options)


register_method(SweepMethod(
    "generator-flow", "flow", _pde_data, _pde_names,
    default_score="best_galilean",
    description="GeneratorFlow on PDE data (Ko et al. 2024); metrics projection_k, "
    "best_galilean, best_non_affine, final_validity", aliases=("flow",)))


# ----------------------------------------------------------------------------------------------
# Lie-derivative discovery (Otto et al.): from a model of pairs, or closed form from PDE data
# ----------------------------------------------------------------------------------------------

def _discovery_names() -> list[str]:
    return ["two-body", "rotation-invariant", *_pde_names()]


def _discovery_data(spec: DataSpec, options: dict[str, Any], seed: int) -> Any:
    if spec.name in _pde_names():
        return _pde_data(spec, options, seed)
    return _vector_data(spec, options, seed)


@dataclass(frozen=True)
class _DiscoveryMethod(SweepMethod):
    """No estimator class in the method registry: :class:`LieDiscoveryRun` is built directly."""

    def defaults(self) -> dict[str, Any]:
        from ._discovery import LieDiscoveryRun

        return LieDiscoveryRun().get_params()

    def build(self, params: Mapping[str, Any], seed: int) -> Any:
        from ._discovery import LieDiscoveryRun

        return LieDiscoveryRun(**dict(params), random_state=seed)

    def fit_and_score(self, estimator: Any, data: Any) -> dict[str, Any]:
        estimator.fit(data)
        return {**estimator.metrics_, "fit_wall_s": estimator.fit_time_["wall_s"],
                "fit_cpu_s": estimator.fit_time_["cpu_s"]}

    def save(self, estimator: Any, directory: Path, metrics: dict[str, Any]) -> None:
        estimator.save(directory, metrics)


register_method(_DiscoveryMethod(
    "lie-discovery", "lie", _discovery_data, _discovery_names, default_score="recovery",
    description="Lie-derivative discovery (Otto et al.): the symmetries of a polynomial model "
    "of pairs x → y, or closed form from PDE trajectories; metric recovery"))
