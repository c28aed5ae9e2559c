"""Saving and loading fitted GeneratorFlow estimators (JSON + npz, no pickle)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from symmetrykit.datasets import pde
from symmetrykit.flows import GeneratorFlow, compare, load_flow, save_flow


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


def test_round_trip_is_exact(fitted, kdv, tmp_path: Path, single_thread) -> None:
    save_flow(fitted, tmp_path / "model")
    loaded = load_flow(tmp_path / "model")
    points = np.random.default_rng(1).uniform(-0.2, 1.2, size=(200, 3))
    np.testing.assert_array_equal(loaded.evaluate(points), fitted.evaluate(points))
    np.testing.assert_array_equal(loaded.generators_[1](points), fitted.generators_[1](points))
    np.testing.assert_array_equal(loaded.scales_, fitted.scales_)
    for name in ("mixing_", "validity_gap_", "roughness_", "is_symmetry_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(fitted, name))
    assert loaded.is_symmetry_.dtype == bool
    assert loaded.periodic_ is True and loaded.validity_ is None
    assert loaded.fit_time_ == fitted.fit_time_
    assert set(loaded.history_) == set(fitted.history_)
    for name, values in fitted.history_.items():
        np.testing.assert_array_equal(loaded.history_[name], values)
    assert loaded.hidden == (8,) and loaded.patch_shape == (12, 16)
    assert loaded.n_iterations == 3 and loaded.random_state == 0
    moved = loaded.transform(points[:10], 0.1, k=0)
    np.testing.assert_array_equal(moved, fitted.transform(points[:10], 0.1, k=0))
    # compare works on a loaded flow (no validity column without a validity function).
    table = compare(loaded, kdv, n_validity_samples=1)
    assert table.validity is None and table.inner_products.shape[0] == 3


def test_files_hold_no_pickle_and_record_the_validity(fitted, tmp_path: Path) -> None:
    save_flow(fitted, tmp_path)
    meta = json.loads((tmp_path / "flow.json").read_text())
    assert meta["format_version"] == 1 and meta["validity"] == "default"
    assert "validity" not in meta["params"] and "progress" not in meta["params"]
    assert meta["field_config"]["dtype"] == "float32"
    with np.load(tmp_path / "flow.npz", allow_pickle=False) as archive:
        assert all(archive[name].dtype.kind in "fb" for name in archive.files)
        assert archive["fitted.is_symmetry_"].dtype == bool  # the slots judged to be symmetries


def test_refuses_to_overwrite(fitted, tmp_path: Path) -> None:
    save_flow(fitted, tmp_path)
    before = (tmp_path / "flow.npz").read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_flow(fitted, tmp_path)
    assert (tmp_path / "flow.npz").read_bytes() == before
    save_flow(fitted, tmp_path, overwrite=True)
    assert load_flow(tmp_path).n_generators == 3


def test_unfitted_and_bad_targets(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not fitted"):
        save_flow(GeneratorFlow(), tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="no such directory"):
        load_flow(tmp_path / "missing")
    with pytest.raises(ValueError, match="flow.json is missing"):
        load_flow(tmp_path)


def test_corrupt_files_are_reported(fitted, tmp_path: Path) -> None:
    save_flow(fitted, tmp_path)
    good = (tmp_path / "flow.npz").read_bytes()
    (tmp_path / "flow.npz").write_bytes(good[:-40])
    with pytest.raises(ValueError, match="checksum"):
        load_flow(tmp_path)
    (tmp_path / "flow.npz").unlink()
    with pytest.raises(ValueError, match="flow.npz is missing"):
        load_flow(tmp_path)
    (tmp_path / "flow.npz").write_bytes(good)
    (tmp_path / "flow.json").write_text("{not json")
    with pytest.raises(ValueError, match="cannot read"):
        load_flow(tmp_path)
    (tmp_path / "flow.json").write_text(json.dumps({"format": "symmetrykit.GeneratorFlow",
                                                    "format_version": 99}))
    with pytest.raises(ValueError, match="format version"):
        load_flow(tmp_path)


def test_estimator_save_and_load_methods(fitted, tmp_path: Path, single_thread) -> None:
    fitted.save(tmp_path / "m")
    loaded = GeneratorFlow.load(tmp_path / "m")
    points = np.random.default_rng(2).uniform(0, 1, size=(50, 3))
    np.testing.assert_array_equal(loaded.evaluate(points), fitted.evaluate(points))
    np.testing.assert_array_equal(loaded.mixing_, fitted.mixing_)
    with pytest.raises(FileExistsError):
        fitted.save(tmp_path / "m")
