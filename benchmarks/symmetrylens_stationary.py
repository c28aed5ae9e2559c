"""SymmetryLens on stationary signals that are not local: periodic, spiky, anti-correlated.

Protocol, per set and seed: SymmetryLens with its defaults (``init="warm"``, every warm-start
candidate, the stationary reading included) is fitted on windows of 33 samples whose symmetry
is the time shift; reported are the cosine of the learned generator to the shift, the candidate
the kept run started from, the final unsupervised loss of every refined run beside the cosine of
its warm start to the truth (the loss of the run started at the true shift against that of the
run started elsewhere: which answer the paper's loss prefers), the stationarity of the kept
representation and whether the fit warned.

Sets: synthetic windows (``symmetrykit.datasets.stationary_signals``: periodic spike trains,
an AR(2) process anti-correlated at lag 1, two narrow-band oscillations; 20,000 windows, a fresh
draw per seed) and windows of real recordings inside aeon's wheel
(``symmetrykit.datasets.record_windows``: household electricity use, spiky and cycling every 3
samples; arterial blood pressure, smooth, block means of 4 so that a window spans a few beats).
The real sets are the same windows for every seed (only the fit's seed changes).

Examples
--------
    python benchmarks/symmetrylens_stationary.py                  # every set, seeds 0-2
    python benchmarks/symmetrylens_stationary.py --sets spikes --seeds 0
    python benchmarks/symmetrylens_stationary.py --quick
    python benchmarks/symmetrylens_stationary.py --update-readme
    python benchmarks/symmetrylens_stationary.py --table1-check   # Table-1 fits unchanged?
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from _common import (
    RESULTS,
    Stopwatch,
    result_source,
    run_meta,
    update_readme_section,
    write_results,
)
from symmetry_cnn_ucr import DOWNSAMPLE as UCR_DOWNSAMPLE

SYNTHETIC = ("spikes", "anticorrelated", "oscillations")
REAL = {"electric-devices": 1, "internal-bleeding": 4}  # record: block size
SETS = (*SYNTHETIC, *REAL)
README_BEGIN = "<!-- symmetrylens-stationary:begin -->"
README_END = "<!-- symmetrylens-stationary:end -->"


def load(name: str, seed: int, n_samples: int):
    import symmetrykit as sk

    if name in REAL:
        return sk.datasets.record_windows(name, downsample=REAL[name], n_windows=n_samples)
    return sk.datasets.stationary_signals(name, n_samples=n_samples, random_state=seed)


def run_one(job: dict) -> dict:
    import torch

    import symmetrykit as sk

    torch.set_num_threads(1)
    started, cpu0 = time.perf_counter(), time.process_time()
    data = load(job["set"], job["seed"], job["n_samples"])
    lens = sk.SymmetryLens(random_state=job["seed"], progress="none", **job["params"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lens.fit(data.X)
    middle = slice(lens.padding_, lens.padding_ + data.X.shape[1])
    # Each warm start's cos to the truth (a random restart has none).
    start_cos = {w.source: float(sk.metrics.generator_similarity(
        w.padded_generator[middle, middle], data.generator)) for w in lens.warm_starts_}
    return {
        "set": job["set"], "seed": job["seed"], "n_samples": int(data.X.shape[0]),
        "cos": float(sk.metrics.generator_similarity(lens.generator_, data.generator)),
        "kept_start": lens.restart_starts_[lens.best_restart_],
        "runs": [{"start": start, "loss": float(loss), "warm_cos": start_cos.get(start)}
                 for start, loss in zip(lens.restart_starts_, lens.restart_losses_,
                                        strict=True)],
        "stationarity": lens.stationarity_,
        "warned": any("shift-invariant" in str(w.message) for w in caught),
        "lens_s": lens.fit_time_["wall_s"],
        "wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu0,
    }


def summarise(rows: list[dict]) -> list[dict]:
    cells: dict[str, list[dict]] = {}
    for row in rows:
        cells.setdefault(row["set"], []).append(row)
    summary = []
    for name in [s for s in SETS if s in cells]:
        group = sorted(cells[name], key=lambda r: r["seed"])
        cos = np.array([r["cos"] for r in group])
        summary.append({"set": name, "seeds": [r["seed"] for r in group],
                        "cos": cos.tolist(), "cos_mean": float(cos.mean()),
                        "cos_min": float(cos.min()),
                        "kept_starts": [r["kept_start"] for r in group],
                        "stationarity": [r["stationarity"] for r in group],
                        "warned": [r["warned"] for r in group],
                        "lens_s_mean": float(np.mean([r["lens_s"] for r in group]))})
    return summary


def _losses(row: dict) -> str:
    return ", ".join(f"{r['start']} {r['loss']:.3f}"
                     + ("" if r["warm_cos"] is None else f" (start cos {r['warm_cos']:.2f})")
                     for r in row["runs"])


def table(summary: list[dict], rows: list[dict]) -> str:
    lines = ["| set | cos to the shift (seeds) | kept start | loss of each refined run, seed 0 "
             "| stationarity of the kept representation | warned | fit |",
             "|---|---|---|---|---|---|---|"]
    for cell in summary:
        first = next(r for r in rows if r["set"] == cell["set"] and r["seed"] == cell["seeds"][0])
        stat = ", ".join("–" if v is None else f"{v:.3f}" for v in cell["stationarity"])
        lines.append(
            f"| {cell['set']} | {', '.join(f'{c:.3f}' for c in cell['cos'])} | "
            f"{', '.join(sorted(set(cell['kept_starts'])))} | {_losses(first)} | {stat} | "
            f"{sum(cell['warned'])} of {len(cell['warned'])} | {cell['lens_s_mean']:.0f} s |")
    return "\n".join(lines)


TABLE1 = (("gaussian-translation", 33), ("gaussian-permuted", 33), ("gaussian-frequency", 33),
          ("legendre-translation", 33), ("legendre-permuted", 33), ("legendre-frequency", 33),
          ("mnist-slices", 27), ("gaussian-circulant", 7))


UCR_SETS = ("GunPoint", "ArrowHead")  # the recorded fits of symmetry_cnn_ucr.py
UCR_VIEWS = ("raw", "permuted", "dst")


def _selection_row(X: np.ndarray, seed: int, truth: np.ndarray) -> dict:
    """The warm-start candidates of one default fit (the fit's own random stream: a fit of one
    step) with and without the stationary reading, each candidate's invariance check, and
    whether ``selection="invariance"`` keeps what the loss kept. The recorded fits kept the
    true symmetry (cos ≥ 0.98), so the choice is unchanged when no candidate is eligible or
    one that starts at the truth is (|cos| ≥ 0.9): the loss's pick is then among the eligible.
    Candidates are checked at their start (a refined run must also stay with it), so this can
    only flag too many cells, never too few."""
    import symmetrykit as sk
    from symmetrykit.lens._selection import RunCheck, eligible_runs

    def starts(bases: tuple[str, ...]) -> sk.SymmetryLens:
        lens = sk.SymmetryLens(n_steps=1, warmup_steps=0, tol=None, warm_bases=bases,
                               random_state=seed, progress="none")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lens.fit(X)

    before = starts(("rotation", "coordinates", "frequency"))
    lens = starts(("rotation", "coordinates", "frequency", "stationary"))
    dim = X.shape[1]
    middle = slice(lens.padding_, lens.padding_ + dim)
    at_truth = [abs(float(sk.metrics.generator_similarity(w.padded_generator[middle, middle],
                                                          truth))) >= 0.9
                for w in lens.warm_starts_]
    checks = [RunCheck(**c) for c in lens.run_checks_]
    eligible = eligible_runs("invariance", checks)
    return {"refined_before": before.restart_starts_, "refined_after": lens.restart_starts_,
            "candidates_unchanged": before.restart_starts_ == lens.restart_starts_,
            "checks": dict(zip(lens.restart_starts_, lens.run_checks_, strict=True)),
            "at_truth": [s for s, t in zip(lens.restart_starts_, at_truth, strict=True) if t],
            "eligible": [lens.restart_starts_[i] for i in eligible],
            "selection_unchanged": not eligible or any(at_truth[i] for i in eligible)}


def table1_check(seeds: list[int]) -> list[dict]:
    """Whether this module's additions change any recorded fit of Table 1 or of the UCR
    benchmark, without refitting (:func:`_selection_row`): (1) the stationary reading leaves
    the refined candidates (usable, one per symmetry) as they were, and (2)
    ``selection="invariance"`` keeps the run the loss kept."""
    import symmetrykit as sk

    rows = []
    for name, dim in TABLE1:
        for seed in seeds:
            data = sk.datasets.make_dataset(name, dim=dim, n_samples=20_000, random_state=seed)
            rows.append({"set": name, "seed": seed}
                        | _selection_row(data.X, seed, data.generator))
            print(f"{name} seed {seed}: {rows[-1]}", flush=True)
    for name in UCR_SETS:
        for view in UCR_VIEWS:
            data = sk.datasets.ucr(name, view=view, downsample=UCR_DOWNSAMPLE[name],
                                   random_state=0)
            for seed in seeds:
                rows.append({"set": f"{name} ({view})", "seed": seed}
                            | _selection_row(data.inputs, seed, data.generator))
                print(f"{name} {view} seed {seed}: {rows[-1]}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--n-samples", type=int, default=20_000)
    ap.add_argument("--warm-bases", nargs="+", default=None,
                    help="restrict the warm-start candidates (default: all)")
    ap.add_argument("--jobs", type=int, default=2, help="fits at once (one thread each)")
    ap.add_argument("--quick", action="store_true", help="spikes, seed 0, 4,000 windows")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--update-readme", action="store_true",
                    help="only rewrite the README table from the result file")
    ap.add_argument("--table1-check", action="store_true",
                    help="only check that the stationary reading and the invariance "
                         "selection change no recorded Table-1 or UCR fit")
    args = ap.parse_args()
    if args.table1_check:
        clock = Stopwatch()
        rows = table1_check(args.seeds)
        meta = run_meta(args, clock, __doc__, "warm starts only, no refinement")
        out = RESULTS / "symmetrylens_stationary_table1_check.json"
        summary = {"cells": len(rows),
                   "candidates_unchanged": sum(r["candidates_unchanged"] for r in rows),
                   "selection_unchanged": sum(r["selection_unchanged"] for r in rows)}
        write_results(out, meta, [summary], rows)
        print(f"{summary}; wrote {out}")
        return
    out = args.out or RESULTS / f"symmetrylens_stationary{'_quick' if args.quick else ''}.json"
    if args.update_readme:
        result = json.loads(out.read_text())
        source = result_source(out, result["meta"])
        update_readme_section(README_BEGIN, README_END,
                              f"Run: {source}.\n\n{table(result['summary'], result['runs'])}")
        return
    if args.quick:
        args.sets, args.seeds, args.n_samples = ["spikes"], [0], 4000
    params = {} if args.warm_bases is None else {"warm_bases": tuple(args.warm_bases)}
    jobs = [{"set": name, "seed": seed, "n_samples": args.n_samples, "params": params}
            for name in args.sets for seed in args.seeds]
    clock = Stopwatch()
    rows: list[dict] = []
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with ProcessPoolExecutor(args.jobs) as pool:
        for future in as_completed([pool.submit(run_one, job) for job in jobs]):
            row = future.result()
            rows.append(row)
            print(f"{row['set']} seed {row['seed']}: cos {row['cos']:.4f}, kept "
                  f"{row['kept_start']} ({_losses(row)}), stationarity {row['stationarity']}, "
                  f"warned {row['warned']} ({row['wall_s']:.0f} s)", flush=True)
            meta = run_meta(args, clock, __doc__, f"1 torch thread per fit, {args.jobs} at once")
            write_results(out, meta, summarise(rows), rows)
    print("\n" + table(summarise(rows), rows))
    print(f"\nwall {clock.wall_s:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
