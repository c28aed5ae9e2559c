"""Checkpointed SymmetryLens fits resume to exactly the uninterrupted result."""

import numpy as np
import pytest

import symmetrykit as sk
from symmetrykit.lens import SymmetryLens

PARAMS = {"n_steps": 30, "warmup_steps": 5, "batch_size": 70, "log_every": 5,
          "checkpoint_every": 10, "n_restarts": 2, "progress": "none", "random_state": 3}


pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def signals():
    return sk.datasets.local_signals(n_samples=1_000, dim=7, random_state=0).X


class Interrupted(Exception):
    pass


def _stop_at(call: int):
    calls = []

    def monitor(generator, phi):
        calls.append(1)
        if len(calls) == call:
            raise Interrupted
        return {}

    return monitor


def _assert_same_fit(a: SymmetryLens, b: SymmetryLens) -> None:
    np.testing.assert_array_equal(a.padded_generator_, b.padded_generator_)
    np.testing.assert_array_equal(a.filter_, b.filter_)
    assert a.restart_losses_ == b.restart_losses_
    assert a.best_restart_ == b.best_restart_
    assert a.history_ == b.history_


@pytest.mark.slow
@pytest.mark.parametrize("init", ["warm", "random"])
@pytest.mark.parametrize("stop_call", [5, 10])  # in the first restart, in the second
def test_an_interrupted_fit_resumes_to_the_uninterrupted_result(tmp_path, signals, init,
                                                                stop_call):
    reference = SymmetryLens(init=init, **PARAMS).fit(signals)
    path = tmp_path / "ckpt"
    with pytest.raises(Interrupted):
        SymmetryLens(init=init, checkpoint=path, **PARAMS).fit(signals,
                                                               monitor=_stop_at(stop_call))
    assert (path / "checkpoint.npz").is_file()
    # The kind of symmetrykit 0.1's lens checkpoints, so that they stay recognisable.
    assert sk.runs.RunDirectory.open(path).config()["kind"] == "symmetrylens-checkpoint"
    logged = []
    resumed = SymmetryLens(init=init, checkpoint=path, **PARAMS).fit(
        signals, monitor=lambda g, phi: logged.append(1) or {})
    _assert_same_fit(resumed, reference)
    full = 2 * 7  # steps 0, 5, …, 25 and 29 in each restart
    assert 0 < len(logged) <= full - (stop_call - 1) + 1  # it continued, it did not restart
    # A finished checkpoint gives the same result again without training.
    logged.clear()
    again = SymmetryLens(init=init, checkpoint=path, **PARAMS).fit(
        signals, monitor=lambda g, phi: logged.append(1) or {})
    _assert_same_fit(again, reference)
    assert logged == []


@pytest.mark.slow
def test_a_checkpoint_of_another_fit_is_refused_and_kept(tmp_path, signals):
    path = tmp_path / "ckpt"
    SymmetryLens(checkpoint=path, **PARAMS).fit(signals)
    before = (path / "checkpoint.npz").read_bytes()
    with pytest.raises(ValueError, match="different data"):
        SymmetryLens(checkpoint=path, **PARAMS).fit(signals[:-1])
    with pytest.raises(ValueError, match=r"different parameters \(n_steps\)"):
        SymmetryLens(checkpoint=path, **{**PARAMS, "n_steps": 31}).fit(signals)
    assert (path / "checkpoint.npz").read_bytes() == before
    # progress and checkpoint frequency do not change the numbers, so they may differ
    SymmetryLens(checkpoint=path, **{**PARAMS, "checkpoint_every": 7}).fit(signals)


def test_a_foreign_directory_is_not_used_as_a_checkpoint(tmp_path, signals):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a SymmetryLens checkpoint"):
        SymmetryLens(checkpoint=tmp_path, **PARAMS).fit(signals)
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("seed", [None, np.random.default_rng(0)])
def test_checkpoints_need_a_replayable_seed(tmp_path, signals, seed):
    with pytest.raises(ValueError, match="integer random_state"):
        SymmetryLens(checkpoint=tmp_path / "c", **{**PARAMS, "random_state": seed}).fit(signals)
    assert not (tmp_path / "c").exists()
