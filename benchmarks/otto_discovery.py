"""Discovery benchmark (Otto, Zolman, Kutz & Brunton): symmetry algebras as nullspaces.

Three kinds of discovery, each checked against a known algebra:

* **models** (:func:`~symmetrykit.liederiv.discover`): ``‖x‖²`` among gl(3), the Minkowski form
  among gl(4), ``1 + uᵀx + (uᵀx)²`` among se(5) (200 uniform points of ``[−1, 1]^n``, as in the
  independent checks of ``docs/benchmarks.md``), a model without symmetry, a torch MLP of
  ``‖x‖²`` and the level set of a quadric fitted to noisy ellipsoid points;
* **manifolds** (:func:`~symmetrykit.liederiv.discover_tangent`): a sphere and a spheroid;
* **data only** (:func:`~symmetrykit.liederiv.discover_density`, the weak form): an axisymmetric
  cloud and the 7-pixel circulant Gaussian-bump signals (candidates so(7); the most symmetric
  candidate against the real logarithm of the cyclic shift), over seeds, sample sizes and row
  weightings; optionally (``--with-33``) the 33-pixel translation sets, which do not scale.

For each case: symmetries found / expected, spectral gap, largest principal angle to the expected
algebra (:func:`symmetrykit.metrics.algebra_distance`), closure residual and time, beside
independently measured numbers (``docs/benchmarks.md``; the JSON key ``spec``). JSON goes to
``benchmarks/results/otto_discovery*.json`` (machine, commit, date), a markdown table is printed
and, with ``--update-readme``, written into README between ``<!-- otto-discovery:begin -->`` and
``<!-- otto-discovery:end -->`` when both exist.

Examples
--------
    python benchmarks/otto_discovery.py --quick          # seconds
    python benchmarks/otto_discovery.py                  # ~1–2 min
    python benchmarks/otto_discovery.py --with-33        # + the 33-pixel sets (~1 min more)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import scipy.linalg
import torch
from _common import provenance, update_readme_section, write_results
from threadpoolctl import threadpool_limits

import symmetrykit as sk
from symmetrykit.lie import gl, se, skew_logarithm, so, so_pq
from symmetrykit.liederiv import (
    DictionaryModel,
    PolynomialDictionary,
    discover,
    discover_density,
    discover_tangent,
)
from symmetrykit.metrics import algebra_distance

README_BEGIN = "<!-- otto-discovery:begin -->"
README_END = "<!-- otto-discovery:end -->"
MINKOWSKI = np.diag([-1.0, 1.0, 1.0, 1.0])

#: Numbers measured independently of this library, with separate scripts, on the same cases
#: (docs/benchmarks.md, "Discovery: independent checks"). Stored under the JSON key ``spec``.
INDEPENDENT_CHECKS = {
    "‖x‖² ⊂ gl(3)": "nullity 3; 6 values ≥ 0.58, 3 ≤ 3e−16",
    "Minkowski ⊂ gl(4)": "nullity 6",
    "1+uᵀx+(uᵀx)² ⊂ se(5)": "nullity 10",
    "axisymmetric cloud ⊂ gl(3)": "σ₁ 8e−4 vs σ₂ 0.10 (2·10⁵ samples)",
    "circulant 7 ⊂ so(7)": "|cos| 0.994 (10⁵ samples, cubic); σ 0.0121, 0.0031; next 0.078",
}


def rigid_motions_fixing(u: np.ndarray) -> np.ndarray:
    """Translations orthogonal to ``u`` and rotations fixing ``u`` (homogeneous generators)."""
    n = u.size
    complement = scipy.linalg.null_space(u[None])
    stack = []
    for rotation in so(n - 1).generators:
        g = np.zeros((n + 1, n + 1))
        g[:n, :n] = complement @ rotation @ complement.T
        stack.append(g)
    for direction in complement.T:
        g = np.zeros((n + 1, n + 1))
        g[:n, n] = direction
        stack.append(g)
    return np.stack(stack)


def radial_mlp(seed: int) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)

    class RadialMLP(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net((x**2).sum(-1, keepdim=True))

    model = RadialMLP()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return model.double()


def ellipsoid(n_points: int, axes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = rng.normal(size=(n_points, axes.size))
    return x / np.linalg.norm(x, axis=1, keepdims=True) * axes


# ---------------------------------------------------------------------------- cases
def model_cases(seed: int, n_points: int) -> list[tuple[str, Callable, np.ndarray]]:
    """(name, run() -> LieDiscovery, expected generators) for the exact and fitted models."""
    rng = np.random.default_rng(seed)
    x3 = rng.uniform(-1, 1, (n_points, 3))
    x4 = rng.uniform(-1, 1, (n_points, 4))
    x5 = rng.uniform(-1, 1, (n_points, 5))
    u = rng.normal(size=5)
    u /= np.linalg.norm(u)
    cubic = PolynomialDictionary(3, 3)
    generic = DictionaryModel(cubic, rng.normal(size=cubic.n_terms))
    axes = np.array([1.0, 1.0, 0.5])
    surface_points = ellipsoid(300, axes, rng) + 1e-5 * rng.normal(size=(300, 3))
    quadric = PolynomialDictionary(3, 2)
    _, _, vt = np.linalg.svd(quadric.transform(surface_points))
    surface = DictionaryModel(quadric, vt[-1])
    mlp = radial_mlp(seed)
    return [
        ("‖x‖² ⊂ gl(3)", lambda: discover(lambda x: (x**2).sum(1), x3, gl(3)), so(3).generators),
        (
            "Minkowski ⊂ gl(4)",
            lambda: discover(lambda x: np.einsum("si,ij,sj->s", x, MINKOWSKI, x), x4, gl(4)),
            so_pq(1, 3).generators,
        ),
        (
            "1+uᵀx+(uᵀx)² ⊂ se(5)",
            lambda: discover(lambda x: 1 + x @ u + (x @ u) ** 2, x5, se(5)),
            rigid_motions_fixing(u),
        ),
        ("random cubic ⊂ gl(3)", lambda: discover(generic, x3, gl(3)), np.zeros((0, 3, 3))),
        ("MLP(‖x‖²) ⊂ gl(3)", lambda: discover(mlp, x3, gl(3)), so(3).generators),
        (
            "fitted ellipsoid level set ⊂ gl(3)",
            lambda: discover(surface, surface_points, gl(3), rtol=1e-4),
            np.diag(axes) @ so(3).generators @ np.diag(1 / axes),
        ),
    ]


def tangent_cases(seed: int, n_points: int) -> list[tuple[str, Callable, np.ndarray]]:
    rng = np.random.default_rng(seed)
    sphere = ellipsoid(n_points, np.ones(3), rng)
    spheroid_axes = np.array([1.0, 1.0, 2.0])
    spheroid = ellipsoid(n_points, spheroid_axes, rng)

    def tangent(points, candidates):
        return lambda: discover_tangent(points, candidates, manifold_dim=2, n_neighbors=12)

    return [
        ("sphere ⊂ gl(3) (tangent)", tangent(sphere, gl(3)), so(3).generators),
        ("spheroid ⊂ so(3) (tangent)", tangent(spheroid, so(3)), so(3).generators[:1]),
        (
            "spheroid ⊂ gl(3) (tangent)",
            tangent(spheroid, gl(3)),
            np.diag(spheroid_axes) @ so(3).generators @ np.diag(1 / spheroid_axes),
        ),
    ]


def density_cases(seed: int, n_samples: int) -> list[tuple[str, Callable, np.ndarray]]:
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, n_samples)
    radius = rng.gamma(3.0, size=n_samples)
    cloud = np.c_[radius * np.cos(angle), radius * np.sin(angle), rng.exponential(size=n_samples)]
    return [
        ("axisymmetric cloud ⊂ gl(3)", lambda: discover_density(cloud, gl(3)), so(3).generators[:1])
    ]


def run_case(name: str, run: Callable, expected: np.ndarray, seed: int) -> dict:
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    values = result.singular_values
    nullity = result.nullity
    angle = (
        float(algebra_distance(result.algebra, expected).max())
        if nullity and len(expected)
        else None
    )
    return {
        "case": name,
        "seed": seed,
        "candidates": len(values),
        "nullity": nullity,
        "expected": int(len(expected)),
        "gap": result.gap,
        "largest_null_value": float(values[:nullity].max()) if nullity else None,
        "smallest_other_value": float(values[nullity:].min()) if nullity < len(values) else None,
        "largest_principal_angle": angle,
        "closure_residual": result.closure_residual,
        "method": result.method,
        "seconds": seconds,
        "spectrum": values.tolist(),
    }


def circulant_run(
    n_samples: int, seed: int, weighting: str, scale_range: tuple[float, float] = (0.2, 1.0)
) -> dict:
    start = time.perf_counter()
    data = sk.datasets.local_signals(
        n_samples=n_samples,
        dim=7,
        signal="gaussian",
        symmetry="circulant",
        random_state=seed,
        scale_range=scale_range,
    )
    generated = time.perf_counter()
    result = discover_density(data.X, so(7), weighting=weighting)
    end = time.perf_counter()
    truth = skew_logarithm(data.generator).reshape(-1)
    truth /= np.linalg.norm(truth)
    flat = result.candidates.generators.reshape(len(result.candidates), -1)
    values = result.singular_values
    return {
        "case": "circulant 7 ⊂ so(7)",
        "n_samples": n_samples,
        "seed": seed,
        "weighting": weighting,
        "bump_widths": list(scale_range),
        "cos": float(abs(flat[0] @ truth) / np.linalg.norm(flat[0])),
        "cos_two_smallest": float(np.linalg.norm(flat[:2] @ truth)),  # |P_{span(v1,v2)} log P|
        "sigma": values[:4].tolist(),
        "gap_21": float(values[1] / values[0]),
        "gap_32": float(values[2] / values[1]),
        "seconds_total": end - start,
        "seconds_discovery": end - generated,
    }


def translation_run(signal: str, n_samples: int, seed: int, degree: int, weighting: str) -> dict:
    start = time.perf_counter()
    data = sk.datasets.local_signals(
        n_samples=n_samples, dim=33, signal=signal, symmetry="translation", random_state=seed
    )
    result = discover_density(data.X, so(33), degree=degree, weighting=weighting)
    seconds = time.perf_counter() - start
    found = result.candidates.generators[0]
    shift = data.generator
    central = (shift - shift.T) / 2  # central difference: the skew part of the shift
    offsets = np.subtract.outer(np.arange(33), np.arange(33))
    sinc = np.where(offsets != 0, (-1.0) ** offsets / np.where(offsets == 0, 1, offsets), 0.0)

    def cosine(matrix: np.ndarray) -> float:
        return float(abs(np.sum(found * matrix)) / (np.linalg.norm(found) * np.linalg.norm(matrix)))

    return {
        "case": f"{signal}-translation 33 ⊂ so(33)",
        "n_samples": n_samples,
        "seed": seed,
        "degree": degree,
        "weighting": weighting,
        "n_tests": result.details["n_tests"],
        "cos_central_difference": cosine(central),
        "cos_band_limited_derivative": cosine(sinc),
        "exponential_similarity": sk.metrics.exponential_similarity(found, shift)[0],
        "sigma": result.singular_values[:4].tolist(),
        "seconds_total": seconds,
    }


# ---------------------------------------------------------------------------- summary
def summarise(rows: list[dict]) -> list[dict]:
    cases: dict[str, list[dict]] = {}
    for row in rows:
        cases.setdefault(row["case"], []).append(row)
    summary = []
    for name, group in cases.items():
        angles = [r["largest_principal_angle"] for r in group if r["largest_principal_angle"]]
        null_values = [r["largest_null_value"] for r in group if r["largest_null_value"]]
        others = [r["smallest_other_value"] for r in group if r["smallest_other_value"]]
        summary.append(
            {
                "case": name,
                "seeds": len(group),
                "candidates": group[0]["candidates"],
                "nullity_found": sorted({r["nullity"] for r in group}),
                "expected": group[0]["expected"],
                "min_gap": min(r["gap"] for r in group),
                "max_largest_null_value": max(null_values) if null_values else None,
                "min_smallest_other_value": min(others) if others else None,
                "max_principal_angle": max(angles) if angles else None,
                "max_closure_residual": max(r["closure_residual"] for r in group),
                "mean_seconds": float(np.mean([r["seconds"] for r in group])),
                "spec": INDEPENDENT_CHECKS.get(name, ""),
            }
        )
    return summary


def summarise_weak(rows: list[dict]) -> list[dict]:
    cells: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (tuple(row["bump_widths"]), row["n_samples"], row["weighting"])
        cells.setdefault(key, []).append(row)
    out = []
    for (widths, n_samples, weighting), group in sorted(cells.items()):
        cos = np.array([r["cos"] for r in group])
        out.append(
            {
                "case": "circulant 7 ⊂ so(7)",
                "n_samples": n_samples,
                "weighting": weighting,
                "bump_widths": list(widths),
                "seeds": len(group),
                "cos_min": float(cos.min()),
                "cos_mean": float(cos.mean()),
                "cos_two_smallest_min": float(min(r["cos_two_smallest"] for r in group)),
                "gap_21_mean": float(np.mean([r["gap_21"] for r in group])),
                "gap_32_mean": float(np.mean([r["gap_32"] for r in group])),
                "sigma_mean": np.mean([r["sigma"] for r in group], axis=0).tolist(),
                "seconds_total_mean": float(np.mean([r["seconds_total"] for r in group])),
            }
        )
    return out


def _fmt(value, spec: str = ".1e") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    return format(value, spec)


def markdown(summary: list[dict], weak: list[dict], large: list[dict], meta: dict) -> str:
    lines = [
        f"Measured {meta['date']} on {meta['machine']} (commit {meta['commit'] or 'unknown'}), "
        f"{meta['threads']} thread(s), seeds {meta['seeds']}, {meta['n_points']} points per "
        "model. Spectrum relative to its scale; gap = σ(nullity+1)/σ(nullity) (worst seed).",
        "",
        "| case | candidates | found / expected | gap | σ null (max) | σ other (min) "
        "| max principal angle | closure residual | time | independent check |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in summary:
        found = "/".join(str(v) for v in row["nullity_found"])
        lines.append(
            f"| {row['case']} | {row['candidates']} | {found} / {row['expected']} "
            f"| {_fmt(row['min_gap'], '.2g')} | {_fmt(row['max_largest_null_value'])} "
            f"| {_fmt(row['min_smallest_other_value'], '.2f')} "
            f"| {_fmt(row['max_principal_angle'])} | {_fmt(row['max_closure_residual'])} "
            f"| {row['mean_seconds'] * 1e3:.0f} ms | {row['spec']} |"
        )
    if weak:
        lines += [
            "",
            "Weak form on 7-pixel circulant Gaussian bumps, candidates so(7), cubic tests: "
            "|cos| of the most symmetric candidate with the real log of the cyclic shift "
            "(min / mean over seeds), norm of log P's projection on the two most symmetric "
            "directions, σ₂/σ₁ and σ₃/σ₂, time including data generation. "
            f"Independent check: {INDEPENDENT_CHECKS['circulant 7 ⊂ so(7)']}.",
            "",
            "| bump widths (px) | samples | weighting | \\|cos\\| min / mean "
            "| in 2 smallest (min) | σ₁ σ₂ σ₃ | σ₂/σ₁ | σ₃/σ₂ | time |",
            "|---|---:|---|---:|---:|---|---:|---:|---:|",
        ]
        for row in weak:
            sigma = " ".join(f"{v:.3f}" for v in row["sigma_mean"][:3])
            widths = "–".join(f"{w:g}" for w in row["bump_widths"])
            lines.append(
                f"| {widths} | {row['n_samples']:,} | {row['weighting']} "
                f"| {row['cos_min']:.4f} / {row['cos_mean']:.4f} "
                f"| {row['cos_two_smallest_min']:.4f} | {sigma} | {row['gap_21_mean']:.2f} "
                f"| {row['gap_32_mean']:.2f} | {row['seconds_total_mean']:.2f} s |"
            )
    if large:
        lines += [
            "",
            "33-pixel translation sets, candidates so(33) (no exact continuous symmetry; |cos| of "
            "the most symmetric candidate with the central difference and with the band-limited "
            "derivative):",
            "",
            "| data | tests | weighting | \\|cos\\| central diff. | \\|cos\\| band-limited "
            "| time |",
            "|---|---:|---|---:|---:|---:|",
        ]
        for row in large:
            lines.append(
                f"| {row['case']} | {row['n_tests']} (degree {row['degree']}) | {row['weighting']} "
                f"| {row['cos_central_difference']:.3f} | {row['cos_band_limited_derivative']:.3f} "
                f"| {row['seconds_total']:.1f} s |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, smaller weak-form sweep")
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    parser.add_argument("--n-points", type=int, default=200, help="points per exact model")
    parser.add_argument("--with-33", action="store_true", help="add the 33-pixel sets")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2, 3, 4])
    sample_sizes = [100_000] if args.quick else [20_000, 50_000, 100_000, 200_000]
    out = args.out or (
        "benchmarks/results/otto_discovery_quick.json"
        if args.quick
        else "benchmarks/results/otto_discovery.json"
    )
    torch.set_num_threads(args.threads)
    rows, weak_rows, large_rows = [], [], []
    with threadpool_limits(args.threads):
        for seed in seeds:
            cases = (
                model_cases(seed, args.n_points)
                + tangent_cases(seed, 600)
                + density_cases(seed, 40_000)
            )
            for name, run, expected in cases:
                row = run_case(name, run, expected, seed)
                rows.append(row)
                print(
                    f"{name:36s} seed {seed}: {row['nullity']}/{row['expected']} "
                    f"gap {row['gap']:.2g} angle {_fmt(row['largest_principal_angle'])} "
                    f"{row['seconds'] * 1e3:.0f} ms",
                    flush=True,
                )
        for n_samples in sample_sizes:
            for weighting in ("noise", "none"):
                for seed in seeds:
                    row = circulant_run(n_samples, seed, weighting)
                    weak_rows.append(row)
                    print(
                        f"circulant N={n_samples} {weighting:5s} seed {seed}: cos {row['cos']:.4f}"
                        f" σ2/σ1 {row['gap_21']:.2f} {row['seconds_total']:.1f} s",
                        flush=True,
                    )
        for seed in seeds:  # smoother signals: less aliasing, a near-continuous symmetry
            for weighting in ("noise", "none"):
                weak_rows.append(circulant_run(100_000, seed, weighting, scale_range=(0.5, 1.5)))
        if args.with_33:
            for signal in ("gaussian", "legendre"):
                for degree, weighting in ((3, "none"), (2, "none")):
                    row = translation_run(signal, 100_000, seeds[0], degree, weighting)
                    large_rows.append(row)
                    print(
                        f"{row['case']} degree {degree}: cos {row['cos_central_difference']:.3f}"
                        f" {row['seconds_total']:.1f} s",
                        flush=True,
                    )
    meta = {
        **provenance(),
        "threads": args.threads,
        "seeds": seeds,
        "n_points": args.n_points,
        "spec": INDEPENDENT_CHECKS,
    }
    summary = summarise(rows)
    weak = summarise_weak(weak_rows)
    write_results(out, meta, summary + weak, rows + weak_rows + large_rows)
    table = markdown(summary, weak, large_rows, meta)
    print(table)
    if args.update_readme:
        update_readme_section(README_BEGIN, README_END, table, missing_ok=True)


if __name__ == "__main__":
    main()
