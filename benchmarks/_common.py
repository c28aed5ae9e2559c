"""What the benchmark scripts share: provenance, clocks, writing results and README tables.

Every script records where and with what it ran (:func:`provenance`: date, machine, git commit,
library versions), times itself (:class:`Stopwatch`) and writes one JSON file
``{"meta": ..., "summary": ..., "runs": ...}`` atomically (:func:`write_results`), so that an
interrupted run never leaves a half-written result behind.

The scripts are run as ``python benchmarks/NAME.py`` from the repository root. Python then puts
the script's own folder (``benchmarks/``) first on ``sys.path``, which is how ``from _common
import ...`` finds this module without making ``benchmarks`` a package.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from symmetrykit.runs import atomic_write_text, versions

__all__ = [
    "README",
    "RESULTS",
    "Stopwatch",
    "jsonable_args",
    "machine",
    "provenance",
    "timestamp",
    "update_readme_section",
    "write_json",
    "write_results",
]

README = Path(__file__).resolve().parents[1] / "README.md"
RESULTS = Path(__file__).resolve().parent / "results"


def timestamp() -> str:
    """The current UTC time in ISO 8601, to the second (``2025-01-31T12:00:00+00:00``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def machine(detail: str | None = None) -> str:
    """``"host (cpu, N cores)"``: host name, processor (or architecture) and core count.

    ``detail`` replaces the core count, e.g. ``"1 torch thread per fit, 2 at once"``.
    """
    cpu = platform.processor() or platform.machine()
    return f"{platform.node()} ({cpu}, {detail or f'{os.cpu_count()} cores'})"


def provenance(detail: str | None = None) -> dict[str, Any]:
    """The block each result's ``meta`` starts with: ``date``, ``machine``, ``commit``,
    ``versions``.

    ``versions`` is :func:`symmetrykit.runs.versions` (Python, numeric stack, this library,
    platform, git commit); ``commit`` repeats its ``git_commit`` (``None`` outside a repository).
    ``detail`` goes to :func:`machine`.
    """
    info = versions()
    return {"date": timestamp(), "machine": machine(detail), "commit": info.get("git_commit"),
            "versions": info}


class Stopwatch:
    """Wall-clock and CPU time since construction (or the last :meth:`restart`).

    ``cpu_s`` counts this process; ``children_cpu_s`` the CPU time of child processes that have
    finished and been waited for since the start (e.g. a ``ProcessPoolExecutor`` after it shut
    down), so ``cpu_s + children_cpu_s`` is the whole job's CPU time.
    """

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        """Start counting again from now."""
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        self._children = _children_cpu()

    @property
    def wall_s(self) -> float:
        return time.perf_counter() - self._wall

    @property
    def cpu_s(self) -> float:
        return time.process_time() - self._cpu

    @property
    def children_cpu_s(self) -> float:
        return _children_cpu() - self._children

    def times(self) -> dict[str, float]:
        """``{"wall_s": ..., "cpu_s": ...}`` (this process only)."""
        return {"wall_s": self.wall_s, "cpu_s": self.cpu_s}


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def jsonable_args(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed command line as a JSON-ready dict (paths become strings)."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}


def write_json(path: str | Path, payload: Any) -> Path:
    """Write ``payload`` as indented JSON atomically, creating the folder; returns the path.

    NumPy scalars and other number-like values are written as floats.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(payload, indent=2, default=float))
    return out


def run_meta(args: argparse.Namespace, clock: Stopwatch, doc: str, detail: str) -> dict[str, Any]:
    """``meta`` of a benchmark whose runs go to worker processes: provenance, the command line,
    wall and CPU time (the workers' included) and the protocol (``doc`` up to "Examples")."""
    return {**provenance(detail), "args": jsonable_args(args), "wall_s": clock.wall_s,
            "cpu_s": clock.cpu_s + clock.children_cpu_s, "protocol": doc.split("Examples")[0]}


def result_source(path: Path, meta: dict, scope: str = "") -> str:
    """How a README table names its result file: "`NAME` (commit, date, machine, wall)"."""
    return (f"`{path.name}` (commit {str(meta['commit'])[:7]}, {meta['date'][:10]}, "
            f"{meta['machine']}, wall {meta['wall_s'] / 60:.0f} min{scope})")


def write_results(path: str | Path, meta: dict, summary: list[dict], rows: list[dict]) -> Path:
    """The benchmark's JSON (metadata, per-cell summary, every run), written atomically."""
    return write_json(path, {"meta": meta, "summary": summary, "runs": rows})


def update_readme_section(begin: str, end: str, table: str, readme: Path = README, *,
                          missing_ok: bool = False) -> bool:
    """Replace the text between the ``begin`` and ``end`` markers, atomically.

    Without the markers: exit with a message, or with ``missing_ok`` print a note and return
    False. Returns True when the README was updated.
    """
    text = readme.read_text()
    if begin not in text or end not in text:
        if missing_ok:
            print(f"README has no markers {begin} … {end}; not updated")
            return False
        raise SystemExit(f"{readme} has no table markers {begin} … {end}")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    atomic_write_text(readme, f"{head}{begin}\n{table}\n{end}{tail}")
    return True
