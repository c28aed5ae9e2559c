"""Saving and loading a fitted SymmetryLens (symmetrykit.lens._io)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

import symmetrykit as sk
from symmetrykit.lens import SymmetryLens
from symmetrykit.progress import NoProgress
from symmetrykit.runs import RunDirectory

LEARNED_ARRAYS = ("generator_", "padded_generator_", "filter_", "group_convolution_")


@pytest.fixture(autouse=True)
def _outside_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Run directories record the git commit of the working directory; keep that away from the
    # real checkout.
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return sk.datasets.local_signals(n_samples=1000, dim=7, symmetry="circulant",
                                     random_state=0).X


@pytest.fixture(scope="module")
def fitted(data: np.ndarray) -> SymmetryLens:
    lens = SymmetryLens(n_steps=10, warmup_steps=2, batch_size=70, progress="none",
                        random_state=0)
    return lens.fit(data)


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


def test_round_trip_restores_every_learned_attribute(fitted, data, tmp_path):
    out = fitted.save(tmp_path / "run", metrics={"note": "tiny"})
    assert Path(out) == tmp_path / "run"
    loaded = SymmetryLens.load(out)

    assert type(loaded) is SymmetryLens
    for name in LEARNED_ARRAYS:
        original, restored = getattr(fitted, name), getattr(loaded, name)
        assert restored.dtype == original.dtype, name
        np.testing.assert_array_equal(restored, original, err_msg=name)
    assert loaded.padding_ == fitted.padding_
    assert loaded.n_features_in_ == fitted.n_features_in_ == 7
    assert loaded.history_ == fitted.history_
    assert all(isinstance(v, float) for values in loaded.history_.values() for v in values)
    assert loaded.fit_time_ == pytest.approx(fitted.fit_time_)
    for name in ("restart_losses_", "best_restart_", "restart_starts_"):
        if hasattr(fitted, name):
            assert getattr(loaded, name) == getattr(fitted, name), name
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.transform(data), fitted.transform(data))


def test_run_directory_layout(fitted, tmp_path):
    out = fitted.save(tmp_path / "run", metrics={"cos": 0.5})
    run = RunDirectory.open(out)
    config = run.config()
    assert config["estimator"] == "SymmetryLens"
    assert config["padding"] == fitted.padding_
    assert config["n_features_in"] == 7
    assert config["params"]["n_steps"] == 10
    assert config["params"]["progress"] == "none"
    arrays = run.load_arrays()
    for key in ("generator", "padded_generator", "filter", "group_convolution"):
        assert key in arrays
    for key in fitted.history_:
        assert f"history__{key}" in arrays
        assert arrays[f"history__{key}"].dtype == np.float64
    metrics = run.load_metrics()
    assert metrics["cos"] == 0.5
    assert set(metrics["fit_time"]) == {"wall_s", "cpu_s"}
    # Strict JSON, readable by any parser.
    json.loads((out / "metrics.json").read_text(), parse_constant=pytest.fail)


def test_refuses_to_overwrite_and_leaves_the_run_intact(fitted, tmp_path):
    out = fitted.save(tmp_path / "run", metrics={"first": 1})
    before = _snapshot(out)
    other = copy.deepcopy(fitted)
    other.generator_ = other.generator_ + 1.0
    with pytest.raises(FileExistsError, match="overwrite"):
        other.save(out, metrics={"second": 2})
    assert _snapshot(out) == before

    other.save(out, overwrite=True, metrics={"second": 2})
    loaded = SymmetryLens.load(out)
    np.testing.assert_array_equal(loaded.generator_, other.generator_)
    assert "first" not in RunDirectory.open(out).load_metrics()


def test_unfitted_lens_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        SymmetryLens().save(tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_bad_metrics_leave_no_directory(fitted, tmp_path):
    with pytest.raises(TypeError):
        fitted.save(tmp_path / "run", metrics={"bad": object()})
    assert not (tmp_path / "run").exists()


def test_load_rejects_directories_that_are_not_lens_runs(tmp_path):
    with pytest.raises(ValueError, match="not a run directory"):
        SymmetryLens.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a run directory"):
        SymmetryLens.load(tmp_path / "empty")
    RunDirectory.create(tmp_path / "other", {"estimator": "GeneratorFlow"})
    with pytest.raises(ValueError, match="not a saved SymmetryLens run.*GeneratorFlow"):
        SymmetryLens.load(tmp_path / "other")
    RunDirectory.create(tmp_path / "plain", {"lr": 0.1})
    with pytest.raises(ValueError, match="not a saved SymmetryLens run"):
        SymmetryLens.load(tmp_path / "plain")


def test_load_rejects_missing_or_inconsistent_arrays(fitted, tmp_path):
    out = fitted.save(tmp_path / "run")
    run = RunDirectory.open(out)
    arrays = run.load_arrays()

    (out / "arrays.npz").unlink()
    with pytest.raises(ValueError, match="arrays.npz is missing"):
        SymmetryLens.load(out)

    run.save_arrays(**{k: v for k, v in arrays.items() if k != "filter"})
    with pytest.raises(ValueError, match="lacks filter"):
        SymmetryLens.load(out)

    run.save_arrays(**{**arrays, "generator": np.eye(5)})
    with pytest.raises(ValueError, match="'generator' has shape"):
        SymmetryLens.load(out)


def test_load_never_unpickles(fitted, tmp_path):
    out = fitted.save(tmp_path / "run")
    arrays = dict(RunDirectory.open(out).load_arrays())
    arrays["filter"] = np.array([{"not": "numbers"}], dtype=object)
    np.savez(out / "arrays.npz", **arrays, allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        SymmetryLens.load(out)


def test_objects_in_params_are_replaced_by_names(fitted, tmp_path):
    lens = copy.deepcopy(fitted)
    lens.set_params(progress=NoProgress(), random_state=np.random.default_rng(0))
    out = lens.save(tmp_path / "run")
    config = RunDirectory.open(out).config()
    assert config["params"]["progress"] == "NoProgress"
    assert config["params"]["random_state"] == "Generator"
    loaded = SymmetryLens.load(out)
    assert loaded.progress == "none"
    assert loaded.random_state is None
    assert isinstance(loaded.recenter_at, tuple)
    assert loaded.recenter_at == tuple(fitted.recenter_at)


def test_history_keys_that_are_not_file_names_survive(fitted, tmp_path):
    lens = copy.deepcopy(fitted)
    lens.history_ = {**lens.history_, "phi cos/2": [0.25, 0.5], "phi_cos_2": [1.0]}
    loaded = SymmetryLens.load(lens.save(tmp_path / "run"))
    assert loaded.history_ == lens.history_


def test_loaded_lens_can_be_refitted(fitted, data, tmp_path):
    loaded = SymmetryLens.load(fitted.save(tmp_path / "run"))
    refit = SymmetryLens(**loaded.get_params()).fit(data)
    np.testing.assert_array_equal(refit.generator_, fitted.generator_)
