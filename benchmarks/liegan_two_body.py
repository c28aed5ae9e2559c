"""LieGAN on its own two-body task (Yang et al. 2023), by hand.

Data: :func:`symmetrykit.datasets.two_body` (15,000 pairs ``x → y`` of 8-dimensional states of
two unit masses under gravity, centre-of-mass frame, ``y`` 0.1 time units after ``x``); the
symmetry is one rotation acting on all four 2-vectors, ``block_diag(J, J, J, J)``.

Runs, 3 seeds each, 3,500 steps of batch 64 (the official run: 15 epochs of 14,652 pairs at batch
64 = 3,435 steps): pairs with the 2 × 2 block mask (the official README setting), pairs without
a mask, ``x`` alone with the mask, and the mask with the official optimiser settings (the
generator's Adam betas (0.5, 0.999), generator updated before the discriminator), and the
Kronecker subalgebra ``I ⊗ gl(2)`` (one 2 × 2 block tied across the pairs). Reported:
|cos| of the learned generator to the truth, the final discriminator loss (chance: 2 ln 2 ≈
1.386) and CPU seconds per step, beside the same step written as a plain PyTorch loop (matrix
exponential, the same discriminator, two Adam updates) on one thread.

Examples
--------
    OMP_NUM_THREADS=1 python benchmarks/liegan_two_body.py          # ≈ 4 min
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import RESULTS, Stopwatch, jsonable_args, provenance, write_results

from symmetrykit.baselines import LieGAN
from symmetrykit.baselines._adversarial import Discriminator
from symmetrykit.datasets import two_body
from symmetrykit.metrics import frobenius_cosine

SETTINGS = {
    "pairs, block-2 mask": {"pairs": True, "mask": "block-2"},
    "pairs, block-2 mask, official optimiser": {
        "pairs": True, "mask": "block-2", "betas": (0.5, 0.999), "update_order": "generator-first"},
    "pairs, kron-2 subalgebra": {"pairs": True, "subalgebra": "kron-2"},
    "pairs, no mask": {"pairs": True, "mask": None},
    "x only, block-2 mask": {"pairs": False, "mask": "block-2"},
}


def plain_loop_seconds_per_step(X: np.ndarray, Y: np.ndarray, steps: int, batch: int) -> float:
    """CPU seconds per step of the same game written directly in PyTorch (no estimator)."""
    gen = torch.Generator().manual_seed(0)
    data = torch.as_tensor(np.stack([X, Y], axis=1), dtype=torch.float32)
    data = (data - data.mean()) / data.std()
    mask = torch.as_tensor(np.kron(np.eye(4), np.ones((2, 2))), dtype=torch.float32)
    basis = (torch.randn(1, 8, 8, generator=gen) * 0.1 * mask).requires_grad_(True)
    disc = Discriminator(16, 128, gen)
    g_opt = torch.optim.Adam([basis], lr=1e-3)
    d_opt = torch.optim.Adam(disc.parameters(), lr=1e-3)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    start = time.process_time()
    for _ in range(steps):
        real = data[torch.randint(len(data), (batch,), generator=gen)].flatten(1)
        source = data[torch.randint(len(data), (batch,), generator=gen)]
        z = torch.randn(batch, 1, generator=gen)
        elements = torch.linalg.matrix_exp(torch.einsum("bk,kij->bij", z, basis * mask))
        fake = torch.einsum("bij,bmj->bmi", elements, source).flatten(1)
        ones = torch.ones(batch)
        d_loss = bce(disc(real), ones) + bce(disc(fake.detach()), torch.zeros(batch))
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        cos = torch.nn.functional.cosine_similarity(fake, source.flatten(1), dim=1)
        g_loss = bce(disc(fake), ones) + cos.abs().mean()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
    return (time.process_time() - start) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=3500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    clock = Stopwatch()
    data = two_body(random_state=0)
    rows = []
    for label, setting in SETTINGS.items():
        for seed in args.seeds:
            options = {k: v for k, v in setting.items() if k != "pairs"}
            model = LieGAN(n_generators=1, n_steps=args.steps, batch_size=args.batch,
                           progress="none", random_state=seed, **options)
            start = time.process_time()
            model.fit(data.X, data.Y if setting["pairs"] else None)
            cpu = time.process_time() - start
            cos = abs(frobenius_cosine(model.generators_[0], data.generator))
            rows.append({"setting": label, "seed": seed, "cos": cos,
                         "d_loss": model.history_["d_loss"][-1], "cpu_s": cpu,
                         "cpu_s_per_step": cpu / model.n_steps_})
            print(f"{label:>22} seed {seed}: |cos| {cos:.4f}, d_loss "
                  f"{rows[-1]['d_loss']:.3f}, {cpu:.1f} s CPU")
    plain = plain_loop_seconds_per_step(data.X, data.Y, 500, args.batch)
    summary = []
    for label in SETTINGS:
        cell = [r for r in rows if r["setting"] == label]
        per_step = float(np.mean([r["cpu_s_per_step"] for r in cell]))
        summary.append({"setting": label, "cos": [r["cos"] for r in cell],
                        "seeds_at_0.99": sum(r["cos"] >= 0.99 for r in cell),
                        "cpu_s_per_step": per_step, "plain_loop_s_per_step": plain,
                        "ratio_to_plain": per_step / plain})
    meta = {**provenance("1 thread"), "args": jsonable_args(args), "wall_s": clock.wall_s,
            "official": {"pairs, block-2 mask": 0.998, "pairs, no mask": 0.41}}
    out = args.out or RESULTS / "liegan_two_body.json"
    write_results(out, meta, summary, rows)
    print("\n| setting | |cos| per seed | ≥ 0.99 | ms CPU per step (plain loop) |")
    print("|---|---|---|---|")
    for s in summary:
        print(f"| {s['setting']} | {' / '.join(f'{c:.4f}' for c in s['cos'])} | "
              f"{s['seeds_at_0.99']}/{len(s['cos'])} | {1e3 * s['cpu_s_per_step']:.2f} "
              f"({1e3 * plain:.2f}, ×{s['ratio_to_plain']:.2f}) |")
    print(f"\nwall {meta['wall_s']:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
