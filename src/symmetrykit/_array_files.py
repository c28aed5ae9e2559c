"""Reading ``.npy`` files and ``.npz`` archives that may be truncated, oversized or hostile.

Every loader of symmetrykit (saved runs, checkpoints, data files) reads arrays through this
module, so that one set of rules holds everywhere:

* Sizes are bounded before any allocation. The shape and dtype a ``.npy`` header claims must
  account for exactly the bytes that follow the header (for a member of an archive: the member's
  size in the zip directory, itself bounded by its compressed size), and must fit in the
  available memory. A header edited to claim terabytes is refused in microseconds instead of
  ending in a ``MemoryError``.
* Nothing is unpickled: an array of Python objects is refused from its header, before a byte of
  its payload is read.
* Every problem (empty, truncated or not-a-zip file, a bad CRC, an unsupported compression,
  a corrupt header) is one :class:`ValueError` line naming the file and, inside an archive, the
  array; never ``BadZipFile``, ``EOFError``, ``zlib.error`` or ``MemoryError``. A missing file
  still raises :class:`FileNotFoundError`, which callers use to tell "absent" from "broken".

Only numpy is imported, so data loading stays free of torch.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._validation import available_memory, bytes_text

__all__ = ["NpzArchive", "file_signature", "pickle_refusal", "read_npy", "read_npz"]

NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# Deflate cannot expand data by more than about 1032:1, so a member that claims more than this
# many bytes per compressed byte has a tampered size in the zip directory.
_MAX_DEFLATE_RATIO = 1100
_SMALL_MEMBER = 4096
_CHUNK = 16 * 2**20
# Errors that reading a zip member or a .npy stream can raise for a damaged file.
_READ_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zipfile.LargeZipFile,
                zlib.error, NotImplementedError, RuntimeError, SyntaxError, OverflowError)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def pickle_refusal(label: str) -> ValueError:
    """The error for an array of Python objects: loading it would mean unpickling."""
    return ValueError(f"{label} holds Python objects (a pickle); refusing to load it, since "
                      "unpickling can run arbitrary code. Save plain numeric arrays instead")


def file_signature(path: str | os.PathLike[str]) -> str:
    """``"npy"``, ``"zip"``, ``"empty"`` or ``"other"``, from the first bytes of ``path``."""
    with open(path, "rb") as handle:
        head = handle.read(len(NPY_MAGIC))
    if not head:
        return "empty"
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head[:4] in _ZIP_MAGICS:
        return "zip"
    return "other"


class _Budget:
    """Memory still available to the arrays of one read (looked up once, then counted down)."""

    def __init__(self) -> None:
        self.left = available_memory()

    def take(self, nbytes: int, label: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
        if self.left is not None and nbytes > self.left:
            raise ValueError(f"{label}: the array of shape {shape} ({dtype}) needs "
                             f"{bytes_text(nbytes)}, more than the {bytes_text(self.left)} "
                             "of memory available")
        if self.left is not None:
            self.left -= nbytes


def _read_header(stream: IO[bytes], label: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
    except _READ_ERRORS as error:
        raise ValueError(f"{label} is not a readable .npy array ({_one_line(error)})") from None
    if any(n < 0 for n in shape):
        raise ValueError(f"{label}: the .npy header claims a negative shape {shape}")
    return tuple(int(n) for n in shape), bool(fortran), dtype


def _read_array(stream: IO[bytes], size: int, label: str, budget: _Budget) -> np.ndarray:
    """The array in ``stream`` (a ``.npy`` of ``size`` bytes in all), checked before reading.

    ``stream`` must be positioned at the start of the ``.npy`` data and support ``tell``.
    """
    shape, fortran, dtype = _read_header(stream, label)
    if dtype.hasobject:
        raise pickle_refusal(label)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    available = size - stream.tell()
    if nbytes != available:
        problem = ("the file is truncated or its header was edited" if nbytes > available
                   else "unexpected bytes follow the data")
        raise ValueError(f"{label}: the header claims shape {shape} ({dtype}), "
                         f"{bytes_text(nbytes)} of data, but {bytes_text(max(available, 0))} "
                         f"follow it; {problem}")
    budget.take(nbytes, label, shape, dtype)
    flat = np.empty(count, dtype=dtype)
    if nbytes:
        view = memoryview(flat.view(np.uint8))
        filled = 0
        while filled < nbytes:
            got = stream.readinto(view[filled:filled + _CHUNK])
            if not got:
                raise ValueError(f"{label}: the data end after {filled} of {nbytes} bytes; "
                                 "the file is truncated")
            filled += got
    if fortran:
        return flat.reshape(shape[::-1]).transpose()
    return flat.reshape(shape)


def read_npy(path: str | os.PathLike[str]) -> np.ndarray:
    """The array stored in the ``.npy`` file ``path``, read safely (see the module docstring).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        One line naming ``path``: not a ``.npy`` file, empty, truncated, a header whose shape
        does not match the file's size or exceeds the available memory, Python objects.
    """
    path = Path(path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({_one_line(error)})") from None
    with handle:
        try:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise ValueError(f"{path}: the file is empty")
            return _read_array(handle, size, str(path), _Budget())
        except OSError as error:
            raise ValueError(f"{path}: cannot be read ({_one_line(error)})") from None


class NpzArchive:
    """An ``.npz`` archive whose arrays are read one by one, each checked before it is read.

    Parameters
    ----------
    source
        A path, or a binary file object (then ``name`` names it in messages).
    name
        How messages name the archive; default ``str(source)``.

    Raises
    ------
    FileNotFoundError
        If ``source`` is a path that does not exist.
    ValueError
        One line naming the archive: empty, not a zip, truncated (the zip directory sits at
        the end of the file), encrypted members, members that are not ``.npy`` arrays,
        repeated names, or member sizes a zip of this kind cannot hold.
    """

    def __init__(self, source: str | os.PathLike[str] | IO[bytes], *,
                 name: str | None = None) -> None:
        is_path = isinstance(source, (str, os.PathLike))
        self.name = name if name is not None else str(source)
        self._budget = _Budget()
        if is_path:
            try:
                source = open(source, "rb")  # closed by close()
            except FileNotFoundError:
                raise
            except OSError as error:
                raise ValueError(f"{self.name}: cannot be read ({_one_line(error)})") from None
        self._handle = source if is_path else None
        try:
            self._zip = self._open_zip(source)
            self._members = self._check_members()
        except BaseException:
            self.close()
            raise

    def _open_zip(self, source: Any) -> zipfile.ZipFile:
        try:
            source.seek(0, os.SEEK_END)
            empty = source.tell() == 0
            source.seek(0)
        except (OSError, ValueError):
            empty = False
        if empty:
            raise ValueError(f"{self.name}: the file is empty (an interrupted write?); it holds "
                             "no .npz archive")
        try:
            return zipfile.ZipFile(source, mode="r")
        except _READ_ERRORS as error:
            raise ValueError(f"{self.name} is not a readable .npz archive ({_one_line(error)}): "
                             "the file is truncated, damaged or of another kind") from None

    def _check_members(self) -> dict[str, zipfile.ZipInfo]:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in self._zip.infolist():
            if not info.filename.endswith(".npy") or info.is_dir():
                raise ValueError(f"{self.name}: the archive holds {info.filename!r}, which is "
                                 "not an .npy array")
            key = info.filename[:-len(".npy")]
            if key in members:
                raise ValueError(f"{self.name}: the archive holds {key!r} twice")
            if info.flag_bits & 0x1:
                raise ValueError(f"{self.name}: array {key!r} is encrypted")
            if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
                raise ValueError(f"{self.name}: array {key!r} claims {info.file_size} bytes but "
                                 f"stores {info.compress_size}; the archive is damaged")
            if (info.compress_type == zipfile.ZIP_DEFLATED
                    and info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + _SMALL_MEMBER):
                raise ValueError(f"{self.name}: array {key!r} claims {info.file_size} bytes from "
                                 f"{info.compress_size} compressed ones, more than deflate can "
                                 "expand; the archive is damaged or was edited")
            members[key] = info
        return members

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the arrays, in the archive's order (without ``.npy``)."""
        return tuple(self._members)

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def read(self, name: str) -> np.ndarray:
        """The array ``name``, its size checked before any memory is allocated."""
        if name not in self._members:
            raise KeyError(name)
        info = self._members[name]
        label = f"{self.name}: array {name!r}"
        try:
            with self._zip.open(info) as stream:
                array = _read_array(stream, info.file_size, label, self._budget)
                stream.read(1)  # reaching the end makes zipfile verify the CRC
        except ValueError as error:
            if str(error).startswith(label):
                raise
            raise ValueError(f"{label} is unreadable ({_one_line(error)})") from None
        except _READ_ERRORS as error:
            raise ValueError(f"{label} is unreadable ({_one_line(error)}); the archive is "
                             "truncated or damaged") from None
        return array

    def read_all(self) -> dict[str, np.ndarray]:
        """Every array, by name; their total size is checked against memory first."""
        total = sum(info.file_size for info in self._members.values())
        if self._budget.left is not None and total > self._budget.left:
            raise ValueError(f"{self.name}: its arrays need {bytes_text(total)}, more than the "
                             f"{bytes_text(self._budget.left)} of memory available")
        return {name: self.read(name) for name in self._members}

    def close(self) -> None:
        """Close the archive (and the file, if it was opened from a path)."""
        zip_file = getattr(self, "_zip", None)
        if zip_file is not None:
            zip_file.close()
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def read_npz(source: str | os.PathLike[str] | IO[bytes], *,
             name: str | None = None) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` archive ``source``, read safely (see :class:`NpzArchive`)."""
    with NpzArchive(source, name=name) as archive:
        return archive.read_all()
