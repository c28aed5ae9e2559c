"""Lie derivatives ``L_ξ F(x) = DF(x) v_ξ(x) − B_ξ F(x)`` of models, and the bilinear Lie tensor.

Two evaluations of the same operator:

* :func:`lie_derivative` for any callable model (a torch module or function, or a NumPy function),
  by forward-mode differentiation: one Jacobian-vector product per generator.
* :func:`lie_tensor` for linear-in-parameter models ``F_W(x) = W φ(x)`` with a dictionary whose
  Jacobian is exact: the tensor ``T[k, s, i, l, j]`` with ``(L_{ξ_k} F_W)_i(x_s) = Σ_{l,j}
  T[k, s, i, l, j] W[l, j]``. Enforcement contracts it over the generators' side, discovery and
  promotion over the coefficients' side (the duality of Otto et al.).

The sign convention is ``K_g F = Θ_{g⁻¹} ∘ F ∘ θ_g``, with ``θ`` the action on the inputs and ``Θ``
the fibre-linear action on the outputs (Otto et al. 2023, the Lie derivative of a fibre-linear
action); nullspaces, singular values and nuclear norms do not depend on it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_samples
from ..lie import LieAlgebra
from ._dictionary import PolynomialDictionary

__all__ = ["LieTensor", "OUTPUT_ACTIONS", "lie_derivative", "lie_tensor", "output_matrices"]

#: Named output actions besides an explicit :class:`~symmetrykit.lie.LieAlgebra`.
OUTPUT_ACTIONS = ("invariant", "tangent")


def output_matrices(algebra: LieAlgebra, output_algebra: Any, n_outputs: int) -> np.ndarray:
    """The fibre generators ``B_k`` paired with the input generators, shape ``(k, m, m)``.

    ``output_algebra`` is ``None``/``"invariant"`` (``B = 0``: invariance of every output),
    ``"tangent"`` (``B_k = S_k``, the linear part of the input field: the model is a vector field,
    ``L_ξ f = [v_ξ, f]``), or a linear :class:`LieAlgebra` with one generator per input generator
    acting on the ``m`` outputs (equivariance under the pairs ``(A_k, B_k)``).
    """
    q = len(algebra)
    if output_algebra is None or (
        isinstance(output_algebra, str) and output_algebra == "invariant"
    ):
        return np.zeros((q, n_outputs, n_outputs))
    if isinstance(output_algebra, str):
        if output_algebra != "tangent":
            raise ValueError(
                f"unknown output action {output_algebra!r}; use one of {OUTPUT_ACTIONS} "
                "or a LieAlgebra"
            )
        if n_outputs != algebra.space_dim:
            raise ValueError(
                f"the tangent action needs as many outputs as inputs ({algebra.space_dim}), "
                f"got {n_outputs}"
            )
        return np.array(algebra.linear_parts)
    if not isinstance(output_algebra, LieAlgebra):
        raise ValueError(
            f"output_algebra must be None, one of {OUTPUT_ACTIONS} or a LieAlgebra, "
            f"got {type(output_algebra).__name__}"
        )
    if output_algebra.affine:
        raise ValueError("output actions must be linear (fibre-linear); got an affine algebra")
    if len(output_algebra) != q:
        raise ValueError(
            f"output_algebra has {len(output_algebra)} generators, the input algebra {q}: "
            "they are paired one to one"
        )
    if output_algebra.dim != n_outputs:
        raise ValueError(
            f"output_algebra acts on dimension {output_algebra.dim}, the model has {n_outputs} "
            "outputs"
        )
    return np.array(output_algebra.generators)


def _check_points(points: Any, algebra: LieAlgebra) -> np.ndarray:
    # Points where a model is probed: repeated points are legitimate, hence no constancy warning.
    points = as_samples(points, name="points", warn_constant=False)
    if points.shape[1] != algebra.space_dim:
        raise ValueError(
            f"points have {points.shape[1]} features but {algebra.name} acts on "
            f"R^{algebra.space_dim}"
        )
    if points.shape[0] < 1:
        raise ValueError("need at least one point")
    return points


# ---------------------------------------------------------------------------- dictionaries
def _axis_length(axis: int, doc: str) -> property:
    """A read-only property: the length of ``array`` along ``axis``."""
    return property(lambda self: int(self.array.shape[axis]), doc=doc)


@dataclass(frozen=True)
class LieTensor:
    """The Lie tensor ``T[k, s, i, l, j]`` of a dictionary model on sample points.

    ``k``: generator, ``s``: point, ``i``: output component, ``(l, j)``: coefficient ``W[l, j]``
    of ``F_W(x) = W φ(x)`` (``W`` of shape ``(m, p)``).
    """

    array: np.ndarray

    n_generators = _axis_length(0, "``k``, the number of generators.")
    n_points = _axis_length(1, "``N``, the number of sample points.")
    n_outputs = _axis_length(2, "``m``, the number of model outputs.")
    n_terms = _axis_length(4, "``p``, the number of dictionary features.")

    def lie_derivatives(self, coef: Any) -> np.ndarray:
        """``L_{ξ_k} F_W(x_s)`` for ``W = coef`` (shape ``(m, p)``): shape ``(k, N, m)``."""
        return np.einsum("ksilj,lj->ksi", self.array, coef)

    def constraint_matrix(self) -> np.ndarray:
        """Enforcement matrix ``C`` of shape ``(k·N·m, m·p)``: ``C vec(W) = vec(L F_W)``.

        Rows are scaled by ``1/√N`` so that ``‖C vec(W)‖²`` is the mean squared Lie derivative
        over the points; ``vec`` is row-major (``W.reshape(-1)``).
        """
        q, n, m, _, p = self.array.shape
        return self.array.reshape(q * n * m, m * p) / np.sqrt(n)

    def generator_matrix(self, coef: Any) -> np.ndarray:
        """``M_F`` of shape ``(N·m, k)``: column ``k`` is ``L_{ξ_k} F_W`` at all points / ``√N``.

        Its right nullspace is the symmetry algebra of ``F_W`` (discovery) and its nuclear norm is
        the symmetry-promoting penalty.
        """
        q, n, m, _, p = self.array.shape
        coef = np.asarray(coef, dtype=np.float64).reshape(m, p)
        values = np.einsum("ksilj,lj->sik", self.array, coef)
        return values.reshape(n * m, q) / np.sqrt(n)

    def operator(self) -> np.ndarray:
        """The linear map ``vec(W) ↦ vec(M_F)`` as a matrix of shape ``(N·m·k, m·p)``.

        ``vec(M_F)`` is row-major over ``(s, i, k)``, matching :meth:`generator_matrix`.
        """
        q, n, m, _, p = self.array.shape
        return np.transpose(self.array, (1, 2, 0, 3, 4)).reshape(n * m * q, m * p) / np.sqrt(n)


def lie_tensor(
    dictionary: PolynomialDictionary,
    points: Any,
    algebra: LieAlgebra,
    output_algebra: Any = None,
    *,
    n_outputs: int = 1,
) -> LieTensor:
    """The Lie tensor of ``F_W(x) = W φ(x)`` at ``points`` (exact: no differentiation error).

    ``T[k, s, i, l, j] = δ_il (Dφ(x_s) v_k(x_s))_j − (B_k)_il φ_j(x_s)``.

    Parameters
    ----------
    dictionary
        Feature map with an exact :meth:`~PolynomialDictionary.jacobian`.
    points
        Shape ``(N, n)``.
    algebra
        Candidate generators acting on the inputs (linear or affine).
    output_algebra
        See :func:`output_matrices`.
    n_outputs
        ``m``, the number of model outputs (the rows of ``W``); ``n`` for ``"tangent"``.
    """
    points = _check_points(points, algebra)
    if dictionary.n_features != algebra.space_dim:
        raise ValueError(
            f"dictionary has {dictionary.n_features} inputs, {algebra.name} acts on "
            f"R^{algebra.space_dim}"
        )
    if isinstance(output_algebra, str) and output_algebra == "tangent":
        n_outputs = algebra.space_dim
    elif isinstance(output_algebra, LieAlgebra):
        n_outputs = output_algebra.dim
    b = output_matrices(algebra, output_algebra, n_outputs)
    fields = algebra.vector_fields(points)  # (q, N, n)
    features = dictionary.transform(points)  # (N, p)
    jac = dictionary.jacobian(points)  # (N, p, n)
    directional = np.einsum("spn,ksn->ksp", jac, fields)  # (q, N, p)
    m = n_outputs
    eye = np.eye(m)
    tensor = (
        eye[None, None, :, :, None] * directional[:, :, None, None, :]
        - b[:, None, :, :, None] * features[None, :, None, None, :]
    )
    return LieTensor(tensor)


# ---------------------------------------------------------------------------- any model
def _as_output_matrix(value: Any, n_points: int) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] != n_points:
        raise ValueError(
            f"the model must map (n_points, n) to (n_points, m) or (n_points,), got output shape "
            f"{array.shape} for {n_points} points"
        )
    return array


def _jvp_torch(f: Any, points: np.ndarray, fields: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import torch

    dtype = torch.float64
    if isinstance(f, torch.nn.Module):
        params = list(f.parameters())
        if params:
            dtype = params[0].dtype
    x = torch.as_tensor(points, dtype=dtype)

    def model(inputs: Any) -> Any:
        out = f(inputs)
        if not isinstance(out, torch.Tensor):
            raise TypeError("model did not return a torch tensor")
        return out.reshape(out.shape[0], -1) if out.ndim != 1 else out[:, None]

    with torch.no_grad():
        values = model(x)
    derivatives = []
    for field in fields:
        tangent = torch.as_tensor(field, dtype=dtype)
        _, jvp = torch.func.jvp(model, (x,), (tangent,))
        derivatives.append(jvp.detach().cpu().double().numpy())
    return values.detach().cpu().double().numpy(), np.stack(derivatives)


def _jvp_complex_step(
    f: Any, points: np.ndarray, fields: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # Complex-step differentiation is exact to rounding for functions analytic in their inputs
    # (no subtractive cancellation), so a tiny step can be used.
    step = 1e-30
    values = _as_output_matrix(f(points.copy()), len(points))
    if np.iscomplexobj(values):
        raise TypeError("model returns complex values for real inputs")
    derivatives = []
    for field in fields:
        out = np.asarray(f(points + 1j * step * field))
        if not np.iscomplexobj(out):
            raise TypeError("model does not propagate complex inputs")
        derivatives.append(_as_output_matrix(out.imag / step, len(points)))
    return values.astype(np.float64), np.stack(derivatives)


def _jvp_finite_difference(
    f: Any, points: np.ndarray, fields: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # Fourth-order central differences; the step balances truncation (h^4) against rounding
    # (eps/h) for O(1)-scaled inputs.
    values = _as_output_matrix(f(points.copy()), len(points)).astype(np.float64)
    scale = max(float(np.max(np.abs(points))), 1.0)
    h = 1e-3 * scale
    derivatives = []
    for field in fields:
        norm = max(float(np.max(np.abs(field))), 1e-300)
        step = h / norm
        plus1, minus1 = f(points + step * field), f(points - step * field)
        plus2, minus2 = f(points + 2 * step * field), f(points - 2 * step * field)
        stencil = (
            8 * (_as_output_matrix(plus1, len(points)) - _as_output_matrix(minus1, len(points)))
            - (_as_output_matrix(plus2, len(points)) - _as_output_matrix(minus2, len(points)))
        ) / (12 * step)
        derivatives.append(stencil.astype(np.float64))
    return values, np.stack(derivatives)


DIFFERENTIATION_METHODS = ("auto", "torch", "complex-step", "finite-difference")


def directional_derivatives(
    f: Any, points: np.ndarray, fields: np.ndarray, method: str = "auto"
) -> tuple[np.ndarray, np.ndarray, str]:
    """Values ``F(x_s)`` and derivatives ``DF(x_s) v_k(x_s)`` of any model.

    ``method="auto"`` tries, in order: torch forward mode (exact; the model is called on a
    float64 tensor, or on its parameters' dtype for an ``nn.Module``), complex step (exact to
    rounding for NumPy functions analytic in their inputs), fourth-order finite differences.

    Returns
    -------
    values ``(N, m)``, derivatives ``(k, N, m)`` and the method used.
    """
    if method not in DIFFERENTIATION_METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {DIFFERENTIATION_METHODS}")
    # Real points only: the complex step perturbs them itself and would mix up given
    # imaginary parts with its own.
    points = as_samples(points, name="points", check_scale=False, warn_constant=False)
    attempts = {
        "torch": _jvp_torch,
        "complex-step": _jvp_complex_step,
        "finite-difference": _jvp_finite_difference,
    }
    order = list(attempts) if method == "auto" else [method]
    errors = []
    for name in order:
        try:
            with warnings.catch_warnings():
                # Probing a NumPy function with torch tensors (or complex arrays) may warn before
                # it fails; a failed probe only means "try the next method".
                warnings.simplefilter("ignore")
                values, derivatives = attempts[name](f, points, fields)
        except Exception as exc:  # noqa: BLE001 - any failure means "try the next method"
            if method != "auto":
                raise ValueError(f"differentiating the model with {name!r} failed: {exc}") from exc
            errors.append(f"{name}: {exc}")
            continue
        if not (np.all(np.isfinite(values)) and np.all(np.isfinite(derivatives))):
            if method != "auto":
                raise ValueError(f"the model's values or derivatives ({name}) are not finite")
            errors.append(f"{name}: non-finite values")
            continue
        return values, derivatives, name
    raise ValueError("could not differentiate the model: " + "; ".join(errors))


def lie_derivative(
    f: Any,
    points: Any,
    algebra: LieAlgebra,
    output_algebra: Any = None,
    *,
    method: str = "auto",
) -> np.ndarray:
    """``L_{ξ_k} F(x_s) = DF(x_s) v_k(x_s) − B_k F(x_s)`` for every generator and point.

    Parameters
    ----------
    f
        The model: a callable mapping ``(N, n)`` to ``(N, m)`` or ``(N,)`` (torch module or
        function, or a NumPy function), or an object with a ``lie_derivative(points, algebra,
        output_algebra)`` method (the dictionary regressors, exact).
    points
        Shape ``(N, n)``.
    algebra, output_algebra
        Input generators and the output action (see :func:`output_matrices`).
    method
        See :func:`directional_derivatives`.

    Returns
    -------
    Array of shape ``(k, N, m)``.
    """
    return _lie_derivative_with_method(f, points, algebra, output_algebra, method=method)[0]


def _lie_derivative_with_method(
    f: Any, points: Any, algebra: LieAlgebra, output_algebra: Any, *, method: str = "auto"
) -> tuple[np.ndarray, str]:
    points = _check_points(points, algebra)
    if hasattr(f, "lie_derivative") and callable(f.lie_derivative):
        return np.asarray(f.lie_derivative(points, algebra, output_algebra)), "exact"
    if not callable(f):
        raise ValueError(f"the model must be callable, got {type(f).__name__}")
    fields = algebra.vector_fields(points)
    values, derivatives, used = directional_derivatives(f, points, fields, method)
    b = output_matrices(algebra, output_algebra, values.shape[1])
    return derivatives - np.einsum("kil,sl->ksi", b, values), used
