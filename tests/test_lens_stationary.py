"""SymmetryLens on stationary signals that are not local: the stationary reading, its data sets,
and the warning when the kept answer is not shift-invariant."""

from __future__ import annotations

import importlib.util
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.linalg import circulant as circulant_matrix
from scipy.linalg import toeplitz

import symmetrykit as sk
from symmetrykit.lens._selection import RunCheck, check_run, eligible_runs, select_run
from symmetrykit.lens._stationary import (
    STATIONARY_FIT,
    circulant,
    representation_invariance,
    representation_stationarity,
    stationarity,
    stationarity_warning,
    stationary_rotation,
    third_order_stationarity,
)
from symmetrykit.lens._warm_start import warm_start

needs_aeon = pytest.mark.skipif(importlib.util.find_spec("aeon") is None,
                                reason="the records ship with aeon (extra 'ucr')")


def test_stationarity_is_one_for_toeplitz_and_low_for_a_scrambled_order():
    covariance = toeplitz(0.8 ** np.arange(15) * np.cos(np.arange(15)))
    assert stationarity(covariance) == pytest.approx(1.0, abs=1e-12)
    perm = np.random.default_rng(0).permutation(15)
    assert stationarity(covariance[np.ix_(perm, perm)]) < 0.5
    assert np.isnan(stationarity(np.eye(5)))  # no off-diagonal energy: undefined
    # Windows of a line are not circulant; a covariance on a circle is.
    assert not circulant(toeplitz(0.9 ** np.arange(15)))
    column = 0.7 ** np.minimum(np.arange(15), 15 - np.arange(15))
    assert circulant(circulant_matrix(column))


@pytest.mark.parametrize("kind", sk.datasets.STATIONARY_KINDS)
def test_the_stationary_reading_of_non_local_signals_is_the_shift(kind):
    data = sk.datasets.stationary_signals(kind, n_samples=3000, dim=15, random_state=0)
    rotation, _, usable = stationary_rotation(data.X)
    assert usable
    np.testing.assert_array_equal(rotation, np.eye(15))  # the coordinates as given, signs +1
    start = warm_start(data.X, 15, np.random.default_rng(0), basis="stationary")
    assert start.source == "stationary" and start.converged and not start.cyclic
    generator = start.padded_generator[15:30, 15:30]
    assert sk.metrics.generator_similarity(generator, data.generator) > 0.999
    # The neighbour-correlation reading joins samples to their period partners instead.
    local = warm_start(data.X, 15, np.random.default_rng(0), basis="coordinates")
    assert abs(sk.metrics.generator_similarity(local.padded_generator[15:30, 15:30],
                                               data.generator)) < 0.5


def test_the_stationary_reading_is_unusable_for_scrambled_local_signals():
    data = sk.datasets.local_signals(n_samples=3000, dim=15, symmetry="permuted", random_state=0)
    assert not stationary_rotation(data.X)[2]
    assert stationarity(np.cov(data.X.T)) < STATIONARY_FIT


def test_stationary_signals_are_checked_and_reproducible():
    a = sk.datasets.stationary_signals("spikes", n_samples=50, dim=9, random_state=3)
    b = sk.datasets.stationary_signals("spikes", n_samples=50, dim=9, random_state=3)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.X.shape == (50, 9) and a.name == "stationary-spikes"
    np.testing.assert_array_equal(a.generator, sk.lie.shift(9))
    with pytest.raises(ValueError, match="unknown kind 'noise'"):
        sk.datasets.stationary_signals("noise")
    with pytest.raises(ValueError, match="dim must be odd"):
        sk.datasets.stationary_signals(dim=8)


@needs_aeon
def test_record_windows_cut_a_real_record_into_centred_windows():
    data = sk.datasets.record_windows("electric-devices", width=33, n_windows=500)
    assert data.X.shape == (500, 33)
    np.testing.assert_allclose(data.X.mean(axis=1), 0.0, atol=1e-12)
    # Spiky and cycling every 3 samples: anti-correlated neighbours, but stationary.
    correlation = np.corrcoef(data.X.T)
    assert correlation[16, 17] < -0.3 and correlation[16, 19] > 0.3
    assert stationary_rotation(data.X)[2]
    with pytest.raises(ValueError, match="unknown record"):
        sk.datasets.record_windows("sunspots")
    with pytest.raises(ValueError, match="width must be odd"):
        sk.datasets.record_windows(width=32)
    with pytest.raises(ValueError, match="too few"):
        sk.datasets.record_windows("internal-bleeding", width=33, downsample=5000)


def test_the_warning_names_the_diagnostic_only_when_a_stationary_reading_lost():
    dim, padding = 9, 9
    shift = sk.lie.shift(dim + 2 * padding)
    stationary = SimpleNamespace(source="stationary", padded_generator=shift)
    local = SimpleNamespace(source="coordinates", padded_generator=shift @ shift)
    other = (shift @ shift)[padding:padding + dim, padding:padding + dim]
    message = stationarity_warning([local, stationary], other, padding, [-1.43, -1.33], 0, 0.55)
    assert "shift-invariant in their given order" in message and "-1.33" in message
    assert "stationarity of its representation 0.55" in message
    # The kept generator is the stationary reading's shift: nothing to say.
    kept = shift[padding:padding + dim, padding:padding + dim]
    assert stationarity_warning([local, stationary], kept, padding, [-1.4, -1.5], 1,
                                0.99) is None
    assert stationarity_warning([local], other, padding, [-1.4], 0, 0.55) is None  # no reading
    white = np.random.default_rng(0).standard_normal((400, 9))
    assert representation_stationarity(white, np.eye(9)) is None  # nothing to judge


@pytest.mark.slow
def test_a_fit_on_spike_trains_keeps_the_stationary_reading():
    data = sk.datasets.stationary_signals("spikes", n_samples=2000, dim=11, random_state=0)
    lens = sk.SymmetryLens(n_steps=100, warm_bases=("coordinates", "stationary"),
                           random_state=0, progress="none").fit(data.X)
    assert lens.restart_starts_ == ["coordinates", "stationary"]
    assert lens.restart_starts_[lens.best_restart_] == "stationary"
    assert sk.metrics.generator_similarity(lens.generator_, data.generator) > 0.95
    assert lens.stationarity_ > STATIONARY_FIT


def test_third_moments_tell_the_shift_from_the_alternating_sign_shift():
    flip = np.diag((-1.0) ** np.arange(15))
    spikes = sk.datasets.stationary_signals("spikes", n_samples=4000, dim=15, random_state=0)
    given, flipped = (representation_invariance(spikes.X, rows) for rows in (np.eye(15), flip))
    # Second moments cannot tell them apart: D C D is Toeplitz whenever C is.
    assert given[0] == pytest.approx(flipped[0], abs=1e-12) and given[0] > STATIONARY_FIT
    assert given[1] > 0.9 and flipped[1] < 0.05  # E[z_i² z_j] alternates in sign along lags
    # Gaussian data have no third moments to judge.
    gaussian = sk.datasets.stationary_signals("anticorrelated", n_samples=4000, dim=15,
                                              random_state=0)
    assert third_order_stationarity(gaussian.X) is None


def test_selection_keeps_the_lowest_loss_among_verified_runs():
    def check(verified):
        return RunCheck(0.99 if verified else 0.5, None, 1.0, verified)

    losses = [-1.4, -1.3, -1.2]
    checks = [check(False), check(True), check(True)]
    assert select_run("loss", losses, checks) == 0
    assert select_run("invariance", losses, checks) == 1
    # Nothing verifies (aligned events, random restarts): the loss decides.
    assert select_run("invariance", losses, [check(False), None, check(False)]) == 0
    # A verified run far less invariant than another is not eligible (an AR process's chain of
    # period partners on short windows: residual 0.02 against 0.0003) ...
    nearly = [RunCheck(0.98, None, 1.0, True), RunCheck(0.9997, None, 1.0, True)]
    assert eligible_runs("invariance", nearly) == [1]
    assert select_run("invariance", [-1.4, -1.2], nearly) == 1
    # ... equally invariant ones (within twice the best residual, or the noise) are.
    equal = [RunCheck(0.9995, None, 1.0, True), RunCheck(0.9997, 0.99, 1.0, True)]
    assert eligible_runs("invariance", equal) == [0, 1]
    assert eligible_runs("loss", equal) == []


def test_check_run_needs_invariance_and_a_generator_that_stayed():
    data = sk.datasets.stationary_signals("spikes", n_samples=3000, dim=11, random_state=0)
    start = warm_start(data.X, 11, np.random.default_rng(0), basis="stationary")
    crop = start.padded_generator[11:22, 11:22]
    assert check_run(data.X, start, crop, 11).verified
    moved = check_run(data.X, start, crop @ crop, 11)  # refined to another symmetry
    assert moved.agreement < 0.5 and not moved.verified
    local = warm_start(data.X, 11, np.random.default_rng(0), basis="coordinates")
    assert not check_run(data.X, local, local.padded_generator[11:22, 11:22], 11).verified
    with pytest.raises(ValueError, match="selection"):
        sk.SymmetryLens(selection="best").fit(data.X)


@pytest.mark.slow
def test_the_invariance_selection_keeps_the_shift_the_loss_rejects():
    data = sk.datasets.stationary_signals("anticorrelated", n_samples=3000, dim=11,
                                          random_state=0)
    kept = {}
    for selection in ("invariance", "loss"):
        lens = sk.SymmetryLens(n_steps=100, warm_bases=("coordinates", "stationary"),
                               selection=selection, random_state=0, progress="none")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lens.fit(data.X)
        kept[selection] = (lens, caught)
    lens, caught = kept["invariance"]
    assert lens.restart_starts_[lens.best_restart_] == "stationary"
    assert lens.restart_losses_[lens.best_restart_] > min(lens.restart_losses_)  # not by loss
    # The stationary reading's run keeps its exact shift: only the filter is learned.
    assert sk.metrics.generator_similarity(lens.generator_, data.generator) == pytest.approx(1.0)
    assert lens.run_checks_[lens.best_restart_]["verified"] and not caught
    paper, caught = kept["loss"]
    assert paper.restart_starts_[paper.best_restart_] == "coordinates"
    assert any("shift-invariant in their given order" in str(w.message) for w in caught)
    np.testing.assert_array_equal(paper.restart_losses_, lens.restart_losses_)  # same runs
