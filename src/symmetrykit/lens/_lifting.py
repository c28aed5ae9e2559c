"""The SymmetryLens lifting map: a padded generator, its powers and a resolving filter.

Output component ``n`` of the representation is ``y_n = ⟨pad f̂, G^{k_n} pad x⟩`` with
``k_n = n − (N−1)/2``: the filter is moved by the learned group element ``G`` (an orthogonal matrix
on the zero-padded space of size ``M = N + 2P``) and correlated with the signal. The ``N × N``
matrix ``Φ`` with rows ``crop(pad(f̂)ᵀ G^{k_n})`` is the "group convolution"; ``y = Φ x``.
"""

from __future__ import annotations

import torch

__all__ = ["group_convolution", "orthogonal_from_parameters", "power_offsets"]


def power_offsets(dim: int) -> torch.Tensor:
    """The powers ``k_n = n − (N−1)/2`` used for each output component (``dim`` must be odd)."""
    if dim % 2 != 1:
        raise ValueError(f"the signal dimension must be odd (got {dim}): powers k_n are centred")
    half = (dim - 1) // 2
    return torch.arange(-half, half + 1)


def orthogonal_from_parameters(a: torch.Tensor) -> torch.Tensor:
    """``G = expm(½(A − Aᵀ))``: a differentiable map from any square matrix onto SO(M)."""
    return torch.linalg.matrix_exp(0.5 * (a - a.mT))


def group_convolution(g: torch.Tensor, filter_unit: torch.Tensor, padding: int) -> torch.Tensor:
    """The ``N × N`` group-convolution matrix ``Φ`` for padded group element ``g`` (M × M).

    Row ``n`` is ``crop(pad(f̂)ᵀ G^{k_n})``. Powers are applied to the padded filter by successive
    vector–matrix products (``G`` for positive, ``Gᵀ = G⁻¹`` for negative powers): ``N − 1``
    products of size ``M`` instead of a matrix power per row, and no eigendecomposition whose
    gradient is unstable at the degenerate spectrum of the initial ``G ≈ I``.
    """
    n = filter_unit.shape[-1]
    m = g.shape[-1]
    if m != n + 2 * padding:
        raise ValueError(f"G has size {m} but N + 2P = {n + 2 * padding}")
    half = (n - 1) // 2
    row = torch.nn.functional.pad(filter_unit, (padding, padding))
    forward, backward = [row], []
    current = row
    for _ in range(half):
        current = current @ g
        forward.append(current)
    current = row
    for _ in range(half):
        current = current @ g.mT
        backward.append(current)
    rows = torch.stack(backward[::-1] + forward)
    return rows[:, padding : padding + n]

