"""Reading a sweep's rows: per-cell statistics over seeds and Morris elementary effects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._config import SweepConfig
from ._design import design_points, morris_problem

__all__ = ["MorrisResult", "morris_analysis", "summarize"]


def _cell_key(row: dict[str, Any], by: Sequence[str]) -> tuple:
    values = []
    for name in by:
        if name == "data":
            values.append(row["data_label"])
        elif name in ("seed", "method"):
            values.append(row[name])
        else:
            value = row["varied"].get(name, row["params"].get(name))
            values.append(value if not isinstance(value, list) else tuple(value))
    return tuple(values)


def summarize(rows: Sequence[dict[str, Any]], metric: str,
              by: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Mean, std, min and max of ``metric`` over the rows of each cell.

    Parameters
    ----------
    rows
        Sweep rows (e.g. ``SweepResult.rows``).
    metric
        A key of the rows' ``metrics``, or ``wall_s`` / ``cpu_s``.
    by
        What defines a cell: ``"data"``, ``"method"``, ``"seed"`` or parameter names. Default:
        the data set plus every varied parameter, i.e. the cells average over seeds.

    Returns
    -------
    list of dict
        One per cell, in first-seen order: the cell's values, ``n`` (successful runs with the
        metric), ``n_failed``, ``mean``, ``std`` (population), ``min``, ``max`` and the mean
        ``wall_s`` and ``cpu_s``.
    """
    rows = list(rows)
    if by is None:
        varied = list(dict.fromkeys(k for r in rows for k in r["varied"]))
        by = ["data", *varied]
    cells: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        cells.setdefault(_cell_key(row, by), []).append(row)
    summary = []
    for key, group in cells.items():
        ok = [r for r in group if r["status"] == "ok"]
        if metric in ("wall_s", "cpu_s"):
            values = [r[metric] for r in ok]
        else:
            values = [r["metrics"].get(metric) for r in ok]
        values = np.array([v for v in values if isinstance(v, (int, float))], dtype=float)
        cell = dict(zip(by, key, strict=True))
        cell.update(metric=metric, n=int(values.size), n_failed=len(group) - len(ok))
        stats = (values.mean(), values.std(), values.min(), values.max()) if values.size else (
            (float("nan"),) * 4)
        cell.update(zip(("mean", "std", "min", "max"), map(float, stats), strict=True))
        cell["wall_s"] = float(np.mean([r["wall_s"] for r in ok])) if ok else float("nan")
        cell["cpu_s"] = float(np.mean([r["cpu_s"] for r in ok])) if ok else float("nan")
        summary.append(cell)
    return summary


@dataclass(frozen=True)
class MorrisResult:
    """Morris elementary effects of one data set's score.

    ``mu`` (mean effect), ``mu_star`` (mean absolute effect: importance), ``sigma`` (spread:
    interaction or non-linearity) and ``mu_star_conf`` (bootstrap half-width of the
    ``confidence`` interval of μ*), one entry per parameter in ``names``.
    """

    data: str
    metric: str
    names: list[str]
    mu: np.ndarray
    mu_star: np.ndarray
    sigma: np.ndarray
    mu_star_conf: np.ndarray
    n_runs: int
    n_seeds: int
    confidence: float = 0.95

    def as_dict(self) -> dict[str, Any]:
        return {"data": self.data, "metric": self.metric, "n_runs": self.n_runs,
                "n_seeds": self.n_seeds, "confidence": self.confidence,
                "parameters": [{"name": n, "mu": float(m), "mu_star": float(s),
                                "sigma": float(g), "mu_star_conf": float(c)}
                               for n, m, s, g, c in zip(self.names, self.mu, self.mu_star,
                                                        self.sigma, self.mu_star_conf,
                                                        strict=True)]}

    def to_markdown(self) -> str:
        lines = [f"| parameter | μ | μ* (± {self.confidence:.0%} CI) | σ |", "|---|---|---|---|"]
        order = np.argsort(-self.mu_star)
        for i in order:
            lines.append(f"| {self.names[i]} | {self.mu[i]:+.4f} | {self.mu_star[i]:.4f} ± "
                         f"{self.mu_star_conf[i]:.4f} | {self.sigma[i]:.4f} |")
        return "\n".join(lines)


def morris_analysis(config: SweepConfig, rows: Sequence[dict[str, Any]], metric: str,
                    confidence: float = 0.95, n_resamples: int = 1000,
                    random_state: int = 0) -> list[MorrisResult]:
    """Morris μ, μ*, σ (SALib) of ``metric`` for each data set of a Morris sweep.

    The response of a design point is the mean of ``metric`` over its seeds. Every point needs
    at least one successful run; otherwise the trajectories are broken and a ``ValueError``
    names the missing points.
    """
    from SALib.analyze import morris

    if config.design.kind != "morris":
        raise ValueError(f"Morris analysis needs a morris design, this sweep's is "
                         f"{config.design.kind!r}")
    points = design_points(config.design)
    matrix = np.array([[p[n] for n in config.design.names] for p in points], dtype=float)
    results = []
    for spec in config.data:
        label = spec.label()
        responses: list[list[float]] = [[] for _ in points]
        for row in rows:
            value = row["metrics"].get(metric) if row["status"] == "ok" else None
            if row["data_label"] == label and isinstance(value, (int, float)):
                responses[row["point"]].append(float(value))
        missing = [i for i, values in enumerate(responses) if not values]
        if missing:
            raise ValueError(f"{label}: design points {missing} have no successful run with "
                             f"metric {metric!r}; finish the sweep (resume, retry_failed) first")
        y = np.array([np.mean(v) for v in responses])
        analysis = morris.analyze(morris_problem(config.design), matrix, y,
                                  num_resamples=n_resamples, conf_level=confidence,
                                  num_levels=config.design.levels, seed=random_state)
        results.append(MorrisResult(
            data=label, metric=metric, names=list(config.design.names),
            mu=np.asarray(analysis["mu"], dtype=float),
            mu_star=np.asarray(analysis["mu_star"], dtype=float),
            sigma=np.asarray(analysis["sigma"], dtype=float),
            mu_star_conf=np.asarray(analysis["mu_star_conf"], dtype=float),
            n_runs=sum(len(v) for v in responses), n_seeds=len(config.seeds),
            confidence=confidence))
    return results
