"""``symmetrykit lie discover|enforce|promote``: the Lie-derivative framework on the command line.

Each command is one call of :mod:`symmetrykit.liederiv` plus loading (one read of each file,
:func:`symmetrykit.datasets.load_xy`), printing and a run directory (config, arrays, metrics,
figures).

``lie discover --method pde`` (chosen by ``--method auto`` for a built-in PDE name) finds the Lie
point symmetries of PDE trajectories (:func:`symmetrykit.liederiv.discover_pde`): ``--data`` is
a PDE of :data:`symmetrykit.datasets.PDE_NAMES` or an ``.npz`` with ``u``, ``x``, ``t``; see
:mod:`symmetrykit.cli._lie_pde`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import CLIError, is_data_file, print_evaluation, run_directory, slug
from ._lie_pde import DEFAULT_TRAJECTORIES, check_pde_options, cmd_discover_pde, is_pde_name
from ._options import add_data_options, add_group, add_run_options, add_verb

__all__ = ["add_parser"]

_OUTPUT_CHOICES = ("invariant", "tangent", "same")
_DISCOVER_METHODS = ("auto", "model", "density", "tangent", "pde")
_DEFAULT_DEGREE = 3
_DEFAULT_NEIGHBORS = 20


def _gamma(text: str) -> float | None:
    """``--gamma``: a non-negative number, or ``none`` for the interpolating program."""
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0 or 'none', got {text!r}")
    return value


def _load(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """Inputs X, targets Y (or None) and the true generator (or None).

    A file is read once (:func:`~symmetrykit.datasets.load_xy`): an ``.npz`` with ``X`` (and
    ``Y``), or a ``.npy``/``.csv`` of X with ``--targets FILE``. Any other name is a built-in
    data set (data only).
    """
    from .. import datasets

    if is_data_file(args.data):
        ds, y = datasets.load_xy(args.data, args.targets)
        return ds.X, y, ds.generator
    if args.targets is not None:
        raise CLIError("--targets applies to data files, not to built-in data sets")
    ds = datasets.make_dataset(
        args.data, n_samples=args.n_samples, dim=args.dim, random_state=args.seed
    )
    return ds.X, None, ds.generator


def _algebra(text: str | None, n_features: int) -> Any:
    from ..lie import algebra_from_name, gl

    algebra = gl(n_features) if text is None else algebra_from_name(text)
    if algebra.space_dim != n_features:
        raise CLIError(
            f"--algebra {algebra.name} acts on R^{algebra.space_dim} but the data have "
            f"{n_features} features"
        )
    return algebra


def _output_action(choice: str, algebra: Any) -> Any:
    if choice == "same":
        if algebra.affine:
            raise CLIError("--output same needs a linear algebra; use tangent for affine ones")
        return algebra
    return None if choice == "invariant" else choice


def _run_name(args: argparse.Namespace) -> str:
    """The data's name for the default run directory, known without reading or generating."""
    if is_data_file(args.data):
        return Path(args.data).stem
    from .. import datasets

    return datasets.get_dataset_info(args.data).name


def _save_discovery(run: Any, result: Any, truth: Any = None) -> dict[str, Any]:
    from ..plot import generator_grid, singular_spectrum

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
        from ..metrics import exponential_similarity

        score, step = exponential_similarity(result.algebra.generators[0], truth)
        metrics["similarity_to_true_generator"] = score
        metrics["step_of_true_generator"] = step
    run.save_arrays(**arrays)
    run.save_metrics(metrics)
    run.save_figure(singular_spectrum(result.singular_values, result.nullity,
                                      gap=result.gap), "spectrum")
    # Every symmetry found (or, when none, a figure that says so).
    found = result.candidates.generators[:result.nullity]
    run.save_figure(generator_grid(found, result.singular_values[:result.nullity],
                                   algebra=result.candidates.name.removesuffix(
                                       " (spectral basis)")), "generator")
    return metrics


def _print_discovery(result: Any, metrics: dict[str, Any], path: Path) -> None:
    print(f"wrote {path}")
    print(f"  {result.summary()}")
    if "similarity_to_true_generator" in metrics:
        print(
            f"  most symmetric generator vs the data set's true one: cos "
            f"{metrics['similarity_to_true_generator']:.4f} (expm(t·L), t = "
            f"{metrics['step_of_true_generator']:.3g})"
        )
    if result.algebra is not None:
        import numpy as np

        with np.printoptions(precision=3, suppress=True):
            print(f"  most symmetric generator:\n{result.algebra.generators[0]}")


def _method(args: argparse.Namespace) -> str:
    """``--method``; auto means pde for a built-in PDE without a model or targets."""
    if args.method == "auto" and not args.model and args.targets is None and \
            is_pde_name(args.data):
        return "pde"
    return args.method


def _cmd_discover(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import liederiv
    from ..runs import RunDirectory, staged_directory

    method = _method(args)
    check_pde_options(args, method)
    if method == "pde":
        return cmd_discover_pde(args)
    args.degree = _DEFAULT_DEGREE if args.degree is None else args.degree
    args.output = "invariant" if args.output is None else args.output
    args.neighbors = _DEFAULT_NEIGHBORS if args.neighbors is None else args.neighbors
    # Refuse an occupied or unwritable run directory before reading or generating data.
    out = run_directory(args, Path("runs") / f"lie-discover-{slug(_run_name(args))}")
    x, y, truth = _load(args)
    algebra = _algebra(args.algebra, x.shape[1])
    output = _output_action(args.output, algebra)

    if method == "auto":
        method = "model" if (args.model or y is not None) else "density"
    cut = {"rtol": args.rtol, "n_symmetries": args.n_symmetries, "gap_ratio": args.gap_ratio}
    if method == "model":
        if args.model:
            model = liederiv.load_model(args.model)
            source = f"saved model {args.model}"
            if cut["gap_ratio"] is None and cut["rtol"] is None:
                # As for a fitted polynomial below: a promoted model is symmetric only to its
                # solver's accuracy, an enforced one exactly (a gap of ~1e10 passes this too).
                cut["gap_ratio"] = 1e3
        else:
            if y is None:
                raise CLIError("--method model needs --model RUN_DIR or targets to fit a model to")
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
            raise CLIError("--method tangent needs --manifold-dim")
        source = f"tangent spaces (local PCA, {args.neighbors} neighbours)"
        result = liederiv.discover_tangent(
            x, algebra, manifold_dim=args.manifold_dim, n_neighbors=args.neighbors, **cut
        )

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
    with staged_directory(out, overwrite=args.overwrite) as stage:
        metrics = _save_discovery(RunDirectory.create(stage, config), result, truth)
    print(f"  source: {source}")
    _print_discovery(result, metrics, out)
    return 0


def _fit_and_save(args: argparse.Namespace, verb: str, make_estimator: Any, extra: dict) -> int:
    """Read the data once, fit ``make_estimator(algebra, output)``, save it and report."""
    from .. import datasets, liederiv
    from ..runs import staged_directory

    # Refuse an occupied or unwritable run directory before reading data or fitting.
    out = run_directory(args, Path("runs") / f"lie-{verb}-{slug(Path(args.data).stem)}")
    ds, y = datasets.load_xy(args.data, args.targets)
    if y is None:
        raise CLIError(f"lie {verb} fits a model: give targets (Y in the .npz or --targets FILE)")
    x = ds.X
    algebra = _algebra(args.algebra, x.shape[1])
    estimator = make_estimator(algebra, _output_action(args.output, algebra))
    estimator.fit(x, y if y.shape[1] > 1 else y[:, 0])
    evaluation = liederiv.evaluate(estimator, liederiv.RegressionData(x, y, name=ds.name))
    settings = {"command": f"lie {verb}", "data": args.data, "algebra": algebra.name,
                "output": args.output, "degree": args.degree, **extra}
    # The model, metrics, evaluation and figures appear together or not at all.
    with staged_directory(out, overwrite=args.overwrite) as stage:
        estimator.save(stage, metrics={**evaluation.metrics, "settings": settings})
        evaluation.save(stage)
    print_evaluation(out, evaluation)
    return 0


def _cmd_enforce(args: argparse.Namespace) -> int:
    from ..liederiv import EquivariantRegressor

    def make(algebra: Any, output: Any) -> Any:
        return EquivariantRegressor(degree=args.degree, algebra=algebra, output_algebra=output,
                                    alpha=args.alpha, random_state=args.seed)

    return _fit_and_save(args, "enforce", make, {"alpha": args.alpha})


def _cmd_promote(args: argparse.Namespace) -> int:
    from ..liederiv import PromotedRegressor

    def make(algebra: Any, output: Any) -> Any:
        return PromotedRegressor(degree=args.degree, algebra=algebra, output_algebra=output,
                                 gamma=args.gamma, random_state=args.seed)

    return _fit_and_save(args, "promote", make, {"gamma": args.gamma})


def _add_common(sub: argparse.ArgumentParser, *, needs_targets: bool) -> None:
    # discover (needs_targets False) leaves --output and --degree None when not given, so that
    # --method pde can refuse --output and choose its own default degree.
    if needs_targets:
        sub.add_argument("--data", required=True, metavar="PATH",
                         help=".npz with X (and Y), or a .npy/.csv of X")
    else:
        add_data_options(sub, dest="data", metavar="PATH|NAME", noise=False,
                         data_help=".npz with X (and Y), or a .npy/.csv of X; or a built-in data "
                         "set name (data only). With --method pde: a PDE (kdv, ks, burgers, "
                         "nkdv, ckdv, heat) or an .npz with u (n_trajectories, nt, nx), x (nx,) "
                         "and t (nt,)", dim_help="dimension of a built-in data set")
    sub.add_argument("--targets", default=None, metavar="PATH",
                     help=".npy/.csv of model outputs Y (one row per sample)")
    sub.add_argument("--algebra", default=None,
                     help="candidate algebra, e.g. so(3), gl(4), se(5) (default gl(n))")
    sub.add_argument("--output", choices=_OUTPUT_CHOICES,
                     default=None if not needs_targets else "invariant",
                     help="output action: invariant (scalar outputs, default), tangent "
                     "(vector fields), same (outputs transform like inputs)")
    sub.add_argument("--degree", type=int, default=None if not needs_targets else _DEFAULT_DEGREE,
                     help="polynomial degree of the model / test functions (default 3)"
                     if needs_targets else "polynomial degree of the model / test functions "
                     "(default 3), or with --method pde of the generator library: monomials "
                     "in t, x, u (default 2)")
    add_run_options(sub, out="run directory (default runs/lie-VERB-NAME)",
                    seed="random seed (default 0)")


def add_parser(commands: Any) -> None:
    """Register ``lie discover|enforce|promote`` on the top-level subparsers."""
    verbs = add_group(
        commands, "lie",
        help="Lie-derivative framework: discover, enforce or promote symmetry",
        description="Otto et al.'s Lie-derivative framework. Algebras are named like gl(3), "
        "so(3), so(1,3), se(2), t(2), scaling(3) or so(3)^4 (four stacked copies).",
    )
    disc = add_verb(
        verbs, "discover", handler=_cmd_discover,
        help="symmetries of a saved model, of a model fitted to (X, Y), of data alone, or "
        "the Lie point symmetries of PDE trajectories",
        description="Find the symmetry algebra among the candidates: the nullspace of the "
        "Lie-derivative operator of a model, or (data only) of the weak-form density "
        "invariance or of tangent spaces. With --method pde (e.g. --data kdv): identify the "
        "evolution equation u_t = F(...) from the trajectories, then find its Lie point "
        "symmetries ξ ∂x + τ ∂t + φ ∂u with components in a function library, counted at the "
        "largest gap of the symmetry condition's spectrum; for a built-in PDE, also report "
        "the Grassmann distance to the true symmetries the library can express.",
    )
    _add_common(disc, needs_targets=False)
    disc.add_argument("--model", default=None, metavar="RUN_DIR",
                      help="a model saved by 'lie enforce' or 'lie promote'")
    disc.add_argument("--method", choices=_DISCOVER_METHODS, default="auto",
                      help="auto (default): model if a model or targets are given, pde for a "
                      "built-in PDE name, else density")
    disc.add_argument("--manifold-dim", type=int, default=None,
                      help="intrinsic dimension for --method tangent")
    disc.add_argument("--neighbors", type=int, default=None,
                      help="neighbours per local PCA for --method tangent (default 20)")
    disc.add_argument("--rtol", type=float, default=None,
                      help="relative singular-value threshold of a symmetry")
    disc.add_argument("--gap-ratio", type=float, default=None,
                      help="cut at the largest spectral gap if at least this ratio (--method "
                      "pde: default 10)")
    disc.add_argument("--n-symmetries", type=int, default=None,
                      help="report exactly this many symmetries")
    pde = disc.add_argument_group("--method pde")
    pde.add_argument("--library", action="append", default=None, metavar="FUNC",
                     help="extra generator function in t, x, u beside the monomials, e.g. "
                     "'exp(t/50)' (repeatable)")
    pde.add_argument("--coefficient-function", action="append", default=None, metavar="FUNC",
                     help="function of t (at most linear in x) that equation terms may carry, "
                     "e.g. 'exp(t/50)' (repeatable; default 1 and centred t and x; give '1' "
                     "too)")
    pde.add_argument("--n-trajectories", type=int, default=None,
                     help=f"trajectories of a built-in PDE (default {DEFAULT_TRAJECTORIES})")
    pde.add_argument("--noise", type=float, default=None, metavar="FRACTION",
                     help="add Gaussian noise of FRACTION × std(u) to a built-in PDE's "
                     "trajectories, seeded by --seed (default 0)")

    for verb, handler, what, option in (
            ("enforce", _cmd_enforce,
             ("fit a polynomial model constrained to the algebra's symmetry",
              "Fit F(x) = W φ(x) with W in the nullspace of W ↦ L_ξ F_W (exactly symmetric), "
              "save it and report its residual Lie derivatives."),
             ("--alpha", 0.0, float, "ridge penalty (default 0)")),
            ("promote", _cmd_promote,
             ("fit a polynomial model with the convex nuclear-norm symmetry penalty",
              "Fit F(x) = W φ(x) minimising ‖ΦW − Y‖²/n + γ‖ξ ↦ L_ξ F_W‖_*, save it and "
              "report the symmetry it kept."),
             ("--gamma", 1e-2, _gamma, "weight of the nuclear-norm penalty (default 1e-2, as "
              "PromotedRegressor's); 'none' interpolates: the most symmetric model with "
              "ΦW = Y exactly"))):
        sub = add_verb(verbs, verb, help=what[0], description=what[1], handler=handler)
        _add_common(sub, needs_targets=True)
        name, default, kind, text = option
        sub.add_argument(name, type=kind, default=default, help=text)
