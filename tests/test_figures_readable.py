"""The figures a user gets read without the code: all symmetries, titles, honest colour ranges.

Regression tests of a user's report: the lie ``generator.png`` showed one of the symmetries
found with ticks at ±0.5; the spectrum and the flow's loss curves had no title; the flow's loss
terms of very different sizes shared one axis and the Sobolev term jumped unexplained; the
"true: galilean" panel was saturated; the sweep heatmap's automatic colour range made 0.992 and
0.996 look like opposites; Dask printed "Worker process still alive ... killing" at every
shutdown of a sweep.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from symmetrykit import liederiv, plot  # noqa: E402
from symmetrykit.lie import gl, so  # noqa: E402


class _Run:
    """Stands in for a RunDirectory: keeps the figures instead of writing them."""

    def __init__(self) -> None:
        self.figures: dict = {}

    def save_arrays(self, **arrays) -> None:
        pass

    def save_metrics(self, metrics) -> None:
        pass

    def save_figure(self, fig, name: str) -> None:
        self.figures[name] = fig


def _quadratic_discovery(**cut):
    """``lie discover``'s model of ``y = |x|²`` in R³: so(3), three symmetries."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    dictionary = liederiv.PolynomialDictionary(3, 2)
    coef, *_ = np.linalg.lstsq(dictionary.transform(x), (x**2).sum(axis=1)[:, None],
                               rcond=None)
    model = liederiv.DictionaryModel(dictionary, coef.T)
    return liederiv.discover(model, x, gl(3), **cut)


def _heatmap_axes(fig):
    return [ax for ax in fig.axes if ax.get_images()]


def test_lie_generator_figure_shows_every_symmetry_on_its_own_symmetric_scale() -> None:
    from symmetrykit.cli._lie import _save_discovery

    result = _quadratic_discovery(gap_ratio=1e3)
    assert result.nullity == 3
    run = _Run()
    _save_discovery(run, result)
    fig = run.figures["generator"]
    panels = _heatmap_axes(fig)
    assert len(panels) == result.nullity
    assert fig.get_suptitle() == "Symmetries found: 3 generators in gl(3)"
    for i, (ax, generator) in enumerate(zip(panels, result.algebra.generators, strict=True)):
        assert ax.get_title().startswith(f"symmetry {i + 1} of 3\nsingular value ")
        vmin, vmax = ax.get_images()[0].get_clim()
        assert vmin == -vmax == pytest.approx(-np.abs(generator).max())
        # Integer matrix indices, not the ±0.5 image edges.
        np.testing.assert_array_equal(ax.get_xticks(), [0, 1, 2])
        np.testing.assert_array_equal(ax.get_yticks(), [0, 1, 2])
        assert ax.get_xlabel() and ax.get_ylabel()
    # Every panel has a labelled colour bar of its own.
    bars = [ax for ax in fig.axes if ax not in panels]
    assert len(bars) == 3 and all(bar.get_ylabel() == "entry" for bar in bars)


def test_lie_generator_figure_says_when_nothing_was_found() -> None:
    from symmetrykit.cli._lie import _save_discovery

    run = _Run()
    _save_discovery(run, _quadratic_discovery(n_symmetries=0))
    fig = run.figures["generator"]
    assert not _heatmap_axes(fig)
    assert "none" in fig.get_suptitle()
    assert any("No symmetry was found" in text.get_text() for ax in fig.axes
               for text in ax.texts)


def test_lie_spectrum_has_title_labels_and_a_marked_gap() -> None:
    from symmetrykit.cli._lie import _save_discovery

    run = _Run()
    _save_discovery(run, _quadratic_discovery(gap_ratio=1e3))
    ax = run.figures["spectrum"].axes[0]
    assert ax.get_title() == ("Spectrum of the Lie-derivative operator (9 candidates)\n"
                              "3 symmetries below the gap")
    assert ax.get_xlabel() and ax.get_ylabel()
    gap = [line for line in ax.get_lines() if line.get_label().startswith("gap (ratio ")]
    assert len(gap) == 1 and gap[0].get_xdata()[0] == 3.5
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert {"symmetries", "not symmetries"} <= set(legend)


def test_lie_evaluate_draws_the_fitted_models_symmetries() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    estimator = liederiv.EquivariantRegressor(degree=2, algebra=so(3))
    estimator.fit(x, (x**2).sum(axis=1))
    evaluation = liederiv.evaluate(estimator, liederiv.RegressionData(x, (x**2).sum(axis=1)))
    fig = evaluation.figures["generator"]()
    assert len(_heatmap_axes(fig)) == evaluation.metrics["nullity"] == 3
    assert "gl(3)" in fig.get_suptitle()
    assert evaluation.figures["spectrum"]().axes[0].get_title().startswith("Spectrum")


def test_flow_loss_figure_has_an_axis_per_term_and_names_the_sobolev_switch() -> None:
    from symmetrykit.flows import GeneratorFlow
    from symmetrykit.flows._evaluate import _loss_figure

    n = 40
    rng = np.random.default_rng(0)
    flow = GeneratorFlow.preset("pde-cpu", n_iterations=n, lr_decay_at=0.5)
    start = round(flow.sobolev_start * n)
    sobolev = np.where(np.arange(n) >= start, -6.0, 0.0)  # logged as 0 while it is off
    flow.history_ = {"loss": rng.normal(size=n) + sobolev, "validity": rng.normal(size=n) - 3,
                     "orthogonality": rng.uniform(0.3, 0.7, n), "lipschitz": rng.uniform(0, 3, n),
                     "sobolev": sobolev, "validity_per_slot": np.zeros((n, 3))}
    flow.periodic_ = True
    fig = _loss_figure(flow)
    axes = [ax for ax in fig.axes if ax.get_lines()]
    terms = ["loss", "validity", "orthogonality", "lipschitz", "sobolev"]
    assert [ax.get_ylabel() for ax in axes] == terms
    assert fig.get_suptitle().startswith("Training of GeneratorFlow: loss terms per iteration")
    assert "1·sobolev" in fig.get_suptitle()
    assert axes[-1].get_xlabel() == "iteration"
    # The jump is explained: a vertical line on every axis, named in the legend.
    for ax in axes:
        assert start in [line.get_xdata()[0] for line in ax.get_lines()[1:]]
    legend = [text.get_text() for text in axes[0].get_legend().get_texts()]
    assert f"Sobolev term switched on (iteration {start})" in legend
    assert f"learning rate × 0.1 (iteration {n // 2})" in legend
    # Before it is switched on the Sobolev term is not computed: a gap, not a run of zeros.
    curve = axes[-1].get_lines()[0].get_ydata()
    assert np.isnan(curve[:start]).all() and np.isfinite(curve[start:]).all()


def test_flow_generators_galilean_panel_is_not_saturated() -> None:
    from symmetrykit.datasets import pde
    from symmetrykit.flows._evaluate import _pde_figure

    data = pde("kdv", n_trajectories=1, nt=10, random_state=0)
    learned = SimpleNamespace(generators_=[lambda p: np.stack(
        [np.ones(len(p)), np.zeros(len(p)), np.sin(6 * p[:, 0])], axis=1)])
    fig = _pde_figure(learned, data)
    assert fig.get_suptitle()
    panels = {ax.get_title().split("\n")[0]: ax for ax in fig.axes if ax.get_title()}
    for name, ax in panels.items():
        mesh = ax.collections[0]
        values = np.asarray(mesh.get_array())
        vmin, vmax = mesh.get_clim()
        assert vmin == -vmax and vmax >= np.abs(values).max() > 0 or not values.any(), name
    galilean = panels["true: galilean"]
    values = np.asarray(galilean.collections[0].get_array())
    _, vmax = galilean.collections[0].get_clim()
    assert np.ptp(values) == pytest.approx(0.0, abs=1e-12)  # the boost's ∂u is constant
    assert np.abs(values).max() <= 0.5 * vmax + 1e-12  # half strength, not the darkest colour
    assert "u_n component ≡" in galilean.get_title()
    # A varying component keeps its own range: the largest value is the scale's end.
    learned_mesh = panels["learned V1"].collections[0]
    assert learned_mesh.get_clim()[1] == pytest.approx(np.abs(learned_mesh.get_array()).max())


def test_sweep_heatmap_of_scores_uses_the_fixed_unit_range() -> None:
    scores = [0.992, 0.996, 0.9995, 0.991]
    cells = [{"data": "gaussian-translation[dim=7]", "alignment": a, "data.noise": s,
              "mean": v, "metric": "cos"}
             for (a, s), v in zip([(0.5, 0.0), (1.0, 0.0), (0.5, 0.1), (1.0, 0.1)], scores,
                                  strict=True)]
    fig = plot.sweep_heatmap(cells, "alignment", "data.noise")
    ax = fig.axes[0]
    assert ax.get_images()[0].get_clim() == (0.0, 1.0)
    assert sorted(text.get_text() for text in ax.texts) == ["0.991", "0.992", "0.996", "1.000"]
    assert ax.get_title() == ("Sweep: cos (mean over seeds) by alignment and data.noise\n"
                              "on gaussian-translation[dim=7]")
    assert fig.axes[1].get_ylabel() == "cos (mean over seeds)"
    # Unbounded values keep their own range; the caller may fix any range.
    wide = [dict(cell, mean=10 * cell["mean"]) for cell in cells]
    assert plot.sweep_heatmap(wide, "alignment", "data.noise").axes[0].get_images()[0] \
        .get_clim() == pytest.approx((9.91, 9.995))
    fixed = plot.sweep_heatmap(cells, "alignment", "data.noise", vmin=0.99, vmax=1.0)
    assert fixed.axes[0].get_images()[0].get_clim() == (0.99, 1.0)
