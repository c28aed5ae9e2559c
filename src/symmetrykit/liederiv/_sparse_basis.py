"""A sparse basis of a subspace: the orthogonal rotation ``R`` that minimises ``‖Q R‖₁``.

The null space of a symmetry condition comes out of an SVD as an arbitrary orthonormal basis
``Q``; readable generators are the sparsest rotation of it (Hu, Li & Lin 2025 use the same
criterion). The problem ``min ‖Z‖₁ s.t. Z = Q R, RᵀR = I`` is solved by ADMM: soft-thresholding
for ``Z``, an orthogonal Procrustes step (polar factor) for ``R`` and a growing penalty, from the
identity and from a few random rotations; the sparsest result wins.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sparse_rotation"]

_ITERATIONS = 400
_PENALTY_GROWTH = 1.05
_RESTARTS = 6


def _polar(matrix: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(matrix)
    return u @ vt


def _admm(basis: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    beta = 1.0
    z = basis @ rotation
    dual = np.zeros_like(z)
    for _ in range(_ITERATIONS):
        target = basis @ rotation + dual / beta
        z = np.sign(target) * np.maximum(np.abs(target) - 1.0 / beta, 0.0)
        rotation = _polar(basis.T @ (z - dual / beta))
        dual = dual + beta * (basis @ rotation - z)
        beta = min(beta * _PENALTY_GROWTH, 1e8)
    return rotation


def sparse_rotation(basis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The sparsest rotation ``basis @ R`` found, columns unit-norm; ``basis`` is (p, d)."""
    basis = np.linalg.qr(basis)[0]
    d = basis.shape[1]
    if d <= 1:
        return basis
    starts = [np.eye(d)] + [np.linalg.qr(rng.standard_normal((d, d)))[0]
                            for _ in range(_RESTARTS - 1)]
    best, best_norm = basis, np.abs(basis).sum()
    for start in starts:
        rotated = basis @ _admm(basis, start)
        norm = np.abs(rotated).sum()
        if norm < best_norm - 1e-12:
            best, best_norm = rotated, norm
    return best
