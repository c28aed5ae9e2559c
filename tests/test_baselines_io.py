"""LieGAN and SymmetryGAN: run directories (current and format 1), evaluate and the registry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.linalg import expm

import symmetrykit as sk
from symmetrykit.baselines import LieGAN, SymmetryGAN, evaluate

LEGACY = Path(__file__).parent / "data" / "legacy"
TINY = {"n_steps": 12, "batch_size": 32, "log_every": 4, "progress": "none", "random_state": 0}

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def dataset():
    return sk.datasets.local_signals(n_samples=500, dim=5, random_state=0)


@pytest.mark.parametrize("cls", [SymmetryGAN, LieGAN])
def test_save_and_load_round_trip(cls, dataset, tmp_path):
    model = cls(**TINY).fit(dataset.X)
    path = model.save(tmp_path / "run", metrics={"note": 1})
    for loaded in (cls.load(path), sk.load(path)):
        assert type(loaded) is cls
        np.testing.assert_array_equal(loaded.generator_, model.generator_)
        assert loaded.history_ == model.history_
        assert loaded.get_params() == model.get_params()
        assert (loaded.mean_, loaded.scale_, loaded.n_steps_) == (model.mean_, model.scale_, 12)
        assert loaded.fit_time_ == pytest.approx(model.fit_time_)
        assert set(loaded.fit_time_) == {"wall_s", "cpu_s", "monitor_s"}
        if cls is LieGAN:
            np.testing.assert_array_equal(loaded.generators_, model.generators_)
            np.testing.assert_array_equal(loaded.algebra_.generators, model.generators_)
        else:
            np.testing.assert_array_equal(loaded.transform(dataset.X), model.transform(dataset.X))
    config = sk.runs.RunDirectory.open(path).config()
    assert config["estimator"] == cls.__name__ and config["format_version"] == 2
    assert "algebra_" not in json.dumps(config)  # rebuilt from generators_, never saved
    with pytest.raises(FileExistsError):
        model.save(path)  # never overwritten silently
    other = LieGAN if cls is SymmetryGAN else SymmetryGAN
    with pytest.raises(ValueError, match=f"holds a saved {cls.__name__}, not a {other.__name__}"):
        other.load(path)


def test_saving_an_unfitted_model_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        LieGAN().save(tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_inconsistent_liegan_generators_are_refused(dataset, tmp_path):
    model = LieGAN(**TINY).fit(dataset.X)
    path = model.save(tmp_path / "run")
    run = sk.runs.RunDirectory.open(path)
    arrays = run.load_arrays()
    name = run.config()["arrays"]["generators_"]
    run.save_arrays(**{**arrays, name: np.zeros((1, 3, 3))})
    with pytest.raises(ValueError, match="generators_ has shape"):
        sk.load(path)


# ------------------------------------------------------------------------------- format 1
@pytest.mark.parametrize("reader", [LieGAN.load, sk.load])
def test_liegan_runs_of_symmetrykit_0_1_still_load(reader):
    expected = np.load(LEGACY / "liegan_v1_expected.npz", allow_pickle=False)
    with pytest.warns(DeprecationWarning, match="symmetrykit 0.1"):
        model = reader(LEGACY / "liegan_v1")
    assert type(model) is LieGAN
    np.testing.assert_array_equal(model.generators_, expected["generators"])
    np.testing.assert_array_equal(model.generator_, expected["generator"])
    np.testing.assert_allclose(model.generator_, expm(model.generators_[0]))
    assert len(model.algebra_) == 2 and model.algebra_.dim == 5
    assert model.n_generators == 2 and model.progress == "none" and model.n_steps_ == 8
    assert set(model.history_) >= {"d_loss", "g_loss", "penalty", "identity_cos"}
    assert set(model.fit_time_) == {"wall_s", "cpu_s", "monitor_s"}


@pytest.mark.parametrize("reader", [SymmetryGAN.load, sk.load])
def test_symmetrygan_runs_of_symmetrykit_0_1_still_load(reader):
    expected = np.load(LEGACY / "symmetrygan_v1_expected.npz", allow_pickle=False)
    with pytest.warns(DeprecationWarning, match="symmetrykit 0.1"):
        model = reader(LEGACY / "symmetrygan_v1")
    assert type(model) is SymmetryGAN
    np.testing.assert_array_equal(model.generator_, expected["generator"])
    np.testing.assert_allclose(model.transform(expected["X"]), expected["transform"],
                               rtol=1e-12, atol=1e-12)


def test_a_format_1_run_of_the_other_baseline_is_refused():
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="holds a saved"):
        SymmetryGAN.load(LEGACY / "liegan_v1")


# ------------------------------------------------------------------------------- evaluate
@pytest.mark.slow
@pytest.mark.parametrize(("cls", "name", "key"), [(LieGAN, "liegan", "liegan"),
                                                  (SymmetryGAN, "symmetrygan", "symgan")])
def test_evaluate_and_the_registry(cls, name, key, dataset, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    method = sk.get_method(name)
    assert method.estimator is cls and method.evaluate is evaluate
    assert method.prepare(dataset) is dataset.X
    run = method.run(dataset, **TINY)
    model, result = run.estimator, run.evaluation
    assert result.method == name
    m = result.metrics
    assert m["cos"] == pytest.approx(sk.baselines.score(key, model, dataset.generator))
    assert m["conversion"] == sk.baselines._compare.CONVERSIONS[key]
    assert m["steps"] == model.n_steps_ == 12 and m["max_steps"] == 12
    assert m["final_d_loss"] == model.history_["d_loss"][-1]
    assert m["final_g_loss"] == model.history_["g_loss"][-1]
    assert m["fit_time.wall_s"] == model.fit_time_["wall_s"]
    assert m["dataset.dim"] == 5 and m["dataset.ground_truth"] is True
    json.loads(result.to_json())
    saved = sk.runs.RunDirectory.open(model.save(tmp_path / "run"))
    result.save(saved)
    assert sorted(p.stem for p in saved.figures()) == ["generator", "loss_curves"]
    bare = evaluate(model, sk.datasets.SymmetryDataset(dataset.X))
    assert "cos" not in bare.metrics and bare.metrics["dataset.ground_truth"] is False


def test_evaluate_refuses_other_estimators_and_unfitted_ones(dataset):
    with pytest.raises(TypeError, match="LieGAN or a SymmetryGAN"):
        evaluate(sk.SymmetryLens(), dataset)
    with pytest.raises(ValueError, match="not fitted"):
        evaluate(LieGAN(), dataset)
