"""Identify an evolution equation ``u_t = F(t, x, u, u_x, …)`` from gridded data, sparsely.

``F`` is a linear combination of terms ``g(t, x) · ∂_x^α(u^a u_x^b …)``: coefficient functions
``g`` (``1``, centred ``t`` and ``x`` by default, so a dependence on time or position *can* be
fitted and translations are found by the data, not assumed) times derivatives of monomials. Two
forms of the fit:

* ``"weak"`` (default): terms ``g ∂_x^α(u^p)``, integrated against test functions so that no
  derivative of the data is taken (:mod:`._weak_form`); robust to noise.
* ``"strong"``: terms ``g · u^a u_x^b u_xx^c …`` (any jet monomial, e.g. ``u_x²``), fitted in
  the integral form over two save steps (Simpson's rule) with spectral x-derivatives of the
  (denoised) data; exact on clean data, biased by noise (errors in the regressors).

The terms are chosen by greedy backward elimination on the normal equations:
the term whose removal raises the residual least goes first, and the sparsest model whose
residual exceeds the full model's by at most a fraction ``tol`` — of the signal (in quadrature)
or of the full model's residual, whichever is larger — is kept: a scale-free rule (no
per-equation threshold), lenient enough for noise that dominates the residual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._dictionary import _exponents
from ._jets import PDEJets, simpson_rows

__all__ = ["EvolutionEquation", "fit_equation", "jet_name"]

#: Above this relative residual the fit explains (almost) nothing of the signal.
_MAX_RELATIVE_RESIDUAL = 0.9


def jet_name(order: int) -> str:
    """``u``, ``u_x``, ``u_xx``, … for x-derivative ``order``."""
    return "u" if order == 0 else "u_" + "x" * order


def _monomial_name(exponents: tuple[int, ...]) -> str:
    parts = []
    for k, e in enumerate(exponents):
        if e:
            parts.append(jet_name(k) + ("" if e == 1 else f"^{e}"))
    return " ".join(parts) if parts else "1"


@dataclass(frozen=True)
class EvolutionEquation:
    """A fitted ``u_t = Σ_m c_m g_m(t, x) M_m(u, u_x, …)``.

    Attributes
    ----------
    coefficient_functions
        The expressions ``g`` (text, in ``t`` and ``x``) the terms may carry.
    terms
        ``(g index, α, jet exponents)`` per kept term: ``g · ∂_x^α(u^e0 u_x^e1 …)``.
    coefficients
        The fitted ``c_m`` (physical units).
    order
        Highest x-derivative in the kept terms.
    relative_residual
        ``‖y − Θc‖ / ‖y‖`` of the integral form.
    full_relative_residual
        The same for the model with every candidate term.
    n_candidates
        Number of candidate terms.
    path
        ``(number of terms, relative residual)`` along the backward elimination.
    """

    coefficient_functions: tuple[str, ...]
    terms: tuple[tuple[int, tuple[int, ...]], ...]
    coefficients: np.ndarray
    order: int
    relative_residual: float
    full_relative_residual: float
    n_candidates: int
    path: tuple[tuple[int, float], ...] = field(repr=False, default=())
    form: str = "weak"
    details: dict = field(repr=False, default_factory=dict)

    def term_names(self) -> list[str]:
        names = []
        for g, alpha, exponents in self.terms:
            monomial = _monomial_name(exponents)
            if alpha:
                monomial = ("(" + monomial + ")" if " " in monomial or "^" in monomial
                            else monomial) + "_" + "x" * alpha
            function = self.coefficient_functions[g]
            if function == "1":
                names.append(monomial)
            else:
                names.append(f"({function})" + ("" if monomial == "1" else " " + monomial))
        return names

    def formula(self, digits: int = 4) -> str:
        """``u_t = −1.000 u u_x − 1.000 u_xxx`` style text."""
        if not self.terms:
            return "u_t = 0"
        pieces = []
        for c, name in zip(self.coefficients, self.term_names(), strict=True):
            text = f"{abs(c):.{digits}g}"
            sign = "−" if c < 0 else "+"
            pieces.append((sign, text if name == "1" else f"{text} {name}"))
        head_sign, head = pieces[0]
        out = ("−" if head_sign == "−" else "") + head
        for sign, text in pieces[1:]:
            out += f" {sign} {text}"
        return "u_t = " + out


def _jet_monomials(order: int, degree: int) -> list[tuple[int, ...]]:
    """Exponent tuples over ``u, u_x, …, u_{x^order}`` of total degree 0..degree."""
    return [tuple(int(e) for e in row) for row in _exponents(order + 1, degree, True)]


def _evaluate_terms(derivs: np.ndarray, coefficient_values: np.ndarray,
                    terms: list[tuple[int, tuple[int, ...]]]) -> np.ndarray:
    """Columns ``g(t, x) · M(jet)`` for rows of jets ``derivs`` (order+1, R, nx): (R·nx, P)."""
    n = derivs.shape[1] * derivs.shape[2]
    cache: dict[tuple[int, ...], np.ndarray] = {}
    out = np.empty((n, len(terms)))
    for m, (g, exponents) in enumerate(terms):
        if exponents not in cache:
            value = np.ones(n)
            for k, e in enumerate(exponents):
                if e:
                    value = value * derivs[k].ravel() ** e
            cache[exponents] = value
        out[:, m] = coefficient_values[g].ravel() * cache[exponents]
    return out


def _strong_system(jets: PDEJets, order: int, degree: int, coefficient_functions,
                   max_points: int, rng: np.random.Generator):
    u, t = jets.u, jets.t
    n_traj, nt, nx = u.shape
    rows = simpson_rows(n_traj, nt, max(1, max_points // nx), rng)
    monomials = _jet_monomials(order, degree)
    terms = [(g, e) for g in range(len(coefficient_functions)) for e in monomials]
    x_grid = np.broadcast_to(jets.x, (rows.shape[0], nx))
    design = 0.0
    weights = {-1: 1.0, 0: 4.0, 1: 1.0}
    for shift, weight in weights.items():
        at = rows + np.array([0, shift])
        derivs = jets.derivatives(at, order)
        times = np.broadcast_to(t[at[:, 1]][:, None], (rows.shape[0], nx))
        values = np.stack([np.broadcast_to(np.asarray(fn(times, x_grid), dtype=np.float64),
                                           times.shape) for _, fn in coefficient_functions])
        design = design + weight * _evaluate_terms(derivs, values, terms)
    design *= jets.dt / 3.0
    target = (u[rows[:, 0], rows[:, 1] + 1] - u[rows[:, 0], rows[:, 1] - 1]).ravel()
    return design, target, [(g, 0, e) for g, e in terms], {"n_points": int(target.size)}


def _weak_terms(order: int, degree: int, n_functions: int) -> list[tuple[int, int, tuple]]:
    """``(g, α, (p,))``: g ∂_x^α(u^p) with p = 1..degree, α = 0..order, and the constant."""
    out = []
    for g in range(n_functions):
        out.append((g, 0, (0,)))
        for p in range(1, degree + 1):
            for alpha in range(order + 1):
                out.append((g, alpha, (p,)))
    return out


def fit_equation(
    jets: PDEJets,
    *,
    order: int,
    degree: int,
    coefficient_functions: list[tuple[str, Any]],
    tol: float,
    max_points: int,
    rng: np.random.Generator,
    form: str = "weak",
) -> EvolutionEquation:
    """Fit ``u_t = F`` on ``jets`` (see the module docstring).

    ``coefficient_functions`` are ``(text, callable(t, x) -> array)`` pairs.
    """
    if form == "weak":
        from ._weak_form import weak_system

        terms = _weak_terms(order, degree, len(coefficient_functions))
        design, target, details = weak_system(
            jets.u, jets.x, jets.t, [(g, a, e[0]) for g, a, e in terms],
            coefficient_functions, kept_modes=jets.kept_modes, max_tests=max_points // 8,
            rng=rng)
    else:
        design, target, terms, details = _strong_system(
            jets, order, degree, coefficient_functions, max_points, rng)

    scale = np.linalg.norm(design, axis=0)
    usable = scale > 0
    scale[~usable] = 1.0
    gram = (design / scale).T @ (design / scale)
    moment = (design / scale).T @ target
    signal = float(target @ target)
    if not signal > 0:
        raise ValueError("u does not change in time; no evolution equation can be identified")

    def solve(support: np.ndarray) -> tuple[np.ndarray, float]:
        sub = gram[np.ix_(support, support)]
        coef = np.linalg.lstsq(sub, moment[support], rcond=1e-12)[0]
        rss = max(signal - 2 * coef @ moment[support] + coef @ sub @ coef, 0.0)
        return coef, rss

    support = np.flatnonzero(usable)
    coef, rss_full = solve(support)
    path = [(support.size, rss_full, support, coef)]
    while support.size > 1:
        sub = gram[np.ix_(support, support)]
        inverse_diagonal = np.diag(np.linalg.pinv(sub, rcond=1e-12))
        increase = coef**2 / np.maximum(inverse_diagonal, 1e-300)
        drop = int(np.argmin(increase))
        support = np.delete(support, drop)
        coef, rss = solve(support)
        path.append((support.size, rss, support, coef))
    # A term is worth keeping when dropping it raises the residual by more than tol, relative
    # to the signal (clean data) or to the full model's residual (noisy data), whichever is
    # more lenient.
    allowance = max(rss_full * (1 + tol) ** 2, rss_full + tol**2 * signal)
    chosen = min((p for p in path if p[1] <= allowance), key=lambda p: p[0])
    _, rss, support, coef = chosen
    relative = float(np.sqrt(rss / signal))
    if relative > _MAX_RELATIVE_RESIDUAL:
        raise ValueError(
            f"no evolution equation u_t = F(t, x, u, …, {jet_name(order)}) of degree {degree} "
            f"fits the data (relative residual {relative:.2f} even with every term): the data "
            "may be too coarse in time, too noisy, or the equation outside the library (raise "
            "order= or equation_degree=)"
        )
    physical = coef / scale[support]
    kept = [terms[m] for m in support]
    used_order = max((a + max((k for k, e in enumerate(ex) if e), default=0)
                      for _, a, ex in kept), default=0)
    return EvolutionEquation(
        coefficient_functions=tuple(text for text, _ in coefficient_functions),
        terms=tuple(kept),
        coefficients=physical,
        order=int(used_order),
        relative_residual=relative,
        full_relative_residual=float(np.sqrt(rss_full / signal)),
        n_candidates=len(terms),
        path=tuple((int(n), float(np.sqrt(r / signal))) for n, r, _, _ in path),
        form=form,
        details=details,
    )
