"""Closed-form PDE symmetry discovery (:func:`symmetrykit.liederiv.discover_pde`), by hand.

For each equation, noise level and seed: generate ``--trajectories`` trajectories with
:func:`symmetrykit.datasets.pde` (seed = data seed), add Gaussian noise of the given fraction of
``std(u)`` (its own seed), run ``discover_pde`` with the degree-2 library (plus the listed extra
functions for the variable-coefficient equations) and record

* the number of symmetries counted at the largest spectral gap, and the gap;
* the Grassmann distance ``sqrt(Σθ²)`` (principal angles of the sampled fields, components in
  units of the spread of x, t, u) to the true symmetries that the library can express (for heat
  at degree 2: all but the projective one; for cKdV: the exact ones);
* CPU seconds of the discovery with the data loaded (equation fit, prolonged Lie derivative,
  SVD, gap and sparse rotation), one thread;
* the identified equation and the generators as formulas.

Generator flows' CPU time per fit (Ko et al.'s method, ``benchmarks/ko_pde_symmetries.py``) is
read from the stored JSON and printed beside it.

Examples
--------
    OMP_NUM_THREADS=1 python benchmarks/pde_discovery.py            # ~5 min on one core
    OMP_NUM_THREADS=1 python benchmarks/pde_discovery.py --quick    # seconds
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np
from _common import (
    RESULTS,
    Stopwatch,
    jsonable_args,
    provenance,
    update_readme_section,
    write_results,
)

from symmetrykit.datasets import pde
from symmetrykit.liederiv import discover_pde

#: Extra library functions per equation (generators, equation coefficient functions).
SETTINGS = {
    "kdv": {},
    "burgers": {},
    "heat": {},
    "ks": {},
    "nkdv": {"library": ["exp(t/50)", "exp(-t/50)"],
             "coefficient_functions": ["1", "exp(t/50)"]},
    "ckdv": {"library": ["sqrt(t+1)", "1/sqrt(t+1)"],
             "coefficient_functions": ["1", "1/(t+1)"]},
}
BEGIN, END = "<!-- pde-discovery:begin -->", "<!-- pde-discovery:end -->"
LIENLSD = {"kdv": (4, 0.005), "heat": (8, 0.001), "burgers": (6, 0.013)}  # potential Burgers
FLOWS_JSON = RESULTS / "ko_pde_symmetries_kdv_ks_nkdv_ckdv_s0.2_it1650_rk2.json"


def flow_cpu_seconds() -> dict[str, float]:
    """Mean CPU seconds per generator-flow fit, per equation, from the stored benchmark."""
    try:
        runs = json.loads(FLOWS_JSON.read_text())["runs"]
    except (OSError, KeyError, ValueError):
        return {}
    out: dict[str, list[float]] = {}
    for run in runs:
        if "fit_cpu_s" in run:
            out.setdefault(run["data"], []).append(float(run["fit_cpu_s"]))
    return {k: float(np.mean(v)) for k, v in out.items()}


def one_run(name: str, noise: float, seed: int, args, form: str = "weak") -> dict:
    data = pde(name, n_trajectories=args.trajectories, random_state=seed)
    u = data.u
    if noise:
        rng = np.random.default_rng([seed, 7])
        u = u + noise * u.std() * rng.standard_normal(u.shape)
    settings = SETTINGS[name]
    start = time.process_time()
    try:
        result = discover_pde(u, data.x, data.t, random_state=seed, n_points=args.points,
                              equation_form=form, **settings)
    except ValueError as exc:  # a failed identification is a result, not a crash
        return {"data": name, "noise": noise, "seed": seed, "form": form, "nullity": None,
                "expected": None, "count_ok": False, "distance": float("inf"),
                "gap": float("nan"), "cpu_s": time.process_time() - start,
                "equation": f"failed: {exc}", "formulas": []}
    cpu = time.process_time() - start
    truth = [s for s in data.symmetries if s.exact]
    expressible = result.in_library(truth)
    distance = result.distance(expressible)
    return {
        "data": name, "noise": noise, "seed": seed, "form": form,
        "nullity": result.nullity, "expected": len(expressible),
        "count_ok": result.nullity == len(expressible),
        "distance": distance, "gap": result.gap, "cpu_s": cpu,
        "equation": result.equation.formula(),
        "formulas": list(result.formulas),
        "truth": [s.name for s in expressible],
        "truth_outside_library": [s.name for s in truth if s not in expressible],
        "spectrum_head": [float(v) for v in result.singular_values[: result.nullity + 3]],
        "noise_estimate": result.noise_level,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.01, 0.05])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--trajectories", type=int, default=16)
    ap.add_argument("--points", type=int, default=20000)
    ap.add_argument("--forms", nargs="+", default=["weak"], choices=["weak", "strong"],
                    help="how the equation is fitted (weak: integral, no data derivatives)")
    ap.add_argument("--quick", action="store_true", help="kdv and heat, one seed, 4 trajectories")
    ap.add_argument("--out", default=None)
    ap.add_argument("--update-readme", action="store_true",
                    help="write the table of the JSON (--out, or the default) into the README")
    ap.add_argument("--readme-only", action="store_true",
                    help="do not run; only update the README from the existing JSON")
    args = ap.parse_args()
    if args.readme_only:
        path = args.out or RESULTS / "pde_discovery.json"
        payload = json.loads(open(path).read())
        update_readme_section(BEGIN, END, readme_table(payload["meta"], payload["summary"]))
        print(f"README updated from {path}")
        return
    if args.quick:
        args.data, args.seeds, args.trajectories, args.noise = ["kdv", "heat"], [0], 4, [0.0]
    out = args.out or RESULTS / ("pde_discovery_quick.json" if args.quick
                                 else "pde_discovery.json")
    clock = Stopwatch()
    rows = []
    for name, form in itertools.product(args.data, args.forms):
        for noise in args.noise:
            for seed in args.seeds:
                row = one_run(name, noise, seed, args, form)
                rows.append(row)
                print(f"{name:>8} {form} noise {noise:4.0%} seed {seed}: {row['nullity']} "
                      f"(expected {row['expected']}), distance {row['distance']:.2e}, gap "
                      f"{row['gap']:.3g}, {row['cpu_s']:.1f} s CPU | {row['equation']}")
                print("          " + "; ".join(row["formulas"]))
    flows = flow_cpu_seconds()
    summary = []
    for name, form in itertools.product(args.data, args.forms):
        for noise in args.noise:
            cell = [r for r in rows
                    if r["data"] == name and r["noise"] == noise and r["form"] == form]
            summary.append({
                "data": name, "form": form, "noise": noise, "n_seeds": len(cell),
                "counts": [r["nullity"] for r in cell], "expected": next(
                    (r["expected"] for r in cell if r["expected"] is not None), None),
                "counts_ok": sum(r["count_ok"] for r in cell),
                "distance_max": max(r["distance"] for r in cell),
                "distance_mean": float(np.mean([r["distance"] for r in cell])),
                "gap_min": float(np.nanmin([r["gap"] for r in cell])),
                "cpu_s_mean": float(np.mean([r["cpu_s"] for r in cell])),
                "cpu_s_max": max(r["cpu_s"] for r in cell),
                "flow_fit_cpu_s": flows.get(name),
                "lienlsd": LIENLSD.get(name),
            })
    meta = {**provenance("1 thread"), "args": jsonable_args(args), "wall_s": clock.wall_s,
            "flows_source": FLOWS_JSON.name}
    write_results(out, meta, summary, rows)
    print("\n| data | form | noise | count (expected) | seeds right | Grassmann distance (max) | "
          "smallest gap | CPU s (mean) | generator flow fit, CPU s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in summary:
        counts = "/".join(str(c) for c in s["counts"])
        flow = f"{s['flow_fit_cpu_s']:.0f}" if s["flow_fit_cpu_s"] else "—"
        print(f"| {s['data']} | {s['form']} | {s['noise']:.0%} | {counts} ({s['expected']}) | "
              f"{s['counts_ok']}/{s['n_seeds']} | {s['distance_max']:.1e} | "
              f"{s['gap_min']:.3g} | {s['cpu_s_mean']:.1f} | {flow} |")
    print(f"\nwall {meta['wall_s']:.0f} s; wrote {out}")
    if args.update_readme:
        update_readme_section(BEGIN, END, readme_table(meta, summary))
        print("README updated")


def readme_table(meta: dict, summary: list[dict]) -> str:
    """The README's table: per equation, the counts and distances at each noise level."""
    noises = sorted({s["noise"] for s in summary})
    head = ("| equation | symmetries expected | "
            + " | ".join(f"{n:.0%} noise: counts, distance (max)" for n in noises)
            + " | CPU s per run | generator flow fit, CPU s |")
    lines = [f"Measured {meta['date']} on {meta['machine']} (commit {meta['commit'][:7]}), "
             f"seeds {meta['args']['seeds']}, {meta['args']['trajectories']} trajectories, "
             f"{meta['args']['points']} points; wall {meta['wall_s']:.0f} s for all runs.", "",
             head, "|" + "---|" * (4 + len(noises))]
    for name in dict.fromkeys(s["data"] for s in summary):
        cells = {s["noise"]: s for s in summary if s["data"] == name}
        first = next(iter(cells.values()))
        row = [name, str(first["expected"])]
        for n in noises:
            c = cells[n]
            row.append(f"{'/'.join(str(k) for k in c['counts'])}, {c['distance_max']:.1e}")
        cpu = max(c["cpu_s_max"] for c in cells.values())
        row.append(f"≤ {cpu:.1f}")
        flow = first["flow_fit_cpu_s"]
        row.append(f"{flow:.0f}" if flow else "—")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
