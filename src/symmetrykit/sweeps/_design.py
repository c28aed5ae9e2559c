"""Design points: each run's parameter values, from a grid, random draws or Morris trajectories."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ._config import Design

__all__ = ["design_points", "morris_problem"]


def morris_problem(design: Design) -> dict[str, Any]:
    """The SALib problem dictionary of a Morris design."""
    return {"num_vars": len(design.parameters), "names": design.names,
            "bounds": [list(map(float, b)) for b in design.parameters.values()]}


def _morris_matrix(design: Design) -> np.ndarray:
    try:
        from SALib.sample import morris
    except ImportError as exc:  # pragma: no cover - SALib comes with the sweep extra
        raise ImportError("Morris designs need SALib: pip install 'symmetrykit[sweep]'") from exc
    return morris.sample(morris_problem(design), N=design.trajectories,
                         num_levels=design.levels, seed=design.random_state)


def _draw(spec: dict[str, Any], rng: np.random.Generator) -> Any:
    if "choices" in spec:
        return spec["choices"][int(rng.integers(len(spec["choices"])))]
    low, high = float(spec["low"]), float(spec["high"])
    if spec.get("log", False):
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return float(rng.uniform(low, high))


def _plain(value: Any) -> Any:
    # Values end up in JSON and in estimator parameters: no numpy scalars.
    return value.item() if isinstance(value, np.generic) else value


def design_points(design: Design) -> list[dict[str, Any]]:
    """The varied parameters of each design point, in a fixed order.

    Morris points keep SALib's trajectory order, which the elementary-effects analysis needs.
    """
    if design.kind == "none":
        return [{}]
    names = design.names
    if design.kind == "grid":
        return [dict(zip(names, map(_plain, values), strict=True))
                for values in itertools.product(*design.parameters.values())]
    if design.kind == "random":
        rng = np.random.default_rng(design.random_state)
        return [{name: _draw(design.parameters[name], rng) for name in names}
                for _ in range(design.n_points)]
    if design.kind == "morris":
        matrix = _morris_matrix(design)
        return [{name: float(value) for name, value in zip(names, row, strict=True)}
                for row in matrix]
    raise ValueError(f"unknown design kind {design.kind!r}")
