"""symmetrykit.lens.evaluate, the method registry entry "lens" and the lens presets."""

from __future__ import annotations

import json

import numpy as np
import pytest

import symmetrykit as sk
from symmetrykit.lens import SymmetryLens, evaluate, ground_truth_monitor

pytestmark = pytest.mark.usefixtures("single_thread")

TINY = {"n_steps": 10, "warmup_steps": 2, "batch_size": 70, "log_every": 5, "progress": "none",
        "random_state": 0}


@pytest.fixture(scope="module")
def dataset():
    return sk.datasets.local_signals(n_samples=1000, dim=7, symmetry="permuted", random_state=0)


@pytest.fixture(scope="module")
def fitted(dataset):
    return SymmetryLens(**TINY).fit(dataset.X, monitor=ground_truth_monitor(dataset))


def test_metrics_match_the_direct_computations(fitted, dataset):
    result = evaluate(fitted, dataset)
    m = result.metrics
    assert result.method == "lens"
    truth = dataset.generator
    assert m["cos"] == sk.generator_similarity(fitted.generator_, truth)
    assert m["cos2"] == sk.generator_similarity(fitted.generator_, truth @ truth)
    assert m["phi_cos"] == sk.metrics.representation_similarity(
        fitted.group_convolution_, dataset.transform, cyclic=dataset.cyclic)
    assert m["ground_truth_similarity.self"] == pytest.approx(1.0)
    pad = fitted.padding_
    crop = fitted.warm_start_.padded_generator[pad:pad + 7, pad:pad + 7]
    assert m["cos_start"] == sk.generator_similarity(crop, truth)
    assert m["final_loss"] == fitted.history_["loss"][-1]
    assert m["restart_losses"] == fitted.restart_losses_
    assert m["starts"] == fitted.restart_starts_
    assert m["kept_run"] == fitted.best_restart_
    assert m["kept_start"] == fitted.restart_starts_[fitted.best_restart_]
    assert m["kept_loss"] == fitted.restart_losses_[fitted.best_restart_]
    assert m["fit_time.wall_s"] == fitted.fit_time_["wall_s"]
    assert m["fit_time.cpu_s"] == fitted.fit_time_["cpu_s"]
    assert m["steps"] == 10 and m["seed"] == 0 and m["device"] == "cpu"
    assert m["filter_argmax"] == int(np.argmax(np.abs(fitted.filter_)))
    assert m["filter_centre"] == 3
    assert m["dataset.name"] == "gaussian-permuted" and m["dataset.dim"] == 7
    assert m["dataset.n_samples"] == 1000 and m["dataset.ground_truth"] is True
    # flat, strict JSON
    assert json.loads(result.to_json())["metrics"] == m
    assert "| cos |" in result.to_markdown()
    assert result.lines[1].startswith("cos ") and any("(kept)" in line for line in result.lines)


def test_the_monitor_records_the_ground_truth_similarities(fitted, dataset):
    history = fitted.history_
    assert {"cos", "cos2", "phi_cos"} <= set(history)
    assert len(history["cos"]) == len(history["step"])
    monitor = ground_truth_monitor(dataset)
    values = monitor(fitted.generator_, fitted.group_convolution_)
    assert values["cos"] == evaluate(fitted, dataset).metrics["cos"]
    assert ground_truth_monitor(sk.datasets.SymmetryDataset(dataset.X)) is None


def test_without_ground_truth_only_the_unsupervised_metrics(fitted, dataset):
    bare = sk.datasets.SymmetryDataset(dataset.X, name="bare")
    result = evaluate(fitted, bare)
    assert not {"cos", "cos2", "phi_cos", "cos_start"} & set(result.metrics)
    assert result.metrics["dataset.ground_truth"] is False
    assert set(result.figures) == {"generator", "group_convolution", "loss_curves",
                                   "before_after"}


@pytest.mark.slow
def test_figures_are_drawn_only_when_asked(fitted, dataset, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    result = evaluate(fitted, dataset)
    assert set(result.figures) == {"generator", "error_histogram", "group_convolution",
                                   "loss_curves", "before_after"}
    run = sk.runs.RunDirectory.open(fitted.save(tmp_path / "run"))
    result.save(run)
    assert sorted(p.stem for p in run.figures()) == sorted(result.figures)
    assert run.load_metrics()["cos"] == result.metrics["cos"]


def test_evaluate_refuses_an_unfitted_lens(dataset):
    with pytest.raises(ValueError, match="not fitted"):
        evaluate(SymmetryLens(), dataset)


@pytest.mark.slow
def test_the_lens_method_is_registered_with_a_quick_preset(dataset):
    method = sk.get_method("lens")
    assert method.estimator is SymmetryLens and method.evaluate is evaluate
    assert method.prepare(dataset) is dataset.X
    assert SymmetryLens.presets() == {"quick": {"n_steps": 500}}
    assert SymmetryLens.preset("quick", random_state=3).get_params()["n_steps"] == 500
    run = method.run(dataset, preset="quick", **TINY)
    assert run.estimator.n_steps == 10
    np.testing.assert_array_equal(run.estimator.generator_,
                                  SymmetryLens(**TINY).fit(dataset.X).generator_)
    assert run.evaluation.metrics["cos"] == evaluate(run.estimator, dataset).metrics["cos"]
