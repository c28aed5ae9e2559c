"""The SymmetryLens estimator: fit a padded generator and a resolving filter to raw vectors."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin

from .._validation import as_samples
from ..metrics import generator_similarity
from ..progress import make_progress
from . import _losses as losses
from ._checkpoint import Checkpoint, data_fingerprint
from ._density import ConditionalMixture, MarginalMixture
from ._lifting import group_convolution, orthogonal_from_parameters, transport_filter
from ._warm_start import WARM_BASES, WarmStart, warm_start

__all__ = ["SymmetryLens"]

Monitor = Callable[[np.ndarray, np.ndarray], dict[str, float]]


def _torch_seed(random_state: Any) -> int:
    """A 63-bit torch seed derived from ``random_state`` without touching any global RNG."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    return int(np.random.SeedSequence(random_state).generate_state(1, np.uint64)[0] >> 1)


class SymmetryLens(TransformerMixin, BaseEstimator):
    """Unsupervised discovery of a minimal symmetry generator and a symmetry-based representation.

    SymmetryLens (Efe & Ozakin 2025) learns an orthogonal matrix ``G`` on a zero-padded copy of the
    signal space and a resolving filter ``f`` such that the components
    ``y_n = ⟨pad f̂, G^{k_n} pad x⟩`` are aligned (neighbours correlated), uniform (neighbouring
    components and pairs have the same distributions), resolved (small total correlation) and
    informative (large joint entropy). ``G`` then approximates the minimal generator of the data's
    one-parameter symmetry group, and ``x ↦ y`` is a symmetry-based representation.

    Parameters
    ----------
    n_steps
        Model optimisation steps.
    batch_size
        Samples per step (rounded down to a multiple of the dimension).
    padding
        Zero padding ``P`` on each side of the signal (default: the dimension, as in the paper).
    model_lr, estimator_lr, lr_decay
        Adam learning rates of the model (``A``, ``f``) and of the density estimators; both decay
        log-linearly to ``lr * lr_decay`` at the last step. The rank curriculum ``τ`` follows the
        cumulative model learning rate, so it transfers between schedules of any length.
    alignment, uniformity, resolution, information
        Loss weights ``c_al, c_un, c_res, c_info`` (defaults 1, 2, 1, 1; joint-entropy weight 2).
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
    recenter_at
        Fractions of the run at which the filter is re-centred on the learned shift chain
        (``f ← crop(pad(f)ᵀ G^m)`` for the ``m`` that keeps most of its orbit inside the window).
        This avoids the off-centre-filter plateau (a deviation from the paper; ``()`` disables
        it). It uses only the learned ``G`` and ``f``, never the ground truth.
    filter_init
        ``"zeros"`` (default, the paper's): the filter's position is decided by noise while
        ``G ≈ I`` and is often one pixel off the middle of the shift chain, which traps the run
        at cos ≈ 0.8 (spec §8.4). ``"pca"``: start at the top principal component of the data (a
        broad bump in the middle of the chain for stationary data; PCA commutes with the
        orthogonal data maps, so no knowledge of the representation is needed). Measured on the
        7-dim translation set (seeds 0 and 2, 3 000 steps) it did not avoid the trap.
    resolution_ramp
        The marginal-entropy (resolution) weight grows linearly from 0 to ``resolution`` while
        ``τ`` goes from 0 to ``resolution_ramp`` (default 0.5; 0 gives the paper's constant
        weight). Why: the marginal entropy rewards a sharp (delta-like) filter from the first
        step, while ``G ≈ I`` and every pixel looks alike, so the filter often settles one pixel
        off the middle of the shift chain; the chain then cannot reach the far edge and ``G``
        bends there (the cos ≈ 0.8 plateau of spec §8.4). Delaying the sharpening lets the chain
        form around a broad filter first. Measured on the 7-dim translation set, 3 000 steps:
        without the ramp 1 of 5 restarts (seed 0) and 1 of 3 seeds escaped the plateau; with it
        6 of 6 runs (seeds 0–4, two filter initialisations) ended at cos ≥ 0.98.
    init
        ``"random"`` (the paper's): ``A ~ N(0, init_scale²)``, i.e. ``G ≈ I``. ``"warm"``: the
        first runs start from closed-form estimates of the generator, one per candidate basis in
        ``warm_bases`` (see ``symmetrykit.lens.warm_start``), and any further restarts start at
        random; the run with the lowest unsupervised loss is kept, so every warm start has to
        earn its place. No ground truth is used. The fourth-moment rotation is exact to
        cos ≈ 0.999 in about a second for sparse (spiky) local signals at N = 33, where random
        starts do not converge in a CPU budget; for smooth signals it does not converge and is
        not used. The coordinates candidate is exact for any signals given in a local basis up
        to order and signs (pixels, scrambled pixels), smooth ones included; the frequency
        candidate covers local signals given as sine-transform coefficients up to order and
        signs (the frequency-shifted sets), smooth ones included.
        A warm-started run is a *refinement*: it uses ``warm_model_lr``, the full rank (``τ = 1``)
        from the first step, no resolution ramp and no filter noise (curriculum, ramp and noise
        exist to break the symmetry of ``G ≈ I`` and a zero filter, which a warm start does not
        have; measured at N = 33, keeping them moves the filter away from the delta and ``G``
        from cos 0.999 to 0.88–0.94).
    warm_model_lr
        Model learning rate of a warm-started run (1e-3; 1e-2 drifts to cos 0.97 at N = 33).
    warm_bases
        Candidate bases of the warm start, in order: ``"rotation"`` (fourth-moment rotation),
        ``"coordinates"`` (the data's own coordinates) and ``"frequency"`` (the coordinates
        read as sine coefficients, ordered and signed). A candidate is used if it is usable (the
        rotation converged; the frequency reading makes the signals more kurtotic than they
        come) and its generator is not the same as an earlier one's
        (``|cos| ≥ 0.99``; for sparse signals in a pixel basis both candidates find the same
        shift, which is then refined only once).
    n_restarts
        Independent runs from different initialisations; the one with the lowest
        unsupervised loss (evaluated with its own density estimators at the end of the
        curriculum) is kept. The ground truth is never consulted. With ``init="warm"`` there is
        at least one run per used warm start (``warm_starts_``); runs beyond them start at
        random.
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
        ``"cpu"`` or ``"cuda"``.
    progress
        ``"auto"``, ``"none"``, ``"text"``, ``"tqdm"`` or a progress-meter object.
    random_state
        Seed (int), ``numpy.random.Generator`` or None.

    Attributes
    ----------
    generator_ : ndarray (N, N)
        Central crop of the learned padded group element: the learned minimal generator.
    padded_generator_ : ndarray (M, M)
    filter_ : ndarray (N,)
        The learned unit-norm resolving filter.
    group_convolution_ : ndarray (N, N)
        ``Φ``; ``transform(X) = X @ Φ.T``.
    history_ : dict of lists
        Every loss term, ``τ`` and learning rate at each logged step (plus monitor values).
    warm_starts_ : list of WarmStart
        The warm-start candidates that were refined, in run order (``init="warm"``; empty
        otherwise). :meth:`save` keeps only the kept run's, so after :meth:`load` this list
        holds ``warm_start_`` alone.
    warm_start_ : WarmStart or None
        The warm start of the kept run (``None`` if the kept run started at random).
    restart_losses_, best_restart_
        Final unsupervised loss of every run and the index of the kept one.
    restart_starts_ : list of str
        How every run started: the ``source`` of its warm start, or ``"random"``.
    n_features_in_ : int
    """

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
        recenter_at: tuple[float, ...] = (),
        init: str = "warm",
        warm_model_lr: float = 1e-3,
        warm_bases: tuple[str, ...] = ("rotation", "coordinates", "frequency"),
        n_restarts: int = 1,
        filter_init: str = "zeros",
        resolution_ramp: float = 0.5,
        checkpoint: Any = None,
        checkpoint_every: int = 500,
        log_every: int = 50,
        device: str = "cpu",
        progress: Any = "auto",
        random_state: Any = None,
    ):
        self.n_steps = n_steps
        self.batch_size = batch_size
        self.padding = padding
        self.model_lr = model_lr
        self.estimator_lr = estimator_lr
        self.lr_decay = lr_decay
        self.alignment = alignment
        self.uniformity = uniformity
        self.resolution = resolution
        self.information = information
        self.hidden = hidden
        self.n_kernels = n_kernels
        self.filter_noise = filter_noise
        self.filter_noise_time = filter_noise_time
        self.warmup_steps = warmup_steps
        self.rank_gain = rank_gain
        self.init_scale = init_scale
        self.recenter_at = recenter_at
        self.init = init
        self.warm_model_lr = warm_model_lr
        self.warm_bases = warm_bases
        self.n_restarts = n_restarts
        self.filter_init = filter_init
        self.resolution_ramp = resolution_ramp
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.log_every = log_every
        self.device = device
        self.progress = progress
        self.random_state = random_state

    # ------------------------------------------------------------------ validation
    def _check_params(self, dim: int) -> None:
        if dim < 3 or dim % 2 == 0:
            raise ValueError(f"SymmetryLens needs an odd dimension >= 3, got {dim}: the powers "
                             "k_n = n − (N−1)/2 are centred on the middle component")
        def is_int(value: Any) -> bool:
            return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

        for name in ("n_steps", "batch_size", "n_kernels", "log_every", "n_restarts",
                     "checkpoint_every"):
            value = getattr(self, name)
            if not is_int(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not is_int(self.warmup_steps) or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an integer >= 0, got {self.warmup_steps!r}")
        if not self.filter_noise >= 0:
            raise ValueError(f"filter_noise must be >= 0, got {self.filter_noise!r}")
        if not self.filter_noise_time > 0:
            raise ValueError(f"filter_noise_time must be positive, got {self.filter_noise_time!r}")
        if any(not 0 <= frac <= 1 for frac in self.recenter_at):
            raise ValueError(f"recenter_at fractions must lie in [0, 1], got {self.recenter_at!r}")
        if self.batch_size < 2 * dim:
            raise ValueError(f"batch_size must be at least 2 × dim = {2 * dim}")
        for name in ("model_lr", "estimator_lr", "lr_decay", "init_scale", "rank_gain",
                     "warm_model_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.init not in ("random", "warm"):
            raise ValueError(f"init must be 'random' or 'warm', got {self.init!r}")
        bases = self.warm_bases
        if (isinstance(bases, str) or not isinstance(bases, (tuple, list)) or not bases
                or any(b not in WARM_BASES for b in bases) or len(set(bases)) != len(bases)):
            raise ValueError(f"warm_bases must be a non-empty sequence of distinct names from "
                             f"{', '.join(map(repr, WARM_BASES))}, got {bases!r}")
        if self.filter_init not in ("pca", "zeros"):
            raise ValueError(f"filter_init must be 'pca' or 'zeros', got {self.filter_init!r}")
        if self.padding is not None and (not is_int(self.padding) or self.padding < 0):
            raise ValueError(f"padding must be an integer >= 0, got {self.padding!r}")
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {self.device!r}")
        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            raise ValueError("device='cuda' requested but CUDA is not available")

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
        With ``n_restarts > 1`` the run with the lowest unsupervised loss on held-in data
        (:meth:`score`-style evaluation with each run's own density estimators) is kept.
        """
        X = as_samples(X)
        n_samples, dim = X.shape
        self._check_params(dim)
        if n_samples < 2 * dim:
            raise ValueError(f"need at least {2 * dim} samples for dimension {dim}, "
                             f"got {n_samples}")
        device = torch.device(self.device)
        gen = torch.Generator(device="cpu").manual_seed(_torch_seed(self.random_state))
        data = torch.as_tensor(X, dtype=torch.float32, device=device)
        eval_idx = torch.randperm(n_samples, generator=gen)[: min(n_samples, 16_384)]
        if self.filter_init == "pca":
            centred = (X - X.mean()) / (X.std() + 1e-12)
            centred = centred - centred.mean(axis=0)
            _, vectors = np.linalg.eigh(centred.T @ centred)
            top = vectors[:, -1]
            # eigh's sign is arbitrary; fix it so that results do not depend on LAPACK details.
            filter_start = torch.as_tensor(top * np.sign(top[np.argmax(np.abs(top))]))
        else:
            filter_start = torch.zeros(dim, dtype=torch.float64)

        cpu0, wall0 = time.process_time(), time.perf_counter()
        padding = dim if self.padding is None else int(self.padding)
        self.warm_starts_ = []
        if self.init == "warm":
            rng = np.random.default_rng(int(torch.randint(2**62, (1,), generator=gen)))
            self.warm_starts_ = _distinct_warm_starts(
                [warm_start(X, padding, rng, basis=basis) for basis in self.warm_bases],
                padding, dim)
        n_runs = max(self.n_restarts, len(self.warm_starts_))
        store = saved = None
        if self.checkpoint is not None:
            store = Checkpoint(self.checkpoint, self.get_params(), data_fingerprint(X))
            saved = store.load()
        runs: list[dict[str, Any]] = []
        resume = None
        if saved is not None:
            arrays, meta = saved
            runs = [Checkpoint.unpack_finished(i, arrays, meta)
                    for i in range(meta["finished_restarts"])]
            gen.set_state(torch.as_tensor(arrays["rng"], dtype=torch.uint8))
            if meta.get("next_step") is not None:
                resume = (arrays, int(meta["next_step"]))

        def save(current: dict[str, Any] | None, next_step: int | None) -> None:
            arrays = {"rng": gen.get_state().numpy()}
            for index, run in enumerate(runs):
                arrays.update(Checkpoint.pack_finished(index, run))
            if current is not None:
                arrays.update(Checkpoint.pack_current(current))
            store.save(arrays, {"finished_restarts": len(runs), "next_step": next_step,
                                "final_losses": [r["final_loss"] for r in runs],
                                "padding": padding})

        meter = make_progress(self.progress)
        per_run = self.warmup_steps + self.n_steps
        meter.start(n_runs * per_run, "SymmetryLens")
        meter.update(len(runs) * per_run
                     + (resume[1] + self.warmup_steps if resume is not None else 0))
        try:
            for restart in range(len(runs), n_runs):
                start, f0 = None, filter_start
                if restart < len(self.warm_starts_):
                    start = torch.as_tensor(self.warm_starts_[restart].skew)
                    f0 = torch.as_tensor(self.warm_starts_[restart].filter)
                run = self._fit_single(data, f0, gen, monitor, meter, restart, padding, start,
                                       resume=resume, save=save if store else None)
                resume = None
                run["final_loss"] = self._evaluate(data[eval_idx.to(device)], run)
                runs.append(run)
                if store is not None:
                    save(None, None)
        finally:
            meter.close()
        best_index = min(range(len(runs)), key=lambda i: runs[i]["final_loss"])
        best = runs[best_index]

        with torch.no_grad():
            g = orthogonal_from_parameters(best["a"]).cpu().numpy()
            f = best["f"].cpu()
            f_unit = f / (torch.linalg.vector_norm(f) + 1e-12)
            phi = group_convolution(torch.as_tensor(g), f_unit, padding).numpy()
        self.padded_generator_ = g
        self.generator_ = g[padding:padding + dim, padding:padding + dim].copy()
        self.filter_ = f_unit.numpy()
        self.group_convolution_ = phi
        self.padding_ = padding
        self.history_ = best["history"]
        self.restart_losses_ = [r["final_loss"] for r in runs]
        self.restart_starts_ = ([w.source for w in self.warm_starts_]
                                + ["random"] * (len(runs) - len(self.warm_starts_)))
        self.best_restart_ = best_index
        self.warm_start_ = (self.warm_starts_[best_index]
                            if best_index < len(self.warm_starts_) else None)
        self.n_features_in_ = dim
        self.fit_time_ = {"wall_s": time.perf_counter() - wall0,
                          "cpu_s": time.process_time() - cpu0}
        return self

    def _fit_single(self, data, filter_start, gen, monitor, meter, restart: int, padding: int,
                    start: torch.Tensor | None, *, resume=None, save=None) -> dict[str, Any]:
        """One optimisation run from ``start`` (an initial ``A``) or a random initialisation.

        ``resume = (arrays, next_step)`` continues a checkpointed run; ``save(state, next_step)``
        writes a checkpoint every ``checkpoint_every`` steps.
        """
        n_samples, dim = data.shape
        device = data.device
        size = dim + 2 * padding
        hidden = self.hidden if self.hidden is not None else min(16 * dim, 128)
        batch = min(self.batch_size, n_samples) // dim * dim

        a = (torch.randn(size, size, generator=gen, dtype=torch.float64) * self.init_scale)
        if start is not None:
            a = a + start.to(torch.float64)
        a = a.to(device).requires_grad_(True)
        f = filter_start.clone().to(device).requires_grad_(True)
        marginal = MarginalMixture(dim, self.n_kernels, generator=gen).to(device)
        conditional = ConditionalMixture(dim, hidden, self.n_kernels, generator=gen).to(device)
        est_params = list(marginal.parameters()) + list(conditional.parameters())
        refining = start is not None
        model_lr = self.warm_model_lr if refining else self.model_lr
        filter_noise = 0.0 if refining else self.filter_noise
        model_opt = torch.optim.Adam([a, f], lr=model_lr, eps=1e-7)
        est_opt = torch.optim.Adam(est_params, lr=self.estimator_lr, eps=1e-7)
        slot = torch.arange(batch, device=device) % dim

        lr_factor, tau_schedule = self._schedule()
        recenter_steps = {int(round(frac * self.n_steps)) for frac in self.recenter_at}
        history: dict[str, list[float]] = {}
        state = {"a": a, "f": f, "gen": gen, "marginal": marginal, "conditional": conditional,
                 "model_opt": model_opt, "est_opt": est_opt, "history": history}
        first_step = -self.warmup_steps
        if resume is not None:
            Checkpoint.unpack_current(resume[0], state)
            first_step = resume[1]
        for step in range(first_step, self.n_steps):
            warming_up = step < 0
            t = max(step, 0)
            tau = 0.0 if warming_up else 1.0 if refining else float(tau_schedule[t])
            for opt, lr0 in ((model_opt, model_lr), (est_opt, self.estimator_lr)):
                for group in opt.param_groups:
                    group["lr"] = lr0 * float(lr_factor[t])
            if not warming_up and t in recenter_steps:
                moved = self._recenter(a, f, padding)
                history.setdefault("recenter_step", []).append(float(t))
                history.setdefault("recenter_move", []).append(float(moved))
            idx = torch.randint(n_samples, (batch,), generator=gen).to(device)
            xb = data[idx]
            xb = (xb - xb.mean()) / (xb.std() + 1e-7)
            sigma = filter_noise * math.exp(-t / (self.filter_noise_time * self.n_steps))
            noise = torch.randn(dim, generator=gen, dtype=torch.float64).to(device)
            noisy = f + sigma * noise
            f_unit = noisy / (torch.linalg.vector_norm(noisy) + 1e-7)
            g = orthogonal_from_parameters(a)
            phi = group_convolution(g, f_unit, padding)
            yb = xb @ phi.to(torch.float32).T
            terms = self._loss_terms(yb, slot, marginal, conditional, tau)
            est_loss = (terms["marginal_entropy"] + terms["conditional_nll"]
                        + 1e-5 * conditional.weight_penalty())
            est_grads = torch.autograd.grad(est_loss, est_params, retain_graph=not warming_up)
            if not warming_up:
                model_loss = self._model_loss(terms, tau)
                model_grads = torch.autograd.grad(model_loss, [a, f])
                for p, gr in zip((a, f), model_grads, strict=True):
                    p.grad = gr
                model_opt.step()
            for p, gr in zip(est_params, est_grads, strict=True):
                p.grad = gr
            est_opt.step()

            if not warming_up and (t % self.log_every == 0 or t == self.n_steps - 1):
                record = {"step": t, "restart": restart, "tau": tau,
                          "model_lr": model_lr * lr_factor[t],
                          "loss": float(model_loss.detach())}
                record.update({k: float(v.detach()) for k, v in terms.items()})
                if monitor is not None:
                    g_np = g.detach().cpu().numpy()
                    record.update(monitor(g_np[padding:padding + dim, padding:padding + dim],
                                          phi.detach().cpu().numpy()))
                for key, value in record.items():
                    history.setdefault(key, []).append(float(value))
                meter.update(0, **{k: record[k] for k in record if k != "step"})
            meter.update(1)
            done = step + 1 + self.warmup_steps
            if save is not None and done % self.checkpoint_every == 0 and step + 1 < self.n_steps:
                save(state, step + 1)
        return {"a": a.detach(), "f": f.detach(), "padding": padding, "slot_batch": batch,
                "marginal": marginal, "conditional": conditional, "history": history}

    @torch.no_grad()
    def _evaluate(self, data: torch.Tensor, run: dict[str, Any]) -> float:
        """The model loss at the end of the curriculum (τ = 1), averaged over ``data``."""
        dim = data.shape[1]
        batch = run["slot_batch"]
        slot = torch.arange(batch, device=data.device) % dim
        g = orthogonal_from_parameters(run["a"])
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

    @staticmethod
    @torch.no_grad()
    def _recenter(a: torch.Tensor, f: torch.Tensor, padding: int) -> int:
        """Move the filter along the learned group so that its orbit fills the window evenly.

        Row ``n`` of ``Φ`` keeps the energy ``w(k_n) = ‖crop(pad(f)ᵀ G^{k_n})‖²`` inside the
        window. A filter sitting ``m`` steps off the middle of the shift chain loses whole rows
        into the padding at one end, which the model can only repair by bending ``G`` at that edge
        (the cos ≈ 0.8 plateau, spec §8.4). Transporting the filter by ``G^m`` for the ``m`` that
        maximises ``Σ_n w(k_n + m)`` re-centres it; ``G`` is not changed. Returns ``m``.
        """
        dim = f.shape[0]
        half = (dim - 1) // 2
        g = orthogonal_from_parameters(a)
        unit = f / (torch.linalg.vector_norm(f) + 1e-12)
        row = torch.nn.functional.pad(unit, (padding, padding))
        energy = {0: float(torch.sum(row[padding:padding + dim] ** 2))}
        for step, direction in ((1, g), (-1, g.mT)):
            current = row
            for k in range(1, 2 * half + 1):
                current = current @ direction
                energy[step * k] = float(torch.sum(current[padding:padding + dim] ** 2))

        def window(m: int) -> float:
            return sum(energy[k + m] for k in range(-half, half + 1))

        best = max(range(-half, half + 1), key=lambda m: (window(m), -abs(m)))
        # Only move for a clear gain (half a row of energy); otherwise noise would shuffle f.
        if best == 0 or window(best) < window(0) + 0.5:
            return 0
        moved = transport_filter(g, unit, padding, best)
        f.copy_(moved * torch.linalg.vector_norm(f) / (torch.linalg.vector_norm(moved) + 1e-12))
        return best

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
        """The symmetry-based representation ``Y = X @ group_convolution_.T``."""
        if not hasattr(self, "group_convolution_"):
            raise ValueError("this SymmetryLens is not fitted yet; call fit(X) first")
        X = as_samples(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the lens was fitted on "
                             f"{self.n_features_in_}")
        return X @ self.group_convolution_.T

    # ------------------------------------------------------------------ persistence
    def save(self, path: Any, *, overwrite: bool = False, metrics: dict | None = None) -> Any:
        """Write a run directory (config, learned arrays, history, metrics); returns its path."""
        from ._io import save_lens

        return save_lens(self, path, overwrite=overwrite, metrics=metrics)

    @classmethod
    def load(cls, path: Any) -> SymmetryLens:
        """Rebuild a fitted lens from a run directory written by :meth:`save`."""
        from ._io import load_lens

        return load_lens(path)


def _distinct_warm_starts(candidates: list[WarmStart], padding: int, dim: int
                          ) -> list[WarmStart]:
    """The usable candidates (converged rotations) whose generators differ from earlier ones."""
    kept: list[WarmStart] = []
    for candidate in candidates:
        if not candidate.converged:
            continue
        crop = candidate.padded_generator[padding:padding + dim, padding:padding + dim]
        if all(abs(generator_similarity(
                crop, other.padded_generator[padding:padding + dim, padding:padding + dim]))
               < 0.99 for other in kept):
            kept.append(candidate)
    return kept
