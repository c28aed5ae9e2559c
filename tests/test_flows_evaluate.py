"""flows.evaluate on PDE data, the registered methods and the shared principal angles."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

import symmetrykit as sk
from symmetrykit.datasets import pde
from symmetrykit.flows import GeneratorFlow, compare, evaluate, field_similarity
from symmetrykit.metrics import algebra_distance, principal_angles

matplotlib.use("Agg")
SMALL = dict(n_generators=2, hidden=(8,), n_iterations=2, batch_size=1, patch_shape=(10, 16),
             random_state=0)


@pytest.fixture(scope="module")
def nkdv():
    return pde("nkdv", n_trajectories=2, nt=20, random_state=0)


@pytest.fixture(scope="module")
def fitted(nkdv):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return GeneratorFlow.preset("pde-cpu", **SMALL).fit(nkdv)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.slow
def test_evaluate_reports_the_comparison_flat(fitted, nkdv, tmp_path: Path) -> None:
    result = evaluate(fitted, nkdv)
    assert result.method == "flow"
    metrics = result.metrics
    table = compare(fitted, nkdv, random_state=0)
    np.testing.assert_array_equal(metrics["projection_norms"], table.projection_norms)
    assert metrics["projection_1"] == max(table.projection_norms)
    assert metrics["reference_names"] == list(table.reference_names)
    name = table.reference_names[0]
    assert metrics[f"inner_products.V2.{name}"] == table.inner_products[1, 0]
    np.testing.assert_allclose(metrics["principal_angles_deg"],
                               np.degrees(table.principal_angles))
    assert metrics["validity"] == list(table.validity)
    assert metrics["best_non_affine"] == np.abs(table.inner_products[
        :, list(table.reference_names).index("t-translation-nkdv")]).max()
    assert metrics["is_symmetry"] == list(fitted.is_symmetry_)
    assert len(metrics["mutual.V1"]) == 2 and metrics["max_mutual"] >= 0
    assert metrics["fit_time.wall_s"] == fitted.fit_time_["wall_s"]
    assert metrics["final_loss"] == fitted.history_["loss"][-1]
    assert result.to_json() and "projection" in "\n".join(result.lines)
    run = sk.RunDirectory.create(tmp_path / "run", {"method": "flow"})
    result.save(run)
    assert {path.stem for path in run.figures()} == {"generators", "loss_curves"}
    assert run.load_metrics()["projection_1"] == metrics["projection_1"]


@pytest.mark.slow
def test_evaluate_refuses_what_it_cannot_score(fitted, nkdv) -> None:
    with pytest.raises(TypeError, match="PDEDataset"):
        evaluate(fitted, np.zeros((2, 3, 3)))
    with pytest.raises(TypeError, match="GeneratorFlow or ImageGeneratorFlow"):
        evaluate(object(), nkdv)
    with pytest.raises(ValueError, match="not fitted"):
        evaluate(GeneratorFlow(), nkdv)


@pytest.mark.slow
def test_the_methods_are_registered(nkdv, single_thread) -> None:
    method = sk.get_method("flow")
    assert method.estimator is GeneratorFlow and method.default_preset == "pde-cpu"
    assert method.prepare(nkdv) is nkdv
    assert method.make().get_params() == GeneratorFlow.preset("pde-cpu").get_params()
    run = method.run(nkdv, **SMALL)
    assert run.estimator.n_steps == 2 and run.evaluation.metrics["data.name"] == "nkdv"
    image = sk.get_method("image-flow")
    assert image.estimator is sk.ImageGeneratorFlow and image.default_preset == "mnist"


def test_principal_angles_have_one_home() -> None:
    rng = np.random.default_rng(0)
    true = rng.normal(size=(3, 50, 2))
    learned = np.einsum("kj,jnd->knd", rng.normal(size=(2, 3)), true)
    learned[1] += 0.3 * rng.normal(size=(50, 2))
    similarity = field_similarity(learned, true)
    angles = principal_angles(learned.reshape(2, -1), true.reshape(3, -1))
    np.testing.assert_allclose(similarity.principal_angles, angles, atol=1e-12)
    assert angles[0] < 1e-7 < angles[1]
    # Generators compared as vectors in R^{d^2}: the same computation.
    a, b = rng.normal(size=(2, 3, 3)), rng.normal(size=(3, 3, 3))
    np.testing.assert_array_equal(algebra_distance(a, b),
                                  principal_angles(a.reshape(2, -1), b.reshape(3, -1)))
