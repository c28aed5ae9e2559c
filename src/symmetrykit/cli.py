"""The ``symmetrykit`` command line: each command is one API call plus printing and saving."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import datasets

__all__ = ["main"]


class CLIError(Exception):
    """A problem with the user's request, reported as one line without a traceback."""


def _dataset_from_args(args: argparse.Namespace) -> datasets.SymmetryDataset:
    """A built-in data set by name, or a user file when NAME looks like a path."""
    name = args.name
    if Path(name).suffix.lower() in {".npy", ".npz", ".csv"}:
        if args.dim is not None or args.n_samples is not None:
            raise CLIError("--dim and --n-samples apply to built-in data sets, not to files")
        return datasets.load(name)
    options = {}
    if getattr(args, "noise", None) is not None:
        options["noise"] = args.noise
    return datasets.make_dataset(
        name, n_samples=args.n_samples, dim=args.dim, random_state=args.seed, **options
    )


def _cmd_data_list(args: argparse.Namespace) -> int:
    infos = datasets.list_datasets()
    if args.json:
        rows = [
            {
                "name": info.name,
                "defaults": info.defaults,
                "ground_truth": info.ground_truth,
                "description": info.description,
            }
            for info in infos
        ]
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(info.name) for info in infos)
    print(f"{'name':<{width}}  {'dim':>4}  {'samples':>8}  ground truth")
    for info in infos:
        dim = info.defaults.get("dim", info.defaults.get("width", "?"))
        n = info.defaults.get("n_samples", "?")
        print(f"{info.name:<{width}}  {dim:>4}  {n:>8}  {info.ground_truth}")
    print(f"\n{len(infos)} data sets. 'symmetrykit data show NAME' plots one; "
          "'symmetrykit data make NAME --out FILE' saves one.")
    return 0


def _cmd_data_make(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise CLIError(f"{out} already exists; pass --overwrite to replace it")
    ds = _dataset_from_args(args)
    ds.save(out, overwrite=args.overwrite)
    truth = "with" if ds.generator is not None else "without"
    print(f"wrote {out}: {ds.name}, X {ds.X.shape[0]} x {ds.X.shape[1]} {truth} ground truth")
    return 0


def _cmd_data_show(args: argparse.Namespace) -> int:
    from matplotlib.figure import Figure

    from . import plot

    ds = _dataset_from_args(args)
    out = Path(args.out) if args.out else Path(f"{Path(ds.name).stem}.png")
    if out.exists() and not args.overwrite:
        raise CLIError(f"{out} already exists; pass --overwrite to replace it")
    panels = 2 if ds.generator is not None else 1
    fig = Figure(figsize=(5.5 * panels, 4.2), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    plot.signal_samples(ds.X, n=args.n, ax=axes[0], random_state=args.seed,
                        title=f"{ds.name}: {args.n} samples")
    if ds.generator is not None:
        plot.generator_heatmaps(ds.generator, axes=[axes[1]], titles=("true generator G",))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")
    return 0


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="symmetrykit",
        description="Find, enforce and promote symmetry in data and machine-learning models.",
    )
    parser.add_argument("--version", action="version", version=f"symmetrykit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    data = commands.add_parser("data", help="built-in data sets that carry their ground truth")
    data_cmds = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    listing = data_cmds.add_parser("list", help="list the built-in data sets")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_cmd_data_list)

    def add_dataset_arguments(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("name", metavar="NAME", help="built-in data set (see 'data list') or a "
                         ".npy/.npz/.csv file")
        sub.add_argument("--n-samples", type=int, default=None, help="number of samples")
        sub.add_argument("--dim", type=int, default=None, help="signal dimension (odd)")
        sub.add_argument("--noise", type=float, default=None, help="relative noise level")
        sub.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        sub.add_argument("--overwrite", action="store_true", help="replace an existing file")

    make = data_cmds.add_parser("make", help="generate a data set and save it")
    add_dataset_arguments(make)
    make.add_argument("--out", required=True, help="output file: .npz (keeps the ground truth), "
                      ".npy or .csv (samples only)")
    make.set_defaults(handler=_cmd_data_make)

    show = data_cmds.add_parser("show", help="save a PNG of sample signals and the true generator")
    add_dataset_arguments(show)
    show.add_argument("--out", default=None, help="PNG path (default NAME.png)")
    show.add_argument("--n", type=int, default=9, help="number of samples to draw")
    show.set_defaults(handler=_cmd_data_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (CLIError, ValueError, FileExistsError, FileNotFoundError, ImportError) as exc:
        print(f"symmetrykit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symmetrykit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
