"""Saving and loading a fitted SymmetryLens (the shared run-directory format, and format 1)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import symmetrykit as sk
from symmetrykit.lens import SymmetryLens
from symmetrykit.progress import NoProgress
from symmetrykit.runs import RunDirectory

LEARNED_ARRAYS = ("generator_", "padded_generator_", "filter_", "group_convolution_")
LEGACY = Path(__file__).parent / "data" / "legacy"

pytestmark = pytest.mark.usefixtures("single_thread")


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


def _assert_same_warm_start(a, b) -> None:
    for name in ("basis", "filter", "padded_generator", "skew"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("cyclic", "chain_similarity", "closure_similarity", "iterations", "converged",
                 "source"):
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.parametrize("reader", [SymmetryLens.load, sk.load])
def test_round_trip_restores_every_learned_attribute(fitted, data, tmp_path, reader):
    out = fitted.save(tmp_path / "run", metrics={"note": "tiny"})
    assert Path(out) == tmp_path / "run"
    loaded = reader(out)

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
        assert getattr(loaded, name) == getattr(fitted, name), name
    assert len(fitted.warm_starts_) >= 1  # the warm start ran: its dataclasses round-trip too
    assert len(loaded.warm_starts_) == len(fitted.warm_starts_)
    for a, b in zip(loaded.warm_starts_, fitted.warm_starts_, strict=True):
        _assert_same_warm_start(a, b)
    if fitted.warm_start_ is None:
        assert loaded.warm_start_ is None
    else:
        assert loaded.warm_start_ is loaded.warm_starts_[fitted.best_restart_]
        _assert_same_warm_start(loaded.warm_start_, fitted.warm_start_)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.transform(data), fitted.transform(data))


def test_run_directory_layout(fitted, tmp_path):
    out = fitted.save(tmp_path / "run", metrics={"cos": 0.5})
    run = RunDirectory.open(out)
    config = run.config()
    assert config["estimator"] == "SymmetryLens"
    assert config["format_version"] == 2
    assert config["fitted"]["padding_"] == fitted.padding_
    assert config["fitted"]["n_features_in_"] == 7
    assert config["params"]["n_steps"] == 10
    assert config["params"]["progress"] == "none"
    assert "recenter_at" not in config["params"] and "filter_init" not in config["params"]
    arrays = run.load_arrays()
    for name in LEARNED_ARRAYS:
        assert config["arrays"][name] in arrays
    for key, name in config["history"].items():
        assert key in fitted.history_
        assert arrays[name].dtype == np.float64
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


def test_load_rejects_directories_that_are_not_lens_runs(tmp_path, fitted):
    with pytest.raises(ValueError, match="not a run directory"):
        SymmetryLens.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="config.json is missing"):
        SymmetryLens.load(tmp_path / "empty")
    gan = sk.baselines.SymmetryGAN(n_steps=2, progress="none", random_state=0).fit(
        np.random.default_rng(0).standard_normal((50, 3)))
    with pytest.raises(ValueError, match="holds a saved SymmetryGAN, not a SymmetryLens"):
        SymmetryLens.load(gan.save(tmp_path / "other"))
    RunDirectory.create(tmp_path / "plain", {"lr": 0.1})
    with pytest.raises(ValueError, match="names no estimator"):
        SymmetryLens.load(tmp_path / "plain")


def test_load_rejects_missing_or_inconsistent_arrays(fitted, tmp_path):
    out = fitted.save(tmp_path / "run")
    run = RunDirectory.open(out)
    arrays = run.load_arrays()
    names = run.config()["arrays"]

    (out / "arrays.npz").unlink()
    with pytest.raises(ValueError, match="arrays.npz is missing"):
        SymmetryLens.load(out)

    run.save_arrays(**{k: v for k, v in arrays.items() if k != names["filter_"]})
    with pytest.raises(ValueError, match="lacks 'fitted.filter_'"):
        SymmetryLens.load(out)

    run.save_arrays(**{**arrays, names["generator_"]: np.eye(5)})
    with pytest.raises(ValueError, match="generator_ has shape"):
        SymmetryLens.load(out)


def test_load_never_unpickles(fitted, tmp_path):
    out = fitted.save(tmp_path / "run")
    run = RunDirectory.open(out)
    arrays = dict(run.load_arrays())
    arrays[run.config()["arrays"]["filter_"]] = np.array([{"not": "numbers"}], dtype=object)
    np.savez(out / "arrays.npz", **arrays, allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        SymmetryLens.load(out)


def test_objects_in_params_are_replaced_by_names(fitted, tmp_path):
    lens = copy.deepcopy(fitted)
    lens.set_params(progress=NoProgress(), random_state=np.random.default_rng(0))
    out = lens.save(tmp_path / "run")
    config = RunDirectory.open(out).config()
    assert config["replaced_params"] == {"progress": "NoProgress", "random_state": "Generator"}
    loaded = SymmetryLens.load(out)
    default = SymmetryLens()
    assert loaded.progress == default.progress
    assert loaded.random_state is None
    assert isinstance(loaded.warm_bases, tuple)
    assert loaded.warm_bases == tuple(fitted.warm_bases)


def test_history_keys_that_are_not_file_names_survive(fitted, tmp_path):
    lens = copy.deepcopy(fitted)
    lens.history_ = {**lens.history_, "phi cos/2": [0.25, 0.5], "phi_cos_2": [1.0]}
    loaded = SymmetryLens.load(lens.save(tmp_path / "run"))
    assert loaded.history_ == lens.history_


def test_a_warm_start_set_by_hand_is_kept(fitted, tmp_path):
    lens = copy.deepcopy(fitted)
    lens.warm_start_ = copy.deepcopy(fitted.warm_starts_[0])
    loaded = SymmetryLens.load(lens.save(tmp_path / "run"))
    assert len(loaded.warm_starts_) == len(fitted.warm_starts_)
    _assert_same_warm_start(loaded.warm_start_, lens.warm_start_)
    lens.warm_start_, lens.warm_starts_ = None, []
    loaded = SymmetryLens.load(lens.save(tmp_path / "none"))
    assert loaded.warm_start_ is None and loaded.warm_starts_ == []


def test_loaded_lens_can_be_refitted(fitted, data, tmp_path):
    loaded = SymmetryLens.load(fitted.save(tmp_path / "run"))
    refit = SymmetryLens(**loaded.get_params()).fit(data)
    np.testing.assert_array_equal(refit.generator_, fitted.generator_)


# ------------------------------------------------------------------------------- format 1
@pytest.mark.parametrize("name", ["lens_v1", "lens_v1_dead_options"])
@pytest.mark.parametrize("reader", [SymmetryLens.load, sk.load])
def test_runs_of_symmetrykit_0_1_still_load(name, reader):
    expected = np.load(LEGACY / f"{name}_expected.npz", allow_pickle=False)
    with pytest.warns(DeprecationWarning, match="symmetrykit 0.1"):
        lens = reader(LEGACY / name)
    assert type(lens) is SymmetryLens
    np.testing.assert_array_equal(lens.generator_, expected["generator"])
    np.testing.assert_array_equal(lens.filter_, expected["filter"])
    np.testing.assert_allclose(lens.transform(expected["X"]), expected["transform"],
                               rtol=1e-12, atol=1e-12)
    assert lens.n_features_in_ == 5 and lens.padding_ == 5
    assert lens.progress == "none" and lens.random_state == 0 and lens.n_steps == 8
    assert not hasattr(lens, "recenter_at") and not hasattr(lens, "filter_init")
    assert set(lens.history_) >= {"step", "loss", "tau"}
    assert len(lens.restart_losses_) == len(lens.restart_starts_)
    assert set(lens.fit_time_) == {"wall_s", "cpu_s"}
    if name == "lens_v1":  # a warm-started run keeps its warm start
        assert lens.warm_start_ is not None and lens.warm_starts_ == [lens.warm_start_]
        assert lens.warm_start_.source == lens.restart_starts_[lens.best_restart_]
    else:  # the random starts of init="random" with the removed options
        assert lens.warm_start_ is None and lens.restart_starts_ == ["random", "random"]


def test_a_run_of_symmetrykit_0_1_saved_again_uses_the_current_format(tmp_path):
    with pytest.warns(DeprecationWarning):
        old = sk.load(LEGACY / "lens_v1")
    loaded = sk.load(old.save(tmp_path / "again"))  # no warning: pytest makes warnings errors
    np.testing.assert_array_equal(loaded.group_convolution_, old.group_convolution_)
    _assert_same_warm_start(loaded.warm_start_, old.warm_start_)
    assert loaded.history_ == old.history_


def test_a_broken_run_of_symmetrykit_0_1_is_refused(tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(LEGACY / "lens_v1", broken)
    run = RunDirectory.open(broken)
    arrays = run.load_arrays()
    run.save_arrays(**{k: v for k, v in arrays.items() if k != "filter"})
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="lacks filter"):
        sk.load(broken)
