"""Real labelled time series from the UCR archive, offline, as shipped inside ``aeon``'s wheel.

``aeon`` (a maintained time-series library) bundles a few UCR classification sets with their fixed
train/test splits. Their ``.ts`` files are located through the import system and parsed here, so
``aeon`` itself (whose import pulls in numba and takes seconds) is never imported.

Each set can be *seen* raw or through a fixed scramble of the time axis — a permutation, the DST-I
or a Haar-random rotation — the setting of the SymmetryLens paper's "adapter" claim: the
representation learned without labels should give a CNN back the time axis it needs.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..lie import dst1, permutation_matrix, shift
from ._common import check_int, resolve_random_state
from ._core import SymmetryDataset, _as_json_dict

__all__ = ["UCR_NAMES", "UCR_VIEWS", "LabelledSignals", "ucr"]

# The univariate, equal-length UCR classification sets inside aeon's wheel, with their length.
UCR_NAMES = {"ACSF1": 1460, "ArrowHead": 251, "GunPoint": 150, "ItalyPowerDemand": 24,
             "OSULeaf": 427}
UCR_VIEWS = ("raw", "permuted", "dst", "orthogonal")
_VIEW_TEXT = {
    "raw": "as recorded",
    "permuted": "through a fixed random permutation of the time axis",
    "dst": "through the orthonormal DST-I (sine coefficients)",
    "orthogonal": "through a fixed Haar-random orthogonal matrix",
}
_EXTRA_HINT = "install the optional extra: pip install 'symmetrykit[ucr]' (or: pip install aeon)"


def _data_directory() -> Path:
    """aeon's bundled data folder, found without importing aeon."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"ucr() reads the UCR sets shipped with 'aeon'; {_EXTRA_HINT}")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def _parse_ts(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Series ``(n, length)`` and string labels ``(n,)`` of a univariate equal-length ``.ts``."""
    rows: list[list[float]] = []
    labels: list[str] = []
    in_data = False
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                in_data = line.lower() == "@data"
                continue
            values, sep, label = line.rpartition(":")
            if not sep or ":" in values:
                raise ValueError(f"{path}, line {number}: expected one univariate series "
                                 "'v1,v2,...:label'")
            try:
                rows.append([float("nan") if v.strip() == "?" else float(v)
                             for v in values.split(",")])
            except ValueError:
                raise ValueError(f"{path}, line {number}: a value is not a number") from None
            labels.append(label.strip())
    lengths = {len(row) for row in rows}
    if not rows or len(lengths) != 1:
        raise ValueError(f"{path}: expected equal-length series, found lengths {sorted(lengths)}")
    return np.array(rows, dtype=np.float64), np.array(labels)


@functools.lru_cache(maxsize=8)
def _read_split(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    path = _data_directory() / name / f"{name}_{split}.ts"
    if not path.is_file():
        raise ImportError(f"aeon is installed but {path} is missing; reinstall it: "
                          "pip install --force-reinstall aeon")
    series, labels = _parse_ts(path)
    series.setflags(write=False)
    labels.setflags(write=False)
    return series, labels


def _check_finite(name: str, split: str, series: np.ndarray) -> None:
    bad = ~np.isfinite(series)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(f"ucr({name!r}): the {split} split has {int(bad.sum())} missing or "
                         f"non-finite values in {rows.size} series (first: series {rows[0]})")


def _prepare(series: np.ndarray, downsample: int, start: int, length: int) -> np.ndarray:
    usable = series.shape[1] // downsample * downsample
    means = series[:, :usable].reshape(len(series), -1, downsample).mean(axis=2)
    cropped = means[:, start:start + length]
    return cropped - cropped.mean(axis=1, keepdims=True)


def _scramble(view: str, dim: int, rng: np.random.Generator) -> np.ndarray:
    """The orthogonal ``Q`` of the view: stored series are ``x' = Q x``."""
    if view == "raw":
        return np.eye(dim)
    if view == "permuted":
        return permutation_matrix(rng.permutation(dim)).T
    if view == "dst":
        return dst1(dim)
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))  # Haar-distributed (the sign fix makes QR's Q unique)


@dataclass(frozen=True)
class LabelledSignals:
    """A labelled train/test split of signals, with the time shift in the stored coordinates.

    Attributes
    ----------
    X_train, X_test : ndarray (n, dim)
        Series after down-sampling, cropping, removing each series' mean and the view's
        scramble ``Q``.
    y_train, y_test : ndarray (n,)
        Class labels (strings, as in the archive).
    generator : ndarray (dim, dim)
        ``Q S Qᵀ`` with ``S`` the truncated time shift: the translation a CNN exploits, in the
        stored coordinates. The series of a UCR set are aligned events, so their distribution is
        only roughly shift-invariant; it is the symmetry SymmetryLens is asked to recover.
    transform : ndarray (dim, dim)
        The view's orthogonal scramble ``Q``.
    name, params, description
        As for :class:`SymmetryDataset`.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    generator: np.ndarray
    transform: np.ndarray
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _as_json_dict(self.params))

    @property
    def dim(self) -> int:
        """Length of each (prepared) series."""
        return int(self.X_train.shape[1])

    @property
    def classes(self) -> np.ndarray:
        """The sorted class labels."""
        return np.unique(np.concatenate([self.y_train, self.y_test]))

    @property
    def inputs(self) -> np.ndarray:
        """Train and test series stacked, without labels: what an unsupervised fit may see."""
        return np.concatenate([self.X_train, self.X_test])

    def unscrambled(self, X: np.ndarray) -> np.ndarray:
        """Series ``X`` (n, dim) of this view mapped back to the raw time axis (``Qᵀ x'``)."""
        return np.asarray(X) @ self.transform

    def as_dataset(self, split: str = "all") -> SymmetryDataset:
        """The unlabelled series of ``split`` ("train", "test" or "all") as a SymmetryDataset."""
        parts = {"train": self.X_train, "test": self.X_test, "all": self.inputs}
        if split not in parts:
            raise ValueError(f"unknown split {split!r}; valid: train, test, all")
        return SymmetryDataset(parts[split], generator=self.generator, transform=self.transform,
                               name=f"{self.name}-{split}", params=self.params,
                               description=self.description)


def ucr(name: str, *, view: str = "raw", length: int | None = None, downsample: int = 1,
        random_state: Any = 0) -> LabelledSignals:
    """A UCR classification set shipped with ``aeon``, prepared for SymmetryLens.

    Each series is averaged over blocks of ``downsample`` samples, cropped to its central
    ``length`` samples, centred (its mean removed) and seen through the ``view``. SymmetryLens
    needs an odd length; the default is the longest odd length the series allow.

    Parameters
    ----------
    name
        One of :data:`UCR_NAMES`: ``"GunPoint"`` (150 samples per series, 2 classes, 50 train /
        150 test), ``"ArrowHead"`` (251; 3; 36 / 175), ``"OSULeaf"`` (427; 6; 200 / 242),
        ``"ItalyPowerDemand"`` (24; 2; 67 / 1029) or ``"ACSF1"`` (1460; 10; 100 / 100).
    view
        ``"raw"``, ``"permuted"`` (a fixed random permutation of the time axis), ``"dst"`` (the
        orthonormal DST-I, as in the SymmetryLens paper) or ``"orthogonal"`` (a Haar-random
        rotation).
    length
        Odd number of samples kept after down-sampling (the central ones), at least 3 and at
        least half of the down-sampled series.
    downsample
        Block size of the averaging (1: none).
    random_state
        Seed of the permutation or rotation (the series themselves are fixed).

    Raises
    ------
    ImportError
        If aeon (the optional extra ``ucr``) is not installed.
    ValueError
        An unknown name or view, an even, too short or too long ``length``, a ``downsample``
        that leaves fewer than 3 samples, missing values, or a split with a single class.
    """
    if name not in UCR_NAMES:
        raise ValueError(f"unknown UCR set {name!r}; shipped with aeon: {', '.join(UCR_NAMES)}")
    if view not in UCR_VIEWS:
        raise ValueError(f"unknown view {view!r}; valid: {', '.join(UCR_VIEWS)}")
    downsample = check_int("downsample", downsample, 1)
    available = UCR_NAMES[name] // downsample
    if available < 3:
        raise ValueError(f"ucr({name!r}): downsample={downsample} leaves {available} samples "
                         "per series; SymmetryLens needs at least 3")
    longest_odd = available if available % 2 else available - 1
    if length is None:
        length = longest_odd
    length = check_int("length", length, 3)
    if length % 2 == 0:
        raise ValueError(f"length must be odd for SymmetryLens (centred powers); got {length}, "
                         f"use {length - 1} or {length + 1}")
    if length > available:
        raise ValueError(f"ucr({name!r}): length {length} exceeds the {available} samples per "
                         f"series (after downsample={downsample}); the longest odd length is "
                         f"{longest_odd}")
    if 2 * length < available:
        raise ValueError(f"ucr({name!r}): length {length} would crop away more than half of the "
                         f"{available} samples per series, losing the events that tell the "
                         f"classes apart; down-sample instead (e.g. downsample="
                         f"{downsample * max(2, available // length)})")
    rng, seed_record = resolve_random_state(random_state)

    parts = {}
    for split in ("TRAIN", "TEST"):
        series, labels = _read_split(name, split)
        _check_finite(name, split.lower(), series)
        if np.unique(labels).size < 2:
            raise ValueError(f"ucr({name!r}): the {split.lower()} split has a single class")
        parts[split] = (series, labels)
    start = (available - length) // 2
    q = _scramble(view, length, rng)
    prepared = {split: _prepare(series, downsample, start, length) @ q.T
                for split, (series, _) in parts.items()}
    params = {"name": name, "view": view, "length": length, "downsample": downsample,
              "start": start, "random_state": seed_record}
    description = (f"UCR {name}: {len(parts['TRAIN'][1])} train and {len(parts['TEST'][1])} test "
                   f"series of {length} samples (block means of {downsample}, centred), seen "
                   f"{_VIEW_TEXT[view]}")
    return LabelledSignals(
        X_train=prepared["TRAIN"], y_train=parts["TRAIN"][1].copy(),
        X_test=prepared["TEST"], y_test=parts["TEST"][1].copy(),
        generator=q @ shift(length) @ q.T, transform=q, name=f"{name}-{view}", params=params,
        description=description)
