"""SymmetryLens at scale: the Cayley refinement, the lean Adam, the convergence stop and the time
budget."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import symmetrykit as sk
from symmetrykit import SymmetryLens
from symmetrykit._optim import Adam
from symmetrykit.lens._convergence import ConvergenceMonitor
from symmetrykit.lens._lifting import cayley_orthogonal, orthogonal_from_parameters
from symmetrykit.lie import skew_logarithm
from symmetrykit.testing import FitInterrupted, InterruptAfter

# Tiny tensors: one torch thread. A short patience so that a converging fit ends in ~150 steps.
pytestmark = pytest.mark.usefixtures("single_thread")
SMALL = {"batch_size": 140, "warmup_steps": 20, "warm_bases": ("coordinates",),
         "n_iter_no_change": 1, "generator_tol": 0.05, "progress": "none", "random_state": 0}


@pytest.fixture(scope="module")
def dataset():
    return sk.datasets.local_signals(n_samples=2_000, dim=7, random_state=0)


def _rotation(m: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((m, m)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return torch.as_tensor(q)


# ------------------------------------------------------------------ the Cayley map
def test_cayley_is_a_rotation_that_starts_at_its_base():
    base = _rotation(9, 0)
    s = torch.as_tensor(np.random.default_rng(1).standard_normal((9, 9)))
    g = cayley_orthogonal(base, s)
    np.testing.assert_allclose((g.mT @ g).numpy(), np.eye(9), atol=1e-12)
    assert torch.linalg.det(g).item() == pytest.approx(1.0)
    zero = torch.zeros(9, 9, dtype=torch.float64)
    np.testing.assert_allclose(cayley_orthogonal(base, zero).numpy(), base.numpy(), atol=1e-15)
    # Only the skew part of S counts.
    symmetric = torch.as_tensor(np.random.default_rng(2).standard_normal((9, 9)))
    np.testing.assert_allclose(cayley_orthogonal(base, s + symmetric + symmetric.mT).numpy(),
                               g.numpy(), atol=1e-12)


def test_cayley_agrees_with_the_exponential_to_third_order():
    base = _rotation(8, 2)
    direction = torch.as_tensor(np.random.default_rng(3).standard_normal((8, 8)))
    errors = []
    for scale in (1e-1, 1e-2):
        s = scale * direction
        exact = base @ orthogonal_from_parameters(s)
        errors.append(float(torch.linalg.matrix_norm(cayley_orthogonal(base, s) - exact)))
    # The error is O(K³): a tenth of K leaves a thousandth of the error.
    assert errors[1] < errors[0] / 500


def test_cayley_gradient_is_exact():
    base = _rotation(5, 4)
    s = (0.3 * torch.randn(5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
         ).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda s_: cayley_orthogonal(base, s_), (s,))


def test_the_two_updates_start_from_the_same_rotation():
    """A warm start's skew logarithm through the exponential and its rotation as the Cayley base
    are the same group element."""
    base = _rotation(7, 5)
    logarithm = torch.as_tensor(skew_logarithm(base.numpy()))
    np.testing.assert_allclose(orthogonal_from_parameters(logarithm).numpy(), base.numpy(),
                               atol=1e-10)


# ------------------------------------------------------------------ Adam
def test_adam_matches_torch_bit_for_bit():
    gen = torch.Generator().manual_seed(0)
    ours = [torch.randn(4, 3, generator=gen).requires_grad_(True),
            torch.randn(5, generator=gen, dtype=torch.float64).requires_grad_(True)]
    theirs = [p.detach().clone().requires_grad_(True) for p in ours]
    mine = Adam(ours, lr=0.05, eps=1e-7)
    reference = torch.optim.Adam(theirs, lr=0.05, eps=1e-7, foreach=False)
    for step in range(30):
        for params, optimiser in ((ours, mine), (theirs, reference)):
            optimiser.param_groups[0]["lr"] = 0.05 * 0.97**step
            loss = (params[0] ** 3).sum() + (params[1].sin() * 2).sum()
            for p, g in zip(params, torch.autograd.grad(loss, params), strict=True):
                p.grad = g
            optimiser.step()
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)


def test_adam_state_round_trips():
    p = torch.ones(3, requires_grad=True)
    first = Adam([p], lr=0.1)
    p.grad = torch.tensor([1.0, -2.0, 0.5])
    first.step()
    second = Adam([p], lr=1.0)
    second.load_state_dict(first.state_dict())
    assert second.param_groups[0]["lr"] == 0.1
    assert torch.equal(second.state[0]["exp_avg"], first.state[0]["exp_avg"])
    assert float(second.state[0]["step"]) == 1.0
    with pytest.raises(ValueError, match="empty"):
        Adam([], lr=0.1)


# ------------------------------------------------------------------ the convergence monitor
def _feed(monitor, losses, crop):
    for loss in losses:
        monitor.add(loss)
    assert monitor.window_full()
    return monitor.check(crop)


def test_convergence_needs_a_stalled_loss_and_a_still_generator():
    monitor = ConvergenceMonitor(window=4, tol=1e-3, n_iter_no_change=2, generator_tol=1e-2)
    crop = np.eye(3)
    assert not _feed(monitor, [-1.0] * 4, crop)[0]           # the first window improves
    assert not _feed(monitor, [-2.0] * 4, crop)[0]           # still improving
    converged, window = _feed(monitor, [-2.0] * 4, crop)     # one stall
    assert not converged and window == {"window_loss": -2.0, "generator_change": 0.0}
    assert _feed(monitor, [-1.9995] * 4, crop)[0]            # two stalls, G still: done
    moving = ConvergenceMonitor(window=1, tol=1e-3, n_iter_no_change=1, generator_tol=1e-2)
    _feed(moving, [-1.0], crop)
    converged, window = _feed(moving, [-1.0], 1.1 * crop)     # the loss stalls, G moves 10 %
    assert not converged and window["generator_change"] == pytest.approx(0.1)


def test_convergence_state_round_trips_and_is_checked():
    monitor = ConvergenceMonitor(window=3, tol=1e-3, n_iter_no_change=2, generator_tol=1e-2)
    _feed(monitor, [1.0, 2.0, 3.0], np.eye(2))
    monitor.add(0.5)
    arrays = monitor.state_arrays("now.stop")
    copy = ConvergenceMonitor(window=3, tol=1e-3, n_iter_no_change=2, generator_tol=1e-2)
    copy.load(arrays, "now.stop", 2)
    assert vars(copy).keys() == vars(monitor).keys()
    for key, value in vars(monitor).items():
        np.testing.assert_array_equal(getattr(copy, key), value)
    copy.load({}, "now.stop", 2)  # a checkpoint without a monitor leaves it as it is
    with pytest.raises(ValueError, match="counters"):
        copy.load({"now.stop.counters": np.array([1.0, math.nan, 0.0, 0.0])}, "now.stop", 2)
    with pytest.raises(ValueError, match="previous"):
        copy.load({**arrays, "now.stop.previous": np.eye(3)}, "now.stop", 2)


# ------------------------------------------------------------------ fits
@pytest.mark.slow
def test_a_warm_fit_stops_when_converged_and_tol_none_runs_the_schedule(dataset):
    lens = SymmetryLens(n_steps=600, **SMALL).fit(dataset.X)
    assert lens.stop_reasons_ == ["converged"]
    assert lens.n_iter_ == lens.run_steps_[0] < 600
    assert lens.n_iter_ % 25 == 0 and lens.history_["step"][-1] == lens.n_iter_ - 1
    patient = SymmetryLens(n_steps=600, **{**SMALL, "n_iter_no_change": 3}).fit(dataset.X)
    assert lens.n_iter_ < patient.n_iter_ < 600
    assert sk.generator_similarity(lens.generator_, dataset.generator) > 0.99
    full = SymmetryLens(n_steps=60, tol=None, **SMALL).fit(dataset.X)
    assert full.run_steps_ == [60] and full.stop_reasons_ == ["n_steps"]


@pytest.mark.slow
def test_random_starts_follow_their_curriculum(dataset):
    lens = SymmetryLens(n_steps=80, init="random", **SMALL).fit(dataset.X)
    assert lens.run_steps_ == [80] and lens.stop_reasons_ == ["n_steps"]


@pytest.mark.slow
def test_both_warm_updates_keep_the_warm_start(dataset):
    for update in ("cayley", "exp"):
        lens = SymmetryLens(n_steps=50, tol=None, warm_update=update, **SMALL).fit(dataset.X)
        assert sk.generator_similarity(lens.generator_, dataset.generator) > 0.99, update


def test_max_time_caps_the_whole_fit(dataset):
    lens = SymmetryLens(n_steps=10**6, tol=None, max_time=0.5, **SMALL).fit(dataset.X)
    assert lens.stop_reasons_ == ["max_time"]
    assert lens.fit_time_["wall_s"] < 5.0
    assert np.all(np.isfinite(lens.generator_))


@pytest.mark.slow
def test_a_resumed_fit_stops_at_the_same_step(dataset, tmp_path):
    params = {**SMALL, "n_steps": 600, "checkpoint_every": 30, "n_iter_no_change": 2}
    reference = SymmetryLens(**params).fit(dataset.X)
    assert reference.stop_reasons_ == ["converged"]
    path = tmp_path / "ckpt"
    with pytest.raises(FitInterrupted):
        SymmetryLens(**{**params, "checkpoint": path,
                        "progress": InterruptAfter(reference.n_iter_ - 10)}).fit(dataset.X)
    resumed = SymmetryLens(**{**params, "checkpoint": path}).fit(dataset.X)
    assert resumed.run_steps_ == reference.run_steps_
    np.testing.assert_array_equal(resumed.generator_, reference.generator_)
    np.testing.assert_array_equal(resumed.filter_, reference.filter_)


def test_compare_caps_symmetrylens_by_the_budget(dataset):
    from symmetrykit.baselines import compare

    (result,) = compare(dataset.X, ["lens"], truth=dataset.generator, budget=0.5,
                        settings={"lens": {**{k: v for k, v in SMALL.items()
                                              if k not in ("progress", "random_state")},
                                           "tol": None}})
    assert result.setting["max_time"] == 0.5
    assert result.model.stop_reasons_ == ["max_time"]
    assert result.steps == sum(result.model.run_steps_)


@pytest.mark.slow
def test_fits_with_two_threads_are_reproducible(dataset):
    """The density heads' embedding gradient used to be a threaded scatter-add: two identical
    fits with two torch threads differed by 1e-3 after 250 steps."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        params = {**SMALL, "n_steps": 120, "tol": None}
        first = SymmetryLens(**params).fit(dataset.X)
        second = SymmetryLens(**params).fit(dataset.X)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(first.generator_, second.generator_)
