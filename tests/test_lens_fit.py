"""End to end: a warm-started SymmetryLens fit recovers the shift of 33-pixel data.

The paper's random start (``init="random"``, 3,000 steps, about 40 CPU seconds at 7 pixels) is a
benchmark, not a test: ``python benchmarks/symmetrylens_table1.py --init random --sets
gaussian-translation --dim 7 --seeds 0 1`` measures it (the README's ablation rows,
``benchmarks/results/ablation_terms_7dim_full.json``: cos 0.986 / 0.973).
"""

import pytest

import symmetrykit as sk

pytestmark = [pytest.mark.usefixtures("single_thread"), pytest.mark.slow]


def test_warm_started_fit_recovers_the_shift_and_the_representation_of_33_pixel_data():
    ds = sk.datasets.local_signals(n_samples=20_000, dim=33, symmetry="frequency",
                                   random_state=0)
    lens = sk.SymmetryLens(n_steps=100, random_state=0, progress="none").fit(ds.X)
    assert sk.generator_similarity(lens.generator_, ds.generator) >= 0.99
    assert sk.metrics.representation_similarity(lens.group_convolution_, ds.transform) >= 0.95
