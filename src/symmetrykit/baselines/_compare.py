"""Fit SymmetryLens and the baselines on one data set and score them with one metric."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..metrics import (
    exponential_similarity,
    frobenius_cosine,
    generator_similarity,
    shift_power_similarity,
)
from ._liegan import LieGAN
from ._symmetrygan import SymmetryGAN

__all__ = ["ALGEBRA_CONVERSIONS", "DEFAULT_SETTINGS", "METHODS", "MethodResult", "compare", "score",
           "score_matrix"]

METHODS = {"lens": "SymmetryLens", "liegan": "LieGAN", "symgan": "SymmetryGAN-QR"}
# LieGAN with integer coefficients and the norm regulariser (its "discrete-shifts" preset): the
# setting that suits discrete shifts and avoids its collapse to the identity.
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "lens": {},
    "liegan": LieGAN.presets()["discrete-shifts"],
    "symgan": {"parametrization": "qr"},
}
CONVERSIONS = {"lens": "cos(G, G_true)", "liegan": "max_t cos(exp(tL), G_true)",
               "symgan": "max_{s≠0} cos(M, G_true^s)"}
#: The conversions against a true Lie-algebra element ``A`` (a continuous symmetry such as the
#: two-body rotation): LieGAN's generator is compared directly; a SymmetryGAN element ``M`` by its
#: skew part, since ``exp(θA) − exp(θA)ᵀ = 2 sin θ A`` for a rotation generator (``A² = −I`` on
#: each plane), so every element of the group ``exp(θA)``, θ ∉ {0, π}, scores 1.
ALGEBRA_CONVERSIONS = {"liegan": "|cos(L, A_true)|", "symgan": "|cos(M − Mᵀ, A_true)|"}


@dataclass
class MethodResult:
    """One method's fit on one data set: its score (``None`` without a ground truth)."""

    method: str
    label: str
    score: float | None
    conversion: str
    wall_s: float
    cpu_s: float
    steps: int
    setting: dict[str, Any]
    model: Any = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "model"}


def score_matrix(method: str, learned: np.ndarray, truth: np.ndarray, *,
                 n_times: int = 601) -> float:
    """The common metric for a method's learned matrix (LieGAN: its first algebra element).

    ``n_times`` is the number of steps ``t`` LieGAN's ``exp(t L)`` is tried at (fewer for a
    cheap score while training).
    """
    if method == "symgan":
        return shift_power_similarity(learned, truth)[0]
    if method == "liegan":
        scale = np.linalg.norm(learned, 2)
        times = np.linspace(-3, 3, n_times) / scale if scale > 0 else None
        return exponential_similarity(learned, truth, times=times)[0]
    if method == "lens":
        return generator_similarity(learned, truth)
    raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")


def score(method: str, model: Any, truth: np.ndarray, *, truth_kind: str = "element") -> float:
    """The common metric: similarity to the true symmetry with each method's conversion.

    ``truth_kind="element"``: ``truth`` is the minimal generator (a group element,
    :data:`CONVERSIONS`); ``"algebra"``: a Lie-algebra element (:data:`ALGEBRA_CONVERSIONS`).
    """
    learned = model.generators_[0] if method == "liegan" else model.generator_
    if truth_kind == "algebra":
        if method not in ALGEBRA_CONVERSIONS:
            raise ValueError(f"no algebra conversion for {method!r}; known: "
                             f"{', '.join(ALGEBRA_CONVERSIONS)}")
        if method == "symgan":
            learned = learned - learned.T
        return abs(frobenius_cosine(learned, truth))
    if truth_kind != "element":
        raise ValueError(f"truth_kind must be 'element' or 'algebra', got {truth_kind!r}")
    return score_matrix(method, learned, truth)


def compare(X: Any, methods: Any = tuple(METHODS), *, truth: Any = None, budget: float = 300.0,
            settings: dict[str, dict[str, Any]] | None = None, random_state: Any = 0,
            progress: Any = "none") -> list[MethodResult]:
    """Fit each method on ``X`` and score it against ``truth`` (the minimal generator).

    Every method trains for at most ``budget`` seconds of wall time (SymmetryLens: its whole
    fit, warm start included, ``max_time``; it usually converges well before). ``settings``
    override :data:`DEFAULT_SETTINGS` per method.
    """
    from ..lens import SymmetryLens

    methods = list(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    if not budget > 0:
        raise ValueError(f"budget must be positive seconds, got {budget!r}")
    results = []
    for method in methods:
        setting = {**DEFAULT_SETTINGS[method], **(settings or {}).get(method, {})}
        wall0, cpu0 = time.perf_counter(), time.process_time()
        if method == "lens":
            setting.setdefault("max_time", budget)
            model = SymmetryLens(random_state=random_state, progress=progress, **setting)
            model.fit(X)
            steps = int(sum(model.run_steps_))
        else:
            cls = SymmetryGAN if method == "symgan" else LieGAN
            model = cls(n_steps=10**9, max_time=budget, random_state=random_state,
                        progress=progress, **setting).fit(X)
            steps = model.n_steps_
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        value = None if truth is None else score(method, model, np.asarray(truth))
        results.append(MethodResult(method, METHODS[method], value, CONVERSIONS[method], wall,
                                    cpu, int(steps), setting, model))
    return results
