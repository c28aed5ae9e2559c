"""Synthetic local signals (Gaussian bumps, associated-Legendre wavelets) and their representations.

This follows the SymmetryLens synthetic data (Efe & Ozakin 2025, §3.2, as produced by the authors'
data generator; formulas and constants in ``docs/data.md``) with three deliberate fixes: the
permutation comes from a private RNG (the original reseeded numpy's global RNG on every batch),
circulant distances are signed, so odd Legendre shapes are not folded, and circulant centres cover a
full period.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..lie import dst1, permutation_matrix, shift
from ._common import (
    check_int,
    check_nonnegative,
    check_range,
    normalise_and_add_noise,
    resolve_random_state,
)
from ._core import SymmetryDataset

__all__ = ["SIGNALS", "SYMMETRIES", "local_signals", "paper_permutation", "pixel_coordinates"]

SIGNALS = ("gaussian", "legendre")
SYMMETRIES = ("translation", "circulant", "permuted", "frequency")

# One feature type per Gaussian data set, two (l, m) = (2, 1), (3, 1) for Legendre data sets.
_FEATURE_TYPES = {"gaussian": ("gaussian",), "legendre": ("legendre21", "legendre31")}
_DEFAULT_SCALE_RANGE = {"gaussian": (0.2, 1.0), "legendre": (6.0, 15.0)}

# Rows per block when evaluating (samples × candidates × pixels) shapes; bounds peak memory for
# paper-sized sets (1.65 M samples) without changing any draw.
_CHUNK_ROWS = 32_768


def pixel_coordinates(dim: int) -> np.ndarray:
    """Centred pixel coordinates ``t_j = j − (dim − 1)/2`` for ``j = 0..dim−1``.

    >>> pixel_coordinates(5)
    array([-2., -1.,  0.,  1.,  2.])
    """
    dim = check_int("dim", dim, 1)
    return np.arange(dim, dtype=np.float64) - (dim - 1) / 2


def paper_permutation(dim: int, seed: int = 0) -> np.ndarray:
    """The fixed pixel permutation of the "permuted" data sets.

    It is drawn from a private legacy ``RandomState(seed)``, so ``seed=0`` reproduces the paper's
    permutation (which the original drew after ``np.random.seed(0)``) without touching numpy's
    global RNG.

    >>> paper_permutation(33)[:5].tolist()
    [11, 20, 24, 17, 2]
    """
    dim = check_int("dim", dim, 1)
    seed = check_int("permutation_seed", seed, 0)
    return np.random.RandomState(seed).permutation(dim)


def _circular_difference(diff: np.ndarray, period: float) -> np.ndarray:
    """Signed circular difference wrapped into ``[−period/2, period/2)``.

    Signed, unlike the original's ``min(d mod N, N − d mod N)``, so odd shapes keep their sign.
    """
    return np.mod(diff + period / 2, period) - period / 2


def _shape(kind: str, diff: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Unit-amplitude basis signal of ``kind`` at offsets ``diff = t − c`` with the given scale."""
    if kind == "gaussian":
        # Area-normalised: narrow bumps are taller, as in the original.
        return np.exp(-0.5 * (diff / scale) ** 2) / (np.sqrt(2 * np.pi) * scale)
    # Legendre: scale is the support length L; clipping makes the shape exactly 0 outside it.
    u = np.clip(diff / (scale / 2), -1.0, 1.0)
    if kind == "legendre21":
        values = (3 / 8) * np.sin(np.pi * u)
    elif kind == "legendre31":
        values = (3 / 16) * (5 * np.sin(np.pi * u / 2) ** 2 - 1) * np.cos(np.pi * u / 2)
    else:
        raise ValueError(f"unknown feature type {kind!r}")
    # sin(±π) and cos(±π/2) are ~1e-16 in floating point, not 0: make the support exact.
    return np.where(np.abs(u) < 1.0, values, 0.0)


def _candidates(
    kind: str,
    t: np.ndarray,
    centres: np.ndarray,
    scales: np.ndarray,
    amplitudes: np.ndarray,
    *,
    circulant: bool,
) -> np.ndarray:
    """Candidate signals of shape ``(n, lots, dim)`` for parameter arrays of shape ``(n, lots)``."""
    diff = t - centres[..., None]
    if circulant:
        diff = _circular_difference(diff, t.size)
    return amplitudes[..., None] * _shape(kind, diff, scales[..., None])


def _raw_signals(
    rng: np.random.Generator,
    n_samples: int,
    dim: int,
    signal: str,
    *,
    circulant: bool,
    lots: int,
    p_exist: float,
    scale_range: tuple[float, float],
    amplitude_range: tuple[float, float],
) -> np.ndarray:
    """Sums of randomly switched-on candidates, before normalisation; shape ``(n_samples, dim)``."""
    t = pixel_coordinates(dim)
    types = _FEATURE_TYPES[signal]
    p_type = p_exist / len(types)
    if circulant:
        # A full period, so the cyclic shift is an exact symmetry. The original's [t_0, t_{dim-1}]
        # leaves a one-pixel gap on the circle, which for dim 7 halves the edge-pixel variance.
        centre_low, centre_high = -dim / 2, dim / 2
    else:
        # The "tripled" range lets bumps enter from outside: every pixel is statistically alike.
        centre_low, centre_high = -float(dim), float(dim)

    # All parameters are drawn up front, type by type, so chunked evaluation below cannot change
    # the random stream.
    draws = []
    for _ in types:
        on = rng.random((n_samples, lots)) < p_type
        centres = rng.uniform(centre_low, centre_high, (n_samples, lots))
        scales = rng.uniform(*scale_range, (n_samples, lots))
        amplitudes = rng.uniform(*amplitude_range, (n_samples, lots)) * on
        draws.append((centres, scales, amplitudes))

    x = np.zeros((n_samples, dim))
    for start in range(0, n_samples, _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        for kind, (centres, scales, amplitudes) in zip(types, draws, strict=True):
            x[rows] += _candidates(
                kind, t, centres[rows], scales[rows], amplitudes[rows], circulant=circulant
            ).sum(axis=1)
    return x


def local_signals(
    n_samples: int = 20_000,
    dim: int = 33,
    signal: str = "gaussian",
    symmetry: str = "translation",
    noise: float = 0.05,
    random_state: Any = None,
    *,
    lots: int = 5,
    p_exist: float = 0.5,
    scale_range: tuple[float, float] | None = None,
    amplitude_range: tuple[float, float] = (0.5, 1.5),
    permutation_seed: int = 0,
) -> SymmetryDataset:
    """Random sums of localised 1-D signals with a known translation-type symmetry.

    Each sample is a sum of up to ``lots`` candidate signals per feature type, each switched on
    independently with probability ``p_exist / n_types`` and given a uniform random centre, scale
    and amplitude. The whole set is divided by its global std (mean kept), Gaussian noise
    ``noise · std · N(0, 1)`` is added, and finally the representation ``x' = Q x`` of the chosen
    ``symmetry`` is applied. The true minimal generator is ``G = Q S Qᵀ`` with ``S`` the pixel
    shift ``(S x)_i = x_{i+1}`` (:func:`symmetrykit.lie.shift`).

    Parameters
    ----------
    n_samples
        Number of samples, ``>= 2``.
    dim
        Number of pixels; odd and ``>= 3`` (the SymmetryLens powers ``k = −(dim−1)/2 … (dim−1)/2``
        are integers only for odd ``dim``).
    signal
        ``"gaussian"``: area-normalised bumps ``a·exp(−(t−c)²/2s²)/(√(2π) s)``.
        ``"legendre"``: two feature types, associated-Legendre wavelets ``(l, m) = (2, 1)``
        (odd, ``a·(3/8)·sin(πu)``) and ``(3, 1)`` (even), ``u = clip(2(t−c)/L, −1, 1)``.
    symmetry
        ``"translation"`` (``Q = I``, ``G = S``), ``"circulant"`` (periodic signals, ``Q = I``,
        ``G`` = cyclic shift), ``"permuted"`` (``Q = Pᵀ`` for a fixed pixel permutation, i.e.
        ``x'[perm[i]] = x[i]``), ``"frequency"`` (``Q = D``, the orthonormal DST-I, so the
        symmetry is a shift in frequency).
    noise
        Relative noise level ``σ_n >= 0``.
    random_state
        ``None``, a non-negative int or a ``numpy.random.Generator`` (used as is). The same int
        gives bit-identical data. Numpy's global RNG is never used.
    lots
        Candidates per feature type and sample.
    p_exist
        Probability, shared between the feature types, that a candidate is switched on; in
        ``[0, 1]``.
    scale_range
        Uniform range of the Gaussian width ``s`` (default ``(0.2, 1.0)``) or of the Legendre
        support length ``L`` (default ``(6, 15)``).
    amplitude_range
        Uniform range of the amplitude ``a``.
    permutation_seed
        Seed of the private legacy ``RandomState`` that draws the permutation; ``0`` gives the
        paper's permutation.

    Returns
    -------
    SymmetryDataset
        ``X`` of shape ``(n_samples, dim)``, ``generator`` ``G``, ``transform`` ``Q``; ``params``
        records every resolved argument, including the seed that was used.

    Raises
    ------
    ValueError
        For invalid arguments, or if every generated sample is empty (std 0; only possible for
        tiny sets or ``p_exist = 0``).

    Notes
    -----
    Centres are uniform over ``[−dim, dim]`` (non-circulant), so signals enter from outside the
    window. For ``"circulant"`` they are uniform over a full period ``[−dim/2, dim/2)`` and
    ``t − c`` is the signed circular difference in ``[−dim/2, dim/2)``; the original drew centres
    from ``[t_0, t_{dim−1}]``, a one-pixel gap on the circle that breaks the cyclic symmetry
    (for ``dim = 7`` the edge pixels had about half the variance of the others).

    Raw signals do not depend on ``symmetry`` except for ``"circulant"``: the representation is
    applied last, so the same ``random_state`` gives e.g. ``X_frequency = X_translation @ Dᵀ``.

    Examples
    --------
    >>> ds = local_signals(n_samples=1000, dim=7, symmetry="permuted", random_state=0)
    >>> ds.X.shape, ds.name
    ((1000, 7), 'gaussian-permuted')
    """
    n_samples = check_int("n_samples", n_samples, 2)
    dim = check_int("dim", dim, 3)
    if dim % 2 == 0:
        raise ValueError(f"dim must be odd (integer powers -(dim-1)/2..(dim-1)/2), got {dim}")
    if signal not in SIGNALS:
        raise ValueError(f"unknown signal {signal!r}; valid options: {', '.join(SIGNALS)}")
    if symmetry not in SYMMETRIES:
        raise ValueError(f"unknown symmetry {symmetry!r}; valid options: {', '.join(SYMMETRIES)}")
    noise = check_nonnegative("noise", noise)
    lots = check_int("lots", lots, 1)
    p_exist = check_nonnegative("p_exist", p_exist)
    if p_exist > 1:
        raise ValueError(f"p_exist must be in [0, 1], got {p_exist}")
    if scale_range is None:
        scale_range = _DEFAULT_SCALE_RANGE[signal]
    scale_range = check_range("scale_range", scale_range, positive=True)
    amplitude_range = check_range("amplitude_range", amplitude_range, positive=False)
    permutation_seed = check_int("permutation_seed", permutation_seed, 0)
    rng, seed_record = resolve_random_state(random_state)

    circulant = symmetry == "circulant"
    name = f"{signal}-{symmetry}"
    x = _raw_signals(
        rng, n_samples, dim, signal, circulant=circulant, lots=lots, p_exist=p_exist,
        scale_range=scale_range, amplitude_range=amplitude_range,
    )
    x = normalise_and_add_noise(x, noise, rng, what=name)

    s = shift(dim, circulant=circulant)
    extra: dict[str, Any] = {}
    if symmetry == "permuted":
        perm = paper_permutation(dim, permutation_seed)
        q = permutation_matrix(perm).T
        permuted = np.empty_like(x)
        permuted[:, perm] = x  # x'[perm[i]] = x[i], i.e. x' = Q x, without a float matmul
        x = permuted
        extra["permutation"] = perm.tolist()
    elif symmetry == "frequency":
        q = dst1(dim)
        x = x @ q.T
    else:
        q = np.eye(dim)
    generator = q @ s @ q.T

    params: dict[str, Any] = {
        "n_samples": n_samples,
        "dim": dim,
        "signal": signal,
        "symmetry": symmetry,
        "noise": noise,
        "random_state": seed_record,
        "lots": lots,
        "p_exist": p_exist,
        "scale_range": list(scale_range),
        "amplitude_range": list(amplitude_range),
        "permutation_seed": permutation_seed,
        "centre_range": [-dim / 2, dim / 2] if circulant else [-float(dim), float(dim)],
        **extra,
    }
    shape_text = {
        "gaussian": "area-normalised Gaussian bumps",
        "legendre": "associated-Legendre wavelets (l, m) = (2, 1) and (3, 1)",
    }[signal]
    view_text = {
        "translation": "in pixel space",
        "circulant": "on a circle (periodic boundary)",
        "permuted": "seen through a fixed pixel permutation",
        "frequency": "seen through the orthonormal DST-I (translation becomes a frequency shift)",
    }[symmetry]
    description = (
        f"{n_samples} sums of up to {lots * len(_FEATURE_TYPES[signal])} random {shape_text} "
        f"on {dim} pixels, {view_text}; global std normalised, relative noise {noise:g}."
    )
    return SymmetryDataset(
        X=x, generator=generator, transform=q, name=name, params=params, description=description
    )
