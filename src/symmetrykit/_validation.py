"""Input checks shared by the estimators."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_samples"]


def as_samples(X: Any) -> np.ndarray:
    """``X`` as a finite float64 ``(n_samples, dim)`` array (torch tensors accepted)."""
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_samples, dim), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"X contains {int(np.sum(~np.isfinite(X)))} NaN or inf values")
    return X
