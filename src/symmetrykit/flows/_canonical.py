"""A canonical basis for the learned symmetries: the smoothest fields first.

Any basis of a Lie algebra of symmetries is an equally valid answer, and the learned slots are one
arbitrary choice: with Gram-Schmidt in slot order, a slot that learned ``∂x + 0.5 boost`` leaves the
rest of the boost to the next slot, and neither slot *is* the boost although together they span it
(measured on KS; ``docs/decisions.md``). Within the span of the slots that are symmetries we
therefore return the basis that diagonalises the fields' roughness ``E ||∇V||_F²`` against their
inner product ``E <V, W>`` (both point means over the training data): a generalised symmetric
eigenproblem. Constant fields (translations) come first, then linear ones (a boost orthogonal to the
translations), then the rest, each of unit RMS norm and orthogonal to the others.

Slots that are not symmetries must stay out of the rotation: they would be mixed into the valid
ones (a non-symmetry ``∂u`` is as smooth as a translation). Which slots are symmetries is the
paper's own criterion (§4.1: a validity threshold), here the validity of the training samples
flowed by ``±s_range`` at most ``margin`` above that of the untransformed samples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg
import torch

__all__ = ["field_jacobians", "smoothest_basis"]


def field_jacobians(fields: Callable[[torch.Tensor], torch.Tensor],
                    points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Values ``(K, N, D)`` and Jacobians ``(K, N, D, D)`` (``[k, n, a, b] = ∂_b V_k^a``).

    ``fields`` maps points ``(N, D)`` to ``(K, N, D)`` pointwise (no coupling between points),
    so one backward pass per output component gives the whole Jacobian.
    """
    points = points.detach().requires_grad_(True)
    with torch.enable_grad():
        values = fields(points)
        k, n, d = values.shape
        rows = []
        for slot in range(k):
            for component in range(d):
                grad, = torch.autograd.grad(values[slot, :, component].sum(), points,
                                            retain_graph=True)
                rows.append(grad)
    jacobians = torch.stack(rows).reshape(k, d, n, d).transpose(1, 2)
    return values.detach(), jacobians.detach()


def smoothest_basis(values: np.ndarray, jacobians: np.ndarray,
                    selected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation ``Q`` (K, K) such that ``Q @ fields`` is the canonical basis.

    Parameters
    ----------
    values : ndarray, shape (K, N, D)
        The fields at ``N`` points.
    jacobians : ndarray, shape (K, N, D, D)
        Their Jacobians at the same points.
    selected : ndarray of bool, shape (K,)
        The slots to rotate among (the symmetries); the others keep their field.

    Returns
    -------
    rotation : ndarray, shape (K, K)
        Identity outside the selected block; inside it, the selected slots (in their order)
        receive the generalised eigenvectors of (roughness, Gram) in increasing roughness,
        signed so that the largest component of each field's mean is positive.
    roughness : ndarray, shape (K,)
        ``E ||∇V||_F² / E |V|²`` of every field after the rotation.
    """
    values = np.asarray(values, dtype=np.float64)
    jacobians = np.asarray(jacobians, dtype=np.float64)
    selected = np.asarray(selected, dtype=bool)
    k, n = values.shape[:2]
    if jacobians.shape != (*values.shape, values.shape[-1]) or selected.shape != (k,):
        raise ValueError(f"shapes do not match: values {values.shape}, jacobians "
                         f"{jacobians.shape}, selected {selected.shape}")
    gram = np.einsum("knd,jnd->kj", values, values) / n
    rough = np.einsum("knab,jnab->kj", jacobians, jacobians) / n
    rotation = np.eye(k)
    index = np.flatnonzero(selected)
    if index.size >= 2:
        block = np.ix_(index, index)
        _, vectors = scipy.linalg.eigh(rough[block], gram[block])
        means = values[index].mean(axis=1)  # (S, D)
        for column in range(vectors.shape[1]):
            mean = vectors[:, column] @ means
            pivot = mean if np.abs(mean).max() > 1e-6 else vectors[:, column]
            if pivot[np.argmax(np.abs(pivot))] < 0:
                vectors[:, column] *= -1
        rotation[block] = vectors.T
    new_gram = rotation @ gram @ rotation.T
    new_rough = rotation @ rough @ rotation.T
    roughness = np.diag(new_rough) / np.maximum(np.diag(new_gram), 1e-300)
    return rotation, roughness
