"""``symmetrykit lie discover|enforce|promote``: the Lie-derivative framework on the command line.

Each command is one call of :mod:`symmetrykit.liederiv` plus loading, printing and a run
directory (config, arrays, metrics, figures).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["add_lie_parser"]

_OUTPUT_CHOICES = ("invariant", "tangent", "same")
_DISCOVER_METHODS = ("auto", "model", "density", "tangent")


def _error(message: str) -> Exception:
    from .cli import CLIError

    return CLIError(message)


def _read_array(path: Path, what: str) -> np.ndarray:
    """A numeric 2-D array from .npy or .csv (no pickle)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise _error(f"{what} {path}: no such file")
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".csv":
            array = np.loadtxt(path, delimiter=",", ndmin=2)
        else:
            raise _error(f"{what} {path}: expected a .npy or .csv file")
    except ValueError as exc:
        raise _error(f"{what} {path}: cannot read numbers ({exc})") from exc
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    return array


def _load_xy(data: str, targets: str | None) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Inputs and (optional) targets: an .npz with ``X`` and ``Y``/``y``, or X and Y files."""
    path = Path(data)
    if path.suffix.lower() == ".npz":
        if not path.is_file():
            raise _error(f"data {path}: no such file")
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        except ValueError as exc:
            raise _error(f"data {path}: unreadable archive ({exc})") from exc
        if "X" not in arrays:
            raise _error(f"data {path}: the archive needs an array named 'X'")
        x = np.asarray(arrays["X"], dtype=np.float64)
        y = arrays.get("Y", arrays.get("y"))
        if y is not None and targets is not None:
            raise _error(f"data {path} already holds targets; drop --targets")
    else:
        x, y = _read_array(path, "data"), None
    if targets is not None:
        y = _read_array(Path(targets), "targets")
    if y is not None:
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 1:
            y = y[:, None]
        if y.shape[0] != x.shape[0]:
            raise _error(f"X has {x.shape[0]} rows but the targets have {y.shape[0]}")
        if not np.all(np.isfinite(y)):
            raise _error("the targets contain NaN or inf")
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise _error("X must be a finite 2-D array (n_samples, n_features)")
    return x, y, path.stem


def _algebra(text: str | None, n_features: int) -> Any:
    from .lie import algebra_from_name, gl

    algebra = gl(n_features) if text is None else algebra_from_name(text)
    if algebra.space_dim != n_features:
        raise _error(
            f"--algebra {algebra.name} acts on R^{algebra.space_dim} but the data have "
            f"{n_features} features"
        )
    return algebra


def _output_action(choice: str, algebra: Any) -> Any:
    if choice == "same":
        if algebra.affine:
            raise _error("--output same needs a linear algebra; use tangent for affine ones")
        return algebra
    return None if choice == "invariant" else choice


def _out_dir(args: argparse.Namespace, verb: str, stem: str) -> Path:
    from .cli import _check_out_free

    out = Path(args.out) if args.out else Path("runs") / f"lie-{verb}-{stem}"
    _check_out_free(out, args.overwrite)
    return out


def _save_discovery(run: Any, result: Any, truth: Any = None) -> dict[str, Any]:
    from .plot import generator_heatmaps, singular_spectrum

    arrays = {
        "singular_values": result.singular_values,
        "candidates": result.candidates.generators,
    }
    if result.algebra is not None:
        arrays["generators"] = result.algebra.generators
    metrics: dict[str, Any] = {
        "nullity": result.nullity,
        "gap": result.gap,
        "closure_residual": result.closure_residual,
        "method": result.method,
        "singular_values": result.singular_values.tolist(),
        **{f"detail_{key}": value for key, value in result.details.items()},
    }
    if truth is not None and result.algebra is not None:
        from .metrics import exponential_similarity

        score, step = exponential_similarity(result.algebra.generators[0], truth)
        metrics["similarity_to_true_generator"] = score
        metrics["step_of_true_generator"] = step
    run.save_arrays(**arrays)
    run.save_metrics(metrics)
    run.save_figure(singular_spectrum(result.singular_values, result.nullity), "spectrum")
    if result.algebra is not None:
        run.save_figure(generator_heatmaps(result.algebra.generators[0]), "generator")
    return metrics


def _print_discovery(result: Any, metrics: dict[str, Any], run: Any) -> None:
    print(f"wrote {run.path}")
    print(f"  {result.summary()}")
    if "similarity_to_true_generator" in metrics:
        print(
            f"  most symmetric generator vs the data set's true one: cos "
            f"{metrics['similarity_to_true_generator']:.4f} (expm(t·L), t = "
            f"{metrics['step_of_true_generator']:.3g})"
        )
    if result.algebra is not None:
        np.set_printoptions(precision=3, suppress=True)
        print(f"  most symmetric generator:\n{result.algebra.generators[0]}")


def _cmd_lie_discover(args: argparse.Namespace) -> int:
    from . import datasets, liederiv
    from .runs import RunDirectory

    truth = None
    y = None
    path = Path(args.data)
    if path.suffix.lower() in {".npy", ".npz", ".csv"}:
        if path.suffix.lower() == ".npz" and args.targets is None:
            # A saved SymmetryDataset (or any archive with X): targets only if it holds them.
            x, y, stem = _load_xy(args.data, None)
        else:
            x, y, stem = _load_xy(args.data, args.targets)
    else:
        ds = datasets.make_dataset(
            args.data, n_samples=args.n_samples, dim=args.dim, random_state=args.seed
        )
        x, stem, truth = ds.X, ds.name, ds.generator
    algebra = _algebra(args.algebra, x.shape[1])
    output = _output_action(args.output, algebra)

    method = args.method
    if method == "auto":
        method = "model" if (args.model or y is not None) else "density"
    cut = {"rtol": args.rtol, "n_symmetries": args.n_symmetries, "gap_ratio": args.gap_ratio}
    if method == "model":
        if args.model:
            model = liederiv.load_model(args.model)
            source = f"saved model {args.model}"
            if cut["gap_ratio"] is None and cut["rtol"] is None:
                cut["rtol"] = 1e-6
        else:
            if y is None:
                raise _error("--method model needs --model RUN_DIR or targets to fit a model to")
            dictionary = liederiv.PolynomialDictionary(x.shape[1], args.degree)
            coef, *_ = np.linalg.lstsq(dictionary.transform(x), y, rcond=None)
            model = liederiv.DictionaryModel(dictionary, coef.T)
            source = f"least-squares polynomial of degree {args.degree} fitted to the data"
            if cut["gap_ratio"] is None and cut["rtol"] is None:
                cut["gap_ratio"] = 1e3  # a fitted model is symmetric only to its fitting error
        result = liederiv.discover(model, x, algebra, output_algebra=output, **cut)
    elif method == "density":
        source = f"weak-form density invariance, test functions of degree ≤ {args.degree}"
        result = liederiv.discover_density(x, algebra, degree=args.degree, **cut)
    else:
        if args.manifold_dim is None:
            raise _error("--method tangent needs --manifold-dim")
        source = f"tangent spaces (local PCA, {args.neighbors} neighbours)"
        result = liederiv.discover_tangent(
            x, algebra, manifold_dim=args.manifold_dim, n_neighbors=args.neighbors, **cut
        )

    out = _out_dir(args, "discover", stem)
    config = {
        "command": "lie discover",
        "data": args.data,
        "method": method,
        "source": source,
        "algebra": algebra.name,
        "output": args.output,
        "degree": args.degree,
        **{key: value for key, value in cut.items() if value is not None},
    }
    run = RunDirectory.create(out, config, overwrite=args.overwrite)
    metrics = _save_discovery(run, result, truth)
    print(f"  source: {source}")
    _print_discovery(result, metrics, run)
    return 0


def _general_candidates(algebra: Any, output: Any) -> tuple[Any, Any]:
    """gl(n) (or gl(n) ⊕ t(n) for affine algebras) with the output action of the fit."""
    from .lie import LieAlgebra, gl

    n = algebra.space_dim
    general = gl(n)
    if algebra.affine:
        stack = np.zeros((n * n + n, n + 1, n + 1))
        stack[: n * n, :n, :n] = general.generators
        stack[n * n :, np.arange(n), n] = np.eye(n)
        general = LieAlgebra(stack, name=f"aff({n})", affine=True)
    if isinstance(output, LieAlgebra):
        return general, gl(n)
    return general, output


def _fit_and_save(args: argparse.Namespace, verb: str, estimator: Any, extra: dict) -> int:
    from . import liederiv

    x, y, stem = _load_xy(args.data, args.targets)
    if y is None:
        raise _error(f"lie {verb} fits a model: give targets (Y in the .npz or --targets FILE)")
    algebra = estimator.algebra
    estimator.fit(x, y if y.shape[1] > 1 else y[:, 0])
    out = _out_dir(args, verb, stem)
    predictions = estimator.predict(x).reshape(len(x), -1)
    rmse = float(np.sqrt(np.mean((predictions - y) ** 2)))
    derivative = np.asarray(
        estimator.lie_derivative(x, algebra, estimator.output_algebra)
    )
    scale = max(float(np.max(np.abs(predictions))), 1e-300)
    relative_defect = float(np.max(np.abs(derivative)) / scale)
    # Which symmetries did the fitted model end up with? Asked among all linear (or affine)
    # fields, since a spectrum relative to its own largest value says nothing for one candidate.
    candidates, paired = _general_candidates(algebra, estimator.output_algebra)
    check = liederiv.discover(estimator, x, candidates, output_algebra=paired, gap_ratio=1e3)
    config = {
        "command": f"lie {verb}",
        "data": args.data,
        "algebra": algebra.name,
        "output": args.output,
        "degree": args.degree,
        **extra,
    }
    run = liederiv.save_model(estimator, out, config=config, overwrite=args.overwrite)
    metrics = {
        "train_rmse": rmse,
        "max_relative_lie_derivative": relative_defect,
        "nullity": check.nullity,
        "singular_values": check.singular_values.tolist(),
        **{key: getattr(estimator, key) for key in ("n_free_parameters_",)
           if hasattr(estimator, key)},
    }
    run.save_metrics(metrics)
    from .plot import singular_spectrum

    run.save_figure(singular_spectrum(check.singular_values, check.nullity), "spectrum")
    print(f"wrote {run.path}")
    print(f"  {type(estimator).__name__}: train RMSE {rmse:.4g}, max |L_ξ F| / max |F| = "
          f"{relative_defect:.2e} over the {algebra.name} generators")
    print(f"  symmetries of the fitted model: {check.summary()}")
    return 0


def _cmd_lie_enforce(args: argparse.Namespace) -> int:
    from .liederiv import EquivariantRegressor

    x_features = _load_xy(args.data, args.targets)[0].shape[1]
    algebra = _algebra(args.algebra, x_features)
    estimator = EquivariantRegressor(
        degree=args.degree,
        algebra=algebra,
        output_algebra=_output_action(args.output, algebra),
        alpha=args.alpha,
        random_state=args.seed,
    )
    return _fit_and_save(args, "enforce", estimator, {"alpha": args.alpha})


def _cmd_lie_promote(args: argparse.Namespace) -> int:
    from .liederiv import PromotedRegressor

    x_features = _load_xy(args.data, args.targets)[0].shape[1]
    algebra = _algebra(args.algebra, x_features)
    estimator = PromotedRegressor(
        degree=args.degree,
        algebra=algebra,
        output_algebra=_output_action(args.output, algebra),
        gamma=args.gamma,
        random_state=args.seed,
    )
    return _fit_and_save(args, "promote", estimator, {"gamma": args.gamma})


def add_lie_parser(commands: Any) -> None:
    """Register ``lie discover|enforce|promote`` on the top-level subparsers."""
    lie = commands.add_parser(
        "lie",
        help="Lie-derivative framework: discover, enforce or promote symmetry",
        description="Otto et al.'s Lie-derivative framework. Algebras are named like gl(3), "
        "so(3), so(1,3), se(2), t(2), scaling(3) or so(3)^4 (four stacked copies).",
    )
    verbs = lie.add_subparsers(dest="lie_command", metavar="VERB", required=True)

    def common(sub: argparse.ArgumentParser, *, needs_targets: bool) -> None:
        sub.add_argument(
            "--data",
            required=True,
            metavar="PATH" if needs_targets else "PATH|NAME",
            help=".npz with X (and Y), or a .npy/.csv of X"
            + ("" if needs_targets else "; or a built-in data set name (data only)"),
        )
        sub.add_argument("--targets", default=None, metavar="PATH",
                         help=".npy/.csv of model outputs Y (one row per sample)")
        sub.add_argument("--algebra", default=None,
                         help="candidate algebra, e.g. so(3), gl(4), se(5) (default gl(n))")
        sub.add_argument("--output", choices=_OUTPUT_CHOICES, default="invariant",
                         help="output action: invariant (scalar outputs, default), tangent "
                         "(vector fields), same (outputs transform like inputs)")
        sub.add_argument("--degree", type=int, default=3,
                         help="polynomial degree of the model / test functions (default 3)")
        sub.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        sub.add_argument("--out", default=None, help="run directory (default runs/lie-VERB-NAME)")
        sub.add_argument("--overwrite", action="store_true",
                         help="replace the files of an existing run directory")

    disc = verbs.add_parser(
        "discover",
        help="symmetries of a saved model, of a model fitted to (X, Y), or of data alone",
        description="Find the symmetry algebra among the candidates: the nullspace of the "
        "Lie-derivative operator of a model, or (data only) of the weak-form density "
        "invariance or of tangent spaces.",
    )
    common(disc, needs_targets=False)
    disc.add_argument("--model", default=None, metavar="RUN_DIR",
                      help="a model saved by 'lie enforce' or 'lie promote'")
    disc.add_argument("--method", choices=_DISCOVER_METHODS, default="auto",
                      help="auto (default): model if a model or targets are given, else density")
    disc.add_argument("--manifold-dim", type=int, default=None,
                      help="intrinsic dimension for --method tangent")
    disc.add_argument("--neighbors", type=int, default=20,
                      help="neighbours per local PCA for --method tangent (default 20)")
    disc.add_argument("--rtol", type=float, default=None,
                      help="relative singular-value threshold of a symmetry")
    disc.add_argument("--gap-ratio", type=float, default=None,
                      help="cut at the largest spectral gap if at least this ratio")
    disc.add_argument("--n-symmetries", type=int, default=None,
                      help="report exactly this many symmetries")
    disc.add_argument("--n-samples", type=int, default=None,
                      help="samples of a built-in data set")
    disc.add_argument("--dim", type=int, default=None, help="dimension of a built-in data set")
    disc.set_defaults(handler=_cmd_lie_discover)

    enforce = verbs.add_parser(
        "enforce",
        help="fit a polynomial model constrained to the algebra's symmetry",
        description="Fit F(x) = W φ(x) with W in the nullspace of W ↦ L_ξ F_W (exactly "
        "symmetric), save it and report its residual Lie derivatives.",
    )
    common(enforce, needs_targets=True)
    enforce.add_argument("--alpha", type=float, default=0.0, help="ridge penalty (default 0)")
    enforce.set_defaults(handler=_cmd_lie_enforce)

    promote = verbs.add_parser(
        "promote",
        help="fit a polynomial model with the convex nuclear-norm symmetry penalty",
        description="Fit F(x) = W φ(x) minimising ‖ΦW − Y‖²/n + γ‖ξ ↦ L_ξ F_W‖_*, save it and "
        "report the symmetry it kept.",
    )
    common(promote, needs_targets=True)
    promote.add_argument("--gamma", type=float, default=1e-2,
                         help="weight of the nuclear-norm penalty (default 1e-2)")
    promote.set_defaults(handler=_cmd_lie_promote)
