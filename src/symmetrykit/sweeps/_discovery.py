"""Lie-derivative discovery as a sweep method: from a fitted model of pairs, or from PDE data.

Otto et al.'s "discover" step needs no training loop, so a sweep runs it through a small
estimator-like object, :class:`LieDiscoveryRun`, that knows the two kinds of data it applies to:

* **pairs** ``x → y`` (:class:`~symmetrykit.datasets.TwoBodyPairs`): a polynomial model
  ``y ≈ F(x)`` (:class:`~symmetrykit.liederiv.PromotedRegressor`, no penalty) is fitted on the
  data's own linear span (the two-body states fill a 4-dimensional subspace of R⁸: the centre of
  mass is fixed), and the linear fields ``ξ`` with ``L_ξ F = 0`` — ``F(e^{sξ} x) = e^{sξ} F(x)``,
  one transformation acting on input and output — are the discovered symmetries
  (:func:`~symmetrykit.liederiv.discover` over ``gl``, cut at the largest spectral gap of at
  least ``gap_ratio``; the model is not exactly symmetric, so the gap is finite);
* **samples of a continuous symmetry** (a :class:`~symmetrykit.datasets.SymmetryDataset` whose
  ``params`` carry the ``algebra_element``, e.g. ``rotation-invariant``): the symmetries of the
  data's distribution itself (:func:`~symmetrykit.liederiv.discover_density`, weak form, cubic
  test functions, over ``gl``), no model needed;
* **PDE trajectories** (:class:`~symmetrykit.datasets.PDEDataset`): the closed-form point
  symmetries of the identified equation (:func:`~symmetrykit.liederiv.discover_pde`).

Both report ``recovery``: the cosine of the largest principal angle between the true symmetries
and the span found (1 when every true generator lies in it, 0 when fewer were found than exist),
the number the benchmark matrix compares across methods.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LieDiscoveryRun", "span_recovery"]


def span_recovery(found: np.ndarray, truth: np.ndarray) -> float:
    """``cos`` of the largest principal angle between the true rows and the found rows' span.

    ``found`` ``(k, n)`` and ``truth`` ``(m, n)`` are stacks of flattened generators or sampled
    fields; 0 when ``k < m`` (a true generator is missing) or nothing was found.
    """
    from ..metrics import principal_angles

    found = np.atleast_2d(np.asarray(found, dtype=np.float64))
    truth = np.atleast_2d(np.asarray(truth, dtype=np.float64))
    if found.size == 0 or found.shape[0] < truth.shape[0]:
        return 0.0
    angles = principal_angles(found, truth, rtol=1e-10)
    if angles.size < truth.shape[0]:
        return 0.0
    return float(np.cos(np.max(angles)))


class LieDiscoveryRun:
    """Discover the symmetries of data (pairs or PDE trajectories) by Lie derivatives.

    Parameters
    ----------
    degree
        Pairs: the degree of the polynomial model ``y ≈ F(x)`` (default 3); samples: of the
        test functions (default 3); PDE data: of the generator library (default 2,
        :func:`~symmetrykit.liederiv.discover_pde`).
    gap_ratio
        Pairs: the smallest spectral gap that separates symmetries (default 10, as
        ``discover_pde``'s ``min_gap``; the model of a non-polynomial flow map is symmetric only
        up to its fitting error, so the gap is of order 10–100, not 1e3); PDE data: ``min_gap``.
    n_points
        Points the Lie derivative is sampled at (pairs: at most this many data points).
    random_state
        Seed for the fit's random draws.

    Attributes
    ----------
    result_
        The :class:`~symmetrykit.liederiv.LieDiscovery` (pairs) or
        :class:`~symmetrykit.liederiv.PDEDiscovery` (PDE data).
    metrics_
        ``kind``, ``nullity``, ``singular_values``, ``gap``, ``recovery`` and what each kind adds.
    fit_time_
        ``{"wall_s", "cpu_s"}``.
    """

    def __init__(self, degree: int | None = None, gap_ratio: float = 10.0,
                 n_points: int = 2000, random_state: Any = None):
        self.degree = degree
        self.gap_ratio = gap_ratio
        self.n_points = n_points
        self.random_state = random_state

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {"degree": self.degree, "gap_ratio": self.gap_ratio, "n_points": self.n_points,
                "random_state": self.random_state}

    def fit(self, data: Any) -> LieDiscoveryRun:
        from ..datasets import PDEDataset

        wall0, cpu0 = time.perf_counter(), time.process_time()
        params = getattr(data, "params", None) or {}
        if getattr(data, "Y", None) is not None:
            self.metrics_ = self._fit_pairs(np.asarray(data.X), np.asarray(data.Y),
                                            np.asarray(data.generator), data.span_basis())
        elif isinstance(data, PDEDataset):
            self.metrics_ = self._fit_pde(data)
        elif "algebra_element" in params:
            self.metrics_ = self._fit_density(np.asarray(data.X),
                                              np.asarray(params["algebra_element"], dtype=float))
        else:
            raise ValueError(f"Lie-derivative discovery in a sweep takes pairs (x, y), samples "
                             f"of a continuous symmetry or PDE trajectories, got "
                             f"{type(data).__name__} {getattr(data, 'name', '')!r}")
        self.fit_time_ = {"wall_s": time.perf_counter() - wall0,
                          "cpu_s": time.process_time() - cpu0}
        return self

    def _fit_pairs(self, X: np.ndarray, Y: np.ndarray, truth: np.ndarray,
                   basis: np.ndarray) -> dict[str, Any]:
        from ..lie import gl
        from ..liederiv import PromotedRegressor, discover

        rank = basis.shape[1]  # the data's own linear span (TwoBodyPairs.span_basis)
        x, y = X @ basis, Y @ basis
        degree = 3 if self.degree is None else int(self.degree)
        candidates = gl(rank)
        model = PromotedRegressor(degree=degree, algebra=candidates, output_algebra=candidates,
                                  gamma=None, random_state=self.random_state).fit(x, y)
        rng = np.random.default_rng(self.random_state)
        points = x[rng.choice(len(x), size=min(int(self.n_points), len(x)), replace=False)]
        result = discover(model, points, candidates, output_algebra=candidates,
                          gap_ratio=float(self.gap_ratio))
        # Back to the original coordinates: a field on the span, zero across it.
        found = np.einsum("ia,kab,jb->kij", basis, np.asarray(result.algebra.generators),
                          basis) if result.nullity else np.zeros((0, *truth.shape))
        self.result_ = result
        self.generators_ = found
        values = np.asarray(result.singular_values)
        # Only the truth's action on the data's span is observable (as for every method).
        projector = basis @ basis.T
        truth = projector @ truth @ projector
        return {
            "kind": "pairs",
            "span_rank": rank,
            "degree": degree,
            "model_rmse": float(np.sqrt(np.mean((model.predict(x) - y) ** 2))),
            "nullity": int(result.nullity),
            "gap": float(result.gap),
            "singular_values": (values / values.max()).tolist(),
            "recovery": span_recovery(found.reshape(len(found), truth.size),
                                      truth.reshape(1, -1)),
            "cos_on_span": (abs(float(np.sum(found[0] * truth) / np.linalg.norm(found[0])
                                 / np.linalg.norm(truth))) if result.nullity else 0.0),
        }

    def _fit_density(self, X: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
        from ..lie import gl
        from ..liederiv import discover_density

        degree = 3 if self.degree is None else int(self.degree)
        result = discover_density(X, gl(X.shape[1]), degree=degree,
                                  gap_ratio=float(self.gap_ratio))
        found = (np.asarray(result.algebra.generators) if result.nullity
                 else np.zeros((0, *truth.shape)))
        self.result_ = result
        self.generators_ = found
        values = np.asarray(result.singular_values)
        return {
            "kind": "density",
            "degree": degree,
            "nullity": int(result.nullity),
            "gap": float(result.gap),
            "singular_values": (values / values.max()).tolist(),
            "recovery": span_recovery(found.reshape(len(found), truth.size),
                                      truth.reshape(1, -1)),
        }

    def _fit_pde(self, data: Any) -> dict[str, Any]:
        from ..liederiv import discover_pde
        from ..liederiv._pde_discover import _sampled

        degree = 2 if self.degree is None else int(self.degree)
        result = discover_pde(data.u, data.x, data.t, degree=degree, min_gap=self.gap_ratio,
                              random_state=self.random_state)
        self.result_ = result
        truth = list(data.reference_symmetries)
        points = result.details["_points"]
        recovery = 0.0
        if result.nullity:
            recovery = span_recovery(_sampled(result.symmetries, points, result.scales),
                                     _sampled(truth, points, result.scales))
        return {
            "kind": "pde",
            "degree": degree,
            "equation": result.equation.formula(),
            "nullity": int(result.nullity),
            "gap": float(result.gap),
            "formulas": list(result.formulas),
            "singular_values": np.asarray(result.singular_values).tolist(),
            "reference": [s.name for s in truth],
            "recovery": recovery,
        }

    def save(self, directory: Path, metrics: dict[str, Any]) -> None:
        """A run directory: ``config.json``, ``metrics.json`` and the result's arrays."""
        from ..runs import RunDirectory, staged_directory, to_jsonable

        with staged_directory(directory) as stage:
            run = RunDirectory.create(stage, {"method": "lie-discovery", **self.get_params()})
            run.save_metrics(json.loads(json.dumps(to_jsonable(metrics))))
            if self.metrics_["kind"] in ("pairs", "density"):
                run.save_arrays(generators=np.asarray(self.generators_, dtype=np.float64),
                                singular_values=np.asarray(self.result_.singular_values))
            else:
                run.save_arrays(singular_values=np.asarray(self.result_.singular_values),
                                coefficients=np.asarray(self.result_.coefficients))
