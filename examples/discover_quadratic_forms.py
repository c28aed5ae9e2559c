"""Discovering the symmetry algebras of quadratic forms: rotations, Lorentz boosts, rigid motions.

The symmetries of a model ``F`` among candidate generators are the nullspace of the linear map
``ξ ↦ L_ξ F = DF · v_ξ`` (Otto, Zolman, Kutz & Brunton). One SVD of that map, sampled at a few
hundred points, returns the whole symmetry algebra together with the spectrum that supports it:

* ``|x|²`` on R³ among gl(3) (9 candidates): so(3), three exact zeros;
* the Minkowski form ``−t² + x² + y² + z²`` among gl(4) (16): the Lorentz algebra so(1,3), six;
* ``1 + uᵀx + (uᵀx)²`` on R⁵ among the rigid motions se(5) (15): the translations orthogonal to
  ``u`` and the rotations fixing ``u``, 4 + 6 = 10.

Each is compared with the known algebra by principal angles. A last part uses data only: the
weak form ``E[∇φ · v_ξ] = 0`` picks the cyclic shift out of so(7) for periodic signals.

Run::

    python examples/discover_quadratic_forms.py          # 200 points, 10⁵ signals
    python examples/discover_quadratic_forms.py --quick  # 60 points, 2·10⁴ signals (CI)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.linalg

import symmetrykit as sk
from symmetrykit.lie import skew_logarithm
from symmetrykit.liederiv import discover, discover_density
from symmetrykit.metrics import algebra_distance


def rigid_motions_fixing(u: np.ndarray) -> np.ndarray:
    """Translations orthogonal to ``u`` and rotations fixing it, as homogeneous generators."""
    n = u.size
    complement = scipy.linalg.null_space(u[None])
    stack = []
    for rotation in sk.lie.so(n - 1).generators:
        g = np.zeros((n + 1, n + 1))
        g[:n, :n] = complement @ rotation @ complement.T
        stack.append(g)
    for direction in complement.T:
        g = np.zeros((n + 1, n + 1))
        g[:n, n] = direction
        stack.append(g)
    return np.stack(stack)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer points and signals")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    return parser.parse_args()


def report(title: str, result: sk.liederiv.LieDiscovery, expected: np.ndarray, seconds: float):
    spectrum = " ".join(f"{value:.1e}" for value in result.singular_values)
    angle = algebra_distance(result.algebra, expected).max() if result.nullity else np.nan
    print(f"\n{title}")
    print(f"  spectrum (relative, ascending): {spectrum}")
    print(
        f"  symmetries found {result.nullity} (expected {len(expected)}), gap {result.gap:.1e}, "
        f"largest principal angle {angle:.1e} rad, closure residual "
        f"{result.closure_residual:.1e}, {seconds * 1e3:.0f} ms"
    )


def main() -> None:
    args = parse_args()
    rng = np.random.default_rng(args.seed)
    n_points = 60 if args.quick else 200

    x3 = rng.uniform(-1, 1, (n_points, 3))
    start = time.perf_counter()
    result = discover(lambda x: (x**2).sum(axis=1), x3, sk.lie.gl(3))
    report(
        "|x|² on R³, candidates gl(3)", result, sk.lie.so(3).generators, time.perf_counter() - start
    )
    generators = result.algebra.generators
    print(
        "  recovered generators antisymmetric to "
        f"{np.abs(generators + generators.transpose(0, 2, 1)).max():.1e}"
    )

    minkowski = np.diag([-1.0, 1.0, 1.0, 1.0])
    x4 = rng.uniform(-1, 1, (n_points, 4))
    start = time.perf_counter()
    result = discover(lambda x: np.einsum("si,ij,sj->s", x, minkowski, x), x4, sk.lie.gl(4))
    report(
        "−t² + x² + y² + z² on R⁴, candidates gl(4)",
        result,
        sk.lie.so_pq(1, 3).generators,
        time.perf_counter() - start,
    )

    u = rng.normal(size=5)
    u /= np.linalg.norm(u)
    x5 = rng.uniform(-1, 1, (n_points, 5))
    start = time.perf_counter()
    result = discover(lambda x: 1 + x @ u + (x @ u) ** 2, x5, sk.lie.se(5))
    report(
        "1 + uᵀx + (uᵀx)² on R⁵, candidates se(5)",
        result,
        rigid_motions_fixing(u),
        time.perf_counter() - start,
    )

    n_samples = 20_000 if args.quick else 100_000
    start = time.perf_counter()
    data = sk.datasets.local_signals(
        n_samples=n_samples, dim=7, signal="gaussian", symmetry="circulant", random_state=args.seed
    )
    result = discover_density(data.X, sk.lie.so(7))
    seconds = time.perf_counter() - start
    truth = skew_logarithm(data.generator)
    found = result.algebra.generators[0]
    cosine = abs(np.sum(found * truth)) / (np.linalg.norm(found) * np.linalg.norm(truth))
    values = result.singular_values
    print(f"\nweak form on {n_samples} circulant 7-pixel signals, candidates so(7)")
    print(f"  smallest singular values (relative): {' '.join(f'{v:.3f}' for v in values[:4])}")
    print(
        f"  |cos| of the most symmetric candidate with log(cyclic shift): {cosine:.4f}; "
        f"σ₂/σ₁ = {values[1] / values[0]:.2f}, σ₃/σ₂ = {values[2] / values[1]:.2f}; "
        f"{seconds:.1f} s with data generation"
    )


if __name__ == "__main__":
    main()
