"""Learned Lie point symmetries of KdV, KS, nKdV and cKdV (Ko, Kim & Lee 2024, Fig. 4), by hand.

For each data set and seed: generate ``--trajectories`` solutions (``datasets.pde``, seed
``1000 + seed``), fit ``GeneratorFlow`` with ``K = 4`` slots on one thread, and score the slots
with ``flows.compare`` (1 % of the points, validity of 4 trajectories flowed by ±s):

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

Examples
--------
    python benchmarks/ko_pde_symmetries.py --data kdv --seeds 0 1 2     # ~8 min per seed
    python benchmarks/ko_pde_symmetries.py --data ks --seeds 0 --iterations 300
    python benchmarks/ko_pde_symmetries.py --quick                      # seconds, smoke test
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from _common import write_results

from symmetrykit.datasets import pde
from symmetrykit.flows import GeneratorFlow, compare, pde_points
from symmetrykit.runs import versions

RESULTS = Path(__file__).resolve().parent / "results"
# The non-affine symmetry each time-dependent equation is judged on (spec §8.4).
NON_AFFINE = {"nkdv": "t-translation-nkdv", "ckdv": "cylindrical-galilean"}


def _mutual(flow: GeneratorFlow, data, fraction: float = 0.01) -> np.ndarray:
    """Cosines between learned slots on 1 % of the data points (as compare samples them)."""
    grid = pde_points(data).reshape(-1, 3)
    rng = np.random.default_rng(0)
    points = grid[rng.choice(grid.shape[0], size=max(int(fraction * grid.shape[0]), 16),
                             replace=False)]
    values = flow.evaluate(points)
    gram = np.einsum("knd,jnd->kj", values, values) / points.shape[0]
    norms = np.sqrt(np.diag(gram))
    return gram / np.outer(norms, norms)


def _acceptance(name: str, table, mutual: np.ndarray) -> dict:
    projection = np.asarray(table.projection_norms)
    off_diagonal = np.abs(mutual[~np.eye(len(mutual), dtype=bool)])
    result = {"max_mutual": float(off_diagonal.max())}
    if name in NON_AFFINE:
        column = list(table.reference_names).index(NON_AFFINE[name])
        best = float(np.abs(table.inner_products[:, column]).max())
        result.update(non_affine_field=NON_AFFINE[name], best_alignment=best,
                      passed=bool(best >= 0.9))
        return result
    order = np.argsort(-projection)
    galilean = np.abs(np.asarray(table.galilean))
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


def run(name: str, seed: int, args: argparse.Namespace) -> dict:
    data = pde(name, n_trajectories=args.trajectories, random_state=1000 + seed,
               **({"nx": 128, "nt": 40} if args.quick else {}))
    flow = GeneratorFlow(
        n_generators=args.slots, hidden=tuple(args.hidden), n_iterations=args.iterations,
        patch_shape=tuple(args.patch), batch_size=args.batch, n_steps=args.rk4_steps,
        lr=args.lr, lr_decay_at=args.decay_at, s_range=args.s_range,
        orthogonalization=args.orthogonalization, random_state=seed)
    wall, cpu = time.perf_counter(), time.process_time()
    flow.fit(data)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    table = compare(flow, data, n_validity_samples=2 if args.quick else 4)
    mutual = _mutual(flow, data)
    print(f"{name} seed {seed}: fit {wall:.0f} s wall, {cpu:.0f} s CPU")
    print(table.to_markdown())
    accepted = _acceptance(name, table, mutual)
    print(f"acceptance: {accepted}\n", flush=True)
    return {
        "data": name, "seed": seed, "fit_wall_s": wall, "fit_cpu_s": cpu,
        "reference_names": list(table.reference_names), "rows": table.rows,
        "principal_angles_deg": np.degrees(table.principal_angles).tolist(),
        "identity_validity": table.identity_validity, "mutual": mutual.tolist(),
        "acceptance": accepted,
        "final_validity_per_slot": flow.history_["validity_per_slot"][-50:].mean(0).tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", nargs="+", default=["kdv"],
                        choices=["kdv", "ks", "nkdv", "ckdv"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--iterations", type=int, default=700)
    parser.add_argument("--trajectories", type=int, default=32)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    parser.add_argument("--patch", type=int, nargs=2, default=[32, 32])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--rk4-steps", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--s-range", type=float, default=0.2,
                        help="largest flow time (paper: 0.4, which lands on d_u here)")
    parser.add_argument("--decay-at", type=float, default=0.75)
    parser.add_argument("--orthogonalization", default="gram_schmidt",
                        choices=["gram_schmidt", "penalty"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke test")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.iterations, args.trajectories, args.patch, args.hidden = 3, 2, [12, 16], [8]
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = []
    for name in args.data:
        for seed in args.seeds:
            rows.append(run(name, seed, args))
            path = _write(args, rows, start)  # after every run: a long sweep keeps its results
    print(f"wrote {path}")


def _write(args: argparse.Namespace, rows: list[dict], start: float) -> Path:
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
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} ({platform.machine()}, {torch.get_num_threads()} thread)",
        "versions": versions(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "wall_s": time.perf_counter() - start,
    }
    stem = ("ko_pde_symmetries_quick" if args.quick
            else f"ko_pde_symmetries_{'_'.join(args.data)}_s{args.s_range:g}")
    return write_results(args.output or RESULTS / f"{stem}.json", meta, summary, rows)


if __name__ == "__main__":
    main()
