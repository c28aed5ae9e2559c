"""When a SymmetryLens run is done: its loss has stopped improving and its generator has stopped
moving.

A warm-started run refines an estimate that is usually exact already (cos ≥ 0.999 before the
first step on the Table-1 sets), and the refinement settles within a few hundred steps; the rest
of a fixed schedule only adds Adam's jitter. :class:`ConvergenceMonitor` averages the model loss
over windows of steps (one batch is too noisy to compare) and declares convergence when

* the window's mean loss has not improved on the best window so far by more than
  ``tol · max(1, |best|)`` for ``n_iter_no_change`` windows in a row, **and**
* the central crop of ``G`` moved by less than ``generator_tol`` (relative Frobenius norm)
  over the last window.

Its whole state is a handful of numbers and the last crop, so a checkpoint carries it and a
resumed fit stops at exactly the step an uninterrupted one does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["ConvergenceMonitor"]


class ConvergenceMonitor:
    """Tracks one run's loss in windows of ``window`` steps and says when the run has converged.

    Call :meth:`add` with every step's loss; when :meth:`window_full` is true, call :meth:`check`
    with the current generator crop.
    """

    def __init__(self, window: int, tol: float, n_iter_no_change: int,
                 generator_tol: float) -> None:
        self.window, self.tol = int(window), float(tol)
        self.n_iter_no_change, self.generator_tol = int(n_iter_no_change), float(generator_tol)
        self.total, self.count = 0.0, 0
        self.best, self.stalls = math.inf, 0
        self.previous: np.ndarray | None = None

    def add(self, loss: float) -> None:
        """Count one step's loss in the current window."""
        self.total += float(loss)
        self.count += 1

    def window_full(self) -> bool:
        return self.count >= self.window

    def check(self, crop: np.ndarray) -> tuple[bool, dict[str, float]]:
        """Close the current window; return whether the run has converged and the window's
        ``window_loss`` and ``generator_change`` (for the history)."""
        mean = self.total / max(self.count, 1)
        crop = np.array(crop, dtype=float)
        if self.previous is None:
            change = math.inf
        else:
            change = float(np.linalg.norm(crop - self.previous)
                           / max(np.linalg.norm(self.previous), 1e-300))
        if mean < self.best - self.tol * max(1.0, abs(self.best)):
            self.stalls = 0
        else:
            self.stalls += 1
        self.best = min(self.best, mean)
        self.total, self.count, self.previous = 0.0, 0, crop
        converged = self.stalls >= self.n_iter_no_change and change < self.generator_tol
        return converged, {"window_loss": mean, "generator_change": change}

    # ------------------------------------------------------------------ checkpoints
    def state_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The monitor's state as named arrays (for a checkpoint)."""
        arrays = {f"{prefix}.counters": np.array([self.total, self.count, self.best,
                                                  self.stalls], dtype=float)}
        if self.previous is not None:
            arrays[f"{prefix}.previous"] = self.previous
        return arrays

    def load(self, arrays: Any, prefix: str, dim: int) -> None:
        """Restore the state :meth:`state_arrays` saved (absent from checkpoints written before
        the monitor existed: then it starts afresh)."""
        if f"{prefix}.counters" not in arrays:
            return
        counters = np.asarray(arrays[f"{prefix}.counters"])
        source = getattr(arrays, "source", "the checkpoint")
        if counters.shape != (4,) or counters.dtype.kind != "f" or np.isnan(counters).any():
            raise ValueError(f"{source}: '{prefix}.counters' must be 4 numbers, got "
                             f"{counters.dtype} {counters.shape}; the file was edited or damaged "
                             "(delete it to start afresh)")
        total, count, best, stalls = (float(v) for v in counters)
        self.total, self.count, self.best, self.stalls = total, int(count), best, int(stalls)
        self.previous = None
        if f"{prefix}.previous" in arrays:
            previous = np.asarray(arrays[f"{prefix}.previous"])
            if (previous.shape != (dim, dim) or previous.dtype.kind != "f"
                    or not np.all(np.isfinite(previous))):
                raise ValueError(f"{source}: '{prefix}.previous' must be a finite ({dim}, {dim}) "
                                 f"array, got {previous.dtype} {previous.shape}; the file was "
                                 "edited or damaged (delete it to start afresh)")
            self.previous = previous
