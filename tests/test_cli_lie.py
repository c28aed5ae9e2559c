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
