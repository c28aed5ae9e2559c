"""Windows of grayscale image rows from the two sample photographs shipped with scikit-learn."""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..lie import shift
from ._common import check_int, check_nonnegative, normalise_and_add_noise, resolve_random_state
from ._core import SymmetryDataset

__all__ = ["image_rows"]

_IMAGE_NAMES = ("china", "flower")
_IMAGE_SHAPE = (427, 640)  # both photographs
_IMAGE_DIR = ("datasets", "images")
_LUMA = np.array([0.299, 0.587, 0.114])


@functools.lru_cache(maxsize=len(_IMAGE_NAMES))
def _grayscale(name: str) -> np.ndarray:
    """Luminance ``0.299 R + 0.587 G + 0.114 B`` of ``sklearn/datasets/images/{name}.jpg``.

    Float64, read-only, cached per process. The file is decoded with Pillow exactly as
    :func:`sklearn.datasets.load_sample_image` does, without importing scikit-learn (slow).
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "image_rows needs the sample photographs shipped with scikit-learn; "
            "install it with: pip install scikit-learn"
        )
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*_IMAGE_DIR, f"{name}.jpg")
    if not path.is_file():
        raise ImportError(f"scikit-learn is installed but its sample photograph {path} is missing")
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "image_rows needs Pillow to decode scikit-learn's sample photographs; "
            "install it with: pip install pillow"
        ) from None
    try:
        with Image.open(path) as image:
            rgb = np.asarray(image)
    except OSError as exc:
        raise RuntimeError(f"could not decode {path}: {exc}") from exc
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise RuntimeError(f"{path}: expected an RGB image, got an array of shape {rgb.shape}")
    gray = rgb.astype(np.float64) @ _LUMA
    gray.setflags(write=False)
    return gray


def _check_images(images: Any) -> tuple[str, ...]:
    try:
        names = (images,) if isinstance(images, str) else tuple(images)
    except TypeError:
        names = (images,)
    unknown = [n for n in names if n not in _IMAGE_NAMES]
    if unknown:
        raise ValueError(
            f"unknown image(s) {', '.join(map(repr, unknown))}; known images: "
            f"{', '.join(_IMAGE_NAMES)}"
        )
    if not names or len(set(names)) != len(names):
        raise ValueError(f"images must name distinct photographs, at least one; got {images!r}")
    return names


def image_rows(
    n_samples: int = 20_000,
    width: int = 129,
    random_state: Any = None,
    *,
    images: Sequence[str] = _IMAGE_NAMES,
    noise: float = 0.0,
) -> SymmetryDataset:
    """Windows of grayscale rows of two real photographs; the symmetry is the pixel shift.

    The sample photographs shipped with scikit-learn (``china.jpg`` and ``flower.jpg``, 427×640)
    are converted to luminance ``0.299 R + 0.587 G + 0.114 B``. A sample is ``width`` consecutive
    pixels of one row: the image, the row and the start column ``0 … 640 − width`` are drawn
    uniformly (windows lie inside the row, no padding). The set is then divided by its global std
    (mean kept) and ``noise · std · N(0, 1)`` is added, as for :func:`mnist_slices`.
    Ground truth: ``G = S`` (non-circulant pixel shift of size ``width``), ``Q = I``.

    Parameters
    ----------
    n_samples
        Number of windows, ``>= 2``.
    width
        Window length; odd, ``3 <= width <= 639``.
    random_state
        ``None``, a non-negative int or a ``numpy.random.Generator`` (used as is).
    images
        Names of the photographs to draw from (``"china"``, ``"flower"``), each chosen with equal
        probability.
    noise
        Relative noise level ``>= 0``.

    Returns
    -------
    SymmetryDataset
        Named ``"image-rows"``.

    Raises
    ------
    ImportError
        If scikit-learn or Pillow is not installed.
    ValueError
        For invalid arguments.
    """
    n_samples = check_int("n_samples", n_samples, 2)
    width = check_int("width", width, 3)
    if width % 2 == 0:
        raise ValueError(f"width must be odd, got {width}")
    height, row_length = _IMAGE_SHAPE
    if width > row_length - 1:
        raise ValueError(
            f"width must be at most {row_length - 1} (the photographs are {row_length} pixels "
            f"wide), got {width}"
        )
    names = _check_images(images)
    noise = check_nonnegative("noise", noise)
    rng, seed_record = resolve_random_state(random_state)
    grays = [_grayscale(name) for name in names]
    if any(g.shape != _IMAGE_SHAPE for g in grays):
        raise RuntimeError(f"expected {_IMAGE_SHAPE} photographs, got {[g.shape for g in grays]}")

    stack = np.stack(grays)
    image_idx = rng.integers(0, len(names), n_samples)
    rows = rng.integers(0, height, n_samples)
    starts = rng.integers(0, row_length - width + 1, n_samples)
    windows = stack[image_idx[:, None], rows[:, None], starts[:, None] + np.arange(width)]
    x = normalise_and_add_noise(windows, noise, rng, what="image-rows")
    params = {
        "n_samples": n_samples,
        "width": width,
        "dim": width,
        "images": list(names),
        "noise": noise,
        "random_state": seed_record,
        "source": "scikit-learn sample photographs " + ", ".join(f"{n}.jpg" for n in names),
        "grayscale": "0.299 R + 0.587 G + 0.114 B",
        "image_shape": [height, row_length],
        "row_sampling": f"uniform over all {height} image rows",
        "offset_sampling": f"uniform integer in 0..{row_length - width}",
    }
    description = (
        f"{n_samples} {width}-pixel windows of grayscale rows of the two sample photographs "
        f"shipped with scikit-learn (used: {', '.join(names)}; uniform image, row and start, "
        f"windows inside the row); global std normalised, relative noise {noise:g}."
    )
    return SymmetryDataset(
        X=x, generator=shift(width), transform=np.eye(width), name="image-rows",
        params=params, description=description,
    )
