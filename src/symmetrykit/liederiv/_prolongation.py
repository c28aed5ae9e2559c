"""The prolonged Lie derivative of an evolution equation, linear in the generator's coefficients.

A point symmetry ``v = ξ ∂x + τ ∂t + φ ∂u`` of ``u_t = F(t, x, u, u_x, …, u_{x^n})`` is, in
characteristic form, an evolutionary field with ``Q = φ − ξ u_x − τ u_t``; ``v`` is a symmetry
exactly when ``Q`` solves the linearised equation on solutions (Olver, *Applications of Lie
Groups to Differential Equations*, Thm. 2.71 and §5.1):

    ℓ[Q] = D_t Q − Σ_{j=0}^{n} (∂F/∂u_{x^j}) D_x^j Q = 0,

with ``u_t`` replaced by ``F`` and ``D_t = ∂_t + Σ_k (D_x^k F) ∂_{u_{x^k}}`` the total time
derivative on solutions. This is the prolongation formula in a form that needs only spatial
derivatives of the data. With ``ξ, τ, φ`` each a combination of library functions
``θ_k(t, x, u)``, ``ℓ[Q]`` is linear in the ``3r`` coefficients: each coefficient contributes
one column, built here symbolically (sympy) once per fitted equation and evaluated at the data's
jets.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._dictionary import _exponents
from ._equation import EvolutionEquation

__all__ = ["GeneratorLibrary", "determining_columns"]

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
#: The component order of coefficient vectors: (ξ, τ, φ) = (∂x, ∂t, ∂u).
COMPONENTS = ("∂x", "∂t", "∂u")


def _sympy():
    import sympy

    return sympy


def _monomial_text(exponents: tuple[int, int, int]) -> str:
    parts = []
    for name, e in zip(("t", "x", "u"), exponents, strict=True):
        if e == 1:
            parts.append(name)
        elif e > 1:
            parts.append(name + str(e).translate(_SUPERSCRIPTS))
    return " ".join(parts) if parts else "1"


@dataclass(frozen=True)
class GeneratorLibrary:
    """The functions ``θ_k(t, x, u)`` each component of a generator is a combination of.

    Parameters
    ----------
    degree
        All monomials in ``(t, x, u)`` of total degree ``0..degree`` (10 functions for 2).
    extra
        Further functions as text in ``t``, ``x``, ``u`` that sympy can read, e.g.
        ``"exp(t/50)"`` (their derivatives are taken symbolically).
    """

    degree: int = 2
    extra: tuple[str, ...] = ()
    names: tuple[str, ...] = field(init=False, repr=False)
    texts: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.degree, bool) or not isinstance(self.degree, (int, np.integer)) or \
                not 0 <= self.degree <= 6:
            raise ValueError(f"degree must be an integer in 0..6, got {self.degree!r}")
        extra = (self.extra,) if isinstance(self.extra, str) else tuple(self.extra)
        sp = _sympy()
        symbols = sp.symbols("t x u")
        names, texts = [], []
        for row in _exponents(3, int(self.degree), True):
            exponents = tuple(int(e) for e in row)
            names.append(_monomial_text(exponents))
            powers = (f"{v}**{e}" for v, e in zip("txu", exponents, strict=True) if e)
            texts.append("*".join(powers) or "1")
        for text in extra:
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"library functions must be non-empty text, got {text!r}")
            try:
                expr = sp.sympify(text, locals=dict(zip("txu", symbols, strict=True)))
            except (sp.SympifyError, SyntaxError, TypeError) as exc:
                raise ValueError(f"library function {text!r} cannot be read: {exc}") from None
            unknown = sorted(str(s) for s in expr.free_symbols - set(symbols))
            if unknown:
                raise ValueError(f"library function {text!r} uses unknown symbols {unknown}; "
                                 "only t, x and u are allowed")
            names.append(text.strip())
            texts.append(text.strip())
        object.__setattr__(self, "extra", extra)
        object.__setattr__(self, "names", tuple(names))
        object.__setattr__(self, "texts", tuple(texts))

    def __len__(self) -> int:
        return len(self.names)

    @functools.cached_property
    def _expressions(self) -> tuple[Any, ...]:
        sp = _sympy()
        t, x, u = sp.symbols("t x u")
        return tuple(sp.sympify(text, locals={"t": t, "x": x, "u": u}) for text in self.texts)

    def expressions(self) -> list[Any]:
        """The library functions as sympy expressions in ``t, x, u`` (parsed once)."""
        return list(self._expressions)

    def evaluator(self):
        """``f(t, x, u) -> (r, *shape)`` array of every library function (compiled once)."""
        return self._evaluate

    @functools.cached_property
    def _evaluate(self):
        sp = _sympy()
        t, x, u = sp.symbols("t x u")
        functions = [sp.lambdify((t, x, u), e, "numpy") for e in self._expressions]

        def evaluate(tt: np.ndarray, xx: np.ndarray, uu: np.ndarray) -> np.ndarray:
            tt, xx, uu = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64)
                                               for a in (tt, xx, uu)))
            return np.stack([np.broadcast_to(np.asarray(f(tt, xx, uu), dtype=np.float64),
                                             tt.shape) for f in functions])

        return evaluate

    def depends_on(self, variable: str) -> np.ndarray:
        """Which library functions involve ``variable`` (``"t"``, ``"x"`` or ``"u"``)."""
        sp = _sympy()
        symbol = sp.Symbol(variable)
        return np.array([symbol in e.free_symbols for e in self.expressions()])

    def to_dict(self) -> dict[str, Any]:
        return {"degree": int(self.degree), "extra": list(self.extra)}


def _equation_expression(equation: EvolutionEquation, t, x, jets, coefficient_symbols):
    sp = _sympy()
    functions = [sp.sympify(text, locals={"t": t, "x": x})
                 for text in equation.coefficient_functions]
    total = sp.Integer(0)
    for c, (g, alpha, exponents) in zip(coefficient_symbols, equation.terms, strict=True):
        monomial = sp.Integer(1)
        for k, e in enumerate(exponents):
            if e:
                monomial = monomial * jets[k] ** e
        for _ in range(alpha):
            monomial = sp.diff(monomial, x) + sum(
                jets[k + 1] * sp.diff(monomial, jets[k]) for k in range(len(jets) - 1)
                if monomial.has(jets[k]))
        total += c * functions[g] * monomial
    return sp.expand(total)


def determining_columns(equation: EvolutionEquation, library: GeneratorLibrary):
    """Compiled columns of the linear symmetry condition and the jet order they need.

    Returns ``(evaluate, max_order)``: ``evaluate(t, x, jets)`` with ``jets`` of shape
    ``(max_order + 1, N)`` (``u, u_x, …``) gives the ``(N, 3r)`` matrix whose column
    ``c·r + k`` is ``ℓ[Q]`` for the generator with component ``c`` (ξ, τ, φ) equal to ``θ_k``.
    """
    sp = _sympy()
    n = equation.order
    # Jets up to order 2n + 2 can appear before cancellation; name enough of them.
    jets = sp.symbols(" ".join(f"u{k}" for k in range(2 * n + 4)))
    t, x = sp.symbols("t x")
    coefficient_symbols = sp.symbols(f"c0:{len(equation.terms)}") if equation.terms else ()
    if len(equation.terms) == 1:
        coefficient_symbols = (coefficient_symbols[0],) if isinstance(
            coefficient_symbols, (tuple, list)) else (coefficient_symbols,)
    rhs = _equation_expression(equation, t, x, jets, coefficient_symbols)

    def d_x(expr):
        out = sp.diff(expr, x)
        for k in range(len(jets) - 1):
            if expr.has(jets[k]):
                out += jets[k + 1] * sp.diff(expr, jets[k])
        return out

    rhs_x = [rhs]
    for _ in range(n + 1):
        rhs_x.append(sp.expand(d_x(rhs_x[-1])))

    def d_t(expr):
        out = sp.diff(expr, t)
        for k in range(len(jets)):
            if expr.has(jets[k]):
                if k >= len(rhs_x):
                    raise RuntimeError("jet order exceeded while differentiating in time")
                out += rhs_x[k] * sp.diff(expr, jets[k])
        return out

    partials = [sp.diff(rhs, jets[j]) for j in range(n + 1)]
    lib_t, lib_x, lib_u = sp.symbols("t x u")
    thetas = [e.subs({lib_u: jets[0]}) for e in library.expressions()]
    expressions = []
    for component in range(3):
        for theta in thetas:
            if component == 0:
                q = -theta * jets[1]
            elif component == 1:
                q = -theta * rhs
            else:
                q = theta
            total = d_t(q)
            derivative = q
            for j in range(n + 1):
                if j:
                    derivative = d_x(derivative)
                if partials[j] != 0:
                    total -= partials[j] * derivative
            expressions.append(sp.expand(total))
    used = set().union(*(e.free_symbols for e in expressions))
    max_order = max((k for k in range(len(jets)) if jets[k] in used), default=0)
    arguments = (t, x, *jets[: max_order + 1], *coefficient_symbols)
    compiled = sp.lambdify(arguments, expressions, "numpy", cse=True)
    coefficients = [float(c) for c in equation.coefficients]

    def evaluate(tt: np.ndarray, xx: np.ndarray, values: np.ndarray) -> np.ndarray:
        columns = compiled(tt, xx, *values[: max_order + 1], *coefficients)
        return np.stack([np.broadcast_to(np.asarray(c, dtype=np.float64), tt.shape)
                         for c in columns], axis=-1)

    return evaluate, max_order

