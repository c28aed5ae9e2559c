"""``symmetrykit data list|show|make``: the built-in data sets that carry their ground truth."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

from ._common import FILE_SUFFIXES, CLIError, check_output, dataset_from_args
from ._options import add_data_options, add_run_options

__all__ = ["add_parser"]


def _cmd_list(args: argparse.Namespace) -> int:
    from .. import datasets

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


def _cmd_make(args: argparse.Namespace) -> int:
    out = Path(args.out)
    # A bad, occupied or unwritable --out is refused before the data are generated.
    if out.suffix.lower() not in FILE_SUFFIXES:
        raise CLIError(f"--out {out}: unsupported file type {out.suffix or '(none)'!r}; use "
                       f"one of {', '.join(FILE_SUFFIXES)}")
    check_output(out, kind="file", overwrite=args.overwrite)
    ds = dataset_from_args(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    ds.save(out, overwrite=args.overwrite)
    truth = "with" if ds.generator is not None else "without"
    print(f"wrote {out}: {ds.name}, X {ds.X.shape[0]} x {ds.X.shape[1]} {truth} ground truth")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from matplotlib.figure import Figure

    from .. import plot
    from ..runs import atomic_write_bytes

    if args.out:
        check_output(Path(args.out), kind="file", overwrite=args.overwrite)
    ds = dataset_from_args(args)
    out = Path(args.out) if args.out else Path(f"{Path(ds.name).stem}.png")
    check_output(out, kind="file", overwrite=args.overwrite)
    panels = 2 if ds.generator is not None else 1
    fig = Figure(figsize=(5.5 * panels, 4.2), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    plot.signal_samples(ds.X, n=args.n, ax=axes[0], random_state=args.seed,
                        title=f"{ds.name}: {args.n} samples")
    if ds.generator is not None:
        plot.generator_heatmaps(ds.generator, axes=[axes[1]], titles=("true generator G",))
    buffer = io.BytesIO()
    fig.savefig(buffer, format=out.suffix[1:].lower() or None, dpi=110)  # format by suffix
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, buffer.getvalue())
    print(f"wrote {out}")
    return 0


def _add_file_options(sub: argparse.ArgumentParser, out: str, *, required: bool,
                      metavar: str) -> None:
    add_data_options(sub, positional=True, metavar="NAME",
                     data_help="built-in data set (see 'data list') or a .npy/.npz/.csv file",
                     dim_help="signal dimension (odd)", n_samples_help="number of samples")
    add_run_options(sub, out=out, out_required=required, out_metavar=metavar,
                    overwrite="replace an existing file", seed="random seed (default 0)")


def add_parser(commands: Any) -> None:
    """Register ``data list|show|make`` on the top-level subparsers."""
    data = commands.add_parser(
        "data", help="built-in data sets that carry their ground truth (list, show, make)",
        description="The built-in data sets: list them, plot one, or save one to a file.")
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="list the built-in data sets")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_cmd_list)

    show = actions.add_parser("show", help="save a PNG of sample signals and the true generator")
    _add_file_options(show, "PNG path (default NAME.png)", required=False, metavar="PNG")
    show.add_argument("--n", type=int, default=9, help="number of samples to draw")
    show.set_defaults(handler=_cmd_show)

    make = actions.add_parser("make", help="generate a data set and save it")
    _add_file_options(make, "output file: .npz (keeps the ground truth), .npy or .csv "
                      "(samples only)", required=True, metavar="FILE")
    make.set_defaults(handler=_cmd_make)
