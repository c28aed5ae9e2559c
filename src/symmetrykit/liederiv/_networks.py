"""Promote symmetry in torch networks: the nuclear norm of ``ξ ↦ L_ξ F`` as a training penalty.

Two ways to build the Lie-derivative matrix ``M`` (one column per candidate generator), both ending
in *one* nuclear norm:

* **function level** — ``M[(s, i), k] = (L_{ξ_k} F)_i(x_s) / √N`` with
  ``L_ξ F(x) = DF(x) v_ξ(x) − B_ξ F(x)`` evaluated by forward-mode differentiation
  (:func:`torch.func.jvp`) at fixed sample points; differentiable w.r.t. the network's parameters.
* **layer level** — for affine layers ``x ↦ W x + b`` between representations ``A_in``, ``A_out``
  the Lie derivative is ``(W A_in − A_out W) x + (W c_in − A_out b)`` (``c_in`` the offsets of an
  affine input action), so the block ``[W A_in^k − A_out^k W, W c_in^k − A_out^k b]`` of each layer
  is exact and needs no sample points (Otto et al. 2023, the Lie derivative of a multilayer
  perceptron's affine layers). The blocks of all layers are stacked row-wise before the norm.

Stacking and taking a single nuclear norm promotes one common symmetry subalgebra: the nullspace of
a concatenation is the intersection of the nullspaces. A sum of per-layer norms would favour
per-layer symmetries that need not agree.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .._validation import as_samples
from ..lie import LieAlgebra, as_array
from ._nuclear import nuclear_norm
from ._operators import output_matrices

__all__ = ["NuclearNormPenalty", "network_lie_derivative"]


# ---------------------------------------------------------------------------- helpers
def _generator_scales(algebra: LieAlgebra, normalize: bool) -> np.ndarray:
    """``1/‖A_k‖_F`` per generator (homogeneous matrix for affine algebras), or ones."""
    if not normalize:
        return np.ones(len(algebra))
    norms = np.linalg.norm(algebra.generators.reshape(len(algebra), -1), axis=1)
    if np.any(norms == 0):
        raise ValueError(f"{algebra.name} has a zero generator; it cannot be normalised")
    return 1.0 / norms


def _check_algebra(algebra: Any, name: str = "algebra") -> LieAlgebra:
    if not isinstance(algebra, LieAlgebra):
        raise ValueError(f"{name} must be a LieAlgebra, got {type(algebra).__name__}")
    if len(algebra) == 0:
        raise ValueError(f"{name} has no generators")
    return algebra


def _as_points(points: Any, algebra: LieAlgebra) -> torch.Tensor:
    """Sample points as a float64 tensor of shape ``(N, n)``, checked against the algebra."""
    if isinstance(points, torch.Tensor):
        if points.is_complex():  # .to(float64) would silently keep the real part only
            raise ValueError("points are complex; symmetrykit takes real points")
        x = points.detach().to(torch.float64)
    else:
        x = torch.as_tensor(as_samples(points, name="points", check_scale=False,
                                       warn_constant=False), dtype=torch.float64)
    if x.ndim != 2:
        raise ValueError(f"points must have shape (N, n), got {tuple(x.shape)}")
    if x.shape[0] < 1:
        raise ValueError("need at least one point")
    if x.shape[1] != algebra.space_dim:
        raise ValueError(
            f"points have {x.shape[1]} features but {algebra.name} acts on R^{algebra.space_dim}"
        )
    if not bool(torch.isfinite(x).all()):
        raise ValueError("points contain NaN or inf values")
    return x


def _fields(algebra: LieAlgebra, points: torch.Tensor, scales: np.ndarray) -> torch.Tensor:
    """``c_k · (S_k x + t_k)`` at the points, shape ``(k, N, n)``, float64."""
    linear = torch.as_tensor(algebra.linear_parts * scales[:, None, None])
    offsets = torch.as_tensor(algebra.offsets * scales[:, None])
    return torch.einsum("kij,sj->ksi", linear, points) + offsets[:, None, :]


def _check_output_action(algebra: LieAlgebra, output_algebra: Any) -> None:
    """Validate the output action up to the (not yet known) number of outputs."""
    if output_algebra is None or isinstance(output_algebra, str):
        # The number of outputs is checked when the model has been evaluated.
        if isinstance(output_algebra, str) and output_algebra not in ("invariant", "tangent"):
            output_matrices(algebra, output_algebra, 1)  # raises the standard message
        return
    output_matrices(algebra, output_algebra, getattr(output_algebra, "dim", 0))


def _model_dtype_device(model: Any) -> tuple[torch.dtype, torch.device]:
    if isinstance(model, torch.nn.Module):
        for parameter in model.parameters():
            if parameter.is_floating_point():
                return parameter.dtype, parameter.device
    return torch.float64, torch.device("cpu")


def _lie_values(
    model: Any,
    points: torch.Tensor,
    fields: torch.Tensor,
    algebra: LieAlgebra,
    output_algebra: Any,
    scales: np.ndarray,
) -> torch.Tensor:
    """``(k, N, m)`` Lie derivatives; one forward-mode pass over the points tiled ``k`` times."""
    if not callable(model):
        raise ValueError(f"the model must be callable, got {type(model).__name__}")
    dtype, device = _model_dtype_device(model)
    q, n_points, n = fields.shape
    x = points.to(dtype=dtype, device=device)
    tangents = fields.to(dtype=dtype, device=device).reshape(q * n_points, n)
    # The model must act on each row independently (no batch statistics): the k·N rows are one
    # batch, and the tangent of row (k, s) is the k-th field at x_s.
    tiled = x.unsqueeze(0).expand(q, n_points, n).reshape(q * n_points, n)

    def as_matrix(inputs: torch.Tensor) -> torch.Tensor:
        out = model(inputs)
        if not isinstance(out, torch.Tensor):
            raise ValueError(f"the model must return a torch tensor, got {type(out).__name__}")
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != inputs.shape[0]:
            raise ValueError(
                f"the model must map (N, {n}) to (N, m) or (N,), got output shape "
                f"{tuple(out.shape)} for N = {inputs.shape[0]}"
            )
        return out

    with warnings.catch_warnings():
        # torch loads its forward-mode decompositions on first use through torch.jit.script,
        # which warns about its own deprecation; nothing for the caller to act on.
        warnings.filterwarnings(
            "ignore", message=".*torch.jit.script.*deprecated", category=DeprecationWarning
        )
        values, derivatives = torch.func.jvp(as_matrix, (tiled,), (tangents,))
    m = values.shape[1]
    derivatives = derivatives.reshape(q, n_points, m)
    invariant = isinstance(output_algebra, str) and output_algebra == "invariant"
    if output_algebra is None or invariant:
        return derivatives
    b = output_matrices(algebra, output_algebra, m) * scales[:, None, None]
    b = torch.as_tensor(b, dtype=dtype, device=device)
    return derivatives - torch.einsum("kil,sl->ksi", b, values.reshape(q, n_points, m)[0])


# ---------------------------------------------------------------------------- public
def network_lie_derivative(
    model: Any,
    points: Any,
    algebra: LieAlgebra,
    output_algebra: Any = None,
    *,
    normalize: bool = False,
) -> torch.Tensor:
    """``L_{ξ_k} F(x_s) = DF(x_s) v_k(x_s) − B_k F(x_s)`` of a torch model, differentiably.

    Forward-mode derivatives (:func:`torch.func.jvp`) in the model's dtype; the result keeps the
    autograd graph, so it can enter a loss and be differentiated w.r.t. the model's parameters.

    Parameters
    ----------
    model
        A torch module or function mapping ``(N, n)`` to ``(N, m)`` or ``(N,)`` that acts on each
        row independently (no batch statistics).
    points
        Sample points, shape ``(N, n)`` (NumPy array or tensor; no gradient flows to them).
    algebra
        Input generators (linear, or affine with offsets).
    output_algebra
        ``None``/``"invariant"`` (``B = 0``), ``"tangent"`` (vector fields: ``B_k`` = linear part
        of ``A_k``) or a linear :class:`~symmetrykit.lie.LieAlgebra` paired one to one with
        ``algebra`` and acting on the ``m`` outputs (equivariance).
    normalize
        Scale each pair ``(A_k, B_k)`` by ``1/‖A_k‖_F`` (the Frobenius norm of the input generator,
        homogeneous matrix for affine algebras), as :class:`NuclearNormPenalty` does.

    Returns
    -------
    torch.Tensor
        Shape ``(k, N, m)``, in the model's parameter dtype (float64 for plain functions).

    Raises
    ------
    ValueError
        On points that do not match the algebra, a non-callable model, an output of the wrong
        shape, or an output action that does not fit the model's outputs.
    """
    algebra = _check_algebra(algebra)
    _check_output_action(algebra, output_algebra)
    x = _as_points(points, algebra)
    scales = _generator_scales(algebra, normalize)
    fields = _fields(algebra, x, scales)
    return _lie_values(model, x, fields, algebra, output_algebra, scales)


def _as_representation(rep: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Linear parts ``(k, d, d)`` and offsets ``(k, d)`` of a representation."""
    if isinstance(rep, LieAlgebra):
        return np.array(rep.linear_parts), np.array(rep.offsets)
    stack = as_array(rep, name=name)
    if stack.ndim == 2:
        stack = stack[None]
    if stack.ndim != 3 or stack.shape[1] != stack.shape[2]:
        raise ValueError(f"{name} must be a LieAlgebra or a (k, d, d) stack, got {stack.shape}")
    return stack, np.zeros(stack.shape[:2])


class NuclearNormPenalty(torch.nn.Module):
    """The symmetry-promoting penalty ``‖ξ ↦ L_ξ F‖_*`` for torch networks (Otto et al.).

    Add ``gamma * penalty(model)`` to the training loss; the minimisers favour models whose Lie
    derivative vanishes along a large subalgebra of the candidates, and that subalgebra can be read
    off afterwards from :meth:`singular_values` (promote, then discover).

    Parameters
    ----------
    algebra
        Candidate generators acting on the model's inputs (function level). Leave ``None`` for
        the layer level (:meth:`for_layers`).
    points
        Sample points ``(N, n)`` at which the Lie derivatives are evaluated (function level). The
        matrix is divided by ``√N`` so that the weight does not depend on ``N``.
    output_algebra
        Output action, as in :func:`network_lie_derivative`.
    layers
        Layer level: a sequence of ``(linear, rep_in, rep_out)`` triples, ``linear`` an
        :class:`torch.nn.Linear`, ``rep_in``/``rep_out`` a :class:`~symmetrykit.lie.LieAlgebra`
        or a ``(k, d, d)`` stack acting on its inputs/outputs, with the same ``k`` everywhere (the
        ``k``-th generators of all triples represent the same element ``ξ_k``). ``rep_in`` may be
        affine (offsets ``c``); ``rep_out`` must be linear. The layers are referenced, not
        registered as submodules.
    eps
        Smoothing: the value is ``Σ_i sqrt(σ_i² + eps²) − eps``, differentiable also where singular
        values vanish or coincide (``eps = 0``: the plain nuclear norm).
    normalize
        Scale each generator pair to unit Frobenius norm of its input generator before use (the
        default, as in the authors' code): otherwise the penalty weighs generators by their
        arbitrary lengths. At the layer level the scale of ``ξ_k`` is taken from the *first*
        layer's ``rep_in`` and applied to every layer's pair, so the columns stay one element each.

    Notes
    -----
    Function level: ``M[(s, i), k] = (L_{ξ_k} F)_i(x_s) / √N``, one forward-mode pass per call
    (cost ≈ ``k`` extra forward passes over the ``N`` points). Layer level: the rows of ``M`` are
    ``vec(W A_in^k − A_out^k W)`` followed by ``W c_in^k − A_out^k b``, for every layer; no
    sampling. Either way a single nuclear norm of the stacked matrix is returned.

    Examples
    --------
    >>> import torch, numpy as np
    >>> from symmetrykit.lie import so
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    >>> penalty = NuclearNormPenalty(so(3), np.random.default_rng(0).normal(size=(64, 3)))
    >>> loss = penalty(net)  # add gamma * loss to the data loss
    """

    def __init__(
        self,
        algebra: LieAlgebra | None = None,
        points: Any = None,
        output_algebra: Any = None,
        *,
        layers: Sequence[tuple[Any, Any, Any]] | None = None,
        eps: float = 1e-6,
        normalize: bool = True,
    ) -> None:
        super().__init__()
        if not (isinstance(eps, (int, float)) and np.isfinite(eps) and eps >= 0):
            raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
        self.eps = float(eps)
        self.normalize = bool(normalize)
        if (algebra is None) == (layers is None):
            raise ValueError(
                "give either algebra and points (function level) or layers (layer level)"
            )
        if algebra is not None:
            self.mode = "function"
            algebra = _check_algebra(algebra)
            if points is None:
                raise ValueError("the function level needs sample points")
            _check_output_action(algebra, output_algebra)
            x = _as_points(points, algebra)
            scales = _generator_scales(algebra, self.normalize)
            self.algebra = algebra
            self.output_algebra = output_algebra
            self._scales = scales
            self.register_buffer("points", x)
            self.register_buffer("fields", _fields(algebra, x, scales))
            self._layers: list[Any] = []
        else:
            if points is not None or output_algebra is not None:
                raise ValueError("points and output_algebra belong to the function level only")
            self.mode = "layers"
            self.algebra = None
            self.output_algebra = None
            self._setup_layers(layers)

    @classmethod
    def for_layers(
        cls,
        layers: Sequence[tuple[Any, Any, Any]],
        *,
        eps: float = 1e-6,
        normalize: bool = True,
    ) -> NuclearNormPenalty:
        """The layer-level penalty of ``(linear, rep_in, rep_out)`` triples (see the class)."""
        return cls(layers=layers, eps=eps, normalize=normalize)

    def _setup_layers(self, layers: Any) -> None:
        if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
            raise ValueError("layers must be a non-empty sequence of (linear, rep_in, rep_out)")
        n_generators = None
        scales = None
        for index, item in enumerate(layers):
            if not (isinstance(item, (tuple, list)) and len(item) == 3):
                raise ValueError(f"layers[{index}] must be a (linear, rep_in, rep_out) triple")
            linear, rep_in, rep_out = item
            if not isinstance(linear, torch.nn.Linear):
                raise ValueError(
                    f"layers[{index}][0] must be a torch.nn.Linear, got {type(linear).__name__}"
                )
            a_in, c_in = _as_representation(rep_in, f"layers[{index}] rep_in")
            if isinstance(rep_out, LieAlgebra) and rep_out.affine:
                raise ValueError(f"layers[{index}] rep_out must be linear, got an affine algebra")
            a_out, _ = _as_representation(rep_out, f"layers[{index}] rep_out")
            if len(a_in) != len(a_out):
                raise ValueError(
                    f"layers[{index}]: rep_in has {len(a_in)} generators, rep_out {len(a_out)}"
                )
            if n_generators is None:
                n_generators = len(a_in)
                homogeneous = (
                    rep_in.generators if isinstance(rep_in, LieAlgebra) else a_in
                ).reshape(n_generators, -1)
                norms = np.linalg.norm(homogeneous, axis=1)
                if self.normalize and np.any(norms == 0):
                    raise ValueError("layers[0] rep_in has a zero generator; cannot normalise")
                scales = 1.0 / norms if self.normalize else np.ones(n_generators)
            elif len(a_in) != n_generators:
                raise ValueError(
                    f"layers[{index}] has {len(a_in)} generators, layers[0] {n_generators}: "
                    "every layer must represent the same generators"
                )
            if a_in.shape[1] != linear.in_features:
                raise ValueError(
                    f"layers[{index}]: rep_in acts on dimension {a_in.shape[1]}, the layer has "
                    f"{linear.in_features} inputs"
                )
            if a_out.shape[1] != linear.out_features:
                raise ValueError(
                    f"layers[{index}]: rep_out acts on dimension {a_out.shape[1]}, the layer has "
                    f"{linear.out_features} outputs"
                )
            self.register_buffer(f"rep_in_{index}", torch.as_tensor(a_in * scales[:, None, None]))
            self.register_buffer(f"offset_in_{index}", torch.as_tensor(c_in * scales[:, None]))
            self.register_buffer(f"rep_out_{index}", torch.as_tensor(a_out * scales[:, None, None]))
        self._layers = [item[0] for item in layers]
        self._scales = scales

    @property
    def n_generators(self) -> int:
        """``k``, the number of candidate generators (columns of the matrix)."""
        return len(self._scales)

    # ------------------------------------------------------------------ the matrix
    def _layer_matrix(self) -> torch.Tensor:
        blocks = []
        for index, linear in enumerate(self._layers):
            weight = linear.weight
            dtype, device = weight.dtype, weight.device
            a_in = getattr(self, f"rep_in_{index}").to(dtype=dtype, device=device)
            c_in = getattr(self, f"offset_in_{index}").to(dtype=dtype, device=device)
            a_out = getattr(self, f"rep_out_{index}").to(dtype=dtype, device=device)
            commutator = torch.einsum("oi,kij->koj", weight, a_in) - torch.einsum(
                "kop,pi->koi", a_out, weight
            )
            constant = torch.einsum("oi,ki->ko", weight, c_in)
            if linear.bias is not None:
                constant = constant - torch.einsum("kop,p->ko", a_out, linear.bias)
            q = commutator.shape[0]
            blocks.append(torch.cat([commutator.reshape(q, -1), constant], dim=1).mT)
        return torch.cat(blocks, dim=0)

    def matrix(self, model: Any = None) -> torch.Tensor:
        """The stacked Lie-derivative matrix ``M`` of shape ``(rows, k)`` (differentiable).

        Function level: ``rows = N·m`` ordered ``(point, output)`` and scaled by ``1/√N``; layer
        level: the blocks of all layers (pass no model).
        """
        if self.mode == "layers":
            if model is not None:
                raise ValueError("the layer-level penalty reads its layers; call it without model")
            return self._layer_matrix()
        if model is None:
            raise ValueError("the function-level penalty needs the model: penalty(model)")
        values = _lie_values(
            model, self.points, self.fields, self.algebra, self.output_algebra, self._scales
        )
        q, n_points, m = values.shape
        return values.permute(1, 2, 0).reshape(n_points * m, q) / np.sqrt(n_points)

    def forward(self, model: Any = None) -> torch.Tensor:
        """The smoothed nuclear norm ``Σ sqrt(σ_i² + eps²) − eps`` of :meth:`matrix`."""
        return nuclear_norm(self.matrix(model), eps=self.eps)

    def singular_values(self, model: Any = None) -> np.ndarray:
        """Singular values of :meth:`matrix` (float64 NumPy, ascending: most symmetric first)."""
        with torch.no_grad():
            matrix = self.matrix(model).detach().to(torch.float64).cpu().numpy()
        return np.sort(np.linalg.svd(matrix, compute_uv=False))

    def extra_repr(self) -> str:
        if self.mode == "layers":
            return f"layers={len(self._layers)}, k={self.n_generators}, eps={self.eps}"
        return (
            f"algebra={self.algebra.name}, points={self.points.shape[0]}, "
            f"output_algebra={getattr(self.output_algebra, 'name', self.output_algebra)}, "
            f"eps={self.eps}"
        )
