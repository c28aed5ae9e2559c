"""The ``symmetrykit`` command line: each command is one library call plus printing and saving.

Grammar: ``symmetrykit GROUP VERB [options]``::

    symmetrykit data list|show|make       built-in data sets
    symmetrykit lens discover             SymmetryLens
    symmetrykit flow discover             generator flows
    symmetrykit lie discover|enforce|promote
    symmetrykit sweep run|report          many fits on Dask
    symmetrykit compare                   several methods on one data set

The earlier spellings stay as aliases, rewritten before parsing (:data:`ALIASES`):
``discover`` = ``lens discover``, ``flow-discover`` = ``flow discover``, ``sweep-report`` =
``sweep report`` and ``sweep CONFIG.toml`` = ``sweep run CONFIG.toml``.

Building the parser imports only the standard library and the small command modules, so
``--help``, argument errors and ``data list`` never load torch; each command imports what it
needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from . import _bench, _compare, _data, _flow, _lens, _lie, _sweep
from ._common import CLIError

__all__ = ["ALIASES", "CLIError", "build_parser", "expand_aliases", "main", "parse_args"]

# Earlier command names -> the words they stand for.
ALIASES: dict[str, tuple[str, ...]] = {
    "discover": ("lens", "discover"),
    "flow-discover": ("flow", "discover"),
    "sweep-report": ("sweep", "report"),
}
# Words after 'sweep' that are not a configuration file ('sweep CONFIG' = 'sweep run CONFIG').
_SWEEP_WORDS = {"run", "report", "-h", "--help"}

_EPILOG = """\
commands:
  symmetrykit data list|show|make ...        built-in data sets with their ground truth
  symmetrykit lens discover --data NAME      fit SymmetryLens, write a run directory
  symmetrykit flow discover --data kdv       generator flows of a PDE (or mnist)
  symmetrykit lie discover|enforce|promote   the Lie-derivative framework
  symmetrykit sweep run|report ...           many fits on Dask distributed
  symmetrykit bench list|run|report          every method on every task (the matrix)
  symmetrykit compare --data NAME            several methods scored alike

aliases (the earlier spellings, still accepted):
  symmetrykit discover ...          = symmetrykit lens discover ...
  symmetrykit flow-discover ...     = symmetrykit flow discover ...
  symmetrykit sweep CONFIG.toml ... = symmetrykit sweep run CONFIG.toml ...
  symmetrykit sweep-report DIR ...  = symmetrykit sweep report DIR ...

'symmetrykit GROUP --help' lists a group's verbs and 'symmetrykit GROUP VERB --help' their
options."""


def expand_aliases(argv: Sequence[str]) -> list[str]:
    """``argv`` with an alias command (the first word that is not an option) spelled out."""
    argv = list(argv)
    # The top-level parser has only -h and --version, so the first non-option is the command.
    index = next((i for i, word in enumerate(argv) if not word.startswith("-")), None)
    if index is None:
        return argv
    word = argv[index]
    if word in ALIASES:
        argv[index:index + 1] = ALIASES[word]
    elif word == "sweep" and index + 1 < len(argv) and argv[index + 1] not in _SWEEP_WORDS:
        argv.insert(index + 1, "run")
    return argv


def build_parser() -> argparse.ArgumentParser:
    """The full parser: one sub-parser per group, each group's verbs below it."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="symmetrykit",
        description="Find, enforce and promote symmetry in data and machine-learning models.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"symmetrykit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="GROUP", required=True)
    for module in (_data, _lens, _flow, _lie, _sweep, _bench, _compare):
        module.add_parser(commands)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` (default ``sys.argv[1:]``) after expanding aliases; exits on bad usage."""
    argv = sys.argv[1:] if argv is None else argv
    return build_parser().parse_args(expand_aliases(argv))


# Errors in what the user asked for (exit 2) and errors met while doing it (exit 1); both are
# reported as one line. CostError is a MemoryError and a ValueError: a usage error, checked
# first. FileExistsError and FileNotFoundError are OSErrors: usage errors too.
_USAGE_ERRORS = (CLIError, ValueError, FileExistsError, FileNotFoundError, ImportError)
_RUN_ERRORS = (OSError, FloatingPointError, MemoryError)
DEBUG_VARIABLE = "SYMMETRYKIT_DEBUG"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _debugging() -> bool:
    import os

    return os.environ.get(DEBUG_VARIABLE, "").strip() not in ("", "0")


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    # A warning is one line too: what it says and its kind, without the source line.
    print(f"symmetrykit: warning: {' '.join(str(message).split())} ({category.__name__})",
          file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status.

    Every error is one line on stderr: ``symmetrykit: error: ...`` with status 2 for a problem
    with the request (bad values, an occupied or unwritable output, a missing file) and 1 for
    one met while running (a full disk, a diverging fit, memory); anything unexpected is
    ``symmetrykit: internal error: Type: message`` with status 1. With ``SYMMETRYKIT_DEBUG=1``
    those are raised with their traceback instead.
    """
    import warnings

    args = parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return int(args.handler(args))
        except KeyboardInterrupt:
            print("symmetrykit: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # the reader went away, e.g. 'symmetrykit data list | head'
            import os

            # Python flushes stdout at exit; send that flush to devnull so it cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except _USAGE_ERRORS as exc:
            if _debugging() and not isinstance(exc, CLIError):
                raise
            print(f"symmetrykit: error: {_one_line(exc)}", file=sys.stderr)
            return 2
        except _RUN_ERRORS as exc:
            if _debugging():
                raise
            print(f"symmetrykit: error: {_one_line(exc)}", file=sys.stderr)
            return 1
        except Exception as exc:
            if _debugging():
                raise
            print(f"symmetrykit: internal error: {type(exc).__name__}: {_one_line(exc)} (set "
                  f"{DEBUG_VARIABLE}=1 for the traceback)", file=sys.stderr)
            return 1
