"""``symmetrykit compare``: fit several methods to one data set and score them alike."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from ._common import CLIError, data_name, dataset_from_args, run_directory, slug
from ._options import add_data_options, add_run_options

__all__ = ["add_parser"]


def _parse_budget(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(s|m|min)?\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise CLIError(f"--budget must be a positive duration such as 300s or 5m, got {text!r}")
    return float(match.group(1)) * (60.0 if match.group(2) in ("m", "min") else 1.0)


def _cmd_compare(args: argparse.Namespace) -> int:
    from ..baselines import METHODS, compare
    from ..runs import RunDirectory, staged_directory

    budget = _parse_budget(args.budget)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise CLIError(f"--methods: unknown {', '.join(unknown) or '(none given)'}; "
                       f"choose from {', '.join(METHODS)}")
    name, ds = data_name(args)
    out = run_directory(args, Path("runs") / f"compare-{slug(name)}-seed{args.seed}")
    if ds is None:
        ds = dataset_from_args(args)
    print(f"compare: {', '.join(methods)} on {name} ({ds.n_samples} × {ds.dim}), seed "
          f"{args.seed}, at most {budget:g} s each -> {out}; at most "
          f"{budget * len(methods) / 60:.1f} min in all", flush=True)
    results = compare(ds.X, methods, truth=ds.generator, budget=budget, random_state=args.seed,
                      progress=args.progress)
    rows = [r.as_dict() for r in results]
    with staged_directory(out, overwrite=args.overwrite) as stage:
        run = RunDirectory.create(stage, {"command": "compare", "data": name, "dim": ds.dim,
                                          "seed": args.seed, "budget_s": budget,
                                          "methods": methods})
        run.save_metrics({"results": rows})
        if ds.generator is not None:
            from ..plot import comparison_bars

            run.save_figure(comparison_bars([r.label for r in results],
                                            [r.score for r in results]), "scores")
    print(f"wrote {out}")
    print(f"  data  {name}: {ds.n_samples} x {ds.dim}, budget {budget:.0f} s per method")
    for r in results:
        shown = "n/a (no ground truth)" if r.score is None else f"{r.score:.4f}"
        print(f"  {r.label:15s} {shown:>8s}  [{r.conversion}]  wall {r.wall_s:.1f} s, "
              f"{r.steps} steps")
    return 0


def add_parser(commands: Any) -> None:
    """Register ``compare`` on the top-level subparsers."""
    sub = commands.add_parser(
        "compare", help="fit SymmetryLens, LieGAN and SymmetryGAN-QR and score them alike",
        description="Fit several methods to one data set and score each against the true "
        "minimal generator with the same metric (see symmetrykit.baselines.compare).")
    add_data_options(sub, noise=False, dim_help="signal dimension (odd)",
                     n_samples_help="number of samples")
    sub.add_argument("--methods", default="lens,liegan,symgan",
                     help="comma-separated: lens, liegan, symgan (default: all)")
    sub.add_argument("--budget", default="300s",
                     help="wall-clock time per method (SymmetryLens: its whole fit), "
                     "e.g. 300s or 5m")
    add_run_options(sub, out="run directory (default runs/compare-NAME-seedS)",
                    seed="seed of the data and the fits (default 0)", progress=True)
    sub.set_defaults(handler=_cmd_compare)
