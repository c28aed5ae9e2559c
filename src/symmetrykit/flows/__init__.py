"""Generator flows: learn infinitesimal generators as neural vector fields (Ko, Kim & Lee 2024).

Building blocks: :class:`GeneratorField` (K normalised MLP vector fields), :func:`flow`
(differentiable fixed-step RK4 flows), the regularisers of the paper (sequential orthogonality,
Lipschitz hinge, Sobolev) and :func:`field_similarity` for comparing learned fields with known
symmetries.
"""

from ._fields import GeneratorField, field_norms, flow
from ._regularizers import (
    FieldSimilarity,
    field_inner_products,
    field_similarity,
    lipschitz_penalty,
    orthogonality_penalty,
    sobolev_penalty,
)

__all__ = [
    "GeneratorField",
    "field_norms",
    "flow",
    "FieldSimilarity",
    "field_inner_products",
    "field_similarity",
    "lipschitz_penalty",
    "orthogonality_penalty",
    "sobolev_penalty",
]
