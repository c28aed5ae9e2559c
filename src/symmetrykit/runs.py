"""Run directories: one folder per experiment, safe to write and safe to read back.

A run directory holds

``config.json``
    The resolved user configuration together with the creation time, library versions and
    platform, so a result can always be traced back to what produced it.
``arrays.npz``
    Plain numeric arrays (never pickled objects).
``metrics.json``
    Scalar and small array metrics as strict JSON (non-finite numbers become ``null``).
``figures/*.png``
    Figures saved with :meth:`RunDirectory.save_figure`.
``checkpoint.npz`` / ``checkpoint.json``
    State of a long run, for resuming after an interruption.

Every file is written atomically: the content goes to a temporary file in the same directory,
which is flushed, fsynced and then moved over the target with :func:`os.replace`. A crash
therefore leaves either the old file or the new one, never a torn mixture. A whole run
directory is written the same way with :func:`staged_directory`: its files go to a hidden
sibling folder that is renamed into place only once they are all written, so replacing a run
(``overwrite``) keeps the old one until the new one is complete. :func:`check_output_location`
refuses, before any work, a place where such a write could not succeed. Nothing here uses
pickle, so loading a run directory from an untrusted source cannot execute code.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.metadata
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._staging import check_output_location, copy_entry, stage_directory
from ._staging import fsync_directory as _fsync_directory

__all__ = [
    "RunDirectory",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_figure",
    "check_output_location",
    "staged_directory",
    "to_jsonable",
    "versions",
]

CONFIG_FILE = "config.json"
ARRAYS_FILE = "arrays.npz"
METRICS_FILE = "metrics.json"
FIGURES_DIR = "figures"
CHECKPOINT_ARRAYS_FILE = "checkpoint.npz"
CHECKPOINT_META_FILE = "checkpoint.json"
EVALUATION_FILE = "evaluation.json"

_KNOWN_FILES = (
    CONFIG_FILE,
    ARRAYS_FILE,
    METRICS_FILE,
    CHECKPOINT_ARRAYS_FILE,
    CHECKPOINT_META_FILE,
)
# Reserved entry inside checkpoint.npz: the metadata travels in the same file as the state so a
# single os.replace commits both; two separate files could be left out of step by a crash.
_CHECKPOINT_META_KEY = "__meta__"
# npz entries become zip member names, so keep them to something portable and unambiguous.
_ARRAY_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_FIGURE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
# Booleans and numbers only: every other kind either needs pickle (object) or is not "numeric".
_ALLOWED_KINDS = frozenset("biufc")
_TMP_SUFFIX = ".tmp"


def _current_umask() -> int:
    # mkstemp creates files readable by the owner only; results should get the usual permissions.
    # os.umask can only be read by setting it, so do that once, at import.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_current_umask()


# --------------------------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _atomic_open(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Yield a binary file that replaces ``path`` only if the ``with`` block succeeds.

    The temporary file lives in the target's directory so that :func:`os.replace` is a rename
    within one file system (and hence atomic). On any failure the temporary file is removed and
    the previous content of ``path`` is left as it was.
    """
    target = Path(path)
    directory = target.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_TMP_SUFFIX, dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), _FILE_MODE)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_directory(directory)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path
        Target file; its directory must exist.
    data
        The complete new content.
    """
    with _atomic_open(path) as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_figure(fig: Any, path: str | os.PathLike[str], *, dpi: float = 110,
                        **savefig_kwargs: Any) -> Path:
    """Save a matplotlib figure as a PNG at ``path`` atomically, creating its folder.

    ``bbox_inches`` defaults to ``"tight"`` for a figure without a layout engine; one with an
    engine (``layout="constrained"``) is laid out already, and a tight box would draw it twice
    (most of the cost of saving). Other keywords go to ``fig.savefig``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = getattr(fig, "get_layout_engine", lambda: None)()
    savefig_kwargs.setdefault("bbox_inches", None if engine is not None else "tight")
    with _atomic_open(path) as handle:
        fig.savefig(handle, format="png", dpi=dpi, **savefig_kwargs)
    return path


# --------------------------------------------------------------------------------------------
# JSON and array conversion
# --------------------------------------------------------------------------------------------


def _is_tensor_like(obj: Any) -> bool:
    # Duck typing keeps torch optional: it is never imported by this module.
    return hasattr(obj, "detach") and hasattr(obj, "cpu") and hasattr(obj, "numpy")


def _float_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` into something :func:`json.dumps` accepts with ``allow_nan=False``.

    Handles nested dicts, lists, tuples and sets, numpy scalars and arrays, torch tensors,
    :class:`pathlib.Path` and :class:`datetime.datetime`. Non-finite floats (NaN, ±inf) become
    ``None`` so that the resulting JSON is strict and readable by any JSON parser.

    Parameters
    ----------
    obj
        The object to convert.

    Returns
    -------
    Any
        Built from ``dict`` (string keys), ``list``, ``str``, ``int``, ``float``, ``bool`` and
        ``None`` only.

    Raises
    ------
    TypeError
        For objects without an obvious JSON form (complex numbers, arbitrary classes).
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return _float_or_none(float(obj))
    if isinstance(obj, Mapping):
        return {_json_key(key): to_jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(item) for item in obj]
    if isinstance(obj, (set, frozenset)):
        # Sets have no order; sorting makes the file reproducible.
        return sorted((to_jsonable(item) for item in obj), key=repr)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    if _is_tensor_like(obj):
        return to_jsonable(obj.detach().cpu().numpy())
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            return [to_jsonable(item) for item in obj.tolist()]
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, complex):
        raise TypeError(
            f"cannot convert complex number {obj!r} to JSON; store real and imaginary parts"
        )
    raise TypeError(f"cannot convert object of type {type(obj).__name__} to JSON")


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, np.generic):
        key = key.item()
    if isinstance(key, (bool, int, float)) or key is None:
        return json.dumps(key)
    raise TypeError(f"JSON object keys must be strings or numbers, got {type(key).__name__}")


def _dumps(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n"


def _as_plain_array(value: Any, name: str) -> np.ndarray:
    if _is_tensor_like(value):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind not in _ALLOWED_KINDS or array.dtype.fields is not None:
        raise ValueError(
            f"array {name!r} has dtype {array.dtype}; only plain numeric or boolean arrays can be "
            "saved (object arrays would need pickle)"
        )
    return array


def _check_array_name(name: str) -> None:
    if not isinstance(name, str) or not _ARRAY_NAME.match(name):
        raise ValueError(
            f"invalid array name {name!r}: use letters, digits, '_', '.', '-' and do not start "
            "with '.' or '-'"
        )


def _write_npz(handle: IO[bytes], arrays: Mapping[str, np.ndarray]) -> None:
    # Written by hand instead of np.savez so that any array name is allowed (np.savez reserves
    # 'file' and 'allow_pickle') and pickling is refused at the lowest level as well.
    with zipfile.ZipFile(handle, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            with zf.open(f"{name}.npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    # Sizes are checked before allocation and object arrays refused from their header; any
    # damage is one ValueError naming the file (a missing file stays FileNotFoundError).
    from ._array_files import read_npz

    return read_npz(path)


# --------------------------------------------------------------------------------------------
# versions
# --------------------------------------------------------------------------------------------


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=2.0,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else None


def versions() -> dict[str, Any]:
    """Versions of Python, the numeric stack and this library, plus platform and git commit.

    ``torch`` is looked up through package metadata, never imported, so calling this is cheap.
    It appears only when installed. ``git_commit`` is the ``HEAD`` of the repository containing
    the current working directory, or ``None`` outside a repository or without git.

    Returns
    -------
    dict
        Keys ``python``, ``numpy``, ``scipy``, ``symmetrykit``, ``platform``, ``git_commit``
        and, when installed, ``torch``.
    """
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "numpy": _package_version("numpy") or np.__version__,
        "scipy": _package_version("scipy"),
    }
    torch_version = _package_version("torch")
    if torch_version is not None:
        info["torch"] = torch_version
    info["symmetrykit"] = _package_version("symmetrykit") or "unknown"
    info["platform"] = platform.platform()
    info["git_commit"] = _git_commit()
    return info


# --------------------------------------------------------------------------------------------
# staged run directories
# --------------------------------------------------------------------------------------------

# Files a run directory's writers own: replacing a run drops the old ones (the new run has its
# own); the user's other files are carried over.
_RUN_FILES = frozenset({*_KNOWN_FILES, EVALUATION_FILE})
_RUN_TEMPORARY = re.compile(
    rf"^\.(?:{'|'.join(re.escape(name) for name in _RUN_FILES)})\..*{re.escape(_TMP_SUFFIX)}$")
_FIGURE_TEMPORARY = re.compile(rf"^\..*\.png\..*{re.escape(_TMP_SUFFIX)}$")


def _carry_other_files(old: Path, stage: Path) -> None:
    """Copy (hard-link) into ``stage`` what the run directory ``old`` holds beyond its run.

    The run's own files (``config.json``, ``arrays.npz``, ``metrics.json``, ``checkpoint.*``,
    ``evaluation.json``, ``figures/*.png``) belong to the old run and are dropped; the user's
    notes and other files stay, unless the new run wrote a file of the same name.
    """
    for entry in old.iterdir():
        name = entry.name
        if name in _RUN_FILES or _RUN_TEMPORARY.match(name):
            continue
        if name == FIGURES_DIR and entry.is_dir() and not entry.is_symlink():
            for figure in entry.iterdir():
                if figure.suffix.lower() == ".png" or _FIGURE_TEMPORARY.match(figure.name):
                    continue
                (stage / FIGURES_DIR).mkdir(exist_ok=True)
                if not os.path.lexists(stage / FIGURES_DIR / figure.name):
                    copy_entry(figure, stage / FIGURES_DIR / figure.name)
        elif not os.path.lexists(stage / name):
            copy_entry(entry, stage / name)


@contextlib.contextmanager
def staged_directory(path: str | os.PathLike[str], *, overwrite: bool = False,
                     keep_other_files: bool = True) -> Iterator[Path]:
    """Write a whole run directory under a temporary name; rename it into place when done.

    Yields a fresh, empty sibling folder ``.<name>.staging-<pid>-<random>`` to write into
    (create the run there with :meth:`RunDirectory.create`, save figures, evaluations, ...).
    When the ``with`` block succeeds the folder becomes ``path``: an existing ``path`` is
    renamed aside, the stage renamed in, and the old one removed, so the old run stays whole
    and readable until the new one is complete. When the block raises, ``path`` is left exactly
    as it was and the stage is removed. Leftovers of a killed process are cleaned up by the
    next staging of the same path, which also puts back an old run whose replacement was cut
    off between the two renames.

    Parameters
    ----------
    path
        The run directory to create or replace; its parents are created.
    overwrite
        Allow replacing a non-empty directory; without it such a directory is refused before
        the block runs (and again just before the swap).
    keep_other_files
        When replacing, carry the files the old directory holds beyond its run (the user's
        notes, non-PNG files in ``figures/``) over into the new one, as
        :meth:`RunDirectory.create` with ``overwrite`` always did.

    Raises
    ------
    FileExistsError
        If ``path`` is a file, or a non-empty directory without ``overwrite``.
    NotADirectoryError
        If ``path`` lies under a file.

    Examples
    --------
    >>> with staged_directory(tmp / "run", overwrite=True) as stage:   # doctest: +SKIP
    ...     run = RunDirectory.create(stage, {"seed": 0})
    ...     run.save_metrics({"cos": 0.99})
    """
    with stage_directory(path, overwrite=overwrite,
                         carry_over=_carry_other_files if keep_other_files else None) as stage:
        yield stage


# --------------------------------------------------------------------------------------------
# run directory
# --------------------------------------------------------------------------------------------


class RunDirectory:
    """A directory holding the configuration, arrays, metrics and figures of one run.

    Create a new run with :meth:`create` and reopen an existing one with :meth:`open`; the
    constructor itself does no checks.

    Parameters
    ----------
    path
        The run directory.

    Examples
    --------
    >>> run = RunDirectory.create(tmp / "run1", {"lr": 1e-3, "seed": 0})  # doctest: +SKIP
    >>> run.save_arrays(generator=g)                                        # doctest: +SKIP
    >>> RunDirectory.open(tmp / "run1").load_arrays()["generator"]          # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    # -- creation ----------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        config: Mapping[str, Any],
        *,
        overwrite: bool = False,
    ) -> RunDirectory:
        """Create a run directory and write ``config.json``.

        Parameters
        ----------
        path
            Directory to create (parents included). It may already exist if it is empty.
        config
            The resolved parameters of the run (including the seed). Stored via
            :func:`to_jsonable`, so tuples come back as lists.
        overwrite
            Allow reusing a non-empty directory in place. This is the low-level form: the
            files this module writes (``config.json``, ``arrays.npz``, ``metrics.json``,
            ``checkpoint.*``, ``figures/*.png`` and leftover temporary files) are removed at
            once, before the new ones exist; anything else is left alone. To replace a run so
            that the old one survives a failed write, create the new run in
            :func:`staged_directory` instead, as estimators' ``save`` and the command line do.

        Returns
        -------
        RunDirectory

        Raises
        ------
        FileExistsError
            If ``path`` is a non-empty directory and ``overwrite`` is false, or is a file.
        """
        if not isinstance(config, Mapping):
            raise TypeError(f"config must be a mapping, got {type(config).__name__}")
        run = cls(path)
        if run.path.exists() and not run.path.is_dir():
            raise FileExistsError(f"run directory path {run.path} exists and is not a directory")
        occupied = run.path.is_dir() and any(run.path.iterdir())
        if occupied and not overwrite:
            raise FileExistsError(
                f"run directory {run.path} already exists and is not empty; choose a new "
                "path or pass overwrite=True"
            )
        # Serialise before touching the disk so an unconvertible config changes nothing.
        text = _dumps(
            {
                "config": config,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(),
                "versions": versions(),
                "platform": {
                    "system": platform.system(),
                    "machine": platform.machine(),
                    "python_implementation": platform.python_implementation(),
                    "executable": sys.executable,
                },
            }
        )
        if occupied:
            run._remove_known_files()
        run.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run.path / CONFIG_FILE, text)
        return run

    def _remove_known_files(self) -> None:
        for name in _KNOWN_FILES:
            with contextlib.suppress(FileNotFoundError):
                (self.path / name).unlink()
        for name in _KNOWN_FILES:
            for leftover in self.path.glob(f".{name}.*{_TMP_SUFFIX}"):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
        figures = self.path / FIGURES_DIR
        if figures.is_dir():
            for pattern in ("*.png", f".*.png.*{_TMP_SUFFIX}"):
                for file in figures.glob(pattern):
                    if file.is_file():
                        file.unlink()
            # Keep the folder if the user put other things in it.
            with contextlib.suppress(OSError):
                figures.rmdir()

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RunDirectory:
        """Open an existing run directory.

        Raises
        ------
        ValueError
            If ``path`` is not a directory or has no readable ``config.json``.
        """
        run = cls(path)
        if not run.path.is_dir():
            raise ValueError(f"{run.path} is not a run directory: no such directory")
        if not (run.path / CONFIG_FILE).is_file():
            raise ValueError(f"{run.path} is not a run directory: {CONFIG_FILE} is missing")
        run._read_config_file()
        return run

    def _read_config_file(self) -> dict[str, Any]:
        file = self.path / CONFIG_FILE
        try:
            content = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read {file}: {exc}") from exc
        if not isinstance(content, dict) or not isinstance(content.get("config"), dict):
            raise ValueError(f"{file} is not a symmetrykit run configuration")
        return content

    # -- config ------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The user configuration passed to :meth:`create` (after JSON conversion)."""
        return self._read_config_file()["config"]

    def info(self) -> dict[str, Any]:
        """The whole ``config.json``: ``config``, ``created``, ``versions`` and ``platform``."""
        return self._read_config_file()

    # -- arrays ------------------------------------------------------------------------------

    def save_arrays(self, **arrays: Any) -> Path:
        """Write ``arrays.npz``, replacing any previous one as a whole.

        Parameters
        ----------
        **arrays
            Numeric or boolean numpy arrays, array-likes or torch tensors (moved to the CPU).

        Returns
        -------
        Path
            The written file.

        Raises
        ------
        ValueError
            For object, string or structured dtypes, or names not usable as file names.
        """
        converted = self._convert_arrays(arrays)
        target = self.path / ARRAYS_FILE
        with _atomic_open(target) as handle:
            _write_npz(handle, converted)
        return target

    @staticmethod
    def _convert_arrays(arrays: Mapping[str, Any]) -> dict[str, np.ndarray]:
        converted = {}
        for name, value in arrays.items():
            _check_array_name(name)
            converted[name] = _as_plain_array(value, name)
        return converted

    def load_arrays(self) -> dict[str, np.ndarray]:
        """Read ``arrays.npz`` (without pickle).

        Raises
        ------
        FileNotFoundError
            If no arrays were saved.
        ValueError
            One line naming the file if it is empty, truncated, not a zip, holds Python objects
            or an array whose header claims more bytes than the file holds (checked before any
            memory is allocated).
        """
        return _read_npz(self.path / ARRAYS_FILE)

    # -- metrics -----------------------------------------------------------------------------

    def save_metrics(self, metrics: Mapping[str, Any]) -> Path:
        """Write ``metrics.json`` (strict JSON; NaN and ±inf become ``null``).

        Returns
        -------
        Path
            The written file.
        """
        if not isinstance(metrics, Mapping):
            raise TypeError(f"metrics must be a mapping, got {type(metrics).__name__}")
        target = self.path / METRICS_FILE
        atomic_write_text(target, _dumps(metrics))
        return target

    def load_metrics(self) -> dict[str, Any]:
        """Read ``metrics.json``.

        Raises
        ------
        FileNotFoundError
            If no metrics were saved.
        """
        return json.loads((self.path / METRICS_FILE).read_text(encoding="utf-8"))

    # -- figures -----------------------------------------------------------------------------

    def save_figure(self, fig: Any, name: str, *, dpi: float = 110, **savefig_kwargs: Any) -> Path:
        """Save a matplotlib figure as ``figures/<name>.png``, atomically.

        Parameters
        ----------
        fig
            A :class:`matplotlib.figure.Figure` (anything with ``savefig``).
        name
            File stem; a trailing ``.png`` is accepted and not doubled.
        dpi
            Resolution.
        **savefig_kwargs
            Passed on to ``fig.savefig``; ``bbox_inches`` defaults to ``"tight"`` (see
            :func:`atomic_write_figure`).

        Returns
        -------
        Path
            The written file.
        """
        if isinstance(name, str) and name.lower().endswith(".png"):
            name = name[:-4]
        if not isinstance(name, str) or not _FIGURE_NAME.match(name):
            raise ValueError(
                f"invalid figure name {name!r}: use letters, digits, '_', '.', '-' (no folders)"
            )
        return atomic_write_figure(fig, self.path / FIGURES_DIR / f"{name}.png", dpi=dpi,
                                   **savefig_kwargs)

    def figures(self) -> list[Path]:
        """Saved figure files, sorted by name."""
        folder = self.path / FIGURES_DIR
        return sorted(folder.glob("*.png")) if folder.is_dir() else []

    # -- checkpoints -------------------------------------------------------------------------

    def save_checkpoint(self, state: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        """Save the state of a long run so it can be resumed.

        ``checkpoint.npz`` holds the arrays and, in a reserved entry, the metadata; it is the
        file :meth:`load_checkpoint` reads, so one atomic rename commits state and metadata
        together. ``checkpoint.json`` repeats the metadata for people and tools to read.

        Parameters
        ----------
        state
            Arrays (numpy or torch) by name; names must not start with ``__``.
        meta
            JSON-convertible metadata, e.g. the step reached and the RNG seed.
        """
        if not isinstance(meta, Mapping):
            raise TypeError(f"meta must be a mapping, got {type(meta).__name__}")
        for name in state:
            if isinstance(name, str) and name.startswith("__"):
                raise ValueError(f"state names starting with '__' are reserved, got {name!r}")
        arrays = self._convert_arrays(state)
        meta_text = _dumps(meta)
        arrays[_CHECKPOINT_META_KEY] = np.frombuffer(meta_text.encode("utf-8"), dtype=np.uint8)
        with _atomic_open(self.path / CHECKPOINT_ARRAYS_FILE) as handle:
            _write_npz(handle, arrays)
        atomic_write_text(self.path / CHECKPOINT_META_FILE, meta_text)

    def load_checkpoint(self) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """Load the last checkpoint.

        Returns
        -------
        tuple of (dict, dict) or None
            ``(state, meta)``, or ``None`` if no checkpoint was saved.

        Raises
        ------
        ValueError
            One line naming ``checkpoint.npz`` if it is empty, truncated, damaged, holds Python
            objects or oversized arrays, or lacks valid metadata (a JSON object).
        """
        file = self.path / CHECKPOINT_ARRAYS_FILE
        if not file.is_file():
            return None
        try:
            arrays = _read_npz(file)
        except FileNotFoundError:  # removed between the check and the read
            return None
        raw = arrays.pop(_CHECKPOINT_META_KEY, None)
        if raw is None:
            raise ValueError(f"{file} has no metadata entry; not written by save_checkpoint")
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"{file}: the metadata entry must be UTF-8 bytes (uint8, 1-D), got "
                             f"{raw.dtype} of shape {raw.shape}")
        try:
            meta = json.loads(raw.tobytes().decode("utf-8"))
        except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ValueError(f"{file}: the metadata is not valid JSON ({error})") from None
        if not isinstance(meta, dict):
            raise ValueError(f"{file}: the metadata must be a JSON object, got "
                             f"{type(meta).__name__}")
        return arrays, meta
