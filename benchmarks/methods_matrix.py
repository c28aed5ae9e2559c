"""Every discovery method on every task it applies to: the methods × tasks matrix, by hand.

Runs ``symmetrykit.sweeps.run_bench`` (what ``symmetrykit bench run`` runs): one sweep per
applicable (task, method) cell, each task at one wall-clock budget per run for every method
(SymmetryLens stops earlier when its schedule ends; Lie-derivative discovery needs seconds;
generator flows run their ``pde-cpu`` schedule, under the KdV budget), three seeds, two workers
of one thread each. Writes the matrix with machine, commit and every cell's runs to
``results/methods_matrix.json`` and, with ``--update-readme``, the README table.

Examples
--------
    python benchmarks/methods_matrix.py --out /tmp/matrix --update-readme      # ≈ 60 min
    python benchmarks/methods_matrix.py --out /tmp/m --tasks two-body --seeds 0
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import RESULTS, Stopwatch, jsonable_args, provenance, update_readme_section, write_json

from symmetrykit.sweeps import matrix_markdown, run_bench

README_BEGIN = "<!-- methods-matrix:begin -->"
README_END = "<!-- methods-matrix:end -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="bench directory (the cells' sweeps)")
    parser.add_argument("--tasks", nargs="+", default=None)
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--name", default="methods_matrix.json")
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()

    clock = Stopwatch()
    started = time.perf_counter()

    def on_row(cell, row) -> None:
        status = "ok" if row["status"] == "ok" else f"failed ({row['error']['message'][:80]})"
        print(f"[{time.perf_counter() - started:6.0f} s] {cell.method} × {cell.task.name} "
              f"seed {row['seed']}: {status}, {row['wall_s']:.0f} s", flush=True)

    matrix = run_bench(args.out, tasks=args.tasks, methods=args.methods, seeds=args.seeds,
                       n_workers=args.workers, resume=args.resume, on_row=on_row)
    meta = {**provenance("two worker processes, one torch thread each"),
            "args": jsonable_args(args), **clock.times()}
    table = matrix_markdown(matrix)
    write_json(RESULTS / args.name, {"meta": meta, "matrix": matrix})
    print(table)
    if args.update_readme:
        header = (f"Measured {meta['date']} on {meta['machine']} (commit "
                  f"{meta['commit'] or 'unknown'}; `python benchmarks/methods_matrix.py "
                  f"--update-readme`, {meta['wall_s'] / 60:.0f} min wall; results/"
                  f"{Path(args.name).name}).\n\n")
        update_readme_section(README_BEGIN, README_END, header + table)


if __name__ == "__main__":
    main()
