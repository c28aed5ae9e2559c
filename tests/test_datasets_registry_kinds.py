"""The registry's kinds ("vectors", "pairs"): two-body pairs by name, their files, the 2-D toys
of the baselines (gaussian-ring, rotation-invariant) and the ``data`` commands on all three."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.linalg import expm

from symmetrykit import datasets
from symmetrykit.cli import main
from symmetrykit.datasets import (
    DatasetInfo,
    PairsFileError,
    SymmetryDataset,
    TwoBodyPairs,
    gaussian_ring,
    make_dataset,
    rotation_invariant,
    two_body,
)

SIGNAL_NAMES = [
    "gaussian-translation", "gaussian-permuted", "gaussian-frequency", "gaussian-circulant",
    "legendre-translation", "legendre-permuted", "legendre-frequency", "legendre-circulant",
    "mnist-slices", "image-rows",
]
J = np.array([[0.0, -1.0], [1.0, 0.0]])
PNG = b"\x89PNG\r\n\x1a\n"


def _rotation(angle: float) -> np.ndarray:
    return np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])


def _histogram_distance(a: np.ndarray, b: np.ndarray, *, bins: int = 24) -> float:
    """Total-variation distance between the 2-D histograms of two equally large samples."""
    edges = np.linspace(-1.6, 1.6, bins + 1)
    ha = np.histogram2d(a[:, 0], a[:, 1], bins=(edges, edges))[0]
    hb = np.histogram2d(b[:, 0], b[:, 1], bins=(edges, edges))[0]
    return 0.5 * float(np.abs(ha - hb).sum()) / a.shape[0]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # default output paths of the commands land in tmp_path


# ----------------------------------------------------------------------------- kinds, filters
def test_kinds_and_filters():
    assert datasets.DATASET_KINDS == ("vectors", "pairs", "pde")
    # The PDE sets come last (tests/test_datasets_registry_pde.py); the others keep their order.
    infos = datasets.list_datasets()[: -len(datasets.PDE_NAMES)]
    names = [info.name for info in infos]
    assert names == [*SIGNAL_NAMES, "gaussian-ring", "rotation-invariant", "two-body"]
    assert [i.name for i in datasets.list_datasets(kind="pairs")] == ["two-body"]
    assert [i.name for i in datasets.list_datasets("vectors")] == names[:-1]
    assert all(info.kind == "vectors" for info in infos[:-1])
    assert datasets.get_dataset_info("Two_Body").kind == "pairs"
    with pytest.raises(ValueError, match="unknown data set kind 'images'; kinds: vectors, pairs"):
        datasets.list_datasets(kind="images")
    with pytest.raises(ValueError, match="kind must be one of"):
        DatasetInfo("x", factory=gaussian_ring, defaults={}, ground_truth="", description="",
                    kind="pair")


def test_new_entries_describe_their_ground_truth():
    ring, rot, body = (datasets.get_dataset_info(n)
                       for n in ("gaussian-ring", "rotation-invariant", "two-body"))
    assert ring.defaults == {"n_samples": 20_000, "dim": 2} == rot.defaults
    assert body.defaults == {"n_samples": 15_000, "dim": 8}
    assert "45°" in ring.ground_truth and "D8" in ring.ground_truth
    assert "algebra element" in rot.ground_truth and "R(90°)" in rot.ground_truth
    assert "algebra element" in body.ground_truth
    assert "LieGAN().fit(X, Y)" in body.description


# ------------------------------------------------------------------------- two-body by name
def test_two_body_by_name_matches_the_direct_call():
    pairs = make_dataset("two-body", n_samples=30, random_state=5, step=0.05)
    direct = two_body(n_orbits=2, pairs_per_orbit=15, step=0.05, random_state=5)
    assert isinstance(pairs, TwoBodyPairs)
    assert pairs.X.shape == pairs.Y.shape == (30, 8)
    np.testing.assert_array_equal(pairs.X, direct.X)
    np.testing.assert_array_equal(pairs.Y, direct.Y)
    np.testing.assert_array_equal(pairs.generator, np.kron(np.eye(4), J))
    assert pairs.params["step"] == 0.05 and pairs.params["n_samples"] == 30


def test_two_body_is_truncated_to_exactly_n_samples():
    pairs = make_dataset("two-body", n_samples=37, random_state=2, noise=0.01)
    full = two_body(n_orbits=3, pairs_per_orbit=15, noise=0.01, random_state=2)
    assert pairs.n_samples == 37 and pairs.params["n_samples"] == 37
    assert pairs.params["n_orbits"] == 3 and pairs.params["noise"] == 0.01
    np.testing.assert_array_equal(pairs.X, full.X[:37])
    np.testing.assert_array_equal(pairs.Y, full.Y[:37])


def test_two_body_default_size_is_1000_orbits_of_15(monkeypatch):
    # Recorded instead of run: the 15,000 default pairs take seconds to integrate.
    seen = {}

    def fake(*, n_orbits, pairs_per_orbit, random_state, **options):
        seen.update(n_orbits=n_orbits, pairs_per_orbit=pairs_per_orbit, **options)
        n = n_orbits * pairs_per_orbit
        return TwoBodyPairs(X=np.zeros((n, 8)), Y=np.zeros((n, 8)), generator=np.eye(8))

    monkeypatch.setattr("symmetrykit.datasets._registry.two_body", fake)
    assert make_dataset("two-body", random_state=0).n_samples == 15_000
    assert seen == {"n_orbits": 1000, "pairs_per_orbit": 15}
    assert make_dataset("two-body", n_samples=20, pairs_per_orbit=4, dim=8).n_samples == 20
    assert seen["n_orbits"] == 5 and seen["pairs_per_orbit"] == 4


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"dim": 5}, "two-body has dim 8; dim must be 8 or None, got 5"),
    ({"n_orbits": 3}, "set the size of two-body with n_samples"),
    ({"n_samples": 1}, "n_samples must be >= 2"),
    ({"step": -1.0}, "step must be finite and > 0"),
])
def test_two_body_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_dataset("two-body", **{"n_samples": 30, **kwargs})


# --------------------------------------------------------------------------- two-body files
@pytest.fixture(scope="module")
def pairs() -> TwoBodyPairs:
    return make_dataset("two-body", n_samples=30, random_state=1)


def test_save_round_trip_and_refusals(pairs, tmp_path):
    path = pairs.save(tmp_path / "pairs.npz")
    back = TwoBodyPairs.load(path)
    for what in ("X", "Y", "generator"):
        np.testing.assert_array_equal(getattr(back, what), getattr(pairs, what))
    assert back.name == "two-body" and back.params == pairs.params
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs.npz"]  # no temporary left

    before = path.read_bytes()
    other = make_dataset("two-body", n_samples=20, random_state=2)
    with pytest.raises(FileExistsError, match="already exists; pass overwrite=True"):
        other.save(path)
    assert path.read_bytes() == before
    other.save(path, overwrite=True)
    assert TwoBodyPairs.load(path).n_samples == 20
    with pytest.raises(ValueError, match=r"saved as \.npz only, not '\.csv'"):
        pairs.save(tmp_path / "pairs.csv")
    assert not (tmp_path / "pairs.csv").exists()


def test_load_does_not_drop_y(pairs, tmp_path):
    path = pairs.save(tmp_path / "pairs.npz")
    with pytest.raises(PairsFileError, match=r"pairs\.npz: holds pairs \(X, Y\).*TwoBodyPairs"):
        datasets.load(path)
    assert issubclass(PairsFileError, ValueError)
    ds, y = datasets.load_xy(path)  # the pairs as data and targets, metadata restored
    np.testing.assert_array_equal(ds.X, pairs.X)
    np.testing.assert_array_equal(y, pairs.Y)
    np.testing.assert_array_equal(ds.generator, pairs.generator)
    assert ds.name == "two-body" and ds.params["n_samples"] == 30


def test_pairs_load_refuses_other_files(tmp_path):
    vectors = make_dataset("gaussian-ring", n_samples=50, random_state=0).save(tmp_path / "v.npz")
    with pytest.raises(ValueError, match="not a file of pairs written by TwoBodyPairs.save"):
        TwoBodyPairs.load(vectors)
    np.save(tmp_path / "x.npy", np.zeros((4, 8)))
    with pytest.raises(ValueError, match="not an .npz archive"):
        TwoBodyPairs.load(tmp_path / "x.npy")
    with pytest.raises(FileNotFoundError, match="no such file"):
        TwoBodyPairs.load(tmp_path / "missing.npz")


# -------------------------------------------------------------------------------- 2-D toys
@pytest.fixture(scope="module")
def ring() -> SymmetryDataset:
    return make_dataset("gaussian-ring", random_state=0)


def test_gaussian_ring_sits_on_the_d8_centres(ring):
    assert ring.X.shape == (20_000, 2) and ring.name == "gaussian-ring"
    g = ring.generator
    np.testing.assert_allclose(g, _rotation(math.pi / 4), atol=1e-15)
    assert ring.cyclic
    np.testing.assert_allclose(np.linalg.matrix_power(g, 8), np.eye(2), atol=1e-12)
    assert all(not np.allclose(np.linalg.matrix_power(g, k), np.eye(2)) for k in range(1, 8))
    centres = np.array([np.linalg.matrix_power(g, k) @ [1.0, 0.0] for k in range(8)])
    distance = np.linalg.norm(ring.X[:, None, :] - centres[None], axis=2)
    nearest = distance.argmin(axis=1)
    # Each centre draws about an eighth; the distance to it is Rayleigh with sigma = width.
    np.testing.assert_allclose(np.bincount(nearest, minlength=8) / 20_000, 1 / 8, atol=0.01)
    assert distance.min(axis=1).mean() == pytest.approx(0.1 * math.sqrt(math.pi / 2), rel=0.03)
    assert ring.params["reflection"] == [[1.0, 0.0], [0.0, -1.0]]


def test_gaussian_ring_is_invariant_under_d8_only(ring):
    x = ring.X
    reflection = np.array(ring.params["reflection"])
    for element in (ring.generator, ring.generator @ ring.generator, reflection):
        assert _histogram_distance(x, x @ element.T) < 0.1  # sampling noise: 0.04-0.07
    # Half the step puts the bumps into the gaps: the distribution changes completely.
    assert _histogram_distance(x, x @ _rotation(math.pi / 8).T) > 0.5  # measured: 0.85


def test_rotation_invariant_toy_is_invariant_under_every_rotation():
    ds = make_dataset("rotation_invariant", random_state=0)
    x = ds.X
    assert x.shape == (20_000, 2) and ds.name == "rotation-invariant"
    np.testing.assert_array_equal(ds.generator, J)  # R(90°), also the algebra element
    assert ds.params["algebra_element"] == J.tolist()
    np.testing.assert_allclose(expm(0.7 * J), _rotation(0.7), atol=1e-14)
    radius = np.linalg.norm(x, axis=1)
    assert radius.mean() == pytest.approx(1.0, abs=0.005)
    assert radius.std() == pytest.approx(0.1, rel=0.03)
    for angle in (0.37, 2.0, math.pi / 2):
        assert _histogram_distance(x, x @ _rotation(angle).T) < 0.1
    assert _histogram_distance(x, 1.3 * x) > 0.5  # a scaling is no symmetry (measured: 0.78)


def test_toys_options_dim_and_reproducibility():
    a = make_dataset("gaussian-ring", n_samples=300, random_state=4, width=0.02)
    b = gaussian_ring(300, width=0.02, random_state=4)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.params["width"] == 0.02 and a.params["random_state"] == 4
    assert np.abs(np.linalg.norm(a.X, axis=1) - 1).max() < 0.15
    c = make_dataset("rotation-invariant", n_samples=300, dim=2, random_state=4, radius=2.0,
                     radial_std=0.0)
    np.testing.assert_allclose(np.linalg.norm(c.X, axis=1), 2.0)
    noisy = rotation_invariant(300, radial_std=0.0, noise=0.05, random_state=4)
    assert np.linalg.norm(noisy.X, axis=1).std() > 0.02
    for name in ("gaussian-ring", "rotation-invariant"):
        with pytest.raises(ValueError, match=f"{name} has dim 2; dim must be 2 or None, got 3"):
            make_dataset(name, n_samples=100, dim=3)
    with pytest.raises(ValueError, match="width must be finite and >= 0"):
        gaussian_ring(100, width=-1.0)
    with pytest.raises(ValueError, match="radius must be finite and > 0"):
        rotation_invariant(100, radius=0.0)


# ------------------------------------------------------------------------------ the commands
def test_data_list_shows_the_kinds(capsys):
    assert main(["data", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["name", "kind", "dim", "samples"]
    rows = {line.split()[0]: line.split()[1:4] for line in lines[1:14]}
    assert rows["two-body"] == ["pairs", "8", "15000"]
    assert rows["gaussian-ring"] == rows["rotation-invariant"] == ["vectors", "2", "20000"]
    assert rows["gaussian-translation"] == ["vectors", "33", "20000"]
    assert main(["data", "list", "--json"]) == 0
    kinds = {row["name"]: row["kind"] for row in json.loads(capsys.readouterr().out)}
    assert kinds["two-body"] == "pairs" and kinds["gaussian-ring"] == "vectors"


@pytest.mark.parametrize(("name", "size"), [
    pytest.param("two-body", "45", marks=pytest.mark.slow), ("gaussian-ring", "500"),
    pytest.param("rotation-invariant", "500", marks=pytest.mark.slow)])
def test_data_show_plots_the_new_sets(tmp_path, capsys, name, size):
    out = tmp_path / f"{name}.png"
    assert main(["data", "show", name, "--n-samples", size, "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG
    assert capsys.readouterr().out.strip() == f"wrote {out}"


@pytest.mark.slow
def test_data_make_and_show_pairs(tmp_path, capsys):
    out = tmp_path / "pairs.npz"
    assert main(["data", "make", "two-body", "--n-samples", "30", "--seed", "3",
                 "--out", str(out)]) == 0
    assert "two-body, X 30 x 8, Y 30 x 8 with ground truth" in capsys.readouterr().out
    back = TwoBodyPairs.load(out)
    np.testing.assert_array_equal(back.X, make_dataset("two-body", n_samples=30,
                                                       random_state=3).X)
    assert main(["data", "show", str(out), "--out", str(tmp_path / "file.png")]) == 0
    assert (tmp_path / "file.png").read_bytes()[:8] == PNG
    assert main(["data", "make", str(out), "--out", str(tmp_path / "copy.npy")]) == 2
    assert "holds pairs (X, Y), saved as .npz only" in capsys.readouterr().err
    assert not (tmp_path / "copy.npy").exists()


def test_data_make_toy_keeps_the_rotation(tmp_path, capsys):
    out = tmp_path / "ring.npz"
    assert main(["data", "make", "gaussian-ring", "--n-samples", "100", "--out", str(out)]) == 0
    assert "gaussian-ring, X 100 x 2 with ground truth" in capsys.readouterr().out
    np.testing.assert_allclose(datasets.load(out).generator, _rotation(math.pi / 4))


@pytest.fixture
def no_generation(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("data were generated before the refusal")

    monkeypatch.setattr(datasets, "make_dataset", forbidden)


def test_pairs_need_an_npz_before_any_work(tmp_path, capsys, no_generation):
    assert main(["data", "make", "two-body", "--out", str(tmp_path / "p.csv")]) == 2
    assert "two-body is a set of pairs (X, Y), saved as .npz only" in capsys.readouterr().err


def test_discover_refuses_pairs_with_one_line(tmp_path, capsys, no_generation):
    assert main(["discover", "--data", "two-body"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "two-body is a set of pairs (X, Y)" in err
    assert "LieGAN().fit(X, Y)" in err and "SymmetryGAN().fit(X, Y)" in err
    assert not Path("runs").exists()


def test_discover_refuses_a_pairs_file_and_a_2d_toy(pairs, tmp_path, capsys):
    path = pairs.save(tmp_path / "saved.npz")
    assert main(["discover", "--data", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert f"{path} is a set of pairs (X, Y)" in err and "LieGAN().fit(X, Y)" in err
    assert main(["discover", "--data", "gaussian-ring", "--n-samples", "100",
                 "--out", str(tmp_path / "run")]) == 2
    assert "SymmetryLens needs an odd dimension >= 3" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
