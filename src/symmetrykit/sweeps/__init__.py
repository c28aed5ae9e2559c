"""Sweeps: many fits (seeds, parameter grids, data sets, Morris designs) on Dask distributed.

>>> from symmetrykit import sweeps
>>> result = sweeps.run_sweep("sweep.toml", out="sweeps/lr")        # doctest: +SKIP
>>> result.summary()                                                 # doctest: +SKIP

A sweep is described by a configuration (:func:`load_config`: a TOML file or a dict), runs on
a local Dask cluster or any running scheduler (:func:`run_sweep`), and leaves a directory with
its configuration, an append-only ``results.jsonl`` (one row per run) and each run's saved
estimator. Finished runs are never run again: a restarted sweep (``resume=True``) runs only the
runs without a row. ``symmetrykit sweep run CONFIG.toml`` is the same from the command line.

Requires the ``sweep`` extra (Dask distributed, SALib): ``pip install 'symmetrykit[sweep]'``.
"""

from ._analysis import MorrisResult, morris_analysis, summarize
from ._bench import (
    BENCH_METHODS,
    BENCH_TASKS,
    BenchCell,
    BenchTask,
    bench_cells,
    bench_matrix,
    matrix_markdown,
    run_bench,
)
from ._config import DataSpec, Design, SweepConfig, load_config
from ._design import design_points
from ._methods import METHODS, SweepMethod, register_method
from ._runner import SweepResult, execute_run, open_sweep, plan_runs, run_sweep
from ._store import read_rows

__all__ = [
    "BENCH_METHODS",
    "BENCH_TASKS",
    "METHODS",
    "BenchCell",
    "BenchTask",
    "DataSpec",
    "Design",
    "MorrisResult",
    "SweepConfig",
    "SweepMethod",
    "SweepResult",
    "bench_cells",
    "bench_matrix",
    "design_points",
    "execute_run",
    "load_config",
    "matrix_markdown",
    "morris_analysis",
    "open_sweep",
    "plan_runs",
    "read_rows",
    "register_method",
    "run_bench",
    "run_sweep",
    "summarize",
]
