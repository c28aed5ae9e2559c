"""``symmetrykit sweep run|report``: many fits on Dask, and their analysis.

Aliases: ``symmetrykit sweep CONFIG.toml ...`` is ``sweep run CONFIG.toml ...`` and
``symmetrykit sweep-report DIR`` is ``sweep report DIR`` (see :func:`symmetrykit.cli.main`).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

from ._common import CLIError, check_output, slug
from ._options import add_group, add_run_options, add_verb

__all__ = ["add_parser", "report", "summary_markdown"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def summary_markdown(summary: list[dict[str, Any]]) -> str:
    """The per-cell summary as a markdown table."""
    if not summary:
        return "(no finished runs)"
    keys = [k for k in summary[0] if k not in {"metric", "n", "n_failed", "mean", "std", "min",
                                                "max", "wall_s", "cpu_s"}]
    metric = summary[0]["metric"]
    head = [*keys, f"{metric} mean ± std", "min", "runs (failed)", "wall s", "CPU s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cell in summary:
        lines.append("| " + " | ".join(
            [*(_fmt(cell[k]) for k in keys),
             # One run has no spread: "± 0" would claim one.
             _fmt(cell["mean"]) if cell["n"] <= 1
             else f"{_fmt(cell['mean'])} ± {_fmt(cell['std'])}", _fmt(cell["min"]),
             f"{cell['n']} ({cell['n_failed']})", _fmt(cell["wall_s"]),
             _fmt(cell["cpu_s"])]) + " |")
    return "\n".join(lines)


def report(result: Any, metric: str | None = None, figures: bool = True) -> str:
    """Write ``summary.json`` (and ``morris.json``) plus figures into the sweep directory.

    Returns the text printed by the command line: the summary table and, for Morris designs
    with every point finished, the elementary-effects table.
    """
    from ..runs import atomic_write_text, to_jsonable

    metric = metric or result.config.score
    directory = Path(result.directory)
    design = result.config.design
    # Morris points are not cells worth a row each: summarise them per data set.
    summary = result.summary(metric, by=["data"] if design.kind == "morris" else None)
    atomic_write_text(directory / "summary.json", json.dumps(to_jsonable(
        {"metric": metric, "cells": summary}), indent=2))
    text = [summary_markdown(summary)]
    morris = []
    if design.kind == "morris":
        try:
            morris = result.morris(metric)
        except ValueError as exc:
            text.append(f"Morris analysis skipped: {exc}")
        else:
            atomic_write_text(directory / "morris.json", json.dumps(to_jsonable(
                [m.as_dict() for m in morris]), indent=2))
            for m in morris:
                text.append(f"Morris elementary effects of {metric} on {m.data} "
                            f"({m.n_runs} runs, {m.n_seeds} seed(s) per point):\n"
                            + m.to_markdown())
    if figures:
        _figures(result, directory, summary, morris)
    return "\n\n".join(text)


def _figures(result: Any, directory: Path, summary: list[dict], morris: list[Any]) -> None:
    from .. import plot
    from ..runs import atomic_write_figure

    folder = directory / "figures"

    def save(fig: Any, name: str) -> None:
        atomic_write_figure(fig, folder / f"{name}.png")

    for m in morris:
        save(plot.morris(m), f"morris_{slug(m.data)}"[:100])
    varied = result.config.design.names
    if result.config.design.kind == "grid" and len(varied) == 2 and summary:
        for label in dict.fromkeys(cell["data"] for cell in summary):
            cells = [c for c in summary if c["data"] == label]
            save(plot.sweep_heatmap(cells, varied[0], varied[1]), f"grid_{slug(label)}"[:100])


def _cmd_run(args: argparse.Namespace) -> int:
    from .. import sweeps

    if args.workers is not None and args.workers < 1:
        raise CLIError(f"--workers must be a positive integer, got {args.workers}")
    if args.workers is not None and args.scheduler:
        raise CLIError("--workers sets the size of the local cluster; an existing --scheduler "
                     "has its own workers")
    if args.retry_failed and not args.resume:
        raise CLIError("--retry-failed needs --resume")
    config = sweeps.load_config(args.config)
    out = Path(args.out) if args.out else Path("sweeps") / re.sub(
        r"[^A-Za-z0-9_.\-]+", "_", config.name)
    # A sweep directory is written in place (lock, rows, runs): it must accept new files. An
    # occupied one is the library's to judge (a resume, or another sweep's).
    check_output(out, write_inside=True)

    print(f"sweep {config.name}: {len(sweeps.plan_runs(config))} runs "
          f"({config.method}, {len(config.data)} data set(s), {len(config.seeds)} seed(s), "
          f"{config.design.kind} design) -> {out}", flush=True)
    result = sweeps.run_sweep(config, out, scheduler=args.scheduler, n_workers=args.workers,
                              resume=args.resume, retry_failed=args.retry_failed,
                              progress=args.progress, on_start=_print_dashboard)
    print(f"ran {result.n_executed}, skipped {result.n_skipped} already recorded; "
          f"{len(result.rows)}/{result.n_planned} recorded, {result.n_failed} failed")
    for row in result.rows:
        if row["status"] != "ok":
            error = row.get("error") or {}
            print(f"  failed {row['run_id']} ({row['data_label']}, seed {row['seed']}, "
                  f"{row['varied']}): {error.get('type')}: {error.get('message')}")
    print(report(result))
    print(f"results in {out / 'results.jsonl'}; summary in {out / 'summary.json'}")
    return 0 if result.n_failed == 0 else 1


def _print_dashboard(address: str | None) -> None:
    if address:
        print(f"Dask dashboard: {address}", flush=True)


def _cmd_report(args: argparse.Namespace) -> int:
    from .. import sweeps

    result = sweeps.open_sweep(args.directory)
    print(f"sweep {result.config.name}: {len(result.rows)}/{result.n_planned} runs recorded, "
          f"{result.n_failed} failed")
    print(report(result, metric=args.metric, figures=not args.no_figures))
    return 0


def add_parser(commands: Any) -> None:
    """Register ``sweep run|report`` on the top-level subparsers."""
    verbs = add_group(
        commands, "sweep",
        help="many fits (seeds, grids, Morris designs) on Dask distributed (run, report)",
        description="Run the fits of a sweep configuration on Dask distributed, or summarise a "
        "sweep directory. 'symmetrykit sweep CONFIG.toml ...' is an alias of 'symmetrykit "
        "sweep run CONFIG.toml ...', and 'symmetrykit sweep-report DIR' of 'symmetrykit sweep "
        "report DIR'.")
    run = add_verb(
        verbs, "run", handler=_cmd_run, help="run every fit of a sweep configuration (TOML)",
        description="Run every fit of a sweep configuration (TOML) on a local Dask cluster or "
        "an existing scheduler, record one row per run in OUT/results.jsonl, and print the "
        "per-cell summary (and Morris μ, μ*, σ for Morris designs). Finished runs are never "
        "run again: --resume continues a killed sweep. Alias: 'symmetrykit sweep CONFIG.toml'.")
    run.add_argument("config", metavar="CONFIG.toml", help="sweep configuration")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="address of a running Dask scheduler, e.g. tcp://host:8786 "
                     "(default: a local cluster)")
    run.add_argument("--workers", type=int, default=None,
                     help="worker processes of the local cluster (default: all cores)")
    run.add_argument("--resume", action="store_true",
                     help="continue the sweep in --out, running only runs without a result")
    run.add_argument("--retry-failed", action="store_true",
                     help="with --resume, also run the failed runs again")
    add_run_options(run, out="sweep directory (default sweeps/<name from the config>)",
                    overwrite=None, seed=None, progress=True)
    rep = add_verb(
        verbs, "report", handler=_cmd_report,
        help="summarise an existing sweep directory (no runs)",
        description="Read a sweep directory and write summary.json, morris.json and figures. "
        "Alias: 'symmetrykit sweep-report DIR'.")
    rep.add_argument("directory", metavar="DIR", help="a sweep directory")
    rep.add_argument("--metric", default=None, help="metric to summarise (default: the "
                     "config's score)")
    rep.add_argument("--no-figures", action="store_true", help="do not draw figures")
