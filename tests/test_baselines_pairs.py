"""LieGAN on pairs (x, y) with one group element acting on both, and masked search spaces."""

from __future__ import annotations

import numpy as np
import pytest

from symmetrykit import load
from symmetrykit.baselines import LieGAN, SymmetryGAN
from symmetrykit.datasets import two_body
from symmetrykit.metrics import frobenius_cosine

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def orbits():
    return two_body(n_orbits=200, pairs_per_orbit=10, random_state=0)


@pytest.mark.slow
def test_a_mask_keeps_the_generators_in_the_search_space(orbits):
    model = LieGAN(n_steps=20, batch_size=32, mask="block-2", progress="none", random_state=0)
    model.fit(orbits.X, orbits.Y)
    outside = ~np.kron(np.eye(4), np.ones((2, 2))).astype(bool)
    assert np.all(model.generators_[:, outside] == 0)
    assert np.any(model.generators_[:, ~outside] != 0)
    assert model.paired_


@pytest.mark.slow
def test_a_listed_mask_is_saved_and_loaded(tmp_path, orbits):
    mask = np.eye(8, dtype=bool)
    mask[0, 1] = mask[1, 0] = True
    model = LieGAN(n_steps=10, batch_size=32, mask=mask.tolist(), progress="none",
                   random_state=0).fit(orbits.X, orbits.Y)
    model.save(tmp_path / "run")
    again = load(tmp_path / "run")
    np.testing.assert_array_equal(again.generators_, model.generators_)
    assert again.get_params()["mask"] == mask.tolist()
    assert np.all(model.generators_[0][~mask] == 0)


def test_pairs_work_for_symmetrygan_too(orbits):
    model = SymmetryGAN(n_steps=10, batch_size=32, progress="none", random_state=0)
    model.fit(orbits.X, orbits.Y)
    assert model.generator_.shape == (8, 8) and model.paired_


@pytest.mark.parametrize(("kwargs", "data", "message"), [
    ({"mask": "diagonal"}, None, "mask must be"),
    ({"mask": np.ones((8, 8), bool)}, None, "array.tolist"),
    ({"mask": [[True] * 3] * 3}, None, r"need \(8, 8\)"),
    ({}, "short-Y", "Y must have the shape of X"),
])
def test_bad_masks_and_pairs_get_one_line(orbits, kwargs, data, message):
    Y = orbits.Y[:-1] if data == "short-Y" else orbits.Y
    with pytest.raises(ValueError, match=message) as info:
        LieGAN(n_steps=5, progress="none", random_state=0, **kwargs).fit(orbits.X, Y)
    assert "\n" not in str(info.value)


def test_block_mask_needs_an_even_dimension():
    X = np.random.default_rng(0).normal(size=(64, 3))
    with pytest.raises(ValueError, match="even dimension"):
        LieGAN(n_steps=5, mask="block-2", progress="none", random_state=0).fit(X)


@pytest.mark.slow
def test_liegan_finds_the_two_body_rotation_with_the_block_mask():
    # LieGAN's own task at the official budget (≈ 3,500 steps of 64 pairs): |cos| 0.998.
    data = two_body(random_state=0)
    model = LieGAN(n_steps=3500, batch_size=64, mask="block-2", progress="none", random_state=1)
    model.fit(data.X, data.Y)
    assert abs(frobenius_cosine(model.generators_[0], data.generator)) > 0.99


@pytest.mark.slow
def test_the_official_optimiser_settings_are_options(orbits):
    model = LieGAN(n_steps=20, batch_size=32, mask="block-2", betas=(0.5, 0.999),
                   update_order="generator-first", progress="none", random_state=0)
    model.fit(orbits.X, orbits.Y)
    again = LieGAN(n_steps=20, batch_size=32, mask="block-2", progress="none",
                   random_state=0).fit(orbits.X, orbits.Y)
    assert not np.array_equal(model.generators_, again.generators_)
    for bad, message in (({"betas": (0.5,)}, "betas must be"),
                         ({"betas": (1.0, 0.9)}, "betas must be"),
                         ({"update_order": "both"}, "update_order must be")):
        with pytest.raises(ValueError, match=message):
            LieGAN(n_steps=5, progress="none", **bad).fit(orbits.X)
