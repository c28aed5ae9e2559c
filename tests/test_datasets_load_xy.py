"""``symmetrykit.datasets.load_xy``: samples plus targets, each file read once, no pickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from symmetrykit import datasets


@pytest.fixture
def xy() -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(0).normal(size=(12, 3))
    return x, (x**2).sum(axis=1)


@pytest.mark.parametrize("key", ["Y", "y"])
def test_npz_with_targets(tmp_path: Path, xy, key: str) -> None:
    x, y = xy
    path = tmp_path / "xy.npz"
    np.savez(path, X=x, **{key: y})
    ds, targets = datasets.load_xy(path)
    np.testing.assert_array_equal(ds.X, x)
    assert ds.name == "xy"
    assert targets.shape == (12, 1) and targets.dtype == np.float64
    np.testing.assert_array_equal(targets[:, 0], y)
    # load() reads the same archive and ignores the targets.
    np.testing.assert_array_equal(datasets.load(path).X, x)


def test_targets_are_never_taken_for_the_data(tmp_path: Path, xy) -> None:
    x, y = xy
    path = tmp_path / "named.npz"
    np.savez(path, inputs=x, Y=np.stack([y, -y], axis=1))
    ds, targets = datasets.load_xy(path)
    np.testing.assert_array_equal(ds.X, x)
    assert targets.shape == (12, 2)


def test_without_targets(tmp_path: Path, xy) -> None:
    path = tmp_path / "x.npy"
    np.save(path, xy[0])
    ds, targets = datasets.load_xy(path)
    assert targets is None and ds.X.shape == (12, 3)


def test_saved_dataset_keeps_its_truth_with_a_targets_file(tmp_path: Path) -> None:
    ds = datasets.make_dataset("gaussian-translation", dim=5, n_samples=20, random_state=0)
    ds.save(tmp_path / "d.npz")
    np.save(tmp_path / "t.npy", np.arange(20.0))
    loaded, targets = datasets.load_xy(tmp_path / "d.npz", tmp_path / "t.npy")
    np.testing.assert_array_equal(loaded.generator, ds.generator)
    assert loaded.name == "gaussian-translation"
    np.testing.assert_array_equal(targets[:, 0], np.arange(20.0))


def test_csv_inputs_and_targets_with_headers(tmp_path: Path, xy) -> None:
    x, y = xy
    np.savetxt(tmp_path / "x.csv", x, delimiter=",", header="a,b,c", comments="")
    np.savetxt(tmp_path / "y.csv", y, delimiter=",", header="target", comments="")
    ds, targets = datasets.load_xy(tmp_path / "x.csv", targets=str(tmp_path / "y.csv"))
    np.testing.assert_allclose(ds.X, x)
    np.testing.assert_allclose(targets[:, 0], y)


def test_targets_in_two_places_are_refused(tmp_path: Path, xy) -> None:
    x, y = xy
    np.savez(tmp_path / "xy.npz", X=x, Y=y)
    np.save(tmp_path / "y.npy", y)
    with pytest.raises(ValueError, match="already holds targets"):
        datasets.load_xy(tmp_path / "xy.npz", tmp_path / "y.npy")


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        (np.zeros(11), "12 rows but the targets have 11"),
        (np.array([np.nan] + [0.0] * 11), "NaN or infinite"),
        (np.zeros((12, 1, 1)), "1-D or 2-D"),
        (np.zeros(12, dtype=complex), "real numbers"),
    ],
)
def test_bad_targets(tmp_path: Path, xy, targets: np.ndarray, message: str) -> None:
    np.save(tmp_path / "x.npy", xy[0])
    np.save(tmp_path / "y.npy", targets)
    with pytest.raises(ValueError, match=message) as info:
        datasets.load_xy(tmp_path / "x.npy", tmp_path / "y.npy")
    assert "y.npy" in str(info.value)


def test_pickled_targets_are_refused(tmp_path: Path, xy) -> None:
    np.save(tmp_path / "x.npy", xy[0])
    np.save(tmp_path / "y.npy", np.array([{"a": 1}] * 12, dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        datasets.load_xy(tmp_path / "x.npy", tmp_path / "y.npy")


def test_missing_or_unsupported_target_files(tmp_path: Path, xy) -> None:
    np.save(tmp_path / "x.npy", xy[0])
    with pytest.raises(FileNotFoundError, match="no such file"):
        datasets.load_xy(tmp_path / "x.npy", tmp_path / "none.npy")
    (tmp_path / "y.txt").write_text("1\n")
    with pytest.raises(ValueError, match=r"\.npy or \.csv"):
        datasets.load_xy(tmp_path / "x.npy", tmp_path / "y.txt")
    with pytest.raises(FileNotFoundError, match="no such file"):
        datasets.load_xy(tmp_path / "none.npz")
