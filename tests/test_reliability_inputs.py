"""Bad inputs and diverging fits of the flows, the adversarial baselines and liederiv (issue 19).

* Item 7: complex data is refused with one line by every entry point that takes data, never cut
  to its real part.
* Item 8: a non-finite or exploding loss (or, for the flows, an exploding field) stops the fit
  with an error naming the step and the fix; the checkpoint written before stays resumable.
* Item 11: parameters of the wrong type or range are refused with one line naming them.
* Item 12 (flows): an edited checkpoint whose ``next_iteration`` is out of range is refused,
  not taken for a finished fit.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symmetrykit as sk
from symmetrykit import liederiv
from symmetrykit._validation import InvalidParameterError
from symmetrykit.baselines import LieGAN, SymmetryGAN
from symmetrykit.flows import GeneratorFlow, ImageGeneratorFlow
from symmetrykit.runs import RunDirectory
from symmetrykit.testing import FitInterrupted, InterruptAfter

# Tiny tensors: intra-op threads only cost time here (see conftest.single_thread).
pytestmark = pytest.mark.usefixtures("single_thread")


def polygons(n_samples: int = 6, n_vertices: int = 12) -> np.ndarray:
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, (n_samples, 1)) + np.arange(n_vertices) * (
        2 * np.pi / n_vertices)
    return np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def polygon_defect(points: torch.Tensor) -> torch.Tensor:
    radial = ((points * points).sum(-1) - 1.0).pow(2).mean(-1)
    sides = torch.linalg.vector_norm(points - torch.roll(points, 1, dims=1), dim=-1)
    return torch.log(radial + sides.var(dim=-1) + 1e-6)


def pixel_change(original: torch.Tensor, transformed: torch.Tensor) -> torch.Tensor:
    return ((transformed - original) ** 2).mean(dim=(-3, -2, -1))


def blobs(n_images: int = 4, size: int = 8) -> torch.Tensor:
    grid = sk.flows.pixel_grid(size, size, dtype=torch.float32)
    centres = torch.linspace(-0.4, 0.4, n_images)
    images = [torch.exp(-((grid - torch.stack([c, -c])) ** 2).sum(-1) / 0.05) for c in centres]
    return torch.stack(images).reshape(n_images, 1, size, size)


def small_flow(**params) -> GeneratorFlow:
    return GeneratorFlow(**{"n_generators": 2, "hidden": (8,), "n_iterations": 8,
                            "batch_size": 2, "validity": polygon_defect, "progress": "none",
                            "random_state": 0, **params})


def signals() -> np.ndarray:
    return sk.datasets.local_signals(n_samples=64, dim=5, random_state=0).X


RNG = np.random.default_rng(0)
POINTS = RNG.normal(size=(30, 2))
TARGETS = POINTS * (1 - (POINTS**2).sum(1, keepdims=True))
COMPLEX_POINTS = POINTS + 1j * POINTS[:, ::-1]
PHI = liederiv.PolynomialDictionary(2, 2).transform(POINTS)
TENSOR = liederiv.lie_tensor(liederiv.PolynomialDictionary(2, 2), POINTS, sk.lie.so(2),
                             "tangent", n_outputs=2)


def _fitted_regressor():
    return liederiv.EquivariantRegressor(2, sk.lie.so(2), "tangent").fit(POINTS, TARGETS)


# ------------------------------------------------------------------------------ item 7
COMPLEX_ENTRY_POINTS = {
    "LieGAN.fit": lambda: LieGAN(n_steps=2, progress="none").fit(signals() + 1j),
    "SymmetryGAN.fit": lambda: SymmetryGAN(n_steps=2, progress="none").fit(signals() + 1j),
    "SymmetryGAN.transform": lambda: SymmetryGAN(n_steps=1, progress="none", random_state=0)
    .fit(signals()).transform(signals() + 1j),
    "GeneratorFlow.fit": lambda: small_flow().fit(polygons() + 1j),
    "flows.compare": lambda: sk.flows.compare(small_flow(n_iterations=1).fit(polygons()),
                                              polygons() + 1j, reference=[lambda p: p]),
    "ImageGeneratorFlow.fit": lambda: ImageGeneratorFlow(
        validity=pixel_change, pixel_weights="uniform", progress="none").fit(blobs() + 1j),
    "discover": lambda: liederiv.discover(lambda x: (x**2).sum(1), COMPLEX_POINTS,
                                          sk.lie.gl(2)),
    "discover_density": lambda: liederiv.discover_density(COMPLEX_POINTS, sk.lie.gl(2)),
    "discover_tangent": lambda: liederiv.discover_tangent(COMPLEX_POINTS, sk.lie.gl(2),
                                                          manifold_dim=1),
    "lie_derivative": lambda: liederiv.lie_derivative(lambda x: (x**2).sum(1), COMPLEX_POINTS,
                                                      sk.lie.so(2)),
    "lie_tensor": lambda: liederiv.lie_tensor(liederiv.PolynomialDictionary(2, 2),
                                              COMPLEX_POINTS, sk.lie.so(2)),
    "network_lie_derivative": lambda: liederiv.network_lie_derivative(
        torch.nn.Linear(2, 1).double(), COMPLEX_POINTS, sk.lie.so(2)),
    "network_lie_derivative (tensor)": lambda: liederiv.network_lie_derivative(
        torch.nn.Linear(2, 1).double(), torch.as_tensor(COMPLEX_POINTS), sk.lie.so(2)),
    "directional_derivatives": lambda: liederiv.directional_derivatives(
        lambda x: (x**2).sum(1), COMPLEX_POINTS, sk.lie.so(2).vector_fields(POINTS)),
    "EquivariantRegressor X": lambda: liederiv.EquivariantRegressor(
        2, sk.lie.so(2), "tangent").fit(COMPLEX_POINTS, TARGETS),
    "EquivariantRegressor Y": lambda: liederiv.EquivariantRegressor(
        2, sk.lie.so(2), "tangent").fit(POINTS, TARGETS + 1j),
    "EquivariantRegressor.predict": lambda: _fitted_regressor().predict(COMPLEX_POINTS),
    "PromotedRegressor X": lambda: liederiv.PromotedRegressor(
        2, sk.lie.so(2), "tangent", random_state=0).fit(COMPLEX_POINTS, TARGETS),
    "PromotedRegressor y": lambda: liederiv.PromotedRegressor(
        2, sk.lie.so(2), "tangent", random_state=0).fit(POINTS, TARGETS + 1j),
    "promote_interpolation": lambda: liederiv.promote_interpolation(PHI + 1j, TARGETS, TENSOR),
    "promote_penalized": lambda: liederiv.promote_penalized(PHI, TARGETS + 1j, TENSOR,
                                                            gamma=0.1),
    "RegressionData": lambda: liederiv.RegressionData(POINTS, TARGETS + 1j),
}


@pytest.mark.parametrize("entry", sorted(COMPLEX_ENTRY_POINTS))
def test_complex_data_is_refused_with_one_line(entry):
    # pytest turns warnings into errors: a silent cast to the real part (ComplexWarning)
    # would fail here as a warning, not pass as the ValueError.
    with pytest.raises(ValueError, match="complex") as error:
        COMPLEX_ENTRY_POINTS[entry]()
    assert "\n" not in str(error.value)


# ------------------------------------------------------------------------------ item 8
def test_a_generator_flow_at_lr_1e6_stops_with_a_divergence_error_naming_step_and_fix():
    with pytest.raises(FloatingPointError, match="diverged at step 1 .*lower the learning rate"):
        small_flow(lr=1e6).fit(polygons())


def test_an_image_flow_at_lr_1e6_stops_with_a_divergence_error():
    flow = ImageGeneratorFlow(validity=pixel_change, pixel_weights="uniform", n_generators=2,
                              hidden=(8,), n_iterations=6, batch_size=2, lr=1e6,
                              progress="none", random_state=0)
    with pytest.raises(FloatingPointError, match="at step 1.*lower the learning rate"):
        flow.fit(blobs())


@pytest.mark.parametrize("cls", [LieGAN, SymmetryGAN])
def test_an_adversarial_fit_at_a_huge_learning_rate_stops_naming_step_and_fix(cls):
    model = cls(n_steps=50, batch_size=32, lr=1e6, discriminator_lr=1e6, log_every=25,
                progress="none", random_state=0)
    # The divergence is caught at the step it happens, not at the next logged step (25).
    with pytest.raises(FloatingPointError, match=r"at step [1-9]\b.*lower the learning rates"):
        model.fit(signals())


@pytest.mark.slow
def test_a_checkpoint_written_before_a_non_finite_loss_resumes_to_the_healthy_result(tmp_path):
    calls = []

    def fails_at_iteration_5(points: torch.Tensor) -> torch.Tensor:
        calls.append(1)  # one validity call per iteration
        score = polygon_defect(points)
        return score * float("nan") if len(calls) == 6 else score

    path = tmp_path / "checkpoint"
    with pytest.raises(FloatingPointError, match="at step 5"):
        small_flow(validity=fails_at_iteration_5, checkpoint=path, checkpoint_every=2
                   ).fit(polygons())
    assert RunDirectory.open(path).load_checkpoint()[1]["next_iteration"] == 4
    resumed = small_flow(checkpoint=path, checkpoint_every=2).fit(polygons())
    reference = small_flow().fit(polygons())
    np.testing.assert_array_equal(resumed.history_["loss"], reference.history_["loss"])
    np.testing.assert_array_equal(resumed.evaluate(POINTS), reference.evaluate(POINTS))


# ------------------------------------------------------------------------------ item 12
FLOW_CASES = {
    "GeneratorFlow": (lambda **kw: small_flow(checkpoint_every=2, **kw), polygons),
    "ImageGeneratorFlow": (lambda **kw: ImageGeneratorFlow(**{
        "validity": pixel_change, "pixel_weights": "uniform", "n_generators": 2,
        "hidden": (8,), "n_iterations": 8, "batch_size": 2, "checkpoint_every": 2,
        "progress": "none", "random_state": 0, **kw}), blobs),
}


@pytest.mark.parametrize("name", sorted(FLOW_CASES))
@pytest.mark.parametrize("next_iteration", [10**6, 0, -3, 8, 2.5, True])
def test_an_edited_next_iteration_is_refused(name, next_iteration, tmp_path):
    make, data = FLOW_CASES[name]
    path = tmp_path / "checkpoint"
    with pytest.raises(FitInterrupted):
        make(checkpoint=path, progress=InterruptAfter(5)).fit(data())
    run = RunDirectory.open(path)
    arrays, meta = run.load_checkpoint()
    run.save_checkpoint(arrays, {**meta, "next_iteration": next_iteration})
    with pytest.raises(ValueError, match="next_iteration") as error:
        make(checkpoint=path).fit(data())
    assert "\n" not in str(error.value)


def test_a_checkpoint_history_of_the_wrong_length_is_refused(tmp_path):
    path = tmp_path / "checkpoint"
    with pytest.raises(FitInterrupted):
        small_flow(checkpoint=path, checkpoint_every=2, progress=InterruptAfter(5)).fit(polygons())
    run = RunDirectory.open(path)
    arrays, meta = run.load_checkpoint()
    run.save_checkpoint({**arrays, "history.loss": np.zeros(3)}, meta)
    with pytest.raises(ValueError, match="history.loss has shape"):
        small_flow(checkpoint=path, checkpoint_every=2).fit(polygons())


# ------------------------------------------------------------------------------ item 11
@pytest.mark.parametrize(("make", "parameter"), [
    (lambda: small_flow(lr="0.1"), "lr"),
    (lambda: small_flow(hidden=-3), "hidden"),
    (lambda: small_flow(hidden=(8, 0)), "hidden"),
    (lambda: small_flow(lr=float("inf")), "lr"),
    (lambda: small_flow(s_range=float("nan")), "s_range"),
    (lambda: small_flow(lr_decay_at=5), "lr_decay_at"),
    (lambda: small_flow(patch_shape=(2, 40)), "patch_shape"),
    (lambda: small_flow(linear_skip="yes"), "linear_skip"),
    (lambda: small_flow(n_iterations=10.0), "n_iterations"),
    (lambda: LieGAN(hidden=0), "hidden"),
    (lambda: LieGAN(lr="0.1"), "lr"),
    (lambda: LieGAN(coef_scale=float("inf")), "coef_scale"),
    (lambda: SymmetryGAN(hidden=-3), "hidden"),
    (lambda: SymmetryGAN(init_scale=float("nan")), "init_scale"),
    (lambda: SymmetryGAN(batch_size=True), "batch_size"),
    (lambda: SymmetryGAN(device="gpu"), "device"),
    (lambda: SymmetryGAN(progress="bars"), "progress"),
    (lambda: liederiv.EquivariantRegressor(alpha=float("nan")), "alpha"),
    (lambda: liederiv.EquivariantRegressor(degree="2"), "degree"),
    (lambda: liederiv.PromotedRegressor(algebra=sk.lie.so(2), gamma=float("inf")), "gamma"),
    (lambda: liederiv.PromotedRegressor(algebra=sk.lie.so(2), normalize="no"), "normalize"),
])
def test_a_parameter_of_the_wrong_type_or_range_is_named_in_one_line(make, parameter):
    estimator = make()
    data = (polygons(),) if isinstance(estimator, GeneratorFlow) else (
        (signals(),) if isinstance(estimator, (LieGAN, SymmetryGAN)) else (POINTS, TARGETS))
    with pytest.raises(InvalidParameterError, match=rf"{parameter} must be .*, got ") as error:
        estimator.fit(*data)
    assert "\n" not in str(error.value)


def test_the_integer_scale_of_integer_coefficients_is_still_checked():
    with pytest.raises(ValueError, match="coef_scale must be a positive integer"):
        LieGAN(coefficients="integer", coef_scale=1.5).fit(signals())
