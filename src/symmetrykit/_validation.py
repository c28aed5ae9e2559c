"""The one validation layer every estimator and loader shares.

* :func:`as_samples` — data as a real, finite float64 ``(n_samples, dim)`` array whose scale
  float32 arithmetic can carry; complex, non-numeric, non-finite and out-of-range data are
  refused with one line, constant data are warned about.
* Parameter constraints — each estimator declares ``_parameter_constraints`` (name -> list of
  accepted forms) and :func:`validate_params` checks every parameter against it before any work,
  naming the parameter, what it must be and what it got.
* :func:`check_cost` — an estimate of memory and time made before fitting: refused beyond the
  machine's memory, warned about beyond a few minutes per step.

Only numpy is imported here, so every module can use it cheaply.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CHECKPOINT",
    "CHECKPOINTING",
    "DEVICE",
    "POSITIVE",
    "PROGRESS",
    "RANDOM_STATE",
    "TRAINING",
    "Boolean",
    "CostError",
    "CostEstimate",
    "CostWarning",
    "Integer",
    "InvalidParameterError",
    "Options",
    "Real",
    "Sequence_",
    "Text",
    "Whatever",
    "as_samples",
    "available_memory",
    "bytes_text",
    "check_cost",
    "duration_text",
    "validate_params",
]

# float32 overflows at 3.4e38 and products of two features (covariances, Gram matrices) must
# stay finite; float32's smallest normal number is 1.2e-38, so spreads below 1e-15 lose every
# digit in the centred statistics the estimators compute.
MAX_ABS_VALUE = 1e15
MIN_SPREAD = 1e-15


class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type or outside its range (both a ValueError and a TypeError)."""


class CostError(MemoryError, ValueError):
    """A fit refused before any work because its estimated memory exceeds the machine's."""


class CostWarning(UserWarning):
    """A fit is estimated to take long; the message states the estimate."""


# ------------------------------------------------------------------------------ parameters
class _Constraint:
    description = "?"

    def accepts(self, value: Any) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _bounds_text(low: float | None, high: float | None, closed: str) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>=' if closed in ('left', 'both') else '>'} {low:g}")
    if high is not None:
        parts.append(f"{'<=' if closed in ('right', 'both') else '<'} {high:g}")
    return " and ".join(parts)


def _in_bounds(value: float, low: float | None, high: float | None, closed: str) -> bool:
    if low is not None and (value < low or (value == low and closed not in ("left", "both"))):
        return False
    return not (high is not None
                and (value > high or (value == high and closed not in ("right", "both"))))


@dataclass(frozen=True)
class Real(_Constraint):
    """A finite real number (ints accepted, booleans and strings not) in ``[low, high]``.

    ``closed`` says which ends belong to the range: ``"left"`` (default), ``"right"``,
    ``"both"`` or ``"neither"``.
    """

    low: float | None = None
    high: float | None = None
    closed: str = "left"

    def accepts(self, value: Any) -> bool:
        return (_is_real(value) and math.isfinite(float(value))
                and _in_bounds(float(value), self.low, self.high, self.closed))

    @property
    def description(self) -> str:
        bounds = _bounds_text(self.low, self.high, self.closed)
        return f"a finite number {bounds}".rstrip()


@dataclass(frozen=True)
class Integer(_Constraint):
    """An integer (not a boolean, not a float) in ``[low, high]`` (both ends included)."""

    low: int | None = None
    high: int | None = None

    def accepts(self, value: Any) -> bool:
        return _is_int(value) and _in_bounds(int(value), self.low, self.high, "both")

    @property
    def description(self) -> str:
        return f"an integer {_bounds_text(self.low, self.high, 'both')}".rstrip()


@dataclass(frozen=True)
class Options(_Constraint):
    """One of a fixed set of values (usually strings)."""

    values: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        try:
            return any(type(value) is type(option) and value == option for option in self.values)
        except (TypeError, ValueError):
            return False

    @property
    def description(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class Boolean(_Constraint):
    """``True`` or ``False``."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    description = "True or False"


@dataclass(frozen=True)
class Text(_Constraint):
    """Any string (or path-like, with ``paths=True``)."""

    paths: bool = False

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) or (self.paths and isinstance(value, os.PathLike))

    @property
    def description(self) -> str:
        return "a path" if self.paths else "a string"


@dataclass(frozen=True)
class Sequence_(_Constraint):
    """A non-string sequence (tuple or list) whose items all satisfy ``item``.

    ``min_length`` bounds its length; ``distinct`` refuses repeated items.
    """

    item: _Constraint
    min_length: int = 0
    distinct: bool = False

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
            return False
        if len(value) < self.min_length or not all(self.item.accepts(v) for v in value):
            return False
        return not self.distinct or len(set(map(repr, value))) == len(value)

    @property
    def description(self) -> str:
        size = f"at least {self.min_length} " if self.min_length else ""
        distinct = "distinct " if self.distinct else ""
        return f"a sequence of {size}{distinct}items, each {self.item.description}"


@dataclass(frozen=True)
class Whatever(_Constraint):
    """Anything satisfying ``check`` (a predicate), described by ``description``."""

    check: Callable[[Any], bool]
    description: str = "a supported value"

    def accepts(self, value: Any) -> bool:
        try:
            return bool(self.check(value))
        except Exception:  # a predicate that cannot judge a value refuses it
            return False


def _is_random_generator(value: Any) -> bool:
    # torch stays unimported: its Generator is recognised by its type's module and name.
    kind = type(value)
    return isinstance(value, np.random.Generator) or (
        kind.__name__ == "Generator" and kind.__module__.split(".")[0] == "torch")


def _is_device(value: Any) -> bool:
    kind = type(value)
    if not (isinstance(value, str) or (kind.__name__ == "device"
                                       and kind.__module__.split(".")[0] == "torch")):
        return False
    text = str(value)
    return text in ("cpu", "cuda") or (text.startswith("cuda:") and text[5:].isdigit())


def _is_progress(value: Any) -> bool:
    from .progress import ProgressMeter

    if isinstance(value, str):
        return value.strip().lower() in ("auto", "none", "text", "tqdm")
    return not isinstance(value, type) and isinstance(value, ProgressMeter)


# The forms of the parameters every torch-trained estimator shares.
#: ``random_state`` as :func:`symmetrykit._estimator.torch_generator` reads it.
RANDOM_STATE: list[Any] = [None, Integer(0),
                           Whatever(_is_random_generator, "a numpy or torch random Generator")]
#: ``device``; whether CUDA is present is checked when the fit starts.
DEVICE: list[Any] = [Whatever(_is_device, "'cpu', 'cuda' or 'cuda:N'")]
#: ``progress`` as :func:`symmetrykit.progress.make_progress` reads it.
PROGRESS: list[Any] = [None, Whatever(_is_progress, "one of 'auto', 'none', 'text', 'tqdm' "
                                                    "or a progress meter")]
#: A checkpoint directory, or none.
CHECKPOINT: list[Any] = [None, Text(paths=True)]
#: A finite number > 0: learning rates, flow times, gains, time budgets.
POSITIVE = Real(0, closed="neither")
#: The parameters of every torch-trained estimator, and of those that checkpoint their fit.
TRAINING: dict[str, list[Any]] = {"random_state": RANDOM_STATE, "device": DEVICE,
                                  "progress": PROGRESS}
CHECKPOINTING: dict[str, list[Any]] = {"checkpoint": CHECKPOINT,
                                       "checkpoint_every": [Integer(1)]}


def _shown(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def validate_params(owner: str, params: Mapping[str, Any],
                    constraints: Mapping[str, Sequence[Any]]) -> None:
    """Check every parameter that has constraints; the first failure raises one clear line.

    ``constraints[name]`` is a list of accepted forms: constraint objects, or ``None`` for the
    value ``None``. ``owner`` names the estimator in the message.

    Raises
    ------
    InvalidParameterError
        ``"<owner>: <name> must be <forms>, got <value> (<type>)"``.
    """
    for name, forms in constraints.items():
        if name not in params:
            continue
        value = params[name]
        if any((form is None and value is None)
               or (form is not None and form.accepts(value)) for form in forms):
            continue
        described = [("None" if form is None else form.description) for form in forms]
        raise InvalidParameterError(
            f"{owner}: {name} must be {' or '.join(described)}, got {_shown(value)}")


# ------------------------------------------------------------------------------ data
def as_samples(X: Any, *, name: str = "X", min_samples: int = 1, owner: str | None = None,
               check_scale: bool = True, warn_constant: bool = True) -> np.ndarray:
    """``X`` as a real, finite float64 ``(n_samples, dim)`` array (torch tensors accepted).

    Refused with a :class:`ValueError` naming ``name``: complex values (never silently cut to
    their real part), non-numeric data, the wrong number of dimensions, fewer than
    ``min_samples`` samples or no features, NaN/inf, and (``check_scale``) magnitudes beyond
    ``1e15`` or a spread below ``1e-15``, which float32 training cannot resolve; standardise
    such data first. Constant data (every feature single-valued) get a ``UserWarning``: there
    is no variation, hence no symmetry, to find.
    """
    who = f"{owner}: " if owner else ""
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    try:
        array = np.asarray(X)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{who}{name} is not an array of numbers ({error})") from None
    if array.dtype.kind == "c":
        raise ValueError(f"{who}{name} is complex; symmetrykit takes real data (stack the real "
                         "and imaginary parts as separate features if both matter)")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{who}{name} must hold numbers, got dtype {array.dtype}")
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{who}{name} must have shape (n_samples, dim), got {array.shape}")
    if array.shape[1] < 1:
        raise ValueError(f"{who}{name} has no features (shape {array.shape})")
    if array.shape[0] < min_samples:
        raise ValueError(f"{who}{name} has {array.shape[0]} samples; at least {min_samples} "
                         "are needed")
    finite = np.isfinite(array)
    if not finite.all():
        raise ValueError(f"{who}{name} contains {int(np.sum(~finite))} NaN or inf values")
    if check_scale and array.size:
        largest = float(np.max(np.abs(array)))
        if largest > MAX_ABS_VALUE:
            raise ValueError(f"{who}{name} has values up to {largest:.3g}, beyond what float32 "
                             f"training can carry (|x| <= {MAX_ABS_VALUE:g}); rescale it, e.g. "
                             "standardise each feature")
        spread = float(np.max(np.ptp(array, axis=0))) if array.shape[0] > 1 else 0.0
        if spread == 0.0:
            if warn_constant and array.shape[0] > 1:
                warnings.warn(f"{who}{name} is constant (every feature takes a single value): "
                              "there is no variation, so no symmetry can be found",
                              UserWarning, stacklevel=2)
        elif spread < MIN_SPREAD * max(1.0, largest):
            raise ValueError(f"{who}{name} varies by at most {spread:.3g}, below what float32 "
                             "training resolves; rescale it, e.g. standardise each feature")
    return array


# ------------------------------------------------------------------------------ cost
@dataclass(frozen=True)
class CostEstimate:
    """What a fit is expected to need: peak memory, seconds per step, the number of steps and
    a one-off ``setup_seconds`` (e.g. a closed-form warm start); ``detail`` says where the
    cost comes from and how to shrink it."""

    memory_bytes: float
    seconds_per_step: float
    steps: int
    detail: str = ""
    setup_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        """Setup and every step."""
        return self.setup_seconds + self.seconds_per_step * self.steps

    def describe(self) -> str:
        text = (f"about {bytes_text(self.memory_bytes)} of memory and "
                f"{duration_text(self.seconds_per_step)} per step "
                f"({duration_text(self.total_seconds)} in all for {self.steps} steps)")
        return f"{text} [{self.detail}]" if self.detail else text


def bytes_text(n: float) -> str:
    """A byte count for people: ``"512 B"``, ``"1.36 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"  # pragma: no cover - the loop returns first


def duration_text(seconds: float) -> str:
    """A duration for people: seconds, minutes, hours or days, three digits."""
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    if seconds < 172800:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} days"


def available_memory() -> float | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), else total."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


# Beyond these a fit is "long" and warned about, with its estimate: a step of two minutes,
# or a whole fit (setup included) of an hour.
SLOW_STEP_SECONDS = 120.0
SLOW_FIT_SECONDS = 3600.0


def check_cost(owner: str, estimate: CostEstimate, *, memory: float | None = None,
               slow_step_seconds: float = SLOW_STEP_SECONDS,
               slow_fit_seconds: float = SLOW_FIT_SECONDS) -> None:
    """Refuse (:class:`CostError`) a fit whose memory estimate exceeds ``memory`` (default:
    what is available); warn (:class:`CostWarning`) when a step is estimated beyond
    ``slow_step_seconds`` or the whole fit beyond ``slow_fit_seconds``."""
    memory = available_memory() if memory is None else memory
    if memory is not None and estimate.memory_bytes > memory:
        raise CostError(f"{owner}: this fit needs more memory than the {bytes_text(memory)} "
                        f"available: {estimate.describe()}; use fewer features, a smaller "
                        "batch_size or a larger machine")
    if (estimate.seconds_per_step > slow_step_seconds
            or estimate.total_seconds > slow_fit_seconds):
        warnings.warn(f"{owner}: this fit is estimated to need {estimate.describe()}",
                      CostWarning, stacklevel=3)
