"""Learn pixel-coordinate symmetry generators of images: :class:`ImageGeneratorFlow`.

The paper's CIFAR-10 experiment (Ko, Kim & Lee 2024, §5.1) on MNIST digits: each iteration draws
a batch of images and one flow time ``s ~ U(-s_range, s_range)``, flows the pixel grid along
every field with RK4 (fields normalised by their weighted RMS norm over the grid, kept fixed
along the flow: an autonomous variant of the paper's per-point-set normalisation), warps the
images and minimises ``sum_k validity_k + w_orth * sum_k orth_k + w_lips * sum_k lips_k``
(sequential orthogonality, eq. (11), under the pixel weights; Lipschitz hinge, eq. (13), with
``tau`` between neighbouring pixels) with Adam. The loop itself is shared with
:class:`~symmetrykit.flows.GeneratorFlow` (``_training.py``).

:func:`fit_image_generators` is the functional form (a given validity, no classifier) and
returns an :class:`ImageGenerators` result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from .._estimator import SymmetryEstimator
from .._validation import (
    CHECKPOINTING,
    POSITIVE,
    TRAINING,
    Boolean,
    Integer,
    Options,
    Real,
    Sequence_,
    Whatever,
)
from ._canonical import field_jacobians, smoothest_basis
from ._fields import GeneratorField, build_field, flow
from ._images import (
    DigitCNN,
    ImageValidity,
    _check_images,
    affine_measure,
    pixel_grid,
    train_classifier,
    warp_images,
)
from ._regularizers import FieldSimilarity, lipschitz_penalty, orthogonality_penalty
from ._training import LOSS_FIX, checkpoint_params, field_scale, new_history, train_field

__all__ = ["ImageData", "ImageGeneratorFlow", "ImageGenerators", "fit_image_generators",
           "mnist_data"]


@dataclass(frozen=True, eq=False)
class ImageData:
    """Grey-scale training and held-out images with labels.

    What :meth:`ImageGeneratorFlow.fit` learns from (``images``, and ``labels`` for its
    classifier) and what :func:`~symmetrykit.flows.evaluate` scores on (the held-out part).

    Attributes
    ----------
    images, test_images : ndarray, shape (n, H, W)
        ``uint8`` intensities (divided by 255) or floats in ``[0, 1]``.
    labels, test_labels : ndarray of int, shape (n,)
    name : str
    """

    images: np.ndarray
    labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    name: str = "images"


def mnist_data(n_train: int = 4000, n_test: int = 256, random_state: Any = 0) -> ImageData:
    """The bundled MNIST digits split at random into ``n_train`` training and ``n_test`` held-out.

    The split of ``symmetrykit flow-discover --data mnist`` (a permutation drawn from
    ``numpy.random.default_rng(random_state)``; the file itself is grouped by label).
    """
    from ..datasets import mnist_digits

    images, labels = mnist_digits()
    order = np.random.default_rng(random_state).permutation(images.shape[0])
    n_train = min(int(n_train), images.shape[0] - 1)
    train, test = order[:n_train], order[n_train:][: int(n_test)]
    return ImageData(images[train], labels[train], images[test], labels[test], name="mnist")


def pixel_tensor(images: Any) -> torch.Tensor:
    """Images as a float tensor ``(n, C, H, W)``: ``uint8`` is divided by 255, ``(n, H, W)``
    gets one channel; tensors are kept as they are."""
    if isinstance(images, torch.Tensor):
        return images
    array = np.asarray(images)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    elif array.dtype.kind != "f":
        raise ValueError(f"images must be uint8 or floating point, got {array.dtype}")
    tensor = torch.as_tensor(array)
    return tensor[:, None] if tensor.ndim == 3 else tensor


def _smoothest_rotation(field_fn: Callable[[torch.Tensor], torch.Tensor], grid: torch.Tensor,
                        weights: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """:func:`smoothest_basis` of all slots under the pixel weights (values and Jacobians
    scaled by ``sqrt(w / mean w)``, so that both matrices are weighted means)."""
    values, jacobians = field_jacobians(field_fn, grid)
    root = torch.sqrt(weights / weights.mean()).to(values)
    values = (values * root[None, :, None]).double().cpu().numpy()
    jacobians = (jacobians * root[None, :, None, None]).double().cpu().numpy()
    return smoothest_basis(values, jacobians, np.ones(values.shape[0], dtype=bool))


class ImageGeneratorFlow(SymmetryEstimator):
    """Learn ``K`` pixel-coordinate symmetry generators of images (Ko, Kim & Lee 2024, §5.1).

    ``ImageGeneratorFlow.preset("mnist", random_state=0).fit(sk.flows.mnist_data())`` is the
    pipeline of ``symmetrykit flow-discover --data mnist``: with ``validity=None`` the fit
    trains a small digit classifier on the training images (:func:`train_classifier`), scores
    transformations by the angle between its features (:class:`ImageValidity`) and weights
    pixels by the classifier's sensitivity to local translations.

    Parameters
    ----------
    validity : callable or None, default None
        ``(original (B, C, H, W), transformed (K, B, C, H, W)) -> (K, B)`` scores, lower is
        more valid, differentiable in ``transformed``. ``None``: a :class:`DigitCNN` trained
        on the training images and labels, through :class:`ImageValidity`.
    n_generators : int, default 8
    hidden : sequence of int, default (64, 64)
        Trunk widths of the :class:`GeneratorField` (the paper: 256).
    n_iterations : int, default 2000
        Iterations (an upper bound when ``max_seconds`` is set).
    batch_size : int, default 24
    s_range : float, default 0.4
    lr : float, default 1e-3
    n_steps : int, default 4
        RK4 steps per flow.
    orthogonality_weight, lipschitz_weight : float, default 10
    lipschitz_tau : float, default 0.5
    pixel_weights : {"sensitivity", "uniform"}, default "sensitivity"
        Weights of the fields' norms and inner products, unless ``fit`` is given ``weights``:
        ``"sensitivity"`` is :meth:`ImageValidity.sensitivity_map` of the first
        ``sensitivity_images`` training images (the validity must have that method),
        ``"uniform"`` weighs every pixel alike.
    max_seconds : float or None, default None
        Stop learning the fields once this much wall time was spent on them (at least one
        iteration runs; resuming from a checkpoint is then no longer exact).
    linear_skip : bool, default False
        Give every head a linear map of the pixel coordinates (centred on the grid, zero at
        start, see :class:`GeneratorField`): the six affine fields are then one linear layer
        away. ``False`` is the paper's plain MLP.
    skip_gain : float, default 4.0
        Factor on the skip input (a faster learning rate for the linear part under Adam).
    adam_beta2 : float, default 0.999
        Adam's second-moment decay (see :class:`GeneratorFlow`, where 0.99 is the default).
    basis : {"smoothest", "learned"}, default "smoothest"
        How the learned span is split into slots. ``"learned"`` keeps the trained heads (the
        order of the sequential orthogonality penalty). ``"smoothest"`` rotates all slots into
        the smoothest-first basis of their span (:func:`smoothest_basis` under the pixel
        weights): the span is unchanged, but a symmetry spread over several trained slots
        lands in one. Unlike :class:`GeneratorFlow`, all slots are rotated: the feature-angle
        validity has no calibrated threshold that tells symmetries from the rest.
    classifier_epochs : int, default 8
        Epochs of the classifier trained when ``validity`` is ``None``.
    sensitivity_images, sensitivity_centres : int, default 32, 128
        Images and bump centres of the sensitivity map (``pixel_weights="sensitivity"``).
    random_state : None, int, numpy.random.Generator or torch.Generator
        Seeds the classifier, the sensitivity map, the initial weights, batches and flow times
        (an integer seeds each of them with that integer).
    device : str, default "cpu"
        Where the fields are learned (the classifier and the sensitivity map stay on the CPU).
    progress : str, ProgressMeter or None
        See :func:`symmetrykit.progress.make_progress`; ``"auto"`` (the default) shows a bar on a
        terminal only.
    checkpoint : path or None
        Directory for atomic checkpoints of the field training (see :class:`GeneratorFlow`);
        needs an integer ``random_state``.
    checkpoint_every : int, default 100

    Attributes
    ----------
    field_ : GeneratorField
        The trained network on ``[-1, 1]^2`` pixel coordinates ``(x, y)``.
    classifier_ : DigitCNN or None
        The classifier trained for the validity (``None`` when ``validity`` was given).
    classifier_train_accuracy_ : float or None
    validity_ : callable or None
        The validity used (after :meth:`load`: rebuilt from ``classifier_``, else ``None``).
    image_shape_ : list of int
        ``[H, W]``.
    weights_ : ndarray, shape (H*W,)
        Pixel weights of norms and inner products (the sensitivity map, or uniform).
    scales_ : ndarray, shape (K,)
        Weighted RMS norms of the raw heads over the pixel grid.
    mixing_ : ndarray, shape (K, K)
        Slot ``k`` is ``sum_j mixing_[k, j] head_j / scales_[j]``: the identity for
        ``basis="learned"``, the smoothest-first rotation of the learned span for
        ``basis="smoothest"``. Every slot has unit weighted RMS norm either way.
    roughness_ : ndarray or None, shape (K,)
        ``E_w ||∇V_k||_F² / E_w |V_k|²`` of every slot in the smoothest basis; ``None`` for
        ``basis="learned"``.
    history_ : dict of ndarray
        Per iteration: ``loss``, ``validity``, ``orthogonality``, ``lipschitz`` (slot sums) and
        ``validity_per_slot`` (n, K), in the trained (learned) basis.
    n_iter_ : int
        Iterations actually run.
    fit_time_ : dict
        ``{"wall_s", "cpu_s"}`` of :meth:`fit`, plus ``classifier_wall_s`` (classifier and
        sensitivity map) when the fit built its own validity.
    """

    _fitted_marker: ClassVar[str] = "field_"
    _derived_attributes: ClassVar[tuple[str, ...]] = ("validity_",)
    _presets: ClassVar[dict[str, dict[str, Any]]] = {
        # symmetrykit flow-discover --data mnist (benchmarks/ko_mnist.py learns for a time
        # budget instead of 850 iterations).
        "mnist": {"n_generators": 8, "hidden": (64, 64), "n_iterations": 850, "batch_size": 24,
                  "s_range": 0.4, "lr": 1e-3, "n_steps": 4, "orthogonality_weight": 10.0,
                  "lipschitz_weight": 10.0, "lipschitz_tau": 0.5, "linear_skip": False,
                  "skip_gain": 4.0, "adam_beta2": 0.999, "basis": "smoothest",
                  "pixel_weights": "sensitivity", "classifier_epochs": 8,
                  "sensitivity_images": 32, "sensitivity_centres": 128},
    }
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "validity": [Whatever(callable, "a callable (original, transformed) -> scores"), None],
        "n_generators": [Integer(1)],
        "hidden": [Sequence_(Integer(1), min_length=1)],
        "n_iterations": [Integer(1)],
        "batch_size": [Integer(1)],
        "s_range": [POSITIVE],
        "lr": [POSITIVE],
        "n_steps": [Integer(1)],
        "orthogonality_weight": [Real(0)],
        "lipschitz_weight": [Real(0)],
        "lipschitz_tau": [POSITIVE],
        "pixel_weights": [Options(("sensitivity", "uniform"))],
        "max_seconds": [POSITIVE, None],
        "linear_skip": [Boolean()],
        "skip_gain": [POSITIVE],
        "adam_beta2": [Real(0, 1, closed="neither")],
        "basis": [Options(("smoothest", "learned"))],
        "classifier_epochs": [Integer(1)],
        "sensitivity_images": [Integer(1)],
        "sensitivity_centres": [Integer(1)],
        **TRAINING,
        **CHECKPOINTING,
    }

    def __init__(
        self,
        validity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        n_generators: int = 8,
        hidden: Sequence[int] = (64, 64),
        n_iterations: int = 2000,
        batch_size: int = 24,
        s_range: float = 0.4,
        lr: float = 1e-3,
        n_steps: int = 4,
        orthogonality_weight: float = 10.0,
        lipschitz_weight: float = 10.0,
        lipschitz_tau: float = 0.5,
        pixel_weights: str = "sensitivity",
        max_seconds: float | None = None,
        linear_skip: bool = False,
        skip_gain: float = 4.0,
        adam_beta2: float = 0.999,
        basis: str = "smoothest",
        classifier_epochs: int = 8,
        sensitivity_images: int = 32,
        sensitivity_centres: int = 128,
        random_state: Any = None,
        device: str = "cpu",
        progress: Any = "auto",
        checkpoint: Any = None,
        checkpoint_every: int = 100,
    ) -> None:
        self._store_params(locals())

    # ------------------------------------------------------------------ checks
    def _checkpoint_params(self) -> dict[str, Any]:
        return checkpoint_params(self)

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, weights: Any = None) -> ImageGeneratorFlow:
        """Learn the generators.

        Parameters
        ----------
        X : ImageData, array_like (n, H, W) or (n, C, H, W), or torch.Tensor (n, C, H, W)
            Training images (intensities in ``[0, 1]``, or ``uint8``).
        y : array_like of int, shape (n,), optional
            Labels; needed to train the classifier when ``validity`` is ``None`` (an
            :class:`ImageData` brings its own).
        weights : array_like, shape (H, W) or (H*W,), optional
            Pixel weight map; overrides ``pixel_weights``.

        Returns
        -------
        self
        """
        self._validate_params()
        if isinstance(X, ImageData):
            X, y = X.images, X.labels
        images = pixel_tensor(X)
        _check_images(images)
        if not bool(torch.isfinite(images).all()):
            raise ValueError(f"{self._name()}: the images contain NaN or inf values")
        with self._fit_clock() as extra:
            started = time.perf_counter()
            validity, classifier = self._validity(images, y)
            if weights is None and self.pixel_weights == "sensitivity":
                if not hasattr(validity, "sensitivity_map"):
                    raise ValueError("pixel_weights='sensitivity' needs a validity with a "
                                     "sensitivity_map method (ImageValidity); pass weights or "
                                     "use pixel_weights='uniform'")
                weights = validity.sensitivity_map(images[: int(self.sensitivity_images)],
                                                   n_centres=int(self.sensitivity_centres),
                                                   random_state=self.random_state)
            if classifier is not None:
                extra["classifier_wall_s"] = time.perf_counter() - started
                classifier.to(self._torch_device())
            self._fit_fields(images.to(self._torch_device()), validity, weights)
        self.classifier_ = classifier
        self.classifier_train_accuracy_ = (None if classifier is None
                                           else float(classifier.train_accuracy_))
        self.validity_ = validity
        return self

    def _validity(self, images: torch.Tensor, labels: Any) -> tuple[Any, DigitCNN | None]:
        if self.validity is not None:
            return self.validity, None
        if labels is None:
            raise ValueError("validity=None trains a classifier on the images and needs their "
                             "labels: fit(images, labels) or fit(ImageData)")
        if images.shape[1] != 1:
            raise ValueError(f"the default classifier takes one channel, got {images.shape[1]}")
        classifier = train_classifier(images[:, 0].detach().cpu().numpy(), np.asarray(labels),
                                      random_state=self.random_state,
                                      epochs=int(self.classifier_epochs))
        return ImageValidity(classifier), classifier

    def _fit_fields(self, images: torch.Tensor, validity: Any, weights: Any) -> None:
        height, width = images.shape[-2:]
        grid = pixel_grid(height, width, dtype=images.dtype, device=images.device)
        if weights is None:
            weights = torch.ones(height * width, dtype=images.dtype, device=images.device)
        weights = torch.as_tensor(np.asarray(weights, dtype=np.float64).reshape(-1)
                                  if not isinstance(weights, torch.Tensor) else weights.reshape(-1),
                                  dtype=images.dtype, device=images.device)
        if weights.shape != (height * width,):
            raise ValueError(f"weights must have {height * width} entries, got {weights.shape[0]}")
        if bool((weights < 0).any()) or not float(weights.sum()) > 0:
            raise ValueError("weights must be non-negative with a positive sum")

        started = time.perf_counter()
        rng = self._torch_generator()
        k = int(self.n_generators)
        center = grid.mean(dim=0).tolist() if self.linear_skip else None
        model = GeneratorField(k, 2, hidden=tuple(self.hidden), rng=rng,
                               dtype=images.dtype, device=images.device,
                               linear_skip=bool(self.linear_skip), skip_center=center,
                               skip_gain=float(self.skip_gain))
        optimizer = torch.optim.Adam(model.parameters(), lr=float(self.lr),
                                     betas=(0.9, float(self.adam_beta2)))
        stacked_grid = grid.expand(k, *grid.shape)
        history = new_history(("loss", "validity", "orthogonality", "lipschitz"),
                              int(self.n_iterations), k)

        # The loss normalises the fields: an exploding network shows in their raw scale first.
        scale_guard = self._loss_guard(fix=LOSS_FIX)

        def step(iteration: int):
            index = torch.randint(0, images.shape[0], (int(self.batch_size),),
                                  generator=rng)
            batch = images[index.to(images.device)]
            s = (2 * torch.rand((), generator=rng) - 1) * float(self.s_range)
            raw = model.raw(grid)
            scale_guard(field_scale(raw), iteration, "fields' scale")
            # Weighted norms over the reference grid, reused along the flow, not detached.
            scales = torch.sqrt((weights * (raw**2).sum(-1)).sum(-1) / weights.sum())
            unit = raw / scales[:, None, None]
            moved = flow(lambda p, scales=scales: model(p, scales=scales), stacked_grid,
                         s.to(images), n_steps=int(self.n_steps))
            scores = validity(batch, warp_images(batch, moved))  # (K, B)
            loss_sym = scores.mean(dim=1)
            loss_orth = orthogonality_penalty(unit, weights)
            loss_lips = lipschitz_penalty(unit.reshape(k, height, width, 2),
                                          tau=float(self.lipschitz_tau), axes=(0, 1),
                                          reduction="sum")
            validity_sum, orthogonality, lipschitz = (loss_sym.sum(), loss_orth.sum(),
                                                      loss_lips.sum())
            loss = (validity_sum + float(self.orthogonality_weight) * orthogonality
                    + float(self.lipschitz_weight) * lipschitz)
            return loss, {"validity": validity_sum, "orthogonality": orthogonality,
                          "lipschitz": lipschitz, "validity_per_slot": loss_sym}

        fingerprint = np.concatenate([images.detach().cpu().numpy().ravel(),
                                      weights.detach().cpu().numpy().ravel()])
        done = train_field(self, step, field=model, optimizer=optimizer, rng=rng,
                           history=history, data=fingerprint, device=images.device,
                           max_seconds=self.max_seconds, started=started)
        self.field_ = model
        self.image_shape_ = [int(height), int(width)]
        self.weights_ = weights.detach().cpu().numpy()
        with torch.no_grad():
            self.scales_ = model.norms(grid, weights).cpu().numpy().astype(np.float64)
        self.mixing_ = np.eye(k)
        self.roughness_ = None
        if self.basis == "smoothest":
            self.mixing_, self.roughness_ = _smoothest_rotation(self.stacked_field(), grid,
                                                                weights)
        self.history_ = {name: values[:done] for name, values in history.items()}
        self.n_iter_ = done

    # ------------------------------------------------------------------ learned fields
    @property
    def grid_(self) -> torch.Tensor:
        """The pixel grid ``(H*W, 2)`` (:func:`pixel_grid`) the fields were learned on."""
        self._check_is_fitted()
        parameter = next(self.field_.parameters())
        return pixel_grid(*self.image_shape_, dtype=parameter.dtype, device=parameter.device)

    def _weights_tensor(self) -> torch.Tensor:
        parameter = next(self.field_.parameters())
        return torch.as_tensor(self.weights_, device=parameter.device)

    def stacked_field(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """``points (K, N, 2) -> (K, N, 2)``: slot ``k`` at ``points[k]`` (for flows).

        Shared points ``(N, 2)`` give every slot at the same points. Scales are fixed, so the
        flows are autonomous.
        """
        self._check_is_fitted()
        field = self.field_
        parameter = next(field.parameters())
        scales = torch.as_tensor(self.scales_, dtype=parameter.dtype, device=parameter.device)
        if np.array_equal(self.mixing_, np.eye(field.n_generators)):
            return lambda points: field(points, scales=scales)
        mixing = torch.as_tensor(self.mixing_, dtype=parameter.dtype, device=parameter.device)

        def mixed(points: torch.Tensor) -> torch.Tensor:
            if points.ndim == 2:
                return torch.einsum("kj,jnd->knd", mixing, field(points, scales=scales))
            # Slot k is a combination of every head, each evaluated at slot k's points.
            heads = field.raw_all(points) / scales[None, :, None, None]
            return torch.einsum("kj,kjnd->knd", mixing, heads)

        return mixed

    def evaluate(self, points: Any) -> np.ndarray:
        """Unit fields ``(K, N, 2)`` (float64) at ``points (N, 2)``."""
        self._check_is_fitted()
        parameter = next(self.field_.parameters())
        points = torch.as_tensor(np.asarray(points, dtype=np.float64), dtype=parameter.dtype,
                                 device=parameter.device)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"points must have shape (N, 2), got {tuple(points.shape)}")
        with torch.no_grad():
            values = self.field_.raw(points).cpu().numpy().astype(np.float64)
        return np.einsum("kj,jnd->knd", self.mixing_, values / self.scales_[:, None, None])

    def affine_measure(self) -> FieldSimilarity:
        """:func:`affine_measure` of the learned fields on the pixel grid under the weights."""
        grid = self.grid_
        return affine_measure(self.evaluate(grid.cpu().numpy()), grid,
                              weights=self._weights_tensor())

    # ------------------------------------------------------------------ saving
    def _module_config(self, name: str, module: Any) -> dict[str, Any]:
        if name == "classifier_":
            return {"n_classes": int(module.head.out_features),
                    "n_features": int(module.conv3.out_channels)}
        return super()._module_config(name, module)

    def _build_module(self, name: str, config: Mapping[str, Any]) -> Any:
        if name == "field_":
            return build_field(config)
        if name == "classifier_":
            # A private generator: the initial weights are overwritten by the saved ones.
            return DigitCNN(**config, rng=torch.Generator())
        return super()._build_module(name, config)

    def _after_load(self) -> None:
        self.validity_ = None
        if self.classifier_ is not None:
            self.classifier_.eval()
            self.classifier_.requires_grad_(False)
            self.classifier_.train_accuracy_ = self.classifier_train_accuracy_
            self.validity_ = ImageValidity(self.classifier_)


class ImageGenerators:
    """Pixel-coordinate generator fields learned by :func:`fit_image_generators`.

    A view of the fitted :class:`ImageGeneratorFlow` (``estimator``) under the names of
    symmetrykit 0.1.

    Attributes
    ----------
    estimator : ImageGeneratorFlow
    field : GeneratorField
    grid : torch.Tensor, shape (H*W, 2)
    weights : torch.Tensor, shape (H*W,)
    scales, mixing, roughness, history
        ``scales_``, ``mixing_``, ``roughness_`` and ``history_`` of the estimator.
    n_iterations : int
        Iterations actually run.
    fit_time : float
        Wall seconds spent learning (the basis change included).
    """

    def __init__(self, estimator: ImageGeneratorFlow) -> None:
        self.estimator = estimator
        self.field = estimator.field_
        self.grid = estimator.grid_
        self.weights = estimator._weights_tensor()
        self.scales = estimator.scales_
        self.mixing = estimator.mixing_
        self.roughness = estimator.roughness_
        self.history = estimator.history_
        self.n_iterations = int(estimator.n_iter_)
        self.fit_time = float(estimator.fit_time_["wall_s"])

    @property
    def n_generators(self) -> int:
        return self.field.n_generators

    def stacked_field(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """See :meth:`ImageGeneratorFlow.stacked_field`."""
        return self.estimator.stacked_field()

    def evaluate(self, points: Any) -> np.ndarray:
        """Unit fields ``(K, N, 2)`` (float64) at ``points (N, 2)``."""
        return self.estimator.evaluate(points)

    def affine_measure(self) -> FieldSimilarity:
        """:func:`affine_measure` of the learned fields on the pixel grid under the weights."""
        return self.estimator.affine_measure()


def fit_image_generators(
    images: torch.Tensor,
    validity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    weights: torch.Tensor | np.ndarray | None = None,
    **params: Any,
) -> ImageGenerators:
    """Learn ``K`` pixel-coordinate symmetry generators of images with a given validity.

    :class:`ImageGeneratorFlow` with ``validity`` and uniform pixel weights unless ``weights``
    is given, on the images' device.

    Parameters
    ----------
    images : torch.Tensor, shape (n, C, H, W)
        Training images (intensities in ``[0, 1]``).
    validity : callable
        ``(original (B, C, H, W), transformed (K, B, C, H, W)) -> (K, B)`` scores, lower is more
        valid, differentiable in ``transformed``: usually :class:`ImageValidity`.
    weights : array_like, shape (H, W) or (H*W,), optional
        Pixel weight map (e.g. :meth:`ImageValidity.sensitivity_map`); uniform when omitted.
    **params
        Parameters of :class:`ImageGeneratorFlow` (``n_generators``, ``hidden``,
        ``n_iterations``, ``random_state``, ...); ``validity``, ``pixel_weights`` and
        ``device`` are set here.

    Returns
    -------
    ImageGenerators
    """
    _check_images(images)
    if not callable(validity):
        raise ValueError("validity must be a callable (original, transformed) -> scores")
    taken = sorted({"validity", "pixel_weights", "device"} & set(params))
    if taken:
        raise TypeError(f"fit_image_generators sets {', '.join(taken)} itself")
    estimator = ImageGeneratorFlow(validity=validity, pixel_weights="uniform",
                                   device=str(images.device), **params)
    return ImageGenerators(estimator.fit(images, weights=weights))
