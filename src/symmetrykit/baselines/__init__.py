"""Baselines run side by side with SymmetryLens: SymmetryGAN and LieGAN (our implementations).

Both follow the shared estimator contract (:class:`symmetrykit.SymmetryEstimator`: ``fit ->
self``, ``generator_``, ``history_``, ``random_state``, pluggable progress, an optional monitor,
``save`` / ``symmetrykit.load``). Importing the package registers the methods ``"liegan"`` and
``"symmetrygan"`` (:func:`symmetrykit.get_method`).
"""

from .._methods import Method, register_method
from ._compare import DEFAULT_SETTINGS, METHODS, MethodResult, compare, score, score_matrix
from ._evaluate import evaluate, prepare
from ._liegan import LieGAN
from ._symmetrygan import SymmetryGAN

__all__ = ["DEFAULT_SETTINGS", "METHODS", "LieGAN", "MethodResult", "SymmetryGAN", "compare",
           "evaluate", "score", "score_matrix"]


register_method(Method(
    name="liegan", estimator=LieGAN, evaluate=evaluate, prepare=prepare,
    description="LieGAN (Yang, Walters, Dehmamy & Yu 2023): Lie-algebra generators that fool a "
                "discriminator; metric max_t cos(exp(tL), G)"))
register_method(Method(
    name="symmetrygan", estimator=SymmetryGAN, evaluate=evaluate, prepare=prepare,
    description="SymmetryGAN (Desai, Nachman & Thaler 2022): one group element that fools a "
                "discriminator; metric max_{s≠0} cos(M, G^s)"))
