"""Public testing helpers: check that a map respects a group action; interrupt a fit.

>>> import numpy as np
>>> from symmetrykit import lie, testing
>>> rotation = lie.so(2).exp([0.3])
>>> testing.assert_equivariant(lambda x: 2.0 * x, np.ones((4, 2)), rotation)
>>> testing.assert_invariant(lambda x: (x ** 2).sum(-1), np.ones((4, 2)), rotation)

For a fitted SymmetryLens, :func:`assert_lens_equivariant` checks that the group action on samples
becomes a shift of the representation's components.

For operators on fields (neural operators, time-steppers) and Lie point symmetries
``ξ ∂x + τ ∂t + φ ∂u``, :func:`assert_operator_symmetric` checks that the Lie derivative
``L_V F`` vanishes relative to the operator's output.

A map ``f`` is *equivariant* under a group element acting as ``g_in`` on inputs and ``g_out`` on
outputs when ``f(g_in · x) = g_out · f(x)`` for every sample ``x``; *invariant* when ``g_out`` is
the identity. Samples are rows, so ``g · x`` is ``x @ g.T``. Both numpy arrays and torch tensors
work (the map is called with what it is given), and several group elements can be checked at once.

:class:`InterruptAfter` is a progress meter that stops a fit after a given number of steps, a
stand-in for ``kill`` when testing that a checkpointed fit resumes bit-identically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["FitInterrupted", "InterruptAfter", "assert_equivariant", "assert_invariant",
           "assert_lens_equivariant", "assert_operator_symmetric", "equivariance_error"]


def _as_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _elements(group: Any) -> list[np.ndarray]:
    array = _as_numpy(group)
    if array.ndim == 2:
        return [array]
    if array.ndim == 3:
        return list(array)
    raise ValueError(f"group elements must be one (d, d) matrix or a stack (k, d, d), "
                     f"got shape {array.shape}")


def _act(g: np.ndarray, x: Any) -> Any:
    """``x @ g.T`` in x's own array library and dtype."""
    if hasattr(x, "detach"):
        import torch

        return x @ torch.as_tensor(g, dtype=x.dtype, device=x.device).T
    return np.asarray(x) @ g.T


def equivariance_error(
    f: Callable[[Any], Any],
    x: Any,
    g_in: Any,
    g_out: Any = None,
    *,
    compare: Any = None,
) -> float:
    """The largest ``|f(g_in · x) − g_out · f(x)|`` over the samples and the group elements.

    Parameters
    ----------
    f
        The map, called on arrays of samples ``(n, d_in)`` (numpy or torch, as ``x``).
    x
        Samples, shape ``(n, d_in)``.
    g_in
        One group element ``(d_in, d_in)`` or a stack ``(k, d_in, d_in)``.
    g_out
        The action on outputs: ``None`` for the same matrices as ``g_in``, the string
        ``"identity"`` for invariance, or matrices ``(d_out, d_out)`` / ``(k, d_out, d_out)``
        matching ``g_in``.
    compare
        Optional index (a slice, a boolean mask or integer indices) of the output components
        that are compared, e.g. away from the edges where an action is only approximately
        equivariant.
    """
    inputs = _elements(g_in)
    if g_out is None:
        outputs = inputs
    elif isinstance(g_out, str):
        if g_out != "identity":
            raise ValueError(f"g_out must be None, 'identity' or matrices, got {g_out!r}")
        outputs = [None] * len(inputs)
    else:
        outputs = _elements(g_out)
        if len(outputs) != len(inputs):
            raise ValueError(f"got {len(inputs)} input group elements but {len(outputs)} "
                             "output ones")
    reference = f(x)
    worst = 0.0
    for g, h in zip(inputs, outputs, strict=True):
        moved = _as_numpy(f(_act(g, x)))
        expected = _as_numpy(reference if h is None else _act(h, reference))
        if moved.shape != expected.shape:
            raise ValueError(f"f(g·x) has shape {moved.shape} but g·f(x) has {expected.shape}")
        if compare is not None:
            moved, expected = moved[..., compare], expected[..., compare]
        worst = max(worst, float(np.max(np.abs(moved - expected), initial=0.0)))
    return worst


def assert_equivariant(
    f: Callable[[Any], Any],
    x: Any,
    g_in: Any,
    g_out: Any = None,
    *,
    atol: float = 1e-10,
    compare: Any = None,
) -> None:
    """Raise ``AssertionError`` unless ``f(g_in · x) = g_out · f(x)`` within ``atol``.

    See :func:`equivariance_error` for the arguments.
    """
    error = equivariance_error(f, x, g_in, g_out, compare=compare)
    if not error <= atol:
        raise AssertionError(f"not equivariant: max |f(g·x) − g·f(x)| = {error:.3g} > "
                             f"atol {atol:.3g}")


def assert_invariant(
    f: Callable[[Any], Any],
    x: Any,
    g_in: Any,
    *,
    atol: float = 1e-10,
    compare: Sequence[int] | slice | None = None,
) -> None:
    """Raise ``AssertionError`` unless ``f(g_in · x) = f(x)`` within ``atol``."""
    assert_equivariant(f, x, g_in, "identity", atol=atol, compare=compare)


def assert_lens_equivariant(lens: Any, x: Any, action: Any, *, rtol: float = 0.05,
                            edge: int | None = None) -> Any:
    """Raise ``AssertionError`` unless a fitted lens turns ``action`` into a component shift.

    Checks ``Φ(g x) ≈ shift(Φ x)`` away from the edges within relative error ``rtol`` (Efe &
    Ozakin 2025, Appendix B), and that the opposite shift does *not* fit (error above
    ``2 rtol``), so that smooth outputs cannot pass by accident. Returns the
    :class:`symmetrykit.lens.EquivarianceCheck`. See
    :func:`symmetrykit.lens.representation_equivariance` for the arguments.
    """
    from .lens._equivariance import representation_equivariance

    check = representation_equivariance(lens, x, action, edge=edge)
    if not check.relative_error <= rtol:
        raise AssertionError(f"the lens is not equivariant: {check} > rtol {rtol:g}")
    if not check.other_direction_error > 2 * rtol:
        raise AssertionError(f"both shift directions fit ({check}): the representation is too "
                             "smooth for the check to mean anything")
    return check


def assert_operator_symmetric(
    operator: Callable[[Any], Any],
    u: Any,
    symmetries: Sequence[Any],
    grid: Any,
    *,
    rtol: float = 1e-10,
) -> None:
    """Raise ``AssertionError`` unless ``‖L_V F(u)‖ ≤ rtol ‖F(u)‖`` (RMS) for every candidate.

    ``operator`` maps input windows ``u`` ``(B, n_in, nx)`` on the
    :class:`~symmetrykit.liederiv.FieldGrid` ``grid`` to ``(B, n_out, nx)``; ``symmetries`` are
    point symmetries (:func:`symmetrykit.liederiv.operator_lie_derivative`). The message names
    each candidate that fails with its relative Lie derivative.
    """
    import torch

    from .liederiv import GridAction, operator_lie_derivative

    dtype = u.dtype if isinstance(u, torch.Tensor) else torch.float64
    action = GridAction(symmetries, grid, dtype=dtype)
    with torch.no_grad():
        lie, output = operator_lie_derivative(operator, u, action, return_output=True)
    size = float(output.pow(2).mean().sqrt())
    relative = (lie.pow(2).mean(dim=(1, 2, 3)).sqrt() / max(size, 1e-300)).tolist()
    failing = [f"{name}: {value:.3g}" for name, value in zip(action.names, relative, strict=True)
               if not value <= rtol]
    if failing:
        raise AssertionError(f"not symmetric (‖L F‖ / ‖F‖ > rtol {rtol:.3g}): "
                             + ", ".join(failing))


class FitInterrupted(Exception):
    """Raised by :class:`InterruptAfter` in the middle of a fit."""


class InterruptAfter:
    """A progress meter that raises :class:`FitInterrupted` once ``after`` steps are done.

    Pass it as an estimator's ``progress=`` to cut a fit off where a ``kill`` could: the
    checkpoint written so far is what a resumed fit starts from.
    """

    def __init__(self, after: int) -> None:
        self.after, self.done = int(after), 0

    def start(self, total: int, description: str = "") -> None:
        """Nothing to show."""

    def update(self, n: int = 1, **metrics: float) -> None:
        """Count ``n`` steps; interrupt when ``after`` are done."""
        self.done += n
        if self.done >= self.after:
            raise FitInterrupted(f"interrupted after {self.done} steps")

    def close(self) -> None:
        """Nothing to close."""
