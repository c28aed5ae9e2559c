"""The append-only result store of a sweep: one JSON object per line in ``results.jsonl``.

Only the process driving the sweep writes, one complete line per finished run, flushed and
fsynced before the next. A crash can at worst leave a torn last line; it was never a committed
record, so :meth:`ResultStore.open` cuts it off before appending again and readers skip it.
An exclusive lock file keeps two sweeps from writing into the same directory at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..runs import to_jsonable

__all__ = ["ResultStore", "read_rows"]

RESULTS_FILE = "results.jsonl"
LOCK_FILE = ".sweep.lock"


def _parse_lines(data: bytes) -> tuple[list[dict[str, Any]], int]:
    """Complete records and the byte length of the committed (newline-terminated) prefix."""
    end = data.rfind(b"\n") + 1
    rows = []
    for number, line in enumerate(data[:end].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{RESULTS_FILE} line {number} is not valid JSON ({exc}); the store "
                             "was edited or damaged by something other than a sweep") from None
        if not isinstance(row, dict) or "run_id" not in row:
            raise ValueError(f"{RESULTS_FILE} line {number} is not a sweep result row")
        rows.append(row)
    return rows, end


def read_rows(directory: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every committed row of a sweep directory, in the order written (a torn tail is skipped)."""
    path = Path(directory) / RESULTS_FILE
    if not path.exists():
        return []
    return _parse_lines(path.read_bytes())[0]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    lock = directory / LOCK_FILE
    me = f"{socket.gethostname()} {os.getpid()}"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = lock.read_text(errors="replace").split()
            same_host = len(owner) == 2 and owner[0] == socket.gethostname()
            if same_host and owner[1].isdigit() and not _pid_alive(int(owner[1])):
                lock.unlink(missing_ok=True)  # left by a sweep that was killed
                continue
            raise ValueError(f"{directory} is in use by another sweep ({' '.join(owner)}); "
                             f"if that sweep is gone, delete {lock}") from None
        with os.fdopen(fd, "w") as handle:
            handle.write(me)
        break
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


class ResultStore:
    """Appends result rows to ``results.jsonl`` in a sweep directory; use as a context manager."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.path = self.directory / RESULTS_FILE
        self._handle = None
        self._lock = None

    def __enter__(self) -> ResultStore:
        self._lock = _exclusive(self.directory)
        self._lock.__enter__()
        try:
            if self.path.exists():
                data = self.path.read_bytes()
                _, end = _parse_lines(data)
                if end < len(data):
                    with open(self.path, "r+b") as handle:
                        handle.truncate(end)
            self._handle = open(self.path, "ab")
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._lock is not None:
            self._lock.__exit__(*exc)
            self._lock = None

    def rows(self) -> list[dict[str, Any]]:
        return read_rows(self.directory)

    def append(self, row: dict[str, Any]) -> None:
        """Commit one row: a single write of one line, flushed and fsynced."""
        if self._handle is None:
            raise RuntimeError("ResultStore is not open; use it in a with block")
        line = json.dumps(to_jsonable(row), allow_nan=False, sort_keys=True) + "\n"
        self._handle.write(line.encode())
        self._handle.flush()
        os.fsync(self._handle.fileno())
