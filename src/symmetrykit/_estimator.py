"""The estimator contract every symmetrykit method follows.

:class:`SymmetryEstimator` is a scikit-learn ``BaseEstimator`` (``get_params``/``set_params``,
``clone``, a ``__repr__`` that lists the parameters that differ from the defaults) plus the
plumbing that every method's training loop needs, written once:

* :func:`torch_generator` — the one meaning of ``random_state`` in symmetrykit: ``None`` draws
  fresh entropy, a non-negative integer seeds a private ``torch.Generator`` with that integer,
  a ``numpy.random.Generator`` draws the seed from itself. Global RNGs are never touched.
* :meth:`SymmetryEstimator._torch_device` — ``device`` checked once, with one message.
* :meth:`SymmetryEstimator._progress_meter` — a started meter that is always closed.
* :meth:`SymmetryEstimator._checkpoint_store` — the atomic, resumable checkpoint of a fit.
* :meth:`SymmetryEstimator._fit_clock` — ``fit_time_ = {"wall_s": ..., "cpu_s": ...}``.
* :meth:`SymmetryEstimator._validate_params` — every parameter checked against the class's
  ``_parameter_constraints`` (see :mod:`symmetrykit._validation`) before any work.
* :meth:`SymmetryEstimator._check_cost` — memory and time estimated from the data's shape
  (``_estimate_cost``) before fitting: refused beyond the machine's memory, warned when slow.
* :meth:`SymmetryEstimator._loss_guard` — a non-finite or exploding loss stops the fit with an
  error naming the step and the likely fix.
* :meth:`SymmetryEstimator.save` and :func:`symmetrykit.load` — one run-directory format for
  every estimator (see :mod:`symmetrykit._persistence`).
* :meth:`SymmetryEstimator.preset` — named, verified configurations shared by the Python API,
  the command line, sweeps and benchmarks.

Subclasses set their fitted state in trailing-underscore attributes. Saving is generic: numeric
arrays go to ``arrays.npz``, JSON values to ``config.json``, ``history_`` to ``history.*`` arrays
and torch modules to their state dicts (rebuilt by :meth:`SymmetryEstimator._build_module`).
Attributes that are recomputed after loading are listed in ``_derived_attributes``; anything
else a subclass needs goes through :meth:`SymmetryEstimator._save_extra` /
:meth:`SymmetryEstimator._load_extra`.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["SymmetryEstimator", "register_estimator", "registered_estimators", "resolve_device",
           "torch_generator"]

# Estimator name -> class, filled when a subclass is defined (see __init_subclass__).
_REGISTRY: dict[str, type[SymmetryEstimator]] = {}


def registered_estimators() -> dict[str, type[SymmetryEstimator]]:
    """The estimator classes defined so far, by name (importing a method package adds its own)."""
    return dict(_REGISTRY)


def _seed_from(random_state: Any) -> int:
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if random_state is None:
        return int(np.random.SeedSequence().entropy % (2**63 - 1))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}")
        return int(random_state)
    raise ValueError("random_state must be None, a non-negative int or a numpy Generator, "
                     f"got {type(random_state).__name__}")


def torch_generator(random_state: Any = None) -> Any:
    """A private CPU ``torch.Generator`` for ``random_state`` (the one meaning in symmetrykit).

    ``None`` seeds from fresh OS entropy, a non-negative integer seeds with that integer, a
    ``numpy.random.Generator`` draws a seed from itself (advancing it), and a
    ``torch.Generator`` is returned as it is. No global random state is read or changed.
    """
    import torch

    if isinstance(random_state, torch.Generator):
        return random_state
    generator = torch.Generator(device="cpu")
    generator.manual_seed(_seed_from(random_state))
    return generator


def resolve_device(device: Any) -> Any:
    """``torch.device(device)`` for ``"cpu"``, ``"cuda"`` or ``"cuda:N"``, checked once."""
    import torch

    text = str(device)
    if text != "cpu" and text != "cuda" and not text.startswith("cuda:"):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if text.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={text!r} requested but CUDA is not available")
    return torch.device(text)


def _is_json_value(value: Any) -> bool:
    if value is None or isinstance(value, (bool, str)):
        return True
    if isinstance(value, (int, np.integer)):
        return True
    if isinstance(value, (float, np.floating)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_json_value(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json_value(v) for k, v in value.items())
    return False


class SymmetryEstimator(BaseEstimator):
    """Base class of every symmetrykit estimator (``fit -> self``, ``save``, ``load``, presets).

    Subclasses keep ``__init__`` to storing their parameters (scikit-learn's rule), implement
    ``fit``, and may declare:

    ``_fitted_marker``
        The attribute whose presence means "fitted" (default ``"history_"``).
    ``_derived_attributes``
        Fitted attributes that are not saved because :meth:`_after_load` rebuilds them.
    ``_presets``
        ``{name: {parameter: value}}`` — configurations verified by a benchmark.
    ``_checkpoint_kind``
        The kind recorded in checkpoint directories (default ``"<name>-checkpoint"``).
    ``_parameter_constraints``
        ``{parameter: [accepted forms]}`` for :func:`symmetrykit._validation.validate_params`;
        every constructor parameter has an entry (a contract test checks it).
    """

    _fitted_marker: ClassVar[str] = "history_"
    _derived_attributes: ClassVar[tuple[str, ...]] = ()
    _presets: ClassVar[dict[str, dict[str, Any]]] = {}
    _checkpoint_kind: ClassVar[str | None] = None
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}
    # The estimator's name in saved runs; defaults to the class name.
    _estimator_name: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A base class that is no estimator of its own sets ``_abstract = True`` in its body.
        if not cls.__name__.startswith("_") and not cls.__dict__.get("_abstract", False):
            name = cls.__dict__.get("_estimator_name") or cls.__name__
            _REGISTRY[name] = cls

    # ---------------------------------------------------------------- parameters
    def _store_params(self, values: Mapping[str, Any]) -> None:
        """Store every constructor parameter from ``values`` (the caller's ``locals()``).

        ``__init__`` of a subclass is ``self._store_params(locals())``: parameters are kept
        exactly as given, nothing is validated or computed (scikit-learn's rule), and adding a
        parameter means adding it to the signature only.
        """
        for name in self._get_param_names():
            setattr(self, name, values[name])

    # ---------------------------------------------------------------- presets
    @classmethod
    def preset(cls, name: str, **overrides: Any) -> SymmetryEstimator:
        """A new estimator with the named configuration (``presets()`` lists them).

        Keyword arguments override single parameters of the preset.
        """
        if name not in cls._presets:
            known = ", ".join(sorted(cls._presets)) or "none"
            raise ValueError(f"unknown {cls.__name__} preset {name!r}; known: {known}")
        return cls(**{**cls._presets[name], **overrides})

    @classmethod
    def presets(cls) -> dict[str, dict[str, Any]]:
        """The named configurations of this estimator, ``{name: {parameter: value}}``."""
        return {name: dict(values) for name, values in cls._presets.items()}

    # ---------------------------------------------------------------- shared fit plumbing
    @classmethod
    def _name(cls) -> str:
        return cls._estimator_name or cls.__name__

    def _torch_generator(self) -> Any:
        """The fit's private torch generator, from ``random_state``."""
        return torch_generator(getattr(self, "random_state", None))

    def _torch_device(self) -> Any:
        return resolve_device(getattr(self, "device", "cpu"))

    @contextlib.contextmanager
    def _progress_meter(self, total: int, description: str | None = None) -> Iterator[Any]:
        """A started progress meter for ``total`` steps, closed however the block ends."""
        from .progress import make_progress

        meter = make_progress(getattr(self, "progress", None))
        meter.start(int(total), description or self._name())
        try:
            yield meter
        finally:
            meter.close()

    @contextlib.contextmanager
    def _fit_clock(self) -> Iterator[dict[str, float]]:
        """Times the block; on success sets ``fit_time_ = {"wall_s", "cpu_s"}`` (and extras).

        The yielded dict may receive more entries (e.g. ``monitor_s``) that end up in
        ``fit_time_`` too.
        """
        extra: dict[str, float] = {}
        wall0, cpu0 = time.perf_counter(), time.process_time()
        yield extra
        self.fit_time_ = {"wall_s": time.perf_counter() - wall0,
                          "cpu_s": time.process_time() - cpu0, **extra}

    def _checkpoint_params(self) -> dict[str, Any]:
        """The parameters a checkpoint must match to be resumed (override to drop some)."""
        return self.get_params(deep=False)

    def _checkpoint_store(self, data: Any) -> Any:
        """The checkpoint of this fit on ``data`` (a ``Checkpoint``), or ``None`` if not asked.

        ``data`` is fingerprinted so that a checkpoint is never resumed on other data.
        """
        path = getattr(self, "checkpoint", None)
        if path is None:
            return None
        from ._checkpoint import Checkpoint, data_fingerprint

        kind = self._checkpoint_kind or f"{self._name().lower()}-checkpoint"
        return Checkpoint(path, self._checkpoint_params(), data_fingerprint(np.asarray(data)),
                          kind=kind, label=self._name())

    def _validate_params(self) -> None:
        """Check every parameter against ``_parameter_constraints`` (one line naming it)."""
        from ._validation import validate_params

        validate_params(self._name(), self.get_params(deep=False), self._parameter_constraints)

    def _estimate_cost(self, n_samples: int, dim: int) -> Any:
        """A :class:`~symmetrykit._validation.CostEstimate` of fitting ``(n_samples, dim)``
        data, or ``None`` when the cost is small whatever the shape (the default)."""
        return None

    def _check_cost(self, n_samples: int, dim: int) -> None:
        """Refuse a fit beyond the machine's memory, warn about a slow one (see
        :func:`symmetrykit._validation.check_cost`); cheap, run before any heavy work."""
        estimate = self._estimate_cost(n_samples, dim)
        if estimate is not None:
            from ._validation import check_cost

            check_cost(self._name(), estimate)

    def _check_finite_loss(self, loss: Any, step: int) -> float:
        """``float(loss)``; raises ``FloatingPointError`` naming the step if it is not finite
        (a :class:`LossGuard` without the explosion check, for one-off values)."""
        return LossGuard(self._name(), factor=math.inf,
                         fix="lower the learning rate or check the data for extreme values"
                         )(loss, step)

    def _loss_guard(self, *, factor: float = 1e6, fix: str = "lower the learning rate") -> Any:
        """A :class:`LossGuard` for this fit: ``guard(loss, step)`` returns ``float(loss)``."""
        return LossGuard(self._name(), factor=factor, fix=fix)

    def _is_fitted(self) -> bool:
        return hasattr(self, self._fitted_marker)

    def __getattr__(self, name: str) -> Any:
        # Only reached when the normal look-up fails. A fitted attribute asked for before fit
        # gets the same clear error as any other use of an unfitted estimator; NotFittedError
        # is an AttributeError (and a ValueError), so hasattr() and getattr(x, n, default) work.
        if (name.endswith("_") and not name.startswith("_")
                and self._fitted_marker not in self.__dict__):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"this {self._name()} is not fitted yet; call fit(...) first "
                                 f"(it has no {name!r})")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _check_is_fitted(self) -> None:
        if not self._is_fitted():
            raise ValueError(f"this {self._name()} is not fitted yet; call fit(...) first")

    # ---------------------------------------------------------------- persistence hooks
    def _module_config(self, name: str, module: Any) -> dict[str, Any]:
        """JSON description of the fitted torch module ``name`` (default ``module.config()``)."""
        config = getattr(module, "config", None)
        return dict(config()) if callable(config) else {}

    def _build_module(self, name: str, config: Mapping[str, Any]) -> Any:
        """Rebuild an empty fitted module ``name`` from its config, before its state is loaded."""
        raise NotImplementedError(
            f"{type(self).__name__} saves the torch module {name!r} but does not rebuild it "
            "(implement _build_module)")

    def _save_extra(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Extra ``(json, arrays)`` state a subclass saves itself (default: none)."""
        return {}, {}

    def _load_extra(self, info: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Restore what :meth:`_save_extra` wrote."""

    def _custom_attributes(self) -> tuple[str, ...]:
        """Fitted attributes handled by :meth:`_save_extra` (skipped by the generic saver)."""
        return ()

    def _after_load(self) -> None:
        """Rebuild the ``_derived_attributes`` after the saved state was restored."""

    # ---------------------------------------------------------------- save / load
    def save(self, path: Any, *, overwrite: bool = False, metrics: Mapping | None = None) -> Any:
        """Write the fitted estimator to the run directory ``path``; returns its path.

        Layout: ``config.json`` (estimator name, format version, parameters, fitted JSON
        values), ``arrays.npz`` (fitted arrays, history, module states), ``metrics.json``
        (``metrics`` plus ``fit_time``). Nothing is pickled. ``symmetrykit.load(path)`` (or
        ``type(self).load(path)``) reads it back.
        """
        from ._persistence import save_estimator

        return save_estimator(self, path, overwrite=overwrite, metrics=metrics)

    @classmethod
    def load(cls, path: Any) -> SymmetryEstimator:
        """Read an estimator saved by :meth:`save`; refuses a run of another estimator."""
        from ._persistence import load

        estimator = load(path)
        if not isinstance(estimator, cls):
            raise ValueError(f"{path} holds a saved {type(estimator).__name__}, "
                             f"not a {cls.__name__}")
        return estimator

    @classmethod
    def _read_legacy(cls, path: Any, config: Mapping[str, Any] | None) -> SymmetryEstimator:
        """Read a run written by symmetrykit 0.1 (subclasses with an old format override)."""
        raise ValueError(f"{path}: no reader for this old {cls.__name__} format")


class LossGuard:
    """Stops a training loop whose loss is non-finite or has exploded, naming the step.

    The first finite loss is the reference; a later loss whose magnitude exceeds ``factor``
    times ``max(1, |reference|)`` counts as divergence. Both raise ``FloatingPointError`` with
    the step and ``fix``; checkpoints written before that step stay as they were.
    """

    def __init__(self, owner: str, *, factor: float = 1e6, fix: str = "lower the learning rate"):
        self.owner, self.factor, self.fix = owner, float(factor), fix
        self.reference: float | None = None

    def __call__(self, loss: Any, step: int, what: str = "loss") -> float:
        value = float(loss.detach()) if hasattr(loss, "detach") else float(loss)
        if not math.isfinite(value):
            raise FloatingPointError(f"{self.owner}: the {what} became {value} at step {step}; "
                                     f"{self.fix}")
        if self.reference is None:
            self.reference = value
        elif abs(value) > self.factor * max(1.0, abs(self.reference)):
            raise FloatingPointError(
                f"{self.owner}: the {what} diverged at step {step} ({value:.3g}, against "
                f"{self.reference:.3g} at the start); {self.fix}")
        return value


def register_estimator(cls: type, name: str | None = None) -> type:
    """Make ``symmetrykit.load`` know ``cls`` under ``name`` (for classes outside the base).

    Subclasses of :class:`SymmetryEstimator` register themselves; this is for readers of old
    formats such as liederiv's ``DictionaryModel``. ``cls`` must have a ``_read_legacy``
    classmethod.
    """
    _REGISTRY[name or cls.__name__] = cls
    return cls
