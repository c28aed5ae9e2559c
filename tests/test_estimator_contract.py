"""The estimator contract, checked for every registered estimator at tiny sizes.

Every :class:`symmetrykit.SymmetryEstimator` must: round-trip through ``clone``/``get_params``,
compute nothing in ``__init__``, be deterministic for a fixed ``random_state``, leave the global
random generators alone, come back from ``save`` → ``symmetrykit.load`` as the same class with
identical outputs, resume an interrupted fit bit-identically (when it takes a checkpoint),
refuse to be used or saved before ``fit`` with a clear error, and declare a parameter table
(``_parameter_constraints``) that covers every constructor parameter, accepts the defaults and
refuses bad values with one line naming the parameter before any work. A new estimator without
a case here fails :func:`test_every_registered_estimator_has_a_case`.
"""

from __future__ import annotations

import importlib
import inspect
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.base import clone

import symmetrykit as sk
from symmetrykit._estimator import SymmetryEstimator, registered_estimators
from symmetrykit._validation import Integer, InvalidParameterError, Real, validate_params
from symmetrykit.testing import FitInterrupted, InterruptAfter

METHOD_PACKAGES = ("symmetrykit.lens", "symmetrykit.flows", "symmetrykit.baselines",
                   "symmetrykit.liederiv")


@dataclass
class Case:
    """How to build, fit and read one estimator at a tiny size."""

    make: Callable[..., Any]
    data: Callable[[], tuple]
    outputs: Callable[[Any, tuple], list[np.ndarray]]


def _signals() -> tuple:
    return (sk.datasets.local_signals(n_samples=256, dim=5, random_state=0).X,)


def _labelled_signals() -> tuple:
    rng = np.random.default_rng(0)
    return rng.standard_normal((24, 7)), np.array(["a", "b", "c"] * 8)


def _polygons(n_samples: int = 6, n_vertices: int = 12) -> np.ndarray:
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, (n_samples, 1)) + np.arange(n_vertices) * (
        2 * np.pi / n_vertices)
    return np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def polygon_defect(points: torch.Tensor) -> torch.Tensor:
    radial = ((points * points).sum(-1) - 1.0).pow(2).mean(-1)
    sides = torch.linalg.vector_norm(points - torch.roll(points, 1, dims=1), dim=-1)
    return torch.log(radial + sides.var(dim=-1) + 1e-6)


def _blobs(n_images: int = 6, size: int = 8) -> torch.Tensor:
    rng = np.random.default_rng(0)
    grid = sk.flows.pixel_grid(size, size, dtype=torch.float32)
    images = []
    for _ in range(n_images):
        centre = torch.as_tensor(rng.uniform(-0.5, 0.5, 2), dtype=torch.float32)
        image = torch.exp(-((grid - centre) ** 2).sum(-1) / 0.05)
        images.append(image.reshape(1, size, size))
    return torch.stack(images)


def pixel_change(original: torch.Tensor, transformed: torch.Tensor) -> torch.Tensor:
    return ((transformed - original) ** 2).mean(dim=(-3, -2, -1))


def _rotation_pairs() -> tuple:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    radius = (X**2).sum(1, keepdims=True)
    return X, X * (1 - radius)  # a rotation-equivariant vector field


CASES: dict[str, Case] = {
    "SymmetryLens": Case(
        make=lambda **kw: sk.SymmetryLens(**{
            "n_steps": 12, "batch_size": 64, "warmup_steps": 2, "log_every": 4,
            "checkpoint_every": 4, "progress": "none", **kw}),
        data=_signals,
        outputs=lambda est, data: [est.generator_, est.filter_, est.transform(data[0])],
    ),
    "GeneratorFlow": Case(
        make=lambda **kw: sk.flows.GeneratorFlow(**{
            "n_generators": 2, "hidden": (8,), "n_iterations": 8, "batch_size": 2,
            "validity": polygon_defect, "checkpoint_every": 3, "progress": "none", **kw}),
        data=lambda: (_polygons(),),
        outputs=lambda est, data: [est.evaluate(data[0].reshape(-1, 2)),
                                   np.asarray(est.history_["loss"])],
    ),
    "LieGAN": Case(
        make=lambda **kw: sk.baselines.LieGAN(**{"n_steps": 10, "batch_size": 32,
                                                 "progress": "none", **kw}),
        data=_signals,
        outputs=lambda est, data: [est.generator_],
    ),
    "SymmetryGAN": Case(
        make=lambda **kw: sk.baselines.SymmetryGAN(**{"n_steps": 10, "batch_size": 32,
                                                      "progress": "none", **kw}),
        data=_signals,
        outputs=lambda est, data: [est.generator_],
    ),
    "ImageGeneratorFlow": Case(
        make=lambda **kw: sk.flows.ImageGeneratorFlow(**{
            "validity": pixel_change, "pixel_weights": "uniform", "n_generators": 2,
            "hidden": (8,), "n_iterations": 8, "batch_size": 2, "checkpoint_every": 3,
            "progress": "none", **kw}),
        data=lambda: (_blobs(),),
        outputs=lambda est, data: [est.evaluate(sk.flows.pixel_grid(8, 8)),
                                   np.asarray(est.history_["loss"])],
    ),
    "CNNClassifier": Case(
        make=lambda **kw: sk.lens.CNNClassifier(channels=(4,), kernel_sizes=(3,), n_epochs=3,
                                                progress="none", **kw),
        data=_labelled_signals,
        outputs=lambda est, data: [est.predict_proba(data[0]), est.predict(data[0])],
    ),
    "EquivariantRegressor": Case(
        make=lambda **kw: sk.liederiv.EquivariantRegressor(2, sk.lie.so(2), "tangent", **kw),
        data=_rotation_pairs,
        outputs=lambda est, data: [est.predict(data[0])],
    ),
    "PromotedRegressor": Case(
        make=lambda **kw: sk.liederiv.PromotedRegressor(2, sk.lie.gl(2), "tangent", **kw),
        data=_rotation_pairs,
        outputs=lambda est, data: [est.predict(data[0])],
    ),
}


def _estimator_names() -> list[str]:
    for package in METHOD_PACKAGES:
        importlib.import_module(package)
    return sorted(name for name, cls in registered_estimators().items()
                  if isinstance(cls, type) and issubclass(cls, SymmetryEstimator)
                  and cls.__module__.startswith(METHOD_PACKAGES))


def _fit(case: Case, estimator: Any, data: tuple) -> Any:
    return estimator.fit(*data)


def _assert_same(first: list[np.ndarray], second: list[np.ndarray]) -> None:
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _case(name: str) -> Case:
    if name not in CASES:
        pytest.fail(f"no contract case for the registered estimator {name}")
    return CASES[name]


NAMES = _estimator_names()


def _names(slow: set[str]) -> list[Any]:
    """NAMES with a slow mark on the estimators whose fits take a second or more."""
    return [pytest.param(name, marks=pytest.mark.slow) if name in slow else name
            for name in NAMES]


# Iterative fits: the contract fits them twice or three times per test.
SLOW_FITS = {"GeneratorFlow", "ImageGeneratorFlow", "LieGAN", "SymmetryGAN", "SymmetryLens"}


def test_every_registered_estimator_has_a_case():
    missing = sorted(set(NAMES) - set(CASES))
    assert not missing, f"add contract cases for {missing}"
    assert {"SymmetryLens", "GeneratorFlow", "LieGAN", "SymmetryGAN"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_clone_and_params_round_trip(name):
    estimator = _case(name).make(random_state=3)
    params = estimator.get_params(deep=False)
    copy = clone(estimator)
    assert type(copy) is type(estimator)
    assert copy.get_params(deep=False).keys() == params.keys()
    for key, value in params.items():
        assert copy.get_params(deep=False)[key] is value or (
            copy.get_params(deep=False)[key] == value)
    copy.set_params(random_state=4)
    assert copy.random_state == 4 and estimator.random_state == 3


@pytest.mark.parametrize("name", NAMES)
def test_init_only_stores_parameters(name):
    estimator = _case(name).make(random_state=0)
    assert set(vars(estimator)) == set(estimator.get_params(deep=False))
    assert not any(key.endswith("_") for key in vars(estimator))


@pytest.mark.parametrize("name", _names(SLOW_FITS))
def test_fit_is_deterministic_and_leaves_global_rngs_alone(name):
    case = _case(name)
    data = case.data()
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    torch_state = torch.random.get_rng_state()
    first = _fit(case, case.make(random_state=7), data)
    second = _fit(case, case.make(random_state=7), data)
    _assert_same(case.outputs(first, data), case.outputs(second, data))
    assert random.getstate() == python_state
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1])
    assert isinstance(first.fit_time_, dict) and {"wall_s", "cpu_s"} <= set(first.fit_time_)


@pytest.mark.parametrize("name", _names(SLOW_FITS))
def test_save_and_load_give_identical_outputs(name, tmp_path):
    case = _case(name)
    data = case.data()
    fitted = _fit(case, case.make(random_state=1), data)
    path = fitted.save(tmp_path / "run", metrics={"note": "contract"})
    config = sk.runs.RunDirectory.open(path).config()
    assert config["estimator"] == name and isinstance(config["format_version"], int)
    loaded = sk.load(path)
    assert type(loaded) is type(fitted)
    _assert_same(case.outputs(fitted, data), case.outputs(loaded, data))
    assert type(fitted).load(path).get_params(deep=False).keys() == (
        fitted.get_params(deep=False).keys())


@pytest.mark.parametrize("name", _names(SLOW_FITS))
def test_an_interrupted_fit_resumes_bit_identically(name, tmp_path):
    case = _case(name)
    estimator = case.make(random_state=2)
    if "checkpoint" not in estimator.get_params():
        pytest.skip(f"{name} takes no checkpoint (its fits are short or closed-form)")
    data = case.data()
    reference = _fit(case, case.make(random_state=2), data)
    path = tmp_path / "checkpoint"
    with pytest.raises(FitInterrupted):
        _fit(case, case.make(random_state=2, checkpoint=path,
                             progress=InterruptAfter(7)), data)
    assert (path / "checkpoint.npz").is_file()
    resumed = _fit(case, case.make(random_state=2, checkpoint=path), data)
    _assert_same(case.outputs(reference, data), case.outputs(resumed, data))


@pytest.mark.parametrize("name", NAMES)
def test_a_clear_error_before_fit(name, tmp_path):
    case = _case(name)
    estimator = case.make(random_state=0)
    with pytest.raises(ValueError, match="not fitted"):
        case.outputs(estimator, case.data())
    with pytest.raises(ValueError, match="not fitted"):
        estimator.save(tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_load_refuses_a_newer_format_and_a_foreign_directory(tmp_path):
    case = CASES["LieGAN"]
    data = case.data()
    path = _fit(case, case.make(random_state=0), data).save(tmp_path / "run")
    run = sk.runs.RunDirectory.open(path)
    config = run.config()
    newer = sk.runs.RunDirectory.create(tmp_path / "newer", {**config, "format_version": 99})
    with pytest.raises(ValueError, match="newer"):
        sk.load(newer.path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="config.json is missing"):
        sk.load(tmp_path / "empty")
    foreign = sk.runs.RunDirectory.create(tmp_path / "foreign",
                                          {**config, "estimator": "os.system"})
    with pytest.raises(ValueError, match="unknown estimator"):
        sk.load(foreign.path)
    with pytest.raises(ValueError, match="not a LieGAN|holds a saved"):
        sk.SymmetryLens.load(path)


def test_presets_build_estimators_and_unknown_names_are_refused():
    flow = sk.GeneratorFlow.preset("pde-cpu", random_state=0)
    assert flow.random_state == 0
    assert flow.get_params()["n_iterations"] == sk.GeneratorFlow.presets()["pde-cpu"][
        "n_iterations"]
    with pytest.raises(ValueError, match="unknown GeneratorFlow preset"):
        sk.GeneratorFlow.preset("no-such-preset")


def test_every_method_is_registered_with_an_evaluate():
    for name in sk.methods.list_methods():
        method = sk.get_method(name)
        assert issubclass(method.estimator, SymmetryEstimator)
        assert callable(method.evaluate) and callable(method.prepare)
    with pytest.raises(ValueError, match="unknown method"):
        sk.get_method("no-such-method")


# ------------------------------------------------------------------------------ parameter tables
def _constructor_defaults(cls: type) -> dict[str, Any]:
    return {name: parameter.default
            for name, parameter in inspect.signature(cls.__init__).parameters.items()
            if name != "self"}


def _accepted(forms: list, value: Any) -> bool:
    return any((form is None and value is None) or (form is not None and form.accepts(value))
               for form in forms)


@pytest.mark.parametrize("name", NAMES)
def test_the_parameter_table_covers_the_constructor_and_accepts_the_defaults(name):
    cls = registered_estimators()[name]
    table = cls._parameter_constraints
    defaults = _constructor_defaults(cls)
    assert set(table) == set(defaults), (
        f"{name}: parameters without constraints {sorted(set(defaults) - set(table))}, "
        f"constraints of no parameter {sorted(set(table) - set(defaults))}")
    given = {key: value for key, value in defaults.items()
             if value is not inspect.Parameter.empty}
    validate_params(name, given, table)  # raises on a default its own table refuses
    for preset in cls.presets():
        validate_params(name, cls.preset(preset).get_params(deep=False), table)


# A string where a number belongs, the non-finite numbers, a negative number and zero.
BAD_VALUES = ("0.5", float("nan"), float("inf"), -1, 0)


@pytest.mark.parametrize("name", NAMES)
def test_bad_parameters_get_one_line_naming_them_before_any_work(name, monkeypatch):
    case = _case(name)
    cls = registered_estimators()[name]
    data = case.data()

    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{name} started fitting before checking its parameters")

    monkeypatch.setattr(cls, "_fit_clock", no_work)
    monkeypatch.setattr(cls, "_progress_meter", no_work)
    probed = set()
    for parameter, forms in cls._parameter_constraints.items():
        if any(isinstance(form, (Real, Integer)) for form in forms):
            # A number parameter never takes a string or NaN, nor inf unless unbounded on top.
            assert not _accepted(forms, "0.5") and not _accepted(forms, float("nan")), parameter
            assert not _accepted(forms, float("inf")), parameter
        for value in BAD_VALUES:
            if _accepted(forms, value):
                continue
            estimator = case.make(random_state=0).set_params(**{parameter: value})
            expected = f"^{name}: {parameter} must be"
            with pytest.raises(InvalidParameterError, match=expected) as error:
                estimator.fit(*data)
            assert "\n" not in str(error.value) and not estimator._is_fitted()
            probed.add(parameter)
    numeric = {p for p, forms in cls._parameter_constraints.items()
               if any(isinstance(form, (Real, Integer)) for form in forms)}
    assert numeric <= probed
