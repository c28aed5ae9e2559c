"""Comparing learned symmetries with ground truth.

Two questions come up for every method: how close is one learned group element (or generator) to
the true one, and how close is a learned span of generators to the true Lie algebra.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .lie import LieAlgebra, as_array

__all__ = [
    "algebra_distance",
    "exponential_similarity",
    "frobenius_cosine",
    "generator_similarity",
    "principal_angles",
    "projection_norms",
    "representation_similarity",
    "shift_power_similarity",
]


def _matrix(value: Any, name: str) -> np.ndarray:
    array = as_array(value, name=name)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"{name} must be a square (d, d) matrix, got shape {array.shape}")
    return array


def frobenius_cosine(a: Any, b: Any) -> float:
    """``⟨a, b⟩_F / (‖a‖_F ‖b‖_F)``; 0 when either matrix is zero."""
    a = as_array(a, name="a")
    b = as_array(b, name="b")
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    return float(np.vdot(a, b) / norm) if norm > 0 else 0.0


def generator_similarity(learned: Any, true: Any) -> float:
    """Frobenius cosine between a learned and the true minimal generator, direction-agnostic.

    The direction of a one-parameter group is arbitrary (``G`` and ``G⁻¹`` generate the same group),
    so the cosine is maximised over ``true`` and its inverse. The inverse is taken as the
    Moore–Penrose pseudo-inverse, which equals the transpose for orthogonal matrices and for the
    truncated pixel shift (whose "inverse" is the shift the other way; ``docs/data.md``,
    "Scoring a learned generator").

    Parameters
    ----------
    learned, true
        Square matrices of equal shape (NumPy arrays or torch tensors).

    Returns
    -------
    float in [-1, 1]; 1 means ``learned`` is a positive multiple of ``true`` or of its inverse.

    Examples
    --------
    >>> import symmetrykit as sk
    >>> s = sk.lie.shift(5)
    >>> sk.metrics.generator_similarity(s, s), sk.metrics.generator_similarity(s.T, s)
    (1.0, 1.0)
    """
    learned = _matrix(learned, "learned")
    true = _matrix(true, "true")
    if learned.shape != true.shape:
        raise ValueError(f"learned has shape {learned.shape} but true has shape {true.shape}")
    return max(frobenius_cosine(learned, true), frobenius_cosine(learned, np.linalg.pinv(true)))


def _stack(value: Any, name: str) -> np.ndarray:
    if isinstance(value, LieAlgebra):
        return value.generators
    array = as_array(value, name=name)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1] != array.shape[2]:
        raise ValueError(f"{name} must have shape (k, d, d) or (d, d), got {array.shape}")
    return array


def _orthonormal_rows(stack: np.ndarray, name: str, rtol: float | None = None) -> np.ndarray:
    flat = stack.reshape(stack.shape[0], -1)
    _, s, vt = np.linalg.svd(flat, full_matrices=False)
    if s.size == 0 or s[0] == 0:
        raise ValueError(f"{name} spans nothing (all generators are zero)")
    if rtol is None:
        rtol = max(flat.shape) * np.finfo(np.float64).eps
    rank = int(np.sum(s > rtol * s[0]))
    return vt[:rank]


def principal_angles(a: Any, b: Any, *, rtol: float | None = None) -> np.ndarray:
    """Principal angles (radians, ascending) between the row spaces of ``a`` and ``b``.

    The one computation behind :func:`algebra_distance` (generators as vectors in ``R^{d²}``)
    and :func:`symmetrykit.flows.field_similarity` (vector fields sampled at points). Small
    angles are recovered from sines, where ``arccos`` of a cosine near 1 would lose them.

    Parameters
    ----------
    a, b
        Arrays of shape ``(m, n)`` and ``(p, n)``: each row one vector.
    rtol
        Singular values below ``rtol`` times the largest do not count towards a span
        (default: ``max(shape)`` times the machine epsilon).

    Returns
    -------
    ndarray of shape ``(min(rank a, rank b),)``
    """
    a = as_array(a, name="a")
    b = as_array(b, name="b")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must be (m, n) and (p, n) arrays, got {a.shape} and {b.shape}")
    qa = _orthonormal_rows(a, "a", rtol)
    qb = _orthonormal_rows(b, "b", rtol)
    cosines = np.linalg.svd(qa @ qb.T, compute_uv=False)
    # arccos is ill-conditioned near 1; recover small angles from the sine instead.
    cosines = np.clip(cosines, 0.0, 1.0)
    small, large = (qa, qb) if qa.shape[0] <= qb.shape[0] else (qb, qa)
    residual = small - (small @ large.T) @ large
    sines = np.clip(np.linalg.svd(residual, compute_uv=False), 0.0, 1.0)
    sines = np.sort(sines)  # ascending, paired with the descending cosines
    angles = np.where(cosines > np.sqrt(0.5), np.arcsin(sines), np.arccos(cosines))
    return np.sort(angles)


def algebra_distance(a: Any, b: Any) -> np.ndarray:
    """Principal angles (radians, ascending) between the spans of two generator stacks.

    Matrices are compared as vectors in ``R^{d²}`` with the Frobenius inner product. The result
    has ``min(rank a, rank b)`` entries; all zero means one span contains the other, and the largest
    angle is the usual scalar distance between equal-dimensional algebras.

    Parameters
    ----------
    a, b
        :class:`~symmetrykit.lie.LieAlgebra` objects or arrays of shape ``(k, d, d)``/``(d, d)``.
    """
    a = _stack(a, "a")
    b = _stack(b, "b")
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"generators act on different spaces: {a.shape[1:]} vs {b.shape[1:]}")
    return principal_angles(a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1))


def projection_norms(learned: Any, algebra: Any) -> np.ndarray:
    """For each learned generator, the norm of its projection onto ``algebra`` after normalising.

    1 means the generator lies in the span, 0 that it is orthogonal to it (Frobenius inner product).
    """
    learned = _stack(learned, "learned")
    basis = _orthonormal_rows(_stack(algebra, "algebra"), "algebra")
    if learned.shape[1:] != (int(np.sqrt(basis.shape[1])),) * 2:
        raise ValueError("learned generators and algebra act on different spaces")
    flat = learned.reshape(learned.shape[0], -1)
    norms = np.linalg.norm(flat, axis=1)
    if np.any(norms == 0):
        raise ValueError("a learned generator is zero; its direction is undefined")
    return np.linalg.norm((flat / norms[:, None]) @ basis.T, axis=1)


def representation_similarity(group_convolution: Any, transform: Any, *, cyclic: bool = False
                              ) -> float:
    """How well a learned group convolution ``Φ`` undoes the data map ``x' = Q x``.

    With the true generator ``Q S Qᵀ`` and a filter at the centre of the shift chain, ``Φ = Qᵀ``
    (``y = Φ x'`` recovers the signal in pixel order), up to a sign and the reversal ``J`` of the
    output order (the direction of the learned group is arbitrary). Returns the largest Frobenius
    cosine of ``Φ`` with ``±Qᵀ`` and ``±J Qᵀ``. For DST data (``Q = D``) a score near 1 means the
    representation has learned the DST.

    With ``cyclic=True`` (a cyclic symmetry such as circulant data, where the filter may sit
    anywhere on the cycle) the rows of the expected matrices may also be rolled cyclically.
    """
    phi = _matrix(group_convolution, "group_convolution")
    q = _matrix(transform, "transform")
    if phi.shape != q.shape:
        raise ValueError(f"group_convolution has shape {phi.shape} but transform {q.shape}")
    shifts = range(q.shape[0]) if cyclic else (0,)
    return max(abs(frobenius_cosine(phi, np.roll(base, s, axis=0)))
               for base in (q.T, q.T[::-1]) for s in shifts)


def shift_power_similarity(element: Any, true: Any, *, powers: Any = None,
                           include_identity: bool = False) -> tuple[float, int]:
    """Best similarity of a learned group *element* to a power ``G^s`` of the true generator.

    Methods that learn one group element (SymmetryGAN) may find any element of the group, not
    the minimal generator. Returns ``(max_s generator_similarity(element, G^s), s)`` over
    ``powers`` (default ``1 … d−1``). ``s = 0`` (the identity, which is always a symmetry) is
    excluded unless ``include_identity``: a collapsed learner would otherwise score 1.
    """
    element = _matrix(element, "element")
    true = _matrix(true, "true")
    if element.shape != true.shape:
        raise ValueError(f"element has shape {element.shape} but true {true.shape}")
    dim = true.shape[0]
    candidates = list(range(1, dim)) if powers is None else [int(p) for p in powers]
    if include_identity and 0 not in candidates:
        candidates.insert(0, 0)
    if not include_identity:
        candidates = [p for p in candidates if p != 0]
    if not candidates:
        raise ValueError("no powers to compare with")
    scores = {p: generator_similarity(element, np.linalg.matrix_power(true, abs(p)))
              for p in candidates}
    best = max(scores, key=lambda p: (scores[p], -abs(p)))
    return scores[best], best


def exponential_similarity(algebra_element: Any, true: Any, *, times: Any = None
                           ) -> tuple[float, float]:
    """Best similarity of ``expm(t L)`` to the true group element over the scale ``t``.

    A learned Lie-algebra element ``L`` (LieGAN) fixes a one-parameter group but not the step
    that corresponds to the minimal generator, so ``t`` is searched (default: 601 values in
    ``[−3, 3]`` times ``1 / ‖L‖₂``, covering a rotation by up to about three radians per step).
    Returns ``(score, t)``.
    """
    from scipy.linalg import expm

    element = _matrix(algebra_element, "algebra_element")
    true = _matrix(true, "true")
    if element.shape != true.shape:
        raise ValueError(f"algebra_element has shape {element.shape} but true {true.shape}")
    scale = np.linalg.norm(element, 2)
    if scale == 0:
        return generator_similarity(np.eye(true.shape[0]), true), 0.0
    grid = np.linspace(-3, 3, 601) / scale if times is None else np.asarray(times, float)
    scores = [generator_similarity(expm(t * element), true) for t in grid]
    best = int(np.argmax(scores))
    return float(scores[best]), float(grid[best])
