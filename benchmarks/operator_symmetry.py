"""Neural operators with symmetry: plain, augmented, promoted, enforced FNOs (KdV, Burgers, heat).

Protocol (one JSON row per equation × training size × arm × seed):

* data: ``pde(--pde)`` with ``--data-seed``; the first ``--max-train`` (128) trajectories are
  set aside for training and the first ``--n-train`` of them train (nested: the 8 are among the
  32, the 32 among the 128), the next ``--n-val`` choose the weights (best validation NMSE,
  checked every ``--eval-every`` steps), the next ``--n-test`` are held out — the same held-out
  trajectories for every training size and run, so that every row compares with the plain row
  of its size (rows of different splits are never compared);
* model: :class:`symmetrykit.flows.FNO1d`, the last 20 saved steps in, the next 20 out (width 32,
  16 modes, 4 layers), Adam (``--lr``) with cosine decay, ``--steps`` steps of batch 16 windows
  drawn at random trajectories and start rows, MSE loss;
* grid: window-relative times (the last input row at ``t = 0``), periodic ``x``; the candidates
  are the equation's reference symmetries that act on a periodic grid (KdV and Burgers ``∂x``,
  ``∂t``, ``t ∂x + ∂u``; heat ``∂x``, ``∂t``, ``u ∂u``) plus, for heat, the shift ``∂u``;
* arms:
  - ``plain``;
  - ``augmented``: each window, with probability 1/2, moved by a random exact symmetry
    transformation of the whole window (a boost ``u(x − s t, t) + s``, ``s ~ U(−a, a)``, and a
    random ``x``-shift; heat: ``u ↦ e^s u + c``), ``a = --boost`` × the data's RMS;
  - ``promoted``: the loss plus ``--gamma`` × :class:`OperatorSymmetryPenalty` (nuclear norm over
    the candidates other than ``∂x``, which an FNO has by construction) on ``--penalty-fields``
    windows of each batch; with ``--candidates discovered`` the candidates are the periodic
    symmetries :func:`discover_pde` finds on the run's training trajectories;
  - ``enforced``: :class:`GalileanFrame` around the FNO (KdV and Burgers: the boost
    ``t ∂x + ∂u``; heat: ``∂u``), exact by construction; translations by the FNO itself;
* metrics: from rows 20–40 unroll autoregressively in blocks of 20 to row 140: NMSE summed over
  the 100 predicted rows (mean over x of (pred − true)² / mean over x of true²), mean over the
  held-out trajectories; the same on the held-out trajectories boosted by ``s ~ U(−a, a)`` (exact
  solutions too: the boost is a symmetry); and :func:`discover_operator` on 32 held-out windows
  over the candidates: the count (gap ≥ 10), per candidate ``‖L F‖ / ‖Q_out‖``, and the angle
  between the boost and the two most symmetric directions;
* cost: CPU seconds per training step of each arm (one torch thread per run).

Examples
--------
    python benchmarks/operator_symmetry.py --quick                       # ~1 min
    python benchmarks/operator_symmetry.py --pde kdv --n-train 8 32 128 --seeds 0 1 2 --jobs 2
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import torch
from _common import (
    RESULTS,
    Stopwatch,
    run_meta,
    update_readme_section,
    write_results,
)
from ko_augmentation import WINDOW, evaluate

from symmetrykit.datasets import PointSymmetry, pde
from symmetrykit.flows import FNO1d
from symmetrykit.liederiv import (
    FieldGrid,
    GalileanFrame,
    OperatorSymmetryPenalty,
    discover_operator,
    discover_pde,
    galilean_boost,
)

ARMS = ("plain", "augmented", "promoted", "enforced")
U_SHIFT = PointSymmetry("u-shift", lambda x, t, u: (0.0, 0.0, 1.0))


def candidates(data) -> list:
    """The reference symmetries acting on the periodic grid (and ∂u for the heat equation)."""
    found = [s for s in data.symmetries if s.reference]
    return found + [U_SHIFT] if data.name == "heat" else found


def window_grid(data) -> FieldGrid:
    dt = float(data.t[1] - data.t[0])
    times = dt * (np.arange(2 * WINDOW) - (WINDOW - 1))
    return FieldGrid(data.x, times[:WINDOW], times[WINDOW:], periodic=True,
                     length=float(data.params["length"]))


def boost_velocity(data) -> float:
    return 0.0 if data.name == "heat" else 1.0


def augment(batch: torch.Tensor, data, grid: FieldGrid, scale: float,
            rng: np.random.Generator) -> torch.Tensor:
    """Move half the windows (input and target rows together) by a random exact symmetry."""
    chosen = torch.as_tensor(rng.random(batch.shape[0]) < 0.5)
    if not bool(chosen.any()):
        return batch
    times = np.concatenate([grid.t_in, grid.t_out])
    n = int(chosen.sum())
    amount = torch.as_tensor(rng.uniform(-scale, scale, n), dtype=batch.dtype)
    moved = batch[chosen]
    if data.name == "heat":
        factor = torch.as_tensor(np.exp(rng.uniform(-0.5, 0.5, n)), dtype=batch.dtype)
        moved = moved * factor[:, None, None] + amount[:, None, None]
    else:
        moved = galilean_boost(moved, amount, times, grid, velocity=1.0)
    shift = torch.as_tensor(rng.uniform(0, grid.length, n), dtype=batch.dtype)
    moved = galilean_boost(moved, shift, np.ones(times.size), grid, velocity=1.0) - \
        shift[:, None, None]  # a pure x-shift: boost at t = 1 without the u-shift
    out = batch.clone()
    out[chosen] = moved
    return out


def rollout_nmse(model, u: np.ndarray) -> float:
    """NMSE summed over the autoregressive rollout (the augmentation benchmark's metric)."""
    return evaluate(model, u)["nmse"]


def boosted(data, u: np.ndarray, scale: float, seed: int) -> np.ndarray:
    """Held-out trajectories moved by random exact symmetry transformations (absolute times)."""
    rng = np.random.default_rng(seed)
    amount = rng.uniform(-scale, scale, u.shape[0])
    grid = FieldGrid(data.x, data.t[:2], data.t[2:4], length=float(data.params["length"]))
    tensor = torch.as_tensor(u)
    if data.name == "heat":
        return u + amount[:, None, None]
    return galilean_boost(tensor, torch.as_tensor(amount), data.t - data.t[0], grid).numpy()


def train_one(job: dict) -> dict:
    torch.set_num_threads(1)
    args = argparse.Namespace(**job["args"])
    # The trajectories were solved once (job["data"]); the grid and symmetries are the same for
    # any number of trajectories.
    data = pde(args.pde, n_trajectories=1, random_state=args.data_seed)
    with np.load(job["data"]) as stored:
        u_all = stored["u"]
    grid = window_grid(data)
    cands = candidates(data)
    u_train = u_all[:job["n_train"]]
    u_val = u_all[args.max_train:args.max_train + args.n_val]
    u_test = u_all[args.max_train + args.n_val:]
    scale = args.boost * float(np.sqrt(np.mean(u_all ** 2)))
    seed, arm = job["seed"], job["arm"]
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng([seed, job["n_train"]])
    inner = FNO1d(WINDOW, WINDOW, width=args.width, modes=args.modes, n_layers=args.layers,
                  rng=gen)
    model = GalileanFrame(inner, grid, velocity=boost_velocity(data)) if arm == "enforced" \
        else inner
    penalty, promoted = None, []
    if arm == "promoted":
        source = cands
        if args.candidates == "discovered":  # the closed-form algebra of the training data
            found = discover_pde(u_train, data.x, data.t, random_state=args.data_seed)
            source = list(found.periodic_symmetries())
        # ∂x is exact for an FNO by construction on whole grid steps: promoted only when named
        # (the pointwise nonlinearities alias sub-grid shifts)
        promoted = [s for s in source if s.name in args.promote] if args.promote else \
            [s for s in source if s.name not in ("x-translation", "∂x")]
        if not promoted:
            raise SystemExit(f"--promote {args.promote}: none of {[s.name for s in source]}")
        penalty = OperatorSymmetryPenalty(promoted, grid, n_fields=args.penalty_fields,
                                          kind=args.penalty_kind)
    # The penalty (an output change per unit input change) does not scale with the data, the
    # mean squared error does: --relative-gamma weighs it by the training data's mean square.
    gamma = args.gamma * (float(np.mean(u_train ** 2)) if args.relative_gamma else 1.0)
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=args.steps)
    best = {"nmse": math.inf, "step": 0, "state": None}
    n_rows = u_train.shape[1]
    clock = Stopwatch()
    train_cpu = 0.0
    for step in range(1, args.steps + 1):
        start = time.process_time()
        b = rng.integers(u_train.shape[0], size=args.batch)
        j = rng.integers(0, n_rows - 2 * WINDOW + 1, size=args.batch)
        windows = [u_train[i, r:r + 2 * WINDOW] for i, r in zip(b, j, strict=True)]
        batch = torch.as_tensor(np.stack(windows), dtype=torch.float32)
        if arm == "augmented":
            batch = augment(batch, data, grid, scale, rng)
        loss = torch.mean((model(batch[:, :WINDOW]) - batch[:, WINDOW:]) ** 2)
        if penalty is not None:
            inputs = batch[:args.penalty_fields, :WINDOW]
            for _ in range(args.penalty_ahead):  # the windows the rollout will feed back
                with torch.no_grad():
                    inputs = model(inputs)
            loss = loss + gamma * penalty(model, inputs)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        train_cpu += time.process_time() - start
        if step % args.eval_every == 0 or step == args.steps:
            score = rollout_nmse(model, u_val)
            if score < best["nmse"]:
                best.update(nmse=score, step=step,
                            state={k: v.detach().clone() for k, v in model.state_dict().items()})
    model.load_state_dict(best["state"])
    model.eval()
    found = discover_operator(model, torch.as_tensor(u_test[:32, WINDOW:2 * WINDOW],
                                                     dtype=torch.float64).float(),
                              cands, grid, gap_ratio=10.0)
    boost_name = "u-shift" if data.name == "heat" else "galilean"
    label = arm
    if arm == "promoted":
        weight = f"{args.gamma:g} ⟨u²⟩" if args.relative_gamma else f"{args.gamma:g}"
        extra = ", discovered" if args.candidates == "discovered" else ""
        extra += f", {' + '.join(args.promote)} only" if args.promote else ""
        extra += f", on forecasts {args.penalty_ahead} ahead" if args.penalty_ahead else ""
        extra += f", {args.penalty_kind}" if args.penalty_kind != "nuclear" else ""
        label = f"promoted (γ {weight}{extra})"
    row = {
        "pde": args.pde, "n_train": job["n_train"], "max_train": args.max_train,
        "arm": label, "seed": seed,
        "nmse": rollout_nmse(model, u_test),
        "nmse_boosted": rollout_nmse(model, boosted(data, u_test, scale, 10_000 + seed)),
        "val_nmse": best["nmse"], "best_step": best["step"],
        "cpu_s_per_step": train_cpu / args.steps, "wall_s": clock.wall_s,
        "nullity": found.nullity, "gap": found.gap,
        "spectrum": found.singular_values.tolist(),
        "relative_lie_derivative": found.relative_lie_derivatives,
        "x_translation_angle": found.angle("x-translation"),
        "boost_angle": found.angle(boost_name),
        "boost_angle_within_2": found.angle_within(boost_name, 2),
        "formulas": list(found.formulas()),
        "promoted_candidates": [s.name for s in promoted],
        "gamma_effective": gamma if arm == "promoted" else None,
    }
    print(f"{args.pde} n={job['n_train']:>3} {label:>9} seed {seed}: NMSE {row['nmse']:.4g} "
          f"(boosted {row['nmse_boosted']:.4g}), {found.nullity} symmetries (∂x at "
          f"{row['x_translation_angle']:.2f}°), boost angle {row['boost_angle_within_2']:.1f}° "
          f"|LF|/|Q| {found.relative_lie_derivatives[boost_name]:.3g}, "
          f"{row['cpu_s_per_step'] * 1e3:.0f} ms/step, "
          f"{row['wall_s']:.0f} s", flush=True)
    return row


def summarise(rows: list[dict]) -> list[dict]:
    """Mean and spread per equation, training size, split and arm; "vs plain" against the plain
    rows of the same size *and split* (the held-out trajectories differ between splits)."""
    cells: dict[tuple, list[dict]] = {}
    for r in rows:
        cells.setdefault((r["pde"], r["n_train"], r["max_train"], r["arm"]), []).append(r)
    out = []
    for (name, n, split, arm), group in sorted(
            cells.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2],
                                           ARMS.index(kv[0][3].split()[0]), kv[0][3])):
        nmse = np.array([g["nmse"] for g in group])
        plain = [r["nmse"] for r in rows if (r["pde"], r["n_train"], r["max_train"], r["arm"])
                 == (name, n, split, "plain")]
        out.append({
            "pde": name, "n_train": n, "max_train": split, "arm": arm, "n_seeds": len(group),
            "val_nmse_mean": float(np.mean([g["val_nmse"] for g in group])),
            "nmse_mean": float(nmse.mean()), "nmse_std": float(nmse.std()),
            "vs_plain": float(nmse.mean() / np.mean(plain) - 1) if plain else None,
            "nmse_boosted_mean": float(np.mean([g["nmse_boosted"] for g in group])),
            "nullity": [g["nullity"] for g in group],
            "boost_angle_within_2_mean": float(np.mean([g["boost_angle_within_2"]
                                                        for g in group])),
            "cpu_s_per_step_mean": float(np.mean([g["cpu_s_per_step"] for g in group])),
        })
    return out


def readme_table(paths: list[Path]) -> str:
    """The README's table from the result files of several equations and settings."""
    import json

    rows, sources = [], []
    for path in paths:
        result = json.loads(path.read_text())
        meta = result["meta"]
        sources.append(f"`{path.name}` (commit {str(meta['commit'])[:7]}, {meta['date'][:10]}, "
                       f"wall {meta['wall_s'] / 60:.0f} min)")
        args = meta["args"]
        for row in result["runs"]:
            if row["arm"] == "promoted":  # files written before the label carried γ
                row = row | {"arm": f"promoted (γ {args['gamma']:g})"}
            # files written before the split was recorded: the largest size of their run
            row = {"max_train": args.get("max_train") or max(args["n_train"])} | row
            rows.append(row)
    lines = ["| equation | trajectories (of pool) | arm | 100-step NMSE (3 seeds) | vs plain | "
             "boosted test NMSE | symmetries found (per seed) | boost angle | CPU ms / step |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in summarise(rows):
        change = "" if s["arm"] == "plain" else "no plain row" if s["vs_plain"] is None else \
            f"{100 * s['vs_plain']:+.1f} %"
        lines.append(
            f"| {s['pde']} | {s['n_train']} ({s['max_train']}) | {s['arm']} | "
            f"{s['nmse_mean']:.3g} ± "
            f"{s['nmse_std']:.2g} | {change} | {s['nmse_boosted_mean']:.3g} | "
            f"{' / '.join(map(str, s['nullity']))} | {s['boost_angle_within_2_mean']:.1f}° | "
            f"{1e3 * s['cpu_s_per_step_mean']:.0f} |")
    return "Runs: " + "; ".join(sources) + ".\n\n" + "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny settings (about a minute)")
    ap.add_argument("--pde", choices=("kdv", "burgers", "heat"), default="kdv")
    ap.add_argument("--n-train", type=int, nargs="+", default=[8, 32, 128])
    ap.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--n-val", type=int, default=32)
    ap.add_argument("--n-test", type=int, default=256)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--modes", type=int, default=16)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--gamma", type=float, default=0.1, help="weight of the penalty")
    ap.add_argument("--relative-gamma", action="store_true",
                    help="multiply --gamma by the training data's mean square of u")
    ap.add_argument("--candidates", choices=("reference", "discovered"), default="reference",
                    help="what the promoted arm promotes: the equation's reference symmetries "
                         "or those discover_pde finds on the training trajectories (periodic)")
    ap.add_argument("--promote", nargs="+", default=None, metavar="NAME",
                    help="promote only these candidates (e.g. galilean); default all but ∂x")
    ap.add_argument("--penalty-fields", type=int, default=2,
                    help="windows of each batch the penalty is evaluated on")
    ap.add_argument("--penalty-kind", choices=OperatorSymmetryPenalty.KINDS, default="nuclear",
                    help="nuclear norm over the candidates, or per-candidate norms")
    ap.add_argument("--penalty-ahead", type=int, default=0,
                    help="evaluate the penalty on the operator's own forecasts this many "
                         "applications ahead of the batch's windows (0: on the windows)")
    ap.add_argument("--boost", type=float, default=0.5,
                    help="augmentation and boosted-test range, in units of the data's RMS")
    ap.add_argument("--max-train", type=int, default=128,
                    help="trajectories set aside for training before the validation and test "
                         "ones: the same split for every --n-train up to it")
    ap.add_argument("--data-seed", type=int, default=2024)
    ap.add_argument("--jobs", type=int, default=1, help="runs at once (one thread each)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--update-readme", action="store_true",
                    help="only rewrite the README table from results/operator_symmetry_*.json")
    args = ap.parse_args()
    if args.update_readme:
        paths = sorted(p for p in RESULTS.glob("operator_symmetry_*.json")
                       if not p.stem.endswith("_quick"))
        update_readme_section("<!-- operator-symmetry:begin -->", "<!-- operator-symmetry:end -->",
                              readme_table(paths))
        return
    if args.quick:
        args.n_train, args.seeds, args.steps, args.eval_every = [8], [0], 30, 15
        args.n_val, args.n_test, args.width, args.modes, args.layers = 4, 8, 16, 8, 2
        args.max_train = max(args.n_train)
    if args.max_train < max(args.n_train):
        raise SystemExit(f"--max-train {args.max_train} is below --n-train {max(args.n_train)}")
    n_total = args.max_train + args.n_val + args.n_test
    out = args.out or RESULTS / f"operator_symmetry_{args.pde}{'_quick' if args.quick else ''}.json"
    clock = Stopwatch()
    scratch = tempfile.TemporaryDirectory()
    data_file = Path(scratch.name) / "u.npz"
    np.savez(data_file, u=pde(args.pde, n_trajectories=n_total, random_state=args.data_seed).u)
    jobs = [{"args": vars(args) | {"out": str(out)}, "data": str(data_file), "n_train": n,
             "arm": arm, "seed": seed}
            for n in args.n_train for seed in args.seeds for arm in args.arms]
    rows: list[dict] = []

    def save() -> None:
        meta = run_meta(args, clock, __doc__, f"1 torch thread per run, {args.jobs} at once")
        write_results(out, meta, summarise(rows), rows)

    if args.jobs == 1:
        for job in jobs:
            rows.append(train_one(job))
            save()
    else:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        with ProcessPoolExecutor(args.jobs) as pool:
            for future in as_completed([pool.submit(train_one, job) for job in jobs]):
                rows.append(future.result())
                save()
    save()
    scratch.cleanup()
    print("\n| n_train | arm | NMSE (100 steps) | vs plain | boosted NMSE | symmetries | "
          "boost angle | ms/step |\n|---|---|---|---|---|---|---|---|")
    for s in summarise(rows):
        change = "" if s["vs_plain"] is None or s["arm"] == "plain" else \
            f"{100 * s['vs_plain']:+.1f} %"
        print(f"| {s['n_train']} | {s['arm']} | {s['nmse_mean']:.4g} ± {s['nmse_std']:.2g} | "
              f"{change} | {s['nmse_boosted_mean']:.4g} | {s['nullity']} | "
              f"{s['boost_angle_within_2_mean']:.1f}° | {1e3 * s['cpu_s_per_step_mean']:.0f} |")
    print(f"\nwall {clock.wall_s:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
