"""A small 1-D convolutional classifier: the consumer of the SymmetryLens representation.

SymmetryLens turns a hidden one-parameter symmetry into a shift of its output components
(Efe & Ozakin 2025, Appendix B), which is exactly what a convolutional network's weight sharing
assumes. :class:`CNNClassifier` is that network as a scikit-learn classifier, so the adapter is an
ordinary pipeline::

    make_pipeline(SymmetryLens(init="warm"), CNNClassifier())

The architecture follows the fully convolutional baseline of Wang, Yan & Oates (2017) at a
smaller width: convolution blocks (convolution, batch normalisation, ReLU) with "same" zero
padding, global average pooling over positions, a linear layer to the classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import ClassifierMixin

from .._estimator import SymmetryEstimator
from .._validation import POSITIVE, TRAINING, Integer, Options, Real, Sequence_, as_samples

__all__ = ["CNNClassifier", "ConvolutionalNetwork"]


class ConvolutionalNetwork(torch.nn.Module):
    """Convolution blocks, global average pooling and a linear head: ``(n, L) -> (n, classes)``.

    Global pooling makes the class scores invariant to shifts of the input away from its edges,
    the property a symmetry-based representation provides.
    """

    def __init__(self, n_classes: int, channels: Sequence[int], kernel_sizes: Sequence[int],
                 padding: str = "zeros", *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if len(channels) != len(kernel_sizes):
            raise ValueError(f"channels ({len(channels)}) and kernel_sizes "
                             f"({len(kernel_sizes)}) need one entry per block")
        self.n_classes, self.channels = int(n_classes), [int(c) for c in channels]
        self.kernel_sizes = [int(k) for k in kernel_sizes]
        self.padding = str(padding)
        blocks: list[torch.nn.Module] = []
        width = 1
        # torch's default initialisation draws from the global generator: leave it untouched.
        with torch.random.fork_rng(devices=[]):
            for out, kernel in zip(self.channels, self.kernel_sizes, strict=True):
                blocks += [torch.nn.Conv1d(width, out, kernel, padding="same",
                                           padding_mode=self.padding),
                           torch.nn.BatchNorm1d(out), torch.nn.ReLU()]
                width = out
            self.blocks = torch.nn.Sequential(*blocks)
            self.head = torch.nn.Linear(width, self.n_classes)
        if generator is not None:  # initial weights from the fit's private generator
            with torch.no_grad():
                for module in self.modules():
                    if isinstance(module, (torch.nn.Conv1d, torch.nn.Linear)):
                        bound = 1.0 / np.sqrt(module.weight[0].numel())
                        module.weight.uniform_(-bound, bound, generator=generator)
                        module.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(x.unsqueeze(1)).mean(dim=-1))

    def config(self) -> dict[str, Any]:
        return {"n_classes": self.n_classes, "channels": self.channels,
                "kernel_sizes": self.kernel_sizes, "padding": self.padding}


class CNNClassifier(ClassifierMixin, SymmetryEstimator):
    """A 1-D CNN classifier of fixed-length signals (a scikit-learn estimator).

    Parameters
    ----------
    channels, kernel_sizes
        Output channels and kernel size of each convolution block (one entry per block).
    padding
        ``"zeros"`` (signals with two ends) or ``"circular"`` (signals on a circle: the
        convolutions wrap around, and the class scores are invariant to cyclic shifts). A
        SymmetryLens whose generator closes into a cycle (``lens.warm_start_.cyclic``) gives a
        representation on a circle, whose first component can be anywhere on the signal.
    n_epochs
        Passes over the training set (there is no early stopping: UCR training sets are too
        small to hold out a validation split).
    batch_size
        Series per Adam step (the last batch of an epoch may be smaller).
    lr, weight_decay
        Adam's learning rate and L2 weight decay.
    random_state, device, progress
        As for every symmetrykit estimator.

    Attributes
    ----------
    classes_ : ndarray
        The class labels seen in ``fit``, sorted.
    network_ : ConvolutionalNetwork
    scale_ : float
        Standard deviation of the training signals; inputs are divided by it.
    history_ : dict
        ``loss`` and ``accuracy`` on the training set per epoch.
    fit_time_ : dict
    n_features_in_ : int
    """

    _fitted_marker: ClassVar[str] = "network_"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "channels": [Sequence_(Integer(1), min_length=1)],
        "kernel_sizes": [Sequence_(Integer(1), min_length=1)],
        "padding": [Options(("zeros", "circular"))],
        "n_epochs": [Integer(1)],
        "batch_size": [Integer(1)],
        "lr": [POSITIVE],
        "weight_decay": [Real(0)],
        **TRAINING,
    }

    def __init__(self, channels: Sequence[int] = (32, 64, 32),
                 kernel_sizes: Sequence[int] = (7, 5, 3), padding: str = "zeros",
                 n_epochs: int = 300,
                 batch_size: int = 32, lr: float = 1e-3, weight_decay: float = 0.0,
                 random_state: Any = None, device: str = "cpu", progress: Any = "auto") -> None:
        self._store_params(locals())

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> CNNClassifier:
        """Train on signals ``X`` (n, length) with labels ``y`` (n,)."""
        self._validate_params()
        if len(self.channels) != len(self.kernel_sizes):
            raise ValueError(f"CNNClassifier: channels has {len(self.channels)} blocks but "
                             f"kernel_sizes has {len(self.kernel_sizes)}")
        X = as_samples(X, owner="CNNClassifier", min_samples=2, warn_constant=False)
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(X):
            raise ValueError(f"CNNClassifier: y must have shape ({len(X)},), got {labels.shape}")
        if labels.dtype.kind == "f" and not np.isfinite(labels).all():
            raise ValueError("CNNClassifier: y contains NaN or inf labels")
        classes, codes = np.unique(labels, return_inverse=True)
        if classes.size < 2:
            raise ValueError(f"CNNClassifier: y has a single class ({classes[0]!r}); a "
                             "classifier needs at least two")
        device = self._torch_device()
        generator = self._torch_generator()
        scale = float(X.std()) or 1.0
        inputs = torch.as_tensor(X / scale, dtype=torch.float32, device=device)
        targets = torch.as_tensor(codes, dtype=torch.long, device=device)
        network = ConvolutionalNetwork(classes.size, self.channels, self.kernel_sizes,
                                       self.padding, generator=generator).to(device)
        optimiser = torch.optim.Adam(network.parameters(), lr=self.lr,
                                     weight_decay=self.weight_decay)
        guard = self._loss_guard(fix="lower lr")
        history: dict[str, list[float]] = {"loss": [], "accuracy": []}
        n = len(X)
        with self._fit_clock(), self._progress_meter(self.n_epochs) as meter:
            for epoch in range(self.n_epochs):
                network.train()
                order = torch.randperm(n, generator=generator).to(device)
                total, correct = 0.0, 0
                for first in range(0, n, self.batch_size):
                    batch = order[first:first + self.batch_size]
                    if batch.numel() < 2 and n >= 2:  # batch norm needs two samples
                        batch = order[-2:]
                    logits = network(inputs[batch])
                    loss = torch.nn.functional.cross_entropy(logits, targets[batch])
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                    total += guard(loss, epoch) * batch.numel()
                    correct += int((logits.argmax(1) == targets[batch]).sum())
                history["loss"].append(total / n)
                history["accuracy"].append(correct / n)
                meter.update(1, loss=history["loss"][-1])
        network.eval()
        self.classes_, self.network_, self.scale_ = classes, network, scale
        self.history_, self.n_features_in_ = history, X.shape[1]
        return self

    # ------------------------------------------------------------------ use
    def _logits(self, X: Any) -> torch.Tensor:
        self._check_is_fitted()
        X = as_samples(X, owner="CNNClassifier", warn_constant=False, check_scale=False)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"CNNClassifier: X has {X.shape[1]} features, the network was "
                             f"trained on {self.n_features_in_}")
        device = next(self.network_.parameters()).device
        with torch.no_grad():
            inputs = torch.as_tensor(X / self.scale_, dtype=torch.float32, device=device)
            return torch.cat([self.network_(part) for part in inputs.split(1024)]).cpu()

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``, columns in the order of ``classes_``."""
        return torch.softmax(self._logits(X), dim=1).double().numpy()

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each signal."""
        return self.classes_[self._logits(X).argmax(1).numpy()]

    # ------------------------------------------------------------------ saving
    def _custom_attributes(self) -> tuple[str, ...]:
        return ("classes_",)

    def _save_extra(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"classes": self.classes_.tolist()}, {}

    def _load_extra(self, info: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.classes_ = np.asarray(info["classes"])

    def _build_module(self, name: str, config: Mapping[str, Any]) -> Any:
        if name == "network_":
            return ConvolutionalNetwork(**config).eval()
        return super()._build_module(name, config)
