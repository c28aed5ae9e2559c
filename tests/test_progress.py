"""Tests for symmetrykit.progress: meter selection and the text and tqdm meters."""

from __future__ import annotations

import io
import re
import sys

import pytest

from symmetrykit import progress
from symmetrykit.progress import (
    NoProgress,
    ProgressMeter,
    TextProgress,
    TqdmProgress,
    make_progress,
)

LINE = re.compile(r"^(?P<desc>\S+ )?\s*(?P<pct>\d+)% \((?P<n>\d+)/(?P<total>\d+)\)(?P<rest>.*)s$")


class _Recorder:
    """A user-defined meter, to check that make_progress passes instances through."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def start(self, total: int, description: str = "") -> None:
        self.calls.append(("start", total, description))

    def update(self, n: int = 1, **metrics: float) -> None:
        self.calls.append(("update", n, metrics))

    def close(self) -> None:
        self.calls.append(("close",))


class _FakeStderr(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


# ------------------------------------------------------------------------------------------
# make_progress
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind"),
    [("none", NoProgress), ("text", TextProgress), ("tqdm", TqdmProgress), (None, NoProgress)],
)
def test_make_progress_named_specs(spec, kind) -> None:
    if kind is TqdmProgress:
        pytest.importorskip("tqdm")
    meter = make_progress(spec)
    assert isinstance(meter, kind)
    assert isinstance(meter, ProgressMeter)


def test_make_progress_is_case_insensitive() -> None:
    assert isinstance(make_progress(" Text "), TextProgress)


def test_make_progress_auto_follows_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", _FakeStderr(tty=False))
    for meter in (make_progress("auto"), make_progress()):  # a log file: periodic plain lines
        assert isinstance(meter, TextProgress)
        assert meter.every is None and meter.interval == progress.AUTO_INTERVAL

    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys, "stderr", _FakeStderr(tty=True))
    assert isinstance(make_progress("auto"), TqdmProgress)


def test_make_progress_auto_without_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", None)
    assert isinstance(make_progress("auto"), NoProgress)


def test_make_progress_passes_instances_through() -> None:
    recorder = _Recorder()
    assert make_progress(recorder) is recorder
    text = TextProgress()
    assert make_progress(text) is text


def test_make_progress_unknown_string_lists_options() -> None:
    with pytest.raises(ValueError, match="bar") as info:
        make_progress("bar")
    for option in ("auto", "none", "text", "tqdm"):
        assert repr(option) in str(info.value)


@pytest.mark.parametrize("spec", [3, TextProgress, object()])
def test_make_progress_rejects_other_types(spec) -> None:
    with pytest.raises(TypeError):
        make_progress(spec)


# ------------------------------------------------------------------------------------------
# NoProgress
# ------------------------------------------------------------------------------------------


def test_no_progress_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    with NoProgress() as meter:
        meter.start(5, "x")
        meter.update(3, loss=1.0)
    meter.close()
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""


# ------------------------------------------------------------------------------------------
# TextProgress
# ------------------------------------------------------------------------------------------


def test_text_progress_every_half() -> None:
    stream = io.StringIO()
    with TextProgress(stream, every=0.5) as meter:
        meter.start(10, "fit")
        for _ in range(10):
            meter.update()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("fit  50% (5/10)")
    assert lines[1].startswith("fit 100% (10/10)")
    for line in lines:
        assert LINE.match(line), line


def test_text_progress_default_every_tenth_with_metrics() -> None:
    stream = io.StringIO()
    meter = TextProgress(stream)
    meter.start(1000, "discover")
    for step in range(1000):
        meter.update(loss=-1.2344 - step * 1e-9, cos=0.91)
    meter.close()
    lines = stream.getvalue().splitlines()
    assert [int(LINE.match(line)["pct"]) for line in lines] == list(range(10, 101, 10))
    assert lines[3].startswith("discover  40% (400/1000)  loss=-1.234  cos=0.91  ")
    assert re.search(r"  \d+\.\ds  eta \d+\.\ds$", lines[3])  # elapsed, then time left
    assert "eta" not in lines[-1]


def test_text_progress_float_fractions_do_not_drift() -> None:
    # 3 * 0.1 * 10 is 3.0000000000000004 in floating point; the 30 % line must come at step 3.
    stream = io.StringIO()
    meter = TextProgress(stream, every=0.1)
    meter.start(10)
    counts = []
    for step in range(1, 11):
        before = len(stream.getvalue().splitlines())
        meter.update()
        if len(stream.getvalue().splitlines()) > before:
            counts.append(step)
    assert counts == list(range(1, 11))


def test_text_progress_big_steps_print_once_and_metrics_persist() -> None:
    stream = io.StringIO()
    meter = TextProgress(stream, every=0.1)
    meter.start(100, "x")
    meter.update(35, loss=2.0)  # passes 10, 20 and 30 % at once: one line
    meter.update(65, cos=0.5)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert "35% (35/100)  loss=2" in lines[0]
    assert "100% (100/100)  loss=2  cos=0.5" in lines[1]


def test_text_progress_close_reports_early_stop() -> None:
    stream = io.StringIO()
    with TextProgress(stream, every=0.5) as meter:
        meter.start(10, "run")
        for _ in range(3):
            meter.update()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("run  30% (3/10)")
    meter.close()  # a second close prints nothing more
    assert stream.getvalue().splitlines() == lines


def test_text_progress_defaults_to_current_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    meter = TextProgress(every=1.0)
    meter.start(2)
    meter.update(2, note="phase-1")
    assert capsys.readouterr().err.startswith("100% (2/2)  note=phase-1  ")


def test_text_progress_restart_resets_state() -> None:
    stream = io.StringIO()
    meter = TextProgress(stream, every=1.0)
    meter.start(2, "a")
    meter.update(2, loss=1.0)
    meter.start(4, "b")
    meter.update(4)
    lines = stream.getvalue().splitlines()
    assert lines[1].startswith("b 100% (4/4)  ") and "loss" not in lines[1]


def test_text_progress_validation() -> None:
    for every in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match="every"):
            TextProgress(every=every)
    meter = TextProgress(io.StringIO())
    with pytest.raises(RuntimeError, match="start"):
        meter.update()
    with pytest.raises(ValueError, match="total"):
        meter.start(-1)


# ------------------------------------------------------------------------------------------
# TqdmProgress
# ------------------------------------------------------------------------------------------


def test_tqdm_progress_writes_bar_with_metrics() -> None:
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    with TqdmProgress(file=stream, mininterval=0) as meter:
        meter.start(10, "discover")
        for _ in range(10):
            meter.update(loss=-1.23456, cos=0.9)
    output = stream.getvalue()
    assert "discover" in output
    assert "10/10" in output
    assert "loss=-1.235" in output
    assert "cos=0.9" in output
    assert meter._bar is None  # closed by the context manager


def test_tqdm_progress_requires_start() -> None:
    pytest.importorskip("tqdm")
    with pytest.raises(RuntimeError, match="start"):
        TqdmProgress(file=io.StringIO()).update()


def test_tqdm_is_imported_lazily() -> None:
    import subprocess

    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('_p', {progress.__file__!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert 'tqdm' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


class _Clock:
    """A settable ``time.perf_counter`` for the time-based lines."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_text_progress_interval_lines_keep_a_long_run_visible(monkeypatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(progress.time, "perf_counter", clock)
    stream = io.StringIO()
    meter = TextProgress(stream, every=None, interval=5.0)
    meter.start(100, "fit")
    for step in range(40):  # 40 steps of 1 s: a line at 5, 10, ..., 40 s
        clock.now += 1.0
        meter.update(loss=float(step))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 8
    assert lines[0].startswith("fit   5% (5/100)  loss=4  5.0s  eta 95.0s")
    meter.close()  # stopped early: the last state is shown
    assert stream.getvalue().splitlines()[-1].startswith("fit  40% (40/100)")


def test_text_progress_interval_only_keeps_short_runs_silent(monkeypatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(progress.time, "perf_counter", clock)
    stream = io.StringIO()
    with TextProgress(stream, every=None, interval=5.0) as meter:
        meter.start(10, "quick")
        for _ in range(10):
            clock.now += 0.1
            meter.update()
    assert stream.getvalue() == ""


def test_text_progress_fractions_and_interval_together(monkeypatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(progress.time, "perf_counter", clock)
    stream = io.StringIO()
    meter = TextProgress(stream, every=0.5, interval=10.0)
    meter.start(4)
    clock.now += 11.0
    meter.update()  # 25 %: by time
    meter.update()  # 50 %: by fraction
    clock.now += 1.0
    meter.update()  # neither
    assert [line.split()[0] for line in stream.getvalue().splitlines()] == ["25%", "50%"]


@pytest.mark.parametrize("kwargs, match", [
    ({"every": None, "interval": None}, "give every, interval or both"),
    ({"interval": 0}, "interval must be positive"),
    ({"interval": float("nan")}, "interval must be positive"),
    ({"every": 0}, "every must be a fraction"),
])
def test_text_progress_rejects_bad_settings(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        TextProgress(**kwargs)
