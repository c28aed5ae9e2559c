"""Symmetry augmentation for a small 1-D FNO on KdV, Burgers or heat (Ko, Kim & Lee 2024).

Protocol (a CPU-sized simplification of the authors' ``train_fno.py``; see the JSON ``meta``):

* data: ``pde(--pde)`` (default ``kdv``; nx = 256, the last nt = 140 saved steps; KdV L = 128,
  t ∈ [44.2, 100]; Burgers and heat ``u_t = 0.01 u_xx`` L = 2π, t ∈ [4.0, 18]);
  ``--n-train`` (32) training and ``--n-test`` (32) held-out trajectories from one seed;
* model: :class:`symmetrykit.flows.FNO1d`, 20 past steps in, the next 20 out (as the
  authors), but width 32, 16 modes, 4 layers (authors: 256, 32, 5); Adam with cosine decay,
  ``--steps`` (6000) steps of batch 16, MSE loss (authors: AdamW, 40 × 280 passes, summed MSE);
* augmentation: ``--versions`` precomputed transformed copies of the training set
  (:func:`augment_solutions`, one random symmetry and ``s ~ U(−s, s)`` per trajectory; rows
  without support cropped, trajectories with < 60 valid rows kept original); each training sample
  is the original with probability 0.5, else a random copy, at a random start time inside its
  valid rows. Fields act in the authors' learning coordinates (x_n = x/L, t_n = (t − t0)/(140 dt),
  u_n = c·u; c = 0.3463 KdV, 20.19 Burgers, 1 heat) and are normalised to unit RMS over the data
  points, so ``--s-range`` 0.2 (uniform, std 0.115) matches the authors' sigma = 0.1.
  With ``--combine`` each copy is instead flowed for unit time along a random linear combination
  ``Σ a_k f_k`` of all the arm's fields, ``a_k ~ U(−s, s)`` independently (as Ko et al.'s and
  LieNLSD's pipelines do), with the same rejection rule; the arms are then named
  ``"... (combined)"``;
* arms (``--arms``, default the first three, plus (d) when a learned file is given): (a) none,
  (b) ground truth (``data.reference_symmetries``: KdV and Burgers {x-translation,
  t-translation, Galilean boost}, heat {∂x, ∂t, u ∂u}), (c) discovered: the closed-form symmetry
  algebra that :func:`symmetrykit.liederiv.discover_pde` finds on the physical training
  trajectories only (``random_state = --data-seed``), of which the ``periodic_symmetries()``
  (components independent of x; scalings change the period) are used; its nullity, formulas,
  periodic formulas, gap and CPU seconds go to ``meta["discovery"]``, (d) learned fields from
  ``--learned FILE`` or ``--learned-flow DIR`` (skipped when absent);
* metric (as the authors): from steps 20–40 unroll autoregressively in blocks of 20 to step 140;
  NMSE = Σ over the 100 predicted steps of mean_x (pred − true)² / mean_x true², averaged over the
  held-out trajectories. Also reported: the NMSE of the first block alone (steps 40–60).

Found with the default data seed (``--quick``: 8 training trajectories; 2 s CPU each): KdV
∂x, ∂t, t ∂x + ∂u, x ∂x + 3t ∂t − 2u ∂u (periodic: the first three, the same fields as the
ground truth); Burgers the same three, x ∂x + 2t ∂t − u ∂u and t x ∂x + t² ∂t + (x − t u) ∂u
(periodic: the first three); heat ∂x, ∂t, ∂u, x ∂u, u ∂u, t ∂x − 50 x u ∂u, x ∂x + 2t ∂t,
(t + 50 x²) ∂u (periodic: ∂x, ∂t, ∂u, u ∂u, i.e. the ground truth and the u-shift).

``--learned FILE`` is an ``.npz`` with ``fields`` (K, M, 3) sampled at ``points`` (M, 3), both in
the learning coordinates (x_n, t_n, u_n); each field is fitted by least squares with quadratic
polynomials in (x_n, t_n, u_n) and then used like the ground-truth fields.

The output defaults to ``results/ko_augmentation[_PDE][_combined][_quick].json`` (no ``_PDE`` for
KdV); give ``--out`` when running a subset of ``--arms`` so a full result is not overwritten.

Examples
--------
    OMP_NUM_THREADS=1 python benchmarks/ko_augmentation.py            # ~8 min, one core (est.)
    OMP_NUM_THREADS=1 python benchmarks/ko_augmentation.py --quick    # 15 s (meta wall_s 10 s)
    OMP_NUM_THREADS=1 python benchmarks/ko_augmentation.py --quick --pde burgers     # 12 s
    OMP_NUM_THREADS=1 python benchmarks/ko_augmentation.py --quick --pde heat        # 13 s
    OMP_NUM_THREADS=1 python benchmarks/ko_augmentation.py --quick --combine         # 15 s
    python benchmarks/ko_augmentation.py --arms discovered --combine --seeds 0 1 2 \
        --n-test 256 --n-val 32 --out benchmarks/results/ko_augmentation_discovered_combined.json
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
from symmetrykit.flows import FNO1d, augment_solutions, transform_solutions

WINDOW = 20
PDES = ("kdv", "burgers", "heat")
ARMS = ("none", "ground truth", "discovered", "learned")
MIN_VALID_FRACTION = 60 / 140  # as augment_solutions (the authors' 60 of 140 rows)


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


def combine_solutions(u: np.ndarray, x: np.ndarray, t: np.ndarray, fields: list,
                      s_range: float, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray, int]:
    """Flow each trajectory along a random linear combination ``Σ a_k f_k``, ``a_k ~ U(−s, s)``.

    The combined field is flowed for unit time (:func:`transform_solutions` with ``s = 1``).
    As in :func:`augment_solutions`, a trajectory with fewer than ``ceil(nt · 60/140)`` valid
    rows is replaced by the original. Returns ``(u_new, valid, n_rejected)``.
    """
    n_traj, nt, _ = u.shape
    coef = rng.uniform(-s_range, s_range, size=(n_traj, len(fields)))
    min_rows = math.ceil(nt * MIN_VALID_FRACTION)
    out, valid, rejected = np.empty_like(u), np.zeros((n_traj, nt), bool), 0
    for b in range(n_traj):

        def combined(points: torch.Tensor, a=coef[b]) -> torch.Tensor:
            return sum(float(a_k) * f(points) for a_k, f in zip(a, fields, strict=True))

        moved, rows = transform_solutions(u[b:b + 1], x, t, combined, s=1.0)
        if rows.sum() < min_rows:
            out[b], valid[b] = u[b], True
            rejected += 1
        else:
            out[b], valid[b] = moved[0], rows[0]
    return out, valid, rejected


def arm_name(text: str) -> str:
    """``--arms`` values: ``none``, ``ground-truth`` (or ``gt``), ``discovered``, ``learned``."""
    name = " ".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
    name = {"gt": "ground truth", "groundtruth": "ground truth"}.get(name, name)
    if name not in ARMS:
        raise argparse.ArgumentTypeError(
            f"unknown arm {text!r}; choose from none, ground-truth, discovered, learned")
    return name


def discovered_fields(data, n_train: int, seed: int) -> tuple[tuple, dict]:
    """Symmetries found by :func:`discover_pde` on the physical training trajectories only."""
    from symmetrykit.liederiv import discover_pde

    t0 = time.perf_counter()
    res = discover_pde(data.u[:n_train], data.x, data.t, random_state=seed)
    wall = time.perf_counter() - t0
    print("discovered (training trajectories only):\n" + res.summary())
    periodic = res.periodic_symmetries()
    record = {"equation": res.equation.formula(), "nullity": int(res.nullity),
              "formulas": list(res.formulas),
              "periodic_formulas": [s.name for s in periodic],
              "gap": float(res.gap), "cpu_s": float(res.details["cpu_seconds"]),
              "wall_s": wall, "n_trajectories": int(n_train), "random_state": seed}
    print(f"augmenting with the {len(periodic)} periodic ones: "
          f"{', '.join(record['periodic_formulas']) or '(none)'}; "
          f"{record['cpu_s']:.1f} s CPU")
    return periodic, record


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
    ap.add_argument("--pde", choices=PDES, default="kdv", help="equation of the data")
    ap.add_argument("--arms", type=arm_name, nargs="+", default=None,
                    help="arms to run: none, ground-truth, discovered, learned (default: the "
                         "first three, and learned when --learned or --learned-flow is given)")
    ap.add_argument("--combine", action="store_true",
                    help="flow each copy along a random linear combination of all the arm's "
                         "fields (coefficients U(-s, s)) instead of one random field")
    ap.add_argument("--learned", type=Path, default=None, help="npz of learned field samples")
    ap.add_argument("--learned-flow", type=Path, default=None,
                    help="directory of a saved GeneratorFlow for --pde (learning coordinates)")
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
    learned_given = args.learned is not None or args.learned_flow is not None
    wanted = list(dict.fromkeys(args.arms or
                                [a for a in ARMS if a != "learned" or learned_given]))
    if "learned" in wanted and not learned_given:
        raise SystemExit("--arms learned needs --learned FILE or --learned-flow DIR")
    stem = "ko_augmentation" + ("" if args.pde == "kdv" else f"_{args.pde}")
    stem += ("_combined" if args.combine else "") + ("_quick" if args.quick else "")
    out = args.out or RESULTS / f"{stem}.json"
    torch.set_num_threads(1)
    clock = Stopwatch()

    data = pde(args.pde, n_trajectories=args.n_train + args.n_test + args.n_val,
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

    arms, discovery = {}, None
    if "none" in wanted:
        arms["none"] = []
    if "ground truth" in wanted:
        arms["ground truth"] = [unit_rms(coords.physical_to_learning(s), sample)
                                for s in data.reference_symmetries]
    if "discovered" in wanted:
        # Physical units, training trajectories only; the periodic subset preserves the domain.
        found, discovery = discovered_fields(data, args.n_train, args.data_seed)
        if found:
            arms["discovered"] = [unit_rms(coords.physical_to_learning(s), sample)
                                  for s in found]
        else:
            print("discovered: no periodic symmetry found, arm not run")
    if "learned" in wanted and args.learned_flow is not None:
        arms["learned"] = [unit_rms(f, sample)
                           for f in load_learned_flow(args.learned_flow, args.slots)]
    elif "learned" in wanted:
        if args.learned.exists():
            arms["learned"] = [unit_rms(f, sample) for f in load_learned(args.learned)]
        else:
            print(f"(c) learned: {args.learned} does not exist, arm not run")
    elif args.arms is None:
        print("(c) learned: no --learned FILE given, arm not run")
    if args.combine:  # distinguishable names in the JSON; "none" has nothing to combine
        arms = {(f"{k} (combined)" if v else k): v for k, v in arms.items()}

    rows, summary = [], []
    for arm, fields in arms.items():
        t0 = time.perf_counter()
        pool, starts, rejected = [u_train], [valid_starts(np.ones(u_train.shape[:2], bool))], 0
        for v in range(args.versions if fields else 0):
            rng = np.random.default_rng([args.data_seed, v])
            if args.combine:
                aug_u, aug_valid, n_rej = combine_solutions(u_train, xn, tn, fields,
                                                            args.s_range, rng)
            else:
                aug = augment_solutions(u_train, xn, tn, fields, s_range=args.s_range,
                                        random_state=rng)
                aug_u, aug_valid, n_rej = aug.u, aug.valid, int(np.sum(aug.symmetry < 0))
            pool.append(np.nan_to_num(aug_u))  # NaN rows are never sampled (valid_starts)
            starts.append(valid_starts(aug_valid))
            rejected += n_rej
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
    gt = "ground truth (combined)" if args.combine else "ground truth"
    acceptance = (bool(by_arm["none"]["nmse_mean"] > by_arm[gt]["nmse_mean"])
                  if "none" in by_arm and gt in by_arm else None)
    meta = {**provenance(), "threads": 1,
            "args": jsonable_args(args),
            "pde": args.pde, "equation": data.equation, "combine": args.combine,
            "arms": list(arms), "discovery": discovery,
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
    print(f"\nacceptance NMSE(none) > NMSE({gt}): {acceptance}; wall "
          f"{meta['wall_s']:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
