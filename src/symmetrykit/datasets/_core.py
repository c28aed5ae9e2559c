"""The :class:`SymmetryDataset` container, saving it, and loading user data from disk."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._array_files import NpzArchive, file_signature, read_npy

__all__ = [
    "SUPPORTED_SUFFIXES",
    "TARGET_KEYS",
    "PairsFileError",
    "SymmetryDataset",
    "load",
    "load_xy",
]

SUPPORTED_SUFFIXES = (".npz", ".npy", ".csv")
_FORMAT = "symmetrykit.SymmetryDataset"
_FORMAT_VERSION = 1
# Written by TwoBodyPairs.save: X, Y and generator; load() refuses it (it reads samples only).
PAIRS_FORMAT = "symmetrykit.TwoBodyPairs"


class PairsFileError(ValueError):
    """:func:`load` met a saved set of pairs ``(X, Y)``; it reads samples only.

    A ``ValueError``, so callers that report bad files keep working; its own type lets a caller
    that can use pairs (``symmetrykit data show``) tell it from a broken file.
    """


_ORTHOGONALITY_ATOL = 1e-8


def _json_default(value: Any) -> Any:
    # numpy scalars and arrays creep into params easily; store them as plain JSON values.
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _as_json_dict(params: Any) -> dict[str, Any]:
    """A plain-JSON copy of ``params`` (numpy values converted), or ValueError."""
    try:
        return json.loads(json.dumps(dict(params), default=_json_default, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"params must be a JSON-serialisable dict: {exc}") from exc


def _check_matrix(array: Any, source: str) -> np.ndarray:
    """Validate data of shape ``(n_samples, dim)``; return it as float64, C-contiguous.

    ``source`` names where the values came from (a path, or ``"X"``) in every message.
    """
    array = np.asarray(array)
    if array.dtype.hasobject:
        raise ValueError(f"{source}: contains Python objects; only numeric arrays are supported")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(f"{source}: complex values are not supported")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"{source}: values are not numeric (dtype {array.dtype})")
    if array.ndim != 2:
        raise ValueError(
            f"{source}: expected a 2-D array of shape (n_samples, dim), got a {array.ndim}-D "
            f"array of shape {array.shape}"
        )
    n_samples, dim = array.shape
    if n_samples < 2:
        raise ValueError(f"{source}: need at least 2 samples (rows), got {n_samples}")
    if dim < 2:
        raise ValueError(f"{source}: need dim >= 2 (columns), got {dim}")
    array = np.ascontiguousarray(array, dtype=np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        n_bad = int(array.size - np.count_nonzero(finite))
        raise ValueError(
            f"{source}: {n_bad} value(s) are NaN or infinite, in {bad_rows.size} row(s); "
            f"first at row index {int(bad_rows[0])}"
        )
    return array


def _check_square(matrix: Any, dim: int, what: str, source: str) -> np.ndarray:
    try:
        matrix = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source}: {what} is not numeric: {exc}") from exc
    if matrix.shape != (dim, dim):
        raise ValueError(
            f"{source}: {what} has shape {matrix.shape}, but the data have dim {dim}, so it "
            f"must be ({dim}, {dim})"
        )
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"{source}: {what} contains NaN or infinite values")
    return np.ascontiguousarray(matrix)


@dataclass(frozen=True, eq=False)
class SymmetryDataset:
    """Samples with (optionally) their known symmetry.

    Parameters
    ----------
    X
        Samples, shape ``(n_samples, dim)``; stored as float64, C-contiguous (no copy when it
        already is). The array stays writable so that ``torch.from_numpy`` works without warnings.
    generator
        True minimal generator ``G`` of shape ``(dim, dim)`` (the group element of one unit step,
        e.g. the pixel shift), or ``None`` for data without ground truth.
    transform
        Orthogonal representation ``Q`` of shape ``(dim, dim)`` mapping raw signals to the stored
        ones (``x' = Q x``; then ``G = Q S Qᵀ``), or ``None``.
    name
        Short name, e.g. ``"gaussian-translation"`` or the stem of a loaded file.
    params
        All resolved generation parameters; must be JSON-serialisable (numpy scalars and arrays
        are converted).
    description
        One or two human-readable sentences.

    Raises
    ------
    ValueError
        If ``X`` is not a finite numeric 2-D array with at least 2 rows and 2 columns, if
        ``generator``/``transform`` do not have shape ``(dim, dim)``, if ``transform`` is not
        orthogonal, or if ``params`` is not JSON-serialisable.
    """

    X: np.ndarray
    generator: np.ndarray | None = None
    transform: np.ndarray | None = None
    name: str = "data"
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        x = _check_matrix(self.X, "X")
        dim = x.shape[1]
        object.__setattr__(self, "X", x)
        if self.generator is not None:
            generator = _check_square(self.generator, dim, "generator", "SymmetryDataset")
            object.__setattr__(self, "generator", generator)
        if self.transform is not None:
            q = _check_square(self.transform, dim, "transform", "SymmetryDataset")
            if not np.allclose(q.T @ q, np.eye(dim), rtol=0, atol=_ORTHOGONALITY_ATOL):
                raise ValueError("SymmetryDataset: transform must be orthogonal (Qᵀ Q = I)")
            object.__setattr__(self, "transform", q)
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "description", str(self.description))
        object.__setattr__(self, "params", _as_json_dict(self.params))

    @property
    def n_samples(self) -> int:
        """Number of samples (rows of ``X``)."""
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        """Dimension of each sample (columns of ``X``)."""
        return int(self.X.shape[1])

    @property
    def cyclic(self) -> bool:
        """Whether the true generator is orthogonal, i.e. generates a finite cyclic group.

        Then the shift chain has no ends (circulant data), and a learned filter may sit anywhere
        on the cycle. False when the ground truth is unknown.
        """
        if self.generator is None:
            return False
        g = self.generator
        return bool(np.allclose(g.T @ g, np.eye(self.dim), atol=1e-10))

    def __repr__(self) -> str:
        truth = "none" if self.generator is None else f"{self.dim}x{self.dim}"
        return (
            f"SymmetryDataset(name={self.name!r}, n_samples={self.n_samples}, dim={self.dim}, "
            f"generator={truth})"
        )

    def _metadata(self) -> str:
        return json.dumps(
            {
                "format": _FORMAT,
                "version": _FORMAT_VERSION,
                "name": self.name,
                "params": self.params,
                "description": self.description,
            }
        )

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the data set to ``path`` atomically and return the path.

        ``.npz`` stores ``X``, ``generator`` and ``transform`` (when present) and a ``metadata``
        JSON string (name, params, description) as plain arrays, so :func:`load` restores
        everything without unpickling. ``.npy`` and ``.csv`` (header ``x0,x1,…``, values written
        with 17 significant digits) store ``X`` only.

        Parameters
        ----------
        path
            Target file; its suffix picks the format.
        overwrite
            Replace an existing file. Without it an existing file is never touched.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is false.
        ValueError
            For an unsupported suffix.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise ValueError(
                f"{path}: unsupported file type {suffix or '(none)'!r}; "
                f"use one of {', '.join(SUPPORTED_SUFFIXES)}"
            )
        write_atomically(path, lambda handle: self._write(handle, suffix), overwrite=overwrite)
        return path

    def _write(self, handle: Any, suffix: str) -> None:
        if suffix == ".npy":
            np.save(handle, self.X, allow_pickle=False)
        elif suffix == ".csv":
            header = ",".join(f"x{j}" for j in range(self.dim))
            np.savetxt(handle, self.X, fmt="%.17g", delimiter=",", header=header, comments="")
        else:
            arrays = {"X": self.X, "metadata": np.array(self._metadata())}
            if self.generator is not None:
                arrays["generator"] = self.generator
            if self.transform is not None:
                arrays["transform"] = self.transform
            np.savez(handle, allow_pickle=False, **arrays)


def write_atomically(path: Path, write: Callable[[Any], None], *, overwrite: bool) -> None:
    """Call ``write(handle)`` on a file beside ``path``, then move it into place atomically.

    Readers never see a half-written ``path``, and without ``overwrite`` an existing file (even
    one that appears while writing) is never touched: FileExistsError instead.
    """
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
    # A temporary file in the target directory makes the final rename atomic (same file
    # system); O_EXCL with mode 0o666 honours the umask, unlike mkstemp's 0o600.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        _move_into_place(tmp, path, overwrite=overwrite)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _move_into_place(tmp: Path, path: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        # link() fails if the target appeared meanwhile, so a concurrent writer is never clobbered.
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it") from None
    except OSError:
        # File systems without hard links: fall back to a plain (still atomic) rename.
        if path.exists():
            raise FileExistsError(
                f"{path} already exists; pass overwrite=True to replace it"
            ) from None
        os.replace(tmp, path)
    else:
        tmp.unlink()


# ---------------------------------------------------------------------------------------- loading
def load(path: str | os.PathLike[str]) -> SymmetryDataset:
    """Load user data (or a saved :class:`SymmetryDataset`) from ``.npy``, ``.npz`` or ``.csv``.

    * ``.npy``: one 2-D numeric array ``(n_samples, dim)``.
    * ``.npz``: a file written by :meth:`SymmetryDataset.save` (generator, transform, name,
      params and description are restored), or any archive with an array named ``X`` or with
      exactly one array. A file of pairs written by :meth:`TwoBodyPairs.save` is refused
      (:class:`PairsFileError`) rather than read without its ``Y``: read it with
      :meth:`TwoBodyPairs.load`, or with :func:`load_xy` for ``X`` and ``Y`` as targets.
    * ``.csv``: comma-separated numbers, one sample per line; blank lines and lines starting
      with ``#`` are skipped. The first line is a header of column names, and dropped, when
      none of its fields is a number (``x0,x1,x2``); a line of numbers only is always data.
      So a header must name its columns or be commented out with ``#``: a first line of
      numbered names such as ``1,2,3,4,5`` cannot be told from a sample. It is read as data,
      with a ``UserWarning`` when it looks like a numbered header (strictly increasing
      integers above rows that are not). Every line must have as many fields as the first.

    Pickled objects are never loaded. Sizes are checked before memory is allocated: a ``.npy``
    header (also inside an ``.npz``) whose shape claims more bytes than the file holds, or than
    the memory available, is refused. The returned ``X`` is float64 and C-contiguous; ``name``
    is the file stem unless the file stores one.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        One line naming the path: an unknown suffix; an empty, truncated or corrupt file; a
        header whose shape does not match the file's size; object/pickled arrays; a CSV with
        ragged rows, a non-numeric value, a mixed header or only a header; data that are not
        2-D, non-numeric, complex, NaN or infinite, fewer than 2 samples or ``dim < 2``; or a
        stored generator/transform that does not match the data.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return SymmetryDataset(X=_check_matrix(_read_npy(path), str(path)), name=path.stem)
    if suffix == ".npz":
        return _load_npz(path)[0]
    if suffix == ".csv":
        return SymmetryDataset(X=_check_matrix(_read_csv(path), str(path)), name=path.stem)
    raise ValueError(
        f"{path}: unsupported file type {suffix or '(none)'!r}; "
        f"use one of {', '.join(SUPPORTED_SUFFIXES)}"
    )


TARGET_KEYS = ("Y", "y")


def load_xy(
    path: str | os.PathLike[str], targets: str | os.PathLike[str] | None = None
) -> tuple[SymmetryDataset, np.ndarray | None]:
    """Samples (as :func:`load`) and, for supervised use, their targets; each file read once.

    Parameters
    ----------
    path
        Anything :func:`load` reads. An ``.npz`` may also hold the targets (model outputs) in
        an array named ``Y`` or ``y``; that array is never taken for the data.
    targets
        Optional ``.npy`` or ``.csv`` file of targets, one row per sample. Refused when ``path``
        already holds targets.

    Returns
    -------
    (dataset, Y)
        The data set, and the targets as a float64 array of shape ``(n_samples, n_outputs)``
        (a 1-D array becomes one column) or ``None`` when there are none.

    Raises
    ------
    FileNotFoundError
        If ``path`` or ``targets`` does not exist.
    ValueError
        As :func:`load`; for targets given twice, targets that are not numeric, NaN or
        infinite, or whose number of rows differs from the data's. The message names the path.
    """
    path = Path(path)
    y = None
    if path.suffix.lower() == ".npz" and path.is_file():
        dataset, y = _load_npz(path, TARGET_KEYS)
        source = f"{path} (targets)"
        if y is not None and targets is not None:
            raise ValueError(f"{path} already holds targets; do not give a targets file too")
    else:
        dataset = load(path)
    if targets is not None:
        source = str(targets)
        y = _read_targets(Path(targets))
    if y is None:
        return dataset, None
    y = np.asarray(y)
    real = np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_
    if not real or np.issubdtype(y.dtype, np.complexfloating):
        raise ValueError(f"{source}: targets must be real numbers (dtype {y.dtype})")
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise ValueError(f"{source}: targets must be 1-D or 2-D, got shape {y.shape}")
    if y.shape[0] != dataset.n_samples:
        raise ValueError(f"{source}: the data have {dataset.n_samples} rows but the targets "
                         f"have {y.shape[0]}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{source}: the targets contain NaN or infinite values")
    return dataset, y


def _read_targets(path: Path) -> np.ndarray:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _read_npy(path)
    if suffix == ".csv":
        return _read_csv(path)
    raise ValueError(f"{path}: targets must be a .npy or .csv file, not {suffix or '(none)'!r}")


def _read_npy(path: Path) -> np.ndarray:
    # Sizes checked before allocation, objects refused from the header (never unpickled).
    return read_npy(path)


def _load_npz(
    path: Path, target_keys: tuple[str, ...] = ()
) -> tuple[SymmetryDataset, np.ndarray | None]:
    """The data set in an archive, and its first array named in ``target_keys`` (or None)."""
    try:
        signature = file_signature(path)
    except OSError as exc:
        raise ValueError(f"{path}: cannot be opened ({exc})") from exc
    if signature == "npy":  # an .npy saved under a .npz name
        return SymmetryDataset(X=_check_matrix(read_npy(path), str(path)), name=path.stem), None
    with NpzArchive(path) as archive:
        x, extras, metadata, targets = _read_npz_members(archive, path, target_keys)
    if metadata is None:
        return SymmetryDataset(X=x, name=path.stem, **extras), targets
    try:
        return SymmetryDataset(
            X=x,
            name=str(metadata.get("name", path.stem)),
            params=metadata.get("params", {}),
            description=str(metadata.get("description", "")),
            **extras,
        ), targets
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _read_npz_members(
    archive: NpzArchive, path: Path, target_keys: tuple[str, ...] = ()
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any] | None, np.ndarray | None]:
    """The data, the stored generator/transform, the parsed metadata and the targets (or None).

    The targets are the first array named in ``target_keys``; they are never taken for the data.
    Only the arrays used are read.
    """
    present = [key for key in target_keys if key in archive]
    targets = archive.read(present[0]) if present else None
    keys = [key for key in archive.names if key not in target_keys]
    metadata = None
    if "metadata" in keys:
        metadata = _parse_metadata(archive.read("metadata"), path)
        if metadata is not None:
            keys.remove("metadata")
    if metadata is not None and metadata["format"] == PAIRS_FORMAT and "Y" not in target_keys:
        # Checked before X is read: dropping Y silently would turn pairs into mere samples.
        raise PairsFileError(
            f"{path}: holds pairs (X, Y) of {metadata.get('name', 'pairs')!r}, but load() "
            "reads samples only; use TwoBodyPairs.load(path), or load_xy(path) for X with Y "
            "as targets"
        )
    if "X" in keys:
        key = "X"
    elif len(keys) == 1:
        key = keys[0]
    else:
        found = ", ".join(repr(k) for k in keys) or "none"
        raise ValueError(
            f"{path}: cannot tell which array holds the data; name it 'X' or store exactly "
            f"one array (found: {found})"
        )
    x = _check_matrix(archive.read(key), str(path))
    extras = {}
    for what in ("generator", "transform"):
        if what in keys:
            matrix = archive.read(what)
            extras[what] = _check_square(matrix, x.shape[1], what, str(path))
    return x, extras, metadata, targets


def _parse_metadata(value: np.ndarray, path: Path) -> dict[str, Any] | None:
    """The metadata written by :meth:`SymmetryDataset.save` or :meth:`TwoBodyPairs.save`, or
    None for a user's own array."""
    if value.ndim != 0 or value.dtype.kind not in "US":
        return None
    text = value.item()
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        metadata = json.loads(text)
    except ValueError:
        return None
    if not isinstance(metadata, dict) or metadata.get("format") not in (_FORMAT, PAIRS_FORMAT):
        return None
    if not isinstance(metadata.get("params", {}), dict):
        raise ValueError(f"{path}: corrupt metadata: 'params' must be a JSON object")
    return metadata


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numbered_rows(rows: np.ndarray) -> np.ndarray:
    """Which rows are strictly increasing integers, the look of numbered column names."""
    whole = np.all(rows == np.round(rows), axis=1)
    return whole & np.all(np.diff(rows, axis=1) > 0, axis=1)


def _read_csv(path: Path) -> np.ndarray:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable UTF-8 text file ({exc})") from exc
    # Blank and '#' lines carry no data; keep 1-based line numbers for the messages.
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        what = "it is empty" if not text.strip() else "only blank or '#' comment lines"
        raise ValueError(f"{path}: the file contains no data ({what})")
    first = [field.strip() for field in lines[0][1].split(",")]
    numeric = [_is_number(f) for f in first]
    header = None
    if not any(numeric):
        header, lines = lines[0], lines[1:]  # a header of column names
        if not lines:
            raise ValueError(f"{path}: the file has a header row but no data rows")
    elif not all(numeric):
        bad = first[numeric.index(False)]
        raise ValueError(f"{path}: line {lines[0][0]} mixes numbers and names ({bad!r}); a "
                         "header must name every column (or start with '#'), a data row must "
                         "hold numbers only")
    reference = header or lines[0]
    width = reference[1].count(",") + 1
    for number, line in lines:
        if line.count(",") + 1 != width:
            raise ValueError(f"{path}: ragged rows: line {number} has {line.count(',') + 1} "
                             f"comma-separated fields, line {reference[0]} has {width}")
    try:
        # loadtxt reads a list of lines; ndmin=2 keeps a single column 2-D so the dim check fires.
        data = np.loadtxt([line for _, line in lines], delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        for number, line in lines:
            for column, field in enumerate(line.split(","), 1):
                if not _is_number(field.strip()):
                    raise ValueError(f"{path}: line {number}, field {column}: "
                                     f"{field.strip()!r} is non-numeric") from None
        raise ValueError(f"{path}: could not parse as comma-separated numbers ({exc})") from None
    # (Non-finite data are refused next with their own message; no warning before that.)
    judged = data.shape[1] >= 2 and data.shape[0] >= 2 and np.isfinite(data).all()
    numbered = _numbered_rows(data) if judged else None
    if header is None and numbered is not None and numbered[0] and not numbered[1:].all():
        warnings.warn(f"{path}: the first line ({lines[0][1].strip()!r}) looks like numbered "
                      "column names but, being all numbers, was read as a data row; if it is a "
                      "header, name the columns (e.g. x1,x2,...) or start it with '#'",
                      UserWarning, stacklevel=4)
    return data
