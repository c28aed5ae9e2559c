"""The PDE data sets in the registry (kind "pde"): listing, make_dataset, the ``data`` commands,
the refusal by the vector commands, and "did you mean" for misspelt names."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symmetrykit import datasets
from symmetrykit.cli import main
from symmetrykit.cli._lie_pde import _read_file

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # default output paths of the commands land in tmp_path


def test_pde_sets_are_listed_last_with_their_kind():
    names = [info.name for info in datasets.list_datasets()]
    assert names[-len(datasets.PDE_NAMES):] == list(datasets.PDE_NAMES)
    assert [i.name for i in datasets.list_datasets(kind="pde")] == list(datasets.PDE_NAMES)
    assert not set(datasets.PDE_NAMES) & {i.name for i in datasets.list_datasets("vectors")}
    info = datasets.get_dataset_info("KdV")
    assert info.kind == "pde"
    assert info.defaults == {"n_trajectories": 32, "nx": 256, "nt": 140}
    assert info.ground_truth.startswith("u_t + u u_x + u_xxx = 0; point symmetries: ")
    assert "galilean" in info.ground_truth and "scaling" in info.ground_truth
    assert "(approximate)" in datasets.get_dataset_info("ckdv").ground_truth


def test_make_dataset_gives_the_pde_trajectories():
    data = datasets.make_dataset("heat", n_samples=2, nx=16, nt=5, random_state=0)
    assert isinstance(data, datasets.PDEDataset)
    assert data.u.shape == (2, 5, 16)
    direct = datasets.pde("heat", n_trajectories=2, nx=16, nt=5, random_state=0)
    np.testing.assert_array_equal(data.u, direct.u)
    assert [s.name for s in data.symmetries] == [s.name for s in direct.symmetries]
    assert datasets.make_dataset("burgers", n_trajectories=1, nx=16, nt=3).u.shape == (1, 3, 16)
    with pytest.raises(ValueError, match="set its size with nx= and nt=, not dim"):
        datasets.make_dataset("heat", dim=16)
    with pytest.raises(ValueError, match="n_samples or n_trajectories, not both"):
        datasets.make_dataset("heat", n_samples=2, n_trajectories=2)
    with pytest.raises(ValueError, match="takes the options n_trajectories, nx, nt and max_step, "
                                         "not noise"):
        datasets.make_dataset("heat", noise=0.1)


@pytest.mark.parametrize(("typo", "guess"), [("gausian-translation", "gaussian-translation"),
                                             ("kvd", "kdv"), ("Two_Bdy", "two-body")])
def test_unknown_names_get_a_suggestion(typo, guess):
    with pytest.raises(ValueError, match=rf"unknown data set '{typo}'; did you mean '{guess}'\? "
                                         "known data sets: gaussian-translation, "):
        datasets.get_dataset_info(typo)
    with pytest.raises(ValueError, match=r"unknown data set 'zzzz'; known data sets: "):
        datasets.make_dataset("zzzz")


def test_data_list_shows_the_pde_rows(capsys):
    assert main(["data", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split()[1:4] for line in lines[1:] if line.strip()}
    for name in datasets.PDE_NAMES:
        assert rows[name] == ["pde", "140×256", "32"]
    assert rows["two-body"] == ["pairs", "8", "15000"]
    assert main(["data", "list", "--json"]) == 0
    kinds = {row["name"]: row["kind"] for row in json.loads(capsys.readouterr().out)}
    assert all(kinds[name] == "pde" for name in datasets.PDE_NAMES)


@pytest.mark.slow
def test_data_show_draws_trajectories_and_symmetries(tmp_path, capsys):
    out = tmp_path / "ks.png"  # three symmetries: a quick figure
    assert main(["data", "show", "ks", "--n", "1", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert out.read_bytes().startswith(PNG)
    from symmetrykit import plot

    data = datasets.pde("heat", n_trajectories=2, nx=16, nt=4, random_state=0)
    fig = plot.pde_dataset(data, n=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert "trajectory 2: u(x, t)" in titles and "τ (moves t)" in titles
    texts = [t.get_text() for t in fig.texts]
    assert any(text.startswith("6. galilean-heat") for text in texts)
    assert fig.axes[0].get_xlabel().startswith("x (space units")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        plot.pde_dataset(data, n=0)


def test_data_make_writes_the_arrays_lie_discover_reads(tmp_path, capsys):
    out = tmp_path / "heat.npz"
    assert main(["data", "make", "heat", "--n-samples", "2", "--out", str(out)]) == 0
    assert "lie discover --method pde --data" in capsys.readouterr().out
    u, x, t = _read_file(str(out))  # the reader of 'lie discover --method pde --data FILE.npz'
    assert u.shape == (2, 140, 256) and x.shape == (256,) and t.shape == (140,)
    np.testing.assert_array_equal(u, datasets.pde("heat", n_trajectories=2, random_state=0).u)
    assert [p.name for p in tmp_path.iterdir()] == ["heat.npz"]  # nothing left aside
    assert main(["data", "make", "heat", "--n-samples", "2", "--out", str(out)]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["data", "make", "heat", "--out", "h.csv"], "heat is a PDE data set (arrays u, x, t), "
                                                 "saved as .npz only"),
    (["data", "make", "heat", "--dim", "9", "--out", "h.npz"], "--dim does not apply to the "
                                                               "PDE data set heat"),
    (["data", "show", "heat", "--noise", "0.1"], "--noise does not apply to the PDE data set"),
    (["data", "show", "heat", "--n", "0"], "--n must be a positive integer, got 0"),
    (["data", "make", "heat", "--n-samples", "0", "--out", "h.npz"], "--n-samples must be a "
                                                                      "positive number"),
    (["discover", "--data", "kdv"], "kdv is a PDE data set (trajectories u(x, t)), not vector "
                                    "samples, so this command cannot use it; use 'symmetrykit "
                                    "flow discover --data kdv' or 'symmetrykit lie discover "
                                    "--method pde --data kdv'"),
    (["compare", "--data", "kdv"], "flow discover --data kdv"),
    (["lie", "discover", "--method", "density", "--data", "kdv"], "--data kdv is a PDE data set; "
                                                                   "its symmetries are found by "
                                                                   "--method pde"),
    (["lie", "discover", "--method", "pde", "--data", "gaussian-ring"], "'gaussian-ring' is a "
                                                                         "vector data set"),
    (["data", "show", "kvd"], "did you mean 'kdv'?"),
])
def test_bad_requests_get_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1
    assert not list(Path.cwd().iterdir())  # refused before anything was written
