"""Saving and loading fitted GeneratorFlow estimators (the shared run-directory format).

Also reads the ``flow.json`` + ``flow.npz`` directories of symmetrykit 0.1 (fixtures in
``tests/data/legacy/flow_*``, written by ``flow_make_fixtures.py`` with the old code).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import symmetrykit as sk
from symmetrykit.datasets import pde
from symmetrykit.flows import GeneratorFlow, compare, evaluate, load_flow, save_flow

LEGACY = Path(__file__).resolve().parent / "data" / "legacy"


@pytest.fixture(scope="module")
def kdv():
    return pde("kdv", n_trajectories=2, nx=128, nt=40, random_state=0)


@pytest.fixture(scope="module")
def fitted(kdv):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return GeneratorFlow(n_generators=3, n_iterations=3, hidden=(8,), patch_shape=(12, 16),
                             batch_size=1, random_state=0).fit(kdv)
    finally:
        torch.set_num_threads(threads)


def test_round_trip_through_symmetrykit_load_is_exact(fitted, kdv, tmp_path: Path,
                                                      single_thread) -> None:
    fitted.save(tmp_path / "model")
    loaded = sk.load(tmp_path / "model")
    assert type(loaded) is GeneratorFlow
    points = np.random.default_rng(1).uniform(-0.2, 1.2, size=(200, 3))
    np.testing.assert_array_equal(loaded.evaluate(points), fitted.evaluate(points))
    np.testing.assert_array_equal(loaded.generators_[1](points), fitted.generators_[1](points))
    np.testing.assert_array_equal(loaded.scales_, fitted.scales_)
    for name in ("mixing_", "validity_gap_", "roughness_", "is_symmetry_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(fitted, name))
    assert loaded.is_symmetry_.dtype == bool
    assert loaded.periodic_ is True and loaded.validity_ is None
    assert loaded.fit_time_ == pytest.approx(fitted.fit_time_)
    assert set(loaded.history_) == set(fitted.history_)
    for name, values in fitted.history_.items():
        np.testing.assert_array_equal(loaded.history_[name], values)
    # A progress meter object is not saved: the loaded flow has the default progress.
    assert loaded.get_params() == {**fitted.get_params(), "progress": GeneratorFlow().progress}
    assert loaded.hidden == (8,) and loaded.patch_shape == (12, 16)
    moved = loaded.transform(points[:10], 0.1, k=0)
    np.testing.assert_array_equal(moved, fitted.transform(points[:10], 0.1, k=0))
    # compare and evaluate work on a loaded flow (no validity column without a validity).
    table = compare(loaded, kdv, n_validity_samples=1)
    assert table.validity is None and table.inner_products.shape[0] == 3
    assert evaluate(loaded, kdv).metrics["validity"] is None


def test_run_directory_holds_no_pickle(fitted, tmp_path: Path) -> None:
    fitted.save(tmp_path / "m")
    config = sk.RunDirectory.open(tmp_path / "m").config()
    assert config["estimator"] == "GeneratorFlow" and config["format_version"] == 2
    assert config["modules"]["field_"]["config"]["dtype"] == "float32"
    assert config["fitted"]["periodic_"] is True
    with np.load(tmp_path / "m" / "arrays.npz", allow_pickle=False) as archive:
        assert archive["fitted.is_symmetry_"].dtype == bool
        assert all(archive[name].dtype.kind in "fb" for name in archive.files)


def test_load_class_method_device_and_refusals(fitted, tmp_path: Path) -> None:
    fitted.save(tmp_path / "m")
    loaded = GeneratorFlow.load(tmp_path / "m", device="cpu")
    np.testing.assert_array_equal(loaded.mixing_, fitted.mixing_)
    with pytest.raises(FileExistsError):
        fitted.save(tmp_path / "m")
    fitted.save(tmp_path / "m", overwrite=True)
    with pytest.raises(ValueError, match="not fitted"):
        GeneratorFlow().save(tmp_path / "unfitted")
    with pytest.raises(ValueError, match="no such directory"):
        GeneratorFlow.load(tmp_path / "missing")


def test_a_custom_validity_is_not_saved(tmp_path: Path) -> None:
    def defect(points):
        return points.pow(2).sum(-1).sub(1).pow(2).mean(-1)

    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, (4, 1)) + np.arange(6) * np.pi / 3
    data = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    flow = GeneratorFlow(n_generators=2, hidden=(4,), n_iterations=2, batch_size=2,
                         validity=defect, random_state=0).fit(data)
    flow.save(tmp_path / "m")
    loaded = sk.load(tmp_path / "m")
    assert loaded.validity is None and loaded.validity_ is None and loaded.is_symmetry_ is None
    points = data.reshape(-1, 2)
    np.testing.assert_array_equal(loaded.evaluate(points), flow.evaluate(points))


@pytest.mark.parametrize("name", ["flow_kdv", "flow_custom_validity"])
def test_flows_saved_by_symmetrykit_0_1_still_load(name: str) -> None:
    directory = LEGACY / name
    with np.load(directory / "expected.npz", allow_pickle=False) as expected:
        points, values = expected["points"], expected["values"]
    with pytest.warns(DeprecationWarning, match="symmetrykit 0.1"):
        loaded = sk.load(directory)
    assert type(loaded) is GeneratorFlow
    np.testing.assert_array_equal(loaded.evaluate(points), values)
    np.testing.assert_array_equal(loaded.generators_[0](points), values[0])
    assert loaded.validity_ is None and set(loaded.fit_time_) == {"wall_s", "cpu_s"}
    assert loaded.n_iterations == 2 and loaded.hidden == (4,)
    if name == "flow_kdv":
        assert loaded.periodic_ is True and loaded.is_symmetry_.dtype == bool
    else:
        assert loaded.periodic_ is False and loaded.is_symmetry_ is None
        assert loaded.orthogonalization == "penalty"
    with pytest.warns(DeprecationWarning):
        again = GeneratorFlow.load(directory)
    np.testing.assert_array_equal(again.mixing_, loaded.mixing_)


def test_a_legacy_flow_saved_again_gets_the_new_format(tmp_path: Path) -> None:
    with pytest.warns(DeprecationWarning):
        legacy = sk.load(LEGACY / "flow_kdv")
    legacy.save(tmp_path / "new")
    loaded = sk.load(tmp_path / "new")  # no warning: the current format
    points = np.random.default_rng(3).uniform(0, 1, size=(20, 3))
    np.testing.assert_array_equal(loaded.evaluate(points), legacy.evaluate(points))


def test_corrupt_legacy_files_are_reported(tmp_path: Path) -> None:
    shutil.copytree(LEGACY / "flow_kdv", tmp_path / "f")
    good = (tmp_path / "f" / "flow.npz").read_bytes()
    (tmp_path / "f" / "flow.npz").write_bytes(good[:-40])
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="checksum"):
        sk.load(tmp_path / "f")
    (tmp_path / "f" / "flow.npz").unlink()
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="flow.npz is missing"):
        sk.load(tmp_path / "f")
    (tmp_path / "f" / "flow.npz").write_bytes(good)
    (tmp_path / "f" / "flow.json").write_text(json.dumps({"format": "symmetrykit.GeneratorFlow",
                                                          "format_version": 99}))
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="format version"):
        sk.load(tmp_path / "f")


def test_deprecated_save_flow_and_load_flow(fitted, tmp_path: Path) -> None:
    with pytest.warns(DeprecationWarning, match="save_flow is deprecated"):
        save_flow(fitted, tmp_path / "m")
    with pytest.warns(DeprecationWarning, match="load_flow is deprecated"):
        loaded = load_flow(tmp_path / "m")
    np.testing.assert_array_equal(loaded.scales_, fitted.scales_)
