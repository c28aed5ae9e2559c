"""``image_rows``: windows of grayscale rows of scikit-learn's two sample photographs."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from symmetrykit import datasets, lie
from symmetrykit.cli import main
from symmetrykit.datasets import image_rows, make_dataset

pytest.importorskip("PIL", reason="Pillow decodes the sample photographs")
sklearn_datasets = pytest.importorskip("sklearn.datasets")


@functools.cache
def _gray(name: str) -> np.ndarray:
    """Luminance of a sample photograph, computed independently of symmetrykit."""
    rgb = sklearn_datasets.load_sample_image(f"{name}.jpg").astype(np.float64)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def _assert_windows_of_rows(x: np.ndarray, names: tuple[str, ...]) -> None:
    """Every sample is a window of a grayscale row, all scaled by the same factor 1/std."""
    width = x.shape[1]
    # all windows inside the rows of the named images: (n_windows, width)
    windows = np.concatenate(
        [sliding_window_view(_gray(n), width, axis=1).reshape(-1, width) for n in names]
    )
    norms = np.linalg.norm(windows, axis=1)
    unit = windows / norms[:, None]
    scales = []
    for sample in x:
        best = int(np.argmax(unit @ (sample / np.linalg.norm(sample))))
        scales.append(norms[best] / np.linalg.norm(sample))
        np.testing.assert_allclose(sample * scales[-1], windows[best], rtol=0, atol=1e-9)
    np.testing.assert_allclose(scales, scales[0], rtol=1e-12)


def test_shape_dtype_ground_truth_and_params():
    ds = image_rows(300, 15, random_state=0)
    assert ds.X.shape == (300, 15) and ds.X.dtype == np.float64
    assert ds.name == "image-rows" and ds.dim == 15
    np.testing.assert_array_equal(ds.generator, lie.shift(15))
    np.testing.assert_array_equal(ds.transform, np.eye(15))
    assert np.std(ds.X) == pytest.approx(1.0)
    assert ds.params["width"] == ds.params["dim"] == 15
    assert ds.params["images"] == ["china", "flower"]
    assert ds.params["random_state"] == 0 and ds.params["noise"] == 0.0
    assert "scikit-learn" in ds.description


def test_random_state_reproducibility():
    a = image_rows(200, 9, random_state=3)
    b = image_rows(200, 9, random_state=3)
    c = image_rows(200, 9, random_state=4)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.allclose(a.X, c.X)
    g1 = image_rows(200, 9, random_state=np.random.default_rng(5))
    g2 = image_rows(200, 9, random_state=np.random.default_rng(5))
    np.testing.assert_array_equal(g1.X, g2.X)
    fresh = image_rows(200, 9, random_state=None)
    again = image_rows(200, 9, random_state=fresh.params["random_state"])
    np.testing.assert_array_equal(fresh.X, again.X)


def test_samples_are_scaled_windows_of_grayscale_rows():
    _assert_windows_of_rows(image_rows(12, 9, random_state=1).X, ("china", "flower"))
    _assert_windows_of_rows(image_rows(6, 9, random_state=2, images="flower").X, ("flower",))
    # the widest window has only two start columns, and still lies inside a row
    _assert_windows_of_rows(image_rows(4, 639, random_state=0, images=("china",)).X, ("china",))


def test_noise_is_added_on_top_of_the_same_windows():
    clean = image_rows(500, 11, random_state=0)
    noisy = image_rows(500, 11, random_state=0, noise=0.1)
    residual = noisy.X - clean.X
    assert noisy.params["noise"] == 0.1
    assert 0.05 < np.std(residual) < 0.2
    assert abs(np.corrcoef(residual[:, 0], residual[:, 1])[0, 1]) < 0.2


@pytest.mark.parametrize(
    ("width", "message"),
    [(10, "width must be odd"), (1, "width must be >= 3"), (641, "width must be at most 639"),
     (9.0, "width must be an integer"), ("9", "width must be an integer")],
)
def test_bad_width_is_refused(width, message):
    with pytest.raises(ValueError, match=message):
        image_rows(100, width, random_state=0)


@pytest.mark.parametrize("images", ["lena", ("china", "moon"), (), ("china", "china")])
def test_bad_images_are_refused(images):
    with pytest.raises(ValueError, match="images|china, flower") as error:
        image_rows(100, 9, random_state=0, images=images)
    if images in ("lena", ("china", "moon")):
        assert "known images: china, flower" in str(error.value)


def test_registry_and_make_dataset():
    info = datasets.get_dataset_info("image_rows")
    assert info.name == "image-rows" and info in datasets.list_datasets()
    assert info.defaults == {"n_samples": 20_000, "dim": 129}
    assert info.ground_truth.startswith("G = S")
    ds = make_dataset("image-rows", n_samples=100, random_state=0)
    assert ds.X.shape == (100, 129)
    ds = make_dataset("image-rows", n_samples=100, dim=21, random_state=0, images=["flower"])
    np.testing.assert_array_equal(ds.X, image_rows(100, 21, random_state=0, images="flower").X)
    with pytest.raises(ValueError, match="as dim, not width"):
        make_dataset("image-rows", n_samples=100, width=21)


def test_cli_lists_and_makes_image_rows(tmp_path, capsys):
    assert main(["data", "list"]) == 0
    assert "image-rows" in capsys.readouterr().out
    out = tmp_path / "rows.npz"
    assert main(["data", "make", "image-rows", "--dim", "9", "--n-samples", "50",
                 "--out", str(out)]) == 0
    assert "image-rows, X 50 x 9 with ground truth" in capsys.readouterr().out
    loaded = datasets.load(out)
    np.testing.assert_array_equal(loaded.X, image_rows(50, 9, random_state=0).X)
    np.testing.assert_array_equal(loaded.generator, lie.shift(9))
