"""The method registry: every method's estimator, data adapter, ``evaluate`` and presets.

Each method package registers its methods when it is imported (:func:`register_method`); the
command line, sweeps and benchmarks look them up here (:func:`get_method`) instead of rebuilding
pipelines of their own. The core never imports a method package directly: :func:`get_method`
imports the package named in ``_PACKAGES`` on first use.

>>> import symmetrykit as sk
>>> from symmetrykit import methods
>>> lens = methods.get_method("lens")                                       # doctest: +SKIP
>>> result = lens.run(sk.datasets.make_dataset("gaussian-translation", dim=7),
...                   preset="quick", random_state=0)                        # doctest: +SKIP
>>> result.evaluation.metrics["cos"]                                        # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Evaluation", "Method", "MethodRun", "dataset_metrics", "get_method", "integer_seed",
           "list_methods", "register_method"]

# Method name -> the package that registers it (imported on first look-up).
_PACKAGES: dict[str, str] = {
    "lens": "symmetrykit.lens",
    "flow": "symmetrykit.flows",
    "image-flow": "symmetrykit.flows",
    "liegan": "symmetrykit.baselines",
    "symmetrygan": "symmetrykit.baselines",
    "lie": "symmetrykit.liederiv",
}
_METHODS: dict[str, Method] = {}


def _flat_json(metrics: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            for sub, inner in _flat_json(value).items():
                flat[f"{key}.{sub}"] = inner
        elif hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
            flat[str(key)] = value.item()
        elif isinstance(value, float) and not math.isfinite(value):
            flat[str(key)] = None
        elif value is None or isinstance(value, (bool, int, float, str)):
            flat[str(key)] = value
        elif isinstance(value, (list, tuple)) and all(
                v is None or isinstance(v, (bool, int, float, str)) for v in value):
            flat[str(key)] = [None if isinstance(v, float) and not math.isfinite(v) else v
                              for v in value]
        else:
            raise TypeError(f"metric {key!r} is a {type(value).__name__}; metrics are scalars, "
                            "strings or lists of them")
    return flat


@dataclass
class Evaluation:
    """What ``evaluate(estimator, dataset)`` returns for every method.

    Attributes
    ----------
    method
        The method's registry name.
    metrics
        Flat JSON metrics (``{"cos": 0.999, "fit_time.cpu_s": 12.0, ...}``); nested mappings
        given to the constructor are flattened with dotted keys, non-finite floats become
        ``None``.
    figures
        ``{name: function returning a matplotlib figure}``; figures are drawn only when asked
        (:meth:`save`), so evaluating never imports matplotlib.
    lines
        Human-readable summary lines, for the command line.
    details
        Nested JSON-convertible data behind the metrics (a whole comparison table, per-slot
        arrays) for reports that need more than scalars; saved as ``evaluation.json``.
    """

    method: str
    metrics: dict[str, Any]
    figures: dict[str, Callable[[], Any]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.metrics = _flat_json(self.metrics)

    def to_json(self) -> str:
        """The metrics and details as strict JSON."""
        from .runs import to_jsonable

        return json.dumps(to_jsonable({"method": self.method, "metrics": self.metrics,
                                       "details": self.details}), indent=2, allow_nan=False)

    def to_markdown(self) -> str:
        """The metrics as a two-column markdown table."""
        rows = ["| metric | value |", "|---|---|"]
        for key, value in self.metrics.items():
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            rows.append(f"| {key} | {shown} |")
        return "\n".join(rows)

    def save(self, run: Any, *, figures: bool = True) -> None:
        """Write the metrics to ``run``'s ``metrics.json`` (merged), the whole evaluation to
        ``evaluation.json``, and draw its figures.

        ``run`` is a :class:`~symmetrykit.runs.RunDirectory` or the path of one. Every figure is
        drawn before anything is written, so a drawing that fails changes nothing; each file is
        replaced atomically. To add an evaluation to a run as one step with the run itself
        (nothing visible until both are complete), save both into
        :func:`~symmetrykit.runs.staged_directory`, as the command line does.
        """
        import sys

        from .runs import RunDirectory, atomic_write_text

        if not isinstance(run, RunDirectory):
            run = RunDirectory.open(Path(run))
        drawn: dict[str, Any] = {}
        try:
            if figures:
                for name, draw in self.figures.items():
                    drawn[name] = draw()
            try:
                saved = run.load_metrics()
            except (OSError, ValueError):
                saved = {}
            run.save_metrics({**saved, **self.metrics})
            atomic_write_text(run.path / "evaluation.json", self.to_json() + "\n")
            for name, figure in drawn.items():
                run.save_figure(figure, name)
        finally:
            # symmetrykit.plot draws without pyplot; close the figures pyplot manages.
            pyplot = sys.modules.get("matplotlib.pyplot")
            if pyplot is not None:
                for figure in drawn.values():
                    pyplot.close(figure)


@dataclass
class MethodRun:
    """A fitted estimator and its evaluation (what :meth:`Method.run` returns)."""

    estimator: Any
    evaluation: Evaluation


@dataclass(frozen=True)
class Method:
    """One registered method.

    Attributes
    ----------
    name
        Registry name (``"lens"``, ``"flow"``, ``"liegan"``, ...).
    estimator
        The estimator class (a :class:`~symmetrykit._estimator.SymmetryEstimator`).
    prepare
        Data adapter: a data set (``SymmetryDataset``, ``PDEDataset``, ...) to what ``fit``
        takes; a tuple is passed as separate arguments (``(X, y)`` for a regressor).
    evaluate
        ``evaluate(estimator, dataset) -> Evaluation``.
    description
        One line for listings.
    default_preset
        The preset :meth:`run` uses when none is named (``None``: the constructor defaults).
    """

    name: str
    estimator: type
    evaluate: Callable[[Any, Any], Evaluation]
    prepare: Callable[[Any], Any] = field(default=lambda dataset: dataset.X)
    description: str = ""
    default_preset: str | None = None

    @property
    def presets(self) -> dict[str, dict[str, Any]]:
        return self.estimator.presets()

    def make(self, preset: str | None = None, **params: Any) -> Any:
        """An unfitted estimator: the preset (or the default one) with ``params`` on top."""
        preset = self.default_preset if preset is None else preset
        if preset is None:
            return self.estimator(**params)
        return self.estimator.preset(preset, **params)

    def fit(self, estimator: Any, dataset: Any) -> Any:
        """``estimator.fit`` on the adapted ``dataset`` (a tuple is unpacked: ``fit(X, y)``)."""
        data = self.prepare(dataset)
        return estimator.fit(*data) if isinstance(data, tuple) else estimator.fit(data)

    def defaults(self) -> dict[str, Any]:
        """The parameters :meth:`make` uses when given none: constructor defaults + preset."""
        return self.make().get_params(deep=False)

    def run(self, dataset: Any, preset: str | None = None, **params: Any) -> MethodRun:
        """Fit on ``dataset`` and evaluate against its known symmetry."""
        estimator = self.fit(self.make(preset, **params), dataset)
        return MethodRun(estimator, self.evaluate(estimator, dataset))

    def replace(self, **changes: Any) -> Method:
        return dataclasses.replace(self, **changes)


def dataset_metrics(dataset: Any) -> dict[str, Any]:
    """The ``dataset.*`` block of every evaluation on a vector data set (samples ``X``).

    Name, the data set's parameters that are flat JSON values, size and whether its true
    generator is known.
    """
    def flat(value: Any) -> bool:
        if value is None or isinstance(value, (bool, int, float, str)):
            return True
        return isinstance(value, (list, tuple)) and all(
            v is None or isinstance(v, (bool, int, float, str)) for v in value)

    shape = getattr(dataset.X, "shape", None) or (len(dataset.X), len(dataset.X[0]))
    params = getattr(dataset, "params", {}) or {}
    return {"name": str(getattr(dataset, "name", "data")),
            "params": {str(k): v for k, v in params.items() if flat(v)},
            "n_samples": int(shape[0]), "dim": int(shape[1]),
            "ground_truth": getattr(dataset, "generator", None) is not None}


def integer_seed(estimator: Any) -> int | None:
    """The estimator's ``random_state`` when it is an integer (for reports), else ``None``."""
    seed = getattr(estimator, "random_state", None)
    if isinstance(seed, bool) or not hasattr(seed, "__index__"):
        return None
    return int(seed)


def register_method(method: Method) -> Method:
    """Add (or replace) a method in the registry; method packages call this on import."""
    if not isinstance(method, Method):
        raise TypeError(f"expected a Method, got {type(method).__name__}")
    _METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    """The registered method ``name``, importing its package on first use."""
    if name not in _METHODS and name in _PACKAGES:
        importlib.import_module(_PACKAGES[name])
    if name not in _METHODS:
        known = ", ".join(list_methods())
        raise ValueError(f"unknown method {name!r}; known methods: {known}")
    return _METHODS[name]


def list_methods() -> list[str]:
    """The names of all methods (registered or registrable), sorted."""
    return sorted(set(_PACKAGES) | set(_METHODS))
