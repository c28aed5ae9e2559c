"""Helpers every command shares: the user-error type, output checks and data loading.

Only the standard library is imported here at module level, so that building the parser (and
``--help``, argument errors, ``data list``) stays cheap; numpy, torch and the method packages
are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..datasets import SymmetryDataset, TwoBodyPairs

__all__ = [
    "CLIError",
    "check_checkpoint",
    "check_device",
    "check_out_free",
    "check_output",
    "check_positive",
    "check_vectors",
    "data_name",
    "dataset_from_args",
    "is_data_file",
    "print_evaluation",
    "run_directory",
    "slug",
    "write_json",
]

FILE_SUFFIXES = (".npy", ".npz", ".csv")


class CLIError(Exception):
    """A problem with the user's request, reported as one line without a traceback."""


def is_data_file(name: str) -> bool:
    """Whether a ``--data`` value names a file rather than a built-in data set."""
    return Path(name).suffix.lower() in FILE_SUFFIXES


def slug(name: str) -> str:
    """``name`` made safe for a directory name."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", name).strip("._") or "data"


def check_device(device: str) -> None:
    """Refuse anything but ``cpu``/``cuda[:N]``, and CUDA where it is not available."""
    if device != "cpu" and not re.fullmatch(r"cuda(:\d+)?", device):
        raise CLIError(f"--device must be 'cpu' or 'cuda', got {device!r}")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise CLIError("--device cuda requested but CUDA is not available; use --device cpu")


def check_output(path: Path, *, option: str = "--out", overwrite: bool | None = None,
                 kind: str = "directory", write_inside: bool = False) -> None:
    """Refuse an output location before any work: one line naming ``option`` and the problem.

    ``path`` must not be the wrong kind (a file for a directory, or the reverse), lie under a
    file, or start in a folder that does not accept new files (probed with an empty temporary
    file, see :func:`symmetrykit.runs.check_output_location`). With ``overwrite`` not ``None``,
    an occupied ``path`` (a non-empty directory, an existing file) is refused unless it is true.
    """
    from .._staging import check_output_location

    try:
        check_output_location(path, kind=kind, write_inside=write_inside)
    except OSError as exc:
        raise CLIError(f"{option}: {exc}") from None
    if overwrite is None or overwrite:
        return
    if kind == "directory" and path.is_dir() and any(path.iterdir()):
        raise CLIError(f"run directory {path} already exists and is not empty; pass --overwrite "
                       f"to replace it or {option} to choose another")
    if kind == "file" and os.path.lexists(path):
        raise CLIError(f"{path} already exists; pass --overwrite to replace it")


def check_out_free(out: Path, overwrite: bool) -> None:
    """Refuse a run directory that cannot be written, or holds files without ``--overwrite``."""
    check_output(out, option="--out", overwrite=overwrite)


def run_directory(args: argparse.Namespace, default: Path) -> Path:
    """``--out`` (or ``default``), checked to be free and writable before any work starts."""
    out = Path(args.out) if args.out else default
    check_out_free(out, args.overwrite)
    return out


def check_checkpoint(args: argparse.Namespace, out: Path) -> None:
    """A given ``--checkpoint`` directory can be written and is not the run directory itself.

    An existing checkpoint is fine (running the same command again resumes from it); it is
    written in place, so the probe goes inside it.
    """
    if not getattr(args, "checkpoint", None):
        return
    checkpoint = Path(args.checkpoint)
    check_output(checkpoint, option="--checkpoint", write_inside=True)
    if os.path.abspath(checkpoint) == os.path.abspath(out):
        raise CLIError(f"--checkpoint {checkpoint} is the run directory; replacing the run "
                       "would remove it, so give it a folder of its own")


def check_positive(args: argparse.Namespace, names: tuple[str, ...]) -> None:
    """Each of the integer options ``names`` (argparse dests) is absent or at least 1."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be a positive integer, got {value}")


def _refuse_pairs(what: str) -> CLIError:
    """The one-line refusal of pairs ``(X, Y)`` by a command that reads vector samples."""
    return CLIError(f"{what} is a set of pairs (X, Y), not vector samples, so this command "
                    "cannot use it; fit pairs with the Python API: LieGAN().fit(X, Y) or "
                    "SymmetryGAN().fit(X, Y) from symmetrykit.baselines")


def _refuse_pde(name: str) -> CLIError:
    """The one-line refusal of a PDE data set by a command that reads vector samples."""
    return CLIError(f"{name} is a PDE data set (trajectories u(x, t)), not vector samples, so "
                    f"this command cannot use it; use 'symmetrykit flow discover --data {name}' "
                    f"or 'symmetrykit lie discover --method pde --data {name}'")


def dataset_from_args(args: argparse.Namespace) -> SymmetryDataset | TwoBodyPairs:
    """A built-in data set by name (``args.name``), or a user file when NAME looks like a path.

    Pairs ``(X, Y)`` (a built-in set of kind ``"pairs"``, or a file written by
    :meth:`~symmetrykit.datasets.TwoBodyPairs.save`) are returned only to a command whose parser
    sets ``accept_pairs=True`` (``data show|make``); for the others, which read vector samples,
    they are refused with one line, a built-in set before any data are generated. So are the
    PDE sets (kind ``"pde"``), which ``data show|make`` handle before calling this.
    """
    from .. import datasets

    name = args.name
    pairs = bool(getattr(args, "accept_pairs", False))
    noise = getattr(args, "noise", None)
    if is_data_file(name):
        if args.dim is not None or args.n_samples is not None or noise is not None:
            raise CLIError("--dim, --n-samples and --noise apply to built-in data sets, "
                           "not to files")
        try:
            return datasets.load(name)
        except datasets.PairsFileError:
            if not pairs:
                raise _refuse_pairs(str(name)) from None
        return datasets.TwoBodyPairs.load(name)
    if not pairs:
        check_vectors(name)
    options = {} if noise is None else {"noise": noise}
    return datasets.make_dataset(
        name, n_samples=args.n_samples, dim=args.dim, random_state=args.seed, **options
    )


def check_vectors(name: str) -> None:
    """Refuse a built-in set of pairs or a PDE by name (one line naming what accepts it), cheaply.

    Unknown names pass: generating them gives the registry's own message listing the names.
    """
    from .. import datasets

    try:
        info = datasets.get_dataset_info(name)
    except ValueError:
        return
    if info.kind == "pde":
        raise _refuse_pde(info.name)
    if info.kind != "vectors":
        raise _refuse_pairs(info.name)


def data_name(args: argparse.Namespace) -> tuple[str, SymmetryDataset | None]:
    """The data set's name for a default run directory, without generating built-in data.

    A file is read (it must be, to know its stored name); a built-in set is only looked up, so
    an occupied run directory is refused before any data are generated. Pairs are refused
    (this serves the commands that read vector samples).
    """
    from .. import datasets

    if is_data_file(args.name):
        ds = dataset_from_args(args)
        return ds.name, ds
    check_vectors(args.name)
    return datasets.get_dataset_info(args.name).name, None


def write_json(path: Path, content: Any) -> None:
    """``content`` as indented JSON, written atomically (numpy values converted)."""
    import json

    from ..runs import atomic_write_text, to_jsonable

    atomic_write_text(path, json.dumps(to_jsonable(content), indent=2, allow_nan=False) + "\n")


def print_evaluation(path: Any, evaluation: Any, *, quiet: bool = False) -> None:
    """``wrote PATH`` and, unless ``quiet``, the evaluation's summary lines."""
    print(f"wrote {path}")
    if not quiet:
        for line in evaluation.lines:
            print(f"  {line}" if not line.startswith("|") else line)
