"""Symmetry promotion for torch networks: NuclearNormPenalty and network_lie_derivative."""

import numpy as np
import pytest
import torch

from symmetrykit.lie import LieAlgebra, se, so
from symmetrykit.liederiv import lie_derivative
from symmetrykit.liederiv._networks import NuclearNormPenalty, network_lie_derivative
from symmetrykit.liederiv._nuclear import nuclear_norm

pytestmark = pytest.mark.usefixtures("single_thread")


def _mlp(n_in: int, n_out: int, hidden: int = 6, seed: int = 0) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(n_in, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, n_out)
    ).double()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=torch.float64))
    return net


def _points(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


# ------------------------------------------------------------------ network_lie_derivative
def test_lie_derivative_matches_numpy_implementation():
    net = _mlp(3, 2)
    x = _points(10, 3)
    ours = network_lie_derivative(net, x, so(3))
    reference = lie_derivative(net, x, so(3))
    assert ours.shape == (3, 10, 2)
    np.testing.assert_allclose(ours.detach().numpy(), reference, rtol=1e-12, atol=1e-13)


def test_lie_derivative_equivariant_and_affine_cases():
    net = _mlp(3, 3)
    x = _points(8, 3, seed=1)
    for algebra, output in ((so(3), so(3)), (se(3), "tangent")):
        ours = network_lie_derivative(net, x, algebra, output).detach().numpy()
        np.testing.assert_allclose(ours, lie_derivative(net, x, algebra, output), atol=1e-12)
    # normalize=True scales input and output generator of a pair by the same factor.
    scaled = network_lie_derivative(net, x, se(3), "tangent", normalize=True).detach().numpy()
    norms = np.linalg.norm(se(3).generators.reshape(6, -1), axis=1)
    np.testing.assert_allclose(
        scaled * norms[:, None, None], lie_derivative(net, x, se(3), "tangent"), atol=1e-12
    )


def test_lie_derivative_keeps_the_graph():
    net = _mlp(3, 1)
    values = network_lie_derivative(net, _points(5, 3), so(3))
    values.pow(2).sum().backward()
    # The output bias does not enter a derivative; every weight matrix does.
    assert all(torch.any(layer.weight.grad != 0) for layer in (net[0], net[2]))


# ---------------------------------------------------------------------------- function level
def test_penalty_value_equals_numpy_nuclear_norm_of_the_same_matrix():
    net = _mlp(3, 2)
    x = _points(20, 3)
    penalty = NuclearNormPenalty(so(3), x, eps=0.0)
    values = lie_derivative(net, x, so(3).normalized())  # (k, N, m)
    matrix = values.transpose(1, 2, 0).reshape(20 * 2, 3) / np.sqrt(20)
    np.testing.assert_allclose(penalty.matrix(net).detach().numpy(), matrix, atol=1e-13)
    assert float(penalty(net).detach()) == pytest.approx(nuclear_norm(matrix), rel=1e-12)
    np.testing.assert_allclose(
        penalty.singular_values(net), np.sort(np.linalg.svd(matrix, compute_uv=False)), rtol=1e-12
    )
    smoothed = NuclearNormPenalty(so(3), x, eps=1e-2)
    expected = nuclear_norm(matrix, eps=1e-2)
    assert float(smoothed(net).detach()) == pytest.approx(expected, rel=1e-10)


def test_penalty_zero_for_invariant_and_equivariant_models():
    x = _points(30, 3)
    inner = _mlp(1, 1, seed=3)

    def invariant(points):
        return inner((points**2).sum(dim=1, keepdim=True))

    def equivariant(points):  # x · h(‖x‖²) commutes with rotations
        return points * inner((points**2).sum(dim=1, keepdim=True))

    invariant_penalty = NuclearNormPenalty(so(3), x)
    assert float(invariant_penalty(invariant).detach()) < 1e-12
    assert np.max(invariant_penalty.singular_values(invariant)) < 1e-13
    for output in (so(3), "tangent"):
        assert float(NuclearNormPenalty(so(3), x, output)(equivariant).detach()) < 1e-12
    # ... and clearly positive for a generic network.
    assert float(invariant_penalty(_mlp(3, 1)).detach()) > 1e-2


def test_penalty_sees_the_symmetry_subalgebra():
    """f(x) = g(x_1² + x_2², x_3): exactly one zero singular value (rotations about the 3-axis)."""
    inner = _mlp(2, 1, seed=4)

    def axial(points):
        return inner(torch.stack([points[:, 0] ** 2 + points[:, 1] ** 2, points[:, 2]], dim=1))

    values = NuclearNormPenalty(so(3), _points(40, 3)).singular_values(axial)
    assert values[0] < 1e-13 * values[-1]
    assert values[1] > 1e-3 * values[-1]


def test_penalty_gradcheck_wrt_weights():
    x = _points(6, 3)
    penalty = NuclearNormPenalty(so(3), x, eps=1e-3)
    generator = torch.Generator().manual_seed(1)
    w1, b1, w2 = (torch.randn(s, generator=generator, dtype=torch.float64, requires_grad=True)
                  for s in ((4, 3), (4,), (2, 4)))

    def value(w1, b1, w2):
        return penalty(lambda inputs: torch.tanh(inputs @ w1.T + b1) @ w2.T)

    assert torch.autograd.gradcheck(value, (w1, b1, w2))


def test_penalty_with_affine_algebra_and_tangent_action_gradcheck():
    x = _points(5, 2)
    penalty = NuclearNormPenalty(se(2), x, "tangent", eps=1e-3)
    generator = torch.Generator().manual_seed(2)
    w1, w2 = (torch.randn(s, generator=generator, dtype=torch.float64, requires_grad=True)
              for s in ((3, 2), (2, 3)))

    def value(w1, w2):
        return penalty(lambda inputs: torch.tanh(inputs @ w1.T) @ w2.T)

    assert torch.autograd.gradcheck(value, (w1, w2))


def test_penalty_follows_the_model_dtype():
    net = _mlp(3, 1).float()
    value = NuclearNormPenalty(so(3), _points(8, 3))(net)
    assert value.dtype == torch.float32
    reference = NuclearNormPenalty(so(3), _points(8, 3))(net.double())
    assert float(value.detach()) == pytest.approx(float(reference.detach()), rel=1e-4)


# ---------------------------------------------------------------------------- layer level
def _seeded_linear(n_in, n_out, seed, bias=True):
    layer = torch.nn.Linear(n_in, n_out, bias=bias).double()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in layer.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=torch.float64))
    return layer


def _layer_block(weight, bias, a_in, a_out, c_in=None):
    rows = []
    for k in range(len(a_in)):
        constant = -a_out[k] @ bias if bias is not None else np.zeros(len(weight))
        if c_in is not None:
            constant = constant + weight @ c_in[k]
        rows.append(np.concatenate([(weight @ a_in[k] - a_out[k] @ weight).ravel(), constant]))
    return np.array(rows).T


def test_layer_penalty_equals_nuclear_norm_of_concatenation():
    first, second = _seeded_linear(3, 6, seed=0), _seeded_linear(6, 3, seed=1, bias=False)
    rep3, rep6 = so(3), so(3).repeated(2)
    penalty = NuclearNormPenalty.for_layers([(first, rep3, rep6), (second, rep6, rep3)], eps=0.0)
    scale = 1 / np.sqrt(2)  # Frobenius norm of an so(3) generator E_ij − E_ji
    w1, b1 = first.weight.detach().numpy(), first.bias.detach().numpy()
    w2 = second.weight.detach().numpy()
    joint = np.vstack([
        _layer_block(w1, b1, rep3.generators * scale, rep6.generators * scale),
        _layer_block(w2, None, rep6.generators * scale, rep3.generators * scale),
    ])
    np.testing.assert_allclose(penalty.matrix().detach().numpy(), joint, atol=1e-13)
    assert float(penalty().detach()) == pytest.approx(nuclear_norm(joint), rel=1e-12)
    # One joint norm, not a sum of per-layer norms.
    split = sum(nuclear_norm(block) for block in np.split(joint, [6 * 3 + 6]))
    assert float(penalty().detach()) < split


def test_layer_penalty_with_affine_input_action():
    layer = _seeded_linear(2, 2, seed=5)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    a_in, c_in = se(2).linear_parts, se(2).offsets
    a_out = np.concatenate([so(2).generators, np.zeros((2, 2, 2))])
    expected = _layer_block(w, b, a_in, a_out, c_in)
    with pytest.raises(ValueError, match="generators"):
        NuclearNormPenalty.for_layers([(layer, se(2), so(2))])
    paired = LieAlgebra(a_out, name="so(2)+0")
    penalty = NuclearNormPenalty.for_layers([(layer, se(2), paired)], eps=0.0, normalize=False)
    np.testing.assert_allclose(penalty.matrix().detach().numpy(), expected, atol=1e-14)


def test_layer_penalty_zero_for_equivariant_layers_and_gradcheck():
    layer = _seeded_linear(6, 6, seed=6)
    rep = so(3).repeated(2)
    with torch.no_grad():  # W = M ⊗ I_3 commutes with I_2 ⊗ A; bias 0
        layer.weight.copy_(torch.kron(torch.tensor([[1.0, 2.0], [-0.5, 3.0]]), torch.eye(3)))
        layer.bias.zero_()
    penalty = NuclearNormPenalty.for_layers([(layer, rep, rep)])
    assert float(penalty().detach()) < 1e-12
    with torch.no_grad():
        layer.weight.add_(0.1 * torch.randn(6, 6, generator=torch.Generator().manual_seed(0),
                                            dtype=torch.float64))
        layer.bias.normal_(generator=torch.Generator().manual_seed(1))

    weight = layer.weight.detach().clone().requires_grad_(True)
    bias = layer.bias.detach().clone().requires_grad_(True)
    penalty_fn = _LayerPenaltyFunction(rep)
    assert torch.autograd.gradcheck(penalty_fn, (weight, bias))


class _LayerPenaltyFunction:
    """The layer penalty as a function of (weight, bias), via a fresh layer per call."""

    def __init__(self, rep):
        self.rep = rep

    def __call__(self, weight, bias):
        layer = torch.nn.Linear(weight.shape[1], weight.shape[0], dtype=torch.float64)
        del layer.weight, layer.bias
        layer.weight, layer.bias = weight, bias
        return NuclearNormPenalty.for_layers([(layer, self.rep, self.rep)], eps=1e-3)()


# ---------------------------------------------------------------------------- bad input
_X = _points(5, 3)
_LAYER = torch.nn.Linear(3, 3)
BAD_CALLS = {
    "wrong point dimension": lambda: NuclearNormPenalty(so(3), _points(5, 2)),
    "no points": lambda: NuclearNormPenalty(so(3), None),
    "negative eps": lambda: NuclearNormPenalty(so(3), _X, eps=-1.0),
    "unpaired output generators": lambda: NuclearNormPenalty(so(3), _X, so(2)),
    "unknown output action": lambda: NuclearNormPenalty(so(3), _X, "rotation"),
    "algebra not a LieAlgebra": lambda: NuclearNormPenalty("so3", _X),
    "neither mode": lambda: NuclearNormPenalty(),
    "both modes": lambda: NuclearNormPenalty(so(3), _X, layers=[(_LAYER, so(3), so(3))]),
    "no model": lambda: NuclearNormPenalty(so(3), _X)(None),
    "tangent needs m = n": lambda: NuclearNormPenalty(so(3), _X, "tangent")(_mlp(3, 2)),
    "scalar output": lambda: NuclearNormPenalty(so(3), _X)(lambda inputs: inputs.sum()),
    "no layers": lambda: NuclearNormPenalty.for_layers([]),
    "not a Linear": lambda: NuclearNormPenalty.for_layers([(torch.nn.Tanh(), so(3), so(3))]),
    "rep_in dimension": lambda: NuclearNormPenalty.for_layers([(_LAYER, so(2), so(2))]),
    "rep_out generator count": lambda: NuclearNormPenalty.for_layers(
        [(_LAYER, so(3), so(2).generators)]),
    "affine rep_out": lambda: NuclearNormPenalty.for_layers([(_LAYER, so(3), se(2))]),
    "generator count across layers": lambda: NuclearNormPenalty.for_layers(
        [(_LAYER, so(3), so(3)), (_LAYER, so(3).generators[:2], so(3).generators[:2])]),
    "model passed to layer level": lambda: NuclearNormPenalty.for_layers(
        [(_LAYER, so(3), so(3))])(_mlp(3, 3)),
    "lie derivative point dimension": lambda: network_lie_derivative(
        _mlp(3, 1), _X[:, :2], so(3)),
    "non-finite points": lambda: network_lie_derivative(
        _mlp(3, 1), np.full((2, 3), np.nan), so(3)),
    "unknown output action (function)": lambda: network_lie_derivative(
        _mlp(3, 1), _X, so(3), "rotation"),
    "model not callable": lambda: network_lie_derivative("not a model", _X, so(3)),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_inputs_raise_value_error(case):
    with pytest.raises(ValueError):
        BAD_CALLS[case]()
