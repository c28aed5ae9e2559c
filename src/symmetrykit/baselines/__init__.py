"""Baselines run side by side with SymmetryLens: SymmetryGAN and LieGAN (our implementations).

Both follow the estimator conventions of :class:`symmetrykit.SymmetryLens` (``fit -> self``,
``generator_``, ``history_``, ``random_state``, pluggable progress, an optional monitor).
"""

from ._compare import DEFAULT_SETTINGS, METHODS, MethodResult, compare, score, score_matrix
from ._liegan import LieGAN
from ._symmetrygan import SymmetryGAN

__all__ = ["DEFAULT_SETTINGS", "METHODS", "LieGAN", "MethodResult", "SymmetryGAN", "compare",
           "score", "score_matrix"]
