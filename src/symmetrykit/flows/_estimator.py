"""The :class:`GeneratorFlow` estimator: learn K symmetry generators from data (Ko et al. 2024).

Training follows spec §1.5-1.7 (PDE branch): each iteration draws a batch of samples (PDE
trajectory patches, or point clouds of a generic data set), flows the batch along every
generator with RK4 up to a random ``s = ±a``, ``a ~ U(0, s_range)``, scores every intermediate
state with a *validity* function (lower = more valid) and adds the regularisers of spec §3
(sequential orthogonality, Lipschitz hinge and, for PDEs, the Sobolev term late in training).

The validity is pluggable: any callable ``points (B, *grid, D) -> (B,)`` that is differentiable
in the points. With ``validity=None`` and a :class:`~symmetrykit.datasets.PDEDataset`, the floored
log PDE residual of the data set is used (``PDEResidual.for_dataset``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from .._checkpoint import (
    Checkpoint,
    data_fingerprint,
    flatten_module,
    flatten_optimizer,
    restore_module,
    restore_optimizer,
)
from ..progress import make_progress
from ._canonical import field_jacobians, smoothest_basis
from ._fields import GeneratorField, flow
from ._io import _flow_params
from ._regularizers import lipschitz_penalty, orthogonality_penalty, sobolev_penalty

__all__ = ["GeneratorFlow", "PDEValidity", "pde_points", "pde_reference_fields"]

# Width of the periodic blending zone at each end of x_n in [0, 1) (spec §1.4).
_BLEND_WIDTH = 0.2
# Points used for the final normalisation constants of the learned fields.
_SCALE_POINTS = 65536
_CHECKPOINT_KIND = "generatorflow-checkpoint"
# Points for the fields' roughness (basis="smoothest"); trajectories for the validity gaps.
_ROUGHNESS_POINTS = 8192
_GAP_SAMPLES = 4
_GAP_PATCHES = 16
# Default symmetry margin (nats) of the floored log-residual validity of PDE data.
_DEFAULT_PDE_MARGIN = 3.0


def _is_pde_dataset(data: Any) -> bool:
    return all(hasattr(data, name) for name in ("u", "x", "t", "params", "symmetries"))


def pde_points(data, u: np.ndarray | None = None) -> np.ndarray:
    """Learning coordinates ``(x_n, t_n, u_n)`` of PDE solutions on their grid (spec §4.2).

    ``x_n = (x - x_0) / L``, ``t_n = (t - t_0) / (nt dt)``, ``u_n = c u`` with the data set's
    ``length``, ``dt`` and ``u_scale``.

    Parameters
    ----------
    data : PDEDataset
    u : ndarray, shape (B, nt, nx), optional
        Solutions on the data set's grid; ``data.u`` when omitted.

    Returns
    -------
    ndarray, shape (B, nt, nx, 3), float64
    """
    if not _is_pde_dataset(data):
        raise ValueError("data must be a PDEDataset")
    u = data.u if u is None else np.asarray(u, dtype=np.float64)
    if u.ndim != 3 or u.shape[1:] != (data.t.size, data.x.size):
        raise ValueError(f"u must have shape (B, {data.t.size}, {data.x.size}), got {u.shape}")
    length = float(data.params["length"])
    dt = float(data.params["dt"])
    scale = float(data.params["u_scale"])
    x_n = (data.x - data.x[0]) / length
    t_n = (data.t - data.t[0]) / (data.t.size * dt)
    grid_t, grid_x = np.meshgrid(t_n, x_n, indexing="ij")
    shape = u.shape
    return np.stack(
        [np.broadcast_to(grid_x, shape), np.broadcast_to(grid_t, shape), scale * u], axis=-1
    )


def pde_reference_fields(data, points: np.ndarray, symmetries=None) -> np.ndarray:
    """True symmetry fields of a PDE data set in learning coordinates (spec §4.3).

    Parameters
    ----------
    data : PDEDataset
    points : ndarray, shape (N, 3)
        Points ``(x_n, t_n, u_n)``.
    symmetries : sequence of PointSymmetry, optional
        Defaults to ``data.reference_symmetries``.

    Returns
    -------
    ndarray, shape (J, N, 3)
        ``(xi / L, tau / (nt dt), c phi)`` evaluated at the physical point.
    """
    symmetries = data.reference_symmetries if symmetries is None else symmetries
    length = float(data.params["length"])
    dt = float(data.params["dt"])
    scale = float(data.params["u_scale"])
    t_extent = data.t.size * dt
    points = np.asarray(points, dtype=np.float64)
    x = data.x[0] + points[:, 0] * length
    t = data.t[0] + points[:, 1] * t_extent
    u = points[:, 2] / scale
    fields = []
    for symmetry in symmetries:
        xi, tau, phi = symmetry(x, t, u)
        fields.append(np.stack([xi / length, tau / t_extent, scale * phi], axis=-1))
    return np.stack(fields)


class PDEValidity:
    """Default PDE validity: the floored log residual of points in learning coordinates.

    Converts ``(x_n, t_n, u_n)`` back to physical ``(x, t, u)`` (absolute time) and scores them
    with :class:`~symmetrykit.flows._pde_validity.PDEResidual` (spec §2(b)). For patches that do
    not span the whole period, the columns whose stencils would wrap around the patch edge are
    dropped (their neighbours are not grid neighbours).

    Parameters
    ----------
    data : PDEDataset
    patched : bool, default False
        Whether the scored grids are patches narrower than the full period.
    method : {"chain", "weno"}, default "chain"
        Derivative estimator on the deformed grid (see :class:`PDEResidual`); ``"chain"``
        is the fast default, ``"weno"`` the authors' scheme.
    **kwargs
        Passed to ``PDEResidual.for_dataset`` (e.g. ``floor``).
    """

    def __init__(self, data, patched: bool = False, method: str = "chain", **kwargs: Any) -> None:
        from ._pde_validity import PDEResidual

        self.residual = PDEResidual.for_dataset(data, method=method, **kwargs)
        self.length = float(data.params["length"])
        self.x0 = float(data.x[0])
        self.t0 = float(data.t[0])
        self.t_extent = float(data.t.size * float(data.params["dt"]))
        self.u_scale = float(data.params["u_scale"])
        self.patched = bool(patched)
        # Largest x-offset any stencil of this equation uses.
        self.margin = self.residual.columns_reached

    def physical(self, points: torch.Tensor) -> torch.Tensor:
        """``(x_n, t_n, u_n) -> (x, t, u)``."""
        return torch.stack(
            (
                self.x0 + points[..., 0] * self.length,
                self.t0 + points[..., 1] * self.t_extent,
                points[..., 2] / self.u_scale,
            ),
            dim=-1,
        )

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        from ._pde_validity import capped_abs

        residual = capped_abs(self.residual.pointwise(self.physical(points)))
        if self.patched:
            residual = residual[:, :, self.margin : residual.shape[2] - self.margin]
        floor = self.residual.floor if self.residual.floor > 0 else 1e-30
        return residual.clamp_min(floor).log().mean(dim=(1, 2))


class _PeriodicRaw:
    """Raw (unnormalised) fields, made periodic in coordinate 0 with period 1 when asked.

    Near the ends of ``[0, 1)`` the network is also evaluated at ``x ∓ 1`` and the two values
    are blended linearly, so the field is continuous across ``0 ≡ 1`` (spec §1.4); the blend
    weights are 1/2 each at the seam.
    """

    def __init__(self, field: GeneratorField, periodic: bool) -> None:
        self.field = field
        self.periodic = periodic

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        return self._blend(points, self.field.raw)

    def all(self, points: torch.Tensor) -> torch.Tensor:
        """Every field at every point set, ``(S, N, D) -> (S, K, N, D)``."""
        return self._blend(points, self.field.raw_all)

    def _blend(self, points: torch.Tensor, evaluate) -> torch.Tensor:
        if not self.periodic:
            return evaluate(points)
        x = torch.remainder(points[..., :1], 1.0)
        wrapped = torch.cat([x, points[..., 1:]], dim=-1)
        shift = torch.where(x < 0.5, torch.ones_like(x), -torch.ones_like(x))
        partner = torch.cat([x + shift, points[..., 1:]], dim=-1)
        distance = torch.minimum(x, 1.0 - x)  # to the seam
        own = (0.5 + 0.5 * distance / _BLEND_WIDTH).clamp(max=1.0)
        if evaluate is self.field.raw_all:
            own = own[:, None]
        return own * evaluate(wrapped) + (1.0 - own) * evaluate(partner)


class GeneratorFlow:
    """Learn ``K`` infinitesimal generators of the symmetries of a data set (Ko, Kim & Lee 2024).

    Parameters
    ----------
    n_generators : int, default 4
        Number of slots ``K``; choose more than the expected number of symmetries (the later
        slots then hold non-symmetries, spec §1.6).
    hidden : sequence of int, default (256, 256)
        Trunk widths of the :class:`GeneratorField` (heads have 32 hidden units).
    n_steps : int, default 4
        RK4 steps per flow; every intermediate state is scored (the paper's ``n_intervals=4``).
        The flows are most of an iteration's cost, so 2 steps nearly halve it (RK4 is still
        accurate for flow times up to 0.2). In about the same CPU time, 1650 iterations with 2
        steps passed all 12 KdV/KS/nKdV/cKdV benchmark fits, 850 with 4 steps 11 (nKdV seed 2
        missed e^{-t/50} d_t); ``flow-discover`` and the PDE benchmark use 2.
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
        Loss weights of spec §3.4 (PDE column); ``w_sym = 1`` and all terms are averaged over
        slots.
    lipschitz_tau : float, default 3.0
        Allowed slope of the Lipschitz hinge.
    sobolev_start : float, default 0.9
        Fraction of the iterations after which the Sobolev term (PDE data only) is switched on.
    orthogonalization : {"gram_schmidt", "penalty"}, default "gram_schmidt"
        How the slots are kept apart. ``"penalty"``: the paper's sequential orthogonality
        penalty (spec §3.1, weight ``orthogonality_weight``). ``"gram_schmidt"``: every
        iteration the slots are Gram-Schmidt orthonormalised in slot order on the batch
        (earlier slots detached inside later ones, so slot ``k`` still cannot move slots
        ``< k``) and the penalty keeps the raw network heads apart (well-conditioned
        Gram-Schmidt). On CPU-length
        runs the penalty often loses to the validity gain of duplicating a translation (spec
        §8.3); the exact version cannot.
    linear_skip : bool, default True
        Give every head a linear map of the input (zero at start, see
        :class:`GeneratorField`): affine symmetries such as the Galilean boost are then
        reachable within CPU-length runs. ``False`` is the paper's plain MLP. The skip acts on
        coordinates centred on the training data's mean, so a growing linear term adds no
        constant field that would overlap (and be pushed away from) translations in earlier
        slots.
    skip_gain : float, default 4.0
        Factor on the skip input, i.e. a ``skip_gain`` times faster learning rate for the
        linear part under Adam. Measured on KS (seed 0, 700 iterations): 1 leaves the
        third slot near the non-symmetry ``d_u`` (Galilean coefficient -0.35), 4 finds the
        boost (-0.89), 10 destabilises the translations. With 8, all six KdV/KS fits (seeds
        0-2) find the boost, but nKdV (seeds 0 and 1) finds nothing, not even the
        translations; with 6, KdV seed 1 finds it but nKdV seed 1 loses e^{-t/50} d_t (0.62);
        with 4, KdV seed 1's third slot stays ``d_u``-like.
    adam_beta2 : float, default 0.99
        Adam's second-moment decay. PyTorch's 0.999 remembers the large gradients of the
        first few hundred iterations for about 1,000 steps, so later, smaller gradients move
        the weights far less than ``lr`` per step: on KdV (seed 0, 700 iterations) the third
        slot stalled halfway to the boost (validity -5.0, floor -7.5) although its gradient
        kept a constant sign; a fresh Adam from that state moved on at once. With 0.99 the
        same fit reaches the boost (Galilean coefficient -0.98, validity -7.0).
    basis : {"smoothest", "learned"}, default "smoothest"
        Which basis of the learned symmetries to return. ``"learned"``: the slots as trained
        (Gram-Schmidt in slot order). ``"smoothest"``: after training, the slots judged to be
        symmetries (see ``symmetry_margin``) are rotated among themselves into the basis that
        is smoothest first (translations, then a boost orthogonal to them, ...; see
        :func:`~symmetrykit.flows.smoothest_basis`); the span, and every slot that is not a
        symmetry, are unchanged. Any basis of the symmetry algebra is as valid as another, but
        the learned one can split a symmetry over two slots: on KS (seed 2) slots 2 and 3 held
        the boost with coefficients -0.52 and -0.84 (with translations mixed in); the smoothest
        basis has it in one slot (0.99).
    symmetry_margin : float or None, default None
        A slot counts as a symmetry when the validity of training samples flowed along it by
        ``±s_range`` is at most this much above the validity of the untransformed samples (the
        paper defines symmetries by such a threshold). ``None``: 3 nats for the default PDE
        validity (true symmetries stay within about 0.5, non-symmetries such as ``∂u`` rise by
        4-6 on KdV and KS); with a custom ``validity`` its scale is unknown, so no slot is
        judged and the learned basis is kept unless a margin is given.
    periodic_mode : {"fourier", "blend"}, default "fourier"
        How fields on PDE data are made periodic in ``x_n``: ``"fourier"`` feeds
        ``(cos 2 pi x_n, sin 2 pi x_n)`` to the network (one evaluation per point);
        ``"blend"`` is the paper's linear blend of two evaluations near the seam (spec §1.4),
        about twice as expensive.
    validity : callable or None
        ``points (B, *grid, D) -> (B,)`` differentiable score of transformed samples, lower is
        more valid. ``None`` means the PDE residual of the data set (PDE data only).
    residual_method : {"chain", "weno"}, default "chain"
        Derivative estimator of the default PDE validity (:class:`PDEValidity`): the chain
        rule through the deformed index grid (fast, the default) or the authors' WENO-blended
        sub-stencil fits.
    random_state : int, numpy.random.Generator or None
        Seeds the initial weights, batches, patches and flow times.
    device : str, default "cpu"
    progress : str, ProgressMeter or None
        Progress display (see :func:`symmetrykit.progress.make_progress`); silent by default.
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
    validity_ : callable
        The validity function that was used.
    periodic_ : bool
        Whether the fields are periodic in the first coordinate (PDE data).
    history_ : dict of ndarray
        Per iteration: ``loss``, ``validity``, ``orthogonality``, ``lipschitz``, ``sobolev``
        (slot means) and ``validity_per_slot`` (n_iterations, K).
    fit_time_ : float
        Seconds spent in :meth:`fit`.
    """

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
        progress: Any = None,
        checkpoint: Any = None,
        checkpoint_every: int = 100,
    ) -> None:
        self.n_generators = n_generators
        self.hidden = hidden
        self.n_steps = n_steps
        self.s_range = s_range
        self.lr = lr
        self.lr_decay_at = lr_decay_at
        self.n_iterations = n_iterations
        self.batch_size = batch_size
        self.patch_shape = patch_shape
        self.orthogonality_weight = orthogonality_weight
        self.lipschitz_weight = lipschitz_weight
        self.sobolev_weight = sobolev_weight
        self.lipschitz_tau = lipschitz_tau
        self.sobolev_start = sobolev_start
        self.orthogonalization = orthogonalization
        self.linear_skip = linear_skip
        self.skip_gain = skip_gain
        self.adam_beta2 = adam_beta2
        self.basis = basis
        self.symmetry_margin = symmetry_margin
        self.periodic_mode = periodic_mode
        self.residual_method = residual_method
        self.validity = validity
        self.random_state = random_state
        self.device = device
        self.progress = progress
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        def positive_int(name):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

        for name in ("n_generators", "n_steps", "n_iterations", "batch_size",
                     "checkpoint_every"):
            positive_int(name)
        for name in ("s_range", "lr", "lipschitz_tau", "skip_gain"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        for name in ("orthogonality_weight", "lipschitz_weight", "sobolev_weight"):
            if not float(getattr(self, name)) >= 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)!r}")
        if not 0 < float(self.adam_beta2) < 1:
            raise ValueError(f"adam_beta2 must be in (0, 1), got {self.adam_beta2!r}")
        if self.lr_decay_at is not None and not 0 < float(self.lr_decay_at) <= 1:
            raise ValueError(f"lr_decay_at must be in (0, 1] or None, got {self.lr_decay_at!r}")
        if not 0 <= float(self.sobolev_start) <= 1:
            raise ValueError(f"sobolev_start must be in [0, 1], got {self.sobolev_start!r}")
        if self.basis not in ("smoothest", "learned"):
            raise ValueError(f"basis must be 'smoothest' or 'learned', got {self.basis!r}")
        if self.symmetry_margin is not None and not float(self.symmetry_margin) > 0:
            raise ValueError(
                f"symmetry_margin must be positive or None, got {self.symmetry_margin!r}")
        if self.periodic_mode not in ("fourier", "blend"):
            raise ValueError(
                f"periodic_mode must be 'fourier' or 'blend', got {self.periodic_mode!r}"
            )
        if self.orthogonalization not in ("gram_schmidt", "penalty"):
            raise ValueError("orthogonalization must be 'gram_schmidt' or 'penalty', "
                             f"got {self.orthogonalization!r}")
        if self.residual_method not in ("chain", "weno"):
            raise ValueError(
                f"residual_method must be 'chain' or 'weno', got {self.residual_method!r}"
            )
        if self.validity is not None and not callable(self.validity):
            raise ValueError("validity must be a callable points -> (B,) scores or None")
        if self.patch_shape is not None:
            shape = tuple(self.patch_shape)
            if len(shape) != 2 or min(shape) < 3:
                raise ValueError(f"patch_shape must be two ints >= 3 or None, got {shape}")

    def _torch_generator(self) -> torch.Generator:
        state = self.random_state
        if isinstance(state, np.random.Generator):
            seed = int(state.integers(0, 2**63 - 1))
        elif state is None:
            seed = int(np.random.SeedSequence().entropy % (2**63 - 1))
        elif isinstance(state, (int, np.integer)) and not isinstance(state, bool) and state >= 0:
            seed = int(state)
        else:
            raise ValueError(f"random_state must be None, a non-negative int or a Generator, "
                             f"got {state!r}")
        generator = torch.Generator()
        generator.manual_seed(seed)
        return generator

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
        if isinstance(data, torch.Tensor):
            data = data.detach().cpu().numpy()
        samples = np.asarray(data, dtype=np.float64)
        if samples.ndim < 3:
            raise ValueError(
                f"data must be a PDEDataset or an array (n_samples, *grid, D), got {samples.shape}"
            )
        if not np.all(np.isfinite(samples)):
            raise ValueError("data contains NaN or inf values")
        if self.validity is None:
            raise ValueError("validity must be given for data that is not a PDEDataset")
        return samples, self.validity, False, None, None

    def _draw_batch(self, samples: torch.Tensor, patch, generator,
                    size: int | None = None) -> tuple[torch.Tensor, Any]:
        size = self.batch_size if size is None else size
        n_all = samples.shape[0]
        index = torch.randint(n_all, (size,), generator=generator)
        batch = samples[index.to(samples.device)]
        if patch is None:
            return batch, None
        nt, nx = samples.shape[1:3]
        t0 = torch.randint(nt - patch[0] + 1, (size,), generator=generator)
        x0 = torch.randint(nx, (size,), generator=generator)
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
        data : PDEDataset or array_like, shape (n_samples, *grid, D)
            PDE trajectories, or generic samples, each a grid (or list) of points in ``R^D``;
            for generic data ``validity`` must be given and scores ``(B, *grid, D)`` batches.

        Returns
        -------
        self
        """
        self._check_params()
        start_time = time.perf_counter()
        samples_np, validity, periodic, patch, dx_phys = self._prepare(data)
        generator = self._torch_generator()
        device = torch.device(self.device)
        dtype = torch.float32
        samples = torch.as_tensor(samples_np, dtype=dtype, device=device)
        dim = samples.shape[-1]
        grid_ndim = samples.ndim - 2
        fourier = periodic and self.periodic_mode == "fourier"
        # The skip sees coordinates centred on the data (see GeneratorField's skip_center).
        center = samples_np.reshape(-1, dim).mean(axis=0) if self.linear_skip else None
        field = GeneratorField(self.n_generators, dim, hidden=self.hidden, generator=generator,
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
        names = ("loss", "validity", "orthogonality", "lipschitz", "sobolev")
        history = {name: np.zeros(self.n_iterations) for name in names}
        history["validity_per_slot"] = np.zeros((self.n_iterations, k))

        store, first = None, 0
        if self.checkpoint is not None:
            store = Checkpoint(self.checkpoint, self._checkpoint_params(),
                               data_fingerprint(samples_np), kind=_CHECKPOINT_KIND,
                               label="GeneratorFlow")
            saved = store.load()
            if saved is not None:
                first = self._restore(saved, field, optimizer, generator, history, device)

        def save(next_iteration: int) -> None:
            arrays = {"rng": generator.get_state().numpy()}
            arrays.update(flatten_module("field", field))
            arrays.update(flatten_optimizer("optimizer", optimizer))
            arrays.update({f"history.{name}": values[:next_iteration]
                           for name, values in history.items()})
            store.save(arrays, {"next_iteration": next_iteration})

        meter = make_progress(self.progress)
        meter.start(self.n_iterations, "GeneratorFlow")
        meter.update(first)
        try:
            for iteration in range(first, self.n_iterations):
                if decay_step is not None and iteration >= decay_step and iteration > 0:
                    for group in optimizer.param_groups:
                        group["lr"] = 0.1 * float(self.lr)
                batch, full = self._draw_batch(samples, patch, generator)
                terms = self._loss_terms(raw, batch, validity, generator, grid_ndim, periodic,
                                         patch, full, dx_phys,
                                         with_sobolev=periodic and iteration >= sobolev_from
                                         and self.sobolev_weight > 0)
                loss = (terms["validity"].mean()
                        + self.orthogonality_weight * terms["orthogonality"].mean()
                        + self.lipschitz_weight * terms["lipschitz"].mean()
                        + self.sobolev_weight * terms["sobolev"].mean())
                if not bool(torch.isfinite(loss)):
                    raise FloatingPointError(
                        f"loss became {float(loss.detach())} at iteration {iteration}")
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                history["loss"][iteration] = float(loss.detach())
                for name in names[1:]:
                    history[name][iteration] = float(terms[name].detach().mean())
                history["validity_per_slot"][iteration] = terms["validity"].detach().cpu().numpy()
                meter.update(1, loss=history["loss"][iteration],
                             validity=history["validity"][iteration])
                done = iteration + 1
                if store is not None and done % self.checkpoint_every == 0 and done < (
                        self.n_iterations):
                    save(done)
        finally:
            meter.close()

        with torch.no_grad():
            reference = samples.reshape(-1, dim)
            if reference.shape[0] > _SCALE_POINTS:
                # An RMS over a random subset is exact to ~0.5 % and keeps fit's tail cheap.
                chosen = torch.randperm(reference.shape[0], generator=generator)[:_SCALE_POINTS]
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
        self._choose_basis(samples, patch, generator, margin)
        self.generators_ = [self._numpy_field(i) for i in range(k)]
        self.history_ = history
        self.fit_time_ = time.perf_counter() - start_time
        return self

    def _choose_basis(self, samples, patch, generator, margin) -> None:
        """Judge the slots by their validity gap and, if asked, rotate to the smoothest basis."""
        # Scored like training batches: whole samples, or PDE patches (whole trajectories
        # would cost about ten times more for the same information).
        probe = self._draw_batch(samples, patch, generator,
                                 size=_GAP_SAMPLES if patch is None else _GAP_PATCHES)[0]
        points = samples.reshape(-1, samples.shape[-1])
        chosen = torch.randperm(points.shape[0], generator=generator)[:_ROUGHNESS_POINTS]
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
        # The saved-flow parameters (every constructor argument but the validity and the
        # progress meter), plus the validity's type: a callable cannot be compared otherwise.
        params, _ = _flow_params(self)
        validity = self.validity
        params["validity"] = (None if validity is None
                              else f"{type(validity).__module__}.{type(validity).__qualname__}")
        return params

    @staticmethod
    def _restore(saved, field, optimizer, generator, history, device) -> int:
        """Load a checkpoint into the freshly built objects; returns the next iteration."""
        arrays, meta = saved
        restore_module("field", field, arrays)
        restore_optimizer("optimizer", optimizer, arrays, device)
        generator.set_state(torch.as_tensor(arrays["rng"], dtype=torch.uint8))
        first = int(meta["next_iteration"])
        for name, values in history.items():
            values[:first] = arrays[f"history.{name}"]
        return first

    def _loss_terms(self, raw, batch, validity, generator, grid_ndim, periodic, patch, full,
                    dx_phys, with_sobolev):
        k = self.n_generators
        dim = batch.shape[-1]
        flat = batch.reshape(-1, dim)
        values = raw(flat)  # (K, M, D)
        amplitude = float(self.s_range) * torch.rand((), generator=generator)
        signs = torch.randint(2, (k,), generator=generator) * 2 - 1
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
            # data while the ODE itself stays autonomous (spec §1.4, the "cleaner variant").
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
    def _check_fitted(self) -> None:
        if not hasattr(self, "field_"):
            raise ValueError("this GeneratorFlow is not fitted yet; call fit(data) first")

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
        self._check_fitted()
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
        self._check_fitted()
        if not 0 <= int(k) < self.n_generators:
            raise ValueError(f"k must be in [0, {self.n_generators}), got {k}")
        points = np.asarray(samples, dtype=np.float64)
        parameter = next(self.field_.parameters())
        with torch.no_grad():
            tensor = torch.as_tensor(points, dtype=parameter.dtype, device=parameter.device)
            moved = self._flow_tensor(tensor, float(s), self.mixing_[int(k)], n_steps)
        return moved.cpu().numpy().astype(np.float64)

    def save(self, directory, overwrite: bool = False):
        """Save the fitted flow to ``directory`` (JSON + npz, no pickle); see ``save_flow``."""
        from ._io import save_flow

        return save_flow(self, directory, overwrite=overwrite)

    @classmethod
    def load(cls, directory, device: str | None = None) -> GeneratorFlow:
        """Load a flow saved by :meth:`save` (``validity_`` is not restored); see ``load_flow``."""
        from ._io import load_flow

        return load_flow(directory, device=device)

    def __repr__(self) -> str:
        return (f"GeneratorFlow(n_generators={self.n_generators}, hidden={tuple(self.hidden)}, "
                f"n_iterations={self.n_iterations})")
