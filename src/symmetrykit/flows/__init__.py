"""Generator flows: learn infinitesimal generators as neural vector fields (Ko, Kim & Lee 2024).

* Fields and flows: :class:`GeneratorField` (K normalised MLP vector fields), :func:`flow`
  (differentiable fixed-step RK4), the paper's regularisers (sequential orthogonality, Lipschitz
  hinge, Sobolev).
* Validity scores: :class:`PDEResidual` (log residual of the governing equation on a deformed
  solution, derivatives re-estimated on the deformed grid) and :class:`ImageValidity` (feature angle
  of a locally trained classifier, with the sensitivity weighting).
* Learning and evaluation: :class:`GeneratorFlow` (``fit -> self``), :func:`compare` and
  :func:`field_similarity` against known symmetries, :func:`smoothest_basis` (the canonical
  basis of the learned symmetries), :func:`affine_measure` and
  :func:`fit_image_generators` for images.
* Persistence: :func:`save_flow` / :func:`load_flow` (JSON + npz, no pickle).
* Downstream use: :func:`augment_solutions` / :func:`transform_solutions` and a small
  :class:`FNO1d`.
"""

from ._augment import AugmentedSolutions, FNO1d, augment_solutions, transform_solutions
from ._canonical import field_jacobians, smoothest_basis
from ._compare import FlowComparison, compare
from ._estimator import GeneratorFlow, PDEValidity, pde_points, pde_reference_fields
from ._fields import GeneratorField, TrunkFeatures, field_norms, flow
from ._images import (
    AFFINE_FIELD_NAMES,
    DigitCNN,
    ImageGenerators,
    ImageValidity,
    affine_fields,
    affine_measure,
    field_validity,
    fit_image_generators,
    flow_images,
    pixel_grid,
    train_classifier,
    warp_images,
)
from ._io import load_flow, save_flow
from ._pde_validity import PDE_RESIDUALS, PDEResidual, deform_solution, pde_residual
from ._regularizers import (
    FieldSimilarity,
    field_inner_products,
    field_similarity,
    lipschitz_penalty,
    orthogonality_penalty,
    sobolev_penalty,
)

__all__ = [
    "AFFINE_FIELD_NAMES",
    "PDE_RESIDUALS",
    "AugmentedSolutions",
    "DigitCNN",
    "FNO1d",
    "FieldSimilarity",
    "FlowComparison",
    "GeneratorField",
    "GeneratorFlow",
    "ImageGenerators",
    "ImageValidity",
    "PDEResidual",
    "PDEValidity",
    "TrunkFeatures",
    "affine_fields",
    "affine_measure",
    "augment_solutions",
    "compare",
    "deform_solution",
    "field_inner_products",
    "field_jacobians",
    "field_norms",
    "field_similarity",
    "field_validity",
    "fit_image_generators",
    "flow",
    "flow_images",
    "lipschitz_penalty",
    "load_flow",
    "orthogonality_penalty",
    "pde_points",
    "pde_reference_fields",
    "pde_residual",
    "pixel_grid",
    "save_flow",
    "smoothest_basis",
    "sobolev_penalty",
    "train_classifier",
    "transform_solutions",
    "warp_images",
]
