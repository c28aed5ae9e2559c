"""SymmetryLens under hostile input (issue 19): parameters, divergence, extreme data, cost, and
edited checkpoints each get one clear line before any heavy work."""

import inspect
import math
import warnings

import numpy as np
import pytest
import scipy.linalg

import symmetrykit as sk
from symmetrykit._validation import CostError, CostWarning, InvalidParameterError
from symmetrykit.lens import SymmetryLens, _warm_start
from symmetrykit.lens import _estimator as lens_estimator
from symmetrykit.lens._cost import TYPICAL_REFINEMENT_STEPS, float32_ready
from symmetrykit.lie import skew_logarithm
from symmetrykit.runs import RunDirectory

pytestmark = pytest.mark.usefixtures("single_thread")

TINY = {"n_steps": 6, "warmup_steps": 2, "batch_size": 70, "log_every": 2,
        "warm_bases": ("coordinates",), "progress": "none", "random_state": 0}


@pytest.fixture(scope="module")
def signals():
    return sk.datasets.local_signals(n_samples=210, dim=7, random_state=0).X


class WarmStartReached(Exception):
    """Raised by a stand-in warm start: the fit got past every up-front check."""


@pytest.fixture
def no_warm_start(monkeypatch):
    def refuse(*args, **kwargs):
        raise WarmStartReached

    monkeypatch.setattr(lens_estimator, "warm_start", refuse)


def _one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


# ------------------------------------------------------------------ item 11: parameters
@pytest.mark.parametrize(("name", "value"), [
    ("model_lr", "0.1"), ("uniformity", "2"), ("hidden", -3), ("hidden", 0),
    ("estimator_lr", math.inf), ("alignment", math.nan), ("rank_gain", math.inf),
    ("resolution_ramp", -1), ("lr_decay", 5), ("lr_decay", 0.0), ("n_steps", 2.0),
    ("warm_bases", "rotation"), ("warm_bases", ("rotation", "rotation")), ("init", "Warm"),
    ("device", "tpu"), ("progress", "loud"), ("random_state", -1), ("checkpoint", 3),
    ("information", -0.5), ("n_kernels", True),
])
def test_a_bad_parameter_is_one_line_naming_it_before_any_work(signals, no_warm_start, name,
                                                              value):
    with pytest.raises(InvalidParameterError) as error:
        SymmetryLens(**{**TINY, name: value}).fit(signals)
    text = _one_line(error)
    assert text.startswith(f"SymmetryLens: {name} must be ")
    assert isinstance(error.value, ValueError) and isinstance(error.value, TypeError)


def test_every_parameter_is_in_the_table_and_the_defaults_and_edges_pass():
    names = set(inspect.signature(SymmetryLens.__init__).parameters) - {"self"}
    assert set(SymmetryLens._parameter_constraints) == names
    SymmetryLens()._validate_params()
    SymmetryLens(lr_decay=1, alignment=0, uniformity=0.0, hidden=1, warmup_steps=0,
                 padding=0, random_state=np.random.default_rng(0), progress=None,
                 device="cuda:1", checkpoint="somewhere")._validate_params()


@pytest.mark.parametrize(("X", "match"), [
    (np.zeros((100, 6)), "odd dimension"),
    (np.ones((10, 7)), "at least 14 samples"),
    (np.ones((100, 1)), "odd dimension"),
])
def test_shape_problems_come_before_the_constant_data_warning(X, match, no_warm_start):
    with pytest.raises(ValueError, match=match):
        SymmetryLens(**TINY).fit(X)


def test_a_batch_smaller_than_two_dimensions_is_refused(signals, no_warm_start):
    with pytest.raises(ValueError, match="batch_size must be at least 2 × dim = 14, got 9"):
        SymmetryLens(**{**TINY, "batch_size": 9}).fit(signals)


# ------------------------------------------------------------------ item 8: divergence
@pytest.mark.parametrize(("params", "where", "fix"), [
    ({"estimator_lr": 1e3}, "density-estimator loss in the warm-up diverged at step 1",
     "lower estimator_lr"),
    ({"estimator_lr": 1e6}, "density-estimator loss in the warm-up diverged at step 1",
     "lower estimator_lr"),
    ({"estimator_lr": 1e3, "warmup_steps": 0}, "density-estimator loss diverged at step 1",
     "lower estimator_lr"),
    ({"model_lr": 1e3, "init": "random"}, "generator parameters diverged at step 0",
     "lower model_lr"),
    ({"warm_model_lr": 1e3}, "generator parameters diverged at step 0", "lower warm_model_lr"),
])
def test_divergence_stops_the_fit_naming_the_step_and_the_rate(signals, params, where, fix):
    lens = SymmetryLens(**{**TINY, **params})
    with pytest.raises(FloatingPointError) as error:
        lens.fit(signals)
    text = _one_line(error)
    assert where in text and text.endswith(fix)
    assert not hasattr(lens, "history_")


def test_a_checkpoint_written_before_divergence_stays_usable(tmp_path, signals):
    # (The matrix-exponential update diverges at step 2 with these rates; the Cayley one later.)
    params = {**TINY, "estimator_lr": 10.0, "warmup_steps": 0, "checkpoint_every": 1,
              "warm_update": "exp", "checkpoint": tmp_path / "ckpt"}
    with pytest.raises(FloatingPointError, match="at step 2") as first:
        SymmetryLens(**params).fit(signals)
    arrays, meta = RunDirectory.open(tmp_path / "ckpt").load_checkpoint()
    assert meta["next_step"] == 2 and meta["finished_restarts"] == 0
    assert np.all(np.isfinite(arrays["now.a"]))
    # Resuming replays the same steps from the checkpoint, with the guards' reference losses
    # restored: it stops exactly where the uninterrupted fit stopped, with the same message.
    with pytest.raises(FloatingPointError) as again:
        SymmetryLens(**params).fit(signals)
    assert str(again.value) == str(first.value)


def test_healthy_fits_are_not_stopped(signals):
    lens = SymmetryLens(**{**TINY, "n_restarts": 2, "init": "random"}).fit(signals)
    assert np.all(np.isfinite(lens.history_["loss"]))


# ------------------------------------------------------------------ item 10: extreme data
@pytest.mark.parametrize(("scale", "match"), [(1e200, "values up to"), (1e-300, "varies by")])
def test_extreme_scales_are_one_line_before_the_warm_start(signals, no_warm_start, scale, match):
    with pytest.raises(ValueError, match=match) as error:
        SymmetryLens(**TINY).fit(signals * scale)
    assert _one_line(error).startswith("SymmetryLens: X ")


def test_constant_data_are_warned_about_before_the_warm_start(no_warm_start):
    with pytest.warns(UserWarning, match="SymmetryLens: X is constant"), \
            pytest.raises(WarmStartReached):
        SymmetryLens(**TINY).fit(np.ones((100, 7)))


@pytest.mark.parametrize("basis", ["rotation", "coordinates", "frequency"])
def test_the_warm_start_refuses_overflowing_data_instead_of_failing_inside(signals, basis):
    # It used to end in AttributeError: 'NoneType' object has no attribute 'copy' (the
    # frequency candidate's sign search compared NaN deviations and kept no signs at all).
    with pytest.raises(ValueError, match="warm_start: X has values up to"):
        _warm_start.warm_start(signals * 1e200, 7, np.random.default_rng(0), basis=basis)


def test_the_sign_search_keeps_a_start_when_every_deviation_is_nan():
    value, signs, _ = _warm_start._best_signs(np.arange(5), lambda order, signs: math.nan, 5,
                                              np.random.default_rng(0), 3)
    assert signs is not None and signs.shape == (5,) and math.isnan(value)


def test_float32_ready_moves_only_badly_scaled_data_and_exactly(signals):
    assert float32_ready(signals) is signals
    tiny = signals * 1e-12
    moved = float32_ready(tiny)
    np.testing.assert_array_equal(moved, tiny * 2.0**40)  # a power of two: exact
    assert 0.5 < moved.std() < 2
    np.testing.assert_array_equal(float32_ready(signals * 2.0**-30), signals)
    offset = float32_ready(signals + 1e8)
    assert abs(offset.mean()) < 1 and np.float32(offset).std() == pytest.approx(
        signals.std(), rel=1e-3)


def test_badly_scaled_data_fit_like_the_data_themselves(signals):
    reference = SymmetryLens(**TINY).fit(signals)
    exact = SymmetryLens(**TINY).fit(signals * 2.0**40)
    np.testing.assert_array_equal(exact.padded_generator_, reference.padded_generator_)
    tiny = SymmetryLens(**TINY).fit(signals * 1e-12)
    assert tiny.restart_starts_ == reference.restart_starts_
    assert sk.generator_similarity(tiny.generator_, reference.generator_) > 0.999
    assert tiny.history_["loss"][-1] == pytest.approx(reference.history_["loss"][-1], abs=0.01)


# ------------------------------------------------------------------ item 5: cost
def test_the_cost_estimate_grows_with_the_problem():
    lens = SymmetryLens()
    small, large = lens._estimate_cost(5_000, 7), lens._estimate_cost(5_000, 401)
    assert small.seconds_per_step < 0.2 and small.memory_bytes < 2**28
    assert large.seconds_per_step > 50 * small.seconds_per_step
    assert large.memory_bytes > 20 * small.memory_bytes
    # Up to one run per warm-start candidate, each counted at its typical length when it
    # stops on convergence, at the cap otherwise; max_time caps the whole.
    assert large.steps == 4 * (100 + TYPICAL_REFINEMENT_STEPS)  # four candidate readings
    assert "1203 × 1203" in large.detail and "frequency" in large.detail
    capped = SymmetryLens(tol=None)._estimate_cost(5_000, 401)
    assert capped.steps == 4 * (100 + 3000)
    budget = SymmetryLens(max_time=600)._estimate_cost(5_000, 401)
    assert budget.total_seconds == pytest.approx(600, rel=0.01)


def test_a_401_feature_default_fit_is_warned_about_before_any_work(no_warm_start):
    X = np.random.default_rng(0).standard_normal((2_000, 401))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CostWarning)
        with pytest.raises(CostWarning) as warning:
            SymmetryLens(progress="none").fit(X)
    text = str(warning.value)
    assert "per step" in text and " min in all" in text and "warm start" in text


def test_a_5001_feature_fit_is_refused_up_front(monkeypatch):
    lens = SymmetryLens(batch_size=10_002)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CostWarning)
        with pytest.raises((CostError, CostWarning)):  # refused unless 200 GiB are free
            lens._check_cost(10_002, 5_001)
    monkeypatch.setattr("symmetrykit._validation.available_memory", lambda: 64 * 2.0**30)
    with pytest.raises(CostError, match=r"SymmetryLens: this fit needs more memory than the "
                       r"64 GiB available: about [\d.]+ GiB"):
        lens._check_cost(10_002, 5_001)


@pytest.mark.parametrize(("size", "negacyclic"),
                         [(1, False), (2, True), (3, False), (4, True), (21, False), (22, True),
                          (63, False)])
def test_the_closed_form_shift_logarithm_is_the_schur_one(size, negacyclic):
    shift = np.roll(np.eye(size), 1, axis=1)
    if negacyclic:
        shift[-1, 0] = -1.0
    log = _warm_start.shift_logarithm(size, negacyclic=negacyclic)
    np.testing.assert_allclose(log, -log.T, atol=0)
    np.testing.assert_allclose(log, skew_logarithm(shift), atol=1e-12)
    np.testing.assert_allclose(scipy.linalg.expm(log), shift, atol=1e-12)


@pytest.mark.parametrize("padding", [0, 3])
def test_warm_start_logarithms_exponentiate_to_their_generators(signals, padding):
    for basis in ("rotation", "coordinates"):
        warm = _warm_start.warm_start(signals, padding, np.random.default_rng(0), basis=basis)
        np.testing.assert_allclose(scipy.linalg.expm(warm.skew), warm.padded_generator,
                                   atol=1e-12)
        np.testing.assert_allclose(warm.skew, skew_logarithm(warm.padded_generator), atol=1e-12)


# ------------------------------------------------------------------ item 12: checkpoints
class Interrupted(Exception):
    pass


@pytest.fixture
def interrupted(tmp_path, signals):
    """A checkpoint of a fit stopped at its second logged step (step 2; the checkpoint says
    next_step 2), and the fit's parameters."""
    calls = []

    def stop_at_second_log(generator, phi):
        calls.append(1)
        if len(calls) == 2:
            raise Interrupted
        return {}

    params = {**TINY, "checkpoint_every": 2, "checkpoint": tmp_path / "ckpt"}
    with pytest.raises(Interrupted):
        SymmetryLens(**params).fit(signals, monitor=stop_at_second_log)
    return tmp_path / "ckpt", params


@pytest.mark.parametrize(("field", "value", "match"), [
    ("next_step", 10**6, r"'next_step' is 1000000, outside -1\.\.5"),
    ("next_step", -50, "outside"),
    ("next_step", "3", "must be an integer"),
    ("next_step", 2.5, "must be an integer"),
    ("next_step", True, "must be an integer"),
    ("finished_restarts", 7, "'finished_restarts' is 7"),
    ("padding", 3, "padding is 3"),
    ("final_losses", [1.0, 2.0], "final_losses"),
])
def test_an_edited_checkpoint_is_refused_naming_it(interrupted, signals, no_warm_start, field,
                                                   value, match):
    path, params = interrupted
    run = RunDirectory.open(path)
    arrays, meta = run.load_checkpoint()
    run.save_checkpoint(arrays, {**meta, field: value})
    with pytest.raises(ValueError, match=match) as error:
        SymmetryLens(**params).fit(signals)
    assert str(path / "checkpoint.npz") in _one_line(error)


def test_an_edited_checkpoint_array_is_refused_naming_it(interrupted, signals):
    path, params = interrupted
    run = RunDirectory.open(path)
    arrays, meta = run.load_checkpoint()
    run.save_checkpoint({**arrays, "now.a": np.full((3, 3), np.nan)}, meta)
    with pytest.raises(ValueError, match="'now.a' must be a finite float array of shape"):
        SymmetryLens(**params).fit(signals)
    del arrays["rng"]
    run.save_checkpoint(arrays, meta)
    with pytest.raises(ValueError, match="lacks the array 'rng'"):
        SymmetryLens(**params).fit(signals)


@pytest.mark.parametrize("written_before_the_guards", [False, True])
def test_the_interrupted_checkpoint_resumes_when_left_alone(interrupted, signals,
                                                            written_before_the_guards):
    path, params = interrupted
    if written_before_the_guards:  # no reference losses saved: the resumed fit still runs
        run = RunDirectory.open(path)
        arrays, meta = run.load_checkpoint()
        assert {"now.guard.model", "now.guard.estimator"} <= set(arrays)
        run.save_checkpoint({k: v for k, v in arrays.items()
                             if not k.startswith("now.guard.")}, meta)
    resumed = SymmetryLens(**params).fit(signals)
    reference = SymmetryLens(**{k: v for k, v in params.items() if k != "checkpoint"}
                             ).fit(signals)
    np.testing.assert_array_equal(resumed.padded_generator_, reference.padded_generator_)
