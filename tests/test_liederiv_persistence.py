"""Saving and loading the liederiv models: the one run-directory format, ``save_model`` /
``load_model``, the symmetrykit 0.1 format and tampered files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

import symmetrykit as sk
from symmetrykit import liederiv
from symmetrykit.liederiv import (
    DictionaryModel,
    EquivariantRegressor,
    PolynomialDictionary,
    PromotedRegressor,
)

LEGACY = Path(__file__).resolve().parent / "data" / "legacy"
J = np.array([[0.0, -1.0], [1.0, 0.0]])
REFLECTION = np.diag([1.0, -1.0])
# What liederiv_make_fixtures.py saved in liederiv_dictionary_model.
LEGACY_COEF = np.array([[1.0, 0.5, -0.25, 2.0, 0.0, 2.0], [0.0, 1.0, 0.0, 0.0, 3.0, 0.0]])


def spiral_data() -> tuple[np.ndarray, np.ndarray]:
    """The data of liederiv_make_fixtures.py: an SO(2)-equivariant cubic vector field."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.5, 1.5, size=(15, 2))
    r2 = (X**2).sum(axis=1, keepdims=True)
    return X, (1 - r2) * X + 0.5 * X @ J.T


def invariant_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (12, 4))
    return X, 1.0 + (X @ [0.5, 0.5, 0.5, 0.5]) ** 2


def points() -> np.ndarray:
    return np.random.default_rng(7).uniform(-1, 1, size=(9, 2))


def copy_run(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(LEGACY / name, target)
    return target


def edit_config(path: Path, edit) -> None:
    file = path / "config.json"
    content = json.loads(file.read_text())
    edit(content["config"])
    file.write_text(json.dumps(content))


# ------------------------------------------------------------------------------ estimators
@pytest.mark.parametrize("one_d", [False, True])
def test_equivariant_regressor_round_trip(tmp_path: Path, one_d: bool) -> None:
    X, Y = spiral_data()
    model = EquivariantRegressor(3, sk.lie.so(2), "tangent", discrete=[(REFLECTION, "tangent")],
                                 random_state=0)
    if one_d:
        model = EquivariantRegressor(2, sk.lie.so(2), random_state=0)
        Y = (X**2).sum(axis=1)
    model.fit(X, Y)
    assert set(model.fit_time_) == {"wall_s", "cpu_s"}
    path = model.save(tmp_path / "run")
    loaded = sk.load(path)
    assert type(loaded) is EquivariantRegressor
    x = points()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.predict(x).shape == model.predict(x).shape
    np.testing.assert_array_equal(loaded.lie_derivative(x, sk.lie.gl(2)),
                                  model.lie_derivative(x, sk.lie.gl(2)))
    np.testing.assert_array_equal(loaded.basis_, model.basis_)
    assert loaded.n_free_parameters_ == model.n_free_parameters_
    assert isinstance(loaded.algebra, sk.lie.LieAlgebra)
    np.testing.assert_array_equal(loaded.algebra.generators, sk.lie.so(2).generators)
    assert loaded.fit_time_ == pytest.approx(model.fit_time_)
    assert EquivariantRegressor.load(path).n_outputs_ == model.n_outputs_


@pytest.mark.parametrize("gamma", [None, 1e-3])
def test_promoted_regressor_round_trip(tmp_path: Path, gamma: float | None) -> None:
    X, y = invariant_data()
    model = PromotedRegressor(degree=2, algebra=sk.lie.translations(4), gamma=gamma,
                              random_state=0).fit(X, y)
    loaded = sk.load(model.save(tmp_path / "run"))
    assert type(loaded) is PromotedRegressor
    x = np.random.default_rng(3).uniform(-1, 1, (6, 4))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_array_equal(loaded.lie_tensor_.array, model.lie_tensor_.array)
    np.testing.assert_array_equal(loaded.algebra_.generators, model.algebra_.generators)
    assert loaded.output_algebra_ is None
    result, again = model.result_, loaded.result_
    np.testing.assert_array_equal(again.singular_values, result.singular_values)
    assert (again.polished, again.converged, again.iterations, again.solver) == (
        result.polished, result.converged, result.iterations, result.solver)
    assert again.objective == result.objective
    assert liederiv.discover(loaded, X, sk.lie.translations(4), gap_ratio=100).nullity == 3


def test_promoted_regressor_with_paired_outputs(tmp_path: Path) -> None:
    so3 = sk.lie.so(3)
    X = np.random.default_rng(1).normal(size=(30, 3))
    Y = X * (X**2).sum(axis=1, keepdims=True)
    model = PromotedRegressor(degree=3, algebra=so3, output_algebra=so3, gamma=1e-3,
                              random_state=0).fit(X, Y)
    loaded = sk.load(model.save(tmp_path / "run"))
    assert isinstance(loaded.output_algebra, sk.lie.LieAlgebra)
    assert isinstance(loaded.output_algebra_, sk.lie.LieAlgebra)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_estimators_follow_the_contract(tmp_path: Path) -> None:
    for estimator in (EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=0),
                      PromotedRegressor(algebra=sk.lie.translations(2), random_state=0)):
        assert set(vars(estimator)) == set(estimator.get_params())  # __init__ only stores
        clone(estimator)
        with pytest.raises(ValueError, match="not fitted"):
            estimator.predict(points())
        with pytest.raises(ValueError, match="not fitted"):
            estimator.save(tmp_path / type(estimator).__name__)


def test_dictionary_model_round_trip(tmp_path: Path) -> None:
    model = DictionaryModel(PolynomialDictionary(2, 2), LEGACY_COEF)
    loaded = sk.load(model.save(tmp_path / "run"))
    assert type(loaded) is DictionaryModel
    np.testing.assert_array_equal(loaded.predict(points()), model.predict(points()))
    np.testing.assert_array_equal(loaded.lie_derivative(points(), sk.lie.so(2)),
                                  model.lie_derivative(points(), sk.lie.so(2)))


# ------------------------------------------------------------------------------ wrappers
def test_save_model_and_load_model(tmp_path: Path) -> None:
    X, Y = spiral_data()
    model = EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=0).fit(X, Y)
    run = liederiv.save_model(model, tmp_path / "run", config={"command": "lie enforce"})
    assert run.config()["run"] == {"command": "lie enforce"}
    assert run.config()["estimator"] == "EquivariantRegressor"
    loaded = liederiv.load_model(run.path)
    assert type(loaded) is EquivariantRegressor
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    with pytest.raises(FileExistsError):
        liederiv.save_model(model, tmp_path / "run")
    liederiv.save_model(model, tmp_path / "run", overwrite=True)


def test_load_model_refuses_other_runs(tmp_path: Path) -> None:
    from symmetrykit.runs import RunDirectory

    RunDirectory.create(tmp_path / "other", {"command": "discover"})
    with pytest.raises(ValueError, match="does not hold a saved dictionary model"):
        liederiv.load_model(tmp_path / "other")


# ------------------------------------------------------------------------------ 0.1 format
def test_legacy_dictionary_model_loads_with_a_warning() -> None:
    path = LEGACY / "liederiv_dictionary_model"
    expected = PolynomialDictionary(2, 2).transform(points()) @ LEGACY_COEF.T
    with pytest.warns(DeprecationWarning, match="symmetrykit 0.1"):
        loaded = sk.load(path)
    assert type(loaded) is DictionaryModel
    np.testing.assert_array_equal(loaded.predict(points()), expected)
    with pytest.warns(DeprecationWarning):
        again = liederiv.load_model(path)
    np.testing.assert_array_equal(again.coef_, LEGACY_COEF)


def test_legacy_equivariant_run_predicts_as_the_refitted_model() -> None:
    X, Y = spiral_data()
    refitted = EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=0).fit(X, Y)
    with pytest.warns(DeprecationWarning):
        loaded = liederiv.load_model(LEGACY / "liederiv_equivariant")
    assert type(loaded) is DictionaryModel  # 0.1 saved the dictionary and coefficients only
    np.testing.assert_array_equal(loaded.coef_, refitted.coef_)
    assert liederiv.discover(loaded, X, sk.lie.so(2), output_algebra="tangent").nullity == 1


@pytest.mark.parametrize(
    ("dictionary", "message"),
    [
        ({"kind": "polynomial", "n_features": 40, "degree": 40, "include_bias": True},
         "monomials, more than"),
        ({"kind": "polynomial", "n_features": 2, "degree": 2.7, "include_bias": True},
         "degree must be an integer"),
        ({"kind": "polynomial", "n_features": True, "degree": 2, "include_bias": True},
         "n_features must be an integer"),
        ({"kind": "polynomial", "n_features": 2, "degree": 2}, "keys"),
        ({"kind": "fourier", "n_features": 2, "degree": 2, "include_bias": True}, "kind"),
        ({"kind": "polynomial", "n_features": 2, "degree": 2, "include_bias": "yes"},
         "include_bias"),
        ("polynomial", "JSON object"),
    ],
)
def test_tampered_legacy_dictionary_is_refused(tmp_path: Path, dictionary, message) -> None:
    path = copy_run("liederiv_dictionary_model", tmp_path)
    edit_config(path, lambda config: config.update(dictionary=dictionary))
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=message) as error:
        sk.load(path)
    assert "\n" not in str(error.value)


def test_tampered_coefficients_are_refused(tmp_path: Path) -> None:
    path = copy_run("liederiv_dictionary_model", tmp_path)
    np.savez(path / "arrays.npz", coef=np.ones((1, 5)))
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="coef must have"):
        sk.load(path)
    np.savez(path / "arrays.npz", other=np.ones(3))
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="no 'coef'"):
        sk.load(path)


def test_tampered_new_runs_are_refused(tmp_path: Path) -> None:
    huge = {"kind": "polynomial", "n_features": 40, "degree": 40, "include_bias": True}
    model = DictionaryModel(PolynomialDictionary(2, 2), LEGACY_COEF)
    path = model.save(tmp_path / "dictionary")
    edit_config(path, lambda config: config["params"].update(dictionary=huge))
    with pytest.raises(ValueError, match="monomials"):
        sk.load(path)
    X, Y = spiral_data()
    fitted = EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=0).fit(X, Y)
    path = fitted.save(tmp_path / "enforced")
    edit_config(path, lambda config: config["extra"].update(dictionary=huge))
    with pytest.raises(ValueError, match="saved dictionary is invalid"):
        sk.load(path)


def test_dictionary_size_is_bounded() -> None:
    with pytest.raises(ValueError, match="monomials"):
        PolynomialDictionary(1000, 5)
    assert PolynomialDictionary(33, 3, include_bias=False).n_terms == 7139  # cubic tests in R^33
