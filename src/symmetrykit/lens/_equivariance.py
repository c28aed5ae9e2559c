"""How well a fitted SymmetryLens turns the hidden group action into a shift of its components.

Efe & Ozakin (2025, Appendix B): with ``y_n = ⟨pad f̂, G^{k_n} pad x⟩``, a sample moved by the
learned group element gives ``y_n(G x) = y_{n+1}(x)`` — the representation is equivariant, the
group acting on it as a shift of the components. On the central crop and for the *true* action
(which the learned ``G`` only approximates) this holds away from the edges, where the filter's
orbit leaves the window. :func:`representation_equivariance` measures it on samples the lens has
not seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_samples

__all__ = ["EquivarianceCheck", "representation_equivariance"]


@dataclass(frozen=True)
class EquivarianceCheck:
    """Relative error of ``Φ (g x)`` against ``Φ x`` shifted by one component.

    Attributes
    ----------
    relative_error
        ``‖Φ(g x) − shift(Φ x)‖ / ‖shift(Φ x)‖`` over the samples and the interior components,
        for the better of the two shift directions.
    direction
        ``+1`` if ``g`` moves the representation to ``y_n(g x) = y_{n+1}(x)``, ``−1`` for
        ``y_{n−1}(x)`` (the lens learns the generator up to its inverse).
    other_direction_error
        The relative error of the other direction: near 1 or more when the lens is equivariant
        at all, so a small ``relative_error`` is not an accident of smooth outputs.
    edge
        Components left out at each end.
    n_samples
        Samples compared.
    """

    relative_error: float
    direction: int
    other_direction_error: float
    edge: int
    n_samples: int

    def __str__(self) -> str:
        return (f"equivariance error {self.relative_error:.3f} (shift {self.direction:+d}; "
                f"other direction {self.other_direction_error:.3f}), {self.edge} edge "
                f"components left out, {self.n_samples} samples")


def representation_equivariance(lens: Any, X: Any, action: Any, *,
                                edge: int | None = None) -> EquivarianceCheck:
    """Compare the representation of moved samples with the shifted representation.

    Parameters
    ----------
    lens
        A fitted :class:`~symmetrykit.SymmetryLens` (anything with ``transform`` and a fitted
        ``(N, N)`` map works).
    X
        Samples ``(n, N)``, preferably held out from the lens's fit.
    action
        The group element ``g`` ``(N, N)`` acting on samples as ``x ↦ g x`` (rows: ``X @ g.T``),
        e.g. a data set's true ``generator``.
    edge
        Components left out at each end (default ``max(2, N // 8)``).
    """
    X = as_samples(X, owner="representation_equivariance", warn_constant=False)
    dim = X.shape[1]
    g = np.asarray(action, dtype=np.float64)
    if g.shape != (dim, dim):
        raise ValueError(f"representation_equivariance: action must have shape ({dim}, {dim}) "
                         f"to act on samples of {dim} features, got {g.shape}")
    if not np.isfinite(g).all():
        raise ValueError("representation_equivariance: action contains NaN or inf")
    edge = max(2, dim // 8) if edge is None else int(edge)
    if edge < 1 or 2 * edge >= dim:
        raise ValueError(f"representation_equivariance: edge must be in [1, {(dim - 1) // 2}] "
                         f"for {dim} components, got {edge}")
    y = np.asarray(lens.transform(X))
    moved = np.asarray(lens.transform(X @ g.T))
    interior = slice(edge, dim - edge)
    errors = {}
    for direction in (1, -1):
        shifted = y[:, edge + direction: dim - edge + direction]
        scale = np.linalg.norm(shifted)
        errors[direction] = (float(np.linalg.norm(moved[:, interior] - shifted) / scale)
                             if scale > 0 else float("inf"))
    best = min(errors, key=errors.__getitem__)
    return EquivarianceCheck(relative_error=errors[best], direction=best,
                             other_direction_error=errors[-best], edge=edge,
                             n_samples=len(X))
