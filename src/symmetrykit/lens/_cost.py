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

__all__ = ["estimate_cost", "float32_ready", "warm_start_seconds"]

# The constants were measured on the 2-core development machine as single-thread CPU seconds
# (torch and BLAS limited to one thread, time.process_time, so that other load does not count)
# with n = 5,000 local_signals samples, the default padding P = N (M = 3N), batch_size 1024
# (B = 1024 // N · N), hidden min(16N, 128), n_kernels 4 and a warm start from the coordinates:
#
#    N     M    s/step   warm start: rotation  coordinates  frequency   peak RSS beyond the
#                                    (iter.)                            libraries (MiB)
#    7    21    0.045                 0.04 (21)    0.004       0.10
#   31    93    0.112                 0.20 (21)    0.023       2.7
#   63   189    0.203                 1.74 (25)    0.082      30            33 (B 126), 214 (B 2016)
#  129   387    0.769                15.1  (56)    0.196    (~4 min?)      134 (B 258), 420 (B 2064)
#  201   603    1.99                  9.5  (60)    0.85                    319 (B 402), 588 (B 1608)
#  301   903                                                               726 (B 602)
#
# A step is dominated by the matrix exponential of the M × M generator and its gradient
# (O(M³)) and by the conditional density heads (O(B N K H)); a least-squares fit weighted by
# 1/t gives seconds = 0.032 + 7.3e-9 M³ + 4.2e-9 B N K H, within 10 % of every row. The
# rotation candidate costs ~3.3e-9 (n N² + N³) s per iteration and takes up to ~60 iterations;
# ordering a basis (seriation, every candidate) ~1e-7 N³ s; the frequency candidate's sign
# search grows like N³ over 31..63 (30 s at N = 63), extrapolated as such (it may grow faster).
# Memory: the gradient of the matrix exponential holds ~85 M × M float64 matrices (torch
# exponentiates a 2M × 2M block matrix), the density heads ~60 float32 values per batch entry,
# feature and kernel, the data ~6 float64 copies (the checked array, float32 tensors, the warm
# start's centred and rotated samples). At N = 401 (defaults, n = 5,000) this predicts ~13 s
# per step, about 35 h for the 9,300 steps of three runs, and ~1.4 GiB. Wall time on a busy
# machine is higher: a default fit of 20,000 samples of dimension 7 (one run, 3,100 steps)
# took 0.14 s per step at a load of 6 on the 2 cores (estimate 0.046).
STEP_OVERHEAD_S = 0.032
MATRIX_EXP_S = 7.3e-9
DENSITY_S = 4.2e-9
ROTATION_ITERATIONS = 60
ROTATION_S = 3.3e-9
SERIATE_S = 1.0e-7
CONJUGATE_S = 1e-9
FREQUENCY_S = 30.0 / 63**3
FREQUENCY_POWER = 3.0
DATA_COPIES = 6
WARM_SAMPLE_COPIES = 5
WARM_MATRICES = 12
MATRIX_EXP_MATRICES = 85
DENSITY_FLOATS = 60
# Each kept warm start stores its padded generator and its logarithm until the fit ends.
STORED_WARM_MATRICES = 2


def _shape(params: Mapping[str, Any], n_samples: int, dim: int) -> dict[str, int]:
    padding = dim if params.get("padding") is None else int(params["padding"])
    hidden = params.get("hidden") or min(16 * dim, 128)
    bases = tuple(params.get("warm_bases") or ()) if params.get("init") == "warm" else ()
    return {"n": n_samples, "N": dim, "M": dim + 2 * padding,
            "B": max(min(int(params["batch_size"]), n_samples) // dim * dim, dim),
            "H": int(hidden), "K": int(params["n_kernels"]), "bases": bases,
            "runs": max(int(params["n_restarts"]), len(bases))}


def step_seconds(shape: Mapping[str, Any]) -> float:
    """Seconds of one training step."""
    M, B, N, K, H = (shape[k] for k in ("M", "B", "N", "K", "H"))
    return STEP_OVERHEAD_S + MATRIX_EXP_S * M**3 + DENSITY_S * B * N * K * H


def warm_start_parts(params: Mapping[str, Any], n_samples: int, dim: int) -> dict[str, float]:
    """Seconds of each warm-start candidate of ``params["warm_bases"]`` (none for a random
    start)."""
    shape = _shape(params, n_samples, dim)
    n, N, M = shape["n"], shape["N"], shape["M"]
    common = SERIATE_S * N**3 + CONJUGATE_S * M**2 * N
    parts = {"rotation": ROTATION_ITERATIONS * ROTATION_S * (n * N**2 + N**3),
             "coordinates": 0.0,
             "frequency": FREQUENCY_S * N**FREQUENCY_POWER}
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
    training = MATRIX_EXP_MATRICES * M**2 * 8 + DENSITY_FLOATS * B * N * K * 4
    stored = STORED_WARM_MATRICES * bases * M**2 * 8
    return data + stored + max(warm, training if on_host else 0.0)


def estimate_cost(params: Mapping[str, Any], n_samples: int, dim: int) -> CostEstimate:
    """The :class:`~symmetrykit._validation.CostEstimate` of a SymmetryLens fit with the
    constructor parameters ``params`` on ``(n_samples, dim)`` data; its ``detail`` names the
    warm start's share and how to shrink the fit."""
    shape = _shape(params, n_samples, dim)
    steps = shape["runs"] * (int(params["warmup_steps"]) + int(params["n_steps"]))
    warm = warm_start_parts(params, n_samples, dim)
    on_host = str(params.get("device", "cpu")) == "cpu"
    detail = (f"up to {shape['runs']} run(s) of a {shape['M']} × {shape['M']} padded generator "
              f"with batches of {shape['B']}")
    if not on_host:
        detail += " (step time estimated for one CPU core; the accelerator's memory not counted)"
    if warm:
        parts = ", ".join(f"{basis} {duration_text(s)}" for basis, s in warm.items())
        detail += f"; the warm start about {duration_text(sum(warm.values()))} ({parts})"
        if warm.get("frequency", 0.0) > 60:
            detail += "; warm_bases without 'frequency' skips its costliest candidate"
    return CostEstimate(memory_bytes(shape, on_host=on_host), step_seconds(shape), steps,
                        detail, setup_seconds=sum(warm.values()))


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
