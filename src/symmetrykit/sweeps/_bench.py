"""The methods × tasks benchmark: every discovery method on every task it applies to.

Each applicable (task, method) cell is one sweep (:func:`run_sweep`) of the method on the task's
data with the task's wall-clock budget per run, over the same seeds; cells run side by side on one
Dask cluster. The matrix reads every cell's rows back and reduces them to one number per run,
``recovery`` — the same meaning everywhere: 1 when the true symmetry lies in what the method found,
0 when it does not (per task below) — then mean ± std over the seeds.

>>> from symmetrykit.sweeps import bench_cells
>>> len([c for c in bench_cells() if c.applies]) >= 16
True
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BENCH_METHODS", "BENCH_TASKS", "BenchCell", "BenchTask", "bench_cells",
           "bench_matrix", "matrix_markdown", "run_bench"]

BENCH_FILE = "bench.json"
MATRIX_JSON = "matrix.json"
MATRIX_MD = "matrix.md"
#: A step cap no budgeted run reaches: the adversarial baselines stop at their ``max_time``.
_UNCAPPED = 10**9


@dataclass(frozen=True)
class BenchTask:
    """One column of work: a data set, its options, the wall budget per run and the score."""

    name: str
    data: str
    options: dict[str, Any]
    budget_s: float
    truth: str
    description: str = ""


@dataclass(frozen=True)
class BenchCell:
    """One (task, method) pair: the sweep that fills it, or why it does not apply."""

    task: BenchTask
    method: str
    fixed: dict[str, Any] = field(default_factory=dict)
    not_applicable: str | None = None

    @property
    def applies(self) -> bool:
        return self.not_applicable is None

    @property
    def label(self) -> str:
        return f"{self.task.name}--{self.method}"


_SHIFT = "the minimal generator G (a pixel shift); each method's conversion (cos)"
BENCH_TASKS: tuple[BenchTask, ...] = (
    BenchTask("gaussian-circulant-7", "gaussian-circulant", {"dim": 7}, 30.0, _SHIFT,
              "SymmetryLens data set 1: Gaussian bumps on a 7-pixel circle"),
    BenchTask("gaussian-translation-33", "gaussian-translation", {"dim": 33}, 300.0, _SHIFT,
              "Gaussian bumps, 33 pixels"),
    BenchTask("gaussian-permuted-33", "gaussian-permuted", {"dim": 33}, 300.0, _SHIFT,
              "the same, pixels scrambled by a fixed permutation"),
    BenchTask("mnist-slices-27", "mnist-slices", {"dim": 27}, 60.0, _SHIFT,
              "27-pixel slices of real MNIST digits"),
    BenchTask("two-body", "two-body", {}, 60.0,
              "the rotation of every 2-vector, on the data's 4-dimensional span",
              "LieGAN's task: 15,000 pairs x → y of planar two-body states"),
    BenchTask("rotation-invariant", "rotation-invariant", {}, 30.0,
              "SO(2): the rotation generator J (LieGAN |cos(L, J)|; discovery: the span found)",
              "LieGAN's home toy: a 2-D ring with radial noise, invariant under all rotations"),
    BenchTask("gaussian-ring", "gaussian-ring", {}, 30.0,
              "D8: cos to the nearest element but the identity (LieGAN: exp(tL) at its best t)",
              "SymmetryGAN's home toy: 8 Gaussians on a circle, invariant under D8 only"),
    BenchTask("kdv", "kdv", {}, 900.0,
              "the periodic point symmetries ∂x, ∂t, t∂x + ∂u; cos of the largest principal "
              "angle to the span found",
              "32 KdV trajectories of 140 × 256 (t × x) points (Ko et al.'s task)"),
)
BENCH_METHODS: dict[str, str] = {
    "symmetrylens": "SymmetryLens",
    "liegan": "LieGAN",
    "symmetrygan": "SymmetryGAN-QR",
    "lie-discovery": "Lie-derivative discovery",
    "generator-flow": "generator flows",
}

_SHIFT_TASKS = ("gaussian-circulant-7", "gaussian-translation-33", "gaussian-permuted-33",
                "mnist-slices-27")
_NA = {
    ("symmetrylens", "two-body"): "pairs of 8-dim states: SymmetryLens takes single vectors of "
                                  "odd dimension",
    ("symmetrylens", "kdv"): "fields u(x, t), not vectors with a linear symmetry",
    ("liegan", "kdv"): "point symmetries act on (x, t, u), not linearly on vectors",
    ("symmetrygan", "kdv"): "point symmetries act on (x, t, u), not linearly on vectors",
    ("generator-flow", "two-body"): "flows need a validity score; none for pairs of states",
    ("symmetrygan", "rotation-invariant"): "every orthogonal map is a symmetry of this O(2)-"
                                           "invariant set, and SymmetryGAN-QR's is orthogonal "
                                           "by construction: success cannot be told from chance",
    ("lie-discovery", "gaussian-ring"): "a finite group (D8) has no infinitesimal generator",
}
_TOYS = ("rotation-invariant", "gaussian-ring")
_NA_TOYS = {
    "symmetrylens": "2-dimensional samples: SymmetryLens needs an odd dimension ≥ 3",
    "generator-flow": "vectors, not fields on a grid",
}
_NA_SHIFT = {
    "lie-discovery": "a discrete shift has no infinitesimal generator to find",
    "generator-flow": "vectors, not fields on a grid",
}


def _settings(method: str, task: BenchTask) -> dict[str, Any]:
    """The fixed parameters of a cell: the method's setting for the task, plus the budget."""
    budget = {"max_time": task.budget_s}
    if method == "symmetrylens":
        return budget
    if method == "liegan":
        if task.name == "two-body":  # the official README setting: 2 × 2 blocks, batch 64
            return {"mask": "block-2", "batch_size": 64, "n_steps": _UNCAPPED, **budget}
        if task.name == "rotation-invariant":  # a continuous group: the defaults
            return {"n_steps": _UNCAPPED, **budget}
        # The "discrete-shifts" preset: integer steps, the norm regulariser.
        return {"coefficients": "integer", "coef_scale": 3, "regularizer": "norm",
                "n_steps": _UNCAPPED, **budget}
    if method == "symmetrygan":
        if task.name in _TOYS:  # its home-turf setting (tests/test_baselines.py)
            return {"n_steps": _UNCAPPED, **budget}
        # lr 1e-2: the best SymmetryGAN-QR setting of benchmarks/compare_baselines.py on three
        # of its four sets.
        return {"lr": 1e-2, "n_steps": _UNCAPPED, **budget}
    return {}  # discovery has no budget knob (it needs seconds); flows run their preset


def bench_cells(tasks: Iterable[str] | None = None,
                methods: Iterable[str] | None = None) -> list[BenchCell]:
    """Every (task, method) cell, task-major; ``tasks`` / ``methods`` select (by name)."""
    known_tasks = {t.name: t for t in BENCH_TASKS}
    chosen_tasks = list(known_tasks) if tasks is None else list(tasks)
    chosen_methods = list(BENCH_METHODS) if methods is None else list(methods)
    for name in chosen_tasks:
        if name not in known_tasks:
            raise ValueError(f"bench: unknown task {name!r}; known: {', '.join(known_tasks)}")
    for name in chosen_methods:
        if name not in BENCH_METHODS:
            raise ValueError(f"bench: unknown method {name!r}; known: "
                             f"{', '.join(BENCH_METHODS)}")
    if not chosen_tasks or not chosen_methods:
        raise ValueError("bench: choose at least one task and one method")
    cells = []
    for task_name in chosen_tasks:
        task = known_tasks[task_name]
        for method in chosen_methods:
            reason = _NA.get((method, task.name))
            if reason is None and task.name in _SHIFT_TASKS:
                reason = _NA_SHIFT.get(method)
            if reason is None and task.name in _TOYS:
                reason = _NA_TOYS.get(method)
            cells.append(BenchCell(task, method, {} if reason else _settings(method, task),
                                   reason))
    return cells


def _cell_config(cell: BenchCell, seeds: Sequence[int], budget_scale: float,
                 n_samples: int | None) -> dict[str, Any]:
    fixed = dict(cell.fixed)
    if "max_time" in fixed:
        fixed["max_time"] = fixed["max_time"] * budget_scale
    options = dict(cell.task.options)
    if n_samples is not None and cell.task.data not in _pde_names():
        options["n_samples"] = n_samples
    return {"name": cell.label, "method": cell.method, "seeds": list(seeds),
            "data": [{"name": cell.task.data, **options}], "fixed": fixed,
            "save_runs": True}


def _pde_names() -> tuple[str, ...]:
    from ..datasets import PDE_NAMES

    return tuple(PDE_NAMES)


def _recovery(method: str, task: BenchTask, metrics: Mapping[str, Any]) -> float:
    """A run's ``recovery`` from its metrics (see the module docstring)."""
    if method == "lie-discovery":
        return float(metrics["recovery"])
    if method == "generator-flow":
        angles = metrics.get("principal_angles_rad") or []
        if len(angles) < len(metrics.get("reference_names") or [None]):
            return 0.0
        return float(np.cos(np.max(angles)))
    if task.name == "two-body":
        return float(metrics["cos_on_span"])
    if task.name == "rotation-invariant":
        return float(metrics["cos_algebra"])
    if task.name == "gaussian-ring":
        return float(metrics["cos_group"])
    return float(metrics["cos"])


def run_bench(out: str | Path, *, tasks: Iterable[str] | None = None,
              methods: Iterable[str] | None = None, seeds: Sequence[int] = (0, 1, 2),
              budget_scale: float = 1.0, n_samples: int | None = None,
              n_workers: int | None = None, client: Any = None, resume: bool = False,
              on_row: Callable[[BenchCell, dict[str, Any]], None] | None = None,
              ) -> dict[str, Any]:
    """Run the chosen cells of the matrix into ``out`` (one sweep directory per cell).

    Parameters
    ----------
    out
        The bench directory: ``bench.json`` (the selection), ``<task>--<method>/`` (each
        cell's sweep), and ``matrix.json`` / ``matrix.md`` at the end.
    tasks, methods
        Names from :data:`BENCH_TASKS` / :data:`BENCH_METHODS` (default: all).
    seeds
        Seeds of every cell (data and fit).
    budget_scale
        Multiplies every task's wall budget (1: the stated budgets).
    n_samples
        Overrides the sizes of the sample and pair sets (not the PDE sets), for quick trials.
    n_workers, client
        As in :func:`run_sweep`; every cell shares the one cluster.
    resume
        Continue a bench in ``out``: its cells resume (finished runs are not run again), and
        new tasks or methods are added to it (same seeds, budget scale and sizes only).
    on_row
        Called (from a cell's thread) with the cell and every committed row.

    Returns
    -------
    dict
        The matrix (:func:`bench_matrix`), also written to ``matrix.json`` and ``matrix.md``.
    """
    from ..runs import atomic_write_text, check_output_location
    from ._runner import _connect, run_sweep

    if not (isinstance(budget_scale, (int, float)) and math.isfinite(budget_scale)
            and budget_scale > 0):
        raise ValueError(f"bench: budget_scale must be a positive number, got {budget_scale!r}")
    cells = [c for c in bench_cells(tasks, methods) if c.applies]
    if not cells:
        raise ValueError("bench: none of the chosen methods applies to the chosen tasks "
                         "(see 'symmetrykit bench list')")
    seeds = [int(s) for s in seeds]
    selection = {"tasks": sorted({c.task.name for c in cells}),
                 "methods": sorted({c.method for c in cells}), "seeds": seeds,
                 "budget_scale": float(budget_scale), "n_samples": n_samples}
    directory = Path(out)
    check_output_location(directory, write_inside=True)
    marker = directory / BENCH_FILE
    if marker.exists():
        saved = json.loads(marker.read_text())
        if not resume:
            raise FileExistsError(f"bench: {directory} already holds a bench; resume it "
                                  "(--resume) or choose another directory")
        # A bench grows by rows and columns; its runs must stay comparable.
        for key in ("seeds", "budget_scale", "n_samples"):
            if saved.get(key) != selection[key]:
                raise ValueError(f"bench: {directory} was run with {key} = {saved.get(key)!r}; "
                                 f"asked for {selection[key]!r} (its cells would not compare)")
        for key in ("tasks", "methods"):
            selection[key] = sorted(set(saved[key]) | set(selection[key]))
    elif directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"bench: {directory} is not empty and holds no bench")
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_text(marker, json.dumps(selection, indent=2) + "\n")

    dask_client, close = _connect(client, None, n_workers, ":0")
    errors: list[BaseException] = []
    try:
        def run_cell(cell: BenchCell) -> None:
            config = _cell_config(cell, seeds, budget_scale, n_samples)
            try:
                run_sweep(config, directory / cell.label, client=dask_client,
                          resume=(directory / cell.label).exists(), progress="none",
                          on_row=None if on_row is None else (lambda row: on_row(cell, row)))
            except BaseException as exc:  # reported after the other cells finish
                errors.append(exc)

        threads = [threading.Thread(target=run_cell, args=(cell,), daemon=True)
                   for cell in cells]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        close()
    if errors:
        raise errors[0]
    matrix = bench_matrix(directory)
    return matrix


def bench_matrix(directory: str | Path) -> dict[str, Any]:
    """Read every cell of a bench directory and write ``matrix.json`` and ``matrix.md``."""
    from ..runs import atomic_write_text, to_jsonable
    from ._store import read_rows

    directory = Path(directory)
    if not (directory / BENCH_FILE).is_file():
        raise FileNotFoundError(f"bench: {directory} holds no bench ({BENCH_FILE} missing)")
    selection = json.loads((directory / BENCH_FILE).read_text())
    entries = []
    tasks = [t.name for t in BENCH_TASKS if t.name in selection["tasks"]]
    methods = [m for m in BENCH_METHODS if m in selection["methods"]]
    for cell in bench_cells(tasks, methods):
        entry: dict[str, Any] = {"task": cell.task.name, "method": cell.method,
                                 "budget_s": cell.task.budget_s * selection["budget_scale"]}
        if not cell.applies:
            entries.append({**entry, "not_applicable": cell.not_applicable})
            continue
        cell_dir = directory / cell.label
        rows = read_rows(cell_dir) if (cell_dir / "results.jsonl").exists() else []
        latest: dict[str, dict] = {}
        for row in rows:
            latest[row["run_id"]] = row
        ok = [r for r in latest.values() if r["status"] == "ok"]
        values = [_recovery(cell.method, cell.task, r["metrics"]) for r in ok]
        entry.update({
            "settings": cell.fixed,
            "seeds": sorted(r["seed"] for r in ok),
            "recovery": values,
            "mean": float(np.mean(values)) if values else None,
            "std": float(np.std(values)) if values else None,
            "n_ok": len(ok),
            "n_failed": len(latest) - len(ok),
            "errors": [r["error"]["message"] for r in latest.values() if r["status"] != "ok"],
            "commits": sorted({str((r.get("versions") or {}).get("git_commit"))
                               for r in latest.values()}),
            "wall_s": float(np.mean([r["wall_s"] for r in ok])) if ok else None,
            "cpu_s": float(np.mean([r["cpu_s"] for r in ok])) if ok else None,
        })
        entries.append(entry)
    matrix = {"selection": selection, "cells": entries,
              "tasks": [{"name": t.name, "budget_s": t.budget_s * selection["budget_scale"],
                         "truth": t.truth, "description": t.description}
                        for t in BENCH_TASKS if t.name in selection["tasks"]],
              "methods": {m: BENCH_METHODS[m] for m in BENCH_METHODS
                          if m in selection["methods"]}}
    atomic_write_text(directory / MATRIX_JSON,
                      json.dumps(to_jsonable(matrix), indent=2, allow_nan=False) + "\n")
    atomic_write_text(directory / MATRIX_MD, matrix_markdown(matrix) + "\n")
    return matrix


def _shown(entry: Mapping[str, Any]) -> str:
    if "not_applicable" in entry:
        return "n/a"
    if not entry["n_ok"]:
        return f"failed ({entry['n_failed']})" if entry["n_failed"] else "not run"
    text = f"{entry['mean']:.3f}"
    if entry["n_ok"] > 1:
        text += f" ± {entry['std']:.3f}"
    if entry["n_failed"]:
        text += f" ({entry['n_failed']} failed)"
    return text


def matrix_markdown(matrix: Mapping[str, Any]) -> str:
    """The matrix as markdown: recovery mean ± std per cell, then wall seconds per run."""
    methods = list(matrix["methods"])
    head = ["task (budget per run)", *(matrix["methods"][m] for m in methods)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    cells = {(e["task"], e["method"]): e for e in matrix["cells"]}
    for task in matrix["tasks"]:
        row = [f"{task['name']} ({task['budget_s']:g} s)"]
        for method in methods:
            entry = cells[(task["name"], method)]
            shown = _shown(entry)
            if entry.get("wall_s") is not None:
                shown += f" · {entry['wall_s']:.0f} s"
            row.append(shown)
        lines.append("| " + " | ".join(row) + " |")
    seeds = matrix["selection"]["seeds"]
    lines += ["", f"Recovery (1 = the true symmetry found) mean ± std over seeds {seeds}, "
              "then mean wall seconds per run. Not applicable (n/a):"]
    reasons: dict[tuple[str, str], list[str]] = {}
    for entry in matrix["cells"]:
        if "not_applicable" in entry:
            key = (entry["method"], entry["not_applicable"])
            reasons.setdefault(key, []).append(entry["task"])
    for (method, reason), names in reasons.items():
        lines.append(f"* {matrix['methods'][method]} × {', '.join(names)}: {reason}")
    return "\n".join(lines)
