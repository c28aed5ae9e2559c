"""SymmetryLens (Efe & Ozakin 2025): minimal symmetry generators and group-convolution features."""

from ._estimator import SymmetryLens
from ._lifting import group_convolution, orthogonal_from_parameters, power_offsets

__all__ = ["SymmetryLens", "group_convolution", "orthogonal_from_parameters", "power_offsets"]
