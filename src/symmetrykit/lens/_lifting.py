"""The SymmetryLens lifting map: a padded generator, its powers and a resolving filter.

Output component ``n`` of the representation is ``y_n = ⟨pad f̂, G^{k_n} pad x⟩`` with
``k_n = n − (N−1)/2``: the filter is moved by the learned group element ``G`` (an orthogonal matrix
on the zero-padded space of size ``M = N + 2P``) and correlated with the signal. The ``N × N``
matrix ``Φ`` with rows ``crop(pad(f̂)ᵀ G^{k_n})`` is the "group convolution"; ``y = Φ x``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["RUNAWAY_FACTOR", "cayley_orthogonal", "check_rotation_size", "group_convolution",
           "orthogonal_from_parameters", "power_offsets", "rotation_from_parameters"]


def power_offsets(dim: int) -> torch.Tensor:
    """The powers ``k_n = n − (N−1)/2`` used for each output component (``dim`` must be odd)."""
    if dim % 2 != 1:
        raise ValueError(f"the signal dimension must be odd (got {dim}): powers k_n are centred")
    half = (dim - 1) // 2
    return torch.arange(-half, half + 1)


def orthogonal_from_parameters(a: torch.Tensor) -> torch.Tensor:
    """``G = expm(½(A − Aᵀ))``: a differentiable map from any square matrix onto SO(M)."""
    return torch.linalg.matrix_exp(0.5 * (a - a.mT))


def cayley_orthogonal(base: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """``G = base · (I − K/2)⁻¹ (I + K/2)`` with ``K = ½(S − Sᵀ)``: a rotation near ``base``.

    The Cayley map of ``K/2`` is exactly orthogonal and agrees with ``expm(K)`` up to terms of
    third order in ``K``, so near ``S = 0`` it moves ``G`` like ``base · expm(K)`` would, at the
    cost of one linear solve: about 15× less than the matrix exponential and its gradient at
    ``M = 387`` (torch differentiates ``matrix_exp`` through the exponential of a ``2M × 2M``
    block matrix). A warm-started SymmetryLens run only corrects a good ``base``, so ``K`` stays
    small and the map's distortion far from the identity (it cannot reach eigenvalue −1) never
    matters.
    """
    k = 0.25 * (s - s.mT)
    eye = torch.eye(s.shape[-1], dtype=s.dtype, device=s.device)
    return base @ torch.linalg.solve(eye - k, eye + k)


def group_convolution(g: torch.Tensor, filter_unit: torch.Tensor, padding: int) -> torch.Tensor:
    """The ``N × N`` group-convolution matrix ``Φ`` for padded group element ``g`` (M × M).

    Row ``n`` is ``crop(pad(f̂)ᵀ G^{k_n})``. Powers are applied to the padded filter by successive
    vector–matrix products (``G`` for positive, ``Gᵀ = G⁻¹`` for negative powers): ``N − 1``
    products of size ``M`` instead of a matrix power per row, and no eigendecomposition whose
    gradient is unstable at the degenerate spectrum of the initial ``G ≈ I``. The gradient is
    computed by :class:`_Orbit` in one matrix product instead of ``N − 1`` outer products.
    """
    n = filter_unit.shape[-1]
    m = g.shape[-1]
    if m != n + 2 * padding:
        raise ValueError(f"G has size {m} but N + 2P = {n + 2 * padding}")
    row = torch.nn.functional.pad(filter_unit, (padding, padding))
    rows = _Orbit.apply(g, row, (n - 1) // 2)
    return rows[:, padding : padding + n]


class _Orbit(torch.autograd.Function):
    """The orbit ``row · G^k`` for ``k = −h … h`` (rows of a ``(2h + 1, M)`` tensor), with a
    hand-written gradient.

    Left to autograd, every vector–matrix product's backward materialises an ``M × M`` outer
    product and adds it into ``∂G``: ``2h`` full matrices per step, half a second at M = 771.
    Here the adjoints are propagated along both chains (``2h`` vector–matrix products, like the
    forward pass) and ``∂G`` is one product of the stacked rows with the stacked adjoints:
    ``∂G = Σ_k r_kᵀ λ_{k+1} + Σ_k μ_{k+1}ᵀ s_k`` for the chains ``r_{k+1} = r_k G`` and
    ``s_{k+1} = s_k Gᵀ``.
    """

    @staticmethod
    def forward(ctx, g: torch.Tensor, row: torch.Tensor, half: int) -> torch.Tensor:
        forward, backward = [row], [row]
        for _ in range(half):
            forward.append(forward[-1] @ g)
            backward.append(backward[-1] @ g.mT)
        ahead, behind = torch.stack(forward), torch.stack(backward)
        ctx.save_for_backward(g, ahead, behind)
        return torch.cat([behind[1:].flip(0), ahead])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        g, ahead, behind = ctx.saved_tensors
        half = ahead.shape[0] - 1
        grad_ahead = grad[half:]                                   # rows G^0 … G^h
        grad_behind = torch.cat([torch.zeros_like(grad[:1]),       # G^0 counted ahead
                                 grad[:half].flip(0)])             # rows G^−1 … G^−h
        adjoint_ahead, adjoint_behind = [grad_ahead[half]], [grad_behind[half]]
        for k in range(half - 1, -1, -1):
            adjoint_ahead.append(grad_ahead[k] + adjoint_ahead[-1] @ g.mT)
            adjoint_behind.append(grad_behind[k] + adjoint_behind[-1] @ g)
        lam = torch.stack(adjoint_ahead[::-1])                     # λ_0 … λ_h
        mu = torch.stack(adjoint_behind[::-1])                     # μ_0 … μ_h
        grad_g = ahead[:-1].mT @ lam[1:] + mu[1:].mT @ behind[:-1]
        return grad_g, lam[0] + mu[0], None


def rotation_from_parameters(a: torch.Tensor, base: torch.Tensor | None) -> torch.Tensor:
    """The padded group element of parameters ``a``: ``expm(½(A − Aᵀ))`` or, with a ``base``,
    its Cayley correction (:func:`~._lifting.cayley_orthogonal`)."""
    return orthogonal_from_parameters(a) if base is None else cayley_orthogonal(base, a)


# A rotation's principal logarithm has eigen-angles in [−π, π], so its Frobenius norm is at most
# π √M. Parameters A whose skew part exceeds this bound a hundredfold have been thrown around by
# too large model steps (the loss, a function of G = exp((A − Aᵀ)/2) alone, stays bounded and
# cannot show it). Healthy fits stay far below: the 3,000-step default schedule moves each
# entry of A by at most Σ lr ≈ 12 × model_lr, and a default fit of gaussian-translation data
# (dimension 7) peaked at 0.6 % of the bound; model_lr = 1e3 exceeds it at the first step.
RUNAWAY_FACTOR = 100.0


def check_rotation_size(a: torch.Tensor, step: int, of_run: str, lr_name: str) -> None:
    """Raise ``FloatingPointError`` naming ``step`` if A has run away (see RUNAWAY_FACTOR)."""
    with torch.no_grad():
        size = float(torch.linalg.matrix_norm(0.5 * (a - a.mT)))
    bound = RUNAWAY_FACTOR * math.pi * math.sqrt(a.shape[0])
    if not size <= bound:  # also catches NaN
        raise FloatingPointError(
            f"SymmetryLens: the generator parameters{of_run} diverged at step {step} "
            f"(‖A‖ = {size:.3g}, while a rotation needs at most {bound / RUNAWAY_FACTOR:.3g}); "
            f"lower {lr_name}")
