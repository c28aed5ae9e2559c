"""Reproduce the SymmetryLens paper's Table 1 grid on this machine (run by hand; not a test).

Every cell fits ``SymmetryLens`` with the *same* hyperparameters on one built-in data set and
scores the learned generator against the data set's ground truth (``generator_similarity``) and
the group convolution against the expected ``±Qᵀ``/``±J Qᵀ`` (``representation_similarity``).
Results (cos mean ± std over seeds, wall and CPU time, steps, machine, commit) go to JSON, and a
markdown table is printed (and written into the README between the table markers with
``--update-readme``).

Examples
--------
    python benchmarks/symmetrylens_table1.py --sets gaussian-circulant --seeds 0 1 2
    python benchmarks/symmetrylens_table1.py --steps 500 --jobs 2 --update-readme  # the grid
    python benchmarks/symmetrylens_table1.py --init random --sets gaussian-translation  # ablation
    python benchmarks/symmetrylens_table1.py --sets mnist-slices --param alignment=0  # E.3
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone

import numpy as np
from _common import update_readme_section, write_results

import symmetrykit as sk
from symmetrykit.lens import SymmetryLens
from symmetrykit.runs import versions

PAPER_GRID = [
    "gaussian-translation", "gaussian-permuted", "gaussian-frequency",
    "legendre-translation", "legendre-permuted", "legendre-frequency",
    "mnist-slices", "gaussian-circulant",
]
README_BEGIN = "<!-- symmetrylens-table1:begin -->"
README_END = "<!-- symmetrylens-table1:end -->"


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def run_cell(name: str, seed: int, params: dict, n_samples: int, dim: int | None) -> dict:
    if name == "mnist-slices" or name.endswith("-circulant"):
        dim = None  # these keep their own default dimension (27 and 7, as in the paper)
    ds = sk.datasets.make_dataset(name, n_samples=n_samples, random_state=seed, dim=dim)
    lens = SymmetryLens(random_state=seed, progress="none", **params)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    lens.fit(ds.X)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    cos = sk.metrics.generator_similarity(lens.generator_, ds.generator)
    phi_cos = sk.metrics.representation_similarity(lens.group_convolution_, ds.transform,
                                                   cyclic=ds.cyclic)
    cos2 = sk.metrics.generator_similarity(lens.generator_, ds.generator @ ds.generator)
    cos_warm, start = None, "random"
    if lens.warm_start_ is not None:  # the warm start of the kept run
        start = lens.warm_start_.source
        pad, dim_ = lens.padding_, ds.dim
        crop = lens.warm_start_.padded_generator[pad:pad + dim_, pad:pad + dim_]
        cos_warm = sk.metrics.generator_similarity(crop, ds.generator)
    return {"dataset": name, "dim": ds.dim, "seed": seed, "cos": cos, "cos_G2": cos2,
            "cos_warm_start": cos_warm, "kept_start": start,
            "warm_starts": [w.source for w in lens.warm_starts_],
            "restart_losses": lens.restart_losses_, "best_restart": lens.best_restart_,
            "phi_cos": phi_cos, "wall_s": wall, "cpu_s": cpu, "steps": lens.n_steps,
            "restarts": lens.n_restarts, "filter_argmax": int(np.argmax(np.abs(lens.filter_)))}


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
                        "phi_cos_mean": phi.mean(), "wall_s_mean": np.mean(
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
        "| cos(Φ, ±Qᵀ) | wall s | CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        warm = s["cos_warm_start_mean"]
        lines.append(
            f"| {s['dataset']} | {s['dim']} | {s['n_seeds']} | {s['cos_mean']:.3f} ± "
            f"{s['cos_std']:.3f} ({s['cos_min']:.3f}) | "
            f"{_warm_cell(warm, s['kept_starts'])}"
            f" | {s['phi_cos_mean']:.3f} | "
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
    parser.add_argument("--jobs", type=int, default=1, help="cells run in parallel")
    parser.add_argument("--init", choices=("warm", "random"), default=None)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="any other SymmetryLens parameter (JSON value), e.g. alignment=0 "
                        "for the loss-term ablations; repeatable")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--restarts", type=int, default=None)
    parser.add_argument("--out", default="benchmarks/results/symmetrylens_table1.json")
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()

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
    cells = [(name, seed) for name in args.sets for seed in args.seeds]
    rows = []
    # Cells run in separate processes (one torch thread each by default): tiny tensors gain
    # little from a second thread, and two cells at once use both cores fully.
    with ProcessPoolExecutor(args.jobs, initializer=_set_threads,
                             initargs=(args.threads or 1,)) as pool:
        futures = [pool.submit(run_cell, name, seed, params, args.n_samples, args.dim)
                   for name, seed in cells]
        for future in futures:
            row = future.result()
            rows.append(row)
            print(f"{row['dataset']:22s} seed {row['seed']}: cos {row['cos']:.3f}  "
                  f"phi {row['phi_cos']:.3f}  {row['wall_s']:.0f} s wall / "
                  f"{row['cpu_s']:.0f} s CPU", flush=True)
    info = versions()
    meta = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} ({platform.processor() or platform.machine()}, "
                       f"{__import__('os').cpu_count()} cores)",
            "commit": info.get("git_commit"), "versions": info,
            "params": SymmetryLens(**params).get_params(), "n_samples": args.n_samples,
            "dim": args.dim, "threads": args.threads or 1, "jobs": args.jobs}
    summary = summarise(rows)
    write_results(args.out, meta, summary, rows)
    table = markdown(summary, meta)
    print(table)
    if args.update_readme:
        update_readme_section(README_BEGIN, README_END, table)


if __name__ == "__main__":
    main()
