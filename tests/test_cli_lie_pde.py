"""``symmetrykit lie discover --method pde``: PDE trajectories, run directories, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symmetrykit import datasets
from symmetrykit.cli import main

FAST = ["--n-trajectories", "4"]


@pytest.fixture(scope="module")
def heat_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = datasets.pde("heat", n_trajectories=4, random_state=0)
    path = tmp_path_factory.mktemp("data") / "heat-data.npz"
    np.savez(path, u=data.u, x=data.x, t=data.t)
    return path


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("symmetrykit: error:"), err
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.slow
def test_kdv_finds_four_and_writes_the_run_directory(tmp_path: Path, capsys,
                                                     monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["lie", "discover", "--data", "kdv", "--method", "pde", *FAST]) == 0
    out = tmp_path / "runs" / "lie-discover-kdv"  # the default name of lie discover runs
    printed = capsys.readouterr().out
    assert f"wrote {Path('runs') / 'lie-discover-kdv'}" in printed
    assert "4 symmetries of 30 candidates" in printed
    assert "Grassmann distance to the 4 true symmetries the library expresses" in printed

    config = json.loads((out / "config.json").read_text())["config"]
    assert config["method"] == "pde" and config["data"] == "kdv"
    assert config["degree"] == 2 and config["n_trajectories"] == 4 and config["noise"] == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["nullity"] == 4
    assert metrics["distance_to_truth"] < 1e-3
    assert metrics["truth_excluded"] == []
    assert metrics["truth_compared"] == ["x-translation", "t-translation", "galilean", "scaling"]

    with np.load(out / "arrays.npz", allow_pickle=False) as arrays:
        assert arrays["singular_values"].shape == (30,)
        assert arrays["coefficients"].shape == (4, 3, 10)
        names = arrays["library_functions"]
        assert names.dtype.kind == "U" and list(names) == metrics["library_functions"]
    for figure in ("spectrum", "generators"):
        assert (out / "figures" / f"{figure}.png").stat().st_size > 1000


@pytest.mark.slow
def test_npz_input(heat_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["lie", "discover", "--data", str(heat_file), "--method", "pde",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "8 symmetries" in printed and "u_t = 0.01 u_xx" in printed
    assert "Grassmann" not in printed  # a file carries no true symmetries
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["nullity"] == 8 and "distance_to_truth" not in metrics
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["data"] == str(heat_file) and "n_trajectories" not in config
    assert {p.name for p in (out / "figures").iterdir()} == {"spectrum.png", "generators.png"}


@pytest.mark.slow
def test_auto_method_on_a_pde_and_truths_the_library_cannot_express(tmp_path: Path,
                                                                   capsys) -> None:
    # --method auto is pde for a built-in PDE name; heat's projective symmetry needs x² u.
    out = tmp_path / "run"
    assert main(["lie", "discover", "--data", "heat", *FAST, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Grassmann distance to the 8 true symmetries the library expresses" in printed
    assert "(left out of the distance): projective-heat" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["truth_excluded"] == ["projective-heat"]
    assert len(metrics["truth_compared"]) == 8 and metrics["distance_to_truth"] < 1e-3
    assert metrics["truth_library_residuals"]["projective-heat"] > 1e-2


@pytest.mark.slow
def test_library_option_makes_truths_expressible(tmp_path: Path, capsys) -> None:
    # --n-symmetries and --library reach the library; nKdV's fields need exp(±t/50).
    out = tmp_path / "run"
    assert main(["lie", "discover", "--data", "nkdv", "--method", "pde", *FAST, "--library",
                 "exp(t/50)", "--library", "exp(-t/50)", "--n-symmetries", "2",
                 "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["nullity"] == 2 and metrics["truth_excluded"] == []
    assert metrics["truth_library_residuals"]["galilean-nkdv"] < 1e-6
    assert metrics["library_functions"][-2:] == ["exp(t/50)", "exp(-t/50)"]
    assert "exp(t/50), exp(-t/50)" in capsys.readouterr().out


@pytest.mark.slow
def test_coefficient_functions_find_the_whole_nkdv_algebra(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["lie", "discover", "--data", "nkdv", "--method", "pde", *FAST, "--library",
                 "exp(t/50)", "--library", "exp(-t/50)", "--coefficient-function", "1",
                 "--coefficient-function", "exp(t/50)", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["nullity"] == 4 and metrics["distance_to_truth"] < 1e-3
    assert "exp(-t/50) ∂t" in metrics["formulas"]
    bad = tmp_path / "bad"
    assert main(["lie", "discover", "--data", "nkdv", "--method", "pde", "--out", str(bad),
                 "--coefficient-function", "x**2"]) == 2
    assert "at most linear in x" in _one_error_line(capsys)
    assert not bad.exists()


def test_noise_is_seeded_and_relative(tmp_path: Path, monkeypatch) -> None:
    from symmetrykit import liederiv

    seen = []

    def stop(u, x, t, **options):  # the data that discovery would get; no discovery
        seen.append((u, options))
        raise ValueError("stopped")

    monkeypatch.setattr(liederiv, "discover_pde", stop)
    for noise in ("0.05", "0.05", "0"):
        assert main(["lie", "discover", "--data", "burgers", "--method", "pde", *FAST,
                     "--noise", noise, "--seed", "3", "--out", str(tmp_path / "r")]) == 2
    (first, options), (second, _), (clean, _) = seen
    np.testing.assert_array_equal(first, second)
    assert np.std(first - clean) == pytest.approx(0.05 * np.std(clean), rel=0.02)
    assert options == {"degree": 2, "library": (), "n_symmetries": None, "random_state": 3}
    assert not (tmp_path / "r").exists()


def test_refuses_an_occupied_run_directory_before_any_work(tmp_path: Path, capsys,
                                                           monkeypatch) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    monkeypatch.setattr(datasets, "pde", lambda *a, **k: pytest.fail("data were generated"))
    assert main(["lie", "discover", "--data", "kdv", "--method", "pde", "--out", str(out)]) == 2
    assert "already exists" in _one_error_line(capsys)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def _write(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "wave", "--method", "pde"], "unknown PDE 'wave'; --method pde needs PDE "
         "trajectories: one of kdv, ks, burgers, nkdv, ckdv, heat"),
        (["--data", "gaussian-translation", "--method", "pde"],
         "'gaussian-translation' is a vector data set"),
        (["--data", "kdv", "--method", "density"], "--data kdv is a PDE data set"),
        (["--data", "{dir}/no-t.npz", "--method", "pde"], "no-t.npz: no array 't'"),
        (["--data", "{dir}/flat-u.npz", "--method", "pde"],
         "flat-u.npz: array 'u' must have shape (n_trajectories, nt, nx)"),
        (["--data", "{dir}/short-x.npz", "--method", "pde"],
         "short-x.npz: array 'x' must have shape (32,)"),
        (["--data", "{dir}/nan.npz", "--method", "pde"], "u contains 1 NaN/inf values"),
        (["--data", "{dir}/missing.npz", "--method", "pde"], "no such file"),
        (["--data", "{dir}/x.npy", "--method", "pde"], "--method pde reads an .npz file"),
        (["--data", "{dir}/nan.npz", "--method", "pde", "--noise", "0.1"],
         "--noise applies to built-in PDEs, not to files"),
        (["--data", "kdv", "--method", "pde", "--rtol", "1e-6"], "--rtol does not apply"),
        (["--data", "kdv", "--method", "pde", "--algebra", "gl(2)"],
         "--algebra does not apply to --method pde"),
        (["--data", "kdv", "--method", "pde", "--n-samples", "9"], "use --n-trajectories"),
        (["--data", "kdv", "--method", "pde", "--n-trajectories", "0"],
         "--n-trajectories must be a positive integer"),
        (["--data", "kdv", "--method", "pde", "--noise", "-1"],
         "--noise must be a non-negative fraction"),
        (["--data", "gaussian-translation", "--library", "t"],
         "--library applies to --method pde only"),
        (["--data", "kdv", "--method", "pde", *FAST, "--library", "t +"],
         "library function 't +' cannot be read"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, capsys, argv, message) -> None:
    u = np.sin(np.linspace(0, 6, 3 * 20 * 32)).reshape(3, 20, 32)
    x, t = np.linspace(0, 1, 32, endpoint=False), np.linspace(0, 1, 20)
    _write(tmp_path / "no-t.npz", u=u, x=x)
    _write(tmp_path / "flat-u.npz", u=u.ravel(), x=x, t=t)
    _write(tmp_path / "short-x.npz", u=u, x=x[:-1], t=t)
    bad = u.copy()
    bad[1, 2, 3] = np.nan
    _write(tmp_path / "nan.npz", u=bad, x=x, t=t)
    np.save(tmp_path / "x.npy", u[0])
    argv = [a.replace("{dir}", str(tmp_path)) for a in argv]
    out = tmp_path / "r"
    assert main(["lie", "discover", *argv, "--out", str(out)]) == 2
    assert message in _one_error_line(capsys)
    assert not out.exists()


def test_help_names_every_pde(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["lie", "discover", "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "{auto,model,density,tangent,pde}" in text
    for flag in ("--library FUNC", "--n-trajectories", "--noise FRACTION"):
        assert flag in text
    assert f"a PDE ({', '.join(datasets.PDE_NAMES)})" in text


def test_a_misspelt_pde_gets_a_suggestion(capsys):
    assert main(["lie", "discover", "--method", "pde", "--data", "kvd"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown PDE 'kvd' (did you mean 'kdv'?);" in err and len(err.splitlines()) == 1
