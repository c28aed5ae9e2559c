"""Enforce: models with a given symmetry are the nullspace of ``W ↦ L_ξ F_W`` over coefficients."""

from __future__ import annotations

import numpy as np

from ._operators import LieTensor

__all__ = ["symmetric_basis"]


def symmetric_basis(tensor: LieTensor, *, rtol: float = 1e-8) -> np.ndarray:
    """Orthonormal basis ``Q`` (shape ``(m·p, r)``) of the coefficients with ``L_ξ F_W = 0`` for
    every generator: the right singular vectors of the constraint matrix whose singular values are
    below ``rtol`` times the largest. ``vec(W) = Q c`` (row-major ``W`` of shape ``(m, p)``).
    """
    if not 0 < rtol < 1:
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
    matrix = tensor.constraint_matrix()
    _, s, vt = np.linalg.svd(matrix, full_matrices=True)
    values = np.zeros(vt.shape[0])
    values[: s.size] = s
    largest = values.max() if values.size and values.max() > 0 else 1.0
    return vt[values < rtol * largest].T.copy()
