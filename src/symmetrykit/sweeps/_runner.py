"""Running a sweep on Dask distributed: planning, idempotent execution, the result store.

The driving process plans every run (a stable id from its method, data, seed and parameters),
skips the ids already committed to ``results.jsonl``, and submits the rest to a Dask cluster —
a local one by default, or any running scheduler. Workers fit and score; they return metrics and
the saved run's files, and only the driver writes: first the run directory (a temporary folder
renamed into place), then the row, which is the commit point. The driver takes the directory's
lock before it records the configuration (``sweep.json``), so a second sweep into the same
directory, at once or later, is refused unless it is the same configuration resumed. A killed
worker's task is rescheduled by Dask; a killed sweep resumes with ``resume=True`` and runs only
what has no row.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..runs import (
    atomic_write_text,
    check_output_location,
    staged_directory,
    to_jsonable,
    versions,
)
from ._config import DATA_PREFIX, SweepConfig, load_config
from ._design import design_points
from ._store import LOCK_FILE, RESULTS_FILE, ResultStore, read_rows

__all__ = ["SweepResult", "execute_run", "open_sweep", "plan_runs", "run_sweep"]

SWEEP_FILE = "sweep.json"
# Dask settings for the workers of the local cluster (see _connect).
_QUIET_WORKERS = {"distributed.worker.profile.enabled": False,
                  "distributed.admin.tick.interval": "1s"}
RUNS_DIR = "runs"
# Seconds a local worker process gets to shut down before its nanny kills it (see _connect).
_WORKER_EXIT_TIMEOUT = 30.0


def _run_id(task: Mapping[str, Any]) -> str:
    # The design point's index is part of the identity: Morris trajectories may visit the same
    # point twice, and each visit is a run of its own.
    identity = {k: task[k] for k in ("method", "point", "data", "data_options", "seed",
                                     "params")}
    text = json.dumps(to_jsonable(identity), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan_runs(config: SweepConfig) -> list[dict[str, Any]]:
    """Every run of a sweep as a plain dict, in execution order: point, then data set, then seed.

    Each has ``run_id`` (stable across restarts), ``index``, ``point`` (the design point),
    ``method``, ``data``, ``data_options``, ``seed``, ``varied`` (the design point's values) and
    ``params`` (all estimator parameters: fixed plus varied).
    """
    tasks = []
    for point_index, point in enumerate(design_points(config.design)):
        estimator = {k: v for k, v in point.items() if not k.startswith(DATA_PREFIX)}
        data_varied = {k[len(DATA_PREFIX):]: v for k, v in point.items()
                       if k.startswith(DATA_PREFIX)}
        for spec in config.data:
            for seed in config.seeds:
                task = {
                    "index": len(tasks), "point": point_index, "method": config.method,
                    "data": spec.name, "data_label": spec.label(),
                    "data_options": {**spec.options, **data_varied}, "seed": seed,
                    "varied": dict(point), "params": {**config.fixed, **estimator},
                    "threads": config.threads_per_run, "save": config.save_runs,
                }
                task["run_id"] = _run_id(task)
                tasks.append(task)
    return tasks


def _read_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def execute_run(task: Mapping[str, Any]) -> dict[str, Any]:
    """Fit and score one planned run (on a worker); never raises for a failing fit.

    Returns ``{"row": ..., "files": {relative path: bytes}}``; a failure is a row with
    ``status = "failed"`` and the error's type, message and traceback.
    """
    import torch

    from ._config import DataSpec
    from ._methods import get_method

    torch.set_num_threads(int(task["threads"]))
    started = _dt.datetime.now(_dt.timezone.utc)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    row: dict[str, Any] = {k: task[k] for k in ("run_id", "index", "point", "method", "data",
                                                 "data_label", "data_options", "seed",
                                                 "varied", "params")}
    row["worker"] = {"host": socket.gethostname(), "pid": os.getpid()}
    files: dict[str, bytes] = {}
    try:
        method = get_method(task["method"])
        data = method.make_data(DataSpec(task["data"]), dict(task["data_options"]), task["seed"])
        estimator = method.build(task["params"], task["seed"])
        metrics = method.fit_and_score(estimator, data)
        if task["save"]:
            with tempfile.TemporaryDirectory(prefix="symmetrykit-run-") as tmp:
                method.save(estimator, Path(tmp) / "run", metrics)
                files = _read_tree(Path(tmp) / "run")
        row.update(status="ok", metrics=metrics, error=None)
    except Exception as exc:  # a failed run is a result, not the end of the sweep
        row.update(status="failed", metrics={},
                   error={"type": type(exc).__name__, "message": str(exc),
                          "traceback": traceback.format_exc()[-4000:]})
    row.update(wall_s=time.perf_counter() - wall0, cpu_s=time.process_time() - cpu0,
               started=started.isoformat(timespec="seconds"),
               finished=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    return {"row": row, "files": files}


@dataclass
class SweepResult:
    """What a sweep directory holds after :func:`run_sweep` (or :func:`open_sweep`).

    Attributes
    ----------
    directory
        The sweep directory.
    config
        The sweep's configuration.
    rows
        The latest row of every planned run that has one, in plan order.
    n_planned, n_executed, n_skipped
        Runs in the plan; runs executed by this call; runs skipped because they had a row.
    dashboard
        The Dask dashboard address used (None when not run here).
    """

    directory: Path
    config: SweepConfig
    rows: list[dict[str, Any]]
    n_planned: int
    n_executed: int = 0
    n_skipped: int = 0
    dashboard: str | None = None
    session: str | None = field(default=None, repr=False)

    @property
    def n_failed(self) -> int:
        return sum(r["status"] != "ok" for r in self.rows)

    @property
    def complete(self) -> bool:
        return len(self.rows) == self.n_planned

    def summary(self, metric: str | None = None, by: Any = None) -> list[dict[str, Any]]:
        """Mean ± std of ``metric`` (default: the config's score) per cell (:func:`summarize`)."""
        from ._analysis import summarize

        return summarize(self.rows, metric or self.config.score, by=by)

    def morris(self, metric: str | None = None) -> list[Any]:
        """Morris μ, μ*, σ per data set (Morris designs only); see :func:`morris_analysis`."""
        from ._analysis import morris_analysis

        return morris_analysis(self.config, self.rows, metric or self.config.score)


def _latest_in_plan(rows: list[dict[str, Any]], plan: list[dict[str, Any]]) -> list[dict]:
    latest = {row["run_id"]: row for row in rows}
    return [latest[t["run_id"]] for t in plan if t["run_id"] in latest]


def open_sweep(directory: str | os.PathLike[str]) -> SweepResult:
    """Read a sweep directory (its configuration and committed rows) without running anything."""
    directory = Path(directory)
    meta_path = directory / SWEEP_FILE
    if not meta_path.exists():
        raise FileNotFoundError(f"{directory} is not a sweep directory (no {SWEEP_FILE})")
    try:
        meta = json.loads(meta_path.read_text())
        config = load_config(meta["config"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{meta_path} is damaged: {exc}") from None
    plan = plan_runs(config)
    return SweepResult(directory, config, _latest_in_plan(read_rows(directory), plan), len(plan))


def _check_existing(directory: Path, config: SweepConfig, resume: bool) -> bool:
    """Whether ``directory`` already holds this sweep; refuses anything else with one line.

    Reads only, so it runs both before the lock is taken (to refuse early) and with the lock
    held (the answer that counts).
    """
    meta_path = directory / SWEEP_FILE
    if meta_path.exists():
        try:
            saved = json.loads(meta_path.read_text())["fingerprint"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{meta_path} is damaged ({exc}); cannot resume") from None
        if saved != config.fingerprint():
            raise ValueError(f"{directory} holds a sweep of a different configuration "
                             f"(fingerprint {saved}, this one {config.fingerprint()}); resume "
                             "needs the same config, or choose another --out")
        if not resume:
            raise FileExistsError(f"sweep directory {directory} already exists; pass --resume "
                                  "(resume=True) to continue it, or choose another --out")
        return True
    if os.path.lexists(directory) and (not directory.is_dir() or any(
            _foreign(entry) for entry in directory.iterdir())):
        raise FileExistsError(f"{directory} exists and is not an empty sweep directory; "
                              "choose another --out")
    return False


def _foreign(entry: Path) -> bool:
    # What a sweep that was killed before writing sweep.json may leave: its lock, an empty
    # store, a temporary sweep.json. Anything else belongs to someone else.
    if entry.name == LOCK_FILE or entry.name.startswith(f".{SWEEP_FILE}."):
        return False
    return not (entry.name == RESULTS_FILE and entry.is_file() and entry.stat().st_size == 0)


def _write_sweep_file(directory: Path, config: SweepConfig, plan: list[dict]) -> None:
    """Record the configuration; called only with the directory's lock held."""
    meta = {"fingerprint": config.fingerprint(), "config": config.to_dict(),
            "n_runs": len(plan),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "versions": versions()}
    atomic_write_text(directory / SWEEP_FILE, json.dumps(to_jsonable(meta), indent=2))


def _write_run_dir(runs_dir: Path, run_id: str, files: Mapping[str, bytes]) -> Path:
    runs_dir.mkdir(exist_ok=True)
    target = runs_dir / run_id
    # An existing directory was written by a sweep killed before committing the run's row: it
    # is not a result, and is replaced as a whole.
    with staged_directory(target, overwrite=True, keep_other_files=False) as stage:
        for name, data in files.items():
            path = stage / name
            if stage.resolve() not in path.resolve().parents:
                raise ValueError(f"run file name {name!r} escapes its directory")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return target


def _remove_stale_temporaries(runs_dir: Path) -> None:
    # Called with the lock held, so every hidden folder here (a stage, an old run set aside,
    # the temporary folders of earlier versions) was left by a sweep that is gone.
    if runs_dir.is_dir():
        for path in runs_dir.iterdir():
            if path.name.startswith(".") and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)


def _lost_row(task: Mapping[str, Any], exc: BaseException) -> dict[str, Any]:
    row = {k: task[k] for k in ("run_id", "index", "point", "method", "data", "data_label",
                                "data_options", "seed", "varied", "params")}
    row.update(status="failed", metrics={}, worker=None, wall_s=None, cpu_s=None,
               started=None, finished=_dt.datetime.now(_dt.timezone.utc).isoformat(
                   timespec="seconds"),
               error={"type": type(exc).__name__, "message": str(exc), "traceback": None})
    return row


def _versions_row() -> dict[str, Any]:
    info = versions()
    for package in ("dask", "distributed"):
        try:
            info[package] = __import__(package).__version__
        except ImportError:  # pragma: no cover
            info[package] = None
    return info


def _connect(client: Any, scheduler: str | None, n_workers: int | None,
             dashboard_address: str) -> tuple[Any, Callable[[], None]]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - comes with the sweep extra
        raise ImportError("sweeps need Dask distributed: pip install 'symmetrykit[sweep]'") from exc
    if client is not None:
        if scheduler is not None or n_workers is not None:
            raise ValueError("pass either client or scheduler/n_workers, not both")
        return client, lambda: None
    if scheduler is not None:
        if n_workers is not None:
            raise ValueError("n_workers applies to the local cluster; an existing scheduler "
                             "has its own workers")
        connected = Client(scheduler, timeout="30s")
        return connected, connected.close
    workers = (os.cpu_count() or 1) if n_workers is None else n_workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
    import dask

    # One thread per worker process: fits are CPU-bound and each sets its own torch threads.
    # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which fixes glibc's allocation
    # thresholds: every torch temporary is then mapped and unmapped afresh, and a fit takes
    # 1.8x the CPU time it takes in a plain process (measured, 7-dim SymmetryLens: 19 s vs
    # 10.5 s). The workers keep the thread limits but not that variable. The statistical
    # profiler (a stack sample every 10 ms) and the 20 ms event-loop tick are not worth their
    # GIL time for minute-long fits either.
    environ = {key: value for key, value in dask.config.get(
        "distributed.nanny.pre-spawn-environ", {}).items() if key != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({**_QUIET_WORKERS, "distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=_free_dashboard(dashboard_address))
    local = Client(cluster)

    def close() -> None:
        local.close()
        try:
            # LocalCluster.close() gives each worker process 4 s (0.8 × the nanny's default
            # 5 s) to exit, then kills it with "Worker process still alive after 4.0 seconds,
            # killing". A worker that imported torch spends seconds in its interpreter's final
            # garbage collection, more on a busy machine: close the nannies first, with time.
            # Not after an error or an interrupt: a fit still running would be waited for.
            if sys.exc_info()[0] is None:
                cluster.sync(_close_nannies, cluster, _WORKER_EXIT_TIMEOUT)
        finally:
            cluster.close()

    return local, close


async def _close_nannies(cluster: Any, timeout: float) -> None:
    """Close the local cluster's worker processes, each allowed ``0.8 × timeout`` to exit."""
    import asyncio

    await asyncio.gather(*(worker.close(timeout=timeout)
                           for worker in list(cluster.workers.values())),
                         return_exceptions=True)


def _free_dashboard(address: str) -> str:
    """``address``, or any free port (``":0"``) when its port is taken (e.g. by another sweep)."""
    host, _, port = address.rpartition(":")
    if not port.isdigit() or int(port) == 0:
        return address
    with socket.socket() as probe:
        try:
            probe.bind((host or "", int(port)))
        except OSError:
            return f"{host}:0"
    return address


def _eta(started: float, done: int, remaining: int) -> str:
    if done == 0:
        return "?"
    seconds = (time.perf_counter() - started) / done * remaining
    return f"{seconds / 60:.1f}min" if seconds >= 120 else f"{seconds:.0f}s"


def run_sweep(
    config: str | os.PathLike[str] | Mapping[str, Any] | SweepConfig,
    out: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    client: Any = None,
    resume: bool = False,
    retry_failed: bool = False,
    progress: Any = "auto",
    dashboard_address: str = ":8787",
    on_row: Callable[[dict[str, Any]], None] | None = None,
    on_start: Callable[[str | None], None] | None = None,
) -> SweepResult:
    """Run every planned fit of a sweep on Dask and record each in ``out``.

    Parameters
    ----------
    config
        A TOML file, a dict, or a :class:`SweepConfig` (see :func:`load_config`).
    out
        The sweep directory: ``sweep.json`` (configuration), ``results.jsonl`` (one row per
        run, append-only) and ``runs/<run_id>/`` (each run's saved estimator).
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); default: a local cluster.
    n_workers
        Worker processes of the local cluster (default: all cores).
    client
        An existing ``distributed.Client`` to use instead (it is not closed).
    resume
        Continue the sweep already in ``out``: runs with a row are skipped.
    retry_failed
        With ``resume``, run the failed runs again (a new row supersedes the old one).
    progress
        A progress meter spec (``"auto"``, ``"text"``, ``"tqdm"``, ``"none"``) or meter.
    dashboard_address
        Where the local cluster serves its dashboard (``":0"``: any free port).
    on_row
        Called with every committed row (after it is written).
    on_start
        Called with the Dask dashboard address once connected (not called when every run
        is already recorded).

    Returns
    -------
    SweepResult

    Raises
    ------
    FileExistsError
        When ``out`` holds this sweep and ``resume`` is false, or holds something else.
    ValueError
        For a bad configuration, when ``out`` holds a sweep of a different configuration, or
        while another live sweep holds its lock.
    NotADirectoryError, PermissionError
        When ``out`` lies under a file or cannot be written (checked before any work).
    """
    from ..progress import make_progress

    cfg = load_config(config)
    if retry_failed and not resume:
        raise ValueError("retry_failed needs resume=True")
    plan = plan_runs(cfg)
    directory = Path(out)
    # Refuse early what can be refused without writing: an unwritable place, another sweep.
    check_output_location(directory, write_inside=True)
    _check_existing(directory, cfg, resume)
    directory.mkdir(parents=True, exist_ok=True)
    runs_dir = directory / RUNS_DIR
    session = uuid.uuid4().hex[:12]
    env = _versions_row()

    with ResultStore(directory) as store:
        # Only the holder of the lock decides what the directory holds: two sweeps started at
        # once cannot both find it empty and write their own configuration.
        if not _check_existing(directory, cfg, resume):
            _write_sweep_file(directory, cfg, plan)
        _remove_stale_temporaries(runs_dir)
        committed = {row["run_id"]: row for row in store.rows()}
        todo = [t for t in plan if t["run_id"] not in committed
                or (retry_failed and committed[t["run_id"]]["status"] != "ok")]
        result = SweepResult(directory, cfg, [], len(plan), n_skipped=len(plan) - len(todo),
                             session=session)
        if todo:
            dask_client, close = _connect(client, scheduler, n_workers, dashboard_address)
            try:
                result.dashboard = getattr(dask_client, "dashboard_link", None)
                if on_start is not None:
                    on_start(result.dashboard)
                _execute(dask_client, cfg, todo, store, runs_dir, session, env, progress,
                         on_row, result, make_progress)
            finally:
                close()
        result.rows = _latest_in_plan(store.rows(), plan)
    return result


def _execute(dask_client: Any, cfg: SweepConfig, todo: list[dict], store: ResultStore,
             runs_dir: Path, session: str, env: dict, progress: Any, on_row: Any,
             result: SweepResult, make_progress: Callable) -> None:
    from distributed import as_completed

    # The session in the key keeps a rerun (retry_failed) from meeting an old result that a
    # shared client still holds under the same name.
    prefix = f"symmetrykit-sweep-{cfg.fingerprint()}-{session}"
    futures = {}
    for task in todo:
        # Earlier runs first; one key per run, so a run is never submitted twice.
        future = dask_client.submit(execute_run, task, key=f"{prefix}-{task['run_id']}",
                                    pure=False, priority=-task["index"])
        futures[future.key] = (future, task)
    done = failed = 0
    started = time.perf_counter()
    with make_progress(progress) as meter:
        meter.start(total=len(todo), description=f"sweep {cfg.name}")
        try:
            for future in as_completed([f for f, _ in futures.values()]):
                task = futures[future.key][1]
                try:
                    outcome = future.result()
                    row, files = outcome["row"], outcome["files"]
                except Exception as exc:  # e.g. KilledWorker after repeated worker loss
                    row, files = _lost_row(task, exc), {}
                row.update(session=session, versions=env, sweep=cfg.name)
                if files and row["status"] == "ok":
                    row["run_dir"] = str(Path(RUNS_DIR) / row["run_id"])
                    _write_run_dir(runs_dir, row["run_id"], files)
                store.append(row)
                result.n_executed += 1
                done += 1
                failed += row["status"] != "ok"
                future.release()
                if on_row is not None:
                    on_row(row)
                meter.update(1, done=done, running=_running(dask_client, futures),
                             failed=failed, eta=_eta(started, done, len(todo) - done))
        except BaseException:
            for future, _ in futures.values():
                future.cancel()
            raise


def _running(dask_client: Any, futures: Mapping[Any, Any]) -> int:
    # Tasks assigned to workers, capped by their threads (the rest wait in a worker's queue).
    try:
        processing = dask_client.processing()
        threads = sum(dask_client.nthreads().values())
    except Exception:  # pragma: no cover - the count is cosmetic
        return 0
    return min(threads, sum(key in futures for keys in processing.values() for key in keys))

