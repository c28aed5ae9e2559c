"""The shared core: torch_generator, the base estimator's plumbing, the run format, Evaluation,
the method registry, the lazy top-level namespace and symmetrykit.testing."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import symmetrykit as sk
from symmetrykit._estimator import (
    SymmetryEstimator,
    register_estimator,
    resolve_device,
    torch_generator,
)
from symmetrykit._persistence import _decode_param, _encode_param


class _Toy(SymmetryEstimator):
    """A tiny estimator exercising every kind of saved state."""

    _presets = {"big": {"alpha": 10.0}}

    def __init__(self, alpha=1.0, shape=(2, 3), algebra=None, random_state=None,
                 progress=None):
        self.alpha = alpha
        self.shape = shape
        self.algebra = algebra
        self.random_state = random_state
        self.progress = progress

    def fit(self, X):
        X = np.asarray(X, dtype=np.float64)
        with self._fit_clock() as extra, self._progress_meter(3) as meter:
            generator = self._torch_generator()
            self.net_ = torch.nn.Linear(*self.shape, dtype=torch.float64)
            with torch.no_grad():
                self.net_.weight.normal_(generator=generator)
            self.mean_ = X.mean(0)
            self.mask_ = X[0] > 0
            self.n_features_in_ = X.shape[1]
            self.labels_ = ["a", "b"]
            self.history_ = {"loss": [3.0, 2.0, 1.0],
                             "per slot": np.arange(6.0).reshape(3, 2)}
            for step, loss in enumerate(self.history_["loss"]):
                self._check_finite_loss(torch.tensor(loss), step)
                meter.update(1, loss=loss)
            extra["extra_s"] = 0.0
        self.double_ = self.mean_ * 2
        return self

    _derived_attributes = ("double_",)

    def _build_module(self, name, config):
        return torch.nn.Linear(*config["shape"], dtype=torch.float64)

    def _module_config(self, name, module):
        return {"shape": [module.in_features, module.out_features]}

    def _after_load(self):
        self.double_ = self.mean_ * 2


register_estimator(_Toy, "_Toy")  # leading underscore: not registered by itself


def test_torch_generator_has_one_meaning_and_leaves_global_state_alone():
    state = torch.random.get_rng_state()
    a = torch.rand(3, generator=torch_generator(5))
    b = torch.rand(3, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)  # an integer seeds with itself
    rng = np.random.default_rng(0)
    first = torch.rand(2, generator=torch_generator(rng))
    second = torch.rand(2, generator=torch_generator(rng))
    assert not torch.equal(first, second)  # a numpy Generator advances
    given = torch.Generator()
    assert torch_generator(given) is given
    assert torch.equal(torch.random.get_rng_state(), state)
    for bad in (-1, 1.5, "0", True):
        with pytest.raises(ValueError, match="random_state"):
            torch_generator(bad)


def test_resolve_device_names_the_problem():
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_params_keep_their_types_through_json():
    algebra = sk.lie.so(3)
    values = [None, 1, 2.5, float("inf"), "x", (1, (2, 3)), [1, 2], {"a": (1.0,)},
              np.arange(6, dtype=np.int32).reshape(2, 3), np.float64(0.1) / 3]
    for value in values:
        text = json.dumps(_encode_param(value), allow_nan=False)
        back = _decode_param(json.loads(text))
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype
            np.testing.assert_array_equal(back, value)
        else:
            assert back == value and type(back) is type(value) or isinstance(value, np.floating)
    back = _decode_param(json.loads(json.dumps(_encode_param(algebra))))
    np.testing.assert_array_equal(back.generators, algebra.generators)
    assert back.name == algebra.name
    with pytest.raises(TypeError):
        _encode_param(object())


def test_a_toy_estimator_round_trips_every_kind_of_state(tmp_path):
    toy = _Toy(alpha=2.0, algebra=sk.lie.so(2), random_state=0).fit(np.ones((4, 2)))
    assert set(toy.fit_time_) == {"wall_s", "cpu_s", "extra_s"}
    path = toy.save(tmp_path / "run")
    assert sorted(p.name for p in path.iterdir()) == ["arrays.npz", "config.json",
                                                      "metrics.json"]
    back = sk.load(path)
    assert isinstance(back, _Toy)
    assert back.shape == (2, 3) and back.alpha == 2.0
    np.testing.assert_array_equal(back.algebra.generators, toy.algebra.generators)
    assert torch.equal(back.net_.weight, toy.net_.weight)
    np.testing.assert_array_equal(back.mask_, toy.mask_)
    assert back.labels_ == ["a", "b"] and back.n_features_in_ == 2
    assert back.history_["loss"] == [3.0, 2.0, 1.0]
    np.testing.assert_array_equal(back.history_["per slot"], toy.history_["per slot"])
    np.testing.assert_array_equal(back.double_, toy.double_)
    assert back.fit_time_ == pytest.approx(toy.fit_time_)
    with pytest.raises(FileExistsError):
        toy.save(path)


def test_a_meter_object_is_not_saved_but_the_rest_is(tmp_path):
    class Meter:
        def start(self, total, description=""):
            pass

        def update(self, n=1, **metrics):
            pass

        def close(self):
            pass

    toy = _Toy(progress=Meter(), random_state=0).fit(np.ones((4, 2)))
    back = sk.load(toy.save(tmp_path / "run"))
    assert back.progress is None and back.random_state == 0


def test_unsaved_state_and_non_finite_losses_are_named(tmp_path):
    toy = _Toy(random_state=0).fit(np.ones((4, 2)))
    toy.callback_ = print
    with pytest.raises(TypeError, match="callback_"):
        toy.save(tmp_path / "run")
    assert not (tmp_path / "run").exists()
    with pytest.raises(FloatingPointError, match="step 4"):
        toy._check_finite_loss(torch.tensor(float("nan")), 4)


def test_presets():
    assert _Toy.preset("big", shape=(1, 1)).get_params()["alpha"] == 10.0
    assert _Toy.presets() == {"big": {"alpha": 10.0}}
    with pytest.raises(ValueError, match="unknown _Toy preset 'small'; known: big"):
        _Toy.preset("small")


def test_evaluation_flattens_and_renders():
    evaluation = sk.Evaluation("toy", {"cos": np.float64(0.5), "fit_time": {"cpu_s": 1.0},
                                       "bad": float("nan"), "slots": [1.0, float("inf")]})
    assert evaluation.metrics == {"cos": 0.5, "fit_time.cpu_s": 1.0, "bad": None,
                                  "slots": [1.0, None]}
    assert json.loads(evaluation.to_json())["metrics"]["cos"] == 0.5
    assert json.loads(sk.Evaluation("t", {}, details={"m": np.eye(2)}).to_json())["details"] == {
        "m": [[1.0, 0.0], [0.0, 1.0]]}
    assert "| cos | 0.5 |" in evaluation.to_markdown()
    with pytest.raises(TypeError, match="metric 'x'"):
        sk.Evaluation("toy", {"x": object()})


def test_evaluation_saves_metrics_and_figures(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def draw():
        figure, axis = plt.subplots()
        axis.set_title("t")
        return figure

    run = sk.runs.RunDirectory.create(tmp_path / "run", {"a": 1})
    run.save_metrics({"kept": 1})
    sk.Evaluation("toy", {"cos": 1.0}, figures={"plot": draw}).save(run)
    assert run.load_metrics() == {"kept": 1, "cos": 1.0}
    assert [p.name for p in run.figures()] == ["plot.png"]


def test_import_symmetrykit_is_lazy():
    code = ("import sys, symmetrykit as sk; sk.datasets; sk.lie; sk.metrics; sk.testing; "
            "print(sorted(m for m in ('torch', 'sklearn', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    assert "SymmetryLens" in dir(sk)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        sk.nothing  # noqa: B018


def test_assert_equivariant_passes_for_equivariant_maps_and_fails_otherwise():
    so2 = sk.lie.so(2)
    elements = np.stack([so2.exp([t]) for t in (0.3, 1.7)])
    x = np.random.default_rng(0).normal(size=(8, 2))
    sk.testing.assert_equivariant(lambda p: p * (p**2).sum(1, keepdims=True), x, elements)
    sk.testing.assert_invariant(lambda p: (p**2).sum(1), x, elements)
    tensor = torch.as_tensor(x)
    sk.testing.assert_equivariant(lambda p: 3 * p, tensor, elements[0])
    with pytest.raises(AssertionError, match="not equivariant"):
        sk.testing.assert_equivariant(lambda p: p + np.array([1.0, 0.0]), x, elements)
    with pytest.raises(ValueError, match="g_out"):
        sk.testing.assert_equivariant(lambda p: p, x, elements, "flip")
    # Only some output components obey the action: compare those.
    shift = sk.lie.shift(4)
    assert sk.testing.equivariance_error(lambda p: p, x[:, :1].repeat(4, 1), shift,
                                         compare=slice(1, 3)) == 0.0
