"""Generator flows: learn infinitesimal generators as neural vector fields (Ko, Kim & Lee 2024).

* Fields and flows: :class:`GeneratorField` (K normalised MLP vector fields), :func:`flow`
  (differentiable fixed-step RK4), the paper's regularisers (sequential orthogonality, Lipschitz
  hinge, Sobolev).
* Validity scores: :class:`PDEResidual` (log residual of the governing equation on a deformed
  solution, derivatives re-estimated on the deformed grid) and :class:`ImageValidity` (feature angle
  of a locally trained classifier, with the sensitivity weighting).
* Estimators (``fit -> self``, ``save``/``load``, presets): :class:`GeneratorFlow` (PDE data or
  any data with a validity; ``GeneratorFlow.preset("pde-cpu")``) and :class:`ImageGeneratorFlow`
  (pixel fields of images; ``ImageGeneratorFlow.preset("mnist")``, :func:`fit_image_generators`
  its functional form).
* Evaluation: :func:`evaluate` (flat metrics and figures against the known symmetries),
  :func:`compare` and :func:`field_similarity`, :func:`smoothest_basis` (the canonical basis of
  the learned symmetries), :func:`affine_measure`.
* Downstream use: :func:`augment_solutions` / :func:`transform_solutions` and a small
  :class:`FNO1d`.

Importing the package registers the methods ``"flow"`` and ``"image-flow"``
(:func:`symmetrykit.get_method`).
"""

from .._methods import Method, register_method
from ._augment import AugmentedSolutions, FNO1d, augment_solutions, transform_solutions
from ._canonical import field_jacobians, smoothest_basis
from ._compare import FlowComparison, compare
from ._deprecated import load_flow, save_flow
from ._estimator import GeneratorFlow
from ._evaluate import evaluate
from ._fields import GeneratorField, TrunkFeatures, field_norms, flow
from ._image_flow import (
    ImageData,
    ImageGeneratorFlow,
    ImageGenerators,
    fit_image_generators,
    mnist_data,
)
from ._images import (
    AFFINE_FIELD_NAMES,
    DigitCNN,
    ImageValidity,
    affine_fields,
    affine_measure,
    field_validity,
    flow_images,
    pixel_grid,
    train_classifier,
    warp_images,
)
from ._pde_data import PDEValidity, pde_points, pde_reference_fields
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
    "ImageData",
    "ImageGeneratorFlow",
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
    "evaluate",
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
    "mnist_data",
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


def _identity(dataset):
    return dataset


register_method(Method(
    "flow", GeneratorFlow, prepare=_identity, evaluate=evaluate,
    description="generator flows on PDE data (Ko, Kim & Lee 2024): learned vector fields vs "
                "the equation's Lie point symmetries",
    default_preset="pde-cpu"))
register_method(Method(
    "image-flow", ImageGeneratorFlow, prepare=_identity, evaluate=evaluate,
    description="generator flows on images (Ko, Kim & Lee 2024): pixel fields of MNIST digits "
                "vs the affine fields",
    default_preset="mnist"))
