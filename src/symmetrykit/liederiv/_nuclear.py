"""The nuclear norm ``Σ σ_i`` of Lie-derivative matrices, for NumPy and (differentiably) torch."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["nuclear_norm"]


def nuclear_norm(matrix: Any, *, eps: float = 0.0) -> Any:
    """``Σ_i sqrt(σ_i² + eps²) − eps`` of a matrix (``eps = 0``: the nuclear norm ``Σ σ_i``).

    Accepts NumPy arrays (returns a float) and torch tensors (returns a differentiable scalar).
    The gradient of ``Σ σ_i`` is ``U Vᵀ``, undefined where a singular value is 0 or repeated — the
    very points promotion drives a model to — so training code should pass ``eps > 0``; the
    smoothed value is computed from the eigenvalues of the small Gram matrix ``MᵀM`` (or ``MMᵀ``).
    """
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    if hasattr(matrix, "detach"):
        import torch

        if matrix.ndim != 2:
            raise ValueError(f"matrix must be 2-D, got shape {tuple(matrix.shape)}")
        if eps == 0:
            return torch.linalg.matrix_norm(matrix, ord="nuc")
        gram = matrix.mT @ matrix if matrix.shape[0] >= matrix.shape[1] else matrix @ matrix.mT
        eigenvalues = torch.linalg.eigvalsh(gram).clamp_min(0.0)
        return torch.sqrt(eigenvalues + eps**2).sum() - eps * eigenvalues.numel()
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"matrix must be 2-D, got shape {matrix.shape}")
    values = np.linalg.svd(matrix, compute_uv=False)
    return float(np.sum(np.sqrt(values**2 + eps**2) - eps))
