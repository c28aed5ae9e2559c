"""symmetrykit: find, enforce and promote symmetry in data and machine-learning models.

The public namespace is small and flat; everything else lives in private modules.

>>> import symmetrykit as sk
>>> ds = sk.datasets.local_signals(n_samples=1000, dim=7, random_state=0)
>>> round(sk.metrics.generator_similarity(ds.generator, ds.generator), 6)
1.0
"""

from importlib.metadata import PackageNotFoundError, version

from . import baselines, datasets, flows, lie, liederiv, metrics, sweeps
from .datasets import SymmetryDataset
from .flows import GeneratorFlow
from .lens import SymmetryLens
from .lie import LieAlgebra
from .metrics import algebra_distance, generator_similarity
from .runs import RunDirectory

try:
    __version__ = version("symmetrykit")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "GeneratorFlow",
    "LieAlgebra",
    "RunDirectory",
    "SymmetryDataset",
    "SymmetryLens",
    "__version__",
    "algebra_distance",
    "baselines",
    "datasets",
    "flows",
    "generator_similarity",
    "lie",
    "liederiv",
    "metrics",
    "sweeps",
]
