"""SymmetryLens: lifting map, loss terms, density estimators and the estimator API.

Conventions (Efe & Ozakin 2025, the group-convolution layer): row ``n`` of ``Φ`` is
``crop(pad(f̂)ᵀ G^{k_n})`` with ``k_n = n − (N−1)/2`` and ``y = Φ x``. With ``G`` the padded
superdiagonal shift (``(S x)_i = x_{i+1}``, :func:`symmetrykit.lie.shift`) and ``f̂ = e_centre``,
``Φ = I``.
"""

import inspect
import math

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats
import sklearn.base
import sklearn.exceptions
import sklearn.utils.validation
import torch

from symmetrykit import lie, testing
from symmetrykit.datasets import local_signals
from symmetrykit.lens import (
    SymmetryLens,
    group_convolution,
    orthogonal_from_parameters,
    power_offsets,
)
from symmetrykit.lens._density import ConditionalMixture, MarginalMixture
from symmetrykit.lens._losses import (
    alignment,
    conditional_uniformity,
    marginal_uniformity,
    rank_weights,
    soft_rank_joint_entropy,
)

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """Tiny tensors: intra-op threading only costs time (badly so on a busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _t(array):
    return torch.as_tensor(np.asarray(array), dtype=F64)


def _random_unit(n, seed):
    f = np.random.default_rng(seed).standard_normal(n)
    return f / np.linalg.norm(f)


def _padded_shift(n, padding):
    return _t(lie.shift(n + 2 * padding))


def _delta(n, index):
    f = torch.zeros(n, dtype=F64)
    f[index] = 1.0
    return f


# ---------------------------------------------------------------------------- lifting map
@pytest.mark.parametrize("padding", [7, 3, 0])
def test_group_convolution_matches_the_matrix_power_formula(padding):
    n = 7
    m = n + 2 * padding
    rng = np.random.default_rng(padding)
    a = rng.standard_normal((m, m))
    f = _random_unit(n, seed=10 + padding)
    g = scipy.linalg.expm(0.5 * (a - a.T))
    ks = np.arange(n) - (n - 1) // 2
    padded_f = np.pad(f, (padding, padding))
    crop = slice(padding, padding + n)
    expected = np.stack([(padded_f @ np.linalg.matrix_power(g, int(k)))[crop] for k in ks])
    via_lie = np.stack([(padded_f @ gk)[crop] for gk in lie.matrix_powers(g, ks)])
    np.testing.assert_allclose(via_lie, expected, atol=1e-12)

    phi = group_convolution(orthogonal_from_parameters(_t(a)), _t(f), padding).numpy()
    assert phi.shape == (n, n)
    np.testing.assert_allclose(phi, expected, atol=1e-12)
    # the same thing written as y_n = Σ_ij f_i (crop G^k)_ij x_j (central block of the M × M power)
    x = rng.standard_normal(n)
    y = np.array([f @ np.linalg.matrix_power(g, int(k))[crop, crop] @ x for k in ks])
    np.testing.assert_allclose(phi @ x, y, atol=1e-12)


def test_group_convolution_rejects_inconsistent_sizes():
    with pytest.raises(ValueError, match="N \\+ 2P"):
        group_convolution(torch.eye(10, dtype=F64), _delta(7, 3), 2)


@pytest.mark.parametrize("m", [1, 5, 21])
def test_orthogonal_from_parameters_is_expm_of_the_antisymmetric_part(m):
    a = np.random.default_rng(m).standard_normal((m, m)) * 2.0
    g = orthogonal_from_parameters(_t(a)).numpy()
    np.testing.assert_allclose(g, scipy.linalg.expm(0.5 * (a - a.T)), atol=1e-12)
    np.testing.assert_allclose(g.T @ g, np.eye(m), atol=1e-12)
    assert np.linalg.det(g) == pytest.approx(1.0, abs=1e-12)
    # only the antisymmetric part matters
    sym = a + a.T
    np.testing.assert_allclose(orthogonal_from_parameters(_t(a + sym)).numpy(), g, atol=1e-12)


@pytest.mark.parametrize("padding", [7, 3])
def test_exact_padded_shift_and_centre_delta_give_identity_and_reversal(padding):
    n = 7
    centre = _delta(n, (n - 1) // 2)
    s = _padded_shift(n, padding)
    np.testing.assert_array_equal(group_convolution(s, centre, padding).numpy(), np.eye(n))
    np.testing.assert_array_equal(group_convolution(s.T, centre, padding).numpy(),
                                  np.eye(n)[::-1])
    # G = I: every row is the filter itself, so all components coincide
    f = _t(_random_unit(n, 0))
    phi = group_convolution(torch.eye(n + 2 * padding, dtype=F64), f, padding).numpy()
    np.testing.assert_array_equal(phi, np.tile(f.numpy(), (n, 1)))


def test_padded_shift_group_convolution_is_a_correlation_with_the_filter():
    """Φ[n, j] = f[j − n + c] (zero outside the filter), i.e. y is the filter slid over x."""
    n, padding = 9, 9
    c = (n - 1) // 2
    f = _random_unit(n, 3)
    phi = group_convolution(_padded_shift(n, padding), _t(f), padding).numpy()
    expected = np.zeros((n, n))
    for row in range(n):
        for j in range(n):
            if 0 <= j - row + c < n:
                expected[row, j] = f[j - row + c]
    np.testing.assert_allclose(phi, expected, atol=1e-15)


def test_equivariance_with_the_exact_padded_shift():
    """Paper App. B: y(G_c x) is y(x) moved by one component, away from the edges."""
    n, padding = 9, 9
    c = (n - 1) // 2
    rng = np.random.default_rng(5)
    f = np.zeros(n)
    f[c - 1 : c + 2] = rng.standard_normal(3)  # a 3-tap filter around the centre
    f /= np.linalg.norm(f)
    phi = group_convolution(_padded_shift(n, padding), _t(f), padding).numpy()
    g_c = lie.shift(n)  # central crop of the padded shift
    np.testing.assert_array_equal(_padded_shift(n, padding).numpy()[padding:-padding,
                                                                    padding:-padding], g_c)
    x = rng.standard_normal((5, n))
    next_component = np.eye(n, k=1)  # (y S^T)_n = y_{n+1}
    testing.assert_equivariant(lambda v: v @ phi.T, x, g_c, next_component, atol=1e-14,
                                  compare=slice(1, n - 1))
    # at the edge the filter sees the pixel that left the window: the identity fails there
    with pytest.raises(AssertionError, match="not equivariant"):
        testing.assert_equivariant(lambda v: v @ phi.T, x, g_c, next_component, atol=1e-14,
                                      compare=[0])


@pytest.mark.parametrize("seed", [0, 1])
def test_equivariance_without_padding_holds_for_any_orthogonal_g(seed):
    """With P = 0, Φ row n is f Gᵏⁿ, so y(G x)_n = y(x)_{n+1} exactly for every orthogonal G."""
    n = 7
    rng = np.random.default_rng(seed)
    g = orthogonal_from_parameters(_t(rng.standard_normal((n, n))))
    phi = group_convolution(g, _t(_random_unit(n, seed)), 0).numpy()
    x = rng.standard_normal((4, n))
    testing.assert_equivariant(lambda v: v @ phi.T, x, g.numpy(), np.eye(n, k=1),
                                  atol=1e-12, compare=slice(0, n - 1))


def test_power_offsets():
    np.testing.assert_array_equal(power_offsets(1).numpy(), [0])
    np.testing.assert_array_equal(power_offsets(7).numpy(), np.arange(-3, 4))
    np.testing.assert_array_equal(power_offsets(33).numpy(), np.arange(-16, 17))
    for even in (2, 8):
        with pytest.raises(ValueError, match="odd"):
            power_offsets(even)


# ---------------------------------------------------------------------------- loss terms
def test_alignment_is_minus_one_for_identical_components():
    rng = np.random.default_rng(0)
    x = _t(rng.standard_normal((200, 7)))
    phi = group_convolution(torch.eye(21, dtype=F64), _t(_random_unit(7, 1)), 7)
    y = x @ phi.T
    assert float(alignment(y)) == pytest.approx(-1.0, abs=1e-8)
    # sign flips of every other component anti-align; scaling does not matter
    scales = _t([2.0, -1.0, 3.0, -0.5, 1.0, -4.0, 1.0])
    assert float(alignment(y * scales)) == pytest.approx(1.0, abs=1e-8)


def test_alignment_of_independent_and_of_hand_made_components():
    rng = np.random.default_rng(1)
    b = 20_000
    y = _t(rng.standard_normal((b, 5)))
    assert abs(float(alignment(y))) < 4 / math.sqrt(b)
    # neighbours with correlations exactly (1, 0): mean 0.5, loss −0.5
    u = rng.standard_normal(b)
    v = rng.standard_normal(b)
    v = v - v.mean()
    u = u - u.mean()
    v = v - (u @ v) / (u @ u) * u  # exactly uncorrelated with u
    y = _t(np.stack([u, 3 * u + 1, v], axis=1))
    assert float(alignment(y)) == pytest.approx(-0.5, abs=1e-9)


def test_rank_weights():
    w0 = rank_weights(33, 0.0).numpy()
    assert w0[0] == pytest.approx(0.5)
    assert w0[1] == pytest.approx(1 / (1 + math.exp(50 / 32)))  # ≈ 0.17
    assert w0[2] == pytest.approx(1 / (1 + math.exp(100 / 32)))  # ≈ 0.04
    w1 = rank_weights(33, 1.0).numpy()
    assert w1[-1] == pytest.approx(0.5)
    assert np.all(w1[:-3] > 0.95)
    assert np.all(np.diff(w0) < 0) and np.all(np.diff(w1) <= 0)
    np.testing.assert_allclose(rank_weights(7, 0.5).numpy()[3], 0.5)
    # the argument of the logistic is clipped at ±50: no exact zeros
    assert rank_weights(7, 0.0, gain=1e4).numpy()[-1] == pytest.approx(1 / (1 + math.exp(50)))


def _with_covariance(eigenvalues, b, seed):
    """Samples whose (biased) sample covariance is exactly diag(eigenvalues)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((b, len(eigenvalues)))
    q, _ = np.linalg.qr(z - z.mean(axis=0))  # orthonormal, zero-mean columns
    return q * np.sqrt(b * np.asarray(eigenvalues)) + rng.standard_normal(len(eigenvalues))


@pytest.mark.parametrize("tau", [0.0, 0.3, 1.0])
def test_soft_rank_joint_entropy_closed_form_for_a_diagonal_covariance(tau):
    lam = np.array([0.3, 4.0, 1.0, 0.05, 2.0])  # unsorted on purpose
    y = _t(_with_covariance(lam, 50, seed=0))
    ordered = np.sort(lam)[::-1]
    h = 0.5 * (np.log(2 * np.pi * ordered + 1e-7) + 1.0)
    s = np.linspace(0.0, 1.0, len(lam))
    w = 1.0 / (1.0 + np.exp(50.0 * (s - tau)))
    expected = (w * h).sum() / w.sum()
    assert float(soft_rank_joint_entropy(y, tau)) == pytest.approx(expected, abs=1e-12)
    # consistent with rank_weights, and invariant to permuting / rotating the components
    np.testing.assert_allclose(rank_weights(5, tau).numpy(), w, atol=1e-15)
    q = lie.random_orthogonal(5, random_state=1)
    assert float(soft_rank_joint_entropy(y @ _t(q), tau)) == pytest.approx(expected, abs=1e-12)
    # float32 input is promoted to float64 internally
    got32 = float(soft_rank_joint_entropy(y.float(), tau))
    assert got32 == pytest.approx(expected, abs=1e-5)


def test_soft_rank_joint_entropy_limits():
    lam = np.array([4.0, 2.0, 1.0, 0.5, 0.25])
    y = _t(_with_covariance(lam, 40, seed=1))
    h = 0.5 * (np.log(2 * np.pi * lam + 1e-7) + 1.0)
    # τ = 0: essentially the top eigenvalue alone; τ = 1: essentially all of them
    assert float(soft_rank_joint_entropy(y, 0.0, gain=1e4)) == pytest.approx(h[0], abs=1e-12)
    w = np.array([1, 1, 1, 1, 0.5])
    assert float(soft_rank_joint_entropy(y, 1.0, gain=1e4)) == pytest.approx(
        (w * h).sum() / w.sum(), abs=1e-12)


def test_marginal_uniformity_hand_computed():
    # N = 3, B = 2; entry D⁻ at n = 0 and D⁺ at n = 2 are wrapped and must be ignored (99)
    diff_prev = _t([[99.0, 1.0, 3.0], [-99.0, 3.0, 5.0]])  # means: (–, 2, 4)
    diff_next = _t([[0.5, -1.0, 99.0], [1.5, 3.0, -99.0]])  # means: (1, 1, –)
    log_p = _t(np.random.default_rng(0).standard_normal((2, 3)))
    value = marginal_uniformity(log_p, log_p - diff_prev, log_p - diff_next)
    # n = 0: D⁺ = 1;  n = 1: (2 + 1)/2;  n = 2: D⁻ = 4
    assert float(value) == pytest.approx((1.0 + 1.5 + 4.0) / 3, abs=1e-14)


def test_marginal_uniformity_zero_positive_and_clipped_after_averaging():
    log_p = _t(np.random.default_rng(1).standard_normal((6, 5)))
    assert float(marginal_uniformity(log_p, log_p, log_p)) == 0.0
    assert float(marginal_uniformity(log_p, log_p - 0.5, log_p - 0.5)) == pytest.approx(0.5)
    assert float(marginal_uniformity(log_p, log_p + 0.5, log_p + 0.5)) == 0.0  # relu
    # per-sample differences (+1, −3) average to −1 ⇒ 0 (a per-sample clip would give 0.5)
    diff = _t([[1.0, 1.0, 1.0], [-3.0, -3.0, -3.0]])
    lp = torch.zeros(2, 3, dtype=F64)
    assert float(marginal_uniformity(lp, lp - diff, lp - diff)) == 0.0


def test_conditional_uniformity_hand_computed():
    # N = 3, one row per conditioning slot g = 0, 1, 2 (so pair means are the rows themselves).
    # Entries that must be ignored: the diagonal g = e, the unavailable one-sided terms
    # (C⁻ needs g, e ≥ 1; C⁺ needs g, e ≤ N − 2) and the pairs (0, 2), (2, 0) with neither.
    big = 100.0
    minus = _t([[big, big, big],  # g = 0: no C⁻ at all
                [big, big, 3.0],  # g = 1: (1, 0) needs e ≥ 1; (1, 2): C⁻ = 3
                [big, 4.0, big]])  # g = 2: (2, 1): C⁻ = 4
    plus = _t([[big, 1.0, big],  # g = 0: (0, 1): C⁺ = 1; (0, 2) needs e ≤ 1
               [2.0, big, big],  # g = 1: (1, 0): C⁺ = 2
               [big, big, big]])  # g = 2: no C⁺ at all
    log_q = _t(np.random.default_rng(0).standard_normal((3, 3)))
    slot = torch.arange(3)
    value = conditional_uniformity(log_q, log_q - minus, log_q - plus, slot)
    assert float(value) == pytest.approx((1.0 + 2.0 + 3.0 + 4.0) / 4, abs=1e-14)


def _conditional_uniformity_reference(log_q, log_q_prev, log_q_next, slot):
    n = log_q.shape[1]
    values = []
    for g in range(n):
        rows = slot == g
        if not rows.any():
            continue
        for e in range(n):
            if e == g:
                continue
            terms = []
            if g >= 1 and e >= 1:
                terms.append(max(0.0, float((log_q - log_q_prev)[rows, e].mean())))
            if g <= n - 2 and e <= n - 2:
                terms.append(max(0.0, float((log_q - log_q_next)[rows, e].mean())))
            if terms:
                values.append(np.mean(terms))
    return np.mean(values), len(values)


@pytest.mark.parametrize("slot", [[0, 1, 2, 3] * 3, [0, 0, 1, 3, 1, 1, 3, 0]])
def test_conditional_uniformity_matches_a_reference_loop(slot):
    n = 4
    slot = torch.tensor(slot)
    rng = np.random.default_rng(len(slot))
    log_q = _t(rng.standard_normal((len(slot), n)))
    log_q_prev = log_q - _t(rng.normal(0.2, 1.0, (len(slot), n)))
    log_q_next = log_q - _t(rng.normal(0.2, 1.0, (len(slot), n)))
    expected, n_pairs = _conditional_uniformity_reference(log_q, log_q_prev, log_q_next, slot)
    if len(set(slot.tolist())) == n:
        assert n_pairs == n * (n - 1) - 2  # (0, N−1) and (N−1, 0) drop out
    value = conditional_uniformity(log_q, log_q_prev, log_q_next, slot)
    assert float(value) == pytest.approx(expected, abs=1e-14)
    assert expected > 0


def test_conditional_uniformity_zero_positive_and_clipped_after_averaging():
    slot = torch.arange(12) % 4
    log_q = _t(np.random.default_rng(2).standard_normal((12, 4)))
    assert float(conditional_uniformity(log_q, log_q, log_q, slot)) == 0.0
    value = conditional_uniformity(log_q, log_q - 0.5, log_q - 0.25, slot)
    # pairs with both terms: 0.375; with C⁻ only: 0.5; with C⁺ only: 0.25
    expected, _ = _conditional_uniformity_reference(log_q, log_q - 0.5, log_q - 0.25, slot)
    assert float(value) == pytest.approx(expected, abs=1e-14)
    assert 0.25 < float(value) < 0.5
    assert float(conditional_uniformity(log_q, log_q + 0.5, log_q + 0.5, slot)) == 0.0
    # two rows of slot 0 with differences (+1, −3): mean −1 ⇒ clipped to 0, not 0.5
    lq = torch.zeros(2, 3, dtype=F64)
    diff = _t([[1.0, 1.0, 1.0], [-3.0, -3.0, -3.0]])
    assert float(conditional_uniformity(lq, lq - diff, lq - diff, torch.tensor([0, 0]))) == 0.0


# ---------------------------------------------------------------------------- gradients
def test_gradcheck_group_convolution():
    n, padding = 5, 2
    m = n + 2 * padding
    gen = torch.Generator().manual_seed(0)
    a = (0.5 * torch.randn(m, m, generator=gen, dtype=F64)).requires_grad_(True)
    f = torch.randn(n, generator=gen, dtype=F64).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda a_, f_: group_convolution(orthogonal_from_parameters(a_), f_, padding), (a, f))


@pytest.mark.slow
def test_gradcheck_alignment_and_joint_entropy():
    gen = torch.Generator().manual_seed(2)
    y = torch.randn(30, 5, generator=gen, dtype=F64)
    y = (y + 0.5 * y.roll(1, dims=1)).requires_grad_(True)
    assert torch.autograd.gradcheck(alignment, (y,))
    # well-separated eigenvalues: 9, 4, 1, 0.25, 0.04 (plus sampling noise)
    z = torch.randn(40, 5, generator=gen, dtype=F64) * torch.tensor([3.0, 2.0, 1.0, 0.5, 0.2],
                                                                    dtype=F64)
    z.requires_grad_(True)
    for tau in (0.0, 0.4, 1.0):
        assert torch.autograd.gradcheck(lambda y_, t=tau: soft_rank_joint_entropy(y_, t), (z,))


def test_gradcheck_uniformity_terms_away_from_the_relu_kink():
    rng = np.random.default_rng(3)
    b, n = 8, 4
    log_p = _t(rng.standard_normal((b, n)))
    # per component, batch-mean differences of ±0.5 (never at the kink) plus noise
    offsets = _t(rng.choice([-0.5, 0.5], size=n)) + 0.05 * _t(rng.standard_normal((b, n)))
    offsets2 = _t(rng.choice([-0.5, 0.5], size=n)) + 0.05 * _t(rng.standard_normal((b, n)))
    inputs = [t.clone().requires_grad_(True) for t in (log_p, log_p - offsets, log_p - offsets2)]
    assert torch.autograd.gradcheck(marginal_uniformity, tuple(inputs))
    slot = torch.arange(b) % n
    pair_offsets = _t(rng.choice([-0.5, 0.5], size=(n, n)))[slot]  # constant within a pair
    pair_offsets2 = _t(rng.choice([-0.5, 0.5], size=(n, n)))[slot]
    noise = 0.05 * _t(rng.standard_normal((b, n)))
    inputs = [t.clone().requires_grad_(True)
              for t in (log_p, log_p - pair_offsets + noise, log_p - pair_offsets2 - noise)]
    assert torch.autograd.gradcheck(
        lambda q, qp, qn: conditional_uniformity(q, qp, qn, slot), tuple(inputs))


def test_gradcheck_density_log_probs_wrt_their_inputs():
    gen = torch.Generator().manual_seed(4)
    marginal = MarginalMixture(5, rng=gen, dtype=F64)
    _randomise(marginal, seed=4)
    y = torch.randn(6, 5, generator=gen, dtype=F64).requires_grad_(True)
    for offset in (0, -1, 1):
        assert torch.autograd.gradcheck(lambda y_, o=offset: marginal.log_prob(y_, o), (y,))
    conditional = ConditionalMixture(5, 8, rng=gen, dtype=F64)
    given = torch.randn(6, generator=gen, dtype=F64).requires_grad_(True)
    targets = torch.randn(6, 5, generator=gen, dtype=F64).requires_grad_(True)
    slot = torch.tensor([0, 1, 2, 3, 4, 2])
    assert torch.autograd.gradcheck(lambda g_, t_: conditional.log_prob(g_, slot, t_),
                                    (given, targets))


# ---------------------------------------------------------------------------- densities
def _randomise(module, seed, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return module


def test_marginal_mixture_initialisation_and_dtype():
    gen = torch.Generator().manual_seed(0)
    m = MarginalMixture(7, 4, rng=gen, dtype=F64)
    assert m.means.shape == m.log_variances.shape == m.logits.shape == (7, 4)
    assert all(p.dtype == F64 for p in m.parameters())
    assert float(m.means.detach().abs().max()) <= 0.05
    np.testing.assert_array_equal(m.log_variances.detach().numpy(), 1.0)
    np.testing.assert_array_equal(m.logits.detach().numpy(), 1.0)
    again = MarginalMixture(7, 4, rng=torch.Generator().manual_seed(0), dtype=F64)
    np.testing.assert_array_equal(again.means.detach().numpy(), m.means.detach().numpy())


def test_marginal_mixture_is_a_normalised_density_with_the_right_formula():
    m = _randomise(MarginalMixture(3, 4, dtype=F64), seed=1)
    grid = torch.linspace(-40.0, 40.0, 80_001, dtype=F64)
    with torch.no_grad():
        density = m.log_prob(grid[:, None].expand(-1, 3)).exp()
    np.testing.assert_allclose(torch.trapezoid(density, grid, dim=0).numpy(), 1.0, atol=1e-6)
    # explicit formula for one point and component, with the [−4.5, 4.5] clipping
    with torch.no_grad():
        m.log_variances[1, 0] = 10.0
        m.logits[1, 2] = -7.0
        value = float(m.log_prob(torch.full((1, 3), 0.3, dtype=F64))[0, 1])
    weights = scipy.special.softmax(np.clip(m.logits[1].detach().numpy(), -4.5, 4.5))
    var = np.exp(np.clip(m.log_variances[1].detach().numpy(), -4.5, 4.5))
    mu = m.means[1].detach().numpy()
    expected = np.log(np.sum(weights * scipy.stats.norm.pdf(0.3, mu, np.sqrt(var))))
    assert value == pytest.approx(expected, abs=1e-12)


def test_marginal_mixture_offset_evaluates_the_neighbouring_component():
    m = _randomise(MarginalMixture(5, 4, dtype=F64), seed=2)
    v = torch.linspace(-2, 2, 11, dtype=F64)[:, None].expand(-1, 5)  # equal columns
    with torch.no_grad():
        base = m.log_prob(v)
        for offset in (-1, 1, 2):
            # column n holds log p_{n+offset}(v), wrapping around
            np.testing.assert_array_equal(m.log_prob(v, offset).numpy(),
                                          base.roll(-offset, dims=1).numpy())
    assert not torch.allclose(base[:, 0], base[:, 1])


@pytest.mark.slow
def test_conditional_mixture_is_a_normalised_conditional_density():
    c = _randomise(ConditionalMixture(3, 6, 4, dtype=F64), seed=3, scale=0.7)
    grid = torch.linspace(-60.0, 60.0, 120_001, dtype=F64)
    with torch.no_grad():
        for g, value in ((0, -1.3), (1, 0.4), (2, 2.0)):
            given = torch.full(grid.shape, value, dtype=F64)
            slot = torch.full(grid.shape, g, dtype=torch.long)
            density = c.log_prob(given, slot, grid[:, None].expand(-1, 3)).exp()
            np.testing.assert_allclose(torch.trapezoid(density, grid, dim=0).numpy(), 1.0,
                                       atol=1e-6)


def test_conditional_mixture_depends_on_slot_and_value_only():
    c = _randomise(ConditionalMixture(4, 8, dtype=F64), seed=4, scale=0.5)
    gen = torch.Generator().manual_seed(0)
    targets = torch.randn(5, 4, generator=gen, dtype=F64)
    given = torch.randn(5, generator=gen, dtype=F64)
    slot = torch.tensor([0, 3, 1, 1, 2])
    with torch.no_grad():
        full = c.log_prob(given, slot, targets)
        for b in range(5):  # each row is computed independently of the others
            row = c.log_prob(given[b : b + 1], slot[b : b + 1], targets[b : b + 1])
            np.testing.assert_allclose(row.numpy()[0], full.numpy()[b], atol=1e-13)
        assert not torch.allclose(c.log_prob(given, (slot + 1) % 4, targets), full)
    penalty = c.weight_penalty().detach()
    assert penalty.ndim == 0 and float(penalty) > 0


def test_conditional_mixture_matches_the_masked_input_networks_of_the_original():
    """The authors' code: three N → H → N·K networks on the masked input (only slot g non-zero),
    LReLU 0.2 hidden; heads softmax(3.5 tanh), LReLU(0.2) means, exp(3.5 tanh) variances."""
    n, hidden, k = 4, 6, 3
    c = _randomise(ConditionalMixture(n, hidden, k, dtype=F64), seed=9, scale=0.8)
    embed, embed_bias, head, head_bias = (p.detach().numpy() for p in
                                          (c.embed, c.embed_bias, c.head, c.head_bias))

    def leaky(v):
        return np.where(v > 0, v, 0.2 * v)

    given, g, targets = 0.7, 2, np.array([-1.0, 0.3, 0.9, 2.5])
    masked = np.zeros(n)
    masked[g] = given
    outs = [(leaky(masked @ embed[i] + embed_bias[i, 0]) @ head[i] + head_bias[i, 0])
            .reshape(n, k) for i in range(3)]
    weights = scipy.special.softmax(3.5 * np.tanh(outs[0]), axis=-1)
    means, variances = leaky(outs[1]), np.exp(3.5 * np.tanh(outs[2]))
    pdf = scipy.stats.norm.pdf(targets[:, None], means, np.sqrt(variances))
    expected = np.log((weights * pdf).sum(axis=-1))
    with torch.no_grad():
        got = c.log_prob(_t([given]), torch.tensor([g]), _t(targets[None])).numpy()[0]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_identical_estimators_give_exactly_zero_uniformity():
    n = 5
    gen = torch.Generator().manual_seed(5)
    marginal = _randomise(MarginalMixture(n, 4, dtype=F64), seed=5)
    with torch.no_grad():
        for p in marginal.parameters():
            p.copy_(p[:1].expand_as(p))  # the same mixture for every component
    y = torch.randn(40, n, generator=gen, dtype=F64)
    with torch.no_grad():
        log_p = marginal.log_prob(y)
        np.testing.assert_array_equal(marginal.log_prob(y, -1).numpy(), log_p.numpy())
        assert float(marginal_uniformity(log_p, marginal.log_prob(y, -1),
                                         marginal.log_prob(y, 1))) == 0.0
    conditional = _randomise(ConditionalMixture(n, 8, 4, dtype=F64), seed=6, scale=0.5)
    k = conditional.n_kernels
    with torch.no_grad():  # the same conditional for every pair (g, e)
        conditional.embed.copy_(conditional.embed[:, :1].expand_as(conditional.embed))
        for e in range(1, n):
            conditional.head[:, :, e * k : (e + 1) * k] = conditional.head[:, :, :k]
            conditional.head_bias[:, :, e * k : (e + 1) * k] = conditional.head_bias[:, :, :k]
        slot = torch.arange(40) % n
        terms = SymmetryLens()._loss_terms(y, slot, marginal, conditional, 0.5)
    assert abs(float(terms["uniformity"])) <= 1e-12


def _brute_force_terms(y, slot, marginal, conditional):
    """Uniformity, marginal entropy and conditional NLL by explicit per-pair evaluation."""
    n = y.shape[1]
    relu = lambda v: max(0.0, float(v))  # noqa: E731
    per_component = []
    for comp in range(n):
        at_column = marginal.log_prob(y[:, comp : comp + 1].expand(-1, n))  # [:, m] = log p_m
        terms = []
        if comp >= 1:
            terms.append(relu((at_column[:, comp] - at_column[:, comp - 1]).mean()))
        if comp <= n - 2:
            terms.append(relu((at_column[:, comp] - at_column[:, comp + 1]).mean()))
        per_component.append(np.mean(terms))
    per_pair, nll = [], []
    for g in range(n):
        rows = y[slot == g]
        given = rows[:, g]

        def log_q(gg, ee, e, rows=rows, given=given):
            """log q_{gg, ee}(y_e | y_g) on the rows that condition on g."""
            slots = torch.full((rows.shape[0],), gg, dtype=torch.long)
            return conditional.log_prob(given, slots, rows[:, e : e + 1].expand(-1, n))[:, ee]

        for e in range(n):
            if e == g:
                continue
            base = log_q(g, e, e)
            nll.append(-base)
            terms = []
            if g >= 1 and e >= 1:
                terms.append(relu((base - log_q(g - 1, e - 1, e)).mean()))
            if g <= n - 2 and e <= n - 2:
                terms.append(relu((base - log_q(g + 1, e + 1, e)).mean()))
            if terms:
                per_pair.append(np.mean(terms))
    return {
        "uniformity": 0.5 * (np.mean(per_component) + np.mean(per_pair)),
        "marginal_entropy": -float(marginal.log_prob(y).mean()),
        "conditional_nll": float(torch.cat(nll).mean()),
    }


def test_estimator_loss_terms_use_the_shifted_estimators_as_specified():
    """Index conventions of the shifted marginals / conditionals inside the uniformity loss."""
    n, b = 5, 30
    gen = torch.Generator().manual_seed(7)
    marginal = _randomise(MarginalMixture(n, 4, dtype=F64), seed=7, scale=0.8)
    conditional = _randomise(ConditionalMixture(n, 8, 4, dtype=F64), seed=8, scale=0.5)
    y = torch.randn(b, n, generator=gen, dtype=F64) * torch.linspace(0.5, 2.0, n, dtype=F64)
    slot = torch.arange(b) % n
    lens = SymmetryLens(alignment=1.0, uniformity=2.0, resolution=1.0, information=1.0)
    with torch.no_grad():
        terms = lens._loss_terms(y, slot, marginal, conditional, 0.4)
        expected = _brute_force_terms(y, slot, marginal, conditional)
    assert expected["uniformity"] > 0.05  # a non-trivial configuration
    for key, value in expected.items():
        assert float(terms[key]) == pytest.approx(value, rel=1e-12, abs=1e-12), key
    assert float(terms["alignment"]) == pytest.approx(float(alignment(y)), abs=1e-15)
    assert float(terms["joint_entropy"]) == pytest.approx(
        float(soft_rank_joint_entropy(y, 0.4)), abs=1e-15)
    loss = lens._model_loss(terms)
    assert float(loss) == pytest.approx(
        float(terms["alignment"] + 2 * terms["uniformity"] + terms["marginal_entropy"]
              - 2 * terms["joint_entropy"]), abs=1e-12)


# ---------------------------------------------------------------------------- estimator API
FIT = {"n_steps": 20, "warmup_steps": 5, "batch_size": 70, "progress": "none"}


@pytest.fixture(scope="module")
def signals():
    return local_signals(n_samples=2000, dim=7, symmetry="circulant", random_state=0).X


@pytest.fixture(scope="module")
def monitored(signals):
    """A tiny fit with a monitor (the monitor must not change the result)."""
    calls = []

    def monitor(generator, phi):
        calls.append((generator.shape, phi.shape))
        return {"trace": float(np.trace(generator)), "calls": float(len(calls))}

    # The paper's random start, so that the history shows the rank curriculum.
    lens = SymmetryLens(init="random", random_state=0, **FIT).fit(signals, monitor=monitor)
    return lens, calls


def test_get_params_and_clone():
    lens = SymmetryLens(n_steps=5)
    params = lens.get_params()
    signature = set(inspect.signature(SymmetryLens.__init__).parameters) - {"self"}
    assert set(params) == signature
    assert params["n_steps"] == 5
    cloned = sklearn.base.clone(lens)
    assert cloned is not lens and cloned.get_params() == params
    assert sklearn.base.clone(SymmetryLens(warm_bases=("coordinates",), random_state=3)
                              ).random_state == 3


def test_init_stores_parameters_only():
    lens = SymmetryLens(n_steps=-1, device="tpu", model_lr=0.0)  # validated at fit, not here
    assert set(vars(lens)) == set(lens.get_params())
    assert not [k for k in vars(lens) if k.endswith("_")]


@pytest.mark.parametrize(
    ("X", "params", "match"),
    [
        (np.zeros((100, 6)), {}, "odd"),
        (np.where(np.eye(100, 7) > 0, np.nan, 1.0), {}, "NaN"),
        (np.zeros(100), {}, "shape"),
        (np.zeros((100, 7, 1)), {}, "shape"),
        (np.ones((10, 7)), {}, "at least 14 samples"),
        (np.ones((100, 7)), {"device": "tpu"}, "device"),
        (np.ones((100, 7)), {"model_lr": 0.0}, "model_lr"),
        (np.ones((100, 7)), {"estimator_lr": -1e-3}, "estimator_lr"),
        (np.ones((100, 7)), {"n_steps": 0}, "n_steps"),
        (np.ones((100, 7)), {"padding": -1}, "padding"),
    ],
)
def test_fit_rejects_bad_input(X, params, match):
    with pytest.raises(ValueError, match=match):
        SymmetryLens(**{**FIT, **params}).fit(X)


@pytest.mark.parametrize(("params", "match"), [({"warmup_steps": -3}, "warmup_steps"),
                                               ({"filter_noise_time": 0.0}, "filter_noise_time"),
                                               ({"filter_noise": -0.1}, "filter_noise"),
                                               ({"padding": 1.5}, "padding"),
                                               ({"n_steps": True}, "n_steps"),
                                               ({"resolution_ramp": -0.5}, "resolution_ramp")])
def test_fit_rejects_bad_schedule_parameters(params, match):
    X = np.random.default_rng(0).standard_normal((100, 7))
    with pytest.raises(ValueError, match=match):
        SymmetryLens(**{**FIT, **params}).fit(X)


def test_check_is_fitted(monitored):
    with pytest.raises(sklearn.exceptions.NotFittedError):
        sklearn.utils.validation.check_is_fitted(SymmetryLens())
    sklearn.utils.validation.check_is_fitted(monitored[0])


def test_transform_before_fit_and_with_the_wrong_dimension(monitored, signals):
    with pytest.raises(ValueError, match="fit"):
        SymmetryLens().transform(signals)
    lens, _ = monitored
    with pytest.raises(ValueError, match="features"):
        lens.transform(np.zeros((3, 9)))
    with pytest.raises(ValueError, match="NaN"):
        lens.transform(np.full((3, 7), np.nan))


def test_fitted_attributes(monitored):
    lens, _ = monitored
    assert lens.n_features_in_ == 7
    assert lens.generator_.shape == (7, 7)
    g = lens.padded_generator_
    assert g.shape == (21, 21)
    np.testing.assert_allclose(g.T @ g, np.eye(21), atol=1e-10)
    np.testing.assert_array_equal(lens.generator_, g[7:14, 7:14])
    assert lens.filter_.shape == (7,)
    assert np.linalg.norm(lens.filter_) == pytest.approx(1.0, abs=1e-9)
    assert lens.group_convolution_.shape == (7, 7)
    phi = group_convolution(torch.as_tensor(g), torch.as_tensor(lens.filter_), 7).numpy()
    np.testing.assert_allclose(lens.group_convolution_, phi, atol=1e-12)


def test_history_and_monitor(monitored):
    lens, calls = monitored
    history = lens.history_
    for key in ("loss", "alignment", "uniformity", "marginal_entropy", "joint_entropy", "tau"):
        assert key in history, key
    n_logged = len(history["loss"])
    assert n_logged == 2  # steps 0 and 19 with log_every = 50
    assert all(len(history[k]) == n_logged for k in ("tau", "trace", "calls"))
    assert np.all(np.isfinite(history["loss"]))
    assert history["tau"][-1] == pytest.approx(1.0)
    assert 0 < history["tau"][0] < history["tau"][-1]
    # the monitor was called once per logged step with (generator, Φ), and its values recorded
    assert calls == [((7, 7), (7, 7))] * n_logged
    assert history["calls"] == [1.0, 2.0]
    assert all(abs(t) <= 7 for t in history["trace"])


def test_transform_is_the_group_convolution(monitored, signals):
    lens, _ = monitored
    x = signals[:50]
    np.testing.assert_allclose(lens.transform(x), x @ lens.group_convolution_.T, atol=1e-12)
    np.testing.assert_allclose(lens.transform(torch.as_tensor(x)), lens.transform(x), atol=0)


@pytest.mark.slow
def test_fit_is_reproducible_and_uses_no_global_rng(monitored, signals):
    lens, _ = monitored
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()  # noqa: NPY002 (checking that fit leaves it alone)
    again = SymmetryLens(init="random", random_state=0, **FIT).fit(signals)  # no monitor
    np.testing.assert_array_equal(torch.random.get_rng_state().numpy(), torch_state.numpy())
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == np_state[0] and after[2:] == np_state[2:]
    np.testing.assert_array_equal(after[1], np_state[1])

    np.testing.assert_array_equal(again.generator_, lens.generator_)
    np.testing.assert_array_equal(again.filter_, lens.filter_)
    assert again.history_["loss"] == lens.history_["loss"]
    other = SymmetryLens(init="random", random_state=1, **FIT).fit(signals)
    assert not np.array_equal(other.generator_, lens.generator_)
    # The warm start (NumPy linear algebra) leaves the global RNGs alone as well.
    np_state = np.random.get_state()  # noqa: NPY002
    SymmetryLens(random_state=0, **FIT).fit(signals)
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == np_state[0] and after[2:] == np_state[2:]
    np.testing.assert_array_equal(after[1], np_state[1])


def test_a_non_finite_loss_stops_the_fit_with_its_step(signals, monkeypatch):
    model_loss = SymmetryLens._model_loss
    monkeypatch.setattr(SymmetryLens, "_model_loss",
                        lambda self, terms, tau=1.0: model_loss(self, terms, tau) * math.nan)
    lens = SymmetryLens(init="random", random_state=0, **FIT)
    with pytest.raises(FloatingPointError, match="at step 0"):
        lens.fit(signals)
    assert not hasattr(lens, "history_") and not hasattr(lens, "fit_time_")


def test_skew_logarithm_lives_in_the_lie_module():
    from symmetrykit import lens

    assert "skew_logarithm" in lie.__all__
    assert lens.skew_logarithm is lie.skew_logarithm
