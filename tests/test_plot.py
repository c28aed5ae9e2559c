"""Tests for symmetrykit.plot: figures are built without pyplot and validate their inputs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from symmetrykit import plot  # noqa: E402


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def matrices(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    true = rng.normal(size=(5, 5))
    learned = true + 0.1 * rng.normal(size=(5, 5))
    return learned, true


@pytest.fixture
def signals(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(size=(30, 16)).cumsum(axis=1)


class _FakeTensor:
    def __init__(self, array: np.ndarray) -> None:
        self._array = array

    def detach(self) -> _FakeTensor:
        return self

    def cpu(self) -> _FakeTensor:
        return self

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self._array if dtype is None else self._array.astype(dtype)


def _saved_size(fig: Figure, path: Path) -> int:
    fig.savefig(path)
    assert path.read_bytes().startswith(b"\x89PNG")
    return path.stat().st_size


# ------------------------------------------------------------------------------------------
# generator heatmaps
# ------------------------------------------------------------------------------------------


def test_heatmaps_share_symmetric_scale(matrices, tmp_path: Path) -> None:
    learned, true = matrices
    fig = plot.generator_heatmaps(learned, true)
    assert isinstance(fig, Figure)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 3
    limits = {im.get_clim() for im in images}
    assert len(limits) == 1
    vmin, vmax = limits.pop()
    assert vmin == -vmax
    expected = max(np.abs(learned).max(), np.abs(true).max(), np.abs(true - learned).max())
    assert vmax == pytest.approx(expected)
    np.testing.assert_allclose(images[2].get_array(), true - learned)
    # Three panels plus exactly one colour bar.
    assert len(fig.axes) == 4
    assert _saved_size(fig, tmp_path / "heat.png") > 5000


def test_heatmaps_learned_only_and_tensor_input(matrices) -> None:
    learned, _ = matrices
    fig = plot.generator_heatmaps(_FakeTensor(learned), titles=("mine",))
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 1
    vmin, vmax = images[0].get_clim()
    assert vmin == -vmax == -np.abs(learned).max()
    assert fig.axes[0].get_title() == "mine"


def test_heatmaps_zero_matrix_has_valid_scale() -> None:
    fig = plot.generator_heatmaps(np.zeros((3, 3)), np.zeros((3, 3)))
    vmin, vmax = fig.axes[0].get_images()[0].get_clim()
    assert vmax > 0 and vmin == -vmax


def test_heatmaps_draw_into_given_axes(matrices) -> None:
    learned, true = matrices
    host = Figure()
    axes = host.subplots(1, 3)
    assert plot.generator_heatmaps(learned, true, axes=axes) is host
    assert all(len(ax.get_images()) == 1 for ax in axes)
    single = Figure().subplots()
    assert plot.generator_heatmaps(learned, axes=single) is single.figure


@pytest.mark.parametrize(
    ("learned", "true", "message"),
    [
        (np.zeros((3, 4)), None, "square"),
        (np.zeros(3), None, "2-D"),
        (np.zeros((3, 3)), np.zeros((4, 4)), "shapes differ"),
        (np.zeros((3, 3), dtype=complex), None, "complex"),
    ],
)
def test_heatmaps_validate(learned, true, message) -> None:
    with pytest.raises(ValueError, match=message):
        plot.generator_heatmaps(learned, true)


def test_heatmaps_wrong_number_of_axes(matrices) -> None:
    learned, true = matrices
    with pytest.raises(ValueError, match="3 Axes"):
        plot.generator_heatmaps(learned, true, axes=Figure().subplots(1, 2))


# ------------------------------------------------------------------------------------------
# error histogram
# ------------------------------------------------------------------------------------------


def test_error_histogram_bins_and_clipping(tmp_path: Path) -> None:
    true = np.zeros((4, 4))
    learned = np.zeros((4, 4))
    learned[0, 0] = 3.0  # error -3: clipped into the first bin
    learned[0, 1] = -2.0  # error +2: clipped into the last bin
    learned[1, 1] = -0.12
    fig = plot.error_histogram(learned, true)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == 40  # width 0.05 over [-1, 1]
    assert bars[0].get_width() == pytest.approx(0.05)
    heights = [bar.get_height() for bar in bars]
    assert sum(heights) == 16
    assert heights[0] == 1 and heights[-1] == 1
    assert "2 outside" in ax.get_title()
    assert _saved_size(fig, tmp_path / "hist.png") > 5000


def test_error_histogram_into_axes_and_no_note_when_inside() -> None:
    ax = Figure().subplots()
    fig = plot.error_histogram(np.zeros(5), np.full(5, 0.3), ax=ax, bin_width=0.1)
    assert fig is ax.figure
    assert len(ax.patches) == 20
    assert "outside" not in ax.get_title()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bin_width": 0.0}, "bin_width"),
        ({"bin_width": 0.3}, "whole bins"),
        ({"value_range": (1, -1)}, "value_range"),
    ],
)
def test_error_histogram_validates_bins(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        plot.error_histogram(np.zeros((2, 2)), np.zeros((2, 2)), **kwargs)


def test_error_histogram_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        plot.error_histogram(np.zeros((2, 2)), np.zeros((3, 3)))


# ------------------------------------------------------------------------------------------
# loss curves
# ------------------------------------------------------------------------------------------


def test_loss_curves_dict_with_steps(tmp_path: Path) -> None:
    history = {"step": [0, 10, 20], "loss": [3.0, 2.0, 1.0], "cos": [0.1, 0.5, 0.9]}
    fig = plot.loss_curves(history)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["loss", "cos"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [0, 10, 20])
    assert _saved_size(fig, tmp_path / "loss.png") > 5000


def test_loss_curves_list_of_dicts_keys_and_logy() -> None:
    history = [{"step": i, "a": 1.0 / (i + 1), "b": 2.0} for i in range(5)]
    history[2].pop("b")  # a term missing at one step leaves a gap
    ax = Figure().subplots()
    fig = plot.loss_curves(history, ax=ax, keys=["b"], logy=True)
    assert fig is ax.figure
    (line,) = ax.get_lines()
    assert np.isnan(line.get_ydata()[2])
    assert ax.get_yscale() == "log"


def test_loss_curves_without_step_uses_position() -> None:
    fig = plot.loss_curves({"loss": [1.0, 0.5, 0.25, 0.1]})
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_xdata(), np.arange(4))


@pytest.mark.parametrize(
    ("history", "kwargs", "message"),
    [
        ({"a": [1.0, 2.0], "b": [1.0]}, {}, "different lengths"),
        ({"step": [0], "a": [1.0, 2.0]}, {}, "'step'"),
        ({"a": [1.0]}, {"keys": ["zzz"]}, "zzz"),
        ({"a": [1.0, -1.0]}, {"logy": True}, "positive"),
        ({"step": [0, 1]}, {}, "nothing to plot"),
        ({"a": ["x"]}, {}, "numbers"),
        ("not a history", {}, "history"),
    ],
)
def test_loss_curves_validate(history, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        plot.loss_curves(history, **kwargs)


# ------------------------------------------------------------------------------------------
# signals
# ------------------------------------------------------------------------------------------


def test_signal_samples(signals, tmp_path: Path) -> None:
    fig = plot.signal_samples(signals, n=5, random_state=1, title="data")
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 5
    assert ax.get_title() == "data"
    np.testing.assert_array_equal(lines[0].get_xdata(), np.arange(16))
    rows = sorted(int(line.get_label()[1:]) for line in lines)
    assert len(set(rows)) == 5
    for line in lines:
        np.testing.assert_array_equal(line.get_ydata(), signals[int(line.get_label()[1:])])
    # Same seed, same rows; the global numpy state is not used.
    again = plot.signal_samples(signals, n=5, random_state=1)
    assert [line.get_label() for line in again.axes[0].get_lines()] == [
        line.get_label() for line in lines
    ]
    assert _saved_size(fig, tmp_path / "signals.png") > 5000


def test_signal_samples_into_axes_and_small_data(signals) -> None:
    ax = Figure().subplots()
    assert plot.signal_samples(signals[:3], n=9, ax=ax) is ax.figure
    assert len(ax.get_lines()) == 3


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        (np.zeros(5), {}, "2-D"),
        (np.zeros((0, 5)), {}, "empty"),
        (np.zeros((3, 5)), {"n": 0}, "positive"),
    ],
)
def test_signal_samples_validate(data, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        plot.signal_samples(data, **kwargs)


def test_before_after(signals, tmp_path: Path) -> None:
    shifted = np.roll(signals, 3, axis=1)
    fig = plot.before_after(signals, shifted, n=4, random_state=2)
    ax_x, ax_y = fig.axes
    assert len(ax_x.get_lines()) == len(ax_y.get_lines()) == 4
    for line_x, line_y in zip(ax_x.get_lines(), ax_y.get_lines(), strict=True):
        row = int(line_x.get_label()[1:])
        assert line_y.get_label() == line_x.get_label()
        assert line_x.get_color() == line_y.get_color()
        np.testing.assert_array_equal(line_x.get_ydata(), signals[row])
        np.testing.assert_array_equal(line_y.get_ydata(), shifted[row])
    assert _saved_size(fig, tmp_path / "before_after.png") > 5000


def test_before_after_into_axes_and_validation(signals) -> None:
    host = Figure()
    axes = host.subplots(1, 2)
    assert plot.before_after(signals, signals, axes=axes) is host
    with pytest.raises(ValueError, match="shapes differ"):
        plot.before_after(signals, signals[:, :5])
    with pytest.raises(ValueError, match="2 Axes"):
        plot.before_after(signals, signals, axes=host.subplots(1, 3))


# ------------------------------------------------------------------------------------------
# import hygiene
# ------------------------------------------------------------------------------------------


def _run_isolated(code: str) -> None:
    # A fresh interpreter: importing the plot module (and with it the package and the private
    # figure modules it re-exports) must not bring matplotlib in; drawing must not bring pyplot.
    prelude = textwrap.dedent(
        """
        import sys
        import symmetrykit.plot as plot
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_import_does_not_load_matplotlib() -> None:
    _run_isolated("assert not any(m.startswith('matplotlib') for m in sys.modules)")


@pytest.mark.slow
def test_plotting_never_loads_pyplot() -> None:
    _run_isolated(
        """
        import numpy as np
        g = np.eye(3)
        X = np.random.default_rng(0).normal(size=(10, 8))
        figs = [
            plot.generator_heatmaps(g, g.T),
            plot.error_histogram(g, g.T),
            plot.loss_curves({"loss": [1.0, 0.5]}),
            plot.signal_samples(X, random_state=0),
            plot.before_after(X, X[:, ::-1], random_state=0),
        ]
        import io
        for fig in figs:
            fig.savefig(io.BytesIO(), format="png")
        assert "matplotlib" in sys.modules
        assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
        """
    )


def test_comparison_bars_draws_one_bar_per_method_and_marks_missing_scores() -> None:
    fig = plot.comparison_bars(["a", "b", "c"], [0.9, None, -0.2], errors=[0.1, 0.0, 0.05])
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == pytest.approx([0.9, 0.0, -0.2])
    assert [t.get_text() for t in ax.texts] == ["0.900", "n/a", "-0.200"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]


@pytest.mark.parametrize(("labels", "scores", "errors"), [(["a"], [1.0, 2.0], None), ([], [], None),
                                                          (["a"], [1.0], [0.1, 0.2])])
def test_comparison_bars_validates(labels, scores, errors) -> None:
    with pytest.raises(ValueError):
        plot.comparison_bars(labels, scores, errors=errors)


def test_sweep_heatmap_places_each_cell_and_validates() -> None:
    summary = [{"alignment": a, "data.noise": n, "mean": a + 10 * n, "metric": "cos"}
               for a in (0.5, 1.0, 2.0) for n in (0.0, 0.1)]
    fig = plot.sweep_heatmap(summary, "alignment", "data.noise")
    assert isinstance(fig, Figure)
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (2, 3)
    np.testing.assert_allclose(image[1], [1.5, 2.0, 3.0])
    assert fig.axes[0].get_xlabel() == "alignment"
    with pytest.raises(ValueError, match="empty"):
        plot.sweep_heatmap([], "a", "b")
    with pytest.raises(ValueError, match="'lr'"):
        plot.sweep_heatmap(summary, "lr", "data.noise")


def test_morris_plot_labels_every_parameter() -> None:
    from types import SimpleNamespace

    result = SimpleNamespace(names=["a", "b"], mu_star=np.array([0.3, 0.1]),
                             sigma=np.array([0.05, 0.2]), mu_star_conf=np.array([0.01, 0.02]),
                             metric="cos", data="gaussian-translation")
    fig = plot.morris(result)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert texts == {"a", "b"}
    assert fig.axes[0].get_xlim()[1] > 0.3
