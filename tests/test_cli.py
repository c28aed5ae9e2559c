"""The ``symmetrykit`` command line: data list/make/show, lens discover (alias ``discover``),
compare, the grammar and its aliases, and the imports that ``--help`` must not make."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

import symmetrykit as sk
from symmetrykit.cli import main
from symmetrykit.lens import SymmetryLens

# Tiny fits: the point is the plumbing, not the quality of the result.
FAST = ["--n-samples", "2000", "--steps", "20", "--warmup-steps", "2", "--batch-size", "70",
        "--progress", "none"]
FIGURES = {"generator", "group_convolution", "error_histogram", "loss_curves", "before_after"}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Relative default paths land in tmp_path, and the git lookup of run directories stays
    # away from the real checkout.
    monkeypatch.chdir(tmp_path)


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


def _figures(run: Path) -> set[str]:
    return {p.stem for p in (run / "figures").glob("*.png")}


@pytest.fixture(scope="module")
def discover_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One discover run on a built-in data set, shared by the tests that inspect it."""
    base = tmp_path_factory.mktemp("discover")
    out = base / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            rc = main(["lens", "discover", "--data", "gaussian-circulant", *FAST,
                       "--out", str(out)])
    assert rc == 0
    return out, buffer.getvalue()


# ----------------------------------------------------------------------------------- data
def test_version_via_python_m():
    result = subprocess.run([sys.executable, "-m", "symmetrykit", "--version"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"symmetrykit {sk.__version__}"
    result = subprocess.run([sys.executable, "-m", "symmetrykit.cli", "--version"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.stdout.strip() == f"symmetrykit {sk.__version__}"


def test_data_list_prints_every_name(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for info in sk.datasets.list_datasets():
        assert info.name in out
    assert main(["data", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in rows] == [i.name for i in sk.datasets.list_datasets()]


def test_data_make_writes_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "d.npz"
    args = ["data", "make", "gaussian-circulant", "--n-samples", "100", "--out", str(out)]
    assert main(args) == 0
    ds = sk.datasets.load(out)
    assert ds.X.shape == (100, 7)
    assert ds.generator is not None
    before = out.read_bytes()

    assert main([*args[:-2], "--seed", "1", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main([*args[:-2], "--seed", "1", "--out", str(out), "--overwrite"]) == 0
    assert out.read_bytes() != before


def test_data_show_writes_a_png_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "show.png"
    args = ["data", "show", "gaussian-translation", "--n-samples", "50", "--dim", "9",
            "--out", str(out)]
    assert main(args) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = out.read_bytes()
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == before


def test_data_rejects_dim_for_files(tmp_path, capsys):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((10, 3)))
    assert main(["data", "show", str(path), "--dim", "5"]) == 2
    assert "--dim" in capsys.readouterr().err


# ------------------------------------------------------------------------------- discover
@pytest.mark.slow
def test_discover_writes_a_complete_run(discover_run):
    out, printed = discover_run
    for name in ("config.json", "arrays.npz", "metrics.json"):
        assert (out / name).is_file(), name
    assert FIGURES <= _figures(out)

    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("cos", "cos2", "phi_cos", "filter_argmax", "fit_time.wall_s", "fit_time.cpu_s",
                "ground_truth_similarity.self"):
        assert key in metrics, key
    assert metrics["steps"] == 20
    assert metrics["dataset.name"] == "gaussian-circulant"
    assert metrics["dataset.params.n_samples"] == 2000
    assert -1.0 <= metrics["cos"] <= 1.0
    assert metrics["ground_truth_similarity.self"] == pytest.approx(1.0)
    assert metrics["starts"][0] == "rotation"  # sparse circulant bumps
    assert 0 <= metrics["kept_run"] < len(metrics["starts"])

    lens = SymmetryLens.load(out)
    assert lens.n_steps == 20 and lens.batch_size == 70 and lens.random_state == 0
    # The monitor's values are in the history, logged with the loss terms.
    assert len(lens.history_["cos"]) == len(lens.history_["loss"])

    assert str(out) in printed
    assert "cos" in printed and "phi_cos" in printed and "wall" in printed
    assert "rotation start: loss" in printed and "(kept)" in printed
    # The first line says what is about to happen and what it costs.
    assert printed.splitlines()[0].startswith(
        "discover: SymmetryLens on gaussian-circulant (2000 × 7), seed 0, up to 20 steps")


@pytest.mark.slow
def test_discover_refuses_an_existing_run_before_fitting(discover_run, capsys, monkeypatch):
    out, _ = discover_run
    before = _snapshot(out)

    def no_fit(*args, **kwargs):
        raise AssertionError("fit must not start when the run directory is taken")

    monkeypatch.setattr(SymmetryLens, "fit", no_fit)
    rc = main(["discover", "--data", "gaussian-circulant", *FAST, "--out", str(out)])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("symmetrykit: error:") and "--overwrite" in err
    assert _snapshot(out) == before


def test_discover_default_directory_name(tmp_path, capsys, monkeypatch):
    taken = tmp_path / "runs" / "discover-gaussian-circulant-seed3"
    taken.mkdir(parents=True)
    (taken / "x").write_text("")
    monkeypatch.setattr(SymmetryLens, "fit", pytest.fail)
    assert main(["discover", "--data", "gaussian_circulant", "--seed", "3"]) == 2
    assert str(Path("runs") / "discover-gaussian-circulant-seed3") in capsys.readouterr().err


@pytest.mark.slow
def test_discover_on_a_saved_npz_keeps_the_ground_truth(tmp_path, capsys):
    data = tmp_path / "data.npz"
    assert main(["data", "make", "gaussian-permuted", "--dim", "9", "--n-samples", "500",
                 "--out", str(data)]) == 0
    out = tmp_path / "run"
    rc = main(["discover", "--data", str(data), "--steps", "20", "--warmup-steps", "2",
               "--batch-size", "70", "--progress", "text", "--out", str(out)])
    assert rc == 0
    captured = capsys.readouterr()
    assert "SymmetryLens" in captured.err and "cos=" in captured.err  # text progress, live cos
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset.name"] == "gaussian-permuted"
    assert metrics["dataset.source"] == str(data)
    assert "cos" in metrics and "phi_cos" in metrics
    assert FIGURES <= _figures(out)


@pytest.mark.slow
def test_discover_on_an_npy_without_ground_truth_with_overwrite(tmp_path, capsys):
    data = tmp_path / "plain.npy"
    assert main(["data", "make", "gaussian-circulant", "--n-samples", "500",
                 "--out", str(data)]) == 0
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.json").write_text('{"cos": 2}')
    (out / "notes.txt").write_text("mine")
    args = ["discover", "--data", str(data), "--steps", "20", "--warmup-steps", "2",
            "--batch-size", "70", "--progress", "none", "--out", str(out)]
    assert main(args) == 2
    assert (out / "metrics.json").read_text() == '{"cos": 2}'
    assert main([*args, "--overwrite"]) == 0
    assert (out / "notes.txt").read_text() == "mine"  # files a run does not write are kept
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset.ground_truth"] is False
    assert "cos" not in metrics and "phi_cos" not in metrics
    assert {"generator", "group_convolution", "loss_curves", "before_after"} <= _figures(out)
    assert "error_histogram" not in _figures(out)
    assert "no ground truth" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--data", "no-such-data"], "known data sets: gaussian-translation"),
        (["--data", "gaussian-circulant", "--dim", "8"], "odd"),
        (["--data", "missing.npy"], "no such file"),
        (["--data", "gaussian-circulant", "--steps", "0"], "--steps"),
        (["--data", "gaussian-circulant", "--device", "tpu"], "--device"),
    ],
)
def test_discover_errors_are_one_line(extra, message, capsys, monkeypatch):
    monkeypatch.setattr(SymmetryLens, "fit", pytest.fail)
    assert main(["discover", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symmetrykit: error:")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_discover_rejects_even_dimension_of_a_file(tmp_path, capsys):
    data = tmp_path / "even.csv"
    np.savetxt(data, np.random.default_rng(0).normal(size=(40, 4)), delimiter=",")
    assert main(["discover", "--data", str(data), "--out", str(tmp_path / "run")]) == 2
    assert "odd" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_discover_without_cuda(monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["discover", "--data", "gaussian-circulant", "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_discover_bad_progress_choice_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["discover", "--data", "gaussian-circulant", "--progress", "loud"])
    assert info.value.code == 2


@pytest.mark.slow
def test_discover_with_a_checkpoint_resumes_and_refuses_another_fit(tmp_path, capsys):
    checkpoint = tmp_path / "ckpt"
    base = ["discover", "--data", "gaussian-circulant", "--n-samples", "500", "--steps", "20",
            "--warmup-steps", "2", "--batch-size", "70", "--progress", "none", "--lr", "0.005",
            "--checkpoint", str(checkpoint)]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert (checkpoint / "checkpoint.npz").is_file()
    # --lr sets the rate the default warm start refines with (issue 19, item 9).
    from symmetrykit.runs import RunDirectory

    params = RunDirectory.open(tmp_path / "a").config()["params"]
    assert params["warm_model_lr"] == 0.005 and params["model_lr"] == 0.01
    # The same command resumes from the (finished) checkpoint: the same arrays come out.
    assert main([*base, "--out", str(tmp_path / "b")]) == 0
    # Read back through the public API, whatever the saving format's array names are.
    np.testing.assert_array_equal(SymmetryLens.load(tmp_path / "a").generator_,
                                  SymmetryLens.load(tmp_path / "b").generator_)
    capsys.readouterr()
    assert main([*base[:-2], "--checkpoint", str(checkpoint), "--steps", "21",
                 "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "different parameters (n_steps)" in err and len(err.strip().splitlines()) == 1
    other_lr = [*base[:-2], "--checkpoint", str(checkpoint), "--out", str(tmp_path / "d")]
    other_lr[other_lr.index("--lr") + 1] = "0.05"
    assert main(other_lr) == 2
    assert "different parameters (warm_model_lr)" in capsys.readouterr().err


# -------------------------------------------------------------------------------- compare
@pytest.mark.slow
def test_compare_writes_a_run_with_every_method_scored(tmp_path, capsys):
    out = tmp_path / "cmp"
    rc = main(["compare", "--data", "gaussian-circulant", "--n-samples", "500",
               "--methods", "symgan,liegan", "--budget", "1s", "--progress", "none",
               "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "SymmetryGAN-QR" in printed and "LieGAN" in printed
    results = json.loads((out / "metrics.json").read_text())["results"]
    assert [r["method"] for r in results] == ["symgan", "liegan"]
    assert all(-1 <= r["score"] <= 1 for r in results)
    assert _figures(out) == {"scores"}
    assert main(["compare", "--data", "gaussian-circulant", "--out", str(out)]) == 2  # taken


@pytest.mark.parametrize(("extra", "message"), [
    (["--methods", "lens,gan"], "unknown gan"),
    (["--budget", "soon"], "--budget"),
    (["--budget", "0s"], "--budget"),
])
def test_compare_errors_are_one_line(extra, message, capsys, tmp_path):
    assert main(["compare", "--data", "gaussian-circulant", "--out", str(tmp_path / "x"),
                 *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symmetrykit: error:") and message in err
    assert not (tmp_path / "x").exists()


# -------------------------------------------------------------------------------- grammar
@pytest.mark.parametrize(
    ("new", "alias"),
    [
        (["lens", "discover", "--data", "gaussian-translation", "--dim", "7"],
         ["discover", "--data", "gaussian-translation", "--dim", "7"]),
        (["flow", "discover", "--data", "kdv", "--seed", "2"],
         ["flow-discover", "--data", "kdv", "--seed", "2"]),
        (["sweep", "run", "s.toml", "--out", "x", "--workers", "1"],
         ["sweep", "s.toml", "--out", "x", "--workers", "1"]),
        (["sweep", "run", "--out", "x", "s.toml"], ["sweep", "--out", "x", "s.toml"]),
        (["sweep", "report", "x", "--no-figures"], ["sweep-report", "x", "--no-figures"]),
    ],
    ids=["discover", "flow-discover", "sweep-CONFIG", "sweep-option-first", "sweep-report"],
)
def test_each_alias_parses_to_the_same_command(new, alias):
    from symmetrykit.cli import parse_args

    assert vars(parse_args(alias)) == vars(parse_args(new))


@pytest.mark.parametrize(
    ("argv", "module", "verb"),
    [
        (["data", "list"], "_data", ("data_command", "list")),
        (["data", "show", "gaussian-translation"], "_data", ("data_command", "show")),
        (["data", "make", "gaussian-translation", "--out", "d.npz"], "_data",
         ("data_command", "make")),
        (["lens", "discover", "--data", "gaussian-translation"], "_lens",
         ("lens_command", "discover")),
        (["flow", "discover", "--data", "ks"], "_flow", ("flow_command", "discover")),
        (["lie", "discover", "--data", "x.npz"], "_lie", ("lie_command", "discover")),
        (["lie", "enforce", "--data", "x.npz"], "_lie", ("lie_command", "enforce")),
        (["lie", "promote", "--data", "x.npz"], "_lie", ("lie_command", "promote")),
        (["sweep", "run", "s.toml"], "_sweep", ("sweep_command", "run")),
        (["sweep", "report", "dir"], "_sweep", ("sweep_command", "report")),
        (["compare", "--data", "gaussian-circulant"], "_compare", ("command", "compare")),
    ],
)
def test_every_command_of_the_grammar_parses(argv, module, verb):
    from symmetrykit.cli import parse_args

    args = parse_args(argv)
    assert args.command == argv[0]
    assert getattr(args, verb[0]) == verb[1]
    assert args.handler.__module__ == f"symmetrykit.cli.{module}"


def test_run_options_are_shared():
    from symmetrykit.cli import parse_args

    # The same flags, with the same defaults, wherever a command writes a run directory.
    for argv in (["lens", "discover", "--data", "d"], ["flow", "discover", "--data", "kdv"],
                 ["compare", "--data", "d"]):
        args = parse_args(argv)
        assert (args.out, args.overwrite, args.seed, args.progress) == (None, False, 0, "auto")
    for argv in (["lens", "discover", "--data", "d"], ["flow", "discover", "--data", "kdv"]):
        assert parse_args(argv).device == "cpu"
    for verb in ("discover", "enforce", "promote"):
        args = parse_args(["lie", verb, "--data", "x.npz", "--out", "o", "--overwrite"])
        assert (args.out, args.overwrite, args.seed) == ("o", True, 0)


def test_help_shows_the_grammar_and_the_aliases(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for text in ("lens discover", "flow discover", "lie discover|enforce|promote",
                 "sweep run|report", "data list|show|make", "compare",
                 "symmetrykit discover ...", "flow-discover", "sweep CONFIG.toml",
                 "sweep-report"):
        assert text in out, text


@pytest.mark.parametrize("group", ["data", "lens", "flow", "lie", "sweep", "compare"])
def test_each_group_has_help(group, capsys):
    with pytest.raises(SystemExit) as info:
        main([group, "--help"])
    assert info.value.code == 0
    assert f"usage: symmetrykit {group}" in capsys.readouterr().out


def test_a_group_without_its_verb_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["sweep"])
    assert info.value.code == 2
    assert "VERB" in capsys.readouterr().err


# Runs in a fresh interpreter: each command line, then whether torch was imported by then.
_LAZY_SCRIPT = """
import contextlib, io, json, sys
from symmetrykit.cli import main
seen = []
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
    seen.append([" ".join(argv), sorted(m for m in ("torch", "sklearn", "matplotlib")
                                        if m in sys.modules)])
print(json.dumps(seen))
"""


def test_help_data_list_and_usage_errors_import_no_torch():
    commands = [
        ["--help"], ["data", "list"], ["data", "--help"], ["lens", "--help"], ["flow", "--help"],
        ["lie", "--help"], ["sweep", "--help"], ["compare", "--help"],
        ["lens", "discover", "--help"], ["flow", "discover", "--help"],
        ["discover", "--data", "gaussian-translation", "--no-such-option"],
        ["flow-discover", "--data", "wave"],
        ["lens", "discover", "--data", "gaussian-translation", "--steps", "many"],
        ["sweep", "report"],
    ]
    result = subprocess.run([sys.executable, "-c", _LAZY_SCRIPT, json.dumps(commands)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert [argv for argv, _ in seen] == [" ".join(c) for c in commands]
    assert all(modules == [] for _, modules in seen), seen


def test_console_help_imports_no_torch():
    code = ("import sys\nfrom symmetrykit.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\nprint('torch' in sys.modules, 'numpy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    # Top-level help builds every parser but loads neither torch nor numpy.
    assert result.stdout.strip().splitlines()[-1] == "False False"


@pytest.mark.slow
def test_discover_passes_the_selection_rule(tmp_path):
    out = tmp_path / "run"
    assert main(["discover", "--data", "gaussian-circulant", *FAST, "--selection", "loss",
                 "--out", str(out)]) == 0
    lens = sk.load(out)
    assert lens.selection == "loss" and len(lens.run_checks_) == len(lens.restart_losses_)
    assert lens.best_restart_ == int(np.argmin(lens.restart_losses_))
