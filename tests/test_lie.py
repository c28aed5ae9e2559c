"""Lie-group core: algebra structure, exponentials, powers and factories."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

import symmetrykit as sk
from symmetrykit import lie


def _antisymmetric(d, seed):
    a = np.random.default_rng(seed).standard_normal((d, d))
    return (a - a.T) / 2


@given(d=st.integers(2, 9), seed=st.integers(0, 10_000))
@settings(max_examples=30, deadline=None)
def test_exp_of_antisymmetric_is_orthogonal_with_unit_determinant(d, seed):
    g = scipy.linalg.expm(_antisymmetric(d, seed))
    np.testing.assert_allclose(g.T @ g, np.eye(d), atol=1e-12)
    assert np.linalg.det(g) == pytest.approx(1.0, abs=1e-10)


def test_group_axioms_for_a_one_parameter_subgroup():
    algebra = lie.so(4)
    coeffs = np.random.default_rng(1).standard_normal(len(algebra))
    g_s, g_t = algebra.exp(0.3 * coeffs), algebra.exp(-1.1 * coeffs)
    np.testing.assert_allclose(g_s @ g_t, algebra.exp(-0.8 * coeffs), atol=1e-12)  # closure
    np.testing.assert_allclose(algebra.exp(0 * coeffs), np.eye(4), atol=1e-15)  # identity
    np.testing.assert_allclose(g_s @ algebra.exp(-0.3 * coeffs), np.eye(4), atol=1e-12)  # inverse
    batch = algebra.exp(np.stack([coeffs, 2 * coeffs]))
    np.testing.assert_allclose(batch[1], batch[0] @ batch[0], atol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_so_n_is_closed_with_antisymmetric_structure_constants(n):
    algebra = lie.so(n)
    assert len(algebra) == n * (n - 1) // 2 and algebra.rank == len(algebra)
    assert algebra.closure_residual() < 1e-14
    c = algebra.structure_constants()
    np.testing.assert_allclose(c, -np.swapaxes(c, 0, 1), atol=1e-14)
    # the constants reproduce every bracket
    rebuilt = np.einsum("ijl,lab->ijab", c, algebra.generators)
    np.testing.assert_allclose(rebuilt, algebra.commutators(), atol=1e-13)
    for g in algebra:
        np.testing.assert_allclose(g, -g.T)


def test_so3_structure_constants_are_the_levi_civita_symbol_up_to_ordering():
    c = np.round(lie.so(3).structure_constants(), 12)
    distinct = np.array([[[len({i, j, k}) == 3 for k in range(3)] for j in range(3)]
                         for i in range(3)])
    np.testing.assert_array_equal(np.abs(c), distinct.astype(float))


def test_gl_sl_and_lorentz_algebras():
    assert len(lie.gl(3)) == 9 and lie.gl(3).closure_residual() == 0
    assert len(lie.sl(3)) == 8 and lie.sl(3).closure_residual() < 1e-14
    assert all(abs(np.trace(g)) < 1e-15 for g in lie.sl(3))
    lorentz = lie.so_pq(1, 3)
    eta = np.diag([1.0, -1, -1, -1])
    assert len(lorentz) == 6 and lorentz.closure_residual() < 1e-14
    for g in lorentz:
        np.testing.assert_allclose(g.T @ eta + eta @ g, 0, atol=1e-15)


def test_non_closed_span_has_a_large_closure_residual():
    e = lie.gl(2).generators
    assert sk.LieAlgebra(e[[1, 2]]).closure_residual() > 0.5  # E01, E10: bracket is diagonal


def test_conjugation_preserves_structure_constants_and_checks_orthogonality():
    algebra = lie.so(4)
    q = lie.random_orthogonal(4, random_state=3)
    conj = algebra.conjugate(q)
    np.testing.assert_allclose(conj.structure_constants(), algebra.structure_constants(),
                               atol=1e-12)
    with pytest.raises(ValueError, match="not orthogonal"):
        algebra.conjugate(2 * q)
    with pytest.raises(ValueError, match="dimension"):
        algebra.conjugate(np.eye(3))


def test_shift_generator_and_its_powers():
    s = lie.shift(5)
    x = np.arange(1.0, 6.0)
    np.testing.assert_array_equal(s @ x, [2, 3, 4, 5, 0])  # (S x)_i = x_{i+1}
    powers = lie.matrix_powers(s, [0, 1, 2, 4, 5])
    np.testing.assert_array_equal(powers[2], np.eye(5, k=2))
    np.testing.assert_array_equal(powers[4], np.zeros((5, 5)))  # nilpotent without wrap-around
    c = lie.shift(5, circulant=True)
    np.testing.assert_array_equal(c @ x, [2, 3, 4, 5, 1])
    np.testing.assert_array_equal(lie.matrix_powers(c, [5])[0], np.eye(5))
    np.testing.assert_array_equal(lie.matrix_powers(c, [-1])[0], c.T)
    with pytest.raises(ValueError, match="singular"):
        lie.matrix_powers(s, [-1])


@pytest.mark.parametrize("d", [7, 33, pytest.param(99, marks=pytest.mark.slow)])
def test_powers_of_an_orthogonal_generator_stay_accurate_in_float64(d):
    a = _antisymmetric(d, seed=d)
    g = scipy.linalg.expm(a)
    ks = np.arange(-d, d + 1)
    powers = lie.matrix_powers(g, ks)
    # Every power against expm for small d; for d = 99 (199 expm calls of large norm would take
    # most of a minute) every 11th power, the extremes ±d included.
    checked = range(len(ks)) if d <= 33 else range(0, len(ks), 11)
    errors = [np.max(np.abs(powers[i] - scipy.linalg.expm(ks[i] * a))) for i in checked]
    worst = max(errors)
    assert worst < 1e-11


def test_matrix_powers_on_torch_are_differentiable_and_match_numpy():
    torch = pytest.importorskip("torch")
    a = _antisymmetric(5, seed=0)
    g = torch.tensor(scipy.linalg.expm(a), requires_grad=True)
    powers = lie.matrix_powers(g, [-2, 0, 3])
    assert isinstance(powers, torch.Tensor) and powers.shape == (3, 5, 5)
    np.testing.assert_allclose(powers.detach().numpy(),
                               lie.matrix_powers(g.detach().numpy(), [-2, 0, 3]), atol=1e-14)
    assert torch.autograd.gradcheck(lambda m: lie.matrix_powers(m, [2, 3]), (g,))


def test_dst_is_orthogonal_symmetric_and_involutive():
    for n in (1, 7, 33):
        d = lie.dst1(n)
        np.testing.assert_allclose(d, d.T, atol=1e-15)
        np.testing.assert_allclose(d @ d, np.eye(n), atol=1e-13)


def test_permutation_matrix_convention():
    perm = np.array([2, 0, 3, 1])
    p = lie.permutation_matrix(perm)
    x = np.array([10.0, 11, 12, 13])
    moved = p.T @ x
    for i in range(4):
        assert moved[perm[i]] == x[i]
    with pytest.raises(ValueError, match="not a permutation"):
        lie.permutation_matrix([0, 0, 1])


def test_bad_inputs_are_rejected_with_clear_messages():
    with pytest.raises(ValueError, match=r"\(k, d, d\)"):
        sk.LieAlgebra(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="non-finite"):
        sk.LieAlgebra(np.full((1, 2, 2), np.nan))
    with pytest.raises(ValueError, match="integer >= 2"):
        lie.so(1)
    with pytest.raises(ValueError, match="coefficients"):
        lie.so(3).exp([1.0, 2.0])
    with pytest.raises(ValueError, match="linearly dependent"):
        sk.LieAlgebra(np.stack([np.eye(2), 2 * np.eye(2)])).structure_constants()
