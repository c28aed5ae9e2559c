"""Symmetry augmentation for a small 1-D FNO on KdV (Ko, Kim & Lee 2024), by hand.

Protocol (a CPU-sized simplification of the authors' ``train_fno.py``; see the JSON ``meta``):

* data: ``pde("kdv")`` (L = 128, nx = 256, the last 140 saved steps, t ∈ [44.2, 100]);
  ``--n-train`` (32) training and ``--n-test`` (32) held-out trajectories from one seed;
* model: :class:`symmetrykit.flows.FNO1d`, 20 past steps in, the next 20 out (as the
  authors), but width 32, 16 modes, 4 layers (authors: 256, 32, 5); Adam with cosine decay,
  ``--steps`` (6000) steps of batch 16, MSE loss (authors: AdamW, 40 × 280 passes, summed MSE);
* augmentation: ``--versions`` precomputed transformed copies of the training set
  (:func:`augment_solutions`, one random symmetry and ``s ~ U(−s, s)`` per trajectory; rows
  without support cropped, trajectories with < 60 valid rows kept original); each training sample
  is the original with probability 0.5, else a random copy, at a random start time inside its
  valid rows. Fields act in the authors' learning coordinates (x_n = x/L, t_n = (t − t0)/(140 dt),
  u_n = c·u) and are normalised to unit RMS over the data points, so ``--s-range`` 0.2 (uniform,
  std 0.115) matches the authors' sigma = 0.1;
* arms: (a) none, (b) ground truth {x-translation, t-translation, Galilean boost}, (c) learned
  fields from ``--learned FILE`` (skipped when absent);
* metric (as the authors): from steps 20–40 unroll autoregressively in blocks of 20 to step 140;
  NMSE = Σ over the 100 predicted steps of mean_x (pred − true)² / mean_x true², averaged over the
  held-out trajectories. Also reported: the NMSE of the first block alone (steps 40–60).

``--learned FILE`` is an ``.npz`` with ``fields`` (K, M, 3) sampled at ``points`` (M, 3), both in
the learning coordinates (x_n, t_n, u_n); each field is fitted by least squares with quadratic
polynomials in (x_n, t_n, u_n) and then used like the ground-truth fields.

Examples
--------
    OMP_NUM_THREADS=1 python benchmarks/ko_augmentation.py            # 306 s on one core
    OMP_NUM_THREADS=1 python benchmarks/ko_augmentation.py --quick    # seconds, smoke test
    python benchmarks/ko_augmentation.py --learned runs/kdv_fields.npz
    python benchmarks/ko_augmentation.py --learned-flow runs/flow-kdv-seed0 --slots 1 2 3
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from pathlib import Path

import numpy as np
import torch
from _common import RESULTS, Stopwatch, jsonable_args, provenance, write_results

from symmetrykit.datasets import pde
from symmetrykit.flows import FNO1d, augment_solutions

WINDOW = 20


# --------------------------------------------------------------------------- coordinates


class LearningCoordinates:
    """The authors' learning coordinates: x_n = x/L, t_n = (t − t0)/(nt·dt), u_n = c·u.

    See ``docs/data.md`` ("Learning coordinates") for the constants ``c``.
    """

    def __init__(self, params: dict, nt: int):
        self.length = params["length"]
        self.t0 = params["t0"]
        self.span = nt * params["dt"]
        self.c = params["u_scale"]

    def grids(self, x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x / self.length, (t - self.t0) / self.span

    def physical_to_learning(self, symmetry):
        """A physical PointSymmetry as a field on torch (N, 3) points in learning coordinates."""

        def field(points: torch.Tensor) -> torch.Tensor:
            p = points.numpy()
            xi, tau, phi = symmetry(p[:, 0] * self.length, p[:, 1] * self.span + self.t0,
                                    p[:, 2] / self.c)
            return torch.as_tensor(
                np.stack([xi / self.length, tau / self.span, phi * self.c], axis=-1))

        return field


def unit_rms(field, points: np.ndarray):
    """``field`` divided by its RMS norm over ``points`` (the authors normalise fields so)."""
    norm = float(np.sqrt(np.mean(np.sum(field(torch.as_tensor(points)).numpy() ** 2, axis=-1))))
    if not norm > 0:
        raise SystemExit("a symmetry field vanishes on the data")

    def normalised(p: torch.Tensor) -> torch.Tensor:
        return field(p) / norm

    return normalised


def quadratic_features(p: np.ndarray) -> np.ndarray:
    cols = [np.ones(len(p))] + [p[:, i] for i in range(3)]
    cols += [p[:, i] * p[:, j] for i, j in itertools.combinations_with_replacement(range(3), 2)]
    return np.stack(cols, axis=-1)


def load_learned(path: Path) -> list:
    with np.load(path, allow_pickle=False) as data:
        points, fields = np.asarray(data["points"], float), np.asarray(data["fields"], float)
    if points.ndim != 2 or points.shape[1] != 3 or fields.shape[1:] != points.shape:
        raise SystemExit(f"{path}: need points (M, 3) and fields (K, M, 3), got "
                         f"{points.shape} and {fields.shape}")
    design = quadratic_features(points)
    out = []
    for k in range(fields.shape[0]):
        coef, *_ = np.linalg.lstsq(design, fields[k], rcond=None)
        resid = np.linalg.norm(design @ coef - fields[k]) / np.linalg.norm(fields[k])
        print(f"learned field {k}: quadratic fit relative residual {resid:.2e}")

        def field(p: torch.Tensor, coef=coef) -> torch.Tensor:
            return torch.as_tensor(quadratic_features(p.numpy()) @ coef)

        out.append(field)
    return out


def load_learned_flow(path: Path, slots: list[int]) -> list:
    """Slots (1-based) of a GeneratorFlow saved by ``flow.save(DIR)`` / ``flow-discover``."""
    from symmetrykit.flows import GeneratorFlow

    flow = GeneratorFlow.load(path)  # also reads symmetrykit 0.1's flow.json directories
    if not all(1 <= k <= flow.n_generators for k in slots):
        raise SystemExit(f"--slots must be in 1..{flow.n_generators}, got {slots}")
    # flow.generators_[k] maps (N, 3) arrays to (N, 3) arrays; the augmentation flows tensors.
    return [lambda p, g=flow.generators_[k - 1]: torch.as_tensor(g(p.numpy())) for k in slots]


# --------------------------------------------------------------------------- training


def valid_starts(valid: np.ndarray) -> list[np.ndarray]:
    """Start rows j with rows j .. j + 2·WINDOW − 1 all valid, per trajectory."""
    width = 2 * WINDOW
    out = []
    for rows in valid:
        run = np.convolve(rows.astype(int), np.ones(width, int), mode="valid")
        out.append(np.flatnonzero(run == width))
    return out


def train(pool: list[np.ndarray], starts: list[list[np.ndarray]], args, seed: int,
          u_val: np.ndarray | None = None) -> tuple[FNO1d, dict]:
    """pool[0] = originals (n, nt, nx); pool[1:] = augmented copies; starts alike.

    With validation trajectories the weights with the lowest validation NMSE (checked every
    ``args.eval_every`` steps and at the end) are returned, as the authors report the test
    metric at the best validation epoch.
    """
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = FNO1d(WINDOW, WINDOW, width=args.width, modes=args.modes, n_layers=args.layers,
                  rng=gen)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps)
    n_traj = pool[0].shape[0]
    best = {"nmse": math.inf, "step": 0, "state": None}

    def check(step: int) -> None:
        if u_val is None:
            return
        model.eval()
        score = evaluate(model, u_val)["nmse"]
        model.train()
        if score < best["nmse"]:
            best.update(nmse=score, step=step,
                        state={k: v.detach().clone() for k, v in model.state_dict().items()})

    for step in range(1, args.steps + 1):
        batch = []
        for _ in range(args.batch):
            b = int(rng.integers(n_traj))
            version = 0
            if len(pool) > 1 and rng.random() >= 0.5:
                version = int(rng.integers(1, len(pool)))
            choices = starts[version][b]
            if choices.size == 0:
                version, choices = 0, starts[0][b]
            j = int(choices[rng.integers(choices.size)])
            batch.append(pool[version][b, j:j + 2 * WINDOW])
        batch = torch.as_tensor(np.stack(batch), dtype=torch.float32)
        loss = torch.mean((model(batch[:, :WINDOW]) - batch[:, WINDOW:]) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if args.eval_every and step % args.eval_every == 0 and step < args.steps:
            check(step)
    check(args.steps)
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    return model, {"best_step": best["step"], "val_nmse": best["nmse"]}


@torch.no_grad()
def evaluate(model: FNO1d, u_test: np.ndarray) -> dict:
    true = torch.as_tensor(u_test, dtype=torch.float32)
    state = true[:, WINDOW:2 * WINDOW]
    preds = []
    for _ in range(2 * WINDOW, true.shape[1] - WINDOW + 1, WINDOW):
        state = model(state)
        preds.append(state)
    pred = torch.cat(preds, dim=1)
    target = true[:, 2 * WINDOW:2 * WINDOW + pred.shape[1]]
    per_step = ((pred - target) ** 2).mean(-1) / (target ** 2).mean(-1)  # (B, steps)
    return {"nmse": float(per_step.sum(1).mean()),
            "nmse_first_block": float(per_step[:, :WINDOW].sum(1).mean()),
            "predicted_steps": int(pred.shape[1])}


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny settings, seconds")
    ap.add_argument("--learned", type=Path, default=None, help="npz of learned field samples")
    ap.add_argument("--learned-flow", type=Path, default=None,
                    help="directory of a saved GeneratorFlow fitted on KdV (learning coordinates)")
    ap.add_argument("--slots", type=int, nargs="+", default=[1, 2, 3],
                    help="1-based slots of --learned-flow to use (those that are symmetries)")
    ap.add_argument("--n-train", type=int, default=32)
    ap.add_argument("--n-test", type=int, default=32)
    ap.add_argument("--n-val", type=int, default=0,
                    help="validation trajectories for choosing the best weights (0: last)")
    ap.add_argument("--eval-every", type=int, default=500,
                    help="steps between validation checks")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--modes", type=int, default=16)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--versions", type=int, default=8, help="augmented copies of the train set")
    ap.add_argument("--s-range", type=float, default=0.2)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--data-seed", type=int, default=2024)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if args.quick:
        args.n_train, args.n_test, args.steps, args.versions = 8, 8, 40, 1
        args.n_val, args.eval_every = min(args.n_val, 4), 20
        args.width, args.modes, args.layers, args.seeds = 16, 8, 2, args.seeds[:1]
    out = args.out or RESULTS / ("ko_augmentation_quick.json" if args.quick
                                 else "ko_augmentation.json")
    torch.set_num_threads(1)
    clock = Stopwatch()

    data = pde("kdv", n_trajectories=args.n_train + args.n_test + args.n_val,
               random_state=args.data_seed)
    nt = data.u.shape[1]
    coords = LearningCoordinates(data.params, nt)
    xn, tn = coords.grids(data.x, data.t)
    un = coords.c * data.u
    u_train = un[:args.n_train]
    u_test = un[args.n_train:args.n_train + args.n_test]
    u_val = un[args.n_train + args.n_test:] if args.n_val else None
    tt, xx = np.meshgrid(tn, xn, indexing="ij")
    # Points on which fields are normalised: the graphs of the first training trajectories.
    sample = np.concatenate([np.stack([xx.ravel(), tt.ravel(), u.ravel()], axis=-1)
                             for u in u_train[:4]])

    arms = {"none": []}
    arms["ground truth"] = [unit_rms(coords.physical_to_learning(s), sample)
                            for s in data.reference_symmetries]
    if args.learned_flow is not None:
        arms["learned"] = [unit_rms(f, sample)
                           for f in load_learned_flow(args.learned_flow, args.slots)]
    elif args.learned is not None:
        if args.learned.exists():
            arms["learned"] = [unit_rms(f, sample) for f in load_learned(args.learned)]
        else:
            print(f"(c) learned: {args.learned} does not exist, arm not run")
    else:
        print("(c) learned: no --learned FILE given, arm not run")

    rows, summary = [], []
    for arm, fields in arms.items():
        t0 = time.perf_counter()
        pool, starts, rejected = [u_train], [valid_starts(np.ones(u_train.shape[:2], bool))], 0
        for v in range(args.versions if fields else 0):
            aug = augment_solutions(u_train, xn, tn, fields, s_range=args.s_range,
                                    random_state=np.random.default_rng([args.data_seed, v]))
            pool.append(np.nan_to_num(aug.u))  # NaN rows are never sampled (valid_starts)
            starts.append(valid_starts(aug.valid))
            rejected += int(np.sum(aug.symmetry < 0))
        aug_s = time.perf_counter() - t0
        results = []
        for seed in args.seeds:
            t1 = time.perf_counter()
            model, chosen = train(pool, starts, args, seed, u_val)
            res = evaluate(model, u_test) | chosen | {"arm": arm, "seed": seed,
                                                      "train_s": time.perf_counter() - t1}
            print(f"{arm:>12} seed {seed}: NMSE {res['nmse']:.4f} (first block "
                  f"{res['nmse_first_block']:.4f}), {res['train_s']:.0f} s")
            rows.append(res)
            results.append(res)
        nm = np.array([r["nmse"] for r in results])
        nf = np.array([r["nmse_first_block"] for r in results])
        summary.append({"arm": arm, "n_seeds": len(results), "nmse_mean": nm.mean(),
                        "nmse_std": nm.std(), "nmse_first_block_mean": nf.mean(),
                        "nmse_first_block_std": nf.std(), "augment_s": aug_s,
                        "rejected_trajectories": rejected,
                        "n_fields": len(fields)})

    by_arm = {s["arm"]: s for s in summary}
    acceptance = bool(by_arm["none"]["nmse_mean"] > by_arm["ground truth"]["nmse_mean"])
    meta = {**provenance(), "threads": 1,
            "args": jsonable_args(args),
            "protocol": "Ko, Kim & Lee 2024 augmentation experiment, simplified: FNO 20->20 "
                        "steps, autoregressive 20-40 -> 140; "
                        "NMSE summed over predicted steps, mean over held-out trajectories",
            "acceptance_none_gt_ground_truth": acceptance,
            "wall_s": clock.wall_s}
    write_results(out, meta, summary, rows)
    print("\n| arm | NMSE (100 steps) | NMSE (first 20 steps) | seeds |\n|---|---|---|---|")
    for s in summary:
        print(f"| {s['arm']} | {s['nmse_mean']:.4f} ± {s['nmse_std']:.4f} | "
              f"{s['nmse_first_block_mean']:.4f} ± {s['nmse_first_block_std']:.4f} | "
              f"{s['n_seeds']} |")
    print(f"\nacceptance NMSE(none) > NMSE(ground truth): {acceptance}; wall "
          f"{meta['wall_s']:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
