"""Writes that replace something are atomic, outputs are checked before any work, and every
command-line error is one line (issue 19, items 1, 2, 3 and 9).

* run directories are written under a hidden name and renamed into place
  (:func:`symmetrykit.runs.staged_directory`): a failure, or a ``kill -9``, in the middle of an
  ``overwrite`` leaves the old run byte-identical, through the API and the command line;
* two sweeps of different configurations never share a directory, at once or one after the
  other: ``sweep.json`` is written only while the directory's lock is held;
* an unwritable, occupied or impossible ``--out``/``--checkpoint`` is refused in one line before
  data are generated or anything is fitted, for every command;
* ``--lr`` of ``lens discover`` acts with the default warm start.

Read-only folders are made with ``chmod`` (skipped as root, where permissions do not apply);
other failures are injected with ``monkeypatch``.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from symmetrykit import sweeps
from symmetrykit._methods import Evaluation
from symmetrykit._validation import CostError, InvalidParameterError
from symmetrykit.cli import main
from symmetrykit.runs import RunDirectory, check_output_location, staged_directory

as_root = hasattr(os, "geteuid") and os.geteuid() == 0

# A lens fit of a fraction of a second: the plumbing is under test, not the result.
TINY_LENS = ["--data", "gaussian-translation", "--dim", "5", "--n-samples", "300", "--steps",
             "4", "--warmup-steps", "1", "--batch-size", "50", "--progress", "none"]


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A folder that accepts no new files: read-only, or for root (whom permissions do not
    bind) one where creating a temporary file fails as it would."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if as_root:
        create = tempfile.mkstemp

        def refuse(*args, dir=None, **kwargs):
            if dir is not None and Path(dir).resolve().is_relative_to(folder.resolve()):
                raise PermissionError(errno.EACCES, "Permission denied", str(dir))
            return create(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    yield folder
    folder.chmod(stat.S_IRWXU)


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "plain-file"
    path.write_text("not a folder")
    return path


@pytest.fixture
def quadratic_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    path = tmp_path / "quadratic.npz"
    np.savez(path, X=x, Y=(x**2).sum(axis=1))
    return path


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # default run directories land here


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


# ------------------------------------------------------------------- staged run directories
def test_a_staged_run_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "runs" / "run"
    with staged_directory(target) as stage:
        assert stage.parent == target.parent and stage.name.startswith(".run.staging-")
        RunDirectory.create(stage, {"seed": 0}).save_metrics({"cos": 1.0})
        assert not target.exists()  # nothing visible while the run is being written
    assert RunDirectory.open(target).load_metrics() == {"cos": 1.0}
    assert _hidden(target.parent) == []


def test_staging_refuses_a_bad_target_before_the_block_runs(tmp_path: Path, a_file: Path) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    cases = [(a_file, FileExistsError, "not a directory"),
             (a_file / "run", NotADirectoryError, "is a file"),
             (occupied, FileExistsError, "overwrite")]
    for target, error, message in cases:
        with pytest.raises(error, match=message), staged_directory(target):
            pytest.fail("the block must not run")
    assert (occupied / "notes.txt").read_text() == "mine"
    assert _hidden(tmp_path) == []


def test_a_failed_overwrite_keeps_the_old_run_byte_identical(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    old = RunDirectory.create(tmp_path / "run", {"first": True})
    old.save_arrays(a=np.arange(3))
    old.save_figure(Figure(figsize=(1, 1)), "fig")
    before = _snapshot(old.path)
    with pytest.raises(OSError, match="disk full"), \
            staged_directory(old.path, overwrite=True) as stage:
        RunDirectory.create(stage, {"second": True}).save_arrays(a=np.zeros(5))
        raise OSError(errno.ENOSPC, "disk full")
    assert _snapshot(old.path) == before
    assert _hidden(tmp_path) == []


def test_an_overwrite_replaces_the_run_and_keeps_the_users_files(tmp_path: Path) -> None:
    old = RunDirectory.create(tmp_path / "run", {"first": True})
    old.save_arrays(a=np.arange(3))
    old.save_checkpoint({"w": np.zeros(2)}, {"step": 1})
    (old.path / "evaluation.json").write_text("{}")
    (old.path / "notes.txt").write_text("mine")
    (old.path / "figures").mkdir()
    (old.path / "figures" / "old.png").write_bytes(b"png")
    (old.path / "figures" / "drawing.svg").write_text("<svg/>")
    with staged_directory(old.path, overwrite=True) as stage:
        RunDirectory.create(stage, {"second": True})
    new = RunDirectory.open(tmp_path / "run")
    assert new.config() == {"second": True}
    assert sorted(p.name for p in new.path.iterdir()) == ["config.json", "figures", "notes.txt"]
    assert (new.path / "notes.txt").read_text() == "mine"
    assert [p.name for p in (new.path / "figures").iterdir()] == ["drawing.svg"]
    assert _hidden(tmp_path) == []


_STAGE_AND_SLEEP = """
import sys, time
from symmetrykit.runs import RunDirectory, staged_directory
with staged_directory(sys.argv[1], overwrite=True) as stage:
    RunDirectory.create(stage, {"second": True}).save_metrics({"half": "written"})
    print("staged", flush=True)
    time.sleep(60)
"""


def test_kill_9_during_an_overwrite_leaves_the_old_run_and_no_confusion(tmp_path: Path) -> None:
    old = RunDirectory.create(tmp_path / "run", {"first": True})
    old.save_metrics({"cos": 0.5})
    before = _snapshot(old.path)
    with subprocess.Popen([sys.executable, "-c", _STAGE_AND_SLEEP, str(old.path)],
                          stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout.readline().strip() == "staged"
        finally:
            process.send_signal(signal.SIGKILL)
    assert _snapshot(old.path) == before
    assert len(_hidden(tmp_path)) == 1  # the dead process's stage
    # A later run neither sees nor trips over the leftover, and removes it.
    with pytest.raises(FileExistsError):
        with staged_directory(old.path):
            pass
    assert _hidden(tmp_path) == []
    with staged_directory(old.path, overwrite=True) as stage:
        RunDirectory.create(stage, {"third": True})
    assert RunDirectory.open(old.path).config() == {"third": True}


def test_a_swap_cut_off_between_its_renames_puts_the_old_run_back(tmp_path: Path) -> None:
    old = RunDirectory.create(tmp_path / "run", {"first": True})
    before = _snapshot(old.path)
    dead = _dead_pid()
    # Killed after moving the old run aside, before renaming its complete stage in.
    os.rename(old.path, tmp_path / f".run.old-{dead}-0123abcd")
    RunDirectory.create(tmp_path / f".run.staging-{dead}-4567cdef", {"second": True})
    with pytest.raises(FileExistsError, match="overwrite"), staged_directory(old.path):
        pass
    assert _snapshot(old.path) == before
    assert _hidden(tmp_path) == []


def test_leftovers_of_a_live_process_are_left_alone(tmp_path: Path) -> None:
    live = tmp_path / f".run.staging-{os.getppid()}-89abcdef"
    live.mkdir()
    with staged_directory(tmp_path / "run") as stage:
        RunDirectory.create(stage, {})
    assert live.is_dir()


# ------------------------------------------------------------------ save(overwrite=True)
@pytest.fixture
def fitted_regressor():
    from symmetrykit.lie import so
    from symmetrykit.liederiv import EquivariantRegressor

    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 2))
    return EquivariantRegressor(2, so(2), random_state=0).fit(x, (x**2).sum(axis=1))


@pytest.mark.parametrize("failing", ["save_arrays", "save_metrics"])
def test_a_failing_save_overwrite_keeps_the_old_run(fitted_regressor, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    failing: str) -> None:
    out = fitted_regressor.save(tmp_path / "run", metrics={"first": 1})
    before = _snapshot(out)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(RunDirectory, failing, disk_full)
    with pytest.raises(OSError, match="No space left"):
        fitted_regressor.save(out, overwrite=True, metrics={"second": 2})
    assert _snapshot(out) == before
    assert _hidden(tmp_path) == []
    monkeypatch.undo()
    fitted_regressor.save(out, overwrite=True, metrics={"second": 2})
    assert RunDirectory.open(out).load_metrics()["second"] == 2


def test_a_failing_figure_leaves_the_evaluations_run_unchanged(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path / "run", {})
    run.save_metrics({"cos": 0.5})
    before = _snapshot(run.path)

    def broken() -> None:
        raise RuntimeError("cannot draw")

    evaluation = Evaluation("lens", {"cos": 0.9}, figures={"broken": broken})
    with pytest.raises(RuntimeError, match="cannot draw"):
        evaluation.save(run)
    assert _snapshot(run.path) == before


# ----------------------------------------------------------- the command line, --overwrite
def test_a_cli_overwrite_that_fails_halfway_keeps_the_old_run(quadratic_file: Path,
                                                              tmp_path: Path, capsys,
                                                              monkeypatch) -> None:
    out = tmp_path / "run"
    argv = ["lie", "enforce", "--data", str(quadratic_file), "--degree", "2", "--algebra",
            "so(3)", "--out", str(out)]
    assert main(argv) == 0
    before = _snapshot(out)
    assert "evaluation.json" in before and any(name.startswith("figures") for name in before)
    capsys.readouterr()

    def disk_full(self, *args, **kwargs):  # the model and metrics are written by then
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(RunDirectory, "save_figure", disk_full)
    assert main([*argv, "--overwrite"]) == 1
    assert "No space left on device" in _one_error_line(capsys)
    assert _snapshot(out) == before
    assert _hidden(tmp_path) == []


# -------------------------------------------------- outputs checked before any work (item 3)
@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch):
    """Generating or reading data fails loudly: a refusal must come before it."""
    from symmetrykit import datasets

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the output was checked")

    for name in ("make_dataset", "load", "load_xy", "pde"):
        monkeypatch.setattr(datasets, name, forbidden)


def _families(quadratic_file: Path, config: Path) -> dict[str, list[str]]:
    return {
        "discover": ["discover", *TINY_LENS],
        "lens discover": ["lens", "discover", *TINY_LENS],
        "compare": ["compare", "--data", "gaussian-translation", "--dim", "5"],
        "lie discover": ["lie", "discover", "--data", "gaussian-translation", "--dim", "3"],
        "lie enforce": ["lie", "enforce", "--data", str(quadratic_file)],
        "lie promote": ["lie", "promote", "--data", str(quadratic_file)],
        "flow-discover": ["flow-discover", "--data", "kdv", "--iterations", "1"],
        "sweep": ["sweep", str(config), "--workers", "1"],
        "data make": ["data", "make", "gaussian-translation"],
    }


@pytest.fixture
def sweep_config(tmp_path: Path) -> Path:
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\nmethod = "symmetrylens"\nseeds = [0]\n[[data]]\n'
                    'name = "gaussian-translation"\ndim = 5\nn_samples = 100\n'
                    '[fixed]\nn_steps = 2\n')
    return path


@pytest.mark.parametrize("family", ["discover", "lens discover", "compare", "lie discover",
                                    "lie enforce", "lie promote", "flow-discover", "sweep",
                                    "data make"])
def test_every_command_refuses_an_out_under_a_file_before_work(
        family: str, quadratic_file: Path, sweep_config: Path, a_file: Path, capsys,
        no_work) -> None:
    argv = _families(quadratic_file, sweep_config)[family]
    out = a_file / ("d.npz" if family == "data make" else "run")
    assert main([*argv, "--out", str(out)]) == 2
    line = _one_error_line(capsys)
    assert line.startswith("symmetrykit: error: --out:") and "is a file" in line


@pytest.mark.parametrize("family", ["discover", "compare", "lie discover", "lie enforce",
                                    "flow-discover", "sweep", "data make"])
def test_every_command_refuses_an_unwritable_out_before_work(
        family: str, quadratic_file: Path, sweep_config: Path, read_only: Path, capsys,
        no_work) -> None:
    argv = _families(quadratic_file, sweep_config)[family]
    out = read_only / ("d.npz" if family == "data make" else "run")
    assert main([*argv, "--out", str(out)]) == 2
    line = _one_error_line(capsys)
    assert "does not accept new files" in line and str(read_only) in line


def test_outputs_of_the_wrong_kind_or_occupied_are_refused(tmp_path: Path, a_file: Path,
                                                          capsys, no_work) -> None:
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    cases = [
        (["discover", *TINY_LENS, "--out", str(a_file)], "not a directory"),
        (["data", "make", "gaussian-translation", "--out", str(folder)], "is a directory"),
        (["data", "make", "gaussian-translation", "--out", str(a_file) + ".npz"], None),
        (["data", "make", "gaussian-translation", "--out", "d.txt"], "unsupported file type"),
        (["discover", *TINY_LENS, "--checkpoint", str(a_file)], "--checkpoint"),
        (["discover", *TINY_LENS, "--checkpoint", str(a_file / "ck")], "--checkpoint"),
        (["discover", *TINY_LENS, "--out", "r", "--checkpoint", "r"], "run directory"),
        (["flow-discover", "--data", "kdv", "--checkpoint", str(a_file)], "--checkpoint"),
    ]
    (tmp_path / "plain-file.npz").write_bytes(b"data")
    for argv, message in cases:
        assert main(argv) == 2, argv
        line = _one_error_line(capsys)
        assert line.startswith("symmetrykit: error:")
        assert (message or "already exists") in line, line


def test_an_unwritable_checkpoint_is_refused_before_work(read_only: Path, capsys,
                                                        no_work) -> None:
    assert main(["discover", *TINY_LENS, "--checkpoint", str(read_only / "ck")]) == 2
    assert "--checkpoint" in _one_error_line(capsys)


@pytest.mark.skipif(as_root, reason="root ignores file permissions")
def test_unwritable_out_fails_fast_in_a_fresh_process(read_only: Path) -> None:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "symmetrykit", "discover", "--data",
                           "gaussian-translation", "--dim", "7", "--out", str(read_only / "run")],
                          capture_output=True, text=True, timeout=60, check=False)
    seconds = time.perf_counter() - started
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "does not accept new files" in done.stderr
    assert seconds < 5, f"took {seconds:.1f} s"


# ------------------------------------------------------------- one line per error (item 4)
@pytest.mark.parametrize(("error", "code", "start"), [
    (InvalidParameterError("SymmetryLens: n_steps must be an int >= 1, got 'x' (str)"), 2,
     "symmetrykit: error: SymmetryLens: n_steps"),
    (CostError("needs 3.0 TiB of memory,\nthe machine has 16 GiB"), 2,
     "symmetrykit: error: needs 3.0 TiB of memory, the machine has"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "x.npz"), 2,
     "symmetrykit: error: [Errno 2]"),
    (PermissionError(errno.EACCES, "Permission denied", "out/figures"), 1,
     "symmetrykit: error: [Errno 13]"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "f/run"), 1,
     "symmetrykit: error: [Errno 20]"),
    (OSError(errno.ENOSPC, "No space left on device"), 1, "symmetrykit: error: [Errno 28]"),
    (FloatingPointError("the loss diverged at step 12; lower the learning rate"), 1,
     "symmetrykit: error: the loss diverged at step 12"),
    (MemoryError(), 1, "symmetrykit: error: MemoryError"),
    (KeyError("generator"), 1, "symmetrykit: internal error: KeyError: 'generator' (set "
     "SYMMETRYKIT_DEBUG=1 for the traceback)"),
])
def test_errors_are_one_line_with_the_right_exit_status(error, code, start, capsys, monkeypatch,
                                                        tmp_path: Path) -> None:
    from symmetrykit.cli import _data

    def fail(args):
        raise error

    monkeypatch.delenv("SYMMETRYKIT_DEBUG", raising=False)
    monkeypatch.setattr(_data, "dataset_from_args", fail)
    assert main(["data", "make", "gaussian-translation", "--out", str(tmp_path / "d.npz")]) \
        == code
    assert _one_error_line(capsys).startswith(start)


def test_debug_mode_raises_with_the_traceback(monkeypatch, tmp_path: Path) -> None:
    from symmetrykit.cli import _data

    def fail(args):
        raise KeyError("generator")

    monkeypatch.setenv("SYMMETRYKIT_DEBUG", "1")
    monkeypatch.setattr(_data, "dataset_from_args", fail)
    with pytest.raises(KeyError, match="generator"):
        main(["data", "make", "gaussian-translation", "--out", str(tmp_path / "d.npz")])


def test_warnings_are_one_line_too(monkeypatch, capsys, tmp_path: Path) -> None:
    import warnings

    from symmetrykit.cli import _data

    def warn_then_fail(args):
        warnings.warn("the data are constant:\nthe result means nothing", UserWarning,
                      stacklevel=1)
        raise ValueError("stop here")

    monkeypatch.setattr(_data, "dataset_from_args", warn_then_fail)
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # shown, as outside the test run, not raised
        assert main(["data", "make", "gaussian-translation", "--out",
                     str(tmp_path / "d.npz")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["symmetrykit: warning: the data are constant: the result means nothing "
                     "(UserWarning)", "symmetrykit: error: stop here"]


def test_output_location_check_probes_without_leaving_anything(tmp_path: Path) -> None:
    check_output_location(tmp_path / "new" / "deeper" / "run")
    check_output_location(tmp_path, write_inside=True)
    check_output_location(tmp_path / "file.npz", kind="file")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------- sweeps (items 1, 2)
def _sweep(name: str, seeds: list[int]) -> dict:
    return {"name": name, "method": "symmetrylens", "seeds": seeds,
            "data": [{"name": "gaussian-translation", "dim": 5, "n_samples": 100}],
            "fixed": {"n_steps": 2}}


def _no_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sweep stops where it would start its Dask cluster: like a sweep killed there.
    from symmetrykit.sweeps import _runner

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_runner, "_connect", stop)


def test_a_second_sweep_of_another_configuration_is_refused(tmp_path: Path, monkeypatch,
                                                            capsys) -> None:
    out = tmp_path / "sweep"
    _no_cluster(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        sweeps.run_sweep(_sweep("a", [0]), out, progress="none")
    first = (out / "sweep.json").read_bytes()
    for resume in (False, True):
        with pytest.raises(ValueError, match="different configuration"):
            sweeps.run_sweep(_sweep("b", [1]), out, progress="none", resume=resume)
    with pytest.raises(FileExistsError, match="--resume"):  # the same one: resume it
        sweeps.run_sweep(_sweep("a", [0]), out, progress="none")
    config = tmp_path / "b.toml"
    config.write_text('name = "b"\nmethod = "symmetrylens"\nseeds = [1]\n[[data]]\n'
                      'name = "gaussian-translation"\ndim = 5\nn_samples = 100\n')
    assert main(["sweep", str(config), "--out", str(out), "--progress", "none"]) == 2
    assert "different configuration" in _one_error_line(capsys)
    assert (out / "sweep.json").read_bytes() == first
    assert json.loads(first)["config"]["name"] == "a"
    assert (out / "results.jsonl").read_bytes() == b""


def test_a_fake_lock_of_a_live_process_keeps_a_second_sweep_out(tmp_path: Path,
                                                               monkeypatch) -> None:
    from symmetrykit.sweeps._store import LOCK_FILE

    out = tmp_path / "sweep"
    out.mkdir()
    (out / LOCK_FILE).write_text(f"{socket.gethostname()} {os.getppid()}")
    _no_cluster(monkeypatch)
    with pytest.raises(ValueError, match="in use by another sweep"):
        sweeps.run_sweep(_sweep("b", [1]), out, progress="none")
    assert not (out / "sweep.json").exists()


_HOLD_THE_LOCK = """
import sys, time
from symmetrykit.sweeps._store import ResultStore
with ResultStore(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_live_sweep_holding_the_lock_keeps_a_second_sweep_out(tmp_path: Path,
                                                              monkeypatch) -> None:
    out = tmp_path / "sweep"
    out.mkdir()
    _no_cluster(monkeypatch)
    with subprocess.Popen([sys.executable, "-c", _HOLD_THE_LOCK, str(out)],
                          stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout.readline().strip() == "locked"
            # Both found the directory empty: only the lock holder may record its config.
            with pytest.raises(ValueError, match="in use by another sweep"):
                sweeps.run_sweep(_sweep("b", [1]), out, progress="none")
            assert not (out / "sweep.json").exists()
        finally:
            process.send_signal(signal.SIGKILL)


def test_a_sweep_into_a_fresh_directory_records_its_config_under_the_lock(
        tmp_path: Path, monkeypatch) -> None:
    from symmetrykit.sweeps import _runner
    from symmetrykit.sweeps._store import LOCK_FILE

    out = tmp_path / "sweep"
    seen = []
    write = _runner._write_sweep_file

    def spy(directory, config, plan):
        seen.append((directory / LOCK_FILE).read_text().split()[1])
        write(directory, config, plan)

    monkeypatch.setattr(_runner, "_write_sweep_file", spy)
    _no_cluster(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        sweeps.run_sweep(_sweep("a", [0]), out, progress="none")
    assert seen == [str(os.getpid())]
    assert not (out / LOCK_FILE).exists()  # released on the way out


# ------------------------------------------------------------------ --lr of lens discover
def test_lr_sets_the_rate_that_the_fit_uses() -> None:
    # End to end (the saved parameter, a resume with the same command, a refusal with another
    # --lr): tests/test_cli.py::test_discover_with_a_checkpoint_resumes_and_refuses_another_fit.
    from symmetrykit._methods import get_method
    from symmetrykit.cli import _lens, parse_args

    method = get_method("lens")
    warm = parse_args(["discover", "--data", "x", "--lr", "0.05"])
    explicit = parse_args(["discover", "--data", "x", "--lr", "0.05", "--init", "warm"])
    cold = parse_args(["discover", "--data", "x", "--lr", "0.05", "--init", "random"])
    assert _lens._learning_rate(warm, method) == {"warm_model_lr": 0.05}
    assert _lens._learning_rate(explicit, method) == {"warm_model_lr": 0.05}
    assert _lens._learning_rate(cold, method) == {"model_lr": 0.05}
    assert _lens._learning_rate(parse_args(["discover", "--data", "x"]), method) == {}
