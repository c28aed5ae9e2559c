"""``symmetrykit flow discover`` (alias ``flow-discover``): symmetry generators as neural fields.

PDE data (:data:`symmetrykit.datasets.PDE_NAMES`): generate trajectories, fit the registered
method ``flow`` (:class:`~symmetrykit.flows.GeneratorFlow`, preset ``pde-cpu``), evaluate its slots
against the equation's true Lie point symmetries and write a run directory. ``mnist``: the method
``image-flow`` (:class:`~symmetrykit.flows.ImageGeneratorFlow`, preset ``mnist``) trains a small
digit classifier, learns pixel fields and reports each slot's affine measure (Ko, Kim & Lee 2024).
Command-line options override single parameters of the preset.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._common import (
    CLIError,
    check_checkpoint,
    check_device,
    check_positive,
    print_evaluation,
    run_directory,
)
from ._options import add_checkpoint_option, add_group, add_run_options, add_verb

__all__ = ["add_parser"]

_IMAGE_DATA = ("mnist",)


class _DataChoices:
    """The ``--data`` choices: every PDE of :data:`~symmetrykit.datasets.PDE_NAMES`, then mnist.

    Resolved on first use (a bad value, or this command's help), so that building the parser
    for ``symmetrykit --help`` imports no numpy.
    """

    def _names(self) -> tuple[str, ...]:
        from ..datasets import PDE_NAMES

        return (*PDE_NAMES, *_IMAGE_DATA)

    def __contains__(self, item: object) -> bool:
        return item in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


def _parse_patch(text: str) -> tuple[int, int] | None:
    if text.strip().lower() in ("full", "none"):
        return None
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match or min(int(match.group(1)), int(match.group(2))) < 3:
        raise CLIError(f"--patch must look like NTxNX with both >= 3 (e.g. 32x32) or 'full', "
                       f"got {text!r}")
    return int(match.group(1)), int(match.group(2))


def _parse_hidden(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise CLIError(f"--hidden must be positive comma-separated widths such as 64,64, "
                       f"got {text!r}")
    return widths


def _progress(args: argparse.Namespace) -> str:
    return "none" if args.quiet else args.progress


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text)


def _overrides(args: argparse.Namespace, image: bool) -> dict[str, Any]:
    """The estimator parameters the command line sets on top of the method's preset."""
    given: dict[str, Any] = {
        "n_generators": args.n_generators, "n_iterations": args.iterations,
        "batch_size": args.batch_size, "lr": args.lr, "basis": args.basis,
        "hidden": None if args.hidden is None else _parse_hidden(args.hidden)}
    if image:
        if args.device != "cpu":
            raise CLIError("--data mnist runs on the CPU only; drop --device")
        given.update(classifier_epochs=args.classifier_epochs,
                     sensitivity_centres=args.sensitivity_centres)
    else:
        given.update(n_steps=args.rk4_steps, s_range=args.s_range, checkpoint=args.checkpoint,
                     device=args.device)
    chosen = {name: value for name, value in given.items() if value is not None}
    if not image and args.patch is not None:
        chosen["patch_shape"] = _parse_patch(args.patch)  # None: the full grid
    return chosen


def _cmd_discover(args: argparse.Namespace) -> int:
    name = args.data
    check_positive(args, ("n_generators", "iterations", "rk4_steps", "trajectories",
                          "batch_size", "nx", "nt", "n_train", "classifier_epochs",
                          "sensitivity_centres", "held_out"))
    if args.s_range is not None and not args.s_range > 0:
        raise CLIError(f"--s-range must be positive, got {args.s_range}")
    if args.lr is not None and not args.lr > 0:
        raise CLIError(f"--lr must be positive, got {args.lr}")
    if args.seed < 0:
        raise CLIError(f"--seed must be non-negative, got {args.seed}")
    check_device(args.device)
    image = name in _IMAGE_DATA
    overrides = _overrides(args, image)
    out = run_directory(args, Path("runs") / f"flow-{name}-seed{args.seed}")
    if not image:
        check_checkpoint(args, out)

    from .._methods import get_method
    from ..runs import staged_directory

    method = get_method("image-flow" if image else "flow")
    flow = method.make(None, random_state=args.seed, progress=_progress(args), **overrides)
    cost = ("about 8.5 CPU minutes for the default PDE schedule" if not image
            else "minutes on a CPU")
    if not args.quiet:
        print(f"flow discover: {flow.n_generators} generators of {name}, seed {args.seed}, "
              f"{flow.n_iterations} iterations -> {out}; {cost}", flush=True)
    if image:
        from ..flows import mnist_data

        data = mnist_data(n_train=args.n_train, n_test=args.held_out, random_state=args.seed)
        flow.fit(data)
        evaluation = method.evaluate(flow, data)
    else:
        from .. import datasets

        data = datasets.pde(name, n_trajectories=args.trajectories, nx=args.nx, nt=args.nt,
                            random_state=args.seed)
        flow.fit(data)
        evaluation = method.evaluate(flow, data, random_state=args.seed)
    settings = {"command": "flow discover", "data": name, "seed": args.seed,
                "preset": method.default_preset, **overrides}
    # The estimator, metrics, evaluation and figures appear together or not at all.
    with staged_directory(out, overwrite=args.overwrite) as stage:
        flow.save(stage, metrics={**evaluation.metrics, "settings": settings})
        evaluation.save(stage)
    print_evaluation(out, evaluation, quiet=args.quiet)
    return 0


def add_parser(commands: Any) -> None:
    """Register ``flow discover`` on the top-level subparsers."""
    verbs = add_group(
        commands, "flow",
        help="generator flows: symmetry generators as neural vector fields (discover)",
        description="Generator flows (Ko, Kim & Lee 2024): learn K infinitesimal generators as "
        "neural vector fields with a validity score. 'symmetrykit flow-discover' is an alias "
        "of 'symmetrykit flow discover'.")
    sub = add_verb(
        verbs, "discover", handler=_cmd_discover,
        help="learn symmetry generators of PDE trajectories or of MNIST digits",
        description="Learn K infinitesimal generators with a validity score: for a PDE, fit a "
        "GeneratorFlow to generated trajectories and compare its slots with the true Lie point "
        "symmetries; for mnist, learn pixel fields of digits and report their affine measure. "
        "Alias: 'symmetrykit flow-discover'.",
    )
    sub.add_argument("--data", required=True, metavar="NAME", type=str.lower,
                     choices=_DataChoices(), help="PDE trajectories or the image set: %(choices)s")
    sub.add_argument("--n-generators", type=int, default=None,
                     help="number of slots K (default 4 for PDEs, 8 for mnist)")
    sub.add_argument("--iterations", type=int, default=None,
                     help="training iterations (default 1650 for PDEs, about 8.5 minutes on one "
                          "CPU core; 850 for mnist)")
    sub.add_argument("--rk4-steps", type=int, default=None,
                     help="PDEs: RK4 steps per flow, every intermediate state scored (default "
                          "2 from the preset; the paper's 4 costs twice as much per iteration)")
    sub.add_argument("--trajectories", type=int, default=32,
                     help="PDE trajectories to generate (default 32)")
    sub.add_argument("--batch-size", type=int, default=None,
                     help="samples per iteration (default 4 for PDEs, 24 for mnist)")
    sub.add_argument("--patch", default=None,
                     help="NTxNX patch cut from each PDE trajectory, or 'full' (default 32x32)")
    sub.add_argument("--hidden", default=None,
                     help="trunk widths of the field network (default 64,64)")
    sub.add_argument("--lr", type=float, default=None,
                     help="Adam learning rate (default: the estimator's, 1e-3)")
    sub.add_argument("--s-range", type=float, default=None,
                     help="PDEs: largest flow time per iteration (default 0.2; the paper's 0.4 "
                          "finds d_u instead of the Galilean boost on KdV/KS in CPU-length runs)")
    sub.add_argument("--basis", choices=["smoothest", "learned"], default=None,
                     help="return the slots in the smoothest-first basis of their span "
                          "(default; PDEs: the slots judged symmetries, images: all slots) or "
                          "as learned")
    add_checkpoint_option(sub, "PDEs: ")
    add_run_options(sub, out="run directory (default runs/flow-<data>-seed<S>)",
                    seed="seed of the data and the fit (default 0)", progress=True, quiet=True,
                    device="cpu (default) or cuda (PDEs only)")
    # Grid and image-pipeline sizes, for quick runs and tests.
    sub.add_argument("--nx", type=int, default=None, help=argparse.SUPPRESS)
    sub.add_argument("--nt", type=int, default=None, help=argparse.SUPPRESS)
    sub.add_argument("--n-train", type=int, default=4000, help=argparse.SUPPRESS)
    sub.add_argument("--classifier-epochs", type=int, default=None, help=argparse.SUPPRESS)
    sub.add_argument("--sensitivity-centres", type=int, default=None, help=argparse.SUPPRESS)
    sub.add_argument("--held-out", type=int, default=256, help=argparse.SUPPRESS)
