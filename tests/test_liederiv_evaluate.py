"""``symmetrykit.liederiv.evaluate`` and the registered method ``"lie"``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import symmetrykit as sk
from symmetrykit._methods import Evaluation, get_method
from symmetrykit.liederiv import (
    EquivariantRegressor,
    PolynomialDictionary,
    PromotedRegressor,
    RegressionData,
    discover,
    discovery_metrics,
    evaluate,
)

pytestmark = pytest.mark.usefixtures("single_thread")


def ortho_data(m: int = 4, n: int = 12, seed: int = 0) -> RegressionData:
    """``F(x) = 1 + (uᵀx)²``: invariant under the translations orthogonal to ``u``."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=m)
    u /= np.linalg.norm(u)
    X = rng.uniform(-1, 1, (n, m))
    library = PolynomialDictionary(m, 2)
    dense = rng.uniform(-1, 1, (4 * library.n_terms, m))
    coef = np.linalg.lstsq(library.transform(dense), 1 + (dense @ u) ** 2, rcond=None)[0]
    complement = np.linalg.svd(u[None])[2][1:]  # (m − 1, m), orthonormal, ⊥ u
    truth = np.zeros((m - 1, m + 1, m + 1))
    truth[:, :m, m] = complement
    return RegressionData(X, 1 + (X @ u) ** 2, symmetry=sk.lie.LieAlgebra(truth, affine=True),
                          coef=coef[None], name="ortho")


def test_promoted_model_recovers_the_true_symmetry() -> None:
    data = ortho_data()
    model = PromotedRegressor(degree=2, algebra=sk.lie.translations(4), gamma=None,
                              random_state=0).fit(data.X, data.y)
    result = evaluate(model, data)
    assert isinstance(result, Evaluation) and result.method == "lie"
    metrics = result.metrics
    # Among all affine fields the fitted invariant keeps 3 translations, the rotations fixing u
    # and every linear map with uᵀA = 0: 15 exact symmetries, the true 3 among them.
    assert metrics["nullity"] == 15 and metrics["expected"] == 3
    assert metrics["largest_principal_angle"] < 1e-6
    assert metrics["recovered"] and metrics["coef_error"] < 1e-8
    assert metrics["rmse"] < 1e-10
    assert metrics["max_relative_lie_derivative"] > 0.1  # t(4) itself is not all symmetric
    assert set(metrics) >= {"fit_time.wall_s", "fit_time.cpu_s", "gap", "closure_residual"}
    json.loads(result.to_json())
    assert "| nullity | 15 |" in result.to_markdown()
    assert any("true symmetry" in line for line in result.lines)


@pytest.mark.slow
def test_enforced_model_and_its_figure(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.5, 1.5, size=(15, 2))
    J = np.array([[0.0, -1.0], [1.0, 0.0]])
    Y = (1 - (X**2).sum(axis=1, keepdims=True)) * X + 0.5 * X @ J.T
    model = EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=0).fit(X, Y)
    result = evaluate(model, RegressionData(X, Y, symmetry=sk.lie.so(2)))
    assert result.metrics["nullity"] == 1 and result.metrics["expected"] == 1
    assert result.metrics["largest_principal_angle"] < 1e-8
    assert result.metrics["n_free_parameters"] == 4
    assert result.metrics["max_relative_lie_derivative"] < 1e-12
    from symmetrykit.runs import RunDirectory

    run = RunDirectory.create(tmp_path / "run", {"command": "test"})
    result.save(run)
    assert (tmp_path / "run" / "figures" / "spectrum.png").is_file()
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["nullity"] == 1


def test_registered_method_runs_the_pipeline() -> None:
    method = get_method("lie")
    assert method.estimator is PromotedRegressor
    data = ortho_data(seed=1)
    run = method.run(data, algebra=sk.lie.translations(4), gamma=None, random_state=0)
    assert run.evaluation.metrics["recovered"]
    assert run.evaluation.metrics["largest_principal_angle"] < 1e-6


def test_discovery_metrics_of_an_exact_model() -> None:
    X = np.random.default_rng(0).uniform(-1, 1, (50, 3))
    result = discover(lambda x: (x**2).sum(axis=1), X, sk.lie.gl(3))
    metrics = discovery_metrics(result, sk.lie.so(3))
    assert (metrics["nullity"], metrics["expected"], metrics["candidates"]) == (3, 3, 9)
    assert metrics["largest_principal_angle"] < 1e-12
    assert metrics["largest_null_value"] < 1e-12 < metrics["smallest_other_value"]
    assert "expected" not in discovery_metrics(result)


def test_regression_data_is_checked() -> None:
    with pytest.raises(ValueError, match="y must have shape"):
        RegressionData(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        RegressionData(np.zeros((4, 2)), np.full(4, np.nan))
    with pytest.raises(ValueError, match="LieAlgebra"):
        RegressionData(np.zeros((4, 2)), np.zeros(4), symmetry=np.eye(2))
