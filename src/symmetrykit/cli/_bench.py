"""``symmetrykit bench list|run|report``: the methods × tasks benchmark matrix.

``list`` prints which method applies to which task, with each task's budget (no work);
``run`` runs a chosen row or column (or all) through the sweep engine and prints the matrix;
``report`` rebuilds the matrix of an existing bench directory.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Any

from ._common import CLIError, check_output
from ._options import add_group, add_verb

__all__ = ["add_parser"]


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise CLIError("give at least one name (comma-separated)")
    return names


def _cmd_list(args: argparse.Namespace) -> int:
    from ..sweeps import BENCH_METHODS, BENCH_TASKS, bench_cells

    cells = {(c.task.name, c.method): c for c in bench_cells()}
    width = max(len(t.name) for t in BENCH_TASKS)
    print(f"{'task':<{width}}  budget  " + "  ".join(BENCH_METHODS))
    for task in BENCH_TASKS:
        marks = ["yes".center(len(m)) if cells[(task.name, m)].applies else "n/a".center(len(m))
                 for m in BENCH_METHODS]
        print(f"{task.name:<{width}}  {task.budget_s:>5g}s  " + "  ".join(marks))
    print()
    for task in BENCH_TASKS:
        print(f"{task.name}: {task.description}; score against {task.truth}")
    n = sum(c.applies for c in cells.values())
    print(f"\n{n} applicable cells. 'symmetrykit bench run --tasks NAME,... --methods NAME,...' "
          "runs a row or column; 'n/a' reasons are in 'bench report'.")
    return 0


def _estimate(cells: list[Any], seeds: list[int], scale: float, workers: int) -> str:
    budget = 0.0
    for cell in cells:
        per_run = cell.fixed.get("max_time", cell.task.budget_s)
        budget += per_run * scale * len(seeds)
    return (f"at most {budget / 60:.0f} min of budgets in all, about "
            f"{budget / 60 / max(workers, 1):.0f} min on {workers} worker(s)")


def _cmd_run(args: argparse.Namespace) -> int:
    import os

    from ..sweeps import bench_cells, matrix_markdown, run_bench

    if args.workers is not None and args.workers < 1:
        raise CLIError(f"--workers must be a positive integer, got {args.workers}")
    if not args.budget_scale > 0:
        raise CLIError(f"--budget-scale must be positive, got {args.budget_scale}")
    cells = [c for c in bench_cells(_names(args.tasks), _names(args.methods)) if c.applies]
    if not cells:
        raise CLIError("none of the chosen methods applies to the chosen tasks "
                       "(see 'symmetrykit bench list')")
    out = Path(args.out)
    check_output(out, write_inside=True)
    workers = args.workers or os.cpu_count() or 1
    print(f"bench: {len(cells)} cells × {len(args.seeds)} seed(s) = "
          f"{len(cells) * len(args.seeds)} runs -> {out}; "
          f"{_estimate(cells, args.seeds, args.budget_scale, workers)}", flush=True)
    lock = threading.Lock()
    started = time.perf_counter()
    done = [0]
    total = len(cells) * len(args.seeds)

    def on_row(cell: Any, row: dict[str, Any]) -> None:
        with lock:
            done[0] += 1
            if row["status"] == "ok":
                from ..sweeps._bench import _recovery

                shown = f"recovery {_recovery(cell.method, cell.task, row['metrics']):.3f}"
            else:
                shown = f"failed: {row['error']['type']}: {row['error']['message'][:120]}"
            print(f"[{done[0]}/{total} {time.perf_counter() - started:6.0f} s] "
                  f"{cell.method} × {cell.task.name} seed {row['seed']}: {shown} "
                  f"({row['wall_s']:.0f} s)", flush=True)

    matrix = run_bench(out, tasks=_names(args.tasks), methods=_names(args.methods),
                       seeds=args.seeds, budget_scale=args.budget_scale,
                       n_samples=args.n_samples, n_workers=args.workers, resume=args.resume,
                       on_row=on_row)
    print(matrix_markdown(matrix))
    print(f"matrix in {out / 'matrix.json'} and {out / 'matrix.md'}")
    failed = sum(c.get("n_failed", 0) for c in matrix["cells"])
    return 0 if failed == 0 else 1


def _cmd_report(args: argparse.Namespace) -> int:
    from ..sweeps import bench_matrix, matrix_markdown

    matrix = bench_matrix(args.directory)
    print(matrix_markdown(matrix))
    return 0


def add_parser(commands: Any) -> None:
    """Register ``bench list|run|report`` on the top-level subparsers."""
    verbs = add_group(
        commands, "bench",
        help="every discovery method on every task it applies to (list, run, report)",
        description="The methods × tasks benchmark matrix: SymmetryLens, LieGAN, SymmetryGAN, "
        "Lie-derivative discovery and generator flows on the SymmetryLens sets, MNIST slices, "
        "the two-body task and KdV, at one wall-clock budget per task and the same seeds, "
        "scored by one number (recovery: 1 when the true symmetry is found).")
    add_verb(verbs, "list", handler=_cmd_list, help="which method applies to which task",
             description="Print the matrix's tasks, budgets and applicable methods (no work).")
    run = add_verb(
        verbs, "run", handler=_cmd_run, help="run chosen cells through the sweep engine",
        description="Run the chosen cells (default: all) on a local Dask cluster, one sweep "
        "per cell under OUT, then write OUT/matrix.json and OUT/matrix.md. Resumable.")
    run.add_argument("--out", required=True, help="bench directory (new, or one to --resume)")
    run.add_argument("--tasks", default=None, metavar="NAME,...",
                     help="tasks to run (default: all; see 'bench list')")
    run.add_argument("--methods", default=None, metavar="NAME,...",
                     help="methods to run (default: all)")
    run.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                     help="seeds of every cell (default 0 1 2)")
    run.add_argument("--budget-scale", type=float, default=1.0,
                     help="multiply every task's wall budget (default 1)")
    run.add_argument("--n-samples", type=int, default=None,
                     help="override the sizes of the sample and pair sets (not the PDE sets) "
                     "for a quick trial")
    run.add_argument("--workers", type=int, default=None,
                     help="worker processes (default: all cores)")
    run.add_argument("--resume", action="store_true",
                     help="continue the bench in --out (finished runs are kept)")
    rep = add_verb(verbs, "report", handler=_cmd_report,
                   help="rebuild the matrix of a bench directory (no runs)",
                   description="Read every cell of a bench directory and print the matrix; "
                   "rewrites matrix.json and matrix.md.")
    rep.add_argument("directory", metavar="DIR", help="a bench directory")
