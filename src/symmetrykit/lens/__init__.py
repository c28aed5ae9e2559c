"""SymmetryLens (Efe & Ozakin 2025): minimal symmetry generators and group-convolution features.

The representation feeds a CNN (:class:`CNNClassifier`, e.g.
``make_pipeline(SymmetryLens(representation="basis"), CNNClassifier())``): the lens is the
adapter between raw data with a hidden symmetry and convolutional networks;
:func:`representation_equivariance` measures the equivariance that makes this work.

Importing the package registers the method ``"lens"`` (:func:`symmetrykit.get_method`).
"""

from .._methods import Method, register_method
from ..lie import skew_logarithm  # its home is symmetrykit.lie; kept here for old imports
from ._cnn import CNNClassifier, ConvolutionalNetwork
from ._equivariance import EquivarianceCheck, representation_equivariance
from ._estimator import SymmetryLens
from ._evaluate import evaluate, ground_truth_monitor
from ._lifting import group_convolution, orthogonal_from_parameters, power_offsets
from ._warm_start import WarmStart, warm_start

__all__ = [
    "CNNClassifier",
    "ConvolutionalNetwork",
    "EquivarianceCheck",
    "SymmetryLens",
    "WarmStart",
    "evaluate",
    "ground_truth_monitor",
    "group_convolution",
    "orthogonal_from_parameters",
    "power_offsets",
    "representation_equivariance",
    "skew_logarithm",
    "warm_start",
]


register_method(Method(
    name="lens", estimator=SymmetryLens, evaluate=evaluate,
    description="SymmetryLens (Efe & Ozakin 2025): the minimal generator of a one-parameter "
                "symmetry and a group-convolution representation, from raw vectors"))
