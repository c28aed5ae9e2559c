"""The Lie-derivative framework (Otto, Zolman, Kutz, Brunton): enforce, discover, promote symmetry.

One bilinear object drives all three verbs: the Lie derivative
``L_ξ F(x) = DF(x) v_ξ(x) − B_ξ F(x)`` of a model ``F`` along a candidate generator ``ξ``.

* **discover** — for a fixed model, the symmetry algebra is the nullspace of ``ξ ↦ L_ξ F``
  (:func:`discover`; for operators on fields such as neural operators, over candidate point
  symmetries, :func:`discover_operator`); for raw data, the weak form of density invariance
  (:func:`discover_density`) or tangent spaces of a sampled manifold (:func:`discover_tangent`);
  for PDE trajectories, the prolonged Lie derivative of the identified equation
  (:func:`discover_pde`: the whole point-symmetry algebra, counted at a spectral gap).
* **enforce** — for fixed generators, symmetric models are the nullspace of ``W ↦ L_ξ F_W``
  (:func:`symmetric_basis`, :class:`EquivariantRegressor`, :class:`EquivariantLinear`).
* **promote** — the nuclear norm of ``ξ ↦ L_ξ F_W`` is a convex penalty that favours models with
  a large symmetry algebra (:func:`promote_interpolation`, :class:`PromotedRegressor`,
  :class:`NuclearNormPenalty` for torch networks, :class:`OperatorSymmetryPenalty` for neural
  operators; :class:`GalileanFrame` enforces a Galilean boost on any operator).

Fitted models are saved with ``save(path)`` (or :func:`save_model`) and read back with
:func:`symmetrykit.load` (or :func:`load_model`); :func:`evaluate` scores a fitted regressor
against a data set's known symmetry (the registered method ``"lie"``).
"""

from .._methods import Method, register_method
from ._compress import CompressedLieOperator, PromotionResult, compress_lie_tensor
from ._dictionary import PolynomialDictionary, n_monomials
from ._discover import LieDiscovery, discover, discover_density, discover_tangent
from ._enforce import EquivariantLinear, EquivariantRegressor, discrete_constraints, symmetric_basis
from ._equation import EvolutionEquation
from ._evaluate import RegressionData, _prepare, discovery_metrics, evaluate
from ._field_operators import FieldGrid, GridAction, operator_lie_derivative
from ._model import DictionaryModel, load_model, save_model
from ._networks import NuclearNormPenalty, network_lie_derivative
from ._nuclear import nuclear_norm
from ._operator_symmetry import (
    GalileanFrame,
    OperatorDiscovery,
    OperatorSymmetryPenalty,
    discover_operator,
    galilean_boost,
)
from ._operators import (
    OUTPUT_ACTIONS,
    LieTensor,
    directional_derivatives,
    lie_derivative,
    lie_tensor,
    output_matrices,
)
from ._pde_discover import PDEDiscovery, discover_pde, pde_symmetries
from ._prolongation import GeneratorLibrary
from ._promote import PromotedRegressor, promote_interpolation, promote_penalized
from ._sindy import sindy_constraints, sindy_dictionary_model, sindy_symmetries

__all__ = [
    "OUTPUT_ACTIONS",
    "CompressedLieOperator",
    "DictionaryModel",
    "EquivariantLinear",
    "EquivariantRegressor",
    "EvolutionEquation",
    "FieldGrid",
    "GalileanFrame",
    "GridAction",
    "GeneratorLibrary",
    "LieDiscovery",
    "LieTensor",
    "NuclearNormPenalty",
    "OperatorDiscovery",
    "OperatorSymmetryPenalty",
    "PDEDiscovery",
    "PolynomialDictionary",
    "PromotedRegressor",
    "PromotionResult",
    "RegressionData",
    "compress_lie_tensor",
    "directional_derivatives",
    "discover",
    "discover_density",
    "discover_operator",
    "discover_pde",
    "discover_tangent",
    "discovery_metrics",
    "discrete_constraints",
    "evaluate",
    "galilean_boost",
    "lie_derivative",
    "lie_tensor",
    "load_model",
    "n_monomials",
    "network_lie_derivative",
    "nuclear_norm",
    "operator_lie_derivative",
    "output_matrices",
    "pde_symmetries",
    "promote_interpolation",
    "promote_penalized",
    "save_model",
    "sindy_constraints",
    "sindy_dictionary_model",
    "sindy_symmetries",
    "symmetric_basis",
]

register_method(Method(
    name="lie",
    estimator=PromotedRegressor,
    prepare=_prepare,
    evaluate=evaluate,
    description="Otto et al.: promote symmetry in a polynomial regression, then discover the "
    "symmetry algebra the fitted model acquired",
))
