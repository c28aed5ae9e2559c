"""Reproduce the SymmetryLens paper's Table 1 grid on this machine (run by hand; not a test).

Every cell fits ``SymmetryLens`` with the *same* hyperparameters on one built-in data set and
scores the learned generator against the data set's ground truth (``generator_similarity``) and
the group convolution against the expected ``±Qᵀ``/``±J Qᵀ`` (``representation_similarity``).
Results (cos mean ± std over seeds, wall and CPU time, steps, machine, commit) go to JSON, and a
markdown table is printed (and written into the README between the table markers with
``--update-readme``). The cells run as a sweep on a local Dask cluster (``symmetrykit.sweeps``,
one worker per ``--jobs``); the sweep directory keeps every run and ``--resume`` continues an
interrupted grid.

Examples
--------
    python benchmarks/symmetrylens_table1.py --sets gaussian-circulant --seeds 0 1 2
    python benchmarks/symmetrylens_table1.py --jobs 2 --update-readme  # the grid, defaults
    python benchmarks/symmetrylens_table1.py --init random --sets gaussian-translation  # ablation
    python benchmarks/symmetrylens_table1.py --sets mnist-slices --param alignment=0  # E.3
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from _common import provenance, update_readme_section, write_results

from symmetrykit import sweeps
from symmetrykit.lens import SymmetryLens

PAPER_GRID = [
    "gaussian-translation", "gaussian-permuted", "gaussian-frequency",
    "legendre-translation", "legendre-permuted", "legendre-frequency",
    "mnist-slices", "gaussian-circulant",
]
README_BEGIN = "<!-- symmetrylens-table1:begin -->"
README_END = "<!-- symmetrylens-table1:end -->"


def _row(sweep_row: dict) -> dict:
    """One cell's record (the JSON's ``runs``) from a sweep row."""
    metrics = sweep_row["metrics"]
    return {"dataset": sweep_row["data"], "dim": sweep_row["dim"], "seed": sweep_row["seed"],
            "cos": metrics["cos"], "cos_G2": metrics["cos2"],
            "cos_warm_start": metrics.get("cos_start"), "kept_start": metrics["kept_start"],
            "warm_starts": [s for s in metrics["starts"] if s != "random"],
            "restart_losses": metrics["restart_losses"],
            "best_restart": metrics["starts"].index(metrics["kept_start"]),
            "phi_cos": metrics["phi_cos"], "wall_s": metrics["fit_wall_s"],
            "cpu_s": metrics["fit_cpu_s"],
            # Model steps actually run (fits stop on convergence); the cap where not recorded.
            "steps": metrics.get("steps", sweep_row["params"].get("n_steps")),
            "restarts": sweep_row["params"].get("n_restarts"),
            "filter_argmax": metrics["filter_argmax"], "run_id": sweep_row["run_id"]}


def _default_dim(name: str) -> int:
    from symmetrykit.datasets import get_dataset_info

    return int(get_dataset_info(name).defaults["dim"])


def summarise(rows: list[dict]) -> list[dict]:
    cells = {}
    for row in rows:
        cells.setdefault(row["dataset"], []).append(row)
    summary = []
    for name, group in cells.items():
        cos = np.array([r["cos"] for r in group])
        phi = np.array([r["phi_cos"] for r in group])
        warm = [r["cos_warm_start"] for r in group if r.get("cos_warm_start") is not None]
        kept = sorted({r.get("kept_start", "?") for r in group})
        summary.append({"dataset": name, "dim": group[0]["dim"], "n_seeds": len(group),
                        "cos_warm_start_mean": float(np.mean(warm)) if warm else None,
                        "kept_starts": kept,
                        "cos_mean": cos.mean(), "cos_std": cos.std(), "cos_min": cos.min(),
                        "phi_cos_mean": phi.mean(),
                        "steps_mean": float(np.mean([r["steps"] or 0 for r in group])),
                        "wall_s_mean": np.mean(
                            [r["wall_s"] for r in group]),
                        "cpu_s_mean": np.mean([r["cpu_s"] for r in group])})
    return summary


def _warm_cell(cos: float | None, kept: list[str]) -> str:
    starts = "/".join(kept)
    return starts if cos is None else f"{cos:.3f} ({starts})"


def markdown(summary: list[dict], meta: dict) -> str:
    lines = [
        f"Measured {meta['date']} on {meta['machine']} (commit {meta['commit'] or 'unknown'}), "
        f"parameters {json.dumps(meta['params'])}, {meta['n_samples']} samples.",
        "",
        "| data set | dim | seeds | cos(G, G_true) mean ± std (min) | kept start alone (which) "
        "| cos(Φ, ±Qᵀ) | model steps | wall s | CPU s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        warm = s["cos_warm_start_mean"]
        lines.append(
            f"| {s['dataset']} | {s['dim']} | {s['n_seeds']} | {s['cos_mean']:.3f} ± "
            f"{s['cos_std']:.3f} ({s['cos_min']:.3f}) | "
            f"{_warm_cell(warm, s['kept_starts'])}"
            f" | {s['phi_cos_mean']:.3f} | {s.get('steps_mean', 0):.0f} | "
            f"{s['wall_s_mean']:.0f} | {s['cpu_s_mean']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=PAPER_GRID)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=None,
                        help="dimension of the synthetic non-circulant sets (default 33)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads per cell (default 1)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="cells run in parallel (local Dask workers)")
    parser.add_argument("--init", choices=("warm", "random"), default=None)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="any other SymmetryLens parameter (JSON value), e.g. alignment=0 "
                        "for the loss-term ablations; repeatable")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--restarts", type=int, default=None)
    parser.add_argument("--out", default="benchmarks/results/symmetrylens_table1.json")
    parser.add_argument("--sweep-dir", type=Path, default=None,
                        help="sweep directory (default sweeps/symmetrylens_table1-<time>)")
    parser.add_argument("--resume", action="store_true", help="continue --sweep-dir")
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()

    if args.resume and args.sweep_dir is None:
        parser.error("--resume needs the --sweep-dir of the interrupted grid")
    flags = {"steps": "n_steps", "restarts": "n_restarts", "init": "init"}
    params = {param: getattr(args, flag) for flag, param in flags.items()
              if getattr(args, flag) is not None}
    valid = SymmetryLens().get_params()
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or name not in valid:
            parser.error(f"--param {item!r}: expected NAME=VALUE with NAME one of "
                         f"{', '.join(sorted(valid))}")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    data = []
    for name in args.sets:
        options = {"n_samples": args.n_samples}
        if args.dim is not None and name != "mnist-slices" and not name.endswith("-circulant"):
            options["dim"] = args.dim  # MNIST and circulant keep their own 27 and 7, as the paper
        data.append({"name": name, **options})
    config = {"name": "symmetrylens-table1", "method": "symmetrylens", "seeds": args.seeds,
              "data": data, "threads_per_run": args.threads or 1, "save_runs": False,
              "fixed": params, "design": {"kind": "none"}}
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    sweep_dir = args.sweep_dir or Path("sweeps") / f"symmetrylens_table1-{stamp}"

    def report(row: dict) -> None:
        m = row["metrics"]
        if row["status"] != "ok":
            print(f"{row['data']:22s} seed {row['seed']}: FAILED {row['error']['message']}")
            return
        print(f"{row['data']:22s} seed {row['seed']}: cos {m['cos']:.3f}  phi {m['phi_cos']:.3f}"
              f"  {m['fit_wall_s']:.0f} s wall / {m['fit_cpu_s']:.0f} s CPU", flush=True)

    # One torch thread per cell by default: tiny tensors gain little from a second thread, and
    # two cells at once use both cores fully.
    result = sweeps.run_sweep(config, sweep_dir, n_workers=args.jobs, resume=args.resume,
                              progress="none", on_row=report)
    if result.n_failed or not result.complete:
        raise SystemExit(f"{result.n_failed} cells failed; see {sweep_dir}/results.jsonl")
    rows = [_row({**r, "dim": r["data_options"].get("dim") or _default_dim(r["data"])})
            for r in result.rows]
    meta = {**provenance(),
            "params": SymmetryLens(**params).get_params(), "n_samples": args.n_samples,
            "dim": args.dim, "threads": args.threads or 1, "jobs": args.jobs,
            "sweep_dir": str(sweep_dir)}
    summary = summarise(rows)
    write_results(args.out, meta, summary, rows)
    table = markdown(summary, meta)
    print(table)
    if args.update_readme:
        update_readme_section(README_BEGIN, README_END, table)


if __name__ == "__main__":
    main()
