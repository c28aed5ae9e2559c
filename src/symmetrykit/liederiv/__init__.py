"""The Lie-derivative framework (Otto, Zolman, Kutz, Brunton): enforce, discover, promote symmetry.

One bilinear object drives all three verbs: the Lie derivative
``L_ξ F(x) = DF(x) v_ξ(x) − B_ξ F(x)`` of a model ``F`` along a candidate generator ``ξ``.

* **discover** — for a fixed model, the symmetry algebra is the nullspace of ``ξ ↦ L_ξ F``
  (:func:`discover`); for raw data, the weak form of density invariance
  (:func:`discover_density`) or tangent spaces of a sampled manifold (:func:`discover_tangent`).
* **enforce** — for fixed generators, symmetric models are the nullspace of ``W ↦ L_ξ F_W``
  (:func:`symmetric_basis`, :class:`EquivariantRegressor`, :class:`EquivariantLinear`).
* **promote** — the nuclear norm of ``ξ ↦ L_ξ F_W`` is a convex penalty that favours models with
  a large symmetry algebra (:func:`promote_interpolation`, :class:`PromotedRegressor`,
  :class:`NuclearNormPenalty` for torch networks).
"""

from ._dictionary import PolynomialDictionary, n_monomials
from ._discover import LieDiscovery, discover, discover_density, discover_tangent
from ._enforce import EquivariantLinear, EquivariantRegressor, discrete_constraints, symmetric_basis
from ._model import DictionaryModel, load_model, save_model
from ._networks import NuclearNormPenalty, network_lie_derivative
from ._nuclear import nuclear_norm
from ._operators import (
    OUTPUT_ACTIONS,
    LieTensor,
    directional_derivatives,
    lie_derivative,
    lie_tensor,
    output_matrices,
)
from ._promote import (
    CompressedLieOperator,
    PromotedRegressor,
    PromotionResult,
    compress_lie_tensor,
    promote_interpolation,
    promote_penalized,
)
from ._sindy import sindy_constraints, sindy_dictionary_model, sindy_symmetries

__all__ = [
    "OUTPUT_ACTIONS",
    "CompressedLieOperator",
    "DictionaryModel",
    "EquivariantLinear",
    "EquivariantRegressor",
    "LieDiscovery",
    "LieTensor",
    "NuclearNormPenalty",
    "PolynomialDictionary",
    "PromotedRegressor",
    "PromotionResult",
    "compress_lie_tensor",
    "directional_derivatives",
    "discover",
    "discover_density",
    "discover_tangent",
    "discrete_constraints",
    "lie_derivative",
    "lie_tensor",
    "load_model",
    "n_monomials",
    "network_lie_derivative",
    "nuclear_norm",
    "output_matrices",
    "promote_interpolation",
    "promote_penalized",
    "save_model",
    "sindy_constraints",
    "sindy_dictionary_model",
    "sindy_symmetries",
    "symmetric_basis",
]
