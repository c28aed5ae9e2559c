"""Stationary signals that are not local: the time shift is their symmetry, neighbour
correlation is not their structure.

SymmetryLens is verified on local signals (bumps, smooth rows), whose neighbouring samples
correlate. Stationary signals whose strongest correlations are *not* between neighbours —
periodic spike trains, processes anti-correlated at lag 1, narrow-band oscillations — keep the
time shift as the symmetry of their windows' distribution but defeat orders built on
neighbour correlation. Two sources:

* :func:`stationary_signals`: synthetic windows, each a fresh draw of a stationary process;
* :func:`record_windows`: windows of a long real recording shipped inside ``aeon``'s wheel (the
  extra ``ucr``), e.g. a household electricity record that cycles every few samples.

In both the stored coordinates are the time samples, so the true generator is the truncated
time shift ``S`` (:func:`symmetrykit.lie.shift`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..lie import shift
from ._common import check_int, check_nonnegative, normalise_and_add_noise, resolve_random_state
from ._core import SymmetryDataset

__all__ = ["RECORDS", "STATIONARY_KINDS", "record_windows", "stationary_signals"]

STATIONARY_KINDS = ("spikes", "anticorrelated", "oscillations")
# Long univariate recordings inside aeon's wheel: file (under aeon/datasets/data), the column of
# the value, header rows, and what they are.
RECORDS = {
    "electric-devices": ("segmentation/ElectricDevices.csv", 1, 0,
                         "household electricity use (the UCR ElectricDevices series, "
                         "concatenated by class): spiky, cycling every 3 samples"),
    "internal-bleeding": ("KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TEST.csv", 1, 1,
                          "arterial blood pressure of the UCR anomaly archive (series 135): "
                          "smooth"),
}


def _spikes(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """Trains of narrow pulses, period uniform in [4, 6], random phase, jitter 0.3 samples."""
    t = np.arange(dim)[None, :, None]
    period = rng.uniform(4.0, 6.0, (n, 1, 1))
    phase = rng.uniform(0.0, 1.0, (n, 1, 1)) * period
    k = np.arange(-2, dim // 4 + 3)[None, None, :]
    centres = phase + k * period + rng.normal(0.0, 0.3, (n, 1, k.shape[-1]))
    amplitude = rng.uniform(0.5, 1.5, (n, 1, k.shape[-1]))
    return (amplitude * np.exp(-0.5 * ((t - centres) / 0.4) ** 2)).sum(axis=-1)


def _anticorrelated(rng: np.random.Generator, n: int, dim: int, burn_in: int = 200
                    ) -> np.ndarray:
    """AR(2) ``x_t = −0.2 x_{t−1} + 0.6 x_{t−2} + ε_t``: lag-1 correlation −0.5, lag-2 +0.7."""
    x = np.zeros((n, dim + burn_in))
    noise = rng.standard_normal((n, dim + burn_in))
    for i in range(2, dim + burn_in):
        x[:, i] = -0.2 * x[:, i - 1] + 0.6 * x[:, i - 2] + noise[:, i]
    return x[:, burn_in:]


def _oscillations(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """Two narrow-band oscillations (frequencies 0.2 and 0.31 cycles per sample, ± 0.005),
    Rayleigh amplitudes, uniform phases."""
    t = np.arange(dim)[None, :]
    x = np.zeros((n, dim))
    for centre in (0.2, 0.31):
        frequency = centre + rng.normal(0.0, 0.005, (n, 1))
        x += rng.rayleigh(1.0, (n, 1)) * np.cos(2 * np.pi * frequency * t
                                                 + rng.uniform(0.0, 2 * np.pi, (n, 1)))
    return x


_MAKERS = {"spikes": _spikes, "anticorrelated": _anticorrelated, "oscillations": _oscillations}
_DESCRIPTIONS = {
    "spikes": "periodic trains of narrow pulses (period 4–6 samples, random phase, jitter)",
    "anticorrelated": "an AR(2) process with lag-1 correlation −0.5 and lag-2 correlation +0.7",
    "oscillations": "two narrow-band oscillations (0.2 and 0.31 cycles per sample)",
}


def stationary_signals(kind: str = "spikes", n_samples: int = 20_000, dim: int = 33,
                       noise: float = 0.05, random_state: Any = None) -> SymmetryDataset:
    """Windows of a stationary process that is not local; the time shift is the symmetry.

    Parameters
    ----------
    kind
        ``"spikes"`` (periodic pulse trains with random phase and jitter), ``"anticorrelated"``
        (AR(2), lag-1 correlation −0.5, lag-2 +0.7) or ``"oscillations"`` (two narrow bands).
    n_samples, dim
        Windows and their length (odd, >= 3, as SymmetryLens needs).
    noise
        Relative noise added after normalising to unit std.
    random_state
        ``None``, a non-negative int or a ``numpy.random.Generator``.
    """
    if kind not in _MAKERS:
        raise ValueError(f"unknown kind {kind!r}; valid options: {', '.join(STATIONARY_KINDS)}")
    n_samples = check_int("n_samples", n_samples, 2)
    dim = check_int("dim", dim, 3)
    if dim % 2 == 0:
        raise ValueError(f"dim must be odd (SymmetryLens' integer powers), got {dim}")
    noise = check_nonnegative("noise", noise)
    rng, seed_record = resolve_random_state(random_state)
    name = f"stationary-{kind}"
    x = normalise_and_add_noise(_MAKERS[kind](rng, n_samples, dim), noise, rng, what=name)
    params = {"kind": kind, "n_samples": n_samples, "dim": dim, "noise": noise,
              "random_state": seed_record}
    return SymmetryDataset(
        X=x, generator=shift(dim), transform=np.eye(dim), name=name, params=params,
        description=f"{n_samples} windows of {dim} samples of {_DESCRIPTIONS[kind]}; "
                    f"unit std, relative noise {noise:g}.")


def _read_record(name: str) -> np.ndarray:
    from ._ucr import _data_directory

    relative, column, header, _ = RECORDS[name]
    path = _data_directory() / relative
    try:
        values = np.loadtxt(path, delimiter=",", skiprows=header, usecols=column, ndmin=1)
    except (OSError, ValueError) as error:
        raise ValueError(f"record {name!r}: cannot read {path} ({error})") from None
    if not np.all(np.isfinite(values)):
        raise ValueError(f"record {name!r}: {int(np.sum(~np.isfinite(values)))} missing or "
                         f"non-finite values in {path}")
    return values


def record_windows(name: str = "electric-devices", width: int = 33, n_windows: int = 20_000,
                   downsample: int = 1, random_state: Any = 0) -> SymmetryDataset:
    """Windows of a long real recording shipped inside ``aeon``'s wheel (the extra ``ucr``).

    The record is block-averaged over ``downsample`` samples, cut into every window of
    ``width`` samples (at most ``n_windows`` of them, drawn without replacement by
    ``random_state`` when there are more), and each window's mean is removed. The generator is
    the time shift; for a stationary record it is the symmetry of the windows' distribution.

    ``name``: ``"electric-devices"`` (household electricity use: spiky, cycling every 3
    samples) or ``"internal-bleeding"`` (arterial blood pressure: smooth).
    """
    if name not in RECORDS:
        raise ValueError(f"unknown record {name!r}; valid options: {', '.join(RECORDS)}")
    width = check_int("width", width, 3)
    if width % 2 == 0:
        raise ValueError(f"width must be odd (SymmetryLens' integer powers), got {width}")
    n_windows = check_int("n_windows", n_windows, 2)
    downsample = check_int("downsample", downsample, 1)
    series = _read_record(name)
    series = series[: series.size // downsample * downsample].reshape(-1, downsample).mean(1)
    if series.size < width + 1:
        raise ValueError(f"record {name!r} has {series.size} samples after downsample="
                         f"{downsample}, too few for windows of {width}")
    starts = np.arange(series.size - width + 1)
    rng, seed_record = resolve_random_state(random_state)
    if starts.size > n_windows:
        starts = np.sort(rng.choice(starts, n_windows, replace=False))
    windows = series[starts[:, None] + np.arange(width)]
    windows = windows - windows.mean(axis=1, keepdims=True)
    params = {"record": name, "width": width, "n_windows": int(starts.size),
              "downsample": downsample, "random_state": seed_record}
    return SymmetryDataset(
        X=windows, generator=shift(width), transform=np.eye(width),
        name=f"{name}-windows", params=params,
        description=f"{starts.size} windows of {width} samples of {RECORDS[name][3]}, "
                    f"block means of {downsample}, each window's mean removed.")
