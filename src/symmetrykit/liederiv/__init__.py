"""The Lie-derivative framework (Otto, Zolman, Kutz, Brunton): enforce, discover, promote symmetry.

One bilinear object drives all three verbs: the Lie derivative
``L_ξ F(x) = DF(x) v_ξ(x) − B_ξ F(x)`` of a model ``F`` along a candidate generator ``ξ``.

* **discover** — for a fixed model, the symmetry algebra is the nullspace of ``ξ ↦ L_ξ F``
  (:func:`discover`); for raw data, the weak form of density invariance
  (:func:`discover_density`) or tangent spaces of a sampled manifold (:func:`discover_tangent`).
* **enforce** — for fixed generators, symmetric models are the nullspace of ``W ↦ L_ξ F_W``.
* **promote** — the nuclear norm of ``ξ ↦ L_ξ F_W`` is a convex penalty that favours models with
  a large symmetry algebra.
"""

from ._dictionary import PolynomialDictionary, n_monomials
from ._discover import LieDiscovery, discover, discover_density, discover_tangent
from ._operators import (
    OUTPUT_ACTIONS,
    LieTensor,
    directional_derivatives,
    lie_derivative,
    lie_tensor,
    output_matrices,
)

__all__ = [
    "OUTPUT_ACTIONS",
    "LieDiscovery",
    "LieTensor",
    "PolynomialDictionary",
    "directional_derivatives",
    "discover",
    "discover_density",
    "discover_tangent",
    "lie_derivative",
    "lie_tensor",
    "n_monomials",
    "output_matrices",
]
