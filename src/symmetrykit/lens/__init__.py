"""SymmetryLens (Efe & Ozakin 2025): minimal symmetry generators and group-convolution features."""

from ._estimator import SymmetryLens
from ._lifting import group_convolution, orthogonal_from_parameters, power_offsets
from ._warm_start import WarmStart, skew_logarithm, warm_start

__all__ = [
    "SymmetryLens",
    "WarmStart",
    "group_convolution",
    "orthogonal_from_parameters",
    "power_offsets",
    "skew_logarithm",
    "warm_start",
]
