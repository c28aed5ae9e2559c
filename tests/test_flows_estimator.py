"""GeneratorFlow and flows.compare on a synthetic problem with a known exact symmetry.

Samples are regular 24-gons on the unit circle (random phase). The validity is a closed-form
defect (radial error plus unevenness of the spacing), so the only flows that keep it at zero are
rotations about the origin: fit() must put the rotation field ``(-y, x)`` in slot 1.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from symmetrykit.flows import FlowComparison, GeneratorFlow, compare

pytestmark = pytest.mark.usefixtures("single_thread")

N_VERTICES = 24


def polygons(n_samples: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    angles = rng.uniform(0, 2 * np.pi, (n_samples, 1)) + np.arange(N_VERTICES) * 2 * np.pi / (
        N_VERTICES
    )
    return np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def polygon_defect(points: torch.Tensor) -> torch.Tensor:
    radial = ((points * points).sum(-1) - 1.0).pow(2).mean(-1)
    sides = torch.linalg.vector_norm(points - torch.roll(points, 1, dims=1), dim=-1)
    return torch.log(radial + sides.var(dim=-1) + 1e-6)


def rotation(points: np.ndarray) -> np.ndarray:
    return np.stack([-points[:, 1], points[:, 0]], axis=-1)


@pytest.fixture(scope="module", params=["gram_schmidt", "penalty"])
def fitted(request):
    torch.set_num_threads(1)
    data = polygons()
    model = GeneratorFlow(
        orthogonalization=request.param,
        n_generators=2,
        hidden=(16, 16),
        n_iterations=150,
        lr=1e-2,
        batch_size=4,
        validity=polygon_defect,
        random_state=0,
    )
    return model.fit(data), data


@pytest.mark.slow
def test_fit_learns_rotation_in_first_slot(fitted):
    model, data = fitted
    table = compare(model, data, reference=[rotation], reference_names=["rotation"], fraction=1.0)
    assert isinstance(table, FlowComparison)
    assert table.projection_norms[0] > 0.99
    assert table.projection_norms[1] < 0.2
    # The rotation keeps the data valid (log defect far below the second slot's; the exact
    # floor log(1e-6) = -13.8 is reached only up to the network's small errors).
    assert table.validity[0] < table.identity_validity + 4.0
    assert table.validity[1] > table.validity[0] + 6.0
    assert table.principal_angles[0] < 0.15
    assert [row["slot"] for row in table.rows] == ["V1", "V2"]
    markdown = table.to_markdown()
    assert "rotation" in markdown and "projection" in markdown


@pytest.mark.slow
def test_learned_attributes(fitted):
    model, data = fitted
    assert len(model.generators_) == 2
    points = data.reshape(-1, 2)
    values = model.generators_[0](points)
    assert values.shape == points.shape and values.dtype == np.float64
    # Unit RMS norm on the training points (scales_ are fixed there).
    np.testing.assert_allclose(np.sqrt((values**2).sum(-1).mean()), 1.0, rtol=1e-5)
    assert set(model.history_) >= {"loss", "validity", "orthogonality", "lipschitz", "sobolev"}
    assert model.history_["validity_per_slot"].shape == (150, 2)
    assert np.all(np.isfinite(model.history_["loss"]))
    assert model.history_["validity_per_slot"][-20:, 0].mean() < -8
    assert set(model.fit_time_) == {"wall_s", "cpu_s"} and model.fit_time_["wall_s"] > 0
    # Flowing along slot 1 rotates: radii are kept.
    moved = model.transform(data[:2], 0.3, 0)
    np.testing.assert_allclose(np.linalg.norm(moved, axis=-1), 1.0, atol=5e-3)
    # transform() flows the same field that evaluate() reports.
    step = 1e-3
    np.testing.assert_allclose((model.transform(points, step, 1, n_steps=1) - points) / step,
                               model.evaluate(points)[1], atol=2e-3)


@pytest.mark.slow
def test_gram_schmidt_slots_are_orthonormal_on_the_training_points(fitted):
    model, data = fitted
    if model.orthogonalization != "gram_schmidt":
        pytest.skip("only the Gram-Schmidt slots are exactly orthonormal")
    values = model.evaluate(data.reshape(-1, 2))
    gram = np.einsum("knd,jnd->kj", values, values) / values.shape[1]
    np.testing.assert_allclose(gram, np.eye(2), atol=1e-5)
    assert np.all(np.triu(model.mixing_, 1) == 0)


@pytest.mark.slow
def test_slots_are_judged_by_their_validity_gap(fitted):
    model, data = fitted
    # A custom validity has no known scale: the gaps are measured, nothing is judged.
    assert model.is_symmetry_ is None
    assert model.validity_gap_.shape == (2,) and model.roughness_.shape == (2,)
    # The rotation keeps the polygons far more valid than the second slot does.
    assert model.validity_gap_[0] + 3 < model.validity_gap_[1]


@pytest.mark.slow
@pytest.mark.parametrize("basis", ["smoothest", "learned"])
def test_a_margin_judges_the_slots_and_rotates_only_symmetries(basis):
    data = polygons(8)
    model = GeneratorFlow(n_generators=3, hidden=(16, 16), n_iterations=60, lr=1e-2,
                          validity=polygon_defect, symmetry_margin=1e6, basis=basis,
                          random_state=0).fit(data)
    # Every slot passes a huge margin: all three are rotated into the smoothest basis.
    np.testing.assert_array_equal(model.is_symmetry_, [True, True, True])
    points = data.reshape(-1, 2)
    values = model.evaluate(points)
    gram = np.einsum("knd,jnd->kj", values, values) / points.shape[0]
    np.testing.assert_allclose(gram, np.eye(3), atol=1e-4)  # still orthonormal
    if basis == "smoothest":
        assert np.all(np.diff(model.roughness_) >= -1e-9)  # smoothest first
    else:
        assert np.all(np.triu(model.mixing_, 1) == 0)  # the Gram-Schmidt slots as learned


def test_fit_is_deterministic():
    data = polygons(4)
    kwargs = dict(n_generators=2, hidden=(8,), n_iterations=3, batch_size=2,
                  validity=polygon_defect, random_state=3)
    first = GeneratorFlow(**kwargs).fit(data)
    second = GeneratorFlow(**kwargs).fit(data)
    np.testing.assert_array_equal(first.history_["loss"], second.history_["loss"])
    points = data.reshape(-1, 2)
    np.testing.assert_array_equal(first.evaluate(points), second.evaluate(points))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_generators": 0}, "n_generators"),
        ({"s_range": -1.0}, "s_range"),
        ({"orthogonality_weight": -1.0}, "orthogonality_weight"),
        ({"lr_decay_at": 2.0}, "lr_decay_at"),
        ({"validity": 3}, "validity"),
        ({"random_state": "x"}, "random_state"),
        ({"orthogonalization": "qr"}, "orthogonalization"),
        ({"periodic_mode": "wrap"}, "periodic_mode"),
        ({"residual_method": "fd"}, "residual_method"),
        ({"checkpoint_every": 0}, "checkpoint_every"),
        ({"skip_gain": 0.0}, "skip_gain"),
        ({"adam_beta2": 1.0}, "adam_beta2"),
        ({"basis": "pca"}, "basis"),
        ({"symmetry_margin": 0.0}, "symmetry_margin"),
    ],
)
def test_bad_parameters(kwargs, match):
    params = {"n_iterations": 1, "validity": polygon_defect, **kwargs}
    with pytest.raises(ValueError, match=match):
        GeneratorFlow(**params).fit(polygons(2))


def test_bad_data_and_unfitted():
    with pytest.raises(ValueError, match="validity must be given"):
        GeneratorFlow(n_iterations=1).fit(polygons(2))
    with pytest.raises(ValueError, match="data must be"):
        GeneratorFlow(n_iterations=1, validity=polygon_defect).fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="not fitted"):
        GeneratorFlow().evaluate(np.zeros((3, 2)))


def test_validity_must_return_one_score_per_sample():
    def bad(points):
        return points.sum()

    with pytest.raises(ValueError, match="one score per sample"):
        GeneratorFlow(n_generators=1, hidden=(4,), n_iterations=1, validity=bad,
                      random_state=0).fit(polygons(2))


@pytest.mark.slow
@pytest.mark.parametrize(("periodic_mode", "residual_method"),
                         [("fourier", "chain"), ("blend", "weno")])
def test_pde_smoke(periodic_mode, residual_method):
    # A few iterations on a tiny KdV set exercise the PDE path (patches, periodic fields,
    # Sobolev term, default residual validity) and the Galilean column of compare().
    from symmetrykit.datasets import pde

    data = pde("kdv", n_trajectories=2, nt=20, random_state=0)
    model = GeneratorFlow(n_generators=2, hidden=(8,), n_iterations=2, batch_size=1,
                          patch_shape=(10, 16), sobolev_start=0.5, periodic_mode=periodic_mode,
                          residual_method=residual_method, random_state=0).fit(data)
    assert model.periodic_
    assert model.history_["sobolev"][0] == 0 and model.history_["sobolev"][1] != 0
    # The linear skip acts on coordinates centred on the training points, with the gain.
    from symmetrykit.flows import pde_points

    np.testing.assert_allclose(model.field_.skip_center,
                               pde_points(data).reshape(-1, 3).mean(axis=0))
    assert model.field_.skip_gain == 4.0
    # The default PDE validity has a known scale (nats): every slot is judged.
    assert model.is_symmetry_.shape == (2,) and model.is_symmetry_.dtype == bool
    assert np.all(np.isfinite(model.validity_gap_))
    table = compare(model, data, fraction=0.2, n_validity_samples=1)
    assert table.reference_names == ("x-translation", "t-translation", "galilean")
    assert table.galilean.shape == (2,) and np.all(np.isfinite(table.galilean))
    assert np.all(np.isfinite(table.validity))
    # Both periodic modes make every field continuous across x = 0 == 1.
    seam = np.array([[0.0, 0.3, 0.1], [1.0 - 1e-7, 0.3, 0.1]])
    values = model.evaluate(seam)
    np.testing.assert_allclose(values[:, 0], values[:, 1], atol=1e-4)


class Interrupted(Exception):
    pass


class CountingDefect:
    """``polygon_defect`` that counts its calls (one per iteration) and can fail at one."""

    def __init__(self, fail_at: int | None = None):
        self.calls, self.fail_at = 0, fail_at

    def __call__(self, points):
        self.calls += 1
        if self.calls == self.fail_at:
            raise Interrupted
        return polygon_defect(points)


@pytest.mark.slow
def test_an_interrupted_fit_resumes_to_the_uninterrupted_result(tmp_path):
    data = polygons(6)
    params = dict(n_generators=2, hidden=(8,), n_iterations=10, batch_size=2, lr=1e-2,
                  lr_decay_at=0.5, random_state=4, checkpoint_every=3)
    uninterrupted = CountingDefect()
    reference = GeneratorFlow(validity=uninterrupted, **params).fit(data)
    path = tmp_path / "ckpt"
    with pytest.raises(Interrupted):  # iteration 7 fails; iterations 0-5 are checkpointed
        GeneratorFlow(validity=CountingDefect(fail_at=8), checkpoint=path, **params).fit(data)
    assert (path / "checkpoint.npz").is_file()
    counted = CountingDefect()
    resumed = GeneratorFlow(validity=counted, checkpoint=path, **params).fit(data)
    # It continued, it did not start again (fit's validity gaps after training also count).
    assert counted.calls == uninterrupted.calls - 6
    for name, values in reference.history_.items():
        np.testing.assert_array_equal(resumed.history_[name], values)
    points = data.reshape(-1, 2)
    np.testing.assert_array_equal(resumed.evaluate(points), reference.evaluate(points))
    np.testing.assert_array_equal(resumed.mixing_, reference.mixing_)


def test_a_checkpoint_of_another_fit_is_refused(tmp_path):
    data = polygons(6)
    params = dict(n_generators=1, hidden=(4,), n_iterations=4, batch_size=2,
                  validity=polygon_defect, checkpoint_every=2, checkpoint=tmp_path / "c")
    GeneratorFlow(random_state=0, **params).fit(data)
    before = (tmp_path / "c" / "checkpoint.npz").read_bytes()
    with pytest.raises(ValueError, match="different parameters"):
        GeneratorFlow(random_state=1, **params).fit(data)
    with pytest.raises(ValueError, match="different data"):
        GeneratorFlow(random_state=0, **params).fit(polygons(6, seed=1))
    with pytest.raises(ValueError, match="integer random_state"):
        GeneratorFlow(random_state=None, **params).fit(data)
    assert (tmp_path / "c" / "checkpoint.npz").read_bytes() == before


def test_is_a_scikit_learn_estimator_with_presets():
    flow = GeneratorFlow(n_generators=3, hidden=(8,), validity=polygon_defect, random_state=1)
    copy = clone(flow)
    assert copy is not flow and copy.get_params() == flow.get_params()
    assert "n_generators=3" in repr(flow) and not hasattr(flow, "field_")
    preset = GeneratorFlow.preset("pde-cpu", random_state=0)
    # The configuration of the README's PDE table (flow-discover, ko_pde_symmetries.py).
    assert preset.get_params() == {
        **GeneratorFlow().get_params(), "hidden": (64, 64), "n_iterations": 1650, "n_steps": 2,
        "s_range": 0.2, "lr_decay_at": 0.9, "random_state": 0}
    assert GeneratorFlow.preset("paper").get_params() == GeneratorFlow().get_params()
    assert GeneratorFlow.preset("pde-cpu", n_iterations=30).n_iterations == 30
    assert set(GeneratorFlow.presets()) >= {"paper", "pde-cpu"}
    with pytest.raises(ValueError, match="unknown GeneratorFlow preset"):
        GeneratorFlow.preset("gpu")


def test_a_non_finite_loss_names_the_iteration():
    def exploding(points):
        return points.sum(dim=(1, 2)) * float("nan")

    with pytest.raises(FloatingPointError, match="at step 0"):
        GeneratorFlow(n_generators=1, hidden=(4,), n_iterations=2, validity=exploding,
                      random_state=0).fit(polygons(2))
