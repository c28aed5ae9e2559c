"""The option groups several commands share, each defined once and added by a helper.

* :func:`add_run_options`: ``--out``, ``--overwrite``, ``--seed``, ``--progress``, ``--device``
  (and ``--quiet``), shown together under "run options" in each command's help;
* :func:`add_data_options`: the data set (a built-in name or a file) and the size options of
  built-in data sets (``--dim``, ``--n-samples``, ``--noise``);
* :func:`add_checkpoint_option`: ``--checkpoint DIR`` of the resumable fits;
* :func:`add_group` / :func:`add_verb`: the ``symmetrykit GROUP VERB`` grammar.

Only :mod:`argparse` is used: nothing here imports numpy or a method package.
"""

from __future__ import annotations

import argparse

__all__ = [
    "PROGRESS_CHOICES",
    "add_checkpoint_option",
    "add_data_options",
    "add_group",
    "add_run_options",
    "add_verb",
]

PROGRESS_CHOICES = ("auto", "none", "text", "tqdm")

DATA_HELP = "built-in data set (see 'symmetrykit data list') or a .npy/.npz/.csv file"
SEED_HELP = "seed of the data and of the fit (default 0)"
OVERWRITE_HELP = ("replace an existing run directory; the old run stays intact until the new one "
                  "is completely written")


def add_run_options(
    parser: argparse.ArgumentParser,
    *,
    out: str,
    out_required: bool = False,
    out_metavar: str = "DIR",
    overwrite: str | None = OVERWRITE_HELP,
    seed: str | None = SEED_HELP,
    progress: bool = False,
    device: str | None = None,
    quiet: bool = False,
) -> None:
    """Add the run options to ``parser``; ``None`` (or ``False``) leaves one out.

    Parameters
    ----------
    out
        Help of ``--out`` (say where the default goes).
    out_required
        Make ``--out`` mandatory (default: optional, default ``None``).
    out_metavar
        What ``--out`` names in the usage line (``DIR``, or ``FILE`` for a single file).
    overwrite, seed, device
        Help of ``--overwrite``, ``--seed`` (an int, default 0) and ``--device`` (default
        ``cpu``), or ``None`` to leave the option out.
    progress
        Add ``--progress {auto,none,text,tqdm}`` (default ``auto``).
    quiet
        Add ``--quiet`` (no progress display, print only the run directory).
    """
    group = parser.add_argument_group("run options")
    group.add_argument("--out", required=out_required, default=None, metavar=out_metavar,
                       help=out)
    if overwrite is not None:
        group.add_argument("--overwrite", action="store_true", help=overwrite)
    if seed is not None:
        group.add_argument("--seed", type=int, default=0, help=seed)
    if progress:
        group.add_argument("--progress", choices=PROGRESS_CHOICES, default="auto",
                           help="progress display (default auto: a bar on a terminal)")
    if quiet:
        group.add_argument("--quiet", action="store_true",
                           help="no progress display; print only the run directory")
    if device is not None:
        group.add_argument("--device", default="cpu", help=device)


def add_data_options(
    parser: argparse.ArgumentParser,
    *,
    positional: bool = False,
    dest: str = "name",
    metavar: str = "NAME|PATH",
    data_help: str = DATA_HELP,
    dim_help: str = "signal dimension of a built-in data set (odd)",
    n_samples_help: str = "samples of a built-in data set",
    noise: bool = True,
) -> None:
    """The data set (positional ``NAME`` or ``--data``) and the sizes of a built-in one."""
    group = parser.add_argument_group("data")
    if positional:
        group.add_argument(dest, metavar=metavar, help=data_help)
    else:
        group.add_argument("--data", dest=dest, required=True, metavar=metavar, help=data_help)
    group.add_argument("--dim", type=int, default=None, help=dim_help)
    group.add_argument("--n-samples", type=int, default=None, help=n_samples_help)
    if noise:
        group.add_argument("--noise", type=float, default=None,
                           help="relative noise level of a built-in data set")


def add_checkpoint_option(parser: argparse.ArgumentParser, what: str = "") -> None:
    """``--checkpoint DIR``: resumable fits (``what`` qualifies the help, e.g. "PDEs: ")."""
    parser.add_argument("--checkpoint", default=None, metavar="DIR",
                        help=f"{what}write resumable checkpoints to DIR; running the same command "
                        "again resumes from them (a checkpoint of another fit is refused)")


def add_group(commands: argparse._SubParsersAction, name: str, *, help: str, description: str,
              metavar: str = "VERB") -> argparse._SubParsersAction:
    """A command group (``symmetrykit NAME VERB``): its parser, returning its verbs."""
    group = commands.add_parser(name, help=help, description=description)
    return group.add_subparsers(dest=f"{name}_command", metavar=metavar, required=True)


def add_verb(verbs: argparse._SubParsersAction, name: str, *, help: str, description: str,
             handler: object) -> argparse.ArgumentParser:
    """A verb of a command group that runs ``handler(args)``; add its options to the result."""
    parser = verbs.add_parser(name, help=help, description=description)
    parser.set_defaults(handler=handler)
    return parser
