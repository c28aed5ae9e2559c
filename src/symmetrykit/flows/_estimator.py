"""The :class:`GeneratorFlow` estimator: learn K symmetry generators from data (Ko et al. 2024).

Training follows the paper's PDE experiments (Ko, Kim & Lee 2024, §4 and App. B.2): each
iteration draws a batch of samples (PDE trajectory patches, or point clouds of a generic data
set), flows the batch along every generator with RK4 up to a random ``s = ±a``,
``a ~ U(0, s_range)``, scores every intermediate state with a *validity* function (lower = more
valid) and adds the paper's regularisers (sequential orthogonality, eq. (11); Lipschitz hinge,
eq. (13); for PDEs the Sobolev term of eq. (23) late in training).

The validity is pluggable: any callable ``points (B, *grid, D) -> (B,)`` that is differentiable
in the points. With ``validity=None`` and a :class:`~symmetrykit.datasets.PDEDataset`, the floored
log PDE residual of the data set is used (:class:`~symmetrykit.flows.PDEValidity`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from .._estimator import SymmetryEstimator
from .._validation import (
    CHECKPOINTING,
    POSITIVE,
    TRAINING,
    Boolean,
    Integer,
    Options,
    Real,
    Sequence_,
    Whatever,
)
from ._canonical import field_jacobians, smoothest_basis
from ._fields import GeneratorField, build_field, flow
from ._io import read_legacy_flow
from ._pde_data import PDEValidity, _grid_samples, _is_pde_dataset, _PeriodicRaw, pde_points
from ._regularizers import lipschitz_penalty, orthogonality_penalty, sobolev_penalty
from ._training import LOSS_FIX, checkpoint_params, field_scale, new_history, train_field

__all__ = ["GeneratorFlow"]

# Points used for the final normalisation constants of the learned fields.
_SCALE_POINTS = 65536
# Points for the fields' roughness (basis="smoothest"); trajectories for the validity gaps.
_ROUGHNESS_POINTS = 8192
_GAP_SAMPLES = 4
_GAP_PATCHES = 16
# Default symmetry margin (nats) of the floored log-residual validity of PDE data.
_DEFAULT_PDE_MARGIN = 3.0


def _is_patch_shape(value: Any) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) == 2
            and all(Integer(3).accepts(v) for v in value))


class GeneratorFlow(SymmetryEstimator):
    """Learn ``K`` infinitesimal generators of the symmetries of a data set (Ko, Kim & Lee 2024).

    ``GeneratorFlow.preset("pde-cpu")`` is the configuration verified on KdV, KS, nKdV and cKdV
    on a CPU (``benchmarks/ko_pde_symmetries.py``, the README's PDE table); the constructor
    defaults are the ``"paper"`` preset. ``docs/decisions.md`` records the measurements behind
    the defaults.

    Parameters
    ----------
    n_generators : int, default 4
        Number of slots ``K``; choose more than the expected number of symmetries (the later
        slots then hold non-symmetries, Ko, Kim & Lee 2024, §4.3).
    hidden : sequence of int, default (256, 256)
        Trunk widths of the :class:`GeneratorField` (heads have 32 hidden units).
    n_steps : int, default 4
        RK4 steps per flow; every intermediate state is scored (the paper's ``n_intervals=4``).
        The flows are most of an iteration's cost, so 2 steps nearly halve it (RK4 is still
        accurate for flow times up to 0.2); the ``"pde-cpu"`` preset uses 2.
    s_range : float, default 0.4
        Largest flow time ``sigma``; per iteration ``a ~ U(0, sigma)`` with a random sign per slot.
    lr : float, default 1e-3
        Adam learning rate (the paper: 1e-4 over 25.6k GPU steps; larger for short CPU runs).
    lr_decay_at : float or None, default 0.5
        Fraction of the iterations after which the learning rate is multiplied by 0.1.
    n_iterations : int, default 2000
    batch_size : int, default 4
        Samples (trajectories or point clouds) per iteration.
    patch_shape : (int, int) or None, default (32, 32)
        ``(nt, nx)`` patch cut from each PDE trajectory (x wraps around); ``None`` uses the
        whole grid. Ignored for generic data.
    orthogonality_weight, lipschitz_weight, sobolev_weight : float, default 3, 1, 1
        Loss weights of the paper's PDE experiments (§5.2); ``w_sym = 1`` and all terms are
        averaged over slots.
    lipschitz_tau : float, default 3.0
        Allowed slope of the Lipschitz hinge.
    sobolev_start : float, default 0.9
        Fraction of the iterations after which the Sobolev term (PDE data only) is switched on.
    orthogonalization : {"gram_schmidt", "penalty"}, default "gram_schmidt"
        How the slots are kept apart. ``"penalty"``: the paper's sequential orthogonality
        penalty (eq. (11), weight ``orthogonality_weight``). ``"gram_schmidt"``: every
        iteration the slots are Gram-Schmidt orthonormalised in slot order on the batch
        (earlier slots detached inside later ones, so slot ``k`` still cannot move slots
        ``< k``) and the penalty keeps the raw network heads apart (well-conditioned
        Gram-Schmidt). On CPU-length runs the penalty often loses to the validity gain of
        duplicating a translation; the exact version cannot.
    linear_skip : bool, default True
        Give every head a linear map of the input (zero at start, see
        :class:`GeneratorField`): affine symmetries such as the Galilean boost are then
        reachable within CPU-length runs. ``False`` is the paper's plain MLP. The skip acts on
        coordinates centred on the training data's mean, so a growing linear term adds no
        constant field that would overlap (and be pushed away from) translations in earlier
        slots.
    skip_gain : float, default 4.0
        Factor on the skip input, i.e. a ``skip_gain`` times faster learning rate for the
        linear part under Adam: large enough to reach the Galilean boost in a CPU-length run,
        small enough not to destabilise the other slots.
    adam_beta2 : float, default 0.99
        Adam's second-moment decay. PyTorch's 0.999 remembers the large gradients of the
        first few hundred iterations for about 1,000 steps, so later, smaller gradients move
        the weights far less than ``lr`` per step and a slot can stall on its way to a
        symmetry.
    basis : {"smoothest", "learned"}, default "smoothest"
        Which basis of the learned symmetries to return. ``"learned"``: the slots as trained
        (Gram-Schmidt in slot order). ``"smoothest"``: after training, the slots judged to be
        symmetries (see ``symmetry_margin``) are rotated among themselves into the basis that
        is smoothest first (translations, then a boost orthogonal to them, ...; see
        :func:`~symmetrykit.flows.smoothest_basis`); the span, and every slot that is not a
        symmetry, are unchanged. Any basis of the symmetry algebra is as valid as another, but
        the learned one can split a symmetry over two slots; the smoothest basis puts it in
        one.
    symmetry_margin : float or None, default None
        A slot counts as a symmetry when the validity of training samples flowed along it by
        ``±s_range`` is at most this much above the validity of the untransformed samples (the
        paper defines symmetries by such a threshold, §4.1). ``None``: 3 nats for the default
        PDE validity; with a custom ``validity`` its scale is unknown, so no slot is judged and
        the learned basis is kept unless a margin is given.
    periodic_mode : {"fourier", "blend"}, default "fourier"
        How fields on PDE data are made periodic in ``x_n``: ``"fourier"`` feeds
        ``(cos 2 pi x_n, sin 2 pi x_n)`` to the network (one evaluation per point);
        ``"blend"`` is the authors' linear blend of two evaluations near the seam, about twice
        as expensive.
    residual_method : {"chain", "weno"}, default "chain"
        Derivative estimator of the default PDE validity (:class:`PDEValidity`): the chain
        rule through the deformed index grid (fast, the default) or the authors' WENO-blended
        sub-stencil fits (App. D.1).
    validity : callable or None
        ``points (B, *grid, D) -> (B,)`` differentiable score of transformed samples, lower is
        more valid. ``None`` means the PDE residual of the data set (PDE data only).
    random_state : int, numpy.random.Generator or None
        Seeds the initial weights, batches, patches and flow times (an integer seeds a private
        ``torch.Generator`` with that integer).
    device : str, default "cpu"
    progress : str, ProgressMeter or None
        Progress display (see :func:`symmetrykit.progress.make_progress`); ``"auto"`` (the
        default of every symmetrykit estimator) shows a bar on a terminal only.
    checkpoint : path or None
        Directory for atomic checkpoints (``None``: none). If it already holds a checkpoint of
        the same fit (same data, same parameters) the fit resumes from it and ends with exactly
        the result an uninterrupted fit gives; a checkpoint of a different fit is an error, never
        overwritten. Needs an integer ``random_state``. A custom ``validity`` is recorded by
        its type name only: resuming with a different function of the same type is not caught.
    checkpoint_every : int, default 100
        Iterations between checkpoints.

    Attributes
    ----------
    field_ : GeneratorField
        The trained fields (raw network; use :attr:`generators_` for normalised fields).
    generators_ : list of callable
        ``K`` functions ``(N, D) ndarray -> (N, D) ndarray``, field ``k`` with unit RMS norm on
        the training points (learning coordinates ``(x_n, t_n, u_n)`` for PDE data).
    mixing_ : ndarray, shape (K, K)
        Learned field ``k`` is ``sum_j mixing_[k, j] head_j``: lower triangular (Gram-Schmidt
        on the training points) or diagonal ``1 / scales_`` (penalty mode), times the rotation
        of ``basis="smoothest"``; every learned field has unit RMS norm on the training points.
    scales_ : ndarray, shape (K,)
        RMS norms of the raw network heads on the training points.
    validity_gap_ : ndarray, shape (K,)
        Per learned field: mean validity of 4 training samples (PDE data: 16 patches) flowed
        by ``±s_range`` minus the validity of the same samples untransformed.
    is_symmetry_ : ndarray of bool or None, shape (K,)
        Slots judged to be symmetries (``symmetry_margin``, decided before the rotation of
        ``basis="smoothest"``, which keeps their span); ``None`` when no margin applies.
    roughness_ : ndarray, shape (K,)
        ``E ||∇V||_F² / E |V|²`` of each learned field on the training points (learning
        coordinates): 0 for a translation.
    validity_ : callable or None
        The validity function that was used (``None`` after :meth:`load`: functions are not
        saved).
    periodic_ : bool
        Whether the fields are periodic in the first coordinate (PDE data).
    history_ : dict of ndarray
        Per iteration: ``loss``, ``validity``, ``orthogonality``, ``lipschitz``, ``sobolev``
        (slot means) and ``validity_per_slot`` (n_iterations, K).
    fit_time_ : dict
        ``{"wall_s": ..., "cpu_s": ...}`` spent in :meth:`fit`.

    Examples
    --------
    >>> import symmetrykit as sk
    >>> data = sk.datasets.pde("kdv", n_trajectories=32, random_state=0)     # doctest: +SKIP
    >>> flow = sk.GeneratorFlow.preset("pde-cpu", random_state=0).fit(data)  # doctest: +SKIP
    >>> sk.flows.evaluate(flow, data).metrics["projection_norms"]            # doctest: +SKIP
    """

    _fitted_marker: ClassVar[str] = "field_"
    _derived_attributes: ClassVar[tuple[str, ...]] = ("generators_", "validity_")
    # The kind of the checkpoints written before the shared estimator contract: they resume.
    _checkpoint_kind: ClassVar[str] = "generatorflow-checkpoint"
    _presets: ClassVar[dict[str, dict[str, Any]]] = {
        # The constructor defaults: the paper's width, RK4 steps, flow time, batch and
        # learning-rate drop (Ko, Kim & Lee 2024, §5.2 and App. B), with 32 x 32 patches and a
        # larger learning rate for runs of thousands of iterations on a CPU.
        "paper": {"n_generators": 4, "hidden": (256, 256), "n_steps": 4, "s_range": 0.4,
                  "lr": 1e-3, "lr_decay_at": 0.5, "n_iterations": 2000, "batch_size": 4,
                  "patch_shape": (32, 32)},
        # What passes all 12 KdV/KS/nKdV/cKdV fits of benchmarks/ko_pde_symmetries.py in about
        # 8.5 CPU minutes per fit (the README's PDE table; flow-discover on PDE data).
        "pde-cpu": {"n_generators": 4, "hidden": (64, 64), "n_steps": 2, "s_range": 0.2,
                    "lr": 1e-3, "lr_decay_at": 0.9, "n_iterations": 1650, "batch_size": 4,
                    "patch_shape": (32, 32), "orthogonalization": "gram_schmidt",
                    "basis": "smoothest"},
    }
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_generators": [Integer(1)],
        "hidden": [Sequence_(Integer(1), min_length=1)],
        "n_steps": [Integer(1)],
        "s_range": [POSITIVE],
        "lr": [POSITIVE],
        "lr_decay_at": [Real(0, 1, closed="right"), None],
        "n_iterations": [Integer(1)],
        "batch_size": [Integer(1)],
        "patch_shape": [Whatever(_is_patch_shape, "two integers >= 3"), None],
        "orthogonality_weight": [Real(0)],
        "lipschitz_weight": [Real(0)],
        "sobolev_weight": [Real(0)],
        "lipschitz_tau": [POSITIVE],
        "sobolev_start": [Real(0, 1, closed="both")],
        "orthogonalization": [Options(("gram_schmidt", "penalty"))],
        "linear_skip": [Boolean()],
        "skip_gain": [POSITIVE],
        "adam_beta2": [Real(0, 1, closed="neither")],
        "basis": [Options(("smoothest", "learned"))],
        "symmetry_margin": [POSITIVE, None],
        "periodic_mode": [Options(("fourier", "blend"))],
        "residual_method": [Options(("chain", "weno"))],
        "validity": [Whatever(callable, "a callable points -> (B,) scores"), None],
        **TRAINING,
        **CHECKPOINTING,
    }

    def __init__(
        self,
        n_generators: int = 4,
        hidden: Sequence[int] = (256, 256),
        n_steps: int = 4,
        s_range: float = 0.4,
        lr: float = 1e-3,
        lr_decay_at: float | None = 0.5,
        n_iterations: int = 2000,
        batch_size: int = 4,
        patch_shape: tuple[int, int] | None = (32, 32),
        orthogonality_weight: float = 3.0,
        lipschitz_weight: float = 1.0,
        sobolev_weight: float = 1.0,
        lipschitz_tau: float = 3.0,
        sobolev_start: float = 0.9,
        orthogonalization: str = "gram_schmidt",
        linear_skip: bool = True,
        skip_gain: float = 4.0,
        adam_beta2: float = 0.99,
        basis: str = "smoothest",
        symmetry_margin: float | None = None,
        periodic_mode: str = "fourier",
        residual_method: str = "chain",
        validity: Callable[[torch.Tensor], torch.Tensor] | None = None,
        random_state: Any = None,
        device: str = "cpu",
        progress: Any = "auto",
        checkpoint: Any = None,
        checkpoint_every: int = 100,
    ) -> None:
        self._store_params(locals())

    # ------------------------------------------------------------------ data
    def _prepare(self, data):
        """Training samples ``(B_all, *grid, D)`` and the data-specific settings."""
        if _is_pde_dataset(data):
            samples = pde_points(data)
            validity = self.validity
            nt, nx = samples.shape[1:3]
            patch = None if self.patch_shape is None else tuple(int(p) for p in self.patch_shape)
            if validity is None:
                validity = PDEValidity(data, patched=patch is not None and patch[1] < nx,
                                       method=self.residual_method)
            if patch is not None and (patch[0] > nt or patch[1] > nx):
                raise ValueError(f"patch_shape {patch} exceeds the grid ({nt}, {nx})")
            return samples, validity, True, patch, float(data.x[1] - data.x[0])
        samples = _grid_samples(data, self._name())
        if self.validity is None:
            raise ValueError("validity must be given for data that is not a PDEDataset")
        return samples, self.validity, False, None, None

    def _draw_batch(self, samples: torch.Tensor, patch, rng,
                    size: int | None = None) -> tuple[torch.Tensor, Any]:
        size = self.batch_size if size is None else size
        n_all = samples.shape[0]
        index = torch.randint(n_all, (size,), generator=rng)
        batch = samples[index.to(samples.device)]
        if patch is None:
            return batch, None
        nt, nx = samples.shape[1:3]
        t0 = torch.randint(nt - patch[0] + 1, (size,), generator=rng)
        x0 = torch.randint(nx, (size,), generator=rng)
        rows = (t0[:, None] + torch.arange(patch[0])).to(samples.device)
        offsets = torch.arange(patch[1])
        cols = ((x0[:, None] + offsets) % nx).to(samples.device)
        b = torch.arange(size, device=samples.device)[:, None, None]
        cut = batch[b, rows[:, :, None], cols[:, None, :]]
        # Unwrap x across the seam so the patch is a continuous deformed grid.
        unwrapped_x = (x0[:, None] + offsets).to(cut) / nx
        cut = torch.cat([unwrapped_x[:, None, :, None].expand(*cut.shape[:-1], 1),
                         cut[..., 1:]], dim=-1)
        return cut, (batch, rows)

    # ------------------------------------------------------------------ fit
    def fit(self, data) -> GeneratorFlow:
        """Learn the generators.

        Parameters
        ----------
        data : PDEDataset or array_like, shape ``(n_samples, *grid, D)``
            PDE trajectories, or generic samples, each a grid (or list) of points in ``R^D``;
            for generic data ``validity`` must be given and scores ``(B, *grid, D)`` batches.

        Returns
        -------
        self
        """
        self._validate_params()
        with self._fit_clock():
            self._fit(data)
        return self

    def _fit(self, data) -> None:
        samples_np, validity, periodic, patch, dx_phys = self._prepare(data)
        rng = self._torch_generator()
        device = self._torch_device()
        dtype = torch.float32
        samples = torch.as_tensor(samples_np, dtype=dtype, device=device)
        dim = samples.shape[-1]
        grid_ndim = samples.ndim - 2
        fourier = periodic and self.periodic_mode == "fourier"
        # The skip sees coordinates centred on the data (see GeneratorField's skip_center).
        center = samples_np.reshape(-1, dim).mean(axis=0) if self.linear_skip else None
        field = GeneratorField(self.n_generators, dim, hidden=self.hidden, rng=rng,
                               dtype=dtype, device=device, periodic=(0,) if fourier else (),
                               linear_skip=bool(self.linear_skip), skip_center=center,
                               skip_gain=float(self.skip_gain))
        raw = _PeriodicRaw(field, periodic and not fourier)
        optimizer = torch.optim.Adam(field.parameters(), lr=float(self.lr),
                                     betas=(0.9, float(self.adam_beta2)))
        decay_step = (None if self.lr_decay_at is None
                      else int(round(float(self.lr_decay_at) * self.n_iterations)))
        sobolev_from = int(round(float(self.sobolev_start) * self.n_iterations))
        k = self.n_generators
        history = new_history(("loss", "validity", "orthogonality", "lipschitz", "sobolev"),
                              self.n_iterations, k)

        # The losses normalise the fields, so an exploding network shows first in the raw
        # heads' scale (float32 squares overflow and the normalisation divides by inf).
        scale_guard = self._loss_guard(fix=LOSS_FIX)

        def step(iteration: int):
            batch, full = self._draw_batch(samples, patch, rng)
            terms = self._loss_terms(raw, batch, validity, rng, grid_ndim, periodic,
                                     patch, full, dx_phys,
                                     with_sobolev=periodic and iteration >= sobolev_from
                                     and self.sobolev_weight > 0,
                                     check_fields=lambda values: scale_guard(
                                         field_scale(values), iteration, "fields' scale"))
            loss = (terms["validity"].mean()
                    + self.orthogonality_weight * terms["orthogonality"].mean()
                    + self.lipschitz_weight * terms["lipschitz"].mean()
                    + self.sobolev_weight * terms["sobolev"].mean())
            return loss, {**terms, "validity_per_slot": terms["validity"]}

        train_field(self, step, field=field, optimizer=optimizer, rng=rng,
                    history=history, data=samples_np, device=device, lr_decay_step=decay_step)

        with torch.no_grad():
            reference = samples.reshape(-1, dim)
            if reference.shape[0] > _SCALE_POINTS:
                # An RMS over a random subset is exact to ~0.5 % and keeps fit's tail cheap.
                chosen = torch.randperm(reference.shape[0], generator=rng)[:_SCALE_POINTS]
                reference = reference[chosen.to(reference.device)]
            heads = raw(reference)
            scales = heads.pow(2).sum(-1).mean(-1).sqrt()
            if self.orthogonalization == "gram_schmidt":
                mixing = self._mixing(heads)
            else:
                mixing = torch.diag(1.0 / scales)
        self.field_ = field
        self.periodic_ = periodic
        self.validity_ = validity
        self.mixing_ = mixing.cpu().numpy().astype(np.float64)
        self.scales_ = scales.cpu().numpy().astype(np.float64)
        margin = self.symmetry_margin
        if margin is None and self.validity is None:
            margin = _DEFAULT_PDE_MARGIN
        self._choose_basis(samples, patch, rng, margin)
        self.generators_ = [self._numpy_field(i) for i in range(k)]
        self.history_ = history

    def _choose_basis(self, samples, patch, rng, margin) -> None:
        """Judge the slots by their validity gap and, if asked, rotate to the smoothest basis."""
        # Scored like training batches: whole samples, or PDE patches (whole trajectories
        # would cost about ten times more for the same information).
        probe = self._draw_batch(samples, patch, rng,
                                 size=_GAP_SAMPLES if patch is None else _GAP_PATCHES)[0]
        points = samples.reshape(-1, samples.shape[-1])
        chosen = torch.randperm(points.shape[0], generator=rng)[:_ROUGHNESS_POINTS]
        points = points[chosen.to(points.device)]
        gaps = self._validity_gaps(probe, self.mixing_)
        self.is_symmetry_ = None if margin is None else np.isfinite(gaps) & (gaps <= margin)
        raw = _PeriodicRaw(self.field_, self.periodic_ and not self.field_.periodic)
        mixing = torch.as_tensor(self.mixing_, dtype=points.dtype, device=points.device)
        values, jacobians = field_jacobians(
            lambda p: torch.einsum("kj,jnd->knd", mixing, raw(p)), points)
        selected = (self.is_symmetry_ if self.basis == "smoothest" and margin is not None
                    else np.zeros(self.n_generators, dtype=bool))
        rotation, self.roughness_ = smoothest_basis(values.cpu().numpy(),
                                                    jacobians.cpu().numpy(), selected)
        if selected.sum() >= 2:
            self.mixing_ = rotation @ self.mixing_
            gaps = self._validity_gaps(probe, self.mixing_)
        self.validity_gap_ = gaps

    def _validity_gaps(self, probe: torch.Tensor, mixing: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            floor = float(torch.as_tensor(self.validity_(probe)).mean())
            gaps = np.zeros(self.n_generators)
            for k in range(self.n_generators):
                scores = [float(torch.as_tensor(self.validity_(
                    self._flow_tensor(probe, sign * float(self.s_range), mixing[k]))).mean())
                    for sign in (-1.0, 1.0)]
                gaps[k] = np.mean(scores) - floor
        return gaps

    def _flow_tensor(self, points: torch.Tensor, s: float, weights: np.ndarray,
                     n_steps: int | None = None) -> torch.Tensor:
        """Flow ``points (..., D)`` for time ``s`` along ``sum_j weights[j] head_j``."""
        raw = _PeriodicRaw(self.field_, self.periodic_ and not self.field_.periodic)
        weights = torch.as_tensor(weights, dtype=points.dtype, device=points.device)

        def velocity(p):
            shape = p.shape
            heads = raw(p.reshape(-1, shape[-1]))
            return torch.einsum("j,jnd->nd", weights, heads).reshape(shape)

        return flow(velocity, points, float(s), n_steps=n_steps or self.n_steps)

    def _checkpoint_params(self) -> dict[str, Any]:
        return checkpoint_params(self)

    def _loss_terms(self, raw, batch, validity, rng, grid_ndim, periodic, patch, full,
                    dx_phys, with_sobolev, check_fields=None):
        k = self.n_generators
        dim = batch.shape[-1]
        flat = batch.reshape(-1, dim)
        values = raw(flat)  # (K, M, D)
        if check_fields is not None:
            check_fields(values)
        amplitude = float(self.s_range) * torch.rand((), generator=rng)
        signs = torch.randint(2, (k,), generator=rng) * 2 - 1
        s = (amplitude * signs).to(batch)[:, None]
        if self.orthogonalization == "gram_schmidt":
            mixing = self._mixing(values)
            # Slot k sees its own head with gradient and the earlier heads as constants.
            own = torch.eye(k, dtype=values.dtype, device=values.device)
            diagonal, lower = mixing * own, mixing * (1 - own)

            def combine(shared):  # head values on shared points (K, N, D) -> fields
                return (torch.einsum("kj,jnd->knd", diagonal, shared)
                        + torch.einsum("kj,jnd->knd", lower, shared.detach()))

            def velocity(points):
                if raw.periodic:  # blended seam: the generic (slower) path
                    own = raw(points)
                    with torch.no_grad():
                        every = raw.all(points)
                else:  # one trunk pass; earlier heads are constants (forward only)
                    features = raw.field.trunk(points)
                    own = raw.field.heads(features)  # head k at the points of slot k
                    with torch.no_grad():
                        every = raw.field.heads_earlier(features.detach())
                return (torch.diagonal(diagonal)[:, None, None] * own
                        + torch.einsum("kj,kjnd->knd", lower, every))
        else:
            # Normalising by the batch norm (not detached) keeps each field at unit RMS on the
            # data while the ODE itself stays autonomous (the "cleaner variant"
            # of the paper's per-point-set normalisation, Ko, Kim & Lee 2024, §4.2).
            scales = values.pow(2).sum(-1).mean(-1).sqrt()

            def combine(shared):
                return shared / scales[:, None, None]

            def velocity(points):
                return raw(points) / scales[:, None, None]

        stacked = flat.expand(k, *flat.shape)
        path = flow(velocity, stacked, s, n_steps=self.n_steps, return_path=True)[1:]
        states = path.reshape(self.n_steps, k, *batch.shape).transpose(0, 1)
        scores = validity(states.reshape(-1, *batch.shape[1:]))
        scores = torch.as_tensor(scores)
        if scores.shape != (k * self.n_steps * batch.shape[0],):
            raise ValueError(
                f"validity must return one score per sample, got shape {tuple(scores.shape)}"
            )
        validity_terms = scores.reshape(k, -1).mean(dim=1)

        fields = combine(values)
        # With Gram-Schmidt the penalty acts on the raw heads: the slots are orthonormal anyway,
        # but a head drifting into the span of earlier slots would leave only an ill-conditioned
        # remainder to flow.
        heads = values / values.pow(2).sum(-1).mean(-1).sqrt()[:, None, None]
        orthogonality = orthogonality_penalty(
            heads if self.orthogonalization == "gram_schmidt" else fields)
        grid_fields = fields.reshape(k, *batch.shape)
        lipschitz = lipschitz_penalty(grid_fields, batch, tau=float(self.lipschitz_tau),
                                      axes=tuple(range(1, grid_ndim + 1)))
        sobolev = fields.new_zeros(k)
        if with_sobolev:
            sobolev = self._sobolev(raw, combine, batch, patch, full, dx_phys)
        return {"validity": validity_terms, "orthogonality": orthogonality,
                "lipschitz": lipschitz, "sobolev": sobolev}

    @staticmethod
    def _mixing(values: torch.Tensor) -> torch.Tensor:
        """Lower-triangular ``C`` with ``C @ values`` orthonormal in the point-mean product.

        Gram-Schmidt in slot order on ``values`` ``(K, N, D)``. Earlier slots enter slot ``k``
        as constants (detached), so gradients of slot ``k`` reach only its own head, through
        the projection coefficients and its norm (which stays differentiable: a detached norm
        would let a field shrink its flow to look valid).
        """
        k = values.shape[0]
        eye = torch.eye(k, dtype=values.dtype, device=values.device)
        orthonormal, rows = [], []
        for slot in range(k):
            residual, row = values[slot], eye[slot]
            for previous in range(slot):
                basis = orthonormal[previous].detach()
                coefficient = (values[slot] * basis).sum(-1).mean()
                residual = residual - coefficient * basis
                row = row - coefficient * rows[previous].detach()
            norm = residual.pow(2).sum(-1).mean().clamp_min(1e-24).sqrt()
            orthonormal.append(residual / norm)
            rows.append(row / norm)
        return torch.stack(rows)

    def _sobolev(self, raw, combine, batch, patch, full, dx_phys):
        # The FFT needs whole periodic rows: use the patch's time rows over the full x range.
        if patch is None:
            rows_points = batch
        else:
            trajectories, rows = full
            b = torch.arange(trajectories.shape[0], device=trajectories.device)[:, None]
            rows_points = trajectories[b, rows]
        dim = rows_points.shape[-1]
        values = combine(raw(rows_points.reshape(-1, dim)))
        grid = values.reshape(self.n_generators, *rows_points.shape)
        return sobolev_penalty(grid, spacing=dx_phys, axis=-1, floor=1e-12)

    # ------------------------------------------------------------------ learned fields
    def _check_fitted(self) -> None:  # used by compare()
        self._check_is_fitted()

    def _numpy_field(self, k: int) -> Callable[[np.ndarray], np.ndarray]:
        def generator_k(points: np.ndarray) -> np.ndarray:
            return self.evaluate(points)[k]

        generator_k.__name__ = f"generator_{k}"
        return generator_k

    def evaluate(self, points) -> np.ndarray:
        """All learned fields at ``points``: :attr:`mixing_` applied to the network's heads.

        Parameters
        ----------
        points : array_like, shape (N, D)

        Returns
        -------
        ndarray, shape (K, N, D), float64
        """
        self._check_is_fitted()
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != self.field_.dim:
            raise ValueError(f"points must have shape (N, {self.field_.dim}), got {points.shape}")
        parameter = next(self.field_.parameters())
        raw = _PeriodicRaw(self.field_, self.periodic_ and not self.field_.periodic)
        with torch.no_grad():
            values = raw(torch.as_tensor(points, dtype=parameter.dtype, device=parameter.device))
        values = values.cpu().numpy().astype(np.float64)
        return np.einsum("kj,jnd->knd", self.mixing_, values)

    def transform(self, samples, s, k: int, n_steps: int | None = None) -> np.ndarray:
        """Flow samples along learned field ``k`` for time ``s``.

        Parameters
        ----------
        samples : array_like, shape (..., D)
        s : float
        k : int
        n_steps : int, optional
            RK4 steps; ``self.n_steps`` when omitted.

        Returns
        -------
        ndarray, shape of ``samples``
        """
        self._check_is_fitted()
        if not 0 <= int(k) < self.n_generators:
            raise ValueError(f"k must be in [0, {self.n_generators}), got {k}")
        points = np.asarray(samples, dtype=np.float64)
        parameter = next(self.field_.parameters())
        with torch.no_grad():
            tensor = torch.as_tensor(points, dtype=parameter.dtype, device=parameter.device)
            moved = self._flow_tensor(tensor, float(s), self.mixing_[int(k)], n_steps)
        return moved.cpu().numpy().astype(np.float64)

    # ------------------------------------------------------------------ saving
    def _build_module(self, name: str, config: Mapping[str, Any]) -> GeneratorField:
        if name != "field_":
            return super()._build_module(name, config)
        return build_field(config)

    def _after_load(self) -> None:
        # The validity function is not saved: compare() then skips its validity column.
        self.validity_ = None
        self.generators_ = [self._numpy_field(i) for i in range(self.field_.n_generators)]

    @classmethod
    def load(cls, path, device: str | None = None) -> GeneratorFlow:
        """Load a flow saved by :meth:`save` (or by symmetrykit 0.1's ``flow.json`` format).

        ``device`` (default ``"cpu"``) is where the field is put; the saved ``device``
        parameter is kept for later fits. ``validity_`` is ``None`` (functions are not saved).
        """
        flow = super().load(path)
        if device is not None:
            flow.field_.to(device)
        return flow

    @classmethod
    def _read_legacy(cls, path, config) -> GeneratorFlow:
        return read_legacy_flow(cls, path)
