"""symmetrykit: find, enforce and promote symmetry in data and machine-learning models.

The public namespace is small and flat; everything else lives in private modules. Names are
imported on first use (PEP 562), so ``import symmetrykit`` is cheap and does not load torch,
scikit-learn or matplotlib until a method or a plot needs them.

>>> import symmetrykit as sk
>>> ds = sk.datasets.local_signals(n_samples=1000, dim=7, random_state=0)
>>> round(sk.metrics.generator_similarity(ds.generator, ds.generator), 6)
1.0
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("symmetrykit")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

# Submodules and the classes and functions re-exported from them, imported on first use.
_SUBMODULES = ("baselines", "datasets", "flows", "lens", "lie", "liederiv", "metrics", "plot",
               "runs", "sweeps", "testing")
_EXPORTS = {
    "_estimator": ("SymmetryEstimator",),
    "_methods": ("Evaluation", "get_method"),
    "_persistence": ("load",),
    "datasets": ("SymmetryDataset",),
    "flows": ("GeneratorFlow", "ImageGeneratorFlow"),
    "lens": ("SymmetryLens",),
    "lie": ("LieAlgebra",),
    "metrics": ("algebra_distance", "generator_similarity"),
    "runs": ("RunDirectory",),
}
# Public name -> (module, attribute); attribute None means the module itself.
_LAZY: dict[str, tuple[str, str | None]] = {
    **{name: (f"symmetrykit.{name}", None) for name in _SUBMODULES},
    "methods": ("symmetrykit._methods", None),
    **{name: (f"symmetrykit.{module}", name)
       for module, names in _EXPORTS.items() for name in names},
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'symmetrykit' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

