"""The SymmetryLens sensitivity study (paper App. E.2) as a Dask sweep (run by hand; not a test).

One command runs the 36-run Morris design of ``benchmarks/sweeps/symmetrylens_morris.toml``
(8 parameters at ±25 % around symmetrykit's defaults, 7-dim Gaussian translation set, score =
cos to the minimal generator) on a local Dask cluster, writes μ, μ*, σ with confidence
intervals to JSON (with machine, date and commit) and, with ``--update-readme``, the table
beside the paper's into the README. ``--random`` runs the same design from the paper's random
start (``init = "random"``) instead of the warm start.

Examples
--------
    python benchmarks/sweep_morris.py --update-readme            # ~20 min on 2 cores
    python benchmarks/sweep_morris.py --random --update-readme
    python benchmarks/sweep_morris.py --resume                   # after an interruption
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path

from _common import provenance, update_readme_section, write_results

from symmetrykit import sweeps

HERE = Path(__file__).resolve().parent
# The paper's μ* (App. E.2, Table 6) for the parameters whose values we have; the rest are blank.
PAPER_MU_STAR = {"estimator_lr": 0.091, "information": 0.079, "data.noise": 0.011}
LABELS = {"estimator_lr": "estimator lr", "warm_model_lr": "model lr (warm_model_lr)",
          "model_lr": "model lr", "lr_decay": "lr decay", "alignment": "alignment",
          "uniformity": "uniformity", "resolution": "resolution",
          "information": "information", "data.noise": "noise (data)"}


def markdown(morris: sweeps.MorrisResult, meta: dict, scores: list[float]) -> str:
    lines = [
        f"Measured {meta['date']} on {meta['machine']} (commit {meta['commit'] or 'unknown'}): "
        f"{morris.n_runs} runs, {meta['workers']} Dask workers, {meta['wall_s'] / 60:.1f} min "
        f"wall, {meta['cpu_s_per_run']:.0f} s CPU per run; cos over the runs: min "
        f"{min(scores):.3f}, mean {sum(scores) / len(scores):.3f}, max {max(scores):.3f}. "
        f"Config `{meta['config']}`.",
        "",
        "| parameter | μ | μ* (± 95 % CI) | σ | paper μ* |",
        "|---|---|---|---|---|",
    ]
    for i in sorted(range(len(morris.names)), key=lambda i: -morris.mu_star[i]):
        name = morris.names[i]
        paper = PAPER_MU_STAR.get(name)
        lines.append(f"| {LABELS.get(name, name)} | {morris.mu[i]:+.4f} | "
                     f"{morris.mu_star[i]:.4f} ± {morris.mu_star_conf[i]:.4f} | "
                     f"{morris.sigma[i]:.4f} | {'—' if paper is None else f'{paper:.3f}'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", action="store_true",
                        help="the paper's random start instead of the warm start")
    parser.add_argument("--config", type=Path, default=None, help="another Morris config")
    parser.add_argument("--out", type=Path, default=None, help="sweep directory")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()

    stem = "symmetrylens_morris_random" if args.random else "symmetrylens_morris"
    config_path = args.config or HERE / "sweeps" / f"{stem}.toml"
    out = args.out or Path("sweeps") / stem
    result = sweeps.run_sweep(config_path, out, n_workers=args.workers, resume=args.resume,
                              progress="text",
                              on_start=lambda link: print(f"Dask dashboard: {link}", flush=True))
    if not result.complete or result.n_failed:
        raise SystemExit(f"{result.n_failed} failed / {result.n_planned - len(result.rows)} "
                         f"missing runs; fix and rerun with --resume")
    (morris,) = result.morris()
    # The sweep's span from its rows, so that a resumed sweep reports its whole duration.
    stamps = [(datetime.fromisoformat(r["started"]), datetime.fromisoformat(r["finished"]))
              for r in result.rows]
    wall = (max(f for _, f in stamps) - min(s for s, _ in stamps)).total_seconds()
    meta = {**provenance(),
            "config": str(config_path.relative_to(HERE.parent)) if config_path.is_relative_to(
                HERE.parent) else str(config_path),
            "sweep_dir": str(out), "workers": args.workers or os.cpu_count(),
            "wall_s": wall, "cpu_s_per_run": sum(r["cpu_s"] for r in result.rows) / len(
                result.rows), "executed": result.n_executed, "skipped": result.n_skipped,
            "paper_mu_star": PAPER_MU_STAR}
    rows = [{k: r[k] for k in ("run_id", "point", "varied", "metrics", "wall_s", "cpu_s")}
            for r in result.rows]
    write_results(HERE / "results" / f"{stem}.json", meta, [morris.as_dict()], rows)
    scores = [r["metrics"]["cos"] for r in result.rows]
    table = markdown(morris, meta, scores)
    print(table)
    if args.update_readme:
        marker = "sweep-morris-random" if args.random else "sweep-morris"
        update_readme_section(f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->", table)


if __name__ == "__main__":
    main()
