"""Learned Lie point symmetries of KdV, KS, nKdV and cKdV (Ko, Kim & Lee 2024, Fig. 4), by hand.

For each data set and seed: generate ``--trajectories`` solutions (``datasets.pde``, seed
``1000 + seed``), fit ``GeneratorFlow`` with ``K = 4`` slots on one thread, and score the slots
with ``flows.compare`` (1 % of the points, validity of 4 trajectories flowed by ±s). The fits run
as a sweep (``symmetrykit.sweeps``, method ``generator-flow``) on ``--jobs`` local Dask workers;
the sweep directory keeps every fit and ``--resume`` continues an interrupted one:

* per slot: inner products with the Gram-Schmidt-orthonormalised true fields (the authors'
  table), the projection norm onto their span, the Galilean coefficient with ``∂u`` projected
  out (``compare``'s ``galilean``: 1 for the exact boost, 0 for ``∂u``), the validity score;
* mutual inner products of the learned slots on the same points;
* acceptance (issue 6): KdV / KS — three slots with projection >= 0.95, one with |Galilean
  coefficient| >= 0.9, the fourth slot's projection <= 0.2, mutual |<Vi, Vj>| <= 0.05
  (authors' KdV: 1.0 / 1.0 / 1.0 / 0.02); nKdV / cKdV — some slot with |inner product| >= 0.9
  with the non-affine symmetry (``e^{-t/50} ∂t`` resp. the cylindrical boost).

Wall and CPU time of each fit are recorded (the issue asks for <= 10 minutes per run).

``--s-range`` is 0.2 by default: with the paper's 0.4 the third slot lands on ``∂u`` instead of the
Galilean boost on KdV and KS (``results/*_s0.4.json``, written before the option existed).
The default 1650 iterations of 2-step RK4 flows cost about as much as 850 iterations of the
paper's 4-step flows (``--rk4-steps 4``), and pass 12 of 12 fits where those pass 11
(``results/ko_pde_symmetries_kdv_ks_nkdv_ckdv_s0.2_it1650_rk2.json`` vs ``…_it850.json``).

Examples
--------
    python benchmarks/ko_pde_symmetries.py --data kdv --seeds 0 1 2 --jobs 2  # ~8.5 min per fit
    python benchmarks/ko_pde_symmetries.py --data ks --seeds 0 --iterations 300
    python benchmarks/ko_pde_symmetries.py --quick                      # seconds, smoke test
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from _common import RESULTS, Stopwatch, jsonable_args, provenance, write_results

from symmetrykit import sweeps
from symmetrykit.datasets import PDE_NAMES
from symmetrykit.flows import GeneratorFlow

# The non-affine symmetry each time-dependent equation is judged on: the paper's nonlinear
# generators of nKdV and cKdV (docs/data.md, "Ground-truth symmetries").
NON_AFFINE = {"nkdv": "t-translation-nkdv", "ckdv": "cylindrical-galilean"}


def _acceptance(name: str, comparison: dict) -> dict:
    projection = np.asarray(comparison["projection_norms"])
    mutual = np.asarray(comparison["mutual"])
    off_diagonal = np.abs(mutual[~np.eye(len(mutual), dtype=bool)])
    result = {"max_mutual": float(off_diagonal.max())}
    if name in NON_AFFINE:
        column = list(comparison["reference_names"]).index(NON_AFFINE[name])
        best = float(np.abs(np.asarray(comparison["inner_products"])[:, column]).max())
        result.update(non_affine_field=NON_AFFINE[name], best_alignment=best,
                      passed=bool(best >= 0.9))
        return result
    order = np.argsort(-projection)
    galilean = np.abs(np.asarray(comparison["galilean"]))
    result.update(
        sorted_projections=projection[order].tolist(),
        best_galilean=float(galilean.max()),
        three_at_095=bool(np.sum(projection >= 0.95) >= 3),
        galilean_at_09=bool(galilean.max() >= 0.9),
        fourth_at_02=bool(projection[order[3]] <= 0.2) if len(order) > 3 else None,
        mutual_at_005=bool(off_diagonal.max() <= 0.05),
    )
    result["passed"] = bool(result["three_at_095"] and result["galilean_at_09"]
                            and result["fourth_at_02"] is not False and result["mutual_at_005"])
    return result


def _record(row: dict) -> dict:
    """The benchmark's record of one fit, from its sweep row."""
    metrics = row["metrics"]
    comparison = metrics["comparison"]
    return {
        "data": row["data"], "seed": row["seed"], "fit_wall_s": metrics["fit_wall_s"],
        "fit_cpu_s": metrics["fit_cpu_s"], "reference_names": comparison["reference_names"],
        "rows": comparison["rows"], "principal_angles_deg": comparison["principal_angles_deg"],
        "identity_validity": comparison["identity_validity"], "mutual": comparison["mutual"],
        "acceptance": _acceptance(row["data"], comparison),
        "final_validity_per_slot": comparison["final_validity_per_slot"],
        "validity_gap": comparison.get("validity_gap"),
        "is_symmetry": comparison.get("is_symmetry"),
        "run_id": row["run_id"],
    }


def main() -> None:
    # Defaults: GeneratorFlow's "pde-cpu" preset, the configuration of the README's PDE table.
    preset = GeneratorFlow.presets()["pde-cpu"]
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", nargs="+", default=["kdv"],
                        choices=[name for name in PDE_NAMES if name != "burgers"])  # Fig. 4
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--iterations", type=int, default=preset["n_iterations"])
    parser.add_argument("--trajectories", type=int, default=32)
    parser.add_argument("--slots", type=int, default=preset["n_generators"])
    parser.add_argument("--hidden", type=int, nargs="+", default=list(preset["hidden"]))
    parser.add_argument("--patch", type=int, nargs=2, default=list(preset["patch_shape"]))
    parser.add_argument("--batch", type=int, default=preset["batch_size"])
    parser.add_argument("--rk4-steps", type=int, default=preset["n_steps"],
                        help="RK4 steps per flow (paper: 4, twice the cost per iteration)")
    parser.add_argument("--lr", type=float, default=preset["lr"])
    parser.add_argument("--s-range", type=float, default=preset["s_range"],
                        help="largest flow time (paper: 0.4, which lands on d_u here)")
    parser.add_argument("--decay-at", type=float, default=preset["lr_decay_at"])
    parser.add_argument("--orthogonalization", default=preset["orthogonalization"],
                        choices=["gram_schmidt", "penalty"])
    parser.add_argument("--skip-gain", type=float, default=None,
                        help="GeneratorFlow's skip_gain (default: the estimator's)")
    parser.add_argument("--basis", default=preset["basis"], choices=["smoothest", "learned"],
                        help="basis of the slots judged symmetries (GeneratorFlow.basis)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke test")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=1,
                        help="fits at once (local Dask workers, one torch thread each)")
    parser.add_argument("--sweep-dir", type=Path, default=None,
                        help="sweep directory (default sweeps/ko_pde_symmetries-<time>)")
    parser.add_argument("--resume", action="store_true", help="continue --sweep-dir")
    args = parser.parse_args()
    if args.resume and args.sweep_dir is None:
        parser.error("--resume needs the --sweep-dir of the interrupted sweep")
    if args.quick:
        args.iterations, args.trajectories, args.patch, args.hidden = 3, 2, [12, 16], [8]
    options = {"n_trajectories": args.trajectories, **({"nx": 128, "nt": 40} if args.quick
                                                         else {})}
    config = {
        "name": "ko-pde-symmetries", "method": "generator-flow", "seeds": args.seeds,
        "data": [{"name": name, **options} for name in args.data],
        "fixed": {"n_generators": args.slots, "hidden": list(args.hidden),
                  "n_iterations": args.iterations, "patch_shape": list(args.patch),
                  "batch_size": args.batch, "n_steps": args.rk4_steps, "lr": args.lr,
                  "lr_decay_at": args.decay_at, "s_range": args.s_range,
                  "orthogonalization": args.orthogonalization, "basis": args.basis,
                  **({} if args.skip_gain is None else {"skip_gain": args.skip_gain})},
        "design": {"kind": "none"}}
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    sweep_dir = args.sweep_dir or Path("sweeps") / f"ko_pde_symmetries-{stamp}"
    clock = Stopwatch()
    records = []

    def report(row: dict) -> None:
        if row["status"] != "ok":
            print(f"{row['data']} seed {row['seed']}: FAILED {row['error']['message']}")
            return
        record = _record(row)
        records.append(record)
        print(f"{row['data']} seed {row['seed']}: fit {record['fit_wall_s']:.0f} s wall, "
              f"{record['fit_cpu_s']:.0f} s CPU")
        print(f"acceptance: {record['acceptance']}\n", flush=True)
        _write(args, records, clock)  # after every run: a long sweep keeps its results

    # Each fit runs on one torch thread in its own Dask worker (--jobs of them at once).
    result = sweeps.run_sweep(config, sweep_dir, n_workers=args.jobs, resume=args.resume,
                              progress="none", on_row=report)
    path = _write(args, [_record(r) for r in result.rows if r["status"] == "ok"], clock)
    print(f"wrote {path} ({result.n_failed} failed; sweep directory {sweep_dir})")


def _write(args: argparse.Namespace, rows: list[dict], clock: Stopwatch) -> Path:
    summary = []
    for name in dict.fromkeys(r["data"] for r in rows):
        mine = [r for r in rows if r["data"] == name]
        summary.append({
            "data": name, "n_seeds": len(mine),
            "passed": sum(bool(r["acceptance"]["passed"]) for r in mine),
            "fit_wall_s_max": max(r["fit_wall_s"] for r in mine),
            "fit_cpu_s_max": max(r["fit_cpu_s"] for r in mine),
        })
    meta = {
        "benchmark": "ko_pde_symmetries",
        **provenance(f"1 torch thread per fit, {args.jobs} at once"),
        "args": jsonable_args(args),
        "wall_s": clock.wall_s,
    }
    stem = ("ko_pde_symmetries_quick" if args.quick
            else f"ko_pde_symmetries_{'_'.join(args.data)}_s{args.s_range:g}")
    return write_results(args.output or RESULTS / f"{stem}.json", meta, summary, rows)


if __name__ == "__main__":
    main()
