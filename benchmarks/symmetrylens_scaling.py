"""SymmetryLens's cost curve: CPU and wall time, steps, memory and cos from 7 to 257 features.

    python benchmarks/symmetrylens_scaling.py --jobs 2 --update-readme  # the README table
    python benchmarks/symmetrylens_scaling.py --dims 7 33 --seeds 0 --sets gaussian-translation
    python benchmarks/symmetrylens_scaling.py --profile-only --dims 33 129

Two parts, both with one torch (and BLAS) thread per process:

* **Per-step profile** (``profile`` in the JSON): the step split into its kernels — the
  rotation (the Cayley update of a warm start, and the paper's matrix exponential for
  comparison), the group convolution, the projection of the batch, and the loss with its
  density heads — each timed forward and backward on tensors of the fit's shapes, with its FLOP
  count. The "FLOP estimate" of a step divides each kernel's FLOPs by this machine's measured
  single-thread GEMM rate (float64 for the rotation and the orbit, float32 for the rest), so
  ``measured / estimate`` says how far the step is from what the arithmetic needs.
* **Fits**: default ``SymmetryLens`` (only ``random_state`` set) on ``--n-samples`` samples
  of every set, dimension and seed, each in a fresh process (``--jobs`` at a time), recording
  CPU and wall seconds, model steps and why each run stopped, peak memory (the child's
  maximum resident set), cos to the true generator, cos of the kept warm start alone and
  cos(Φ, ±Qᵀ).

Results go to ``benchmarks/results/symmetrylens_scaling.json`` (or ``--out``); with
``--update-readme`` the summary table replaces the README's scaling section.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, provenance, update_readme_section, write_results  # noqa: E402

README_BEGIN = "<!-- symmetrylens-scaling:begin -->"
README_END = "<!-- symmetrylens-scaling:end -->"
SETS = ("gaussian-translation", "gaussian-permuted", "image-rows")
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


# ------------------------------------------------------------------ one fit (child process)
_FIT = r"""
import json, sys, time
import numpy as np, torch
torch.set_num_threads(1)
import symmetrykit as sk
from symmetrykit.lens import evaluate
name, dim, seed, n_samples, device, n_steps = json.loads(sys.argv[1])
ds = sk.datasets.make_dataset(name, n_samples=n_samples, dim=dim, random_state=seed)
cpu0, wall0 = time.process_time(), time.perf_counter()
lens = sk.SymmetryLens(random_state=seed, progress="none", device=device,
                       **({} if n_steps is None else {"n_steps": n_steps})).fit(ds.X)
cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
metrics = evaluate(lens, ds).metrics
print(json.dumps({"set": name, "dim": dim, "seed": seed, "n_samples": n_samples,
                  "device": device, "cpu_s": cpu, "wall_s": wall,
                  "steps": int(sum(lens.run_steps_)), "run_steps": lens.run_steps_,
                  "stop_reasons": lens.stop_reasons_, "starts": lens.restart_starts_,
                  "kept": lens.restart_starts_[lens.best_restart_],
                  "cos": metrics.get("cos"), "cos_start": metrics.get("cos_start"),
                  "phi_cos": metrics.get("phi_cos"),
                  "peak_rss_mib": peak_mib()}))
"""
# The child's peak resident memory: VmHWM of its own address space. (ru_maxrss would not do:
# Linux keeps it across exec, so a child reports its parent's peak when that is higher.)
_PEAK = r"""
def peak_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def run_fit(name: str, dim: int, seed: int, n_samples: int, device: str,
            n_steps: int | None = None) -> dict[str, Any]:
    """One default fit (``n_steps`` capped if given) in a fresh single-threaded process; its
    JSON line."""
    env = {**os.environ, **ONE_THREAD}
    done = subprocess.run([sys.executable, "-c", _PEAK + _FIT,
                           json.dumps([name, dim, seed, n_samples, device, n_steps])],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"set": name, "dim": dim, "seed": seed, "error": done.stderr.strip()[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ per-step profile
def _best_time(fn, repeats: int) -> float:
    """The least CPU seconds of ``repeats`` calls (one warm-up call first)."""
    fn()
    best = math.inf
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def gemm_rates(repeats: int = 5) -> dict[str, float]:
    """Single-thread GEMM rates of this machine (FLOP/s) at size 512, float32 and float64."""
    import torch

    rates = {}
    for dtype, label in ((torch.float32, "float32"), (torch.float64, "float64")):
        a = torch.randn(512, 512, dtype=dtype)
        rates[label] = 2 * 512**3 / _best_time(lambda a=a: a @ a, repeats)
    return rates


def profile_step(dim: int, n_samples: int = 20_000, repeats: int = 3) -> dict[str, Any]:
    """Forward and backward CPU seconds and FLOPs of each kernel of one default step."""
    import torch

    import symmetrykit as sk
    from symmetrykit.lens._density import ConditionalMixture, MarginalMixture
    from symmetrykit.lens._lifting import (
        cayley_orthogonal,
        group_convolution,
        orthogonal_from_parameters,
    )
    from symmetrykit.lens._warm_start import shift_logarithm

    torch.set_num_threads(1)
    lens = sk.SymmetryLens()
    gen = torch.Generator().manual_seed(0)
    N, P = dim, dim
    M = N + 2 * P
    B = min(lens.batch_size, n_samples) // N * N
    H, K = min(16 * N, 128), lens.n_kernels
    logarithm = torch.as_tensor(shift_logarithm(M))
    base = torch.linalg.matrix_exp(logarithm)
    correction = 1e-3 * torch.randn(M, M, dtype=torch.float64, generator=gen)
    f = torch.zeros(N, dtype=torch.float64)
    f[N // 2] = 1.0
    xb = torch.randn(B, N, generator=gen)
    marginal = MarginalMixture(N, K, rng=gen)
    conditional = ConditionalMixture(N, H, K, rng=gen)
    est_params = list(marginal.parameters()) + list(conditional.parameters())
    slot = torch.arange(B) % N

    def timed(forward, inputs):
        """Forward seconds, backward seconds (a random cotangent) of ``forward(*inputs)``."""
        leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
        out = forward(*leaves)
        cotangent = torch.randn_like(out)
        fwd = _best_time(lambda: forward(*leaves), repeats)

        def backward():
            result = forward(*leaves)
            torch.autograd.grad(result, leaves, cotangent)
        both = _best_time(backward, repeats)
        return fwd, max(both - fwd, 0.0)

    kernels: dict[str, dict[str, float]] = {}
    fwd, bwd = timed(lambda s: cayley_orthogonal(base, s), [correction])
    kernels["rotation (Cayley, warm starts)"] = {"forward_s": fwd, "backward_s": bwd,
                                                 "flops": 10.7 * M**3, "dtype": "float64"}
    fwd, bwd = timed(lambda a: orthogonal_from_parameters(a), [logarithm + correction])
    kernels["rotation (matrix exponential, paper)"] = {
        "forward_s": fwd, "backward_s": bwd, "flops": None, "dtype": "float64",
        "in_step": False}
    g = base.clone()
    fwd, bwd = timed(lambda g_, f_: group_convolution(g_, f_, P), [g, f])
    kernels["group convolution (orbit)"] = {"forward_s": fwd, "backward_s": bwd,
                                            "flops": 3 * 2 * (N - 1) * M**2,
                                            "dtype": "float64"}
    phi = group_convolution(g, f, P).to(torch.float32)
    fwd, bwd = timed(lambda p: xb @ p.T, [phi])
    kernels["projection y = x Φᵀ"] = {"forward_s": fwd, "backward_s": bwd,
                                      "flops": 2 * 2 * B * N**2, "dtype": "float32"}
    y0 = (xb @ phi.T).detach()

    def loss_step():
        y = y0.clone().requires_grad_(True)
        terms = lens._loss_terms(y, slot, marginal, conditional, 1.0)
        est = terms["marginal_entropy"] + terms["conditional_nll"]
        model = lens._model_loss(terms)
        return y, est, model

    forward_s = _best_time(loss_step, repeats)

    def loss_backward():
        y, est, model = loss_step()
        torch.autograd.grad(est, est_params, retain_graph=True)
        torch.autograd.grad(model, [y])
    both = _best_time(loss_backward, repeats)
    # Three conditional evaluations of 3 heads (B × H × N K each) forward; the estimator's
    # backward needs twice that, the model's once: 4 × 3 × 3 × 2 B H N K. Plus the one-hot
    # embedding products (4 × 3 × 2 B N H) and the covariance of the joint entropy (4 B N²).
    loss_flops = 72 * B * H * N * K + 24 * 3 * B * N * H + 4 * B * N**2
    kernels["loss and density heads"] = {"forward_s": forward_s,
                                         "backward_s": max(both - forward_s, 0.0),
                                         "flops": loss_flops, "dtype": "float32"}

    # The step as the estimator runs it (warm start, Cayley update): the difference between a
    # fit of `steps` steps and one of a single step, so that the warm start drops out.
    ds = sk.datasets.local_signals(n_samples=n_samples, dim=N, random_state=0)
    params = {"warm_bases": ("coordinates",), "warmup_steps": 0, "tol": None,
              "progress": "none", "random_state": 0}
    steps = 20 if N <= 65 else 8

    def fit(n_steps):
        start = time.process_time()
        sk.SymmetryLens(n_steps=n_steps, **params).fit(ds.X)
        return time.process_time() - start
    fit(2)
    step_s = (fit(steps + 1) - fit(1)) / steps

    rates = gemm_rates()
    estimate = sum(k["flops"] / rates[k["dtype"]] for k in kernels.values()
                   if k.get("in_step", True) and k["flops"])
    return {"dim": N, "M": M, "B": B, "H": H, "K": K, "kernels": kernels,
            "step_cpu_s": step_s, "flops": sum(k["flops"] for k in kernels.values()
                                              if k.get("in_step", True) and k["flops"]),
            "flop_estimate_s": estimate, "measured_over_estimate": step_s / estimate,
            "gemm_flops_per_s": rates}


# ------------------------------------------------------------------ summary and README
def summarise(rows: list[dict]) -> list[dict]:
    groups: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        if "error" not in row:
            groups.setdefault((row["set"], row["dim"]), []).append(row)
    summary = []
    for (name, dim), group in sorted(groups.items(), key=lambda item: (item[0][1], item[0][0])):
        cos = [r["cos"] for r in group]
        summary.append({
            "set": name, "dim": dim, "seeds": len(group),
            "cos_min": float(np.min(cos)), "cos_mean": float(np.mean(cos)),
            "cos_start_min": float(np.min([r["cos_start"] or 0.0 for r in group])),
            "phi_cos_min": float(np.min([r["phi_cos"] for r in group])),
            "cpu_s_max": float(np.max([r["cpu_s"] for r in group])),
            "cpu_s_mean": float(np.mean([r["cpu_s"] for r in group])),
            "wall_s_mean": float(np.mean([r["wall_s"] for r in group])),
            "steps_mean": float(np.mean([r["steps"] for r in group])),
            "peak_rss_mib_max": float(np.max([r["peak_rss_mib"] for r in group])),
            "kept": sorted({r["kept"] for r in group})})
    return summary


def markdown(summary: list[dict], profiles: list[dict], meta: dict) -> str:
    lines = [f"Measured {meta['date']} on {meta['machine']} (commit {meta['commit']}), "
             f"{meta['n_samples']} samples, default `SymmetryLens` (one torch thread, "
             f"{meta['jobs']} fit(s) at a time).", "",
             "| data set | dim | seeds | cos(G, G_true) min (mean) | warm start alone | "
             "cos(Φ, ±Qᵀ) min | model steps | CPU s mean (max) | wall s | peak MiB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for s in summary:
        lines.append(
            f"| {s['set']} | {s['dim']} | {s['seeds']} | {s['cos_min']:.4f} "
            f"({s['cos_mean']:.4f}) | {s['cos_start_min']:.4f} ({', '.join(s['kept'])}) | "
            f"{s['phi_cos_min']:.3f} | {s['steps_mean']:.0f} | {s['cpu_s_mean']:.0f} "
            f"({s['cpu_s_max']:.0f}) | {s['wall_s_mean']:.0f} | {s['peak_rss_mib_max']:.0f} |")
    if profiles:
        lines += ["", "Per step (CPU, one thread) against its FLOP estimate (each kernel's "
                  "FLOPs over this machine's single-thread GEMM rate, "
                  f"{profiles[0]['gemm_flops_per_s']['float32'] / 1e9:.0f} GFLOP/s float32, "
                  f"{profiles[0]['gemm_flops_per_s']['float64'] / 1e9:.0f} float64):", "",
                  "| dim | M | GFLOP per step | FLOP estimate ms | measured ms | ratio | "
                  "rotation ms (Cayley / paper's expm) | orbit ms | loss + densities ms |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for p in profiles:
            k = p["kernels"]

            def ms(name, k=k):
                return 1e3 * (k[name]["forward_s"] + k[name]["backward_s"])
            lines.append(
                f"| {p['dim']} | {p['M']} | {p['flops'] / 1e9:.2f} | "
                f"{1e3 * p['flop_estimate_s']:.0f} | {1e3 * p['step_cpu_s']:.0f} | "
                f"{p['measured_over_estimate']:.1f} | "
                f"{ms('rotation (Cayley, warm starts)'):.0f} / "
                f"{ms('rotation (matrix exponential, paper)'):.0f} | "
                f"{ms('group convolution (orbit)'):.0f} | {ms('loss and density heads'):.0f} |")
    return "\n".join(lines)


def memory_probe(args: argparse.Namespace) -> None:
    """Patch the peak memory of an earlier result with fresh probes (see ``--memory-probe``).

    A step's memory does not change along a run, so a fit capped at 30 steps (warm start,
    warm-up and 30 model steps) peaks where the full fit does."""
    payload = json.loads(args.memory_probe.read_text())
    rows = payload["runs"]
    cells = sorted({(r["set"], r["dim"]) for r in rows if "error" not in r},
                   key=lambda cell: -cell[1])

    def probe(cell):
        row = run_fit(cell[0], cell[1], 0, payload["meta"]["n_samples"],
                      payload["meta"]["device"], n_steps=30)
        print(f"{cell}: peak {row.get('peak_rss_mib', float('nan')):.0f} MiB", flush=True)
        return cell, row.get("peak_rss_mib")
    with ThreadPoolExecutor(args.jobs) as pool:
        peaks = dict(pool.map(probe, cells))
    for row in rows:
        if (row.get("set"), row.get("dim")) in peaks:
            row["peak_rss_mib"] = peaks[(row["set"], row["dim"])]
    meta = payload["meta"]
    meta["peak_memory"] = ("VmHWM of one 30-step fit per set and dimension (seed 0), measured "
                           "separately: the fits' own ru_maxrss included their parent's peak")
    summary = summarise(rows)
    write_results(args.memory_probe, meta, summary, rows)
    table = markdown(summary, meta["profile"], meta)
    print(table)
    if args.update_readme:
        update_readme_section(README_BEGIN, README_END, table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[7, 33, 65, 129, 257])
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--sets-at", nargs="*", default=["257=gaussian-translation"],
                        metavar="DIM=SET,SET", help="the sets fitted at a dimension "
                        "(default: 257=gaussian-translation; other dimensions: --sets)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=1, help="fits at a time")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--profile-dims", type=int, nargs="*", default=None,
                        help="dimensions to profile (default: --dims)")
    parser.add_argument("--profile-only", action="store_true")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "symmetrylens_scaling.json")
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument("--memory-probe", type=Path, default=None, metavar="JSON",
                        help="re-measure the peak memory of the fits in JSON (an earlier result "
                        "of this script) with one 30-step fit per set and dimension, replace "
                        "their peak_rss_mib and rewrite the file (and the README table)")
    args = parser.parse_args()
    if args.memory_probe is not None:
        return memory_probe(args)

    profiles = []
    if not args.no_profile:
        for dim in args.profile_dims if args.profile_dims is not None else args.dims:
            profile = profile_step(dim, args.n_samples)
            profiles.append(profile)
            print(f"profile N={dim}: step {1e3 * profile['step_cpu_s']:.0f} ms, FLOP estimate "
                  f"{1e3 * profile['flop_estimate_s']:.0f} ms "
                  f"(x{profile['measured_over_estimate']:.1f})", flush=True)
    rows: list[dict] = []
    if not args.profile_only:
        only = dict(item.split("=", 1) for item in args.sets_at)
        # Largest first, so that the fits running at once finish close together.
        jobs = [(name, dim, seed) for dim in sorted(args.dims, reverse=True)
                for name in (only[str(dim)].split(",") if str(dim) in only else args.sets)
                for seed in args.seeds]

        def one(job):
            row = run_fit(*job, args.n_samples, args.device)
            text = row.get("error", "").splitlines()[-1:] if "error" in row else None
            print(f"{job}: " + (f"error {text}" if text is not None else
                                f"cos {row['cos']:.4f} cpu {row['cpu_s']:.0f} s "
                                f"steps {row['steps']} rss {row['peak_rss_mib']:.0f} MiB"),
                  flush=True)
            return row
        with ThreadPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(one, jobs))
    meta = {**provenance(f"1 torch thread per fit, {args.jobs} at a time"),
            "n_samples": args.n_samples, "jobs": args.jobs, "device": args.device,
            "profile": profiles}
    summary = summarise(rows)
    write_results(args.out, meta, summary, rows)
    table = markdown(summary, profiles, meta)
    print(table)
    if args.update_readme:
        update_readme_section(README_BEGIN, README_END, table)


if __name__ == "__main__":
    main()
