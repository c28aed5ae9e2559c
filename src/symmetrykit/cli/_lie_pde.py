"""``symmetrykit lie discover --method pde``: the Lie point symmetries of PDE trajectories.

One call of :func:`symmetrykit.liederiv.discover_pde` on a built-in PDE
(:data:`symmetrykit.datasets.PDE_NAMES`, generated with ``--n-trajectories``, ``--seed`` and
optional ``--noise``) or on an ``.npz`` file with arrays ``u`` (n_trajectories, nt, nx), ``x``
(nx,) and ``t`` (nt,); then printing, the distance to the true symmetries the generator library
can express (built-in data), and a run directory: ``config.json``, ``metrics.json``,
``arrays.npz`` and the figures ``spectrum.png`` and ``generators.png``.

Only the standard library is imported at module level (building the parser stays cheap).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import CLIError, check_positive, is_data_file, run_directory, slug

__all__ = ["check_pde_options", "cmd_discover_pde", "is_pde_name", "pde_names", "run_name"]

#: Default number of generated trajectories.
DEFAULT_TRAJECTORIES = 16
#: A true symmetry counts as expressible by the library below this relative fitting residual.
EXPRESSIBLE_RTOL = 1e-6
_ARRAYS = ("u", "x", "t")
# Options of the other methods: (argparse dest, flag, default that means "not given").
_OTHER_METHODS_ONLY = (
    ("targets", "--targets", None), ("algebra", "--algebra", None),
    ("output", "--output", None), ("model", "--model", None),
    ("manifold_dim", "--manifold-dim", None), ("neighbors", "--neighbors", None),
    ("dim", "--dim", None),
)
_PDE_ONLY = (("n_trajectories", "--n-trajectories"), ("noise", "--noise"),
             ("library", "--library"), ("coefficient_function", "--coefficient-function"))
# Options that only change generated data (given with an .npz file they would do nothing).
_BUILT_IN_ONLY = (("n_trajectories", "--n-trajectories"), ("noise", "--noise"))


def pde_names() -> tuple[str, ...]:
    from ..datasets import PDE_NAMES

    return tuple(PDE_NAMES)


def is_pde_name(data: str) -> bool:
    """Whether ``--data`` names a built-in PDE (not a file)."""
    return not is_data_file(data) and data.lower() in pde_names()


def check_pde_options(args: argparse.Namespace, method: str) -> None:
    """Refuse, before any work, options that do not apply to ``method`` and mismatched data."""
    if method != "pde":
        given = [flag for dest, flag in _PDE_ONLY if getattr(args, dest) is not None]
        if given:
            raise CLIError(f"{given[0]} applies to --method pde only")
        if is_pde_name(args.data):
            raise CLIError(f"--data {args.data} is a PDE data set; its symmetries are found by "
                           f"--method pde, not --method {method}")
        return
    if getattr(args, "n_samples", None) is not None:
        raise CLIError("--n-samples does not apply to --method pde; use --n-trajectories")
    for dest, flag, default in _OTHER_METHODS_ONLY:
        if getattr(args, dest, default) != default:
            raise CLIError(f"{flag} does not apply to --method pde")
    if args.rtol is not None:
        raise CLIError("--rtol does not apply to --method pde; use --gap-ratio or "
                       "--n-symmetries")
    choices = ", ".join(pde_names())
    if is_data_file(args.data):
        if Path(args.data).suffix.lower() != ".npz":
            raise CLIError(f"--method pde reads an .npz file with arrays u (n_trajectories, nt, "
                           f"nx), x and t, not {args.data}; or give a PDE: {choices}")
        given = [flag for dest, flag in _BUILT_IN_ONLY if getattr(args, dest) is not None]
        if given:
            raise CLIError(f"{given[0]} applies to built-in PDEs, not to files")
    elif not is_pde_name(args.data):
        import difflib

        from .. import datasets

        known = {info.name for info in datasets.list_datasets()}
        close = difflib.get_close_matches(str(args.data).lower(), pde_names(), n=1)
        what = (f"{args.data!r} is a vector data set" if args.data in known
                else f"unknown PDE {args.data!r}"
                + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise CLIError(f"{what}; --method pde needs PDE trajectories: one of {choices}, or an "
                       ".npz file with arrays u (n_trajectories, nt, nx), x and t")
    check_positive(args, ("n_trajectories",))
    if args.noise is not None and not 0 <= args.noise < float("inf"):
        raise CLIError(f"--noise must be a non-negative fraction of std(u), got {args.noise}")
    if args.seed < 0:
        raise CLIError(f"--seed must be non-negative, got {args.seed}")


def run_name(data: str) -> str:
    """The data's name for the default run directory (``kdv``, or a file's stem)."""
    return Path(data).stem if is_data_file(data) else data.lower()


def _read_file(path: str) -> tuple[Any, Any, Any]:
    """``u``, ``x``, ``t`` of an ``.npz`` file; one line naming the file and the key if wrong.

    Read without pickle and with sizes checked before allocation
    (:class:`symmetrykit._array_files.NpzArchive`); finiteness and uniform grids are left to
    :func:`~symmetrykit.liederiv.discover_pde`, whose messages say where the problem is.
    """
    from .._array_files import NpzArchive

    try:
        archive = NpzArchive(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    with archive:
        missing = [key for key in _ARRAYS if key not in archive]
        if missing:
            held = ", ".join(archive.names) or "no arrays"
            raise CLIError(f"{path}: no array {missing[0]!r} (it holds {held}); --method pde "
                           "needs u (n_trajectories, nt, nx), x (nx,) and t (nt,)")
        u, x, t = (archive.read(key) for key in _ARRAYS)
    for key, array in zip(_ARRAYS, (u, x, t), strict=True):
        if array.dtype.kind not in "iuf":
            raise CLIError(f"{path}: array {key!r} must be real numbers, got dtype {array.dtype}")
    if u.ndim != 3:
        raise CLIError(f"{path}: array 'u' must have shape (n_trajectories, nt, nx), got "
                       f"{u.shape}")
    for key, array, axis, what in (("x", x, 2, "nx"), ("t", t, 1, "nt")):
        if array.ndim != 1 or array.size != u.shape[axis]:
            raise CLIError(f"{path}: array {key!r} must have shape ({u.shape[axis]},) to match "
                           f"u's {what}, got {array.shape} (u[b, j, i] = u(x[i], t[j]))")
    return u, x, t


def _load(args: argparse.Namespace) -> tuple[Any, Any, Any, tuple, str]:
    """``u, x, t``, the true symmetries (``()`` for a file) and a line describing the data."""
    import numpy as np

    if is_data_file(args.data):
        u, x, t = _read_file(args.data)
        return u, x, t, (), f"{args.data}: {u.shape[0]} trajectories on {u.shape[1]} × " \
            f"{u.shape[2]} (t × x) grids"
    from .. import datasets

    n = DEFAULT_TRAJECTORIES if args.n_trajectories is None else args.n_trajectories
    data = datasets.pde(args.data, n_trajectories=n, random_state=args.seed)
    u = data.u
    noise = args.noise or 0.0
    if noise > 0:
        rng = np.random.default_rng([args.seed, 1])  # a stream apart from the data's
        u = u + noise * float(np.std(u)) * rng.standard_normal(u.shape)
    line = (f"{data.name}: {data.equation}; {n} trajectories on {u.shape[1]} × {u.shape[2]} "
            f"(t × x) grids, seed {args.seed}, noise {noise:g}·std(u)")
    return u, data.x, data.t, tuple(data.symmetries), line


def _save_arrays(path: Path, result: Any) -> None:
    """``arrays.npz``: spectrum, coefficients, their mask and the library's function names.

    Not through :meth:`RunDirectory.save_arrays` (numbers only), because the names are a
    fixed-width unicode array; the same writer, without pickle and atomically.
    """
    import numpy as np

    from ..runs import _atomic_open, _write_npz

    arrays = {
        "singular_values": np.asarray(result.singular_values, dtype=np.float64),
        "coefficients": np.asarray(result.coefficients, dtype=np.float64),
        "significant": np.asarray(result.significant, dtype=bool),
        "x_weight": np.asarray(result.x_weight, dtype=np.float64),
        "library_functions": np.array(result.library.names, dtype=str),
    }
    with _atomic_open(path / "arrays.npz") as handle:
        _write_npz(handle, arrays)


def _config(args: argparse.Namespace) -> dict[str, Any]:
    built_in = not is_data_file(args.data)
    config = {
        "command": "lie discover",
        "method": "pde",
        "data": args.data.lower() if built_in else args.data,
        "degree": args.degree,
        "library": list(args.library or ()),
        "coefficient_functions": args.coefficient_function,
        "n_symmetries": args.n_symmetries,
        "gap_ratio": args.gap_ratio,
        "seed": args.seed,
    }
    if built_in:
        config["n_trajectories"] = (DEFAULT_TRAJECTORIES if args.n_trajectories is None
                                    else args.n_trajectories)
        config["noise"] = args.noise or 0.0
    return config


def cmd_discover_pde(args: argparse.Namespace) -> int:
    """Run ``lie discover --method pde`` (options already checked by :func:`check_pde_options`)."""
    import numpy as np

    from ..liederiv import GeneratorLibrary, discover_pde
    from ..plot import pde_generator_maps, pde_spectrum
    from ..runs import RunDirectory, staged_directory

    # Refuse an occupied or unwritable run directory before reading or generating data.
    out = run_directory(args, Path("runs") / f"lie-discover-{slug(run_name(args.data))}")
    if args.degree is None:
        args.degree = 2
    # Bad functions are refused before the data are read or generated.
    GeneratorLibrary(args.degree, tuple(args.library or ()))
    if args.coefficient_function:
        from ..liederiv._pde_discover import _coefficient_functions

        _coefficient_functions(list(args.coefficient_function), np.zeros(1), np.zeros(1))
    u, x, t, truths, data_line = _load(args)
    options: dict[str, Any] = {"degree": args.degree, "library": tuple(args.library or ()),
                               "n_symmetries": args.n_symmetries, "random_state": args.seed}
    if args.gap_ratio is not None:
        options["min_gap"] = args.gap_ratio
    if args.coefficient_function:
        options["coefficient_functions"] = list(args.coefficient_function)
    result = discover_pde(u, x, t, **options)

    metrics: dict[str, Any] = {**result.to_dict(),
                               "singular_values": result.singular_values.tolist()}
    kept: list = []
    excluded: list = []
    distance = None
    if truths:
        residuals = result.library_residuals(truths)
        kept = list(result.in_library(truths, EXPRESSIBLE_RTOL))
        excluded = [s for s in truths if s not in kept]
        distance = result.distance(kept)
        metrics.update({
            "distance_to_truth": distance,
            "truth_compared": [s.name for s in kept],
            "truth_excluded": [s.name for s in excluded],
            "truth_library_residuals": residuals,
            "expressible_rtol": EXPRESSIBLE_RTOL,
        })

    name = run_name(args.data)
    with staged_directory(out, overwrite=args.overwrite) as stage:
        run = RunDirectory.create(stage, _config(args))
        run.save_metrics(metrics)
        _save_arrays(stage, result)
        run.save_figure(pde_spectrum(result.singular_values, result.nullity, result.gap,
                                     name=name), "spectrum")
        if result.nullity:
            # Laid out by hand (margins included): a tight box would draw it twice.
            run.save_figure(pde_generator_maps(result.symmetries, x, t, np.asarray(u)[0],
                                               names=result.formulas,
                                               title=f"Discovered symmetries of {name}: "
                                               "components along the first trajectory"),
                            "generators",
                            bbox_inches=None)

    library = f"monomials of degree ≤ {args.degree} in t, x, u"
    if args.library:
        library += " and " + ", ".join(args.library)
    print(f"  source: prolonged Lie derivative of the identified equation; generator library: "
          f"{library}")
    print(f"wrote {out}")
    print(f"  data: {data_line}")
    for line in result.summary().splitlines():
        print(f"  {line}")
    if truths:
        print(f"  Grassmann distance to the {len(kept)} true symmetries the library expresses: "
              f"{distance:.3g}")
        if excluded:
            print(f"  not expressible in the library (left out of the distance): "
                  f"{', '.join(s.name for s in excluded)}")
    return 0
