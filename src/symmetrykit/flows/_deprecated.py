"""Deprecated aliases of symmetrykit 0.1: :func:`save_flow` and :func:`load_flow`."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from ._estimator import GeneratorFlow

__all__ = ["load_flow", "save_flow"]


def save_flow(flow: Any, directory: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Deprecated: use ``flow.save(directory)`` (the run-directory format of every estimator)."""
    warnings.warn("save_flow is deprecated; use flow.save(directory)", DeprecationWarning,
                  stacklevel=2)
    return Path(flow.save(directory, overwrite=overwrite))


def load_flow(directory: str | os.PathLike[str], device: str | None = None) -> Any:
    """Deprecated: use ``GeneratorFlow.load(directory)`` or ``symmetrykit.load(directory)``."""
    warnings.warn("load_flow is deprecated; use GeneratorFlow.load(directory) or "
                  "symmetrykit.load(directory)", DeprecationWarning, stacklevel=2)
    return GeneratorFlow.load(directory, device=device)
