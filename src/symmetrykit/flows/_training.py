"""The training loop shared by :class:`GeneratorFlow` and :class:`ImageGeneratorFlow`.

Both estimators train a :class:`~symmetrykit.flows.GeneratorField` with Adam on a loss that an
estimator-specific ``step(iteration)`` computes (validity of the flowed samples plus the
regularisers). Everything around that step is written once here: resuming from and writing
atomic checkpoints (field, optimiser, random-number generator and history), the learning-rate
drop, the optional wall-clock budget, the divergence guard (a non-finite or exploding loss stops
the fit naming the iteration; the estimators add a guard on the fields' raw scale, see
:func:`field_scale`), the per-iteration history and the progress meter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from .._checkpoint import (
    flatten_module,
    flatten_optimizer,
    restore_module,
    restore_optimizer,
    restore_rng,
)
from ..runs import to_jsonable

__all__ = ["LOSS_FIX", "checkpoint_params", "field_scale", "new_history", "train_field"]

# What to do when a flow's loss or field scale diverges: an Adam step far too large for the
# network is by far the commonest cause.
LOSS_FIX = "lower the learning rate (lr), e.g. to 1e-3"

# A step returns the loss to minimise and the per-iteration values to log: a scalar tensor per
# 1-D history entry (its mean is logged) and a (K,) tensor per 2-D entry.
Step = Callable[[int], tuple[torch.Tensor, Mapping[str, torch.Tensor]]]


def new_history(names: tuple[str, ...], n_iterations: int, n_generators: int
                ) -> dict[str, np.ndarray]:
    """Zeroed history arrays: one value per iteration for ``names``, ``validity_per_slot``."""
    history = {name: np.zeros(n_iterations) for name in names}
    history["validity_per_slot"] = np.zeros((n_iterations, n_generators))
    return history


def checkpoint_params(estimator: Any) -> dict[str, Any]:
    """The parameters a checkpoint of ``estimator``'s fit must match to be resumed.

    Every constructor argument but the progress meter, with the validity recorded by its type:
    a callable cannot be compared otherwise (GeneratorFlow checkpoints of symmetrykit 0.1
    recorded the same, so they still resume).
    """
    params: dict[str, Any] = {}
    for name, value in estimator.get_params(deep=False).items():
        if name in ("validity", "progress"):
            continue
        try:
            params[name] = to_jsonable(value)
        except TypeError:
            params[name] = None
    validity = estimator.validity
    params["validity"] = (None if validity is None
                          else f"{type(validity).__module__}.{type(validity).__qualname__}")
    return params


def _restore(saved: Any, field: torch.nn.Module, optimizer: torch.optim.Optimizer,
             rng: torch.Generator, history: dict[str, np.ndarray], device: Any) -> int:
    """Load a checkpoint into the freshly built objects; returns the next iteration.

    The step range was checked by :meth:`Checkpoint.load`; every array is checked against
    what this fit built, an edited or damaged one is one ``ValueError`` line naming the file.
    """
    arrays, meta = saved
    first = int(meta["next_iteration"])
    source = getattr(arrays, "source", "the checkpoint")
    for name, values in history.items():
        expected = (first, *values.shape[1:])
        saved_values = np.asarray(arrays[f"history.{name}"])
        if saved_values.shape != expected or saved_values.dtype.kind not in "biuf":
            raise ValueError(f"{source}: history.{name} has shape {saved_values.shape} and "
                             f"dtype {saved_values.dtype}, expected real numbers of shape "
                             f"{expected}; the checkpoint was edited or damaged, delete it")
    restore_module("field", field, arrays)
    restore_optimizer("optimizer", optimizer, arrays, device)
    restore_rng("rng", rng, arrays)
    for name, values in history.items():
        values[:first] = arrays[f"history.{name}"]
    return first


def field_scale(values: torch.Tensor) -> float:
    """The largest RMS norm of the raw fields ``values (K, N, D)`` over their points.

    Computed in float64, so a field that float32 squares would overflow still reads as a large
    finite number (and an overflowed one as ``inf``): the quantity a divergence guard watches,
    because the training losses normalise the fields and stay unremarkable while their raw
    scale explodes.
    """
    with torch.no_grad():
        return float(values.detach().double().pow(2).sum(-1).mean(-1).sqrt().max())


def train_field(
    estimator: Any,
    step: Step,
    *,
    field: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    rng: torch.Generator,
    history: dict[str, np.ndarray],
    data: np.ndarray,
    device: Any,
    lr_decay_step: int | None = None,
    max_seconds: float | None = None,
    started: float | None = None,
) -> int:
    """Run ``step`` for ``estimator.n_iterations`` iterations; returns the iterations done.

    Parameters
    ----------
    estimator
        The :class:`~symmetrykit._estimator.SymmetryEstimator` being fitted; supplies
        ``n_iterations``, ``lr``, ``checkpoint_every``, the checkpoint store (on ``data``), the
        progress meter and the loss guard.
    step
        ``iteration -> (loss, logged values)``; the loss is back-propagated here.
    field, optimizer, rng
        What a checkpoint saves and restores (with ``history``).
    history
        Arrays from :func:`new_history`, filled in place (row ``iteration``).
    data
        The training samples, fingerprinted so that a checkpoint is never resumed on other data.
    lr_decay_step
        From this iteration on the learning rate is ``0.1 * lr`` (``None``: never).
    max_seconds, started
        Stop before an iteration once ``max_seconds`` have passed since ``started`` (a
        ``time.perf_counter()`` value); at least one iteration runs.
    """
    n_iterations = int(estimator.n_iterations)
    store = estimator._checkpoint_store(data)
    first = 0
    if store is not None:
        # A checkpoint is written between iterations, never after the last one: an edited
        # next_iteration outside 1..n_iterations - 1 is refused, not taken for a finished fit.
        saved = store.load(bounds={"next_iteration": (1, n_iterations - 1)})
        if saved is not None:
            first = _restore(saved, field, optimizer, rng, history, device)
    guard = estimator._loss_guard(fix=LOSS_FIX)

    def save(next_iteration: int) -> None:
        arrays = {"rng": rng.get_state().numpy()}
        arrays.update(flatten_module("field", field))
        arrays.update(flatten_optimizer("optimizer", optimizer))
        arrays.update({f"history.{name}": values[:next_iteration]
                       for name, values in history.items()})
        store.save(arrays, {"next_iteration": next_iteration})

    done = first
    with estimator._progress_meter(n_iterations) as meter:
        meter.update(first)
        for iteration in range(first, n_iterations):
            if (max_seconds is not None and iteration > 0
                    and time.perf_counter() - started >= float(max_seconds)):
                break
            if lr_decay_step is not None and iteration >= lr_decay_step and iteration > 0:
                for group in optimizer.param_groups:
                    group["lr"] = 0.1 * float(estimator.lr)
            loss, logged = step(iteration)
            value = guard(loss, iteration)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history["loss"][iteration] = value
            for name, term in logged.items():
                if history[name].ndim == 1:
                    history[name][iteration] = float(term.detach().mean())
                else:
                    history[name][iteration] = term.detach().cpu().numpy()
            meter.update(1, loss=value, validity=history["validity"][iteration])
            done = iteration + 1
            if store is not None and done % estimator.checkpoint_every == 0 and (
                    done < n_iterations):
                save(done)
    return done
