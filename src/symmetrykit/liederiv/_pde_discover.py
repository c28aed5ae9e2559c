"""Discover the Lie point symmetries of a PDE from its trajectories, in closed form.

:func:`discover_pde` is the discover verb of the Lie-derivative framework (Otto et al. 2023)
applied to differential equations, in the way of LieNLSD (Hu, Li & Lin 2025):

1. **equation** — ``u_t = F(t, x, u, u_x, …)`` is identified from the data by a sparse weak-form
   regression (:mod:`._equation`); ``F`` may depend on ``t`` and ``x``, so translations are found,
   not built in;
2. **prolonged Lie derivative** — for generators ``ξ ∂x + τ ∂t + φ ∂u`` with components in a
   function library (all monomials of degree ≤ 2 in ``t, x, u`` by default), the symmetry
   condition is linear in the ``3r`` coefficients (:mod:`._prolongation`) and is sampled at the
   data's jets;
3. **spectrum** — the generalised singular values ``‖ℓ[Q_w]‖ / ‖v_w‖`` (condition residual per
   field size, each field component in units of its variable's spread), so the spectrum does not
   depend on how the library is parameterised; the number of symmetries sits at the largest
   multiplicative gap (a ratio, no per-equation threshold);
4. **readable generators** — the null space is rotated to its sparsest basis
   (:mod:`._sparse_basis`), printed as formulas and returned as
   :class:`~symmetrykit.datasets.PointSymmetry` callables, the form of ``data.symmetries``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..datasets._common import check_int
from ._equation import EvolutionEquation, fit_equation
from ._jets import denoise, grid_from
from ._prolongation import COMPONENTS, GeneratorLibrary, determining_columns
from ._sparse_basis import sparse_rotation

__all__ = ["PDEDiscovery", "discover_pde", "pde_symmetries"]

#: Relative singular values below √ε are numerically zero (exact symmetries of the fitted F).
_FLOOR = float(np.sqrt(np.finfo(np.float64).eps))
#: Terms below this fraction of a generator's largest (scaled) term are left out of formulas.
_DISPLAY_TOL = 1e-2
_FORMS = ("weak", "strong")
#: Fewest time rows for the weak form: the time test functions must be resolved.
_MIN_WEAK_TIMES = 13
#: Data whose estimated noise is below this (relative) count as clean, and their equation must
#: explain all but _CLEAN_RESIDUAL of the signal.
_CLEAN = 1e-3
_CLEAN_RESIDUAL = 0.1
#: An identified equation with more terms than this is not a sparse law but a failed fit.
_MAX_EQUATION_TERMS = 12


def _field_scales(u: np.ndarray, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Units of (ξ, τ, φ): the spreads of x, t and u (a field component is divided by them)."""
    return np.array([np.std(x), np.std(t) if t.size > 1 else 1.0, np.std(u)])


class _LibraryField:
    """``(x, t, u) -> (ξ, τ, φ)`` for coefficients ``(3, r)`` over a library."""

    def __init__(self, library: GeneratorLibrary, coefficients: np.ndarray) -> None:
        self.library = library
        self.coefficients = np.asarray(coefficients, dtype=np.float64)
        self._evaluate = library.evaluator()

    def __call__(self, x: Any, t: Any, u: Any):
        values = self._evaluate(t, x, u)  # (r, *shape)
        return tuple(np.tensordot(self.coefficients[c], values, axes=1) for c in range(3))


def _number(value: float) -> str:
    text = f"{value:.3g}"
    return text.replace("-", "−")


def formula(coefficients: np.ndarray, library: GeneratorLibrary,
            significant: np.ndarray) -> str:
    """``t ∂x + ∂u`` style text of the significant terms, grouped by component."""
    pieces = []
    for c, name in enumerate(COMPONENTS):
        terms = [(coefficients[c, k], library.names[k]) for k in range(len(library))
                 if significant[c, k]]
        if not terms:
            continue
        texts = []
        for value, fn in terms:
            magnitude = abs(value)
            number = _number(magnitude)
            if number == "1" and fn != "1":
                number = ""
            body = fn if fn != "1" else ""
            texts.append((value < 0, " ".join(p for p in (number, body) if p) or "1"))
        if len(texts) == 1:
            negative, body = texts[0]
            pieces.append((negative, name if body == "1" else f"{body} {name}"))
        else:
            inner = ("−" if texts[0][0] else "") + texts[0][1]
            for negative, body in texts[1:]:
                inner += f" {'−' if negative else '+'} {body}"
            pieces.append((False, f"({inner}) {name}"))
    if not pieces:
        return "0"
    out = ("−" if pieces[0][0] else "") + pieces[0][1]
    for negative, body in pieces[1:]:
        out += f" {'−' if negative else '+'} {body}"
    return out


def pde_symmetries(coefficients: Any, library: GeneratorLibrary | dict,
                   names: list[str] | None = None) -> tuple:
    """:class:`~symmetrykit.datasets.PointSymmetry` objects from saved coefficients.

    ``coefficients`` has shape ``(k, 3, r)`` (components ξ, τ, φ over the library's ``r``
    functions, physical units), as :attr:`PDEDiscovery.coefficients`; ``library`` is a
    :class:`GeneratorLibrary` or its ``to_dict()``.
    """
    from ..datasets import PointSymmetry

    if isinstance(library, dict):
        library = GeneratorLibrary(**library)
    coefficients = np.asarray(coefficients, dtype=np.float64)
    if coefficients.ndim != 3 or coefficients.shape[1:] != (3, len(library)):
        raise ValueError(f"coefficients must have shape (k, 3, {len(library)}), got "
                         f"{coefficients.shape}")
    names = names or [f"discovered {i + 1}" for i in range(coefficients.shape[0])]
    return tuple(PointSymmetry(name, _LibraryField(library, c))
                 for name, c in zip(names, coefficients, strict=True))


@dataclass(frozen=True, eq=False)
class PDEDiscovery:
    """The symmetry algebra of a PDE found from data, with the evidence for it.

    Attributes
    ----------
    equation
        The identified evolution equation (:class:`EvolutionEquation`; ``.formula()``).
    library
        The generator library (functions of ``t, x, u``).
    singular_values
        Generalised singular values of the symmetry condition, ascending, divided by the
        largest; ``singular_values[:nullity]`` belong to the symmetries.
    nullity
        Number of symmetries found (at the largest gap).
    gap
        ``singular_values[nullity] / singular_values[nullity − 1]`` with values below √ε
        counted as √ε (``nan`` when ``nullity`` is 0).
    coefficients
        Sparse basis of the symmetries, shape ``(nullity, 3, r)``: the coefficients of ``ξ, τ,
        φ`` on the library functions, physical units, each generator scaled so that its
        smallest printed coefficient is ±1.
    formulas
        The generators as text, e.g. ``"t ∂x + ∂u"``.
    symmetries
        The generators as :class:`~symmetrykit.datasets.PointSymmetry` callables
        ``(x, t, u) -> (ξ, τ, φ)``.
    significant
        Boolean mask ``(nullity, 3, r)`` of the terms shown in the formulas.
    x_weight
        Per generator, the share (scaled, 0..1) of its coefficients on functions of ``x``;
        generators with ``x_weight`` near 0 are compatible with a periodic ``x`` domain.
    scales
        The spreads of ``x, t, u`` that field components are measured in.
    noise_level
        Estimated noise standard deviation relative to the data's (0 for clean data).
    details
        Counts, timings and settings (``cpu_seconds``, ``n_points``, ``kept_modes``, …).
    """

    equation: EvolutionEquation
    library: GeneratorLibrary
    singular_values: np.ndarray
    nullity: int
    gap: float
    coefficients: np.ndarray
    formulas: tuple[str, ...]
    symmetries: tuple = field(repr=False)
    significant: np.ndarray = field(repr=False)
    x_weight: np.ndarray = field(repr=False)
    scales: np.ndarray = field(repr=False)
    noise_level: float = 0.0
    details: dict = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        """The equation, the count with its gap, and the generators, one per line."""
        lines = [
            f"equation: {self.equation.formula()}  (relative residual "
            f"{self.equation.relative_residual:.2e}, {self.equation.form} form)",
            f"{self.nullity} symmetr{'y' if self.nullity == 1 else 'ies'} of "
            f"{self.singular_values.size} candidates; gap {self.gap:.3g}; spectrum "
            "(relative, ascending): "
            + ", ".join(f"{v:.2e}" for v in self.singular_values[: self.nullity + 3]) + ", ...",
        ]
        lines += [f"  {i + 1}. {text}" for i, text in enumerate(self.formulas)]
        return "\n".join(lines)

    def periodic_symmetries(self, tol: float = _DISPLAY_TOL) -> tuple:
        """The symmetries whose components do not depend on ``x`` (share below ``tol``).

        Only these map solutions on a periodic ``x`` domain to solutions on the same domain
        (a scaling ``x ∂x`` changes the period), so they are the ones to augment periodic data
        with.
        """
        return tuple(s for s, w in zip(self.symmetries, self.x_weight, strict=True) if w < tol)

    def library_residuals(self, symmetries: Any) -> dict[str, float]:
        """Per symmetry (by name), how well the generator library reproduces its fields.

        The relative least-squares residual of its components, sampled at the stored data
        points and measured in units of the spread of ``x, t, u`` (0 for a field the library
        expresses exactly; ``nan`` for a field that vanishes on the data).
        """
        points = self.details["_points"]
        theta = self.library.evaluator()(points[:, 1], points[:, 0], points[:, 2]).T
        norms = np.linalg.norm(theta, axis=0)
        theta = theta / np.where(norms > 0, norms, 1.0)
        out = {}
        for symmetry in symmetries:
            fields = np.stack(symmetry(points[:, 0], points[:, 1], points[:, 2]), axis=-1)
            fields = fields / self.scales
            size = float(np.linalg.norm(fields))
            if not size > 0:
                out[symmetry.name] = float("nan")
                continue
            coef = np.linalg.lstsq(theta, fields, rcond=None)[0]
            out[symmetry.name] = float(np.linalg.norm(theta @ coef - fields) / size)
        return out

    def in_library(self, symmetries: Any, tol: float = 1e-6) -> tuple:
        """The members of ``symmetries`` that the generator library expresses.

        Those whose :meth:`library_residuals` is below ``tol`` (e.g. the heat equation's
        projective symmetry needs ``x² u`` and is left out at degree 2).
        """
        symmetries = list(symmetries)
        residuals = self.library_residuals(symmetries)
        return tuple(s for s in symmetries if residuals[s.name] < tol)

    def distance(self, symmetries: Any, data: Any = None, *, n_points: int = 4096,
                 random_state: Any = 0) -> float:
        """Grassmann distance ``sqrt(Σ θ_i²)`` between the found span and ``symmetries``.

        Both sets of fields are sampled at points ``(x, t, u)`` of ``data`` (default: the
        points stored from the fit), each component divided by its variable's spread, and
        compared by principal angles (:func:`symmetrykit.metrics.principal_angles`). When the
        dimensions differ, each missing dimension counts as an angle of π/2.
        """
        from ..metrics import principal_angles

        points = self.details.get("_points") if data is None else _sample_points(
            *grid_from(data), n_points, np.random.default_rng(random_state))
        if points is None:
            raise ValueError("give the data to sample the fields on")
        symmetries = list(symmetries)
        if not symmetries or self.nullity == 0:
            return float("nan") if not symmetries and self.nullity == 0 else float(
                np.pi / 2 * np.sqrt(max(len(symmetries), self.nullity)))
        mine = _sampled(self.symmetries, points, self.scales)
        theirs = _sampled(symmetries, points, self.scales)
        angles = principal_angles(mine, theirs, rtol=1e-10)
        missing = abs(self.nullity - len(symmetries)) + (min(self.nullity, len(symmetries))
                                                        - angles.size)
        return float(np.sqrt(np.sum(angles**2) + missing * (np.pi / 2) ** 2))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (the arrays go to ``.npz`` separately)."""
        return {
            "equation": self.equation.formula(),
            "equation_form": self.equation.form,
            "equation_relative_residual": self.equation.relative_residual,
            "nullity": int(self.nullity),
            "gap": float(self.gap),
            "formulas": list(self.formulas),
            "x_weight": [float(w) for w in self.x_weight],
            "library": self.library.to_dict(),
            "library_functions": list(self.library.names),
            "noise_level": float(self.noise_level),
            "scales": [float(s) for s in self.scales],
            **{k: v for k, v in self.details.items() if not k.startswith("_")},
        }


def _sample_points(u: np.ndarray, x: np.ndarray, t: np.ndarray, n: int,
                   rng: np.random.Generator) -> np.ndarray:
    b = rng.integers(u.shape[0], size=n)
    j = rng.integers(u.shape[1], size=n)
    i = rng.integers(u.shape[2], size=n)
    return np.stack([x[i], t[j], u[b, j, i]], axis=-1)


def _sampled(symmetries, points: np.ndarray, scales: np.ndarray) -> np.ndarray:
    rows = []
    for s in symmetries:
        xi, tau, phi = s(points[:, 0], points[:, 1], points[:, 2])
        rows.append(np.concatenate([xi / scales[0], tau / scales[1], phi / scales[2]]))
    return np.array(rows)


def _coefficient_functions(texts: Any, x: np.ndarray, t: np.ndarray) -> list:
    import sympy as sp

    if texts is None:
        texts = ["1", f"(t - {float(np.mean(t))!r})/{float(np.std(t))!r}",
                 f"(x - {float(np.mean(x))!r})/{float(np.std(x))!r}"]
    elif isinstance(texts, str):
        texts = [texts]
    out = []
    ts, xs = sp.symbols("t x")
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"coefficient_functions must be texts in t and x, got {text!r}")
        try:
            expr = sp.sympify(text, locals={"t": ts, "x": xs})
        except (sp.SympifyError, SyntaxError, TypeError) as exc:
            raise ValueError(f"coefficient function {text!r} cannot be read: {exc}") from None
        if expr.free_symbols - {ts, xs}:
            raise ValueError(f"coefficient function {text!r} may use only t and x")
        if sp.diff(expr, xs, 2) != 0:
            raise ValueError(f"coefficient function {text!r} must be at most linear in x")
        fn = sp.lambdify((ts, xs), expr, "numpy")
        out.append((text, fn))
    return out


def discover_pde(
    data: Any,
    x: Any = None,
    t: Any = None,
    *,
    degree: int = 2,
    library: Any = (),
    order: int = 4,
    equation_degree: int = 2,
    equation_form: str = "weak",
    coefficient_functions: Any = None,
    equation_tol: float = 1e-2,
    n_points: int = 20000,
    min_gap: float = 10.0,
    n_symmetries: int | None = None,
    random_state: Any = None,
) -> PDEDiscovery:
    """The Lie point symmetries of the evolution equation behind gridded trajectories.

    Parameters
    ----------
    data
        A PDE data set with ``u`` ``(B, nt, nx)``, ``x`` and ``t`` (e.g.
        :func:`symmetrykit.datasets.pde`), or the array ``u`` with ``x`` and ``t`` given.
        ``x`` must be a uniform periodic grid, ``t`` uniform.
    x, t
        The grids when ``data`` is an array.
    degree
        The generator library: all monomials of degree ``0..degree`` in ``(t, x, u)``.
    library
        Extra generator functions as text in ``t, x, u`` (e.g. ``["exp(t/50)", "exp(-t/50)"]``).
    order, equation_degree
        The equation library: x-derivatives up to ``order``, powers of ``u`` (weak form) or jet
        monomials (strong form) up to ``equation_degree``.
    equation_form
        ``"weak"`` (default; robust to noise) or ``"strong"`` (any jet monomial, e.g. ``u_x²``;
        clean data only). See :func:`~symmetrykit.liederiv._equation.fit_equation`.
    coefficient_functions
        Functions of ``t`` (and at most linearly ``x``) that equation terms may carry, as text;
        default ``1`` and centred, scaled ``t`` and ``x``.
    equation_tol
        A term stays in the equation when dropping it would raise the residual by more than
        this fraction of the signal (in quadrature).
    n_points
        Jet points at which the symmetry condition is sampled (whole x rows are taken).
    min_gap
        The largest gap counts only when it is at least this ratio; else no symmetry is found.
    n_symmetries
        Take this many instead of the gap rule.
    random_state
        Seed or generator for the choice of points and the sparse rotation's restarts.

    Returns
    -------
    PDEDiscovery
    """
    clock_cpu, clock_wall = time.process_time(), time.perf_counter()
    if equation_form not in _FORMS:
        raise ValueError(f"equation_form must be one of {', '.join(_FORMS)}, got "
                         f"{equation_form!r}")
    order = check_int("order", order, 1, 8)
    equation_degree = check_int("equation_degree", equation_degree, 1, 4)
    n_points = check_int("n_points", n_points, 100)
    if isinstance(equation_tol, bool) or not isinstance(equation_tol, (int, float)) or \
            not 0 < equation_tol < 1:
        raise ValueError(f"equation_tol must be a number in (0, 1), got {equation_tol!r}")
    if isinstance(min_gap, bool) or not isinstance(min_gap, (int, float)) or not min_gap > 1:
        raise ValueError(f"min_gap must be a number > 1, got {min_gap!r}")
    u, x, t = grid_from(data, x, t)
    library = GeneratorLibrary(degree, tuple(library) if not isinstance(library, str)
                               else (library,))
    n_columns = 3 * len(library)
    if n_symmetries is not None:
        n_symmetries = check_int("n_symmetries", n_symmetries, 0, n_columns)
    if equation_form == "weak" and t.size < _MIN_WEAK_TIMES:
        raise ValueError(f"t has {t.size} points; the weak form needs at least "
                         f"{_MIN_WEAK_TIMES} time rows (or use equation_form='strong')")
    if x.size < 2 * order + 8:
        raise ValueError(f"x has {x.size} points; derivatives up to order {order} need at "
                         f"least {2 * order + 8}")
    _check_memory(n_points, n_columns, u)
    rng = np.random.default_rng(random_state)
    functions = _coefficient_functions(coefficient_functions, x, t)

    jets = denoise(u, x, t)
    equation = fit_equation(jets, order=order, degree=equation_degree,
                            coefficient_functions=functions, tol=float(equation_tol),
                            max_points=2**17, rng=rng, form=equation_form)
    equation_cpu = time.process_time() - clock_cpu
    if jets.noise_level < _CLEAN and equation.relative_residual > _CLEAN_RESIDUAL:
        raise ValueError(
            f"the identified equation {equation.formula(3)} leaves {equation.relative_residual:.0%}"
            " of the clean data's time evolution unexplained: the equation is outside the library"
            " (raise order= or equation_degree=, add coefficient_functions=) or the data are too "
            "coarse in time"
        )
    if len(equation.terms) > _MAX_EQUATION_TERMS:
        raise ValueError(
            f"no sparse equation explains the data: the fit kept {len(equation.terms)} of "
            f"{equation.n_candidates} terms (relative residual {equation.relative_residual:.2g});"
            " the data may be too coarse, too noisy or not from an evolution equation u_t = F"
        )
    evaluate, max_order = determining_columns(equation, library)
    rows_needed = max(1, -(-n_points // x.size))
    flat = rng.choice(u.shape[0] * u.shape[1], size=min(rows_needed, u.shape[0] * u.shape[1]),
                      replace=False)
    rows = np.stack([flat // u.shape[1], flat % u.shape[1]], axis=-1)
    derivs = jets.derivatives(rows, max_order).reshape(max_order + 1, -1)
    tt = np.repeat(t[rows[:, 1]], x.size)
    xx = np.tile(x, rows.shape[0])
    matrix = evaluate(tt, xx, derivs)
    theta = library.evaluator()(tt, xx, derivs[0]).T
    if not np.all(np.isfinite(matrix)) or not np.all(np.isfinite(theta)):
        raise ValueError("the symmetry condition is not finite on the data (library functions "
                         "overflow); rescale t, x or u")
    scales = _field_scales(u, x, t)
    q_theta, r_theta = np.linalg.qr(theta)
    condition = np.linalg.cond(r_theta)
    if not condition < 1e12:
        raise ValueError(f"the library functions are linearly dependent on the data "
                         f"(condition number {condition:.2e}); remove functions or give data "
                         "that vary more in t, x and u")
    # Generalised SVD: singular values of ‖ℓ[Q_w]‖ / ‖fields_w‖ over the coefficients w.
    r = len(library)
    metric = np.zeros((n_columns, n_columns))
    for c in range(3):
        metric[c * r:(c + 1) * r, c * r:(c + 1) * r] = r_theta / scales[c]
    whitened = np.linalg.solve(metric.T, matrix.T).T
    _, values, vt = np.linalg.svd(whitened, full_matrices=False)
    order_idx = np.argsort(values, kind="stable")
    values = values[order_idx]
    directions = vt[order_idx]
    relative = values / values[-1] if values[-1] > 0 else values
    floored = np.maximum(relative, _FLOOR)
    ratios = floored[1:] / floored[:-1]
    if n_symmetries is not None:
        nullity = n_symmetries
    else:
        best = int(np.argmax(ratios)) if ratios.size else 0
        nullity = best + 1 if ratios.size and ratios[best] >= min_gap else 0
    gap = float(floored[nullity] / floored[nullity - 1]) if 0 < nullity < n_columns else (
        float("inf") if nullity == n_columns else float("nan"))

    # Null space in coefficient space, then its sparsest basis measured on unit-RMS functions.
    null = np.linalg.solve(metric, directions[:nullity].T)  # (3r, nullity)
    function_rms = np.sqrt(np.mean(theta**2, axis=0))
    unit = np.concatenate([function_rms / scales[c] for c in range(3)])
    sparse = (sparse_rotation(unit[:, None] * null, rng) / unit[:, None]) if nullity else null
    coefficients, significant, texts, weights = _readable(sparse, unit, library)
    points = np.stack([xx, tt, derivs[0]], axis=-1)
    sample = points[rng.choice(points.shape[0], size=min(4096, points.shape[0]),
                               replace=False)]
    symmetries = pde_symmetries(coefficients, library, names=list(texts))
    details = {
        "cpu_seconds": time.process_time() - clock_cpu,
        "wall_seconds": time.perf_counter() - clock_wall,
        "equation_cpu_seconds": equation_cpu,
        "n_points": int(matrix.shape[0]),
        "n_candidates": int(n_columns),
        "kept_modes": int(jets.kept_modes),
        "jet_order": int(max_order),
        "library_condition": float(condition),
        "min_gap": float(min_gap),
        "_points": sample,
    }
    return PDEDiscovery(
        equation=equation, library=library, singular_values=relative, nullity=int(nullity),
        gap=gap, coefficients=coefficients, formulas=tuple(texts), symmetries=symmetries,
        significant=significant, x_weight=weights, scales=scales,
        noise_level=float(jets.noise_level), details=details,
    )


def _readable(basis: np.ndarray, unit: np.ndarray, library: GeneratorLibrary):
    """Scaled, signed and ordered generators with their formulas and x-dependence."""
    r = len(library)
    depends_x = np.tile(library.depends_on("x"), 3)
    items = []
    for w in basis.T:
        scaled = np.abs(unit * w)
        significant = scaled >= _DISPLAY_TOL * scaled.max()
        smallest = np.min(np.abs(w[significant]))
        first = int(np.flatnonzero(significant)[0])
        w = w / smallest * np.sign(w[first])
        x_weight = float(np.linalg.norm((unit * w)[depends_x]) / np.linalg.norm(unit * w))
        items.append((int(significant.sum()), first, w, significant, x_weight))
    items.sort(key=lambda item: (item[0], item[1]))
    coefficients = np.array([w.reshape(3, r) for *_, w, _, _ in items]).reshape(-1, 3, r)
    masks = np.array([m.reshape(3, r) for *_, m, _ in items], dtype=bool).reshape(-1, 3, r)
    texts = [formula(c, library, m) for c, m in zip(coefficients, masks, strict=True)]
    weights = np.array([item[4] for item in items])
    return coefficients, masks, texts, weights


def _check_memory(n_points: int, n_columns: int, u: np.ndarray) -> None:
    from .._validation import available_memory, bytes_text

    needed = 8.0 * (n_points * (3 * n_columns + 40) + 2**17 * 80 + 4 * u.size)
    memory = available_memory()
    if memory is not None and needed > memory:
        raise ValueError(
            f"discover_pde needs about {bytes_text(needed)} but {bytes_text(memory)} are "
            "available; lower n_points or degree, or give fewer trajectories"
        )
