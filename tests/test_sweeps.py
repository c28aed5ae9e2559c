"""Sweeps on Dask distributed: configs, designs, the result store, resume and fault tolerance."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from symmetrykit import sweeps
from symmetrykit.cli import main

distributed = pytest.importorskip("distributed")

# Tiny SymmetryLens fits (about a second each on one thread).
TINY = {
    "name": "tiny",
    "method": "symmetrylens",
    "seeds": [0, 1],
    "data": [{"name": "gaussian-translation", "dim": 5, "n_samples": 400}],
    "fixed": {"n_steps": 15, "batch_size": 128, "warmup_steps": 5, "log_every": 5},
    "design": {"kind": "grid", "parameters": {"alignment": [0.5, 1.0]}},
}


def _config(**changes):
    config = json.loads(json.dumps(TINY))
    config.update(changes)
    return config


def _write_toml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


TINY_TOML = """
name = "tiny"
method = "symmetrylens"
seeds = [0, 1, 2]
[[data]]
name = "gaussian-translation"
dim = 5
n_samples = 400
[fixed]
n_steps = {steps}
batch_size = 128
warmup_steps = 5
[design]
kind = "grid"
[design.parameters]
alignment = [0.5, 1.0]
"""


# ------------------------------------------------------------------------------------------
# configuration and designs
# ------------------------------------------------------------------------------------------


def test_toml_config_round_trips(tmp_path):
    config = sweeps.load_config(_write_toml(tmp_path / "s.toml", TINY_TOML.format(steps=15)))
    assert config.method == "symmetrylens"
    assert config.seeds == (0, 1, 2)
    assert config.data[0].options == {"dim": 5, "n_samples": 400}
    again = sweeps.load_config(config.to_dict())
    assert again == config
    assert again.fingerprint() == config.fingerprint()


@pytest.mark.parametrize(("change", "message"), [
    ({"colour": "red"}, "unknown keys"),
    ({"method": "magic"}, "unknown method"),
    ({"seeds": [0, 0]}, "seed twice"),
    ({"seeds": [-1]}, "non-negative"),
    ({"data": []}, "at least one data set"),
    ({"data": ["no-such-set"]}, "does not know data set"),
    ({"fixed": {"n_stepz": 3}}, "has no parameter 'n_stepz'"),
    ({"fixed": {"random_state": 3}}, "set by the sweep itself"),
    ({"design": {"kind": "grid", "parameters": {"alignment": [1, 1]}}}, "value twice"),
    ({"design": {"kind": "grid", "parameters": {}}}, "non-empty"),
    ({"design": {"kind": "cube"}}, "unknown design kind"),
    ({"design": {"kind": "grid", "parameters": {"alignment": [1]}, "n_points": 3}},
     "does not take"),
    ({"design": {"kind": "random", "parameters": {"alignment": {"low": 1, "high": 0}},
                 "n_points": 2}}, "low < high"),
    ({"design": {"kind": "morris", "trajectories": 4,
                 "parameters": {"alignment": [0, 1]}}}, "at least two parameters"),
    ({"design": {"kind": "morris", "trajectories": 4, "levels": 3,
                 "parameters": {"alignment": [0, 1], "uniformity": [1, 2]}}}, "even"),
    ({"fixed": {"alignment": 2.0}}, "both fixed and varied"),
])
def test_bad_configs_name_the_problem(change, message):
    with pytest.raises(ValueError, match=message):
        sweeps.load_config(_config(**change))


def test_config_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sweeps.load_config(tmp_path / "missing.toml")
    with pytest.raises(ValueError, match="not valid TOML"):
        sweeps.load_config(_write_toml(tmp_path / "bad.toml", "method = [unclosed"))


def test_grid_design_is_the_cartesian_product_in_order():
    design = sweeps.load_config(_config(design={"kind": "grid", "parameters": {
        "alignment": [0.5, 1.0, 2.0], "data.noise": [0.0, 0.1]}})).design
    points = sweeps.design_points(design)
    assert len(points) == 6
    assert points[0] == {"alignment": 0.5, "data.noise": 0.0}
    assert points[1] == {"alignment": 0.5, "data.noise": 0.1}


def test_random_design_is_reproducible_and_in_bounds():
    config = _config(design={"kind": "random", "n_points": 50, "random_state": 3, "parameters": {
        "model_lr": {"low": 1e-4, "high": 1e-1, "log": True},
        "alignment": {"low": 0.5, "high": 1.5},
        "init": {"choices": ["warm", "random"]}}})
    design = sweeps.load_config(config).design
    first, second = sweeps.design_points(design), sweeps.design_points(design)
    assert first == second
    lrs = np.array([p["model_lr"] for p in first])
    assert lrs.min() >= 1e-4 and lrs.max() <= 1e-1
    # log-uniform: about as many points per decade
    assert np.sum(lrs < 1e-2) > 10
    assert {p["init"] for p in first} == {"warm", "random"}


def test_morris_design_moves_one_parameter_per_step():
    config = _config(design={"kind": "morris", "trajectories": 3, "parameters": {
        "alignment": [0.5, 1.5], "uniformity": [1.0, 3.0], "data.noise": [0.0, 0.1]}})
    design = sweeps.load_config(config).design
    points = sweeps.design_points(design)
    k = 3
    assert len(points) == 3 * (k + 1)
    matrix = np.array([[p[n] for n in design.names] for p in points])
    for start in range(0, len(points), k + 1):
        steps = np.diff(matrix[start:start + k + 1], axis=0)
        assert np.all(np.count_nonzero(np.abs(steps) > 1e-12, axis=1) == 1)
        assert np.all(np.count_nonzero(np.abs(steps) > 1e-12, axis=0) == 1)


def test_plan_ids_are_stable_unique_and_route_data_options():
    config = sweeps.load_config(_config(design={"kind": "grid", "parameters": {
        "alignment": [0.5, 1.0], "data.noise": [0.0, 0.1]}}))
    plan = sweeps.plan_runs(config)
    assert len(plan) == 4 * 2
    assert len({t["run_id"] for t in plan}) == len(plan)
    assert [t["run_id"] for t in sweeps.plan_runs(config)] == [t["run_id"] for t in plan]
    # point, then data set, then seed: plan[2] is the second point's first seed
    assert plan[2]["data_options"] == {"dim": 5, "n_samples": 400, "noise": 0.1}
    assert "data.noise" not in plan[2]["params"] and plan[2]["params"]["alignment"] == 0.5


# ------------------------------------------------------------------------------------------
# one run, without Dask
# ------------------------------------------------------------------------------------------


def test_execute_run_scores_and_returns_the_saved_run():
    task = sweeps.plan_runs(sweeps.load_config(_config()))[0]
    outcome = sweeps.execute_run(task)
    row = outcome["row"]
    assert row["status"] == "ok", row["error"]
    assert 0.9 < row["metrics"]["cos"] <= 1.0
    assert {"config.json", "arrays.npz", "metrics.json"} <= set(outcome["files"])
    assert row["wall_s"] > 0 and row["cpu_s"] > 0


@pytest.mark.slow
def test_generator_flows_run_on_pde_data():
    config = sweeps.load_config({
        "method": "generator-flow", "seeds": [0],
        "data": [{"name": "kdv", "n_trajectories": 2, "nx": 128, "nt": 40}],
        "fixed": {"n_iterations": 3, "patch_shape": [12, 16], "hidden": [8], "batch_size": 2}})
    assert config.score == "best_galilean"
    outcome = sweeps.execute_run(sweeps.plan_runs(config)[0])
    row = outcome["row"]
    assert row["status"] == "ok", row["error"]
    assert {f"projection_{k}" for k in range(1, 5)} <= set(row["metrics"])
    assert {"config.json", "arrays.npz", "metrics.json"} <= set(outcome["files"])
    # The metrics are the registered method's evaluation, plus the whole comparison.
    assert row["metrics"]["comparison"]["reference_names"][0] == "x-translation"
    assert row["metrics"]["fit_cpu_s"] > 0 and "final_validity" in row["metrics"]


def test_a_sweep_builds_the_registered_method_with_its_default_preset():
    from symmetrykit import GeneratorFlow

    method = sweeps.METHODS["generator-flow"]
    flow = method.build({"n_iterations": 3.0}, seed=1)
    expected = GeneratorFlow.preset("pde-cpu", n_iterations=3, random_state=1,
                                    progress="none")
    assert flow.get_params() == expected.get_params()
    assert method.defaults()["n_steps"] == 2  # the preset's, not the constructor's 4
    with pytest.raises(ValueError, match="does not know data set"):
        sweeps.load_config({"method": "flow", "data": "gaussian-translation"})


def test_a_failing_run_is_a_failed_row_not_an_exception():
    config = sweeps.load_config(_config(data=[{"name": "gaussian-translation", "dim": 4}]))
    outcome = sweeps.execute_run(sweeps.plan_runs(config)[0])
    assert outcome["row"]["status"] == "failed"
    assert outcome["row"]["error"]["type"] == "ValueError"
    assert "odd" in outcome["row"]["error"]["message"]
    assert outcome["files"] == {}


# ------------------------------------------------------------------------------------------
# the store
# ------------------------------------------------------------------------------------------


def test_store_cuts_a_torn_tail_and_refuses_a_second_writer(tmp_path):
    from symmetrykit.sweeps._store import ResultStore

    with ResultStore(tmp_path) as store:
        store.append({"run_id": "a", "status": "ok"})
        with pytest.raises(ValueError, match="in use by another sweep"), ResultStore(tmp_path):
            pass
    with open(tmp_path / "results.jsonl", "ab") as handle:
        handle.write(b'{"run_id": "b", "sta')  # a crash in the middle of a write
    assert [r["run_id"] for r in sweeps.read_rows(tmp_path)] == ["a"]
    with ResultStore(tmp_path) as store:
        store.append({"run_id": "c", "status": "ok", "value": float("nan")})
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == ["a", "c"]
    assert json.loads(lines[1])["value"] is None


def test_store_takes_over_the_lock_of_a_dead_sweep(tmp_path):
    from symmetrykit.sweeps._store import LOCK_FILE, ResultStore

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / LOCK_FILE).write_text(f"{os.uname().nodename} {dead}")
    with ResultStore(tmp_path) as store:
        store.append({"run_id": "a"})
    assert not (tmp_path / LOCK_FILE).exists()


def test_damaged_store_is_reported(tmp_path):
    (tmp_path / "results.jsonl").write_text('{"run_id": "a"}\nnot json\n')
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        sweeps.read_rows(tmp_path)


# ------------------------------------------------------------------------------------------
# on a 2-worker local cluster
# ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sweep_results_are_complete_and_match_sequential_fits(tmp_path, client):
    config = sweeps.load_config(_config())
    result = sweeps.run_sweep(config, tmp_path / "sweep", client=client, progress="none")
    assert result.complete and result.n_failed == 0 and result.n_executed == 4
    plan = sweeps.plan_runs(config)
    assert [r["run_id"] for r in result.rows] == [t["run_id"] for t in plan]
    pids = {r["worker"]["pid"] for r in result.rows}
    assert os.getpid() not in pids
    for task, row in zip(plan, result.rows, strict=True):
        alone = sweeps.execute_run(task)["row"]
        assert row["metrics"]["cos"] == pytest.approx(alone["metrics"]["cos"], abs=1e-9)
        saved = json.loads((tmp_path / "sweep" / row["run_dir"] / "metrics.json").read_text())
        assert saved["cos"] == pytest.approx(row["metrics"]["cos"])
    summary = result.summary()
    assert [cell["alignment"] for cell in summary] == [0.5, 1.0]
    assert all(cell["n"] == 2 and cell["n_failed"] == 0 for cell in summary)
    assert summary[0]["mean"] == pytest.approx(np.mean([r["metrics"]["cos"]
                                                        for r in result.rows[:2]]))
    again = sweeps.open_sweep(tmp_path / "sweep")
    assert again.rows == result.rows


@pytest.mark.slow
def test_failed_runs_are_recorded_and_do_not_stop_the_sweep(tmp_path, client):
    config = _config(data=[{"name": "gaussian-translation", "dim": 5, "n_samples": 400},
                           {"name": "gaussian-translation", "dim": 6, "n_samples": 400}],
                     design={"kind": "none"}, seeds=[0])
    result = sweeps.run_sweep(config, tmp_path / "sweep", client=client, progress="none")
    assert result.complete
    assert [r["status"] for r in result.rows] == ["ok", "failed"]
    assert "odd" in result.rows[1]["error"]["message"]
    # a resume skips the failed run; retry_failed runs it again and supersedes its row
    again = sweeps.run_sweep(config, tmp_path / "sweep", client=client, progress="none",
                             resume=True)
    assert again.n_executed == 0 and again.n_skipped == 2
    retried = sweeps.run_sweep(config, tmp_path / "sweep", client=client, progress="none",
                               resume=True, retry_failed=True)
    assert retried.n_executed == 1 and len(retried.rows) == 2
    assert len(sweeps.read_rows(tmp_path / "sweep")) == 3


@pytest.mark.slow
def test_resume_runs_only_what_has_no_row(tmp_path, client):
    out = tmp_path / "sweep"
    first = sweeps.run_sweep(_config(), out, client=client, progress="none")
    # Pretend the sweep was killed after two commits and while writing a third run directory.
    lines = (out / "results.jsonl").read_text().splitlines(keepends=True)
    (out / "results.jsonl").write_text("".join(lines[:2]) + lines[2][:10])
    # The rows lost are those of the cut lines: the file is in completion order, which with two
    # workers need not be the order of first.rows.
    lost = [json.loads(line)["run_id"] for line in lines[2:]]
    (out / "runs" / lost[0] / "arrays.npz").write_bytes(b"half-written")
    executed = []
    resumed = sweeps.run_sweep(_config(), out, client=client, progress="none", resume=True,
                               on_row=lambda row: executed.append(row["run_id"]))
    assert sorted(executed) == sorted(lost)
    assert resumed.n_executed == 2 and resumed.n_skipped == 2 and resumed.complete
    rows = sweeps.read_rows(out)
    assert sorted(r["run_id"] for r in rows) == sorted(r["run_id"] for r in first.rows)
    np.load(out / "runs" / lost[0] / "arrays.npz")  # rewritten, readable


@pytest.mark.slow
def test_existing_or_different_sweeps_are_not_overwritten(tmp_path, client):
    out = tmp_path / "sweep"
    sweeps.run_sweep(_config(seeds=[0]), out, client=client, progress="none")
    before = (out / "results.jsonl").read_bytes()
    with pytest.raises(FileExistsError, match="--resume"):
        sweeps.run_sweep(_config(seeds=[0]), out, client=client, progress="none")
    with pytest.raises(ValueError, match="different configuration"):
        sweeps.run_sweep(_config(seeds=[1]), out, client=client, progress="none", resume=True)
    assert (out / "results.jsonl").read_bytes() == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not an empty sweep directory"):
        sweeps.run_sweep(_config(), other, client=client, progress="none")


@pytest.mark.slow
def test_a_killed_worker_loses_no_run_and_duplicates_none(tmp_path):
    config = _config(seeds=[0, 1, 2, 3], fixed={**TINY["fixed"], "n_steps": 60})
    killed = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as dask_client:

        def kill_a_busy_worker(row):
            if killed:
                return
            busy = [addr for addr, keys in dask_client.processing().items() if keys]
            pid = dask_client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

        result = sweeps.run_sweep(config, tmp_path / "sweep", client=dask_client,
                                  progress="none", on_row=kill_a_busy_worker)
    assert killed
    rows = sweeps.read_rows(tmp_path / "sweep")
    ids = [r["run_id"] for r in rows]
    assert len(ids) == len(set(ids)) == result.n_planned == 8
    assert all(r["status"] == "ok" for r in rows)


@pytest.mark.slow
def test_killed_sweep_resumes_from_the_command_line(tmp_path):
    config = _write_toml(tmp_path / "s.toml", TINY_TOML.format(steps=60))
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "symmetrykit", "sweep", str(config), "--out", str(out),
               "--workers", "2", "--progress", "none"]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(sweeps.read_rows(out)) < 2:
            time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the sweep and its local cluster
        process.wait()
    before = {r["run_id"] for r in sweeps.read_rows(out)}
    assert 2 <= len(before) < 6
    assert main(["sweep", str(config), "--out", str(out), "--workers", "2", "--progress",
                 "none", "--resume"]) == 0
    rows = sweeps.read_rows(out)
    ids = [r["run_id"] for r in rows]
    assert len(ids) == len(set(ids)) == 6
    sessions = {}
    for row in rows:
        sessions.setdefault(row["session"], set()).add(row["run_id"])
    assert len(sessions) == 2
    assert before in sessions.values()  # the resumed session ran only the others


# ------------------------------------------------------------------------------------------
# analysis and the command line
# ------------------------------------------------------------------------------------------


def test_morris_recovers_the_coefficients_of_a_linear_score():
    config = sweeps.load_config(_config(seeds=[0], design={
        "kind": "morris", "trajectories": 6, "parameters": {
            "alignment": [0.5, 1.5], "uniformity": [1.0, 3.0], "data.noise": [0.0, 0.1]}}))
    coefficients = {"alignment": 0.3, "uniformity": -0.1, "data.noise": 0.0}
    bounds = config.design.parameters
    rows = []
    for task in sweeps.plan_runs(config):
        score = sum(c * (task["varied"][n] - bounds[n][0]) / (bounds[n][1] - bounds[n][0])
                    for n, c in coefficients.items())
        rows.append({**task, "status": "ok", "metrics": {"cos": score}})
    (result,) = sweeps.morris_analysis(config, rows, "cos")
    assert result.names == ["alignment", "uniformity", "data.noise"]
    np.testing.assert_allclose(result.mu, [0.3, -0.1, 0.0], atol=1e-9)
    np.testing.assert_allclose(result.mu_star, [0.3, 0.1, 0.0], atol=1e-9)
    np.testing.assert_allclose(result.sigma, 0.0, atol=1e-9)
    assert "| alignment |" in result.to_markdown()
    with pytest.raises(ValueError, match="no successful run"):
        sweeps.morris_analysis(config, rows[1:], "cos")


@pytest.mark.slow
def test_cli_sweep_and_report(tmp_path, capsys):
    config = _write_toml(tmp_path / "s.toml", TINY_TOML.format(steps=10).replace(
        "seeds = [0, 1, 2]", "seeds = [0]"))
    out = tmp_path / "sweep"
    assert main(["sweep", str(config), "--out", str(out), "--workers", "1",
                 "--progress", "none"]) == 0
    text = capsys.readouterr().out
    assert "Dask dashboard:" in text and "ran 2, skipped 0" in text
    assert "| alignment |" in text.replace("| data | alignment |", "| alignment |")
    assert json.loads((out / "summary.json").read_text())["metric"] == "cos"
    assert main(["sweep", str(config), "--out", str(out), "--progress", "none"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["sweep-report", str(out), "--no-figures"]) == 0
    assert "2/2 runs recorded" in capsys.readouterr().out
    assert main(["sweep", "report", str(out), "--no-figures"]) == 0  # the new spelling
    assert "2/2 runs recorded" in capsys.readouterr().out
    assert main(["sweep-report", str(tmp_path)]) == 2
    assert "not a sweep directory" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "nope.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["sweep", str(config), "--retry-failed"]) == 2
    assert "needs --resume" in capsys.readouterr().err


def test_the_summary_table_shows_no_spread_for_a_single_run():
    from symmetrykit.cli._sweep import summary_markdown

    cells = [{"data": "a", "metric": "cos", "n": 1, "n_failed": 0, "mean": 0.9, "std": 0.0,
              "min": 0.9, "max": 0.9, "wall_s": 1.0, "cpu_s": 1.0},
             {"data": "b", "metric": "cos", "n": 3, "n_failed": 1, "mean": 0.5, "std": 0.1,
              "min": 0.4, "max": 0.6, "wall_s": 1.0, "cpu_s": 1.0}]
    rows = summary_markdown(cells).splitlines()[2:]
    assert "| a | 0.9 | 0.9 |" in rows[0] and "±" not in rows[0]
    assert "0.5 ± 0.1" in rows[1]
