"""What a SymmetryLens fit will cost, estimated from the shape and the settings before any work.

:func:`estimate_cost` gives the peak memory and the seconds per step of a fit,
:func:`warm_start_seconds` the time of its closed-form warm start; ``SymmetryLens.fit`` refuses
a fit beyond the machine's memory and warns about one whose steps or whole run are long
(:func:`symmetrykit._validation.check_cost`). :func:`float32_ready` moves data that pass the
input checks but sit far from unit scale to where float32 training resolves them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import CostEstimate, duration_text
from ._stationary import MAX_EXCHANGE_DIM

__all__ = ["estimate_cost", "float32_ready", "warm_start_seconds"]

# The constants were measured on the 2-core development machine as single-thread CPU seconds
# (torch and BLAS limited to one thread, time.process_time, so that other load does not count)
# with 20,000 local_signals samples, the default padding P = N (M = 3N), batch_size 1024
# (B = 1024 // N · N), hidden min(16N, 128) and n_kernels 4; benchmarks/symmetrylens_scaling.py
# writes the per-step figures and their breakdown (docs/benchmarks.md).
#
# A step is the rotation (the Cayley correction of a warm start: an LU solve, ~11 M³ flops with
# its gradient; or, for a random start, the paper's matrix exponential, whose gradient torch
# computes through a 2M × 2M exponential), the group convolution (2(N−1) vector–matrix products
# of size M and their gradients), and the loss with its density heads (three conditional
# evaluations of O(B N K H) each, forward and two backward passes). A least-squares fit gives
#     seconds = STEP_OVERHEAD_S + CAYLEY_S M³ (or MATRIX_EXP_S M³) + ORBIT_S N M²
#               + DENSITY_S B N K H
# (0.032 s at N = 7, 0.085 s at 33, 0.32 s at 129 with the Cayley update). A warm-started run
# stops when it has converged (``tol``): a few hundred steps on every set measured
# (TYPICAL_REFINEMENT_STEPS is the estimate; ``n_steps`` the cap). The warm start: the rotation
# candidate ~ROTATION_S n N² per iteration (25 iterations at N = 129 took 3.4 s), ordering a
# basis (seriation) ~SERIATE_S N³, the frequency candidate's quick test ~QUICK_FREQUENCY_S N⁴
# (1 s at N = 129, 10 s at 257) and its full search, run only on data that pass the test,
# about N³ (30 s at N = 63).
# Memory: the gradient of the matrix exponential holds ~85 M × M float64 matrices (the Cayley
# update ~12), the density heads ~60 float32 values per batch entry, feature and kernel, the
# data ~6 float64 copies (the checked array, float32 tensors, the warm start's centred and
# rotated samples). Wall time on a busy machine is higher: with two torch threads on a loaded
# 2-core machine a 7-feature step took 100 ms instead of 32 (one thread: 32 ms either way).
STEP_OVERHEAD_S = 0.025
MATRIX_EXP_S = 7.3e-9
CAYLEY_S = 4.3e-10
ORBIT_S = 2.0e-9
DENSITY_S = 3.4e-9
TYPICAL_REFINEMENT_STEPS = 500
ROTATION_ITERATIONS = 60
ROTATION_S = 4.0e-10
SERIATE_S = 1.0e-7
CONJUGATE_S = 1e-9
QUICK_FREQUENCY_S = 2.5e-9
# The stationary candidate: sign flips (~2 N lag-spread evaluations of O(N²) each) and, up to
# MAX_EXCHANGE_DIM features, one round of nearby exchanges (~20 N more); 0.05 s at N = 33.
STATIONARY_S = 5e-8
DATA_COPIES = 6
WARM_SAMPLE_COPIES = 5
WARM_MATRICES = 12
MATRIX_EXP_MATRICES = 85
CAYLEY_MATRICES = 12
DENSITY_FLOATS = 60
# Each kept warm start stores its padded generator and its logarithm until the fit ends.
STORED_WARM_MATRICES = 2


def _shape(params: Mapping[str, Any], n_samples: int, dim: int) -> dict[str, Any]:
    padding = dim if params.get("padding") is None else int(params["padding"])
    hidden = params.get("hidden") or min(16 * dim, 128)
    bases = tuple(params.get("warm_bases") or ()) if params.get("init") == "warm" else ()
    return {"n": n_samples, "N": dim, "M": dim + 2 * padding,
            "B": max(min(int(params["batch_size"]), n_samples) // dim * dim, dim),
            "H": int(hidden), "K": int(params["n_kernels"]), "bases": bases,
            "runs": max(int(params["n_restarts"]), len(bases)),
            "cayley": params.get("warm_update", "cayley") == "cayley"}


def step_seconds(shape: Mapping[str, Any], *, cayley: bool = False) -> float:
    """Seconds of one training step (``cayley``: a warm start's Cayley update; otherwise the
    matrix exponential)."""
    M, B, N, K, H = (shape[k] for k in ("M", "B", "N", "K", "H"))
    rotation = (CAYLEY_S if cayley else MATRIX_EXP_S) * M**3
    return STEP_OVERHEAD_S + rotation + ORBIT_S * N * M**2 + DENSITY_S * B * N * K * H


def warm_start_parts(params: Mapping[str, Any], n_samples: int, dim: int) -> dict[str, float]:
    """Seconds of each warm-start candidate of ``params["warm_bases"]`` (none for a random
    start); the frequency candidate's is that of its quick test."""
    shape = _shape(params, n_samples, dim)
    n, N, M = shape["n"], shape["N"], shape["M"]
    common = SERIATE_S * N**3 + CONJUGATE_S * M**2 * N
    parts = {"rotation": ROTATION_ITERATIONS * ROTATION_S * (n * N**2 + N**3),
             "coordinates": 0.0,
             "frequency": QUICK_FREQUENCY_S * N**4,
             "stationary": STATIONARY_S * N**3 * (22 if N <= MAX_EXCHANGE_DIM else 2)}
    return {basis: common + parts[basis] for basis in shape["bases"]}


def warm_start_seconds(params: Mapping[str, Any], n_samples: int, dim: int) -> float:
    """Seconds of the whole warm start (every candidate basis)."""
    return float(sum(warm_start_parts(params, n_samples, dim).values()))


def memory_bytes(shape: Mapping[str, Any], *, on_host: bool = True) -> float:
    """Peak bytes of a fit beyond the loaded libraries (``on_host=False``: training runs on
    an accelerator, so only the data and the warm start count against the host's memory)."""
    n, N, M, B, K = (shape[k] for k in ("n", "N", "M", "B", "K"))
    data = DATA_COPIES * n * N * 8
    bases = len(shape["bases"])
    warm = (WARM_SAMPLE_COPIES * n * N * 8 + WARM_MATRICES * M**2 * 8) if bases else 0.0
    random_runs = shape["runs"] > bases or not shape["cayley"]
    rotation = MATRIX_EXP_MATRICES if random_runs else CAYLEY_MATRICES
    training = rotation * M**2 * 8 + DENSITY_FLOATS * B * N * K * 4
    stored = STORED_WARM_MATRICES * bases * M**2 * 8
    return data + stored + max(warm, training if on_host else 0.0)


def estimate_cost(params: Mapping[str, Any], n_samples: int, dim: int) -> CostEstimate:
    """The :class:`~symmetrykit._validation.CostEstimate` of a SymmetryLens fit with the
    constructor parameters ``params`` on ``(n_samples, dim)`` data; its ``detail`` names the
    warm start's share and how to shrink the fit.

    Warm-started runs count as ``TYPICAL_REFINEMENT_STEPS`` steps when they stop on
    convergence (``tol``); ``max_time`` caps the total."""
    shape = _shape(params, n_samples, dim)
    warmup, cap = int(params["warmup_steps"]), int(params["n_steps"])
    warm_runs = min(len(shape["bases"]), shape["runs"])
    refinement = cap if params.get("tol", None) is None else min(cap, TYPICAL_REFINEMENT_STEPS)
    warm_steps = warm_runs * (warmup + refinement)
    random_steps = (shape["runs"] - warm_runs) * (warmup + cap)
    seconds = (warm_steps * step_seconds(shape, cayley=shape["cayley"])
               + random_steps * step_seconds(shape))
    steps = warm_steps + random_steps
    warm = warm_start_parts(params, n_samples, dim)
    setup = sum(warm.values())
    max_time = params.get("max_time")
    if max_time is not None and seconds + setup > float(max_time):
        scale = max(float(max_time) - setup, 0.0) / seconds
        steps, seconds = max(int(steps * scale), 1), seconds * scale
    on_host = str(params.get("device", "cpu")) == "cpu"
    detail = (f"up to {shape['runs']} run(s) of a {shape['M']} × {shape['M']} padded generator "
              f"with batches of {shape['B']}")
    if warm_runs and params.get("tol", None) is not None:
        detail += (f"; warm-started runs counted at {refinement} steps (they stop on "
                   f"convergence, at most {cap})")
    if max_time is not None:
        detail += f"; max_time {duration_text(float(max_time))}"
    if not on_host:
        detail += " (step time estimated for one CPU core; the accelerator's memory not counted)"
    if warm:
        parts = ", ".join(f"{basis} {duration_text(s)}" for basis, s in warm.items())
        detail += f"; the warm start about {duration_text(setup)} ({parts})"
    return CostEstimate(memory_bytes(shape, on_host=on_host), seconds / max(steps, 1), steps,
                        detail, setup_seconds=setup)


def float32_ready(X: np.ndarray) -> np.ndarray:
    """``X`` moved to where float32 training resolves it, exactly and only where needed.

    Training standardises each batch in float32 (``(x − mean) / (std + 1e-7)``), so the fit is
    invariant to the data's scale and offset except where float32 cannot follow: an offset far
    above the spread loses the variation in the cast, and a spread near ``1e-7`` is swamped by
    the constant. Data whose overall mean exceeds ``2⁸`` spreads are shifted by it, and data
    whose overall spread is beyond ``2^±8`` are multiplied by the power of two that brings it
    to about 1 — an exact operation, so ``X · 2^k`` fits exactly like ``X``. Other data are
    returned as they are, bit for bit.
    """
    spread = float(np.std(X))
    if not spread > 0:
        return X
    centre = float(np.mean(X))
    if abs(centre) > 2.0**8 * spread:
        X = X - centre
    exponent = round(math.log2(spread))
    if abs(exponent) > 8:
        X = np.ldexp(X, -exponent)
    return X
