"""``symmetrykit lie discover|enforce|promote``: run directories, messages, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symmetrykit import liederiv
from symmetrykit.cli import main
from symmetrykit.lie import algebra_from_name, so


@pytest.fixture
def quadratic_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    path = tmp_path / "quadratic.npz"
    np.savez(path, X=x, Y=(x**2).sum(axis=1))
    return path


@pytest.mark.slow
def test_discover_fits_then_finds_so3(quadratic_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["lie", "discover", "--data", str(quadratic_file), "--degree", "2",
                 "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["nullity"] == 3
    arrays = np.load(out / "arrays.npz")
    from symmetrykit.metrics import algebra_distance

    assert np.max(algebra_distance(arrays["generators"], so(3).generators)) < 1e-6
    assert (out / "figures" / "spectrum.png").is_file()
    assert "3 symmetries" in capsys.readouterr().out


@pytest.mark.slow
def test_discover_refuses_to_overwrite(quadratic_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["lie", "discover", "--data", str(quadratic_file), "--out", str(out)]) == 0
    before = (out / "metrics.json").read_text()
    assert main(["lie", "discover", "--data", str(quadratic_file), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "metrics.json").read_text() == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--algebra", "so(4)"], "acts on R^4"),
        (["--algebra", "xx(3)"], "unknown algebra"),
        (["--method", "tangent"], "--manifold-dim"),
    ],
)
def test_discover_bad_options(quadratic_file: Path, tmp_path: Path, capsys, argv, message) -> None:
    code = main(["lie", "discover", "--data", str(quadratic_file), "--out",
                 str(tmp_path / "r"), *argv])
    assert code == 2
    assert message in capsys.readouterr().err


def test_discover_missing_file(tmp_path: Path, capsys) -> None:
    assert main(["lie", "discover", "--data", str(tmp_path / "none.npz")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_enforce_reads_inputs_and_targets_once(tmp_path: Path, capsys, monkeypatch) -> None:
    from symmetrykit import datasets

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    np.save(tmp_path / "x.npy", x)
    np.savetxt(tmp_path / "y.csv", (x**2).sum(axis=1), delimiter=",")
    calls = []
    real = datasets.load_xy

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(datasets, "load_xy", counting)
    out = tmp_path / "run"
    assert main(["lie", "enforce", "--data", str(tmp_path / "x.npy"), "--targets",
                 str(tmp_path / "y.csv"), "--algebra", "so(3)", "--degree", "2",
                 "--out", str(out)]) == 0
    assert len(calls) == 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["rmse"] < 1e-8 and metrics["nullity"] == 3
    assert "EquivariantRegressor" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["enforce", "--data", "{dir}/quadratic.npz", "--targets", "{dir}/y.npy"],
         "already holds targets"),
        (["enforce", "--data", "{dir}/x.npy", "--targets", "{dir}/short.npy"],
         "but the targets have 5"),
        (["promote", "--data", "{dir}/x.npy"], "lie promote fits a model: give targets"),
        (["discover", "--data", "gaussian-translation", "--targets", "{dir}/y.npy"],
         "--targets applies to data files"),
    ],
)
def test_bad_targets_are_one_line_errors(quadratic_file: Path, tmp_path: Path, capsys, argv,
                                         message) -> None:
    np.save(tmp_path / "x.npy", np.zeros((120, 3)))
    np.save(tmp_path / "y.npy", np.zeros(120))
    np.save(tmp_path / "short.npy", np.zeros(5))
    argv = [a.replace("{dir}", str(tmp_path)) for a in argv]
    assert main(["lie", *argv, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symmetrykit: error:") and message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_saved_model_round_trip(tmp_path: Path) -> None:
    dictionary = liederiv.PolynomialDictionary(3, 2)
    coef = np.zeros((1, dictionary.n_terms))
    names = dictionary.feature_names()
    for term in ("x0^2", "x1^2", "x2^2"):
        coef[0, names.index(term)] = 1.0
    model = liederiv.DictionaryModel(dictionary, coef)
    liederiv.save_model(model, tmp_path / "model")
    loaded = liederiv.load_model(tmp_path / "model")
    x = np.random.default_rng(1).normal(size=(30, 3))
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))
    result = liederiv.discover(loaded, x, algebra_from_name("gl(3)"))
    assert result.nullity == 3 and result.method == "exact"


def test_load_model_rejects_other_runs(tmp_path: Path) -> None:
    from symmetrykit.runs import RunDirectory

    RunDirectory.create(tmp_path / "other", {"command": "discover"})
    with pytest.raises(ValueError, match="does not hold a saved dictionary model"):
        liederiv.load_model(tmp_path / "other")
