"""Tests for symmetrykit.runs: run directories, atomic writes and strict JSON."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from symmetrykit import runs
from symmetrykit.runs import (
    RunDirectory,
    atomic_write_bytes,
    atomic_write_text,
    to_jsonable,
    versions,
)


@pytest.fixture(autouse=True)
def _outside_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # versions() asks git about the working directory; keep that away from the real checkout.
    monkeypatch.chdir(tmp_path)


def _strict_loads(text: str):
    def reject(name: str):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=reject)


def _tmp_leftovers(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name.endswith(".tmp")]


class _FakeTensor:
    """Just enough of the torch.Tensor interface to exercise the duck typing."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array

    def detach(self) -> _FakeTensor:
        return self

    def cpu(self) -> _FakeTensor:
        return self

    def numpy(self) -> np.ndarray:
        return self._array


# ------------------------------------------------------------------------------------------
# round trips
# ------------------------------------------------------------------------------------------


def test_config_round_trip_and_provenance(tmp_path: Path) -> None:
    config = {"lr": 1e-3, "seed": 7, "dims": (3, 4), "name": "run", "path": Path("a/b")}
    run = RunDirectory.create(tmp_path / "run", config)
    assert run.path == tmp_path / "run"
    assert run.config() == {"lr": 1e-3, "seed": 7, "dims": [3, 4], "name": "run", "path": "a/b"}

    raw = _strict_loads((run.path / "config.json").read_text())
    assert set(raw) >= {"config", "created", "versions", "platform"}
    assert raw["created"].endswith("+00:00")  # timezone-aware UTC
    assert raw["versions"]["numpy"] == np.__version__
    assert raw == run.info()

    reopened = RunDirectory.open(run.path)
    assert reopened.config() == run.config()


def test_create_makes_parents_and_accepts_empty_existing_dir(tmp_path: Path) -> None:
    RunDirectory.create(tmp_path / "a" / "b" / "c", {})
    (tmp_path / "empty").mkdir()
    run = RunDirectory.create(tmp_path / "empty", {"x": 1})
    assert run.config() == {"x": 1}


def test_arrays_round_trip(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path / "run", {})
    rng = np.random.default_rng(0)
    arrays = {
        "generator": rng.normal(size=(4, 4)),
        "labels": np.arange(5, dtype=np.int32),
        "mask": np.array([True, False]),
        "scalar": np.float32(2.5),
        "complex": np.array([1 + 2j]),
        "file": np.zeros(2),  # a name np.savez could not take as a keyword
        "tensor": _FakeTensor(np.ones((2, 3))),
    }
    run.save_arrays(**arrays)
    loaded = RunDirectory.open(run.path).load_arrays()
    assert set(loaded) == set(arrays)
    np.testing.assert_array_equal(loaded["generator"], arrays["generator"])
    assert loaded["labels"].dtype == np.int32
    assert loaded["mask"].dtype == np.bool_
    assert loaded["scalar"].shape == ()
    np.testing.assert_array_equal(loaded["tensor"], np.ones((2, 3)))

    # The file is a standard npz that loads without pickle.
    with np.load(run.path / "arrays.npz", allow_pickle=False) as data:
        assert sorted(data.files) == sorted(arrays)


def test_save_arrays_replaces_previous_set(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path / "run", {})
    run.save_arrays(a=np.zeros(3))
    run.save_arrays(b=np.ones(2))
    assert list(run.load_arrays()) == ["b"]


@pytest.mark.parametrize(
    "value",
    [
        np.array([{"a": 1}, None], dtype=object),
        np.array(["a", "b"]),
        np.zeros(2, dtype=[("x", float), ("y", int)]),
    ],
    ids=["object", "string", "structured"],
)
def test_non_numeric_arrays_rejected(tmp_path: Path, value: np.ndarray) -> None:
    run = RunDirectory.create(tmp_path / "run", {})
    run.save_arrays(kept=np.arange(3))
    before = (run.path / "arrays.npz").read_bytes()
    with pytest.raises(ValueError, match="bad"):
        run.save_arrays(bad=value)
    assert (run.path / "arrays.npz").read_bytes() == before
    assert _tmp_leftovers(run.path) == []


def test_bad_array_name_rejected(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path / "run", {})
    with pytest.raises(ValueError, match="invalid array name"):
        run.save_arrays(**{"../evil": np.zeros(1)})


def test_load_arrays_refuses_pickled_npz(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path / "run", {})
    # A hostile or foreign file with an object array must not be unpickled on load.
    with open(run.path / "arrays.npz", "wb") as handle:
        np.savez(handle, bad=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        run.load_arrays()


def test_metrics_round_trip_strict_json(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path / "run", {})
    metrics = {
        "loss": np.float64(0.25),
        "steps": np.int64(100),
        "converged": np.bool_(True),
        "nan": float("nan"),
        "inf": np.float32(np.inf),
        "curve": np.array([1.0, np.nan, -np.inf, 2.0]),
        "nested": {"cos": [np.float32(0.5), (1, 2)], 3: "int key"},
    }
    run.save_metrics(metrics)
    text = (run.path / "metrics.json").read_text()
    parsed = _strict_loads(text)  # raises on NaN/Infinity literals
    assert parsed == run.load_metrics()
    assert parsed["loss"] == 0.25
    assert parsed["steps"] == 100 and isinstance(parsed["steps"], int)
    assert parsed["converged"] is True
    assert parsed["nan"] is None
    assert parsed["inf"] is None
    assert parsed["curve"] == [1.0, None, None, 2.0]
    assert parsed["nested"] == {"cos": [0.5, [1, 2]], "3": "int key"}


def test_to_jsonable_edge_cases() -> None:
    assert to_jsonable({"a": (np.int8(1), {np.float64(1.5)})}) == {"a": [1, [1.5]]}
    assert to_jsonable(np.array(3.0)) == 3.0
    assert to_jsonable(np.zeros((2, 2))) == [[0.0, 0.0], [0.0, 0.0]]
    assert to_jsonable(math.inf) is None
    assert to_jsonable(Path("x") / "y") == os.path.join("x", "y")
    assert to_jsonable(_FakeTensor(np.array([1.0, np.nan]))) == [1.0, None]
    with pytest.raises(TypeError, match="complex"):
        to_jsonable(1 + 2j)
    with pytest.raises(TypeError, match="object"):
        to_jsonable(object())


def test_figure_round_trip(tmp_path: Path) -> None:
    figure_module = pytest.importorskip("matplotlib.figure")
    fig = figure_module.Figure(figsize=(3, 2))
    fig.subplots().plot([0, 1, 2], [1, 0, 1])
    run = RunDirectory.create(tmp_path / "run", {})
    path = run.save_figure(fig, "curve")
    assert path == run.path / "figures" / "curve.png"
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert path.stat().st_size > 1000
    assert run.save_figure(fig, "curve.png") == path  # suffix is not doubled
    assert run.figures() == [path]
    assert _tmp_leftovers(run.path) == []
    with pytest.raises(ValueError, match="invalid figure name"):
        run.save_figure(fig, "sub/dir")


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path / "run", {})
    assert run.load_checkpoint() is None
    state = {"weights": np.arange(6.0).reshape(2, 3), "rng": np.array([1, 2], dtype=np.uint64)}
    run.save_checkpoint(state, {"step": 10, "loss": float("nan")})
    loaded = run.load_checkpoint()
    assert loaded is not None
    loaded_state, meta = loaded
    assert set(loaded_state) == set(state)
    np.testing.assert_array_equal(loaded_state["weights"], state["weights"])
    assert loaded_state["rng"].dtype == np.uint64
    assert meta == {"step": 10, "loss": None}
    assert _strict_loads((run.path / "checkpoint.json").read_text()) == meta

    run.save_checkpoint({"weights": np.zeros(1)}, {"step": 20})
    loaded_state, meta = run.load_checkpoint()
    assert meta["step"] == 20 and list(loaded_state) == ["weights"]

    with pytest.raises(ValueError, match="reserved"):
        run.save_checkpoint({"__meta__": np.zeros(1)}, {})


# ------------------------------------------------------------------------------------------
# never overwrite silently
# ------------------------------------------------------------------------------------------


def test_create_on_non_empty_directory_raises_and_keeps_files(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path / "run", {"first": True})
    run.save_arrays(a=np.arange(4))
    run.save_metrics({"m": 1})
    (run.path / "notes.txt").write_text("mine")
    snapshot = {p: p.read_bytes() for p in run.path.rglob("*") if p.is_file()}

    with pytest.raises(FileExistsError, match=str(run.path.name)):
        RunDirectory.create(run.path, {"second": True})
    assert {p: p.read_bytes() for p in run.path.rglob("*") if p.is_file()} == snapshot

    # A directory holding only the user's own files is protected too.
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.csv").write_text("1,2")
    with pytest.raises(FileExistsError):
        RunDirectory.create(other, {})
    assert not (other / "config.json").exists()


def test_create_on_a_file_raises(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="not a directory"):
        RunDirectory.create(tmp_path / "file", {}, overwrite=True)


def test_overwrite_replaces_only_known_files(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    run = RunDirectory.create(tmp_path / "run", {"first": True})
    run.save_arrays(a=np.arange(4))
    run.save_metrics({"m": 1})
    run.save_checkpoint({"w": np.zeros(2)}, {"step": 1})
    run.save_figure(Figure(figsize=(1, 1)), "fig")
    (run.path / "notes.txt").write_text("mine")
    (run.path / "figures" / "drawing.svg").write_text("<svg/>")

    new = RunDirectory.create(run.path, {"second": True}, overwrite=True)
    assert new.config() == {"second": True}
    assert sorted(p.name for p in new.path.iterdir()) == ["config.json", "figures", "notes.txt"]
    assert (new.path / "notes.txt").read_text() == "mine"
    assert [p.name for p in (new.path / "figures").iterdir()] == ["drawing.svg"]
    assert new.load_checkpoint() is None


def test_open_requires_config(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing-dir"):
        RunDirectory.open(tmp_path / "missing-dir")
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValueError, match="plain"):
        RunDirectory.open(tmp_path / "plain")
    (tmp_path / "plain" / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="plain"):
        RunDirectory.open(tmp_path / "plain")


# ------------------------------------------------------------------------------------------
# atomicity
# ------------------------------------------------------------------------------------------


def test_atomic_write_helpers(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    atomic_write_text(target, "héllo")
    assert target.read_text(encoding="utf-8") == "héllo"
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _tmp_leftovers(tmp_path) == []


def test_atomic_write_result_has_normal_permissions(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions only")
    target = tmp_path / "f.txt"
    atomic_write_text(target, "x")
    (tmp_path / "reference.txt").write_text("x")
    assert target.stat().st_mode == (tmp_path / "reference.txt").stat().st_mode


def test_failed_replace_keeps_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = RunDirectory.create(tmp_path / "run", {})
    run.save_metrics({"version": 1})
    run.save_arrays(a=np.arange(3))
    metrics_before = (run.path / "metrics.json").read_bytes()
    arrays_before = (run.path / "arrays.npz").read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(runs.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        run.save_metrics({"version": 2})
    with pytest.raises(OSError, match="disk on fire"):
        run.save_arrays(a=np.arange(100))
    monkeypatch.undo()

    assert (run.path / "metrics.json").read_bytes() == metrics_before
    assert (run.path / "arrays.npz").read_bytes() == arrays_before
    assert _tmp_leftovers(run.path) == []


def test_writer_failing_midway_keeps_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = RunDirectory.create(tmp_path / "run", {})
    run.save_arrays(a=np.arange(3))
    before = (run.path / "arrays.npz").read_bytes()

    class Boom(RuntimeError):
        pass

    def half_write(handle, arrays):
        handle.write(b"PK\x03\x04 partial")
        raise Boom

    monkeypatch.setattr(runs, "_write_npz", half_write)
    with pytest.raises(Boom):
        run.save_arrays(a=np.arange(4.0))
    monkeypatch.undo()
    assert (run.path / "arrays.npz").read_bytes() == before
    assert _tmp_leftovers(run.path) == []


def test_failing_savefig_keeps_old_figure(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path / "run", {})

    class GoodFigure:
        def savefig(self, handle, **kwargs):
            handle.write(b"old image")

    class BadFigure:
        def savefig(self, handle, **kwargs):
            handle.write(b"half an ima")
            raise RuntimeError("renderer crashed")

    path = run.save_figure(GoodFigure(), "plot")
    with pytest.raises(RuntimeError, match="renderer crashed"):
        run.save_figure(BadFigure(), "plot")
    assert path.read_bytes() == b"old image"
    assert _tmp_leftovers(run.path) == []
    # The same writer serves figures outside run directories (sweep reports): it creates the
    # folder, and a failed figure leaves nothing behind.
    other = runs.atomic_write_figure(GoodFigure(), tmp_path / "report" / "figures" / "a.png")
    assert other.read_bytes() == b"old image"
    with pytest.raises(RuntimeError, match="renderer crashed"):
        runs.atomic_write_figure(BadFigure(), other.parent / "b.png")
    assert sorted(p.name for p in other.parent.iterdir()) == ["a.png"]


def test_failed_config_conversion_leaves_no_run(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        RunDirectory.create(tmp_path / "run", {"bad": object()})
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------------------------------
# versions
# ------------------------------------------------------------------------------------------


def test_versions_contents(tmp_path: Path) -> None:
    info = versions()
    for key in ("python", "numpy", "scipy", "symmetrykit", "platform", "git_commit"):
        assert key in info
    assert info["numpy"] == np.__version__
    assert info["symmetrykit"]  # a version string or "unknown"
    # tmp_path is not inside a repository (autouse fixture chdir'ed there).
    assert info["git_commit"] is None or len(info["git_commit"]) >= 40
    json.dumps(info, allow_nan=False)


def test_versions_without_git(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(runs.subprocess, "run", no_git)
    assert versions()["git_commit"] is None
