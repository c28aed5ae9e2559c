"""``symmetrykit lens discover`` (alias ``symmetrykit discover``): fit SymmetryLens to data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import (
    CLIError,
    check_checkpoint,
    check_device,
    check_positive,
    data_name,
    dataset_from_args,
    is_data_file,
    print_evaluation,
    run_directory,
    slug,
)
from ._options import (
    add_checkpoint_option,
    add_data_options,
    add_group,
    add_run_options,
    add_verb,
)

__all__ = ["add_parser"]

# discover's flags (argparse names) that set a SymmetryLens parameter when given; --lr is
# mapped by _learning_rate.
_LENS_OPTIONS = {"steps": "n_steps", "batch_size": "batch_size",
                 "warmup_steps": "warmup_steps", "restarts": "n_restarts", "init": "init",
                 "selection": "selection", "checkpoint": "checkpoint", "max_time": "max_time"}

# Below this many features a step is a few hundred small tensor operations: a second torch
# thread made it no faster on the 2-core development machine (32 ms either way at 7 features)
# and three times slower on a busy one, while from 33 features on two threads save ~20 %.
_ONE_THREAD_BELOW = 16


def _set_threads(threads: int | None, dim: int) -> None:
    """The command's torch threads: ``--threads``, or one for small problems (see above)."""
    if threads is None and dim >= _ONE_THREAD_BELOW:
        return
    import torch

    torch.set_num_threads(threads or 1)


def _learning_rate(args: argparse.Namespace, method: Any) -> dict[str, float]:
    """``--lr`` as the parameter that sets the generator's rate in this fit.

    A warm start (the default) refines the closed-form estimate with ``warm_model_lr``;
    ``model_lr`` drives only a random start. Mapping the flag by ``--init`` makes it act in
    both, and a resume with the same command sees the same parameters.
    """
    if args.lr is None:
        return {}
    init = args.init if args.init is not None else method.defaults()["init"]
    return {"model_lr" if init == "random" else "warm_model_lr": args.lr}


def _cmd_discover(args: argparse.Namespace) -> int:
    check_positive(args, ("steps", "batch_size", "n_samples"))
    if args.warmup_steps is not None and args.warmup_steps < 0:
        raise CLIError(f"--warmup-steps must be >= 0, got {args.warmup_steps}")
    if args.lr is not None and not args.lr > 0:
        raise CLIError(f"--lr must be positive, got {args.lr}")
    if args.max_time is not None and not args.max_time > 0:
        raise CLIError(f"--max-time must be positive seconds, got {args.max_time}")
    if args.threads is not None and args.threads < 1:
        raise CLIError(f"--threads must be >= 1, got {args.threads}")
    if args.dim is not None and (args.dim < 3 or args.dim % 2 == 0):
        raise CLIError(f"SymmetryLens needs an odd --dim >= 3, got {args.dim}")
    check_device(args.device)

    # Name the run and refuse an occupied or unwritable one (and a bad checkpoint) before
    # generating data or fitting.
    name, ds = data_name(args)
    source = str(args.name) if is_data_file(args.name) else "built-in"
    out = run_directory(args, Path("runs") / f"discover-{slug(name)}-seed{args.seed}")
    check_checkpoint(args, out)
    if ds is None:
        ds = dataset_from_args(args)
    if ds.dim < 3 or ds.dim % 2 == 0:
        raise CLIError(f"SymmetryLens needs an odd dimension >= 3; {source} has dim {ds.dim}")

    from .._methods import get_method
    from ..lens import ground_truth_monitor
    from ..runs import staged_directory

    method = get_method("lens")
    options = {param: getattr(args, flag) for flag, param in _LENS_OPTIONS.items()
               if getattr(args, flag) is not None}
    options.update(_learning_rate(args, method))
    lens = method.make(None, random_state=args.seed, device=args.device,
                       progress=args.progress, **options)
    limit = f", at most {lens.max_time:g} s" if lens.max_time is not None else ""
    print(f"discover: SymmetryLens on {name} ({ds.n_samples} × {ds.dim}), seed {args.seed}, up "
          f"to {lens.n_steps} steps{limit} -> {out}; typically 5–30 s up to 33 features on one "
          "core (it stops on convergence)", flush=True)
    _set_threads(args.threads, ds.dim)
    lens.fit(ds.X, monitor=ground_truth_monitor(ds))

    evaluation = method.evaluate(lens, ds)
    evaluation.metrics["dataset.source"] = source
    # The estimator, metrics, evaluation and figures appear together or not at all.
    with staged_directory(out, overwrite=args.overwrite) as stage:
        lens.save(stage, metrics=evaluation.metrics)
        evaluation.save(stage)
    print_evaluation(out, evaluation)
    return 0


def add_parser(commands: Any) -> None:
    """Register ``lens discover`` on the top-level subparsers."""
    verbs = add_group(
        commands, "lens", help="SymmetryLens: learn one generator from samples (discover)",
        description="SymmetryLens (Efe & Ozakin 2025): learn the minimal generator of a data "
        "set's symmetry and the representation that makes it a pixel shift. "
        "'symmetrykit discover' is an alias of 'symmetrykit lens discover'.")
    sub = add_verb(
        verbs, "discover", help="fit SymmetryLens to a data set and save a run directory",
        description="Fit SymmetryLens to a built-in data set or a data file and write the "
        "learned generator, metrics and figures to a run directory. "
        "Alias: 'symmetrykit discover'.", handler=_cmd_discover)
    add_data_options(sub, n_samples_help="samples of a built-in data set (default 20000)")
    fit = sub.add_argument_group("fit")
    fit.add_argument("--steps", type=int, default=None,
                     help="most optimisation steps per run; a warm-started run stops earlier "
                     "once it has converged (default: the SymmetryLens default)")
    fit.add_argument("--max-time", type=float, default=None, metavar="SECONDS",
                     help="wall-clock budget of the whole fit, warm start included")
    fit.add_argument("--threads", type=int, default=None,
                     help="torch threads (default: 1 below 16 features, where more are no "
                     "faster, else torch's default)")
    fit.add_argument("--batch-size", type=int, default=None, help="samples per step")
    fit.add_argument("--lr", type=float, default=None,
                     help="learning rate of the generator: with the warm start (default) the "
                     "refinement's rate warm_model_lr (default 1e-3), with --init random "
                     "model_lr (default 1e-2)")
    fit.add_argument("--warmup-steps", type=int, default=None,
                     help="density-estimator-only steps before the model moves "
                     "(default: the SymmetryLens default)")
    fit.add_argument("--restarts", type=int, default=None,
                     help="independent runs; one is kept by --selection (default: the "
                     "SymmetryLens default)")
    fit.add_argument("--init", choices=("warm", "random"), default=None,
                     help="warm: start from the closed-form estimate (default); random: "
                     "start at G ≈ I as in the paper")
    fit.add_argument("--selection", choices=("invariance", "loss"), default=None,
                     help="which run is kept: invariance (default) the lowest unsupervised "
                     "loss among runs verified shift-invariant; loss the lowest loss, as in "
                     "the paper")
    add_checkpoint_option(fit)
    add_run_options(sub, out="run directory (default runs/discover-<data>-seed<S>)",
                    progress=True, device="cpu (default) or cuda")
