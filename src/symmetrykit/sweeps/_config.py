"""Sweep configurations: what to run (method, data sets, seeds, design), read from TOML or a dict.

A configuration file looks like this::

    name = "lens-lr"                  # optional, a label for the results
    method = "symmetrylens"           # see symmetrykit.sweeps.METHODS
    seeds = [0, 1, 2]
    score = "cos"                     # the metric summaries and Morris analyses use

    [[data]]                          # one table per data set (or: data = ["name", ...])
    name = "gaussian-translation"
    dim = 7
    n_samples = 2000

    [fixed]                           # estimator parameters shared by every run
    n_steps = 300

    [design]                          # grid | random | morris
    kind = "grid"
    [design.parameters]
    model_lr = [1e-3, 1e-2]
    "data.noise" = [0.0, 0.05]        # a "data." prefix sets a data-set option

Design kinds and their ``[design]`` keys:

``grid``
    ``parameters``: name -> list of values; every combination is run.
``random``
    ``n_points`` and ``parameters``: name -> ``{low, high, log = false}`` (uniform, or
    log-uniform) or ``{choices = [...]}``; ``random_state`` seeds the draw (default 0).
``morris``
    Morris elementary effects (SALib): ``trajectories`` (N), ``levels`` (default 4) and
    ``parameters``: name -> ``[low, high]``; ``random_state`` seeds the trajectories.
    ``N * (k + 1)`` points for ``k`` parameters.
``none``
    One point with no varied parameter (seeds and data sets only).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DataSpec", "Design", "SweepConfig", "load_config"]

DATA_PREFIX = "data."
_DESIGN_KINDS = ("grid", "random", "morris", "none")
_TOP_LEVEL_KEYS = {"name", "method", "seeds", "score", "data", "fixed", "design",
                   "threads_per_run", "save_runs"}
_DESIGN_KEYS = {
    "grid": {"kind", "parameters"},
    "random": {"kind", "parameters", "n_points", "random_state"},
    "morris": {"kind", "parameters", "trajectories", "levels", "random_state"},
    "none": {"kind"},
}


def _fail(message: str) -> None:
    raise ValueError(f"sweep config: {message}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class DataSpec:
    """A data set by name plus the options its generator takes (``dim``, ``n_samples``, ...)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return f"{self.name}[{extra}]" if extra else self.name


@dataclass(frozen=True)
class Design:
    """How the varied parameters are chosen; see the module docstring."""

    kind: str = "none"
    parameters: dict[str, Any] = field(default_factory=dict)
    n_points: int | None = None
    trajectories: int | None = None
    levels: int = 4
    random_state: int = 0

    @property
    def names(self) -> list[str]:
        return list(self.parameters)


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: one run per (design point, data set, seed).

    Build one with :func:`load_config` (from a TOML file or a dict) rather than by hand: that
    checks every name against the method's estimator and the data sets.
    """

    method: str
    data: tuple[DataSpec, ...]
    seeds: tuple[int, ...] = (0,)
    fixed: dict[str, Any] = field(default_factory=dict)
    design: Design = field(default_factory=Design)
    score: str = "cos"
    name: str = "sweep"
    threads_per_run: int = 1
    save_runs: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form (TOML/JSON-compatible); ``load_config`` reads it back."""
        design = {"kind": self.design.kind}
        if self.design.kind != "none":
            design["parameters"] = copy.deepcopy(self.design.parameters)
        if self.design.kind == "random":
            design.update(n_points=self.design.n_points, random_state=self.design.random_state)
        if self.design.kind == "morris":
            design.update(trajectories=self.design.trajectories, levels=self.design.levels,
                          random_state=self.design.random_state)
        return {
            "name": self.name,
            "method": self.method,
            "seeds": list(self.seeds),
            "score": self.score,
            "threads_per_run": self.threads_per_run,
            "save_runs": self.save_runs,
            "data": [{"name": d.name, **d.options} for d in self.data],
            "fixed": copy.deepcopy(self.fixed),
            "design": design,
        }

    def fingerprint(self) -> str:
        """A hash of everything that decides which runs exist and what they compute."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise FileNotFoundError(f"sweep config {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"sweep config {path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"sweep config {path} cannot be read: {exc}") from None


def _parse_data(raw: Any) -> tuple[DataSpec, ...]:
    if isinstance(raw, (str, Mapping)):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        _fail("'data' must name at least one data set (a string, a list, or [[data]] tables)")
    specs = []
    for entry in raw:
        if isinstance(entry, str):
            specs.append(DataSpec(entry))
        elif isinstance(entry, Mapping):
            options = dict(entry)
            name = options.pop("name", None)
            if not isinstance(name, str) or not name:
                _fail(f"every [[data]] table needs a 'name', got {dict(entry)!r}")
            specs.append(DataSpec(name, options))
        else:
            _fail(f"a data entry must be a name or a table, got {entry!r}")
    labels = [s.label() for s in specs]
    if len(set(labels)) != len(labels):
        _fail(f"data sets are listed twice: {labels}")
    return tuple(specs)


def _parse_seeds(raw: Any) -> tuple[int, ...]:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = [raw]
    if (not isinstance(raw, list) or not raw
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in raw)):
        _fail(f"'seeds' must be a non-empty list of non-negative integers, got {raw!r}")
    if len(set(raw)) != len(raw):
        _fail(f"'seeds' lists a seed twice: {raw}")
    return tuple(raw)


def _check_range(name: str, bounds: Any) -> None:
    if (not isinstance(bounds, list) or len(bounds) != 2 or not all(map(_is_number, bounds))
            or not bounds[0] < bounds[1]):
        _fail(f"morris parameter {name!r} needs [low, high] with low < high, got {bounds!r}")


def _check_distribution(name: str, spec: Any) -> None:
    if not isinstance(spec, Mapping):
        _fail(f"random parameter {name!r} needs a table {{low, high}} or {{choices}}, "
              f"got {spec!r}")
    if "choices" in spec:
        if set(spec) != {"choices"} or not isinstance(spec["choices"], list) or not spec["choices"]:
            _fail(f"random parameter {name!r}: 'choices' must be a non-empty list on its own")
        return
    unknown = set(spec) - {"low", "high", "log"}
    if unknown:
        _fail(f"random parameter {name!r} has unknown keys {sorted(unknown)}")
    low, high = spec.get("low"), spec.get("high")
    if not (_is_number(low) and _is_number(high) and low < high):
        _fail(f"random parameter {name!r} needs numbers low < high, got {low!r}, {high!r}")
    if spec.get("log", False) and low <= 0:
        _fail(f"random parameter {name!r}: log-uniform needs low > 0, got {low}")


def _parse_design(raw: Any) -> Design:
    if raw is None:
        return Design()
    if not isinstance(raw, Mapping):
        _fail(f"'design' must be a table, got {raw!r}")
    kind = raw.get("kind", "grid")
    if kind not in _DESIGN_KINDS:
        _fail(f"unknown design kind {kind!r}; choose one of {', '.join(_DESIGN_KINDS)}")
    unknown = set(raw) - _DESIGN_KEYS[kind]
    if unknown:
        _fail(f"design kind {kind!r} does not take {sorted(unknown)}; "
              f"it takes {sorted(_DESIGN_KEYS[kind] - {'kind'})}")
    if kind == "none":
        return Design()
    parameters = raw.get("parameters")
    if not isinstance(parameters, Mapping) or not parameters:
        _fail(f"design kind {kind!r} needs a non-empty [design.parameters] table")
    parameters = dict(parameters)
    random_state = raw.get("random_state", 0)
    if not isinstance(random_state, int) or isinstance(random_state, bool) or random_state < 0:
        _fail(f"design random_state must be a non-negative integer, got {random_state!r}")
    if kind == "grid":
        for name, values in parameters.items():
            if not isinstance(values, list) or not values:
                _fail(f"grid parameter {name!r} needs a non-empty list of values, got {values!r}")
            if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
                _fail(f"grid parameter {name!r} lists a value twice: {values!r}")
        return Design("grid", parameters)
    if kind == "random":
        n_points = raw.get("n_points")
        if not isinstance(n_points, int) or isinstance(n_points, bool) or n_points < 1:
            _fail(f"a random design needs n_points >= 1, got {n_points!r}")
        for name, spec in parameters.items():
            _check_distribution(name, spec)
        return Design("random", parameters, n_points=n_points, random_state=random_state)
    trajectories = raw.get("trajectories")
    levels = raw.get("levels", 4)
    if not isinstance(trajectories, int) or isinstance(trajectories, bool) or trajectories < 2:
        _fail(f"a morris design needs trajectories >= 2, got {trajectories!r}")
    if not isinstance(levels, int) or isinstance(levels, bool) or levels < 2 or levels % 2:
        _fail(f"morris levels must be an even integer >= 2, got {levels!r}")
    if len(parameters) < 2:
        _fail("a morris design needs at least two parameters")
    for name, bounds in parameters.items():
        _check_range(name, bounds)
    return Design("morris", parameters, trajectories=trajectories, levels=levels,
                  random_state=random_state)


def load_config(source: str | Path | Mapping[str, Any] | SweepConfig) -> SweepConfig:
    """Read and validate a sweep configuration.

    Parameters
    ----------
    source
        A TOML file, the same content as a dict, or an existing :class:`SweepConfig`.

    Raises
    ------
    ValueError
        For unknown keys or methods, malformed designs or seeds, parameter names the method's
        estimator does not have, or unknown data sets (the message names the problem).
    FileNotFoundError
        When the file does not exist.
    """
    from ._methods import get_method

    if isinstance(source, SweepConfig):
        return source
    raw = dict(source) if isinstance(source, Mapping) else _read_toml(Path(source))
    unknown = set(raw) - _TOP_LEVEL_KEYS
    if unknown:
        _fail(f"unknown keys {sorted(unknown)}; known: {sorted(_TOP_LEVEL_KEYS)}")
    if "method" not in raw:
        _fail("'method' is required (e.g. method = \"symmetrylens\")")
    method = get_method(raw["method"])
    if "data" not in raw:
        _fail("'data' is required")
    data = _parse_data(raw["data"])
    seeds = _parse_seeds(raw.get("seeds", [0]))
    fixed = raw.get("fixed", {})
    if not isinstance(fixed, Mapping):
        _fail(f"'fixed' must be a table of estimator parameters, got {fixed!r}")
    fixed = dict(fixed)
    design = _parse_design(raw.get("design"))
    score = raw.get("score", method.default_score)
    if not isinstance(score, str):
        _fail(f"'score' must be a metric name, got {score!r}")
    name = raw.get("name", "sweep")
    if not isinstance(name, str) or not name:
        _fail(f"'name' must be a non-empty string, got {name!r}")
    threads = raw.get("threads_per_run", 1)
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        _fail(f"'threads_per_run' must be a positive integer, got {threads!r}")
    save_runs = raw.get("save_runs", True)
    if not isinstance(save_runs, bool):
        _fail(f"'save_runs' must be true or false, got {save_runs!r}")

    overlap = set(fixed) & set(design.parameters)
    if overlap:
        _fail(f"parameters both fixed and varied: {sorted(overlap)}")
    estimator_names = [n for n in [*fixed, *design.parameters] if not n.startswith(DATA_PREFIX)]
    method.check_parameters(estimator_names)
    for spec in data:
        method.check_data(spec, [n[len(DATA_PREFIX):] for n in design.parameters
                                 if n.startswith(DATA_PREFIX)])
    for key, value in fixed.items():
        if isinstance(value, float) and not math.isfinite(value):
            _fail(f"fixed parameter {key!r} is not finite")
    return SweepConfig(method=method.name, data=data, seeds=seeds, fixed=fixed, design=design,
                       score=score, name=name, threads_per_run=threads, save_runs=save_runs)
