"""Whole directories written under a temporary name, and output locations checked up front.

:func:`stage_directory` is the mechanism behind :func:`symmetrykit.runs.staged_directory`: the
caller writes into a hidden sibling folder, which is renamed into place only when everything is
written, so a failed or killed write never leaves a half directory at the target and replacing
a directory keeps the old one until the new one is complete. :func:`check_output_location`
refuses, before any work, a place where such a write could not succeed.

Only the standard library is used, so :mod:`symmetrykit.runs` builds on this module and the
command line can check its outputs without importing numpy.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["check_output_location", "copy_entry", "fsync_directory", "stage_directory"]

_STAGE_KINDS = ("staging", "old")


def fsync_directory(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (POSIX; not possible nor needed on Windows)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists (the folder a write would start from)."""
    path = Path(os.path.abspath(path))
    while not os.path.lexists(path) and path.parent != path:
        path = path.parent
    return path


def check_output_location(path: str | os.PathLike[str], *, kind: str = "directory",
                          write_inside: bool = False) -> None:
    """Refuse, before any work, an output location that a later write could not create.

    Cheap checks only: ``path`` must not be a file where a directory is wanted (or the
    reverse), must not lie under a file, and the folder the write would start from must accept
    a new file, which is probed by creating and removing an empty temporary file there. That
    folder is the nearest existing ancestor of ``path``'s parent (a run directory or a file is
    written beside its final place and renamed in), or ``path`` itself when ``write_inside``
    and it already exists (a checkpoint or sweep directory is written in place).

    Whether an existing ``path`` may be replaced is the caller's rule, not checked here.

    Raises
    ------
    FileExistsError
        ``path`` exists as the wrong kind (a file for a directory, or the reverse).
    NotADirectoryError
        An ancestor of ``path`` is a file.
    PermissionError
        The folder the write starts from does not accept new files (read-only, no permission).
    """
    if kind not in ("directory", "file"):
        raise ValueError(f"kind must be 'directory' or 'file', got {kind!r}")
    target = Path(path)
    if kind == "directory" and target.exists() and not target.is_dir():
        raise FileExistsError(f"{target} exists and is not a directory")
    if kind == "file" and target.is_dir():
        raise FileExistsError(f"{target} is a directory, not a file")
    start = _nearest_existing(target if write_inside and target.is_dir() else target.parent)
    if not start.is_dir():
        raise NotADirectoryError(f"{target} cannot be created: {start} is a file, not a "
                                 "directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".symmetrykit-probe-", dir=start)
    except OSError as exc:
        raise PermissionError(f"{target} cannot be written: {start} does not accept new files "
                              f"({exc.strerror or exc})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or no valid pid: leave its files alone
    return True


def _sibling(target: Path, kind: str) -> Path:
    # The pid lets a later run tell the leftovers of a killed process from those of a live one.
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _recover_leftovers(target: Path) -> None:
    """Clean up after a process that was killed while staging ``target``.

    A stage of a dead process is removed. A set-aside old directory of a dead process belongs
    to an interrupted swap: it is put back when ``target`` is missing (the replacement never
    completed), and removed otherwise.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.({'|'.join(_STAGE_KINDS)})"
                         r"-(\d+)-[0-9a-f]{8}$")
    stale: list[tuple[str, Path]] = []
    with contextlib.suppress(OSError):
        for entry in target.parent.iterdir():
            match = pattern.match(entry.name)
            if match and not _pid_alive(int(match.group(2))):
                stale.append((match.group(1), entry))
    old = sorted((p for kind, p in stale if kind == "old"), key=lambda p: p.stat().st_mtime)
    if old and not os.path.lexists(target):
        with contextlib.suppress(OSError):
            os.rename(old.pop(), target)
    for kind, entry in stale:
        if kind == "staging" or entry in old:
            shutil.rmtree(entry, ignore_errors=True)


def _check_target(target: Path, overwrite: bool) -> None:
    if os.path.lexists(target) and not target.is_dir():
        raise FileExistsError(f"run directory path {target} exists and is not a directory")
    start = _nearest_existing(target.parent)
    if not start.is_dir():
        raise NotADirectoryError(f"run directory {target} cannot be created: {start} is a "
                                 "file, not a directory")
    if target.is_dir() and not overwrite and any(target.iterdir()):
        raise FileExistsError(f"run directory {target} already exists and is not empty; choose "
                              "a new path or pass overwrite=True")


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)  # no copy of the bytes, and the source stays untouched
    except OSError:
        shutil.copy2(source, destination)


def copy_entry(entry: Path, destination: Path) -> None:
    """Copy a file, folder or link to ``destination``; files are hard-linked where possible."""
    if entry.is_symlink():
        os.symlink(os.readlink(entry), destination)
    elif entry.is_dir():
        shutil.copytree(entry, destination, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(str(entry), str(destination))


def _swap_into_place(stage: Path, target: Path, overwrite: bool,
                     carry_over: Callable[[Path, Path], None] | None) -> None:
    _check_target(target, overwrite)  # again: something may have appeared meanwhile
    if not target.is_dir():
        os.rename(stage, target)
        fsync_directory(target.parent)
        return
    if carry_over is not None:
        carry_over(target, stage)
    old = _sibling(target, "old")
    os.rename(target, old)
    try:
        os.rename(stage, target)
    except BaseException:
        os.rename(old, target)
        raise
    fsync_directory(target.parent)
    # Best effort: an old directory that cannot be removed (read-only files) stays as a hidden
    # sibling, which the next staging of this target removes once this process is gone.
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def stage_directory(path: str | os.PathLike[str], *, overwrite: bool = False,
                    carry_over: Callable[[Path, Path], None] | None = None) -> Iterator[Path]:
    """Yield an empty hidden sibling of ``path``; rename it to ``path`` if the block succeeds.

    ``carry_over(old, stage)``, when given, runs just before an existing directory is replaced
    and may copy into the stage what should survive the replacement. See
    :func:`symmetrykit.runs.staged_directory` for the guarantees.
    """
    target = Path(os.path.abspath(path))  # "run/", "." and "x/.." name their real folder
    if target.is_symlink():
        target = target.resolve()  # write where the link points and keep the link
    if target.parent.is_dir():
        _recover_leftovers(target)
    _check_target(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = _sibling(target, "staging")
    stage.mkdir()
    try:
        yield stage
        _swap_into_place(stage, target, overwrite, carry_over)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
