"""The SymmetryLens estimator: fit a padded generator and a resolving filter to raw vectors."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import TransformerMixin

from .._checkpoint import restore_rng
from .._estimator import SymmetryEstimator
from .._optim import Adam
from .._validation import (
    CHECKPOINTING,
    POSITIVE,
    TRAINING,
    CostEstimate,
    Integer,
    Options,
    Real,
    Sequence_,
    as_samples,
)
from . import _losses as losses
from ._checkpoint import check_meta, pack_current, pack_finished, unpack_current, unpack_finished
from ._convergence import ConvergenceMonitor
from ._cost import estimate_cost, float32_ready
from ._density import ConditionalMixture, MarginalMixture
from ._lifting import check_rotation_size, group_convolution, rotation_from_parameters
from ._representation import REPRESENTATIONS, ordered_basis
from ._selection import SELECTIONS, check_runs, select_run
from ._stationary import representation_stationarity, stationarity_warning
from ._warm_start import (
    WARM_BASES,
    WarmStart,
    distinct_warm_starts,
    warm_start,
    warm_start_from_fields,
)

__all__ = ["SymmetryLens"]

Monitor = Callable[[np.ndarray, np.ndarray], dict[str, float]]

# The arrays and the scalar fields of a saved WarmStart.
_WARM_ARRAYS = ("basis", "filter", "padded_generator", "skew")
_WARM_FIELDS = ("cyclic", "chain_similarity", "closure_similarity", "iterations", "converged",
                "source")


class SymmetryLens(TransformerMixin, SymmetryEstimator):
    """Unsupervised discovery of a minimal symmetry generator and a symmetry-based representation.

    SymmetryLens (Efe & Ozakin 2025) learns an orthogonal matrix ``G`` on a zero-padded copy of the
    signal space and a resolving filter ``f`` such that the components
    ``y_n = ⟨pad f̂, G^{k_n} pad x⟩`` are aligned (neighbours correlated), uniform (neighbouring
    components and pairs have the same distributions), resolved (small total correlation) and
    informative (large joint entropy). ``G`` then approximates the minimal generator of the data's
    one-parameter symmetry group, and ``x ↦ y`` is a symmetry-based representation.

    The deviations from the paper and the measurements behind the defaults are recorded in
    ``docs/decisions.md`` (section "SymmetryLens").

    Parameters
    ----------
    n_steps
        Model optimisation steps per run: the cap; a warm-started run usually stops earlier, on
        convergence (``tol``).
    batch_size
        Samples per step (rounded down to a multiple of the dimension).
    padding
        Zero padding ``P`` on each side of the signal (default: the dimension, as in the paper).
    model_lr, estimator_lr, lr_decay
        Adam learning rates of the model (``A``, ``f``) and of the density estimators; both decay
        log-linearly to ``lr * lr_decay`` at the last step (``lr_decay`` in ``(0, 1]``; 1 keeps
        the rates constant). The rank curriculum ``τ`` follows the cumulative model learning
        rate, so it transfers between schedules of any length.
    alignment, uniformity, resolution, information
        Loss weights ``c_al, c_un, c_res, c_info`` (defaults 1, 2, 1, 1; joint-entropy weight 2),
        finite and >= 0.
    hidden
        Hidden width of the conditional density network (default ``min(16 N, 128)``).
    n_kernels
        Gaussian kernels per density (4 in the paper).
    filter_noise, filter_noise_time
        Initial std of the noise added to the filter and its e-folding time as a fraction of the
        run (the paper's 10 epochs are 1 % of a 1 000-epoch run).
    warmup_steps
        Estimator-only steps at the initial ``G`` before the model moves.
    rank_gain
        Sharpness of the soft rank selection (50, paper).
    init_scale
        Std of the initial entries of ``A`` (1e-3, paper).
    init
        ``"random"`` (the paper's): ``A ~ N(0, init_scale²)``, i.e. ``G ≈ I``, and a zero
        filter. ``"warm"``: the first runs start from closed-form estimates of the generator,
        one per candidate basis in ``warm_bases`` (see ``symmetrykit.lens.warm_start``), and
        any further restarts start at random; which run is kept is ``selection``'s choice, so
        every warm start has to earn its place. No ground truth is used.
        A warm-started run is a *refinement*: it uses ``warm_model_lr``, the full rank (``τ = 1``)
        from the first step, no resolution ramp and no filter noise — curriculum, ramp and noise
        exist to break the symmetry of ``G ≈ I`` and a zero filter, which a warm start does not
        have.
    warm_model_lr
        Model learning rate of a warm-started run.
    warm_bases
        Candidate bases of the warm start, in order: ``"rotation"`` (fourth-moment rotation; for
        sparse, spiky local signals), ``"coordinates"`` (the data's own coordinates, ordered
        and signed; for any signals given in a local basis up to order and signs, smooth ones
        included), ``"frequency"`` (the coordinates read as sine coefficients, ordered and
        signed) and ``"stationary"`` (the coordinates as given, signs and nearby exchanges
        polished, read by stationarity rather than locality: a Toeplitz covariance; for
        periodic, spiky or anti-correlated signals, :mod:`symmetrykit.lens._stationary`). A
        candidate is used if it is usable (the rotation converged; the frequency reading makes
        the signals more local than they come; the stationary reading has stationarity ≥ 0.9);
        of candidates whose generators agree (``|cos| ≥ 0.9``: the same symmetry) only the most
        local one is refined.
    warm_update
        How a warm-started run moves ``G`` away from its start ``G₀``: ``"cayley"`` (default)
        ``G = G₀ · (I − K/2)⁻¹(I + K/2)`` with ``K = ½(A − Aᵀ)`` and ``A`` starting near 0, one
        linear solve per step; ``"exp"`` ``G = expm(½(A − Aᵀ))`` with ``A`` starting at the
        logarithm of ``G₀``, the paper's parametrisation, whose exponential and its gradient
        cost about 15× as much at 129 features (and dominate the step from ~65 features on).
        Both agree to second order in ``K``; runs from a random start always use the paper's.
    n_restarts
        Independent runs from different initialisations; ``selection`` chooses the kept one
        by the unsupervised loss (evaluated with each run's own density estimators at the end
        of the curriculum). The ground truth is never consulted. With ``init="warm"`` there is
        at least one run per used warm start (``warm_starts_``); runs beyond them start at
        random.
    resolution_ramp
        The marginal-entropy (resolution) weight grows linearly from 0 to ``resolution`` while
        ``τ`` goes from 0 to ``resolution_ramp`` (0 gives the paper's constant weight). The
        marginal entropy rewards a sharp filter from the first step, while ``G ≈ I`` and every
        pixel looks alike, so without the ramp the filter can settle off the middle of the
        shift chain, where ``G`` bends at the far edge; delaying the sharpening lets the chain
        form around a broad filter first (a deviation from the paper).
    tol, generator_tol, n_iter_no_change
        When a warm-started run is done (``tol=None``: never before ``n_steps``, which is always
        the cap). The model loss is averaged over windows of 50 steps; a run stops when the
        window's mean has not improved on the best window by more than
        ``tol · max(1, |best|)`` for ``n_iter_no_change`` windows in a row and the central crop
        of ``G`` moved by less than ``generator_tol`` (relative Frobenius norm) over the last
        window (:mod:`symmetrykit.lens._convergence`). Runs from a random start follow their
        curriculum to the end.
    max_time
        Wall-clock budget of the whole fit in seconds, the warm start included (``None``: no
        limit). Each run gets an equal share of what is left when it starts and stops after the
        first step past it; the result then depends on the machine's speed.
    checkpoint
        Directory for atomic checkpoints (``None``: none). If it already holds a checkpoint of
        the same fit (same data, same parameters) the fit resumes from it and ends with exactly
        the result an uninterrupted fit gives; a checkpoint of a different fit is an error, never
        overwritten. The directory is left in place when the fit ends. Needs an integer
        ``random_state``.
    checkpoint_every
        Steps between checkpoints (also written at the end of every restart).
    log_every
        Record every loss term each ``log_every`` steps in ``history_``.
    device
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    progress
        ``"auto"``, ``"none"``, ``"text"``, ``"tqdm"`` or a progress-meter object.
    random_state
        ``None``, a non-negative int (the torch generator's seed), a
        ``numpy.random.Generator`` or a ``torch.Generator``.
    representation
        What :meth:`transform` returns (it does not change the fit, so it can be set after one):
        ``"orbit"`` (default, the paper's) ``X @ Φ.T``, the filter carried along the learned
        group; ``"basis"`` ``X @ basis_.T``, the kept warm start's orthonormal basis in the order
        of the symmetry, exactly orthogonal, so that no component leaks into another (the input
        for a CNN; :mod:`symmetrykit.lens._representation`). ``"basis"`` needs ``init="warm"``
        and a kept run that started from a warm start.
    selection
        Which run is kept: ``"invariance"`` (default) the lowest-loss run of those verified
        shift-invariant (second and third moments; :mod:`symmetrykit.lens._selection`), else
        the lowest-loss run; ``"loss"`` the paper's rule, the lowest loss. Runs never change.

    Attributes
    ----------
    generator_ : ndarray (N, N)
        Central crop of the learned padded group element: the learned minimal generator.
    padded_generator_ : ndarray (M, M)
    filter_ : ndarray (N,)
        The learned unit-norm resolving filter.
    group_convolution_ : ndarray (N, N)
        ``Φ``; ``transform(X) = X @ Φ.T`` with ``representation="orbit"``.
    basis_ : ndarray (N, N) or None
        The rows of the basis representation (``representation="basis"``): the kept warm
        start's basis, one orthonormal row per component, in the order of the symmetry, a
        cyclic order cut where the fitted samples vary least. ``None`` when the kept run started
        at random.
    padding_ : int
    history_ : dict of lists
        Every loss term, ``τ`` and learning rate at each logged step (plus monitor values).
    stationarity_ : float or None
        How shift-invariant the kept representation is at second order: the fraction of its
        covariance's off-diagonal energy that a Toeplitz matrix explains (``basis_`` where it
        exists, else ``Φ``); about 1 for stationary data read in their true order, 0.4–0.6 for
        aligned events such as classification series; ``None`` for data without correlations.
        A fit warns when the data are shift-invariant in their given order (a usable
        stationary reading was refined) but the kept generator is another symmetry.
    run_checks_ : list of dict or None
        Per run, the invariance check that ``selection="invariance"`` uses: ``second_order``
        and ``third_order`` stationarity of its representation, ``agreement`` (``|cos|`` of its
        generator to its start) and ``verified``; ``None`` for a random start.
    warm_starts_ : list of WarmStart
        The warm-start candidates that were refined, in run order (``init="warm"``; empty
        otherwise).
    warm_start_ : WarmStart or None
        The warm start of the kept run (``None`` if the kept run started at random).
    restart_losses_, best_restart_
        Final unsupervised loss of every run and the index of the kept one.
    restart_starts_ : list of str
        How every run started: the ``source`` of its warm start, or ``"random"``.
    run_steps_ : list of int
        Model steps each run took (fewer than ``n_steps`` when it converged or ran out of
        ``max_time``).
    n_iter_ : int
        Model steps of the kept run.
    stop_reasons_ : list of str
        Why each run ended: ``"converged"``, ``"max_time"`` or ``"n_steps"``.
    fit_time_ : dict
        ``{"wall_s", "cpu_s"}`` of the fit.
    n_features_in_ : int
    """

    _checkpoint_kind: ClassVar[str | None] = "symmetrylens-checkpoint"
    # The README's quick commands (``symmetrykit discover --data mnist-slices --steps 500``)
    # and the Table 1 grid of benchmarks/symmetrylens_table1.py (--steps 500).
    _presets: ClassVar[dict[str, dict[str, Any]]] = {"quick": {"n_steps": 500}}

    def __init__(
        self,
        n_steps: int = 3000,
        batch_size: int = 1024,
        padding: int | None = None,
        model_lr: float = 1e-2,
        estimator_lr: float = 5e-2,
        lr_decay: float = 0.1,
        alignment: float = 1.0,
        uniformity: float = 2.0,
        resolution: float = 1.0,
        information: float = 1.0,
        hidden: int | None = None,
        n_kernels: int = 4,
        filter_noise: float = 0.1,
        filter_noise_time: float = 0.02,
        warmup_steps: int = 100,
        rank_gain: float = 50.0,
        init_scale: float = 1e-3,
        init: str = "warm",
        warm_model_lr: float = 1e-3,
        warm_bases: tuple[str, ...] = ("rotation", "coordinates", "frequency", "stationary"),
        warm_update: str = "cayley",
        n_restarts: int = 1,
        resolution_ramp: float = 0.5,
        tol: float | None = 1e-3,
        generator_tol: float = 2e-2,
        n_iter_no_change: int = 2,
        max_time: float | None = None,
        checkpoint: Any = None,
        checkpoint_every: int = 500,
        log_every: int = 50,
        device: str = "cpu",
        progress: Any = "auto",
        random_state: Any = None,
        representation: str = "orbit",
        selection: str = "invariance",
    ):
        self._store_params(locals())

    # ------------------------------------------------------------------ validation
    # Every constructor parameter, checked by _validate_params() before any work. A decay factor
    # is in (0, 1] (1: constant rates); loss weights are finite and >= 0 (0 switches a term off).
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_steps": [Integer(1)],
        "batch_size": [Integer(2)],
        "padding": [None, Integer(0)],
        "model_lr": [POSITIVE],
        "estimator_lr": [POSITIVE],
        "lr_decay": [Real(0, 1, closed="right")],
        "alignment": [Real(0)],
        "uniformity": [Real(0)],
        "resolution": [Real(0)],
        "information": [Real(0)],
        "hidden": [None, Integer(1)],
        "n_kernels": [Integer(1)],
        "filter_noise": [Real(0)],
        "filter_noise_time": [POSITIVE],
        "warmup_steps": [Integer(0)],
        "rank_gain": [POSITIVE],
        "init_scale": [POSITIVE],
        "init": [Options(("random", "warm"))],
        "warm_model_lr": [POSITIVE],
        "warm_bases": [Sequence_(Options(WARM_BASES), min_length=1, distinct=True)],
        "warm_update": [Options(("cayley", "exp"))],
        "n_restarts": [Integer(1)],
        "resolution_ramp": [Real(0)],
        "tol": [None, Real(0)],
        "generator_tol": [Real(0)],
        "n_iter_no_change": [Integer(1)],
        "max_time": [None, POSITIVE],
        "log_every": [Integer(1)],
        "representation": [Options(REPRESENTATIONS)],
        "selection": [Options(SELECTIONS)],
        **CHECKPOINTING,
        **TRAINING,
    }

    def _checkpoint_params(self) -> dict[str, Any]:
        # The representation only changes transform(), the selection only which finished run
        # is kept: neither changes a run.
        params = super()._checkpoint_params()
        params.pop("representation", None)
        params.pop("selection", None)
        return params

    def _checked_samples(self, X: Any) -> np.ndarray:
        """``X`` checked for a fit: real, finite, in range, an odd dimension >= 3, enough samples
        for the batch; a warning for constant data. All before any heavy work."""
        X = as_samples(X, owner="SymmetryLens", warn_constant=False)
        n_samples, dim = X.shape
        if dim < 3 or dim % 2 == 0:
            raise ValueError(f"SymmetryLens needs an odd dimension >= 3, got {dim}: the powers "
                             "k_n = n − (N−1)/2 are centred on the middle component")
        if n_samples < 2 * dim:
            raise ValueError(f"SymmetryLens: need at least {2 * dim} samples for dimension "
                             f"{dim}, got {n_samples}")
        if self.batch_size < 2 * dim:
            raise ValueError(f"SymmetryLens: batch_size must be at least 2 × dim = {2 * dim}, "
                             f"got {self.batch_size}")
        if not np.any(np.ptp(X, axis=0)):
            warnings.warn("SymmetryLens: X is constant (every feature takes a single value): "
                          "there is no variation, so no symmetry can be found",
                          UserWarning, stacklevel=3)
        return X

    def _estimate_cost(self, n_samples: int, dim: int) -> CostEstimate:
        """Memory and time of fitting ``(n_samples, dim)`` data (see :mod:`._cost`)."""
        return estimate_cost(self.get_params(deep=False), n_samples, dim)

    # ------------------------------------------------------------------ core
    def _schedule(self) -> tuple[np.ndarray, np.ndarray]:
        steps = np.arange(self.n_steps)
        frac = steps / max(self.n_steps - 1, 1)
        lr = self.lr_decay ** frac
        tau = np.cumsum(lr) / np.sum(lr)
        return lr, tau

    def fit(self, X: Any, y: Any = None, *, monitor: Monitor | None = None) -> SymmetryLens:
        """Learn the generator and the filter from samples ``X`` (n_samples, dim).

        ``monitor(generator, group_convolution)`` is called at each logged step and may return
        extra scalars to record (e.g. similarity to a known ground truth); the model never sees it.
        Of several runs the one ``selection`` chooses is kept (by the unsupervised loss on
        held-in data, evaluated with each run's own density estimators).

        Every check comes before the warm start: parameters, data, the estimated cost and a
        checkpoint to resume.

        Raises
        ------
        InvalidParameterError
            A parameter of the wrong type or range (a ValueError and a TypeError).
        ValueError
            Data that are not a finite real ``(n_samples, dim)`` array with an odd ``dim >= 3``,
            ``2 dim`` samples and a scale float32 can carry; a damaged or edited checkpoint.
        CostError
            A fit estimated beyond the available memory (:mod:`symmetrykit.lens._cost`); a
            :class:`~symmetrykit._validation.CostWarning` states the estimate of a long one.
        FloatingPointError
            A loss that became non-finite or exploded, or generator parameters that ran away,
            naming the step and the learning rate to lower; checkpoints written before stay
            usable.
        """
        self._validate_params()
        if self.representation == "basis" and self.init != "warm":
            raise ValueError("SymmetryLens: representation='basis' is the kept warm start's "
                             "basis and needs init='warm'")
        X = self._checked_samples(X)
        n_samples, dim = X.shape
        self._check_cost(n_samples, dim)
        device = self._torch_device()
        padding = dim if self.padding is None else int(self.padding)
        store = self._checkpoint_store(X)
        # Read (and check) a checkpoint before the warm start, so that a damaged or edited one
        # is one line before any heavy work.
        max_runs = max(self.n_restarts, len(self.warm_bases) if self.init == "warm" else 0)
        saved = None if store is None else store.load(
            bounds={"finished_restarts": (0, max_runs),
                    "next_step": (1 - self.warmup_steps, self.n_steps - 1)},
            optional=("next_step",))
        if saved is not None:
            check_meta(saved[1], padding)
        X = float32_ready(X)
        gen = self._torch_generator()
        data = torch.as_tensor(X, dtype=torch.float32, device=device)
        eval_idx = torch.randperm(n_samples, generator=gen)[: min(n_samples, EVALUATION_SAMPLES)]
        filter_start = torch.zeros(dim, dtype=torch.float64)

        wall_start = time.perf_counter()
        with self._fit_clock():
            self.warm_starts_ = []
            if self.init == "warm":
                rng = np.random.default_rng(int(torch.randint(2**62, (1,), generator=gen)))
                self.warm_starts_ = distinct_warm_starts(
                    [warm_start(X, padding, rng, basis=basis) for basis in self.warm_bases],
                    padding, dim)
            n_runs = max(self.n_restarts, len(self.warm_starts_))
            runs: list[dict[str, Any]] = []
            resume = None
            if saved is not None:
                arrays, meta = saved
                if meta["finished_restarts"] > n_runs:
                    raise ValueError(f"{arrays.source}: the checkpoint field 'finished_restarts' "
                                     f"is {meta['finished_restarts']}, but this fit has "
                                     f"{n_runs} runs; the file was edited or damaged (delete "
                                     "it to start afresh)")
                runs = [unpack_finished(i, arrays, meta, dim + 2 * padding)
                        for i in range(meta["finished_restarts"])]
                for i, run in enumerate(runs):
                    run["base"] = self._run_base(
                        self.warm_starts_[i] if i < len(self.warm_starts_) else None, device)
                restore_rng("rng", gen, arrays)
                if meta["next_step"] is not None and len(runs) < n_runs:
                    resume = (arrays, int(meta["next_step"]))

            def save(current: dict[str, Any] | None, next_step: int | None) -> None:
                arrays = {"rng": gen.get_state().numpy()}
                for index, run in enumerate(runs):
                    arrays.update(pack_finished(index, run))
                if current is not None:
                    arrays.update(pack_current(current))
                store.save(arrays, {"finished_restarts": len(runs), "next_step": next_step,
                                    "final_losses": [r["final_loss"] for r in runs],
                                    "run_steps": [r["steps"] for r in runs],
                                    "stop_reasons": [r["stop_reason"] for r in runs],
                                    "padding": padding})

            per_run = self.warmup_steps + self.n_steps
            with self._progress_meter(n_runs * per_run, "SymmetryLens") as meter:
                meter.update(len(runs) * per_run
                             + (resume[1] + self.warmup_steps if resume is not None else 0))
                for restart in range(len(runs), n_runs):
                    start, f0 = None, filter_start
                    if restart < len(self.warm_starts_):
                        start = self.warm_starts_[restart]
                        f0 = torch.as_tensor(start.filter)
                    deadline = None
                    if self.max_time is not None:
                        # An equal share of what is left for every run still to come.
                        now = time.perf_counter()
                        left = wall_start + self.max_time - now
                        deadline = now + left / (n_runs - restart)
                    run = self._fit_single(data, f0, gen, monitor, meter, restart, padding,
                                           start, resume=resume, deadline=deadline,
                                           save=save if store is not None else None)
                    resume = None
                    run["final_loss"] = self._evaluate(data[eval_idx.to(device)], run)
                    runs.append(run)
                    if store is not None:
                        save(None, None)
            losses_ = [r["final_loss"] for r in runs]
            with torch.no_grad():
                elements = [rotation_from_parameters(r["a"], r["base"]).cpu().numpy()
                            for r in runs]
            checks = check_runs(X, self.warm_starts_, [
                g[padding:padding + dim, padding:padding + dim] for g in elements], padding)
            best_index = select_run(self.selection, losses_, checks)
            best = runs[best_index]

            with torch.no_grad():
                g = elements[best_index]
                f = best["f"].cpu()
                f_unit = f / (torch.linalg.vector_norm(f) + 1e-12)
                phi = group_convolution(torch.as_tensor(g), f_unit, padding).numpy()
            self.padded_generator_ = g
            self.generator_ = g[padding:padding + dim, padding:padding + dim].copy()
            self.filter_ = f_unit.numpy()
            self.group_convolution_ = phi
            self.padding_ = padding
            self.history_ = best["history"]
            self.restart_losses_ = losses_
            self.run_checks_ = [None if c is None else c.as_dict() for c in checks]
            self.run_steps_ = [int(r["steps"]) for r in runs]
            self.stop_reasons_ = [str(r["stop_reason"]) for r in runs]
            self.n_iter_ = self.run_steps_[best_index]
            self.restart_starts_ = ([w.source for w in self.warm_starts_]
                                    + ["random"] * (len(runs) - len(self.warm_starts_)))
            self.best_restart_ = best_index
            self.warm_start_ = (self.warm_starts_[best_index]
                                if best_index < len(self.warm_starts_) else None)
            self.basis_ = (None if self.warm_start_ is None
                           else ordered_basis(self.warm_start_, X))
            self.stationarity_ = representation_stationarity(
                X, phi if self.basis_ is None else self.basis_)
            message = stationarity_warning(self.warm_starts_, self.generator_, padding,
                                           self.restart_losses_, best_index, self.stationarity_,
                                           checks)
            if message is not None:
                warnings.warn(message, UserWarning, stacklevel=2)
            self.n_features_in_ = dim
        return self

    def _run_base(self, start: WarmStart | None, device: torch.device) -> torch.Tensor | None:
        """The fixed rotation ``G₀`` that a run's ``A`` corrects (``warm_update="cayley"``), or
        ``None`` when ``A`` parametrises ``G`` through the matrix exponential."""
        if start is None or self.warm_update != "cayley":
            return None
        return torch.as_tensor(start.padded_generator, dtype=torch.float64, device=device)

    def _fit_single(self, data, filter_start, gen, monitor, meter, restart: int, padding: int,
                    start: WarmStart | None, *, resume=None, save=None,
                    deadline: float | None = None) -> dict[str, Any]:
        """One optimisation run from a warm ``start`` or a random initialisation.

        ``resume = (arrays, next_step)`` continues a checkpointed run; ``save(state, next_step)``
        writes a checkpoint every ``checkpoint_every`` steps. The run ends at ``n_steps``, when it
        has converged (warm starts, ``tol``) or after the first step past ``deadline``
        (``time.perf_counter()`` seconds).
        """
        n_samples, dim = data.shape
        device = data.device
        size = dim + 2 * padding
        hidden = self.hidden if self.hidden is not None else min(16 * dim, 128)
        batch = min(self.batch_size, n_samples) // dim * dim

        a = (torch.randn(size, size, generator=gen, dtype=torch.float64) * self.init_scale)
        # The stationary reading is exact (a signed near-identity under which the covariance is
        # Toeplitz): its run keeps that shift and learns the filter only, since on data that are
        # not local the paper's loss pulls G towards an order it rewards instead (decisions.md).
        frozen = start is not None and start.source == "stationary"
        if frozen:
            a = torch.zeros_like(a)
        base = self._run_base(start, device)
        if start is not None and base is None:
            a = a + torch.as_tensor(start.skew, dtype=torch.float64)
        a = a.to(device).requires_grad_(not frozen)
        f = filter_start.clone().to(device).requires_grad_(True)
        trained = [f] if frozen else [a, f]
        marginal = MarginalMixture(dim, self.n_kernels, rng=gen).to(device)
        conditional = ConditionalMixture(dim, hidden, self.n_kernels, rng=gen).to(device)
        est_params = list(marginal.parameters()) + list(conditional.parameters())
        refining = start is not None
        model_lr = self.warm_model_lr if refining else self.model_lr
        filter_noise = 0.0 if refining else self.filter_noise
        model_opt = Adam(trained, lr=model_lr, eps=1e-7)
        est_opt = Adam(est_params, lr=self.estimator_lr, eps=1e-7)
        slot = torch.arange(batch, device=device) % dim

        lr_factor, tau_schedule = self._schedule()
        history: dict[str, list[float]] = {}
        # Divergence is caught where it starts: the density estimators' loss, the model's loss
        # and the size of A, each named with the learning rate to lower.
        of_run = f" of restart {restart}" if restart else ""
        model_lr_name = "warm_model_lr" if refining else "model_lr"
        guards = {"estimator": self._loss_guard(fix="lower estimator_lr"),
                  "model": self._loss_guard(fix=f"lower {model_lr_name}")}
        convergence = (ConvergenceMonitor(STOP_WINDOW, self.tol, self.n_iter_no_change,
                                          self.generator_tol)
                       if refining and self.tol is not None else None)
        state = {"a": a, "f": f, "gen": gen, "marginal": marginal, "conditional": conditional,
                 "model_opt": model_opt, "est_opt": est_opt, "history": history,
                 "guards": guards, "convergence": convergence}
        stop_reason, steps_done = "n_steps", self.n_steps
        eval_batches = max(min(n_samples, EVALUATION_SAMPLES) // batch, 1)
        last_tick, step_wall = time.perf_counter(), math.inf
        first_step = -self.warmup_steps
        if resume is not None:
            unpack_current(resume[0], state)
            first_step = resume[1]
        for step in range(first_step, self.n_steps):
            warming_up = step < 0
            t = max(step, 0)
            tau = 0.0 if warming_up else 1.0 if refining else float(tau_schedule[t])
            for opt, lr0 in ((model_opt, model_lr), (est_opt, self.estimator_lr)):
                for group in opt.param_groups:
                    group["lr"] = lr0 * float(lr_factor[t])
            idx = torch.randint(n_samples, (batch,), generator=gen).to(device)
            xb = data[idx]
            xb = (xb - xb.mean()) / (xb.std() + 1e-7)
            sigma = filter_noise * math.exp(-t / (self.filter_noise_time * self.n_steps))
            noise = torch.randn(dim, generator=gen, dtype=torch.float64).to(device)
            noisy = f + sigma * noise
            f_unit = noisy / (torch.linalg.vector_norm(noisy) + 1e-7)
            if warming_up:
                # The model does not move in the warm-up: no graph through G.
                with torch.no_grad():
                    g = rotation_from_parameters(a, base)
            else:
                g = rotation_from_parameters(a, base)
            phi = group_convolution(g, f_unit, padding)
            yb = xb @ phi.to(torch.float32).T
            terms = self._loss_terms(yb, slot, marginal, conditional, tau)
            est_loss = (terms["marginal_entropy"] + terms["conditional_nll"]
                        + 1e-5 * conditional.weight_penalty())
            if warming_up:
                guards["estimator"](est_loss, step + self.warmup_steps,
                                    f"density-estimator loss{of_run} in the warm-up")
            else:
                guards["estimator"](est_loss, t, f"density-estimator loss{of_run}")
            est_grads = torch.autograd.grad(est_loss, est_params, retain_graph=not warming_up)
            if not warming_up:
                model_loss = self._model_loss(terms, tau)
                model_value = guards["model"](model_loss, t, f"model loss{of_run}")
                model_grads = torch.autograd.grad(model_loss, trained)
                for p, gr in zip(trained, model_grads, strict=True):
                    p.grad = gr
                model_opt.step()
                check_rotation_size(a, t, of_run, model_lr_name)
                if convergence is not None:
                    convergence.add(model_value)
            for p, gr in zip(est_params, est_grads, strict=True):
                p.grad = gr
            est_opt.step()

            stopping = False
            if convergence is not None and convergence.window_full():
                crop = g.detach()[padding:padding + dim, padding:padding + dim].cpu().numpy()
                converged, window = convergence.check(crop)
                meter.update(0, **window)
                if converged:
                    stop_reason, stopping = "converged", True
            if deadline is not None and not stopping and step + 1 < self.n_steps:
                # Stop early enough for the final evaluation of the run (a forward pass per
                # evaluation batch, about half a training step each) to fit the budget too.
                # The quickest step so far: the first steps of a run pay one-off costs.
                now = time.perf_counter()
                step_wall, last_tick = min(step_wall, now - last_tick), now
                if now + 0.5 * eval_batches * step_wall > deadline:
                    stop_reason, stopping = "max_time", True
            if stopping:
                steps_done = step + 1

            if not warming_up and (t % self.log_every == 0 or t == self.n_steps - 1
                                   or stopping):
                record = {"step": t, "restart": restart, "tau": tau,
                          "model_lr": model_lr * lr_factor[t], "loss": model_value}
                record.update({k: float(v.detach()) for k, v in terms.items()})
                if monitor is not None:
                    g_np = g.detach().cpu().numpy()
                    record.update(monitor(g_np[padding:padding + dim, padding:padding + dim],
                                          phi.detach().cpu().numpy()))
                for key, value in record.items():
                    history.setdefault(key, []).append(float(value))
                meter.update(0, **{k: record[k] for k in record if k != "step"})
            meter.update(1)
            if stopping:
                meter.update(self.n_steps - step - 1)  # the steps this run no longer needs
                break
            done = step + 1 + self.warmup_steps
            if save is not None and done % self.checkpoint_every == 0 and step + 1 < self.n_steps:
                save(state, step + 1)
        return {"a": a.detach(), "base": base, "f": f.detach(), "padding": padding,
                "slot_batch": batch, "steps": max(steps_done, 0), "stop_reason": stop_reason,
                "marginal": marginal, "conditional": conditional, "history": history}

    @torch.no_grad()
    def _evaluate(self, data: torch.Tensor, run: dict[str, Any]) -> float:
        """The model loss at the end of the curriculum (τ = 1), averaged over ``data``."""
        dim = data.shape[1]
        batch = run["slot_batch"]
        slot = torch.arange(batch, device=data.device) % dim
        g = rotation_from_parameters(run["a"], run["base"])
        f = run["f"]
        phi = group_convolution(g, f / (torch.linalg.vector_norm(f) + 1e-12), run["padding"])
        phi = phi.to(torch.float32)
        losses_, n_full = [], data.shape[0] // batch
        for chunk in data[: max(n_full, 1) * batch].split(batch):
            if chunk.shape[0] < batch:
                break
            xb = (chunk - chunk.mean()) / (chunk.std() + 1e-7)
            terms = self._loss_terms(xb @ phi.T, slot, run["marginal"], run["conditional"], 1.0)
            losses_.append(float(self._model_loss(terms)))
        return float(np.mean(losses_)) if losses_ else math.inf

    def _model_loss(self, terms: dict[str, torch.Tensor], tau: float = 1.0) -> torch.Tensor:
        ramp = min(1.0, tau / self.resolution_ramp) if self.resolution_ramp > 0 else 1.0
        return (self.alignment * terms["alignment"]
                + self.uniformity * terms["uniformity"]
                + ramp * self.resolution * terms["marginal_entropy"]
                - (self.resolution + self.information) * terms["joint_entropy"])

    def _loss_terms(self, y, slot, marginal, conditional, tau) -> dict[str, torch.Tensor]:
        dim = y.shape[1]
        log_p = marginal.log_prob(y)
        log_p_prev = marginal.log_prob(y, -1)
        log_p_next = marginal.log_prob(y, +1)
        given = y.gather(1, slot[:, None]).squeeze(1)
        log_q = conditional.log_prob(given, slot, y)
        # q_{g−1,e−1}(y_e | y_g): slot g−1, output index e−1 evaluated at y_e.
        shifted_left = torch.nn.functional.pad(y[:, 1:], (0, 1))
        log_q_prev = conditional.log_prob(given, (slot - 1).clamp(min=0), shifted_left)
        log_q_prev = torch.nn.functional.pad(log_q_prev[:, :-1], (1, 0))
        shifted_right = torch.nn.functional.pad(y[:, :-1], (1, 0))
        log_q_next = conditional.log_prob(given, (slot + 1).clamp(max=dim - 1), shifted_right)
        log_q_next = torch.nn.functional.pad(log_q_next[:, 1:], (0, 1))
        off_diagonal = torch.nn.functional.one_hot(slot, dim) == 0
        return {
            "alignment": losses.alignment(y),
            "uniformity": 0.5 * (losses.marginal_uniformity(log_p, log_p_prev, log_p_next)
                                 + losses.conditional_uniformity(log_q, log_q_prev, log_q_next,
                                                                 slot)),
            "marginal_entropy": -log_p.mean(),
            "joint_entropy": losses.soft_rank_joint_entropy(y, tau, self.rank_gain),
            "conditional_nll": -log_q[off_diagonal].mean(),
        }

    # ------------------------------------------------------------------ use
    def transform(self, X: Any) -> np.ndarray:
        """The symmetry-based representation: ``X @ group_convolution_.T`` (``"orbit"``) or
        ``X @ basis_.T`` (``"basis"``), as ``representation`` says."""
        self._check_is_fitted()
        self._validate_params()
        rows = self.group_convolution_
        if self.representation == "basis":
            rows = getattr(self, "basis_", None)
            if rows is None:
                raise ValueError("SymmetryLens: representation='basis' needs a kept run that "
                                 "started from a warm start; this fit kept a random restart "
                                 "(or was saved without a basis): use representation='orbit'")
        # Constant rows are fine to transform; only fitting on them finds nothing.
        X = as_samples(X, owner="SymmetryLens", warn_constant=False)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the lens was fitted on "
                             f"{self.n_features_in_}")
        return X @ rows.T

    # ------------------------------------------------------------------ persistence
    # save(path, *, overwrite=False, metrics=None) and load(path) come from SymmetryEstimator;
    # the warm starts (dataclasses) are saved here, everything else generically.
    def _custom_attributes(self) -> tuple[str, ...]:
        return ("warm_start_", "warm_starts_")

    def _save_extra(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        starts = list(getattr(self, "warm_starts_", []))
        n_refined = len(starts)
        kept = getattr(self, "warm_start_", None)
        index = next((i for i, w in enumerate(starts) if w is kept), None)
        if kept is not None and index is None:  # set by hand to something not in the list
            starts.append(kept)
            index = n_refined
        info = {"warm_starts": [{name: getattr(w, name) for name in _WARM_FIELDS}
                                for w in starts],
                "n_warm_starts": n_refined, "warm_start": index}
        arrays = {f"warm{i}.{name}": np.asarray(getattr(w, name))
                  for i, w in enumerate(starts) for name in _WARM_ARRAYS}
        return info, arrays

    def _load_extra(self, info: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        dim = int(self.n_features_in_)
        size = dim + 2 * int(self.padding_)
        shapes = {"basis": (dim, dim), "filter": (dim,), "padded_generator": (size, size),
                  "skew": (size, size)}
        starts = []
        for i, fields in enumerate(info.get("warm_starts") or []):
            values = {}
            for name, shape in shapes.items():
                array = arrays[f"warm{i}.{name}"]
                if array.shape != shape:
                    raise ValueError(f"warm start {i}: {name} has shape {array.shape}, "
                                     f"expected {shape}")
                values[name] = array
            starts.append(warm_start_from_fields(values, fields))
        index = info.get("warm_start")
        self.warm_start_ = None if index is None else starts[int(index)]
        self.warm_starts_ = starts[: int(info.get("n_warm_starts", len(starts)))]

    def _after_load(self) -> None:
        dim = int(self.n_features_in_)
        size = dim + 2 * int(self.padding_)
        expected = {"generator_": (dim, dim), "padded_generator_": (size, size),
                    "filter_": (dim,), "group_convolution_": (dim, dim)}
        if getattr(self, "basis_", None) is not None:
            expected["basis_"] = (dim, dim)
        for name, shape in expected.items():
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(f"{name} has shape {np.shape(getattr(self, name))}, expected "
                                 f"{shape} for dim {dim} and padding {self.padding_}")

    @classmethod
    def _read_legacy(cls, path: Any, config: Mapping[str, Any] | None) -> SymmetryLens:
        """A run directory written by symmetrykit 0.1 (format 1)."""
        from ._legacy import read_format_1

        return read_format_1(cls, path)


# Samples on which every run's final unsupervised loss is evaluated (to choose the kept run).
EVALUATION_SAMPLES = 16_384

# Steps per window of the convergence test (see ConvergenceMonitor): a window's mean loss is
# about 7× less noisy than one batch's.
STOP_WINDOW = 25
