"""Pluggable progress meters for long-running loops.

Library code talks to a :class:`ProgressMeter` (``start``, ``update``, ``close``) and never
decides by itself how progress is shown; callers pick a meter with :func:`make_progress`:

``"none"``
    :class:`NoProgress`, silent.
``"text"``
    :class:`TextProgress`, one plain line every 10 % — suited to log files and CI.
``"tqdm"``
    :class:`TqdmProgress`, an interactive bar (tqdm is imported only when this is chosen).
``"auto"``
    tqdm when standard error is a terminal; otherwise (a log file, ``nohup``, CI, a notebook's
    subprocess) plain lines every :data:`AUTO_INTERVAL` seconds of a run that lasts that long —
    short runs stay silent, long ones are never silent for long.

All meters here are context managers that close themselves on exit::

    with make_progress("text") as meter:
        meter.start(total=1000, description="discover")
        for step in range(1000):
            meter.update(loss=loss, cos=cos)
"""

from __future__ import annotations

import math
import sys
import time
from types import TracebackType
from typing import IO, Any, Protocol, runtime_checkable

__all__ = [
    "AUTO_INTERVAL",
    "NoProgress",
    "ProgressMeter",
    "TextProgress",
    "TqdmProgress",
    "make_progress",
]

_SPECS = ("auto", "none", "text", "tqdm")
#: Seconds between the plain lines ``"auto"`` writes when standard error is not a terminal.
AUTO_INTERVAL = 5.0


@runtime_checkable
class ProgressMeter(Protocol):
    """What loops need from a progress display."""

    def start(self, total: int, description: str = "") -> None:
        """Begin a new task of ``total`` steps."""

    def update(self, n: int = 1, **metrics: float) -> None:
        """Record ``n`` finished steps and the latest values of some metrics."""

    def close(self) -> None:
        """Finish the display; further calls must be harmless."""


def _format_metrics(metrics: dict[str, Any]) -> dict[str, str]:
    formatted = {}
    for name, value in metrics.items():
        try:
            formatted[name] = f"{float(value):.4g}"
        except (TypeError, ValueError):
            # A label such as a phase name is still worth showing.
            formatted[name] = str(value)
    return formatted


def _check_total(total: int) -> int:
    if isinstance(total, bool) or int(total) != total or total < 0:
        raise ValueError(f"total must be a non-negative integer, got {total!r}")
    return int(total)


class _MeterBase:
    """Context-manager behaviour shared by the meters in this module."""

    def close(self) -> None:  # pragma: no cover - overridden
        pass

    def __enter__(self):
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class NoProgress(_MeterBase):
    """A meter that shows nothing."""

    def start(self, total: int, description: str = "") -> None:
        """Ignore the task."""

    def update(self, n: int = 1, **metrics: float) -> None:
        """Ignore the progress."""

    def close(self) -> None:
        """Nothing to close."""


class TextProgress(_MeterBase):
    """Plain text lines at fixed fractions of the total and/or time intervals, for logs.

    A line looks like ``discover  40% (400/1000)  loss=-1.234  cos=0.91  12.3s  eta 18.5s``:
    description, percentage, count, the most recent metrics, the time since :meth:`start` and
    the estimated time left at the average pace so far.

    Parameters
    ----------
    stream
        Where lines go; ``sys.stderr`` at the time of writing if None.
    every
        Print whenever another ``every`` fraction of the total has been completed
        (0.1 means at 10 %, 20 %, ..., 100 %); ``None``: no fraction marks. A line is also
        printed on :meth:`close` if steps were made since the last one, so an early stop is
        visible (with ``every=None`` only when a line was printed before: a run too short for
        its first interval stays silent).
    interval
        Also print when this many seconds have passed since the last line (or the start);
        ``None``: no time-based lines.
    """

    def __init__(self, stream: IO[str] | None = None, every: float | None = 0.1,
                 interval: float | None = None) -> None:
        if every is not None and not (isinstance(every, (int, float)) and 0 < every <= 1):
            raise ValueError(f"every must be a fraction in (0, 1] or None, got {every!r}")
        if interval is not None and not (isinstance(interval, (int, float))
                                         and not isinstance(interval, bool)
                                         and math.isfinite(interval) and interval > 0):
            raise ValueError(f"interval must be positive seconds or None, got {interval!r}")
        if every is None and interval is None:
            raise ValueError("give every, interval or both (otherwise nothing is ever printed)")
        self._stream = stream
        self.every = None if every is None else float(every)
        self.interval = None if interval is None else float(interval)
        self._lines = 0
        self._last_line = 0.0
        self._total: int | None = None
        self._description = ""
        self._count = 0
        self._printed_count = 0
        self._metrics: dict[str, Any] = {}
        self._thresholds: list[int] = []
        self._next = 0
        self._t0 = 0.0

    @property
    def stream(self) -> IO[str]:
        # Looked up late so that redirections of sys.stderr (pytest's capsys, loggers) apply.
        return self._stream if self._stream is not None else sys.stderr

    def start(self, total: int, description: str = "") -> None:
        """Begin a new task of ``total`` steps, resetting counts, metrics and the clock."""
        total = _check_total(total)
        self._total = total
        self._description = description
        self._count = 0
        self._printed_count = 0
        self._metrics = {}
        self._t0 = self._last_line = time.perf_counter()
        self._lines = 0
        marks: set[int] = set()
        if self.every is not None:
            n_marks = math.ceil(1.0 / self.every - 1e-9)
            # Integer step counts avoid float drift such as 3 * 0.1 * 10 = 3.0000000000000004.
            marks = {min(total, math.ceil(k * self.every * total - 1e-9))
                     for k in range(1, n_marks)}
            marks.add(total)
        self._thresholds = sorted(m for m in marks if m > 0)
        self._next = 0

    def update(self, n: int = 1, **metrics: float) -> None:
        """Add ``n`` steps; print a line if another ``every`` fraction has been passed."""
        if self._total is None:
            raise RuntimeError("TextProgress.update() called before start()")
        self._count += n
        if metrics:
            self._metrics.update(metrics)
        crossed = False
        while self._next < len(self._thresholds) and self._count >= self._thresholds[self._next]:
            self._next += 1
            crossed = True
        if not crossed and self.interval is not None:
            crossed = time.perf_counter() - self._last_line >= self.interval
        if crossed:
            self._write_line()

    def close(self) -> None:
        """Print a final line if progress was made since the last one; safe to call twice."""
        if (self._total is not None and self._count > self._printed_count
                and (self.every is not None or self._lines)):
            self._write_line()
        self._total = None

    def format_line(self) -> str:
        """The line that would be printed now."""
        total = self._total or 0
        percent = 100 * self._count // total if total else 100
        parts = [f"{percent:3d}% ({self._count}/{total})"]
        if self._description:
            parts[0] = f"{self._description} {parts[0]}"
        parts += [f"{k}={v}" for k, v in _format_metrics(self._metrics).items()]
        elapsed = time.perf_counter() - self._t0
        parts.append(f"{elapsed:.1f}s")
        if 0 < self._count < total:
            parts.append(f"eta {elapsed / self._count * (total - self._count):.1f}s")
        return "  ".join(parts)

    def _write_line(self) -> None:
        stream = self.stream
        stream.write(self.format_line() + "\n")
        stream.flush()
        self._printed_count = self._count
        self._lines += 1
        self._last_line = time.perf_counter()


class TqdmProgress(_MeterBase):
    """An interactive tqdm bar; metrics are shown as its postfix.

    Parameters
    ----------
    **tqdm_kwargs
        Passed to :class:`tqdm.tqdm` on every :meth:`start`, overriding the defaults
        ``leave=True`` and ``dynamic_ncols=True`` (e.g. ``file=`` to redirect the bar).
    """

    def __init__(self, **tqdm_kwargs: Any) -> None:
        # Imported here so that tqdm is needed only by those who ask for a bar, and a missing
        # installation is reported when the meter is chosen rather than mid-run.
        from tqdm import tqdm

        self._tqdm = tqdm
        self._kwargs = {"leave": True, "dynamic_ncols": True, **tqdm_kwargs}
        self._bar: Any = None

    def start(self, total: int, description: str = "") -> None:
        """Open a new bar of ``total`` steps (closing any bar still open)."""
        total = _check_total(total)
        self.close()
        self._bar = self._tqdm(total=total, desc=description or None, **self._kwargs)

    def update(self, n: int = 1, **metrics: float) -> None:
        """Advance the bar by ``n`` and show ``metrics`` next to it."""
        if self._bar is None:
            raise RuntimeError("TqdmProgress.update() called before start()")
        if metrics:
            # No refresh here: update() below redraws, and tqdm limits how often it does.
            self._bar.set_postfix(_format_metrics(metrics), refresh=False)
        self._bar.update(n)

    def close(self) -> None:
        """Close the bar; safe to call twice."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _stderr_is_terminal() -> bool:
    stream = sys.stderr
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        # Replaced or closed streams (some notebook and service setups).
        return False


def make_progress(spec: str | ProgressMeter | None = "auto") -> ProgressMeter:
    """Turn a user's choice of progress display into a meter.

    Parameters
    ----------
    spec
        ``"auto"`` (tqdm if standard error is a terminal, else a plain line every
        :data:`AUTO_INTERVAL` seconds of a long run), ``"none"``, ``"text"`` (a line every 10 %),
        ``"tqdm"``, ``None`` (same as ``"none"``) or a ready meter, returned unchanged.

    Returns
    -------
    ProgressMeter

    Raises
    ------
    ValueError
        For an unknown string.
    TypeError
        For anything that is neither a string nor a meter instance.
    """
    if spec is None:
        return NoProgress()
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key == "auto":
            if sys.stderr is None:  # nowhere to write (pythonw, some services)
                return NoProgress()
            if not _stderr_is_terminal():
                return TextProgress(every=None, interval=AUTO_INTERVAL)
            try:
                return TqdmProgress()
            except ImportError:
                # Interactive but without tqdm: plain lines are still better than nothing.
                return TextProgress()
        if key == "none":
            return NoProgress()
        if key == "text":
            return TextProgress()
        if key == "tqdm":
            return TqdmProgress()
        raise ValueError(
            f"unknown progress spec {spec!r}; use one of {', '.join(map(repr, _SPECS))} "
            "or a ProgressMeter instance"
        )
    if isinstance(spec, type):
        raise TypeError(f"pass a progress meter instance, not the class {spec.__name__}")
    if isinstance(spec, ProgressMeter):
        return spec
    raise TypeError(
        f"progress must be a string or a ProgressMeter instance, got {type(spec).__name__}"
    )
