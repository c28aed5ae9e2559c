"""Scaling of a CPU-bound sweep with Dask workers (run by hand on an otherwise idle machine).

The same sweep — ``--runs`` SymmetryLens fits (7-dim Gaussian translation, ``--steps`` steps, one
torch thread each, different seeds) — runs first one after another in this process without Dask
(the engine's overhead), then on a fresh local Dask cluster with 1 worker and with 2 (or
``--workers``), in one invocation. Wall time includes starting the cluster; CPU time is the sum
over the runs. Speed-up = wall(1 worker) / wall(n workers). Results go to
``benchmarks/results/sweep_scaling.json`` with machine, date and commit.

Example
-------
    python benchmarks/sweep_scaling.py                 # ~4 min on 2 cores
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from _common import Stopwatch, provenance, write_results

from symmetrykit import sweeps

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "sweep_scaling.json")
    args = parser.parse_args()
    if args.workers[0] != 1:
        parser.error("--workers must start with 1 (the speed-ups are relative to one worker)")

    config = {"name": "scaling", "method": "symmetrylens", "seeds": list(range(args.runs)),
              "data": [{"name": "gaussian-translation", "dim": 7}], "save_runs": False,
              "fixed": {"n_steps": args.steps}, "design": {"kind": "none"}}
    rows = []
    # The same runs one after another in this process, without Dask: the engine's overhead.
    clock = Stopwatch()
    direct = [sweeps.execute_run(task)["row"] for task in sweeps.plan_runs(
        sweeps.load_config(config))]
    wall, cpu = clock.wall_s, clock.cpu_s
    rows.append({"workers": 0, "wall_s": wall, "run_cpu_s_sum": cpu,
                 "run_wall_s_sum": sum(r["wall_s"] for r in direct),
                 "cos_min": min(r["metrics"]["cos"] for r in direct), "pids": [os.getpid()]})
    print(f"in-process, no Dask: {wall:.1f} s wall, {cpu:.0f} s CPU", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="sweep-scaling-"))
    try:
        for workers in args.workers:
            start = time.perf_counter()
            result = sweeps.run_sweep(config, scratch / f"w{workers}", n_workers=workers,
                                      progress="none", dashboard_address=":0")
            wall = time.perf_counter() - start
            if result.n_failed or not result.complete:
                raise SystemExit(f"{result.n_failed} runs failed with {workers} workers")
            cpu = sum(r["cpu_s"] for r in result.rows)
            busy = sum(r["wall_s"] for r in result.rows)
            cos = [r["metrics"]["cos"] for r in result.rows]
            rows.append({"workers": workers, "wall_s": wall, "run_cpu_s_sum": cpu,
                         "run_wall_s_sum": busy, "cos_min": min(cos),
                         "pids": sorted({r["worker"]["pid"] for r in result.rows})})
            print(f"{workers} worker(s): {wall:.1f} s wall, runs {busy:.0f} s wall / "
                  f"{cpu:.0f} s CPU in total, cos >= {min(cos):.3f}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    base = rows[1]["wall_s"]  # one Dask worker
    summary = [{"workers": r["workers"], "wall_s": r["wall_s"], "speedup": base / r["wall_s"],
                "cpu_s_per_run": r["run_cpu_s_sum"] / args.runs} for r in rows]
    for s in summary[1:]:
        print(f"{s['workers']} worker(s): speed-up {s['speedup']:.2f}x over 1 worker, "
              f"{s['cpu_s_per_run']:.1f} s CPU per run")
    print(f"Dask with 1 worker vs in-process: {rows[1]['wall_s'] / rows[0]['wall_s']:.2f}x wall, "
          f"{summary[1]['cpu_s_per_run'] / summary[0]['cpu_s_per_run']:.2f}x CPU per run")
    meta = {**provenance(), "runs": args.runs,
            "steps": args.steps, "config": config}
    print(f"wrote {write_results(args.out, meta, summary, rows)}")


if __name__ == "__main__":
    main()
