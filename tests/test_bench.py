"""The methods × tasks benchmark: cells, the recovery score, discovery as a sweep method, runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.linalg import expm

from symmetrykit import datasets
from symmetrykit.baselines import LieGAN, SymmetryGAN, score
from symmetrykit.cli import main
from symmetrykit.sweeps import BENCH_METHODS, BENCH_TASKS, bench_cells, bench_matrix, run_bench
from symmetrykit.sweeps._bench import _recovery
from symmetrykit.sweeps._discovery import LieDiscoveryRun, span_recovery

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.usefixtures("single_thread")


# ------------------------------------------------------------------------------------ cells
def test_the_matrix_has_at_least_four_methods_on_six_tasks_with_reasons_for_gaps():
    cells = bench_cells()
    assert len(BENCH_TASKS) >= 6 and len(BENCH_METHODS) >= 4
    assert len(cells) == len(BENCH_TASKS) * len(BENCH_METHODS)
    for task in BENCH_TASKS:  # every task is taken by at least two methods
        assert sum(c.applies for c in cells if c.task is task) >= 2
    for cell in cells:
        if cell.applies:
            assert cell.not_applicable is None
        else:
            assert cell.not_applicable and not cell.fixed


def test_every_budgeted_method_of_a_task_gets_the_same_budget():
    for cell in bench_cells():
        if "max_time" in cell.fixed:
            assert cell.fixed["max_time"] == cell.task.budget_s
    by_name = {(c.task.name, c.method): c for c in bench_cells()}
    # The 33-dimensional SymmetryLens sets at 300 s; LieGAN on two-body with its official mask.
    assert by_name[("gaussian-translation-33", "liegan")].fixed["max_time"] == 300
    assert by_name[("two-body", "liegan")].fixed["mask"] == "block-2"


def test_unknown_or_empty_selections_are_refused():
    with pytest.raises(ValueError, match="unknown task 'nope'.*known: gaussian-circulant-7"):
        bench_cells(tasks=["nope"])
    with pytest.raises(ValueError, match="unknown method 'svm'"):
        bench_cells(methods=["svm"])
    with pytest.raises(ValueError, match="at least one task"):
        bench_cells(tasks=[])


# --------------------------------------------------------------------------------- scoring
def test_span_recovery_is_the_worst_true_direction():
    basis = np.eye(4)
    assert span_recovery(basis[:2], basis[:2]) == pytest.approx(1.0)
    assert span_recovery(basis[:3], basis[:2]) == pytest.approx(1.0)  # extra found: still 1
    assert span_recovery(basis[:1], basis[:2]) == 0.0  # a true direction missing
    assert span_recovery(np.zeros((0, 4)), basis[:1]) == 0.0
    tilted = np.array([[np.cos(0.3), np.sin(0.3), 0, 0]])
    assert span_recovery(tilted, basis[:1]) == pytest.approx(np.cos(0.3))


def test_recovery_reads_each_methods_metric():
    tasks = {t.name: t for t in BENCH_TASKS}
    assert _recovery("liegan", tasks["gaussian-circulant-7"], {"cos": 0.4}) == 0.4
    assert _recovery("liegan", tasks["two-body"], {"cos": 0.7, "cos_on_span": 0.9}) == 0.9
    assert _recovery("lie-discovery", tasks["kdv"], {"recovery": 0.99}) == 0.99
    flow = {"principal_angles_rad": [0.0, 0.1, 0.2], "reference_names": ["a", "b", "c"]}
    assert _recovery("generator-flow", tasks["kdv"], flow) == pytest.approx(np.cos(0.2))
    assert _recovery("generator-flow", tasks["kdv"],
                     {**flow, "reference_names": ["a", "b", "c", "d"]}) == 0.0


def test_a_rotation_of_the_true_group_scores_one_under_the_algebra_conversion():
    truth = datasets.two_body(n_orbits=2, random_state=0).generator

    class Fitted:
        generator_ = expm(0.7 * truth)
        generators_ = (0.3 * truth)[None]

    assert score("symgan", Fitted(), truth, truth_kind="algebra") == pytest.approx(1.0)
    assert score("liegan", Fitted(), truth, truth_kind="algebra") == pytest.approx(1.0)
    Fitted.generator_ = np.eye(8)  # the identity carries no direction
    assert score("symgan", Fitted(), truth, truth_kind="algebra") == 0.0
    with pytest.raises(ValueError, match="no algebra conversion for 'lens'"):
        score("lens", Fitted(), truth, truth_kind="algebra")


@pytest.mark.slow
def test_baselines_evaluate_pairs_on_the_datas_span():
    from symmetrykit.baselines import evaluate

    pairs = datasets.two_body(n_orbits=20, random_state=0)
    for model in (LieGAN(mask="block-2", n_steps=3, random_state=0, progress="none"),
                  SymmetryGAN(n_steps=3, random_state=0, progress="none")):
        metrics = evaluate(model.fit(pairs.X, pairs.Y), pairs).metrics
        assert 0 <= metrics["cos_on_span"] <= 1 and 0 <= metrics["cos"] <= 1
        assert "A_true" in metrics["conversion"]


# ------------------------------------------------------------------------ discovery method
@pytest.mark.slow
def test_lie_discovery_finds_the_two_body_rotation_from_a_model_of_the_pairs():
    # A degree-3 model of the flow map is symmetric to its fitting error: gap 16 at 400 orbits
    # (8 at 100, 23 at the default 1,000), above the rule's 10.
    pairs = datasets.two_body(n_orbits=400, random_state=0)
    run = LieDiscoveryRun(random_state=0).fit(pairs)
    assert run.metrics_["span_rank"] == 4  # the centre of mass is fixed
    assert run.metrics_["nullity"] == 1
    assert run.metrics_["recovery"] > 0.999
    assert run.generators_.shape == (1, 8, 8)


def test_lie_discovery_finds_so2_in_the_distribution_of_rotation_invariant_samples():
    data = datasets.make_dataset("rotation-invariant", n_samples=4000, random_state=0)
    run = LieDiscoveryRun().fit(data)
    assert run.metrics_["kind"] == "density" and run.metrics_["nullity"] == 1
    assert run.metrics_["recovery"] > 0.99


def test_the_dihedral_group_has_its_fifteen_other_elements():
    from symmetrykit.baselines._evaluate import dihedral_elements

    data = datasets.make_dataset("gaussian-ring", n_samples=10, random_state=0)
    elements = dihedral_elements(data.generator, np.asarray(data.params["reflection"]))
    assert len(elements) == 15
    assert not any(np.allclose(g, np.eye(2)) for g in elements)
    for g in elements:  # every element maps the ring's centres onto centres
        centres = np.array([[np.cos(k * np.pi / 4), np.sin(k * np.pi / 4)] for k in range(8)])
        moved = centres @ g.T
        assert np.abs(moved[:, None] - centres[None]).sum(-1).min(1).max() < 1e-12


def test_baselines_score_the_toys_against_their_whole_group():
    from symmetrykit.baselines import evaluate

    ring = datasets.make_dataset("gaussian-ring", n_samples=500, random_state=0)
    gan = SymmetryGAN(n_steps=2, random_state=0, progress="none").fit(ring.X)
    reflection = np.asarray(ring.params["reflection"])
    gan.generator_ = ring.generator @ ring.generator @ reflection  # a reflection of D8
    metrics = evaluate(gan, ring).metrics
    assert metrics["cos_group"] == pytest.approx(1.0)
    assert metrics["cos"] < 0.5  # not a power of the rotation
    annulus = datasets.make_dataset("rotation-invariant", n_samples=500, random_state=0)
    lie = LieGAN(n_steps=2, random_state=0, progress="none").fit(annulus.X)
    lie.generators_ = np.array([[[0.0, -0.3], [0.3, 0.0]]])  # any rotation speed
    assert evaluate(lie, annulus).metrics["cos_algebra"] == pytest.approx(1.0)


def test_lie_discovery_refuses_data_it_cannot_take():
    with pytest.raises(ValueError, match="takes pairs .* or PDE trajectories, got Symmetry"):
        LieDiscoveryRun().fit(datasets.make_dataset("gaussian-circulant", n_samples=50))


# -------------------------------------------------------------------------------- running
@pytest.mark.slow
def test_a_bench_runs_its_cells_writes_the_matrix_and_resumes(tmp_path, client):
    out = tmp_path / "bench"
    rows = []
    matrix = run_bench(out, tasks=["gaussian-circulant-7"], methods=["liegan", "symmetrygan"],
                       seeds=[0], budget_scale=0.01, n_samples=200, client=client,
                       on_row=lambda cell, row: rows.append((cell.method, row["status"])))
    assert sorted(rows) == [("liegan", "ok"), ("symmetrygan", "ok")]
    entries = {e["method"]: e for e in matrix["cells"]}
    assert set(entries) == {"liegan", "symmetrygan"}
    for entry in entries.values():
        assert entry["n_ok"] == 1 and 0 <= entry["mean"] <= 1
        assert len(entry["commits"]) == 1  # the code every run of the cell was measured on
        assert entry["budget_s"] == pytest.approx(0.3)
    assert json.loads((out / "matrix.json").read_text())["cells"] == matrix["cells"]
    assert "| gaussian-circulant-7 (0.3 s) |" in (out / "matrix.md").read_text()

    with pytest.raises(FileExistsError, match="already holds a bench"):
        run_bench(out, tasks=["gaussian-circulant-7"], methods=["liegan", "symmetrygan"],
                  seeds=[0], budget_scale=0.01, n_samples=200, client=client)
    with pytest.raises(ValueError, match=r"was run with seeds = \[0\]; asked for \[1\]"):
        run_bench(out, tasks=["gaussian-circulant-7"], methods=["liegan"], seeds=[1],
                  budget_scale=0.01, n_samples=200, client=client, resume=True)
    rows.clear()
    again = run_bench(out, tasks=["gaussian-circulant-7"], methods=["liegan", "symmetrygan"],
                      seeds=[0], budget_scale=0.01, n_samples=200, client=client, resume=True,
                      on_row=lambda cell, row: rows.append(cell.method))
    assert rows == [] and again["cells"] == matrix["cells"]
    assert bench_matrix(out)["cells"] == matrix["cells"]
    # A new row joins the same matrix; the finished cells are not run again.
    grown = run_bench(out, tasks=["rotation-invariant"], methods=["lie-discovery"], seeds=[0],
                      budget_scale=0.01, n_samples=200, client=client, resume=True,
                      on_row=lambda cell, row: rows.append((cell.task.name, cell.method)))
    assert rows == [("rotation-invariant", "lie-discovery")]
    cells = {(e["task"], e["method"]): e for e in grown["cells"]}
    assert cells[("rotation-invariant", "lie-discovery")]["n_ok"] == 1
    assert cells[("gaussian-circulant-7", "liegan")] == entries["liegan"]
    assert "not_applicable" in cells[("gaussian-circulant-7", "lie-discovery")]
    assert cells[("rotation-invariant", "liegan")]["n_ok"] == 0  # chosen by no run yet


@pytest.mark.slow
def test_bench_refuses_a_directory_that_is_not_a_bench(tmp_path, client):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty and holds no bench"):
        run_bench(tmp_path / "other", tasks=["gaussian-circulant-7"], methods=["liegan"],
                  client=client)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    with pytest.raises(FileNotFoundError, match="holds no bench"):
        bench_matrix(tmp_path / "other")


# ------------------------------------------------------------------------------------- CLI
def test_cli_bench_list_shows_tasks_budgets_and_applicability(capsys):
    assert main(["bench", "list"]) == 0
    out = capsys.readouterr().out
    for task in BENCH_TASKS:
        assert task.name in out
    assert "n/a" in out and "applicable cells" in out


@pytest.mark.parametrize("argv, message", [
    (["--tasks", "nope"], "unknown task 'nope'"),
    (["--methods", "symmetrylens", "--tasks", "kdv"], "none of the chosen methods applies"),
    (["--budget-scale", "0"], "--budget-scale must be positive"),
])
def test_cli_bench_run_refuses_bad_requests_in_one_line(tmp_path, capsys, argv, message):
    assert main(["bench", "run", "--out", str(tmp_path / "b"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "b").exists()


def test_cli_bench_report_of_a_missing_bench_is_one_line(tmp_path, capsys):
    assert main(["bench", "report", str(tmp_path)]) == 2
    assert "holds no bench" in capsys.readouterr().err
