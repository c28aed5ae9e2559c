"""``symmetrykit data list|show|make``: the built-in data sets that carry their ground truth.

The PDE sets (kind ``"pde"``: trajectories ``u`` on a ``(t, x)`` grid) take their own path here:
``--n-samples`` counts trajectories, ``show`` draws trajectories and the true symmetry fields,
and ``make`` writes the ``.npz`` (``u``, ``x``, ``t``) that ``lie discover --method pde`` reads.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

from ._common import FILE_SUFFIXES, CLIError, check_output, dataset_from_args, is_data_file
from ._options import add_data_options, add_run_options

__all__ = ["add_parser"]


# Points drawn in a scatter panel at most: enough to show the shape, quick to render.
_MAX_POINTS = 5000
# Trajectories of a PDE drawn by 'data show' at most (and generated, unless --n-samples says).
_MAX_TRAJECTORIES = 3


def _sizes(info: Any) -> tuple[str, str]:
    """The ``dim`` and ``samples`` columns of ``data list``: a PDE's grid and trajectories."""
    if info.kind == "pde":
        return f"{info.defaults['nt']}×{info.defaults['nx']}", str(info.defaults["n_trajectories"])
    dim = info.defaults.get("dim", info.defaults.get("width", "?"))
    return str(dim), str(info.defaults.get("n_samples", "?"))


def _cmd_list(args: argparse.Namespace) -> int:
    from .. import datasets

    infos = datasets.list_datasets()
    if args.json:
        rows = [
            {
                "name": info.name,
                "kind": info.kind,
                "defaults": info.defaults,
                "ground_truth": info.ground_truth,
                "description": info.description,
            }
            for info in infos
        ]
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(info.name) for info in infos)
    kind_width = max(len(info.kind) for info in infos)
    sizes = [_sizes(info) for info in infos]
    dim_width = max(4, *(len(dim) for dim, _ in sizes))
    print(f"{'name':<{width}}  {'kind':<{kind_width}}  {'dim':>{dim_width}}  {'samples':>8}  "
          "ground truth")
    for info, (dim, n) in zip(infos, sizes, strict=True):
        print(f"{info.name:<{width}}  {info.kind:<{kind_width}}  {dim:>{dim_width}}  {n:>8}  "
              f"{info.ground_truth}")
    print(f"\n{len(infos)} data sets. 'symmetrykit data show NAME' plots one; "
          "'symmetrykit data make NAME --out FILE' saves one. Sets of kind 'pairs' hold pairs "
          "(X, Y) for the Python API LieGAN().fit(X, Y) / SymmetryGAN().fit(X, Y); the "
          "fitting commands read vectors. Sets of kind 'pde' hold trajectories u(x, t) on an "
          "nt×nx grid (samples = trajectories) for 'flow discover --data NAME' and 'lie "
          "discover --method pde --data NAME'.")
    return 0


def _is_pairs(name: str) -> bool:
    """Whether ``name`` is a built-in set of pairs (looked up, nothing generated)."""
    from .. import datasets

    if is_data_file(name):
        return False
    try:
        return datasets.get_dataset_info(name).kind == "pairs"
    except ValueError:
        return False  # the unknown name is reported when the data are made


def _pde_info(name: str) -> Any:
    """The registry entry of a built-in PDE named ``name``, or None (looked up, not generated)."""
    from .. import datasets

    if is_data_file(name):
        return None
    try:
        info = datasets.get_dataset_info(name)
    except ValueError:
        return None  # the unknown name is reported when the data are made
    return info if info.kind == "pde" else None


def _make_pde(args: argparse.Namespace, info: Any, n_trajectories: int | None) -> Any:
    """The PDE's trajectories; ``--dim``/``--noise`` refused (the grid is fixed, data exact)."""
    from .. import datasets

    for flag, value in (("--dim", args.dim), ("--noise", getattr(args, "noise", None))):
        if value is not None:
            raise CLIError(f"{flag} does not apply to the PDE data set {info.name} (trajectories "
                           f"on a fixed {info.defaults['nt']}×{info.defaults['nx']} t×x grid); "
                           "--n-samples sets the number of trajectories")
    if n_trajectories is not None and n_trajectories < 1:
        raise CLIError(f"--n-samples must be a positive number of trajectories, got "
                       f"{n_trajectories}")
    try:
        return datasets.make_dataset(info.name, n_samples=n_trajectories,
                                     random_state=args.seed)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def _cmd_make_pde(args: argparse.Namespace, info: Any, out: Path) -> int:
    """``data make PDE --out FILE.npz``: arrays u, x, t, written aside and renamed into place."""
    import numpy as np

    from ..runs import _atomic_open, _write_npz

    if out.suffix.lower() != ".npz":
        raise CLIError(f"--out {out}: {info.name} is a PDE data set (arrays u, x, t), saved as "
                       ".npz only")
    check_output(out, kind="file", overwrite=args.overwrite)
    data = _make_pde(args, info, args.n_samples)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _atomic_open(out) as handle:
        _write_npz(handle, {"u": np.ascontiguousarray(data.u), "x": data.x, "t": data.t})
    b, nt, nx = data.u.shape
    print(f"wrote {out}: {data.name}, u {b} x {nt} x {nx} (trajectories × t × x) with x ({nx},) "
          f"and t ({nt},); find its symmetries with 'symmetrykit lie discover --method pde "
          f"--data {out}'")
    return 0


def _cmd_make(args: argparse.Namespace) -> int:
    out = Path(args.out)
    # A bad, occupied or unwritable --out is refused before the data are generated.
    if out.suffix.lower() not in FILE_SUFFIXES:
        raise CLIError(f"--out {out}: unsupported file type {out.suffix or '(none)'!r}; use "
                       f"one of {', '.join(FILE_SUFFIXES)}")
    info = _pde_info(args.name)
    if info is not None:
        return _cmd_make_pde(args, info, out)
    if _is_pairs(args.name) and out.suffix.lower() != ".npz":
        raise CLIError(f"--out {out}: {args.name} is a set of pairs (X, Y), saved as .npz only")
    check_output(out, kind="file", overwrite=args.overwrite)
    ds = dataset_from_args(args)
    if hasattr(ds, "Y") and out.suffix.lower() != ".npz":  # a pairs file given as NAME
        raise CLIError(f"--out {out}: {args.name} holds pairs (X, Y), saved as .npz only")
    out.parent.mkdir(parents=True, exist_ok=True)
    ds.save(out, overwrite=args.overwrite)
    truth = "with" if ds.generator is not None else "without"
    pairs = f", Y {ds.Y.shape[0]} x {ds.Y.shape[1]}" if hasattr(ds, "Y") else ""
    print(f"wrote {out}: {ds.name}, X {ds.X.shape[0]} x {ds.X.shape[1]}{pairs} {truth} "
          "ground truth")
    return 0


def _subsample(n_rows: int, seed: int) -> Any:
    """At most :data:`_MAX_POINTS` row indices, drawn with the command's seed."""
    import numpy as np

    if n_rows <= _MAX_POINTS:
        return slice(None)
    return np.sort(np.random.default_rng(seed).choice(n_rows, _MAX_POINTS, replace=False))


def _scatter_points(ax: Any, X: Any, title: str, seed: int) -> None:
    """A 2-D data set as a scatter, equal axes (its symmetry is a rotation or a reflection)."""
    rows = X[_subsample(X.shape[0], seed)]
    ax.scatter(rows[:, 0], rows[:, 1], s=2, alpha=0.4, linewidths=0)
    ax.set_aspect("equal")
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title(title)


def _scatter_pairs(ax: Any, ds: Any, n: int, seed: int) -> None:
    """Body 1's position in x and in y, and ``n`` arrows from one to the other."""
    import numpy as np

    rows = _subsample(ds.n_samples, seed)
    x, y = ds.X[rows], ds.Y[rows]
    ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.4, linewidths=0, label="q1 in x")
    ax.scatter(y[:, 0], y[:, 1], s=2, alpha=0.4, linewidths=0, label="q1 in y")
    picked = np.random.default_rng(seed).choice(x.shape[0], min(n, x.shape[0]), replace=False)
    for i in picked:
        ax.annotate("", xy=(y[i, 0], y[i, 1]), xytext=(x[i, 0], x[i, 1]),
                    arrowprops={"arrowstyle": "->", "color": "black", "linewidth": 0.8})
    step = (ds.params or {}).get("step")
    ax.set_aspect("equal")
    ax.set_xlabel("q1x")
    ax.set_ylabel("q1y")
    ax.set_title(f"{ds.name}: body 1 in {x.shape[0]} pairs"
                 + (f" (y = x after {step:g})" if step is not None else ""))
    ax.legend(loc="upper right", fontsize="small", markerscale=4)


def _save_figure(fig: Any, out: Path) -> None:
    """``fig`` rendered in the format of ``out``'s suffix, written atomically."""
    from ..runs import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format=out.suffix[1:].lower() or None, dpi=110)  # format by suffix
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, buffer.getvalue())
    print(f"wrote {out}")


def _cmd_show_pde(args: argparse.Namespace, info: Any) -> int:
    """``data show PDE``: ``--n`` trajectories (at most 3) and the true symmetry fields."""
    from .. import plot

    if args.n < 1:
        raise CLIError(f"--n must be a positive integer, got {args.n}")
    out = Path(args.out) if args.out else Path(f"{info.name}.png")
    check_output(out, kind="file", overwrite=args.overwrite)
    shown = min(args.n, _MAX_TRAJECTORIES)
    data = _make_pde(args, info, shown if args.n_samples is None else args.n_samples)
    _save_figure(plot.pde_dataset(data, n=shown), out)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from matplotlib.figure import Figure

    from .. import plot

    info = _pde_info(args.name)
    if info is not None:
        return _cmd_show_pde(args, info)
    if args.out:
        check_output(Path(args.out), kind="file", overwrite=args.overwrite)
    ds = dataset_from_args(args)
    out = Path(args.out) if args.out else Path(f"{Path(ds.name).stem}.png")
    check_output(out, kind="file", overwrite=args.overwrite)
    panels = 2 if ds.generator is not None else 1
    fig = Figure(figsize=(5.5 * panels, 4.2), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    if hasattr(ds, "Y"):
        _scatter_pairs(axes[0], ds, args.n, args.seed)
    elif ds.dim == 2:
        _scatter_points(axes[0], ds.X, f"{ds.name}: {min(ds.n_samples, _MAX_POINTS)} samples",
                        args.seed)
    else:
        plot.signal_samples(ds.X, n=args.n, ax=axes[0], random_state=args.seed,
                            title=f"{ds.name}: {args.n} samples")
    if ds.generator is not None:
        plot.generator_heatmaps(ds.generator, axes=[axes[1]], titles=("true generator G",))
        if ds.generator.shape[0] <= 8:  # a few entries: one integer tick per row and column
            axes[1].set_xticks(range(ds.generator.shape[0]))
            axes[1].set_yticks(range(ds.generator.shape[0]))
    _save_figure(fig, out)
    return 0


def _add_file_options(sub: argparse.ArgumentParser, out: str, *, required: bool,
                      metavar: str) -> None:
    add_data_options(sub, positional=True, metavar="NAME",
                     data_help="built-in data set (see 'data list') or a .npy/.npz/.csv file",
                     dim_help="signal dimension (odd; fixed: 2 for the 2-D toys, 8 for two-body)",
                     n_samples_help="number of samples (trajectories for a PDE)")
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

    show = actions.add_parser("show", help="save a PNG of sample signals (a scatter for 2-D sets "
                              "and pairs; trajectories u(x, t) for a PDE) and the true generator "
                              "(a PDE's symmetry fields)")
    _add_file_options(show, "PNG path (default NAME.png)", required=False, metavar="PNG")
    show.add_argument("--n", type=int, default=9, help="number of samples to draw (at most "
                      f"{_MAX_TRAJECTORIES} trajectories for a PDE)")
    show.set_defaults(handler=_cmd_show, accept_pairs=True)

    make = actions.add_parser("make", help="generate a data set and save it")
    _add_file_options(make, "output file: .npz (keeps the ground truth; the only choice for "
                      "pairs and PDEs), .npy or .csv (samples only)", required=True,
                      metavar="FILE")
    make.set_defaults(handler=_cmd_make, accept_pairs=True)
