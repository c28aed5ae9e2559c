"""The ``symmetrykit`` command line: each command is one API call plus printing and saving."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import datasets

__all__ = ["main"]


class CLIError(Exception):
    """A problem with the user's request, reported as one line without a traceback."""


def _dataset_from_args(args: argparse.Namespace) -> datasets.SymmetryDataset:
    """A built-in data set by name, or a user file when NAME looks like a path."""
    name = args.name
    if Path(name).suffix.lower() in {".npy", ".npz", ".csv"}:
        if (args.dim is not None or args.n_samples is not None
                or getattr(args, "noise", None) is not None):
            raise CLIError("--dim, --n-samples and --noise apply to built-in data sets, "
                           "not to files")
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


_FILE_SUFFIXES = {".npy", ".npz", ".csv"}
_PROGRESS_CHOICES = ("auto", "none", "text", "tqdm")
# History entries that are schedules or bookkeeping rather than loss terms.
_NOT_LOSS_TERMS = {"step", "tau", "model_lr", "restart"}


def _is_data_file(name: str) -> bool:
    return Path(name).suffix.lower() in _FILE_SUFFIXES


def _default_run_dir(dataset_name: str, seed: int) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "_", dataset_name).strip("._") or "data"
    return Path("runs") / f"discover-{slug}-seed{seed}"


def _check_device(device: str) -> None:
    if device != "cpu" and not re.fullmatch(r"cuda(:\d+)?", device):
        raise CLIError(f"--device must be 'cpu' or 'cuda', got {device!r}")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise CLIError("--device cuda requested but CUDA is not available; use --device cpu")


def _check_out_free(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise CLIError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise CLIError(f"run directory {out} already exists and is not empty; pass --overwrite "
                       "to replace it or --out to choose another")


def _make_monitor(ds: datasets.SymmetryDataset) -> Callable[..., dict[str, float]] | None:
    """Similarities to the known ground truth at each logged step (never seen by the model)."""
    from .metrics import generator_similarity, representation_similarity

    if ds.generator is None:
        return None
    truth = ds.generator
    truth_squared = truth @ truth
    transform = ds.transform

    def monitor(generator: Any, group_convolution: Any) -> dict[str, float]:
        values = {"cos": generator_similarity(generator, truth),
                  "cos2": generator_similarity(generator, truth_squared)}
        if transform is not None:
            values["phi_cos"] = representation_similarity(group_convolution, transform,
                                                          cyclic=ds.cyclic)
        return values

    return monitor


def _closest_truth(learned: Any, truth: Any) -> tuple[Any, str]:
    """``G`` or its inverse (pseudo-inverse), whichever the learned generator is closer to."""
    import numpy as np

    from .metrics import frobenius_cosine

    inverse = np.linalg.pinv(truth)
    if frobenius_cosine(learned, inverse) > frobenius_cosine(learned, truth):
        return inverse, "true G⁻¹"
    return truth, "true G"


def _expected_group_convolution(phi: Any, transform: Any) -> tuple[Any, str]:
    """The ideal ``Φ`` closest to the learned one among ``±Qᵀ`` and ``±J Qᵀ`` (J reverses rows).

    The direction of the learned group and the sign of the filter are arbitrary, so the error
    panel is only meaningful against the matching candidate.
    """
    from .metrics import frobenius_cosine

    q_t = transform.T
    candidates = [(q_t, "Qᵀ"), (-q_t, "−Qᵀ"), (q_t[::-1], "J Qᵀ"), (-q_t[::-1], "−J Qᵀ")]
    return max(candidates, key=lambda item: frobenius_cosine(phi, item[0]))


def _discover_metrics(lens: Any, ds: datasets.SymmetryDataset, source: str) -> dict[str, Any]:
    import numpy as np

    from .metrics import generator_similarity, representation_similarity

    dim = ds.dim
    metrics: dict[str, Any] = {
        "dataset": {
            "name": ds.name,
            "source": source,
            "params": ds.params,
            "n_samples": ds.n_samples,
            "dim": dim,
            "ground_truth": ds.generator is not None,
        },
        "steps": int(lens.n_steps),
        "seed": lens.random_state,
        "device": lens.device,
        "wall_s": float(lens.fit_time_["wall_s"]),
        "cpu_s": float(lens.fit_time_["cpu_s"]),
        "filter_argmax": int(np.argmax(np.abs(lens.filter_))),
        "filter_centre": dim // 2,
    }
    losses = lens.history_.get("loss")
    if losses:
        metrics["final_loss"] = losses[-1]
    # Which start each run had and its final unsupervised loss: how the kept run was chosen.
    metrics["runs"] = [{"start": start, "final_loss": loss}
                       for start, loss in zip(lens.restart_starts_, lens.restart_losses_,
                                              strict=True)]
    metrics["kept_run"] = int(lens.best_restart_)
    if ds.generator is not None:
        truth = ds.generator
        metrics["cos"] = generator_similarity(lens.generator_, truth)
        metrics["cos2"] = generator_similarity(lens.generator_, truth @ truth)
        # References for reading "cos": the truth against itself (1 unless G is degenerate),
        # the identity (an untrained lens) and G² (a lens that learned two steps at once).
        metrics["ground_truth_similarity"] = {
            "self": generator_similarity(truth, truth),
            "identity": generator_similarity(np.eye(dim), truth),
            "square": generator_similarity(truth @ truth, truth),
        }
    if ds.transform is not None:
        metrics["phi_cos"] = representation_similarity(lens.group_convolution_, ds.transform,
                                                       cyclic=ds.cyclic)
    return metrics


def _history_panels(history: dict[str, list[float]]) -> list[tuple[str, list[str]]]:
    """Keys to plot: loss terms in one panel, ground-truth similarities and τ in another."""
    steps = history.get("step", [])
    same_length = [k for k, v in history.items() if len(v) == len(steps) and k != "step"]
    tracked = [k for k in ("cos", "cos2", "phi_cos") if k in same_length]
    losses = [k for k in same_length if k not in _NOT_LOSS_TERMS and k not in tracked]
    panels = []
    if losses:
        panels.append(("loss terms", losses))
    if tracked:
        panels.append(("similarity to the ground truth, and τ",
                       tracked + (["tau"] if "tau" in same_length else [])))
    return panels


def _save_discover_figures(run: Any, lens: Any, ds: datasets.SymmetryDataset, seed: int) -> None:
    from matplotlib.figure import Figure

    from . import plot

    learned = lens.generator_
    if ds.generator is not None:
        truth, truth_title = _closest_truth(learned, ds.generator)
        fig = plot.generator_heatmaps(learned, truth, titles=(
            "learned G", truth_title, "error (true − learned)"))
        run.save_figure(fig, "generator")
        run.save_figure(plot.error_histogram(learned, truth), "error_histogram")
    else:
        run.save_figure(plot.generator_heatmaps(learned, titles=("learned G",)), "generator")

    phi = lens.group_convolution_
    if ds.transform is not None:
        expected, label = _expected_group_convolution(phi, ds.transform)
        fig = plot.generator_heatmaps(phi, expected, titles=(
            "learned Φ", f"expected Φ = {label}", "error (expected − learned)"))
    else:
        fig = plot.generator_heatmaps(phi, titles=("learned Φ",))
    run.save_figure(fig, "group_convolution")

    panels = _history_panels(lens.history_)
    if panels:
        fig = Figure(figsize=(6.0 * len(panels), 4.0), layout="constrained")
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (title, keys) in zip(axes, panels, strict=True):
            plot.loss_curves(lens.history_, keys=keys, ax=ax)
            ax.set_title(title)
        run.save_figure(fig, "loss_curves")

    sample = ds.X[: min(ds.n_samples, 1000)]
    fig = plot.before_after(sample, lens.transform(sample), n=4, random_state=seed)
    run.save_figure(fig, "before_after")


# discover's flags (argparse names) that set a SymmetryLens parameter when given.
_DISCOVER_OPTIONS = {"steps": "n_steps", "batch_size": "batch_size", "lr": "model_lr",
                     "warmup_steps": "warmup_steps", "restarts": "n_restarts", "init": "init",
                     "checkpoint": "checkpoint"}


def _cmd_discover(args: argparse.Namespace) -> int:
    for name in ("steps", "batch_size", "n_samples"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
    if args.warmup_steps is not None and args.warmup_steps < 0:
        raise CLIError(f"--warmup-steps must be >= 0, got {args.warmup_steps}")
    if args.lr is not None and not args.lr > 0:
        raise CLIError(f"--lr must be positive, got {args.lr}")
    if args.dim is not None and (args.dim < 3 or args.dim % 2 == 0):
        raise CLIError(f"SymmetryLens needs an odd --dim >= 3, got {args.dim}")
    _check_device(args.device)

    # Name the run (and refuse an occupied one) before generating data or fitting.
    if _is_data_file(args.name):
        ds = _dataset_from_args(args)
        name, source = ds.name, str(args.name)
    else:
        ds = None
        name, source = datasets.get_dataset_info(args.name).name, "built-in"
    out = Path(args.out) if args.out else _default_run_dir(name, args.seed)
    _check_out_free(out, args.overwrite)
    if ds is None:
        ds = _dataset_from_args(args)
    if ds.dim < 3 or ds.dim % 2 == 0:
        raise CLIError(f"SymmetryLens needs an odd dimension >= 3; {source} has dim {ds.dim}")

    from .lens import SymmetryLens
    from .runs import RunDirectory

    options = {param: getattr(args, flag) for flag, param in _DISCOVER_OPTIONS.items()
               if getattr(args, flag) is not None}
    lens = SymmetryLens(random_state=args.seed, device=args.device, progress=args.progress,
                        **options)
    lens.fit(ds.X, monitor=_make_monitor(ds))

    metrics = _discover_metrics(lens, ds, source)
    path = lens.save(out, overwrite=args.overwrite, metrics=metrics)
    _save_discover_figures(RunDirectory.open(path), lens, ds, args.seed)

    truth = "ground truth known" if ds.generator is not None else "no ground truth"
    print(f"wrote {path}")
    print(f"  data     {ds.name}: {ds.n_samples} x {ds.dim}, {truth}")
    if "cos" in metrics:
        print(f"  cos      {metrics['cos']:.4f}  (to G²: {metrics['cos2']:.4f})")
    if "phi_cos" in metrics:
        print(f"  phi_cos  {metrics['phi_cos']:.4f}")
    print(f"  filter   peak at component {metrics['filter_argmax']} "
          f"(centre {metrics['filter_centre']})")
    runs = metrics["runs"]
    print("  runs     " + ", ".join(
        f"{r['start']} start: loss {r['final_loss']:.3f}" + (" (kept)" if i == metrics[
            "kept_run"] else "") for i, r in enumerate(runs)))
    print(f"  time     wall {metrics['wall_s']:.1f} s, CPU {metrics['cpu_s']:.1f} s "
          f"for {metrics['steps']} steps")
    return 0


def _parse_budget(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(s|m|min)?\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise CLIError(f"--budget must be a positive duration such as 300s or 5m, got {text!r}")
    return float(match.group(1)) * (60.0 if match.group(2) in ("m", "min") else 1.0)


def _cmd_compare(args: argparse.Namespace) -> int:
    from .baselines import METHODS, compare
    from .runs import RunDirectory

    budget = _parse_budget(args.budget)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise CLIError(f"--methods: unknown {', '.join(unknown) or '(none given)'}; "
                       f"choose from {', '.join(METHODS)}")
    if _is_data_file(args.name):
        ds = _dataset_from_args(args)
        name = ds.name
    else:
        ds, name = None, datasets.get_dataset_info(args.name).name
    out = Path(args.out) if args.out else Path("runs") / f"compare-{name}-seed{args.seed}"
    _check_out_free(out, args.overwrite)
    if ds is None:
        ds = _dataset_from_args(args)
    results = compare(ds.X, methods, truth=ds.generator, budget=budget, random_state=args.seed,
                      progress=args.progress)
    rows = [r.as_dict() for r in results]
    run = RunDirectory.create(out, {"command": "compare", "data": name, "dim": ds.dim,
                                    "seed": args.seed, "budget_s": budget, "methods": methods},
                              overwrite=args.overwrite)
    run.save_metrics({"results": rows})
    if ds.generator is not None:
        from .plot import comparison_bars

        run.save_figure(comparison_bars([r.label for r in results],
                                        [r.score for r in results]), "scores")
    print(f"wrote {run.path}")
    print(f"  data  {name}: {ds.n_samples} x {ds.dim}, budget {budget:.0f} s per baseline")
    for r in results:
        shown = "n/a (no ground truth)" if r.score is None else f"{r.score:.4f}"
        print(f"  {r.label:15s} {shown:>8s}  [{r.conversion}]  wall {r.wall_s:.1f} s, "
              f"{r.steps} steps")
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

    discover = commands.add_parser(
        "discover", help="fit SymmetryLens to a data set and save a run directory",
        description="Fit SymmetryLens to a built-in data set or a data file and write the "
        "learned generator, metrics and figures to a run directory.")
    discover.add_argument("--data", dest="name", required=True, metavar="NAME|PATH",
                          help="built-in data set (see 'data list') or a .npy/.npz/.csv file")
    discover.add_argument("--dim", type=int, default=None,
                          help="signal dimension of a built-in data set (odd)")
    discover.add_argument("--n-samples", type=int, default=None,
                          help="samples of a built-in data set (default 20000)")
    discover.add_argument("--noise", type=float, default=None,
                          help="relative noise level of a built-in data set")
    discover.add_argument("--steps", type=int, default=None,
                          help="optimisation steps (default: the SymmetryLens default)")
    discover.add_argument("--batch-size", type=int, default=None, help="samples per step")
    discover.add_argument("--lr", type=float, default=None, help="model learning rate")
    discover.add_argument("--warmup-steps", type=int, default=None,
                          help="density-estimator-only steps before the model moves "
                          "(default: the SymmetryLens default)")
    discover.add_argument("--restarts", type=int, default=None,
                          help="independent runs; the one with the lowest unsupervised loss is "
                          "kept (default: the SymmetryLens default)")
    discover.add_argument("--checkpoint", default=None, metavar="DIR",
                          help="write resumable checkpoints to DIR; running the same command "
                          "again resumes from them (a checkpoint of another fit is refused)")
    discover.add_argument("--init", choices=("warm", "random"), default=None,
                          help="warm: start from the closed-form estimate (default); random: "
                          "start at G ≈ I as in the paper")
    discover.add_argument("--seed", type=int, default=0,
                          help="seed of the data and of the fit (default 0)")
    discover.add_argument("--out", default=None,
                          help="run directory (default runs/discover-<data>-seed<S>)")
    discover.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    discover.add_argument("--overwrite", action="store_true",
                          help="replace the files of an existing run directory")
    discover.add_argument("--progress", choices=_PROGRESS_CHOICES, default="auto",
                          help="progress display (default auto: a bar on a terminal)")
    discover.set_defaults(handler=_cmd_discover)

    comp = commands.add_parser(
        "compare", help="fit SymmetryLens, LieGAN and SymmetryGAN-QR and score them alike",
        description="Fit several methods to one data set and score each against the true "
        "minimal generator with the same metric (see symmetrykit.baselines.compare).")
    comp.add_argument("--data", dest="name", required=True, metavar="NAME|PATH",
                      help="built-in data set or a .npy/.npz/.csv file")
    comp.add_argument("--dim", type=int, default=None, help="signal dimension (odd)")
    comp.add_argument("--n-samples", type=int, default=None, help="number of samples")
    comp.add_argument("--methods", default="lens,liegan,symgan",
                      help="comma-separated: lens, liegan, symgan (default: all)")
    comp.add_argument("--budget", default="300s",
                      help="wall-clock training time per baseline, e.g. 300s or 5m")
    comp.add_argument("--seed", type=int, default=0, help="seed of the data and the fits")
    comp.add_argument("--out", default=None, help="run directory (default runs/compare-NAME-seedS)")
    comp.add_argument("--overwrite", action="store_true", help="replace an existing run")
    comp.add_argument("--progress", choices=_PROGRESS_CHOICES, default="auto",
                      help="progress display")
    comp.set_defaults(handler=_cmd_compare)

    from ._cli_lie import add_lie_parser

    add_lie_parser(commands)

    from ._cli_flow import add_flow_parser

    add_flow_parser(commands)

    from ._cli_sweep import add_sweep_parser

    add_sweep_parser(commands)
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
